/*
 * novapro: campaign synthesis with Amazon Nova Pro (text_provider =
 * bedrock) through bedrock-runtime InvokeModel, with the original body
 * ({"messages": [{"role": "user", "content": [{"text"}]}],
 * "inferenceConfig": {"maxTokens"}}), SigV4-signed, retried on throttling,
 * 5xx and connection errors with jittered backoff inside ai_timeout_ms and
 * never past the caller's deadline (ads_now_ms clock).
 *
 * The model writes the creative sections; adsmith keeps the facts. What
 * comes back is read robustly: the JSON object is found inside code fences
 * or prose, a reply cut off at maxTokens is detected as such, and each
 * section is checked against the campaign schema. Missing or malformed
 * sections are taken from the built-in plan and named in warnings.
 *
 * Returned objects and strings are owned by the caller.
 *
 * Thread-safe (cultural insight calls it on a thread of its own): the config
 * is only read, each call has its own handle and objects.
 */
#ifndef ADS_NOVAPRO_H
#define ADS_NOVAPRO_H

#include <json-c/json.h>

#include "buf.h"
#include "cfg.h"

/* The sections the model writes; the others (product, analytics,
 * related_youtube_videos) always come from adsmith's own data. */
extern const char *const novapro_sections[];

struct novapro_usage {
    long input_tokens, output_tokens;
};

enum { NOVAPRO_OK = 0, NOVAPRO_NO_JSON = -1, NOVAPRO_TRUNCATED = -2, NOVAPRO_CALL_FAILED = -3 };

/* The prompt for a brief and what the pipeline gathered (malloc'd).
 * languages ([{"market", "language"}], may be NULL) asks for
 * "market_variants" written in each market's language. */
char *novapro_prompt(json_object *product_info, json_object *markets, json_object *objectives,
                     json_object *image_analysis, json_object *videos, json_object *cultural, json_object *languages);

/* The localisation prompt for one market (malloc'd): the variant's copy in
 * language only; why (may be NULL) says what a previous answer got wrong,
 * which makes the instruction firmer. The answer is one market variant
 * {"market", "language", "content_ideas", "video_scripts",
 * "email_templates", "blog_outlines"}. */
char *novapro_localise_prompt(json_object *product_info, json_object *objectives, const char *market,
                              const char *language, json_object *platforms, const char *why);

/* The cultural-insight prompt: per market, for this product and audience,
 * with the knowledge base's profile of each market as a starting point
 * (malloc'd). The answer is {"markets": [{"market", "insights": [..],
 * "cautions": [..], "platforms": [..], "timing"}]}. */
char *novapro_cultural_prompt(json_object *product_info, json_object *markets, json_object *objectives,
                              json_object *kb_markets);

/* The InvokeModel body for a prompt (malloc'd). */
char *novapro_body(const char *prompt, long max_tokens);

/* Finds the JSON object in a model's text. NOVAPRO_OK with *out, or
 * NOVAPRO_TRUNCATED (stop_reason "max_tokens", or an object that never
 * closes) or NOVAPRO_NO_JSON, with a message. */
int novapro_extract(const char *text, const char *stop_reason, json_object **out, char *err);

/* Overlays the model's valid sections on the built-in campaign (modified
 * in place); each section missing or malformed is named in warnings.
 * Returns how many sections the model supplied. */
int novapro_merge(json_object *campaign, json_object *model, json_object *warnings);

/* One call for a JSON answer (synthesis, cultural insight): NOVAPRO_OK
 * with *model (the parsed object) and usage
 * counted, or an error code with a message (no credential in it). Usage is
 * counted even when the reply is unusable. */
int novapro_synthesize(const struct config *cfg, const char *prompt, double deadline_ms, json_object **model,
                       struct novapro_usage *usage, char *err);

/* Adds a Converse-shaped reply's usage (inputTokens, outputTokens) to u. */
void novapro_count_usage(json_object *reply, struct novapro_usage *u);

/* Appends the text blocks of a Converse-shaped message's content to text. */
void novapro_message_text(json_object *msg, struct buf *text);

/* Estimated cost of the tokens at the configured prices per million. */
double novapro_cost(const struct config *cfg, const struct novapro_usage *u);

#endif
