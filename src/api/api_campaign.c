/* POST /api/campaign/tier-1: validate the brief, find the caller's photo,
 * run the pipeline, keep the product row, answer the campaign. With
 * Prefer: respond-async it queues the campaign instead (api_campaigns.c),
 * which validates through api_campaign_brief as well. */
#include "api_int.h"
#include "uploads.h"
#include "campaign.h"
#include "log.h"
#include "products.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void campaign_error(struct call *c, const char *corr, int status, const char *code, const char *msg)
{
    json_object *extra = json_object_new_object();

    json_object_object_add(extra, "success", json_object_new_boolean(0));
    json_object_object_add(extra, "correlation_id", json_object_new_string(corr));
    api_error(c, status, code, extra, "%s", msg);
}

/* The largest price or budget taken, in the brief's currency. */
#define BRIEF_MAX_AMOUNT 1e9

static const struct av_field product_fields[] = {
    { .name = "name", .type = AV_STRING, .required = 1, .min = 5, .max = 200 },
    { .name = "description", .type = AV_STRING, .required = 1, .min = 20, .max = 1000 },
    { .name = "category", .type = AV_STRING, .required = 1, .min = 1, .max = 100 },
    { .name = "price", .type = AV_NUM_OR_TEXT, .min = 0, .max = BRIEF_MAX_AMOUNT, .text_max = 100 },
    { .name = "key_features", .alt = "keyFeatures", .type = AV_STR_ARRAY, .max = 20, .item_min = 1, .item_max = 200 },
    AV_END,
};

static int valid_key(const char *key)
{
    return store_valid_key(key);
}

static int valid_upload_id(const char *id)
{
    return ads_is_uuid(id);
}

static const struct av_field s3_fields[] = {
    { .name = "bucket", .type = AV_STRING, .required = 1, .min = 1, .max = 63 },
    { .name = "key", .type = AV_STRING, .required = 1, .min = 1, .max = 1024, .check = valid_key,
      .bad_msg = "s3_info.key is not a valid object key" },
    AV_END,
};

static const struct av_field market_fields[] = {
    { .name = "markets", .type = AV_STR_ARRAY, .required = 1, .min = 1, .max = 20, .item_min = 1, .item_max = 200 },
    AV_END,
};

static const struct av_field objective_fields[] = {
    { .name = "target_audience", .alt = "targetAudience", .type = AV_STRING, .required = 1, .min = 1, .max = 300 },
    { .name = "campaign_duration", .alt = "campaignDuration", .type = AV_STRING, .required = 1, .min = 1, .max = 100 },
    { .name = "primary_goal", .alt = "primaryGoal", .type = AV_STRING, .required = 1, .min = 1, .max = 300 },
    { .name = "target_age_range", .alt = "targetAgeRange", .type = AV_STRING, .max = 100 },
    { .name = "platform_preferences", .alt = "platformPreferences", .type = AV_STR_ARRAY, .max = 10, .item_min = 1, .item_max = 200 },
    { .name = "income_level", .alt = "incomeLevel", .type = AV_STRING, .max = 100 },
    { .name = "geographic_focus", .alt = "geographicFocus", .type = AV_STRING, .max = 300 },
    { .name = "budget", .type = AV_NUM_OR_TEXT, .min = 0, .max = BRIEF_MAX_AMOUNT, .text_max = 100 },
    { .name = "secondary_goals", .alt = "secondaryGoals", .type = AV_STR_ARRAY, .max = 10, .item_min = 1, .item_max = 200 },
    AV_END,
};

/* The brief, in the order its rules are checked. */
static const struct av_field brief_fields[] = {
    { .name = "product_info", .alt = "productInfo", .type = AV_OBJECT, .required = 1, .fields = product_fields },
    { .name = "target_markets", .alt = "targetMarkets", .type = AV_OBJECT, .required = 1, .fields = market_fields },
    { .name = "campaign_objectives", .alt = "campaignObjectives", .type = AV_OBJECT, .required = 1, .fields = objective_fields },
    { .name = "s3_info", .alt = "s3Info", .type = AV_OBJECT, .fields = s3_fields },
    { .name = "upload_id", .alt = "uploadId", .type = AV_STRING, .max = 36, .check = valid_upload_id,
      .bad_msg = "upload_id must be an upload id (UUID)" },
    AV_END,
};

int api_campaign_brief_valid(json_object *body, const char *uploads_bucket, json_object **out,
                             char *msg, size_t msgsz)
{
    json_object *s3;

    if (api_valid(body, brief_fields, "", out, msg, msgsz) != 0)
        return -1;
    if (json_object_object_get_ex(*out, "s3_info", &s3)) {
        json_object *bucket = NULL;
        json_object_object_get_ex(s3, "bucket", &bucket);
        if (strcmp(json_object_get_string(bucket), uploads_bucket) == 0)
            return 0;
        snprintf(msg, msgsz, "s3_info.bucket must be the uploads bucket");
    } else if (json_object_object_get_ex(*out, "upload_id", NULL)) {
        return 0;
    } else {
        snprintf(msg, msgsz, "s3_info or upload_id is required");
    }
    json_object_put(*out);
    *out = NULL;
    return -1;
}

/* budget may come as a number; synth reads text. */
static void budget_as_text(json_object *objectives)
{
    json_object *b;
    char tmp[64];

    if (json_object_object_get_ex(objectives, "budget", &b) && !json_object_is_type(b, json_type_string)) {
        snprintf(tmp, sizeof tmp, "%.2f", json_object_get_double(b));
        json_object_object_add(objectives, "budget", json_object_new_string(tmp));
    }
}

/* Finds the photo (s3_info first, else upload_id) among the caller's
 * uploads; fills b->bucket and b->key. */
static int locate_image(struct call *c, const char *corr, struct campaign_brief *b)
{
    const char *owner = c->scoped ? c->user : "";
    json_object *s3, *v;
    char err[ADS_ERRSZ];
    int rc;

    if (json_object_object_get_ex(b->all, "s3_info", &s3)) {
        json_object *bucket, *key;
        json_object_object_get_ex(s3, "bucket", &bucket);
        json_object_object_get_ex(s3, "key", &key);
        rc = uploads_by_key(c->ctx->db, json_object_get_string(bucket), json_object_get_string(key), owner,
                            b->bucket, sizeof b->bucket, b->key, sizeof b->key, err);
    } else {
        json_object_object_get_ex(b->all, "upload_id", &v);
        rc = uploads_by_id(c->ctx->db, json_object_get_string(v), owner,
                           b->bucket, sizeof b->bucket, b->key, sizeof b->key, err);
    }
    if (rc == UPLOADS_NOT_FOUND) {
        campaign_error(c, corr, 404, "not_found", "Image not found among your uploads");
        return -1;
    }
    if (rc != DB_OK) {
        api_db_error(c, rc, "campaign image lookup", err);
        return -1;
    }
    return 0;
}

int api_campaign_brief(struct call *c, const char *corr, struct campaign_brief *b)
{
    char err[ADS_ERRSZ];

    memset(b, 0, sizeof *b);
    if (api_campaign_brief_valid(c->body, c->ctx->cfg->uploads_bucket, &b->all, err, sizeof err) != 0) {
        campaign_error(c, corr, 400, "invalid_request", err);
        return -1;
    }
    json_object_object_get_ex(b->all, "product_info", &b->product);
    json_object_object_get_ex(b->all, "target_markets", &b->markets_obj);
    json_object_object_get_ex(b->all, "campaign_objectives", &b->objectives);
    json_object_object_get_ex(b->markets_obj, "markets", &b->markets);
    if (locate_image(c, corr, b) != 0) {
        api_campaign_brief_free(b);
        return -1;
    }
    budget_as_text(b->objectives);
    return 0;
}

void api_campaign_brief_free(struct campaign_brief *b)
{
    json_object_put(b->all);
    b->all = NULL;
}

void route_campaign(struct call *c)
{
    struct campaign_brief b;
    struct campaign_input in;
    struct campaign_result res;
    struct product_row row;
    char corr[37], pid[37], err[ADS_ERRSZ];
    char *image = NULL, *url;
    size_t image_len = 0;
    json_object *o, *stored;
    double started = ads_now_ms();
    size_t i;
    int rc;

    if (api_prefers_async(c)) {
        route_campaigns_post(c);
        return;
    }
    if (ads_uuid4(corr) != 0 || ads_uuid4(pid) != 0) {
        api_error(c, 500, "internal_error", NULL, "Internal error");
        return;
    }
    if (api_campaign_brief(c, corr, &b) != 0)
        return;
    rc = store_get(c->ctx->store, b.bucket, b.key, STORE_MAX_UPLOAD, &image, &image_len, err);
    if (rc != STORE_OK) {
        if (rc != STORE_NOT_FOUND)
            log_error("campaign %s: image read: %s", corr, err);
        campaign_error(c, corr, rc == STORE_NOT_FOUND ? 404 : 502, rc == STORE_NOT_FOUND ? "not_found" : "storage_error",
                       rc == STORE_NOT_FOUND ? "The image has not been uploaded yet" : store_error_text(rc));
        api_campaign_brief_free(&b);
        return;
    }
    /* The object is there: its slot is used (a failure only leaves it to the sweep). */
    if (uploads_mark_uploaded(c->ctx->db, b.bucket, b.key, err) != DB_OK)
        log_warn("campaign %s: %s", corr, err);
    url = store_public_url(c->ctx->store, b.bucket, b.key);
    memset(&in, 0, sizeof in);
    in.product_info = b.product;
    in.markets = b.markets;
    in.objectives = b.objectives;
    in.image = image;
    in.image_len = image_len;
    in.image_url = url;
    in.s3_key = b.key;
    in.deadline_ms = started + (double)c->ctx->cfg->campaign_deadline_ms;
    rc = campaign_run(c->ctx->cfg, c->ctx->kb, &in, &res, err);
    free(image);
    free(url);
    if (rc == CAMPAIGN_DEADLINE) {
        log_warn("campaign %s: %s; nothing saved", corr, err);
        campaign_error(c, corr, 504, "deadline_exceeded", "The campaign did not finish in time; nothing was saved");
        api_campaign_brief_free(&b);
        return;
    }
    if (rc != CAMPAIGN_OK) {
        char msg[ADS_ERRSZ + 16];
        snprintf(msg, sizeof msg, "image: %s", err);
        campaign_error(c, corr, rc == CAMPAIGN_BAD_IMAGE ? 400 : 500,
                       rc == CAMPAIGN_BAD_IMAGE ? "invalid_image" : "internal_error", msg);
        api_campaign_brief_free(&b);
        return;
    }
    stored = products_campaign_column(corr, res.generation_method, res.campaign, res.usage, res.cost_usd,
                                      res.warnings, ads_now_ms() - started);
    memset(&row, 0, sizeof row);
    row.product_id = pid;
    row.user_id = c->user;
    row.correlation_id = corr;
    row.s3_bucket = b.bucket;
    row.s3_key = b.key;
    rc = products_row_fill(&row, b.product, b.markets_obj, b.objectives, res.image_analysis, res.youtube_data,
                           res.cultural_data, stored, err) == 0 ? products_insert(c->ctx->db, &row, err) : DB_ERROR;
    products_row_clear(&row);
    json_object_put(stored);
    if (rc != DB_OK) {
        campaign_result_free(&res);
        api_campaign_brief_free(&b);
        api_db_error(c, rc, "product insert", err);
        return;
    }
    log_info("campaign %s product %s user %s method %s request %s", corr, pid, c->user,
             res.generation_method, c->req->request_id ? c->req->request_id : "-");
    for (i = 0; i < json_object_array_length(res.warnings); i++)
        log_warn("campaign %s request %s: %s", corr, c->req->request_id ? c->req->request_id : "-",
                 json_object_get_string(json_object_array_get_idx(res.warnings, i)));
    o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "correlation_id", json_object_new_string(corr));
    json_object_object_add(o, "product_id", json_object_new_string(pid));
    json_object_object_add(o, "generation_method", json_object_new_string(res.generation_method));
    json_object_object_add(o, "warnings", json_object_get(res.warnings));
    json_object_object_add(o, "campaign", json_object_get(res.campaign));
    campaign_result_free(&res);
    api_campaign_brief_free(&b);
    api_json(c, 200, o);
}
