/*
 * campaign: the campaign pipeline behind POST /api/campaign/tier-1 (tier 2
 * of the original). Image analysis (built-in pixels, Rekognition labels)
 * and video trends (YouTube, or none) run on threads of their own while
 * cultural insight (the knowledge base) runs on the caller's; then the
 * built-in plan is made, and with text_provider = bedrock Nova Pro writes
 * its creative sections. A stage that fails degrades to a warning; only an
 * unreadable photo fails the request. With a text model, each market's
 * variant (market_variants) comes from the model in the market's language,
 * checked by langcheck, asked for once more when it fails, then marked
 * failed rather than accepted. Every provider call is bounded by
 * the deadline; a campaign that ends past it answers CAMPAIGN_DEADLINE and
 * nothing of it is kept. Each stage's result and timing are returned for
 * the product row.
 *
 * The stage threads share no json-c object with anyone: json-c reference
 * counts are not atomic.
 *
 * Every json_object in struct campaign_result is owned by it
 * (campaign_result_free).
 */
#ifndef ADS_CAMPAIGN_H
#define ADS_CAMPAIGN_H

#include <stddef.h>

#include <json-c/json.h>

#include "cfg.h"
#include "kb.h"

struct campaign_input {
    json_object *product_info;
    json_object *markets;          /* array of strings */
    json_object *objectives;
    const void *image;             /* bytes of the product photo */
    size_t image_len;
    const char *image_url;         /* public or storage URL for the response */
    const char *s3_key;
    double deadline_ms;            /* ads_now_ms() time; 0: now + campaign_deadline_ms */
};

struct campaign_result {
    const char *generation_method; /* static */
    json_object *campaign;         /* the contract's "campaign" */
    json_object *warnings;         /* array of strings */
    json_object *image_analysis;   /* for the product row */
    json_object *youtube_data;
    json_object *cultural_data;
    json_object *usage;            /* token usage (zero for built-ins) */
    double cost_usd;
};

enum { CAMPAIGN_OK = 0, CAMPAIGN_BAD_IMAGE = -1, CAMPAIGN_FAILED = -2, CAMPAIGN_DEADLINE = -3 };

int campaign_run(const struct config *cfg, const struct kb *kb,
                 const struct campaign_input *in, struct campaign_result *out, char *err);
void campaign_result_free(struct campaign_result *r);

#endif
