#include "agent.h"
#include "aws.h"
#include "buf.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRIES 2

static const char SYSTEM[] =
    "You are adsmith's campaign agent. Gather what you need with the tools (the product photo's "
    "analysis, trending videos, cultural insight per market), then answer with the campaign as one "
    "JSON object, in the shape the user describes, and nothing else.";

static json_object *schema(const char *props_json, const char *required_json)
{
    char text[600];

    snprintf(text, sizeof text, "{\"type\": \"object\", \"properties\": %s, \"required\": %s}", props_json,
             required_json);
    return json_tokener_parse(text);
}

static json_object *tool(const char *name, const char *description, json_object *input_schema)
{
    json_object *t = json_object_new_object(), *spec = json_object_new_object(), *in = json_object_new_object();

    json_object_object_add(spec, "name", json_object_new_string(name));
    json_object_object_add(spec, "description", json_object_new_string(description));
    json_object_object_add(in, "json", input_schema);
    json_object_object_add(spec, "inputSchema", in);
    json_object_object_add(t, "toolSpec", spec);
    return t;
}

json_object *agent_tool_config(void)
{
    json_object *cfg = json_object_new_object(), *tools = json_object_new_array();

    json_object_array_add(tools, tool("analyze_product_image",
        "Analyses the uploaded product photo: labels with confidence, dominant colours, size and lighting.",
        schema("{\"focus\": {\"type\": \"string\", \"description\": \"What to look for (optional).\"}}", "[]")));
    json_object_array_add(tools, tool("search_youtube_trends",
        "Finds related YouTube videos for the product with view, like and comment counts.",
        schema("{\"product_name\": {\"type\": \"string\"}, \"category\": {\"type\": \"string\"}}",
               "[\"product_name\"]")));
    json_object_array_add(tools, tool("get_cultural_insights",
        "Cultural insight per target market: platforms, content that works, cautions, timing.",
        schema("{\"markets\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}}", "[\"markets\"]")));
    json_object_object_add(cfg, "tools", tools);
    return cfg;
}

static json_object *user_text(const char *text)
{
    json_object *m = json_object_new_object(), *content = json_object_new_array(), *part = json_object_new_object();

    json_object_object_add(part, "text", json_object_new_string(text));
    json_object_array_add(content, part);
    json_object_object_add(m, "role", json_object_new_string("user"));
    json_object_object_add(m, "content", content);
    return m;
}

static char *converse_body(json_object *messages, long max_tokens)
{
    json_object *root = json_object_new_object(), *sys = json_object_new_array(), *s = json_object_new_object();
    json_object *inf = json_object_new_object();
    char *out;

    json_object_object_add(s, "text", json_object_new_string(SYSTEM));
    json_object_array_add(sys, s);
    json_object_object_add(root, "system", sys);
    json_object_object_add(root, "messages", json_object_get(messages));
    json_object_object_add(inf, "maxTokens", json_object_new_int64(max_tokens));
    json_object_object_add(root, "inferenceConfig", inf);
    json_object_object_add(root, "toolConfig", agent_tool_config());
    out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return out;
}

int agent_tool_calls(json_object *msg, struct agent_tool_call *calls, int max)
{
    json_object *content, *use, *v;
    size_t i;
    int n = 0;

    if (!json_object_object_get_ex(msg, "content", &content) || !json_object_is_type(content, json_type_array))
        return 0;
    for (i = 0; i < json_object_array_length(content) && n < max; i++) {
        if (!json_object_object_get_ex(json_object_array_get_idx(content, i), "toolUse", &use))
            continue;
        memset(&calls[n], 0, sizeof calls[n]);
        if (json_object_object_get_ex(use, "toolUseId", &v))
            snprintf(calls[n].id, sizeof calls[n].id, "%s", json_object_get_string(v));
        if (json_object_object_get_ex(use, "name", &v))
            snprintf(calls[n].name, sizeof calls[n].name, "%s", json_object_get_string(v));
        json_object_object_get_ex(use, "input", &calls[n].input);
        n++;
    }
    return n;
}

/* Converse: the user message carrying a turn's tool results. */
static void converse_results(json_object *messages, struct agent_tool_call *calls, int n)
{
    json_object *m = json_object_new_object(), *content = json_object_new_array();
    int i;

    for (i = 0; i < n; i++) {
        json_object *block = json_object_new_object(), *tr = json_object_new_object();
        json_object *parts = json_object_new_array(), *part = json_object_new_object();
        json_object_object_add(part, "json", calls[i].result ? json_object_get(calls[i].result)
                                                             : json_object_new_object());
        json_object_array_add(parts, part);
        json_object_object_add(tr, "toolUseId", json_object_new_string(calls[i].id));
        json_object_object_add(tr, "content", parts);
        json_object_object_add(tr, "status", json_object_new_string(calls[i].failed ? "error" : "success"));
        json_object_object_add(block, "toolResult", tr);
        json_object_array_add(content, block);
    }
    json_object_object_add(m, "role", json_object_new_string("user"));
    json_object_object_add(m, "content", content);
    json_object_array_add(messages, m);
}

/* Converse's per-run state: the endpoint and the model's path. */
struct converse {
    struct aws_endpoint ep;
    struct buf path;
};

static int converse_open(const struct config *cfg, void **state, char *err)
{
    struct converse *cv = calloc(1, sizeof *cv);

    if (cv == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    buf_init(&cv->path);
    if (aws_bedrock_endpoint(&cv->ep, cfg, cfg->ai_timeout_ms, err) != 0) {
        free(cv);
        return -1;
    }
    aws_bedrock_path(&cv->path, cfg->text_model, "converse");
    *state = cv;
    if (cv->path.oom) {
        ads_errf(err, "out of memory");
        return -1;
    }
    return 0;
}

static void converse_close(void *state)
{
    struct converse *cv = state;

    if (cv == NULL)
        return;
    aws_endpoint_free(&cv->ep);
    buf_free(&cv->path);
    free(cv);
}

static void converse_start(json_object *messages, const char *prompt)
{
    json_object_array_add(messages, user_text(prompt));
}

/* One Converse call; the reply's root object, or NULL with a message. */
static json_object *converse_call(void *state, const struct config *cfg, json_object *messages, double deadline,
                                  struct novapro_usage *usage, char *err)
{
    struct converse *cv = state;
    struct outcall *c = NULL;
    json_object *root = NULL;
    char *body = converse_body(messages, cfg->text_max_tokens);

    if (body != NULL && aws_call_retried(&cv->ep, cv->path.data, NULL, "application/json", body, strlen(body),
                                         "Nova Pro Converse", deadline, RETRIES, &c, err) == OUTCALL_OK) {
        root = json_tokener_parse(outcall_text(c));
        if (root == NULL)
            ads_errf(err, "Nova Pro Converse: the reply is not JSON");
        outcall_free(c);
    }
    free(body);
    novapro_count_usage(root, usage);
    return root;
}

static json_object *converse_message(json_object *reply, const char **stop, char *err)
{
    json_object *msg, *v;

    if (!json_object_object_get_ex(reply, "output", &msg) || !json_object_object_get_ex(msg, "message", &msg)) {
        ads_errf(err, "Nova Pro Converse: the reply holds no message");
        return NULL;
    }
    *stop = json_object_object_get_ex(reply, "stopReason", &v) ? json_object_get_string(v) : "";
    return msg;
}

static int converse_tool_calls(json_object *msg, const char *stop, struct agent_tool_call *calls, int max,
                               json_object *holder)
{
    (void)holder;
    return strcmp(stop, "tool_use") == 0 ? agent_tool_calls(msg, calls, max) : 0;
}

static int converse_answer(json_object *msg, const char *stop, json_object **campaign, char *err)
{
    struct buf text;
    int rc;

    buf_init(&text);
    novapro_message_text(msg, &text);
    rc = novapro_extract(text.data ? text.data : "", stop, campaign, err);
    buf_free(&text);
    return rc;
}

static const struct agent_ops converse_ops = {
    converse_open, converse_close, converse_start, converse_call, converse_message,
    converse_tool_calls, converse_answer, converse_results,
};

int agent_loop(const struct agent_ops *ops, const struct config *cfg, const char *prompt, double deadline_ms,
               agent_runner run, void *ctx, json_object **campaign, struct novapro_usage *usage, int *turns,
               char *err)
{
    json_object *messages, *holder;
    void *state = NULL;
    int rc = AGENT_FAILED;

    *campaign = NULL;
    *turns = 0;
    if (ops->open(cfg, &state, err) != 0) {
        ops->close(state);
        return AGENT_FAILED;
    }
    messages = json_object_new_array();
    holder = json_object_new_array();
    ops->start(messages, prompt);
    for (;;) {
        struct agent_tool_call calls[AGENT_MAX_TOOL_CALLS];
        json_object *reply, *msg;
        const char *stop = "";
        int n, i;

        if (*turns >= cfg->agent_max_turns) {
            ads_errf(err, "no campaign after %ld turns", cfg->agent_max_turns);
            rc = AGENT_TOO_MANY_TURNS;
            break;
        }
        (*turns)++;
        if ((reply = ops->call(state, cfg, messages, deadline_ms, usage, err)) == NULL)
            break;
        if ((msg = ops->message(reply, &stop, err)) == NULL) {
            json_object_put(reply);
            break;
        }
        json_object_array_add(messages, json_object_get(msg));
        n = ops->tool_calls(msg, stop, calls, AGENT_MAX_TOOL_CALLS, holder);
        if (n == 0) {
            rc = ops->answer(msg, stop, campaign, err) == NOVAPRO_OK ? AGENT_OK : AGENT_NO_CAMPAIGN;
            json_object_put(reply);
            break;
        }
        run(ctx, calls, n);
        ops->add_results(messages, calls, n);
        for (i = 0; i < n; i++)
            json_object_put(calls[i].result);
        json_object_put(reply);
    }
    json_object_put(messages);
    json_object_put(holder);
    ops->close(state);
    return rc;
}

int agent_run(const struct config *cfg, const char *prompt, double deadline_ms, agent_runner run, void *ctx,
              json_object **campaign, struct novapro_usage *usage, int *turns, char *err)
{
    return agent_loop(&converse_ops, cfg, prompt, deadline_ms, run, ctx, campaign, usage, turns, err);
}
