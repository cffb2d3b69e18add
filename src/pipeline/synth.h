/*
 * synth: the built-in campaign planner (generation_method
 * "fallback_campaign"). Rules over the brief, the image analysis and the
 * market knowledge base fill every section of the contract's campaign.
 * Deterministic: the same input gives the same campaign.
 *
 * Analytics are estimates from a documented formula (README, "Estimates"):
 *   impressions = budget_usd / 8 * 1000        (CPM of 8 USD)
 *   reach       = impressions / 2.5            (average frequency)
 *                 * (1 + 0.1 * (markets - 1))  (wider spread, capped at 2x)
 *   views       = impressions * 0.35
 *   engagement  = 2% + 0.4% per platform (at most 5%)
 *   shares      = views * engagement * 0.15
 *   followers   = reach * 0.004
 *   conversion  = 1.2%, +0.6% for a sales goal, +0.2% for a high income level
 *   reachChange      = reach gained by the market spread, against one market
 *   engagementChange = engagement rate against a 2% single-platform baseline
 * A budget that cannot be read counts as 2,000 USD and is named in warnings;
 * one above SYNTH_MAX_BUDGET_USD counts as that much (and is named too).
 * Every count is clamped to 0..SYNTH_MAX_COUNT before it becomes an integer.
 *
 * Returned objects are owned by the caller (json_object_put).
 */
#ifndef ADS_SYNTH_H
#define ADS_SYNTH_H

#include <json-c/json.h>

#include "kb.h"

struct synth_input {
    json_object *product_info;   /* name, description, category, price?, key_features? */
    json_object *markets;        /* array of strings */
    json_object *objectives;     /* target_audience, campaign_duration, primary_goal, ... */
    json_object *image_analysis; /* vision result, may be NULL */
    json_object *videos;         /* related videos, may be NULL */
    json_object *cultural;       /* synth_cultural result */
    const struct kb *kb;
    const char *s3_key;          /* the uploaded photo, for creative requests; may be NULL */
};

/* Per-market cultural insight from the knowledge base: an array of
 * {"market", "profile", "matched", "language" (the primary BCP 47 tag),
 * "languages", platforms, content_types, best_days, best_times, ...}. Unknown
 * markets get the generic profile and a warning appended to warnings. */
json_object *synth_cultural(const struct kb *kb, json_object *markets, json_object *warnings);

/* The campaign object of the contract; warnings gets any assumptions made.
 * Beside the contract's sections: "market_variants" (per market, ideas and
 * templates in the market's language from the copy deck), "angle" and
 * "language" on every idea and template, a "schedule" of fields beside each
 * week's "posts", and generated_assets.creative_requests (ready POST
 * /api/assets bodies). No two ideas share a topic; no two posts of the
 * calendar share week, day and time, or title. */
json_object *synth_campaign(const struct synth_input *in, json_object *warnings);

/* generated_assets.creative_requests for these platforms (strings; at
 * most six, each once): per market of in->cultural and platform, a POST
 * /api/assets body. NULL when platforms names none. */
json_object *synth_creative_requests(const struct synth_input *in, json_object *platforms);

/* Helpers exposed for tests. */
int synth_weeks(const char *duration, int *weeks);        /* 0 when understood */
#define SYNTH_MAX_BUDGET_USD 1e9
#define SYNTH_MAX_COUNT 1e15

int synth_budget_usd(const char *budget, double *usd);    /* 0 when understood */
int synth_posts_per_week(double budget_usd);

#endif
