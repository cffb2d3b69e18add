/*
 * campaign: the campaign pipeline behind POST /api/campaign/tier-1. With the
 * built-in providers: image analysis (vision), video trends (youtube, or
 * none: an empty list and a warning; a failed call is a warning too), cultural insight per market (knowledge base), then the
 * rule-based synthesiser. Each stage's result and timing are returned for
 * the product row.
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

enum { CAMPAIGN_OK = 0, CAMPAIGN_BAD_IMAGE = -1, CAMPAIGN_FAILED = -2 };

int campaign_run(const struct config *cfg, const struct kb *kb,
                 const struct campaign_input *in, struct campaign_result *out, char *err);
void campaign_result_free(struct campaign_result *r);

#endif
