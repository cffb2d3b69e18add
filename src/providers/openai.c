#include "openai.h"
#include "buf.h"
#include "outcall.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRIES 2
#define MAX_REPLY (8u * 1024 * 1024)

static const char SYSTEM[] =
    "You are adsmith's campaign agent. Gather what you need with the tools when you have them, then "
    "answer with the campaign as one JSON object, in the shape the user describes, and nothing else.";

json_object *openai_tools(void)
{
    json_object *conv = agent_tool_config(), *tools, *out = json_object_new_array();
    size_t i;

    json_object_object_get_ex(conv, "tools", &tools);
    for (i = 0; i < json_object_array_length(tools); i++) {
        json_object *spec, *v, *fn = json_object_new_object(), *t = json_object_new_object();
        json_object_object_get_ex(json_object_array_get_idx(tools, i), "toolSpec", &spec);
        json_object_object_get_ex(spec, "name", &v);
        json_object_object_add(fn, "name", json_object_get(v));
        json_object_object_get_ex(spec, "description", &v);
        json_object_object_add(fn, "description", json_object_get(v));
        json_object_object_get_ex(spec, "inputSchema", &v);
        json_object_object_get_ex(v, "json", &v);
        json_object_object_add(fn, "parameters", json_object_get(v));
        json_object_object_add(t, "type", json_object_new_string("function"));
        json_object_object_add(t, "function", fn);
        json_object_array_add(out, t);
    }
    json_object_put(conv);
    return out;
}

/* The outcall classifier for the server's own error text, {"error":
 * {"message"}} or {"error": "..."}, on a non-2xx reply; else the plain one. */
static enum outcall_class classify(struct outcall *c, CURLcode cc, char *err)
{
    enum outcall_class cls = outcall_classify_http(c, cc, err);
    json_object *o, *e, *m;
    const char *msg = "";

    if (cls == OUTCALL_OK || c->status == 0)
        return cls;
    o = c->reply.len ? json_tokener_parse(c->reply.data) : NULL;
    if (o != NULL && json_object_object_get_ex(o, "error", &e)) {
        if (json_object_is_type(e, json_type_string))
            msg = json_object_get_string(e);
        else if (json_object_object_get_ex(e, "message", &m))
            msg = json_object_get_string(m);
    }
    ads_errf(err, "chat completions: HTTP %ld%s%.160s", c->status, *msg ? ": " : "", msg);
    json_object_put(o);
    return cls;
}

/* One POST of body to /chat/completions with retries; the reply object,
 * or NULL with a message. */
static json_object *post(const struct config *cfg, const char *body, double deadline, struct novapro_usage *u,
                         char *err)
{
    struct outcall c;
    json_object *o = NULL, *usage, *n;
    struct buf url, auth;

    if (outcall_init(&c, NULL, "chat completions", MAX_REPLY, err) != 0) {
        outcall_clear(&c);
        return NULL;
    }
    buf_init(&url);
    buf_init(&auth);
    buf_printf(&url, "%s/chat/completions", cfg->openai_base_url);
    if (cfg->openai_api_key[0] != '\0')
        buf_printf(&auth, "Bearer %s", cfg->openai_api_key);
    c.deadline_ms = deadline;
    c.connect_ms = cfg->ai_connect_timeout_ms;
    c.policy = outcall_policy_default(RETRIES);
    c.classify = classify;
    if (url.oom || auth.oom || outcall_header(&c, "Content-Type", "application/json") != 0 ||
        (auth.len > 0 && outcall_header(&c, "Authorization", auth.data) != 0) ||
        outcall_request(&c, "POST", url.data, body, strlen(body), err) != 0)
        ads_errf(err, "out of memory");
    else if (outcall_run(&c, err) == OUTCALL_OK && (o = json_tokener_parse(outcall_text(&c))) == NULL)
        ads_errf(err, "chat completions: the reply is not JSON");
    if (o != NULL && json_object_object_get_ex(o, "usage", &usage)) {
        if (json_object_object_get_ex(usage, "prompt_tokens", &n))
            u->input_tokens += json_object_get_int64(n);
        if (json_object_object_get_ex(usage, "completion_tokens", &n))
            u->output_tokens += json_object_get_int64(n);
    }
    outcall_clear(&c);
    buf_free(&url);
    buf_free(&auth);
    return o;
}

static json_object *message(const char *role, const char *content)
{
    json_object *m = json_object_new_object();

    json_object_object_add(m, "role", json_object_new_string(role));
    json_object_object_add(m, "content", json_object_new_string(content));
    return m;
}

static char *request_body(const struct config *cfg, json_object *messages, int with_tools)
{
    json_object *root = json_object_new_object();
    char *out;

    json_object_object_add(root, "model", json_object_new_string(cfg->openai_model));
    json_object_object_add(root, "messages", json_object_get(messages));
    json_object_object_add(root, "max_tokens", json_object_new_int64(cfg->text_max_tokens));
    json_object_object_add(root, "temperature", json_object_new_double(0.7));
    if (with_tools)
        json_object_object_add(root, "tools", openai_tools());
    out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return out;
}

/* choices[0]: its message and finish_reason; NULL when absent. */
static json_object *first_choice(json_object *reply, const char **finish)
{
    json_object *choices, *choice, *msg, *f;

    *finish = "";
    if (!json_object_object_get_ex(reply, "choices", &choices) || !json_object_is_type(choices, json_type_array) ||
        (choice = json_object_array_get_idx(choices, 0)) == NULL ||
        !json_object_object_get_ex(choice, "message", &msg))
        return NULL;
    if (json_object_object_get_ex(choice, "finish_reason", &f) && json_object_is_type(f, json_type_string))
        *finish = json_object_get_string(f);
    return msg;
}

static int read_answer(json_object *msg, const char *finish, json_object **out, char *err)
{
    json_object *content;

    if (!json_object_object_get_ex(msg, "content", &content) || !json_object_is_type(content, json_type_string)) {
        ads_errf(err, "chat completions: the reply holds no text");
        return NOVAPRO_NO_JSON;
    }
    /* "length" is the OpenAI spelling of a reply cut off at max_tokens. */
    return novapro_extract(json_object_get_string(content), strcmp(finish, "length") == 0 ? "max_tokens" : finish,
                           out, err);
}

int openai_complete(const struct config *cfg, const char *prompt, double deadline_ms, json_object **model,
                    struct novapro_usage *usage, char *err)
{
    double deadline = cfg_ai_deadline(cfg, deadline_ms);
    json_object *messages = json_object_new_array(), *reply, *msg;
    const char *finish;
    char *body;
    int rc = NOVAPRO_CALL_FAILED;

    *model = NULL;
    json_object_array_add(messages, message("system", SYSTEM));
    json_object_array_add(messages, message("user", prompt));
    body = request_body(cfg, messages, 0);
    json_object_put(messages);
    reply = body ? post(cfg, body, deadline, usage, err) : NULL;
    free(body);
    if (reply != NULL) {
        msg = first_choice(reply, &finish);
        if (msg == NULL)
            ads_errf(err, "chat completions: the reply holds no choice");
        else
            rc = read_answer(msg, finish, model, err);
        json_object_put(reply);
    }
    return rc;
}

/* The tool calls of an assistant message (at most max); arguments parsed
 * into objects owned by holder. */
static int tool_calls(json_object *msg, struct agent_tool_call *calls, int max, json_object *holder)
{
    json_object *tc, *fn, *v, *args;
    size_t i;
    int n = 0;

    if (!json_object_object_get_ex(msg, "tool_calls", &tc) || !json_object_is_type(tc, json_type_array))
        return 0;
    for (i = 0; i < json_object_array_length(tc) && n < max; i++) {
        json_object *call = json_object_array_get_idx(tc, i);
        if (!json_object_object_get_ex(call, "function", &fn))
            continue;
        memset(&calls[n], 0, sizeof calls[n]);
        if (json_object_object_get_ex(call, "id", &v))
            snprintf(calls[n].id, sizeof calls[n].id, "%s", json_object_get_string(v));
        if (json_object_object_get_ex(fn, "name", &v))
            snprintf(calls[n].name, sizeof calls[n].name, "%s", json_object_get_string(v));
        args = json_object_object_get_ex(fn, "arguments", &v) ? json_tokener_parse(json_object_get_string(v)) : NULL;
        json_object_array_add(holder, args ? args : json_object_new_object());
        calls[n].input = json_object_array_get_idx(holder, json_object_array_length(holder) - 1);
        n++;
    }
    return n;
}

static int agent_open(const struct config *cfg, void **state, char *err)
{
    (void)cfg;
    (void)err;
    *state = NULL;
    return 0;
}

static void agent_close(void *state)
{
    (void)state;
}

static void agent_start(json_object *messages, const char *prompt)
{
    json_object_array_add(messages, message("system", SYSTEM));
    json_object_array_add(messages, message("user", prompt));
}

static json_object *agent_call(void *state, const struct config *cfg, json_object *messages, double deadline_ms,
                               struct novapro_usage *usage, char *err)
{
    char *body = request_body(cfg, messages, 1);
    json_object *reply = body ? post(cfg, body, deadline_ms, usage, err) : NULL;

    (void)state;
    free(body);
    return reply;
}

static json_object *agent_message(json_object *reply, const char **stop, char *err)
{
    json_object *msg = first_choice(reply, stop);

    if (msg == NULL)
        ads_errf(err, "chat completions: the reply holds no choice");
    return msg;
}

static int agent_tool_calls_of(json_object *msg, const char *stop, struct agent_tool_call *calls, int max,
                               json_object *holder)
{
    (void)stop;
    return tool_calls(msg, calls, max, holder);
}

/* One "tool" message per result. */
static void agent_results(json_object *messages, struct agent_tool_call *calls, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        json_object *tm = json_object_new_object();
        json_object_object_add(tm, "role", json_object_new_string("tool"));
        json_object_object_add(tm, "tool_call_id", json_object_new_string(calls[i].id));
        json_object_object_add(tm, "content", json_object_new_string(
            calls[i].result ? json_object_to_json_string_ext(calls[i].result, JSON_C_TO_STRING_PLAIN) : "{}"));
        json_object_array_add(messages, tm);
    }
}

static const struct agent_ops openai_agent_ops = {
    agent_open, agent_close, agent_start, agent_call, agent_message, agent_tool_calls_of, read_answer,
    agent_results,
};

int openai_agent_run(const struct config *cfg, const char *prompt, double deadline_ms, agent_runner run, void *ctx,
                     json_object **campaign, struct novapro_usage *usage, int *turns, char *err)
{
    return agent_loop(&openai_agent_ops, cfg, prompt, deadline_ms, run, ctx, campaign, usage, turns, err);
}
