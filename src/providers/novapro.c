#include "novapro.h"
#include "aws.h"
#include "buf.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRIES 2

const char *const novapro_sections[] = {
    "content_ideas", "campaigns", "generated_assets", "platform_recommendations",
    "market_insights", "recommendations", NULL
};

static const char INSTRUCTIONS[] =
    "You are a senior marketing strategist. Using the brief and the research below, write a "
    "multi-platform marketing campaign. Answer with one JSON object and nothing else, with exactly these keys:\n"
    "\"content_ideas\": [{\"platform\", \"topic\", \"engagement_score\" (integer 0-100), \"caption\", \"hashtags\": [..]}],\n"
    "\"campaigns\": [{\"name\", \"duration\", \"posts_per_week\" (integer), \"platforms\": [..], "
    "\"calendar\": {\"Week 1\": \"...\", ...}, \"adaptations\": {\"<market>\": \"...\"}}],\n"
    "\"generated_assets\": {\"image_prompts\": [..], \"video_scripts\": [{\"type\", \"content\"}], "
    "\"email_templates\": [{\"subject\", \"body\"}], \"blog_outlines\": [{\"title\", \"introduction\", \"points\": [..]}]},\n"
    "\"platform_recommendations\": {\"primary_platforms\": [..], \"rationale\"},\n"
    "\"market_insights\": {\"trending_content_types\": [..], \"cultural_considerations\": [..], "
    "\"audience_preferences\": [..]},\n"
    "\"recommendations\": [{\"type\": \"timing\" | \"content\" | \"platform\", \"title\", \"description\"}],\n"
    "\"market_variants\": [{\"market\", \"language\", \"content_ideas\": [{\"platform\", \"topic\", \"caption\", "
    "\"hashtags\": [..]}], \"video_scripts\": [{\"type\", \"content\"}], \"email_templates\": [{\"subject\", \"body\"}], "
    "\"blog_outlines\": [{\"title\", \"introduction\", \"points\": [..]}]}]: one per entry of market_languages, "
    "with every caption, hashtag, script, email and blog outline written in that market's language (the BCP 47 tag "
    "given), not in English. Write the other sections in English.\n"
    "Respect each market's cultural notes. Do not invent statistics.\n\nBRIEF AND RESEARCH:\n";

static void add_ref(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v ? json_object_get(v) : NULL);
}

/* Label names only: the model needs what is in the photo, not the scores. */
static json_object *label_names(json_object *analysis)
{
    json_object *labels, *out = json_object_new_array(), *name;
    size_t i;

    if (analysis != NULL && json_object_object_get_ex(analysis, "labels", &labels))
        for (i = 0; i < json_object_array_length(labels); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(labels, i), "name", &name))
                json_object_array_add(out, json_object_get(name));
    return out;
}

static json_object *video_titles(json_object *videos)
{
    json_object *out = json_object_new_array(), *t;
    size_t i;

    for (i = 0; videos != NULL && i < json_object_array_length(videos) && i < 5; i++)
        if (json_object_object_get_ex(json_object_array_get_idx(videos, i), "title", &t))
            json_object_array_add(out, json_object_get(t));
    return out;
}

char *novapro_prompt(json_object *product_info, json_object *markets, json_object *objectives,
                     json_object *image_analysis, json_object *videos, json_object *cultural, json_object *languages)
{
    json_object *ctx = json_object_new_object();
    struct buf b;

    add_ref(ctx, "product", product_info);
    add_ref(ctx, "markets", markets);
    add_ref(ctx, "market_languages", languages);
    add_ref(ctx, "objectives", objectives);
    json_object_object_add(ctx, "image_labels", label_names(image_analysis));
    json_object_object_add(ctx, "trending_videos", video_titles(videos));
    add_ref(ctx, "cultural_insights", cultural);
    buf_init(&b);
    buf_adds(&b, INSTRUCTIONS);
    buf_adds(&b, json_object_to_json_string_ext(ctx, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(ctx);
    return buf_steal(&b);
}

char *novapro_cultural_prompt(json_object *product_info, json_object *markets, json_object *objectives,
                              json_object *kb_markets)
{
    json_object *ctx = json_object_new_object();
    struct buf b;

    add_ref(ctx, "product", product_info);
    add_ref(ctx, "markets", markets);
    add_ref(ctx, "objectives", objectives);
    add_ref(ctx, "market_profiles", kb_markets);
    buf_init(&b);
    buf_adds(&b, "CULTURAL INSIGHT REQUEST. You advise on marketing across cultures. For each market below, "
                 "say what this audience values, what to avoid, which platforms and formats work and when to post, "
                 "for this product. Answer with one JSON object and nothing else: {\"markets\": [{\"market\", "
                 "\"insights\": [..], \"cautions\": [..], \"platforms\": [..], \"timing\"}]}\n\nBRIEF:\n");
    buf_adds(&b, json_object_to_json_string_ext(ctx, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(ctx);
    return buf_steal(&b);
}

char *novapro_localise_prompt(json_object *product_info, json_object *objectives, const char *market,
                              const char *language, json_object *platforms, const char *why)
{
    json_object *ctx = json_object_new_object();
    struct buf b;

    add_ref(ctx, "product", product_info);
    add_ref(ctx, "objectives", objectives);
    json_object_object_add(ctx, "market", json_object_new_string(market));
    json_object_object_add(ctx, "language", json_object_new_string(language));
    add_ref(ctx, "platforms", platforms);
    buf_init(&b);
    buf_printf(&b, "LOCALISATION REQUEST. Write the campaign copy for the market below in the language with the "
                   "BCP 47 tag %s, and only in that language: every topic, caption, hashtag, script, email and blog "
                   "outline. Do not answer in English. Keep the product's name as it is. ", language);
    if (why != NULL && why[0] != '\0')
        buf_printf(&b, "A previous answer was rejected because it was not in %s (%s). ", language, why);
    buf_adds(&b, "Answer with one JSON object and nothing else: {\"market\", \"language\", \"content_ideas\": "
                 "[{\"platform\", \"topic\", \"caption\", \"hashtags\": [..]}] (one per platform), \"video_scripts\": "
                 "[{\"type\", \"content\"}], \"email_templates\": [{\"subject\", \"body\"}], \"blog_outlines\": "
                 "[{\"title\", \"introduction\", \"points\": [..]}]}\n\nBRIEF:\n");
    buf_adds(&b, json_object_to_json_string_ext(ctx, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(ctx);
    return buf_steal(&b);
}

char *novapro_body(const char *prompt, long max_tokens)
{
    json_object *root = json_object_new_object(), *msgs = json_object_new_array();
    json_object *msg = json_object_new_object(), *content = json_object_new_array();
    json_object *part = json_object_new_object(), *inf = json_object_new_object();
    char *out;

    json_object_object_add(part, "text", json_object_new_string(prompt));
    json_object_array_add(content, part);
    json_object_object_add(msg, "role", json_object_new_string("user"));
    json_object_object_add(msg, "content", content);
    json_object_array_add(msgs, msg);
    json_object_object_add(root, "messages", msgs);
    json_object_object_add(inf, "maxTokens", json_object_new_int64(max_tokens));
    json_object_object_add(inf, "temperature", json_object_new_double(0.7));
    json_object_object_add(root, "inferenceConfig", inf);
    out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return out;
}

/* End of the object opening at p (one past its '}'), or NULL when it never
 * closes. Braces inside strings do not count. */
static const char *object_end(const char *p)
{
    int depth = 0, in_str = 0;

    for (; *p != '\0'; p++) {
        if (in_str) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (*p == '{') {
            depth++;
        } else if (*p == '}' && --depth == 0) {
            return p + 1;
        }
    }
    return NULL;
}

int novapro_extract(const char *text, const char *stop_reason, json_object **out, char *err)
{
    const char *p = text;

    *out = NULL;
    if (stop_reason != NULL && strcmp(stop_reason, "max_tokens") == 0) {
        ads_errf(err, "the model's reply was cut off at maxTokens (truncated)");
        return NOVAPRO_TRUNCATED;
    }
    while ((p = strchr(p, '{')) != NULL) {
        const char *end = object_end(p);
        json_tokener *tok;
        json_object *o;

        if (end == NULL) {
            ads_errf(err, "the model's reply ends before its JSON object closes (truncated)");
            return NOVAPRO_TRUNCATED;
        }
        tok = json_tokener_new();
        o = tok ? json_tokener_parse_ex(tok, p, (int)(end - p)) : NULL;
        json_tokener_free(tok);
        if (o != NULL && json_object_is_type(o, json_type_object)) {
            *out = o;
            return NOVAPRO_OK;
        }
        json_object_put(o);
        p++;                        /* not JSON after all: look further */
    }
    ads_errf(err, "the model's reply holds no JSON object");
    return NOVAPRO_NO_JSON;
}

static int is_str(json_object *o, const char *key)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) &&
           json_object_get_string_len(v) > 0;
}

static int is_kind(json_object *o, const char *key, json_type t)
{
    json_object *v;

    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, t);
}

/* Every element an object with the named non-empty strings. */
static int items_ok(json_object *arr, const char *a, const char *b)
{
    size_t i, n;

    if (!json_object_is_type(arr, json_type_array) || (n = json_object_array_length(arr)) == 0)
        return 0;
    for (i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(it, json_type_object) || !is_str(it, a) || (b != NULL && !is_str(it, b)))
            return 0;
    }
    return 1;
}

static int ideas_ok(json_object *arr)
{
    size_t i;

    if (!items_ok(arr, "platform", "caption"))
        return 0;
    for (i = 0; i < json_object_array_length(arr); i++) {
        json_object *s;
        double v;
        if (!json_object_object_get_ex(json_object_array_get_idx(arr, i), "engagement_score", &s) ||
            !(json_object_is_type(s, json_type_int) || json_object_is_type(s, json_type_double)))
            return 0;
        v = json_object_get_double(s);
        if (v < 0 || v > 100)
            return 0;
    }
    return 1;
}

static int section_ok(const char *name, json_object *v)
{
    if (strcmp(name, "content_ideas") == 0)
        return ideas_ok(v);
    if (strcmp(name, "campaigns") == 0)
        return items_ok(v, "name", NULL);
    if (strcmp(name, "recommendations") == 0)
        return items_ok(v, "title", "description");
    if (!json_object_is_type(v, json_type_object))
        return 0;
    if (strcmp(name, "generated_assets") == 0)
        return is_kind(v, "image_prompts", json_type_array) && is_kind(v, "email_templates", json_type_array);
    if (strcmp(name, "platform_recommendations") == 0)
        return is_kind(v, "primary_platforms", json_type_array);
    return is_kind(v, "cultural_considerations", json_type_array);   /* market_insights */
}

int novapro_merge(json_object *campaign, json_object *model, json_object *warnings)
{
    int used = 0, i;

    for (i = 0; novapro_sections[i] != NULL; i++) {
        const char *name = novapro_sections[i];
        json_object *v;
        char msg[160];
        if (json_object_object_get_ex(model, name, &v) && section_ok(name, v)) {
            json_object_object_add(campaign, name, json_object_get(v));
            used++;
            continue;
        }
        snprintf(msg, sizeof msg, "synthesis: %s missing or malformed in the model's reply; the built-in plan's is used", name);
        json_object_array_add(warnings, json_object_new_string(msg));
    }
    return used;
}

void novapro_count_usage(json_object *reply, struct novapro_usage *u)
{
    json_object *usage, *n;

    if (reply == NULL || !json_object_object_get_ex(reply, "usage", &usage))
        return;
    if (json_object_object_get_ex(usage, "inputTokens", &n))
        u->input_tokens += json_object_get_int64(n);
    if (json_object_object_get_ex(usage, "outputTokens", &n))
        u->output_tokens += json_object_get_int64(n);
}

void novapro_message_text(json_object *msg, struct buf *text)
{
    json_object *content, *v;
    size_t i;

    if (json_object_object_get_ex(msg, "content", &content) && json_object_is_type(content, json_type_array))
        for (i = 0; i < json_object_array_length(content); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(content, i), "text", &v))
                buf_adds(text, json_object_get_string(v));
}

/* The text, stop reason and usage of a Converse-shaped InvokeModel reply. */
static int read_reply(const char *body, struct buf *text, char *stop, size_t stopsz,
                      struct novapro_usage *u, char *err)
{
    json_object *root = json_tokener_parse(body), *v;

    if (root == NULL) {
        ads_errf(err, "Nova Pro: the reply is not JSON");
        return -1;
    }
    novapro_count_usage(root, u);
    stop[0] = '\0';
    if (json_object_object_get_ex(root, "stopReason", &v))
        snprintf(stop, stopsz, "%s", json_object_get_string(v));
    if (json_object_object_get_ex(root, "output", &v) && json_object_object_get_ex(v, "message", &v))
        novapro_message_text(v, text);
    json_object_put(root);
    if (text->len == 0) {
        ads_errf(err, "Nova Pro: the reply holds no text");
        return -1;
    }
    return 0;
}

int novapro_synthesize(const struct config *cfg, const char *prompt, double deadline_ms, json_object **model,
                       struct novapro_usage *usage, char *err)
{
    struct aws_endpoint ep;
    struct outcall *c = NULL;
    struct buf path, text;
    char stop[32];
    char *body;
    int rc = NOVAPRO_CALL_FAILED;

    *model = NULL;
    if (aws_bedrock_endpoint(&ep, cfg, cfg->ai_timeout_ms, err) != 0)
        return NOVAPRO_CALL_FAILED;
    buf_init(&path);
    buf_init(&text);
    aws_bedrock_path(&path, cfg->text_model, "invoke");
    body = novapro_body(prompt, cfg->text_max_tokens);
    if (body != NULL && !path.oom &&
        aws_call_retried(&ep, path.data, NULL, "application/json", body, strlen(body), "Nova Pro",
                         cfg_ai_deadline(cfg, deadline_ms), RETRIES, &c, err) == OUTCALL_OK) {
        if (read_reply(c->reply.data ? c->reply.data : "", &text, stop, sizeof stop, usage, err) == 0)
            rc = novapro_extract(text.data, stop, model, err);
        outcall_free(c);
    }
    free(body);
    buf_free(&path);
    buf_free(&text);
    aws_endpoint_free(&ep);
    return rc;
}

double novapro_cost(const struct config *cfg, const struct novapro_usage *u)
{
    return ((double)u->input_tokens * strtod(cfg->price_input_per_mtok, NULL) +
            (double)u->output_tokens * strtod(cfg->price_output_per_mtok, NULL)) / 1e6;
}
