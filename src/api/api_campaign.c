/* POST /api/campaign/tier-1: validate the brief, find the caller's photo,
 * run the pipeline, keep the product row, answer the campaign. With
 * Prefer: respond-async it queues the campaign instead (api_campaigns.c),
 * which validates through api_campaign_brief as well. */
#include "api_int.h"
#include "campaign.h"
#include "log.h"
#include "products.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct spelling { const char *snake, *camel; };

/* The field's value under either spelling, or NULL. */
static json_object *pick(json_object *src, const struct spelling *sp)
{
    return api_field(src, sp->snake, sp->camel, NULL);
}

static void campaign_error(struct call *c, const char *corr, int status, const char *code, const char *msg)
{
    json_object *extra = json_object_new_object();

    json_object_object_add(extra, "success", json_object_new_boolean(0));
    json_object_object_add(extra, "correlation_id", json_object_new_string(corr));
    api_error(c, status, code, extra, "%s", msg);
}

enum ftype { F_STR, F_STR_ARRAY, F_ANY_SCALAR };

struct field {
    struct spelling sp;
    enum ftype type;
    int required;
    long min, max;     /* characters for strings, items for arrays */
};

/* Validates obj's fields into a fresh snake_case object (*out, owned by the
 * caller). msg gets the first rule broken. */
static int normalize(json_object *obj, const char *prefix, const struct field *fields,
                     json_object **out, char *msg, size_t msgsz)
{
    json_object *n = json_object_new_object();
    const struct field *f;

    for (f = fields; f->sp.snake != NULL; f++) {
        json_object *v = pick(obj, &f->sp);
        if (v == NULL) {
            if (f->required) {
                snprintf(msg, msgsz, "%s.%s is required", prefix, f->sp.snake);
                goto bad;
            }
            continue;
        }
        if (f->type == F_STR) {
            long len;
            if (!json_object_is_type(v, json_type_string)) {
                snprintf(msg, msgsz, "%s.%s must be a string", prefix, f->sp.snake);
                goto bad;
            }
            len = ads_utf8_len(json_object_get_string(v));
            if (len < f->min || len > f->max) {
                snprintf(msg, msgsz, "%s.%s must be between %ld and %ld characters", prefix, f->sp.snake, f->min, f->max);
                goto bad;
            }
        } else if (f->type == F_STR_ARRAY) {
            size_t i, len;
            if (!json_object_is_type(v, json_type_array)) {
                snprintf(msg, msgsz, "%s.%s must be an array of strings", prefix, f->sp.snake);
                goto bad;
            }
            len = json_object_array_length(v);
            if ((long)len < f->min || (long)len > f->max) {
                snprintf(msg, msgsz, "%s.%s must have between %ld and %ld items", prefix, f->sp.snake, f->min, f->max);
                goto bad;
            }
            for (i = 0; i < len; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                long el;
                if (!json_object_is_type(e, json_type_string) ||
                    (el = ads_utf8_len(json_object_get_string(e))) < 1 || el > 200) {
                    snprintf(msg, msgsz, "%s.%s items must be strings of 1-200 characters", prefix, f->sp.snake);
                    goto bad;
                }
            }
        } else {
            if (!json_object_is_type(v, json_type_string) && !json_object_is_type(v, json_type_int) &&
                !json_object_is_type(v, json_type_double)) {
                snprintf(msg, msgsz, "%s.%s must be a number or a string", prefix, f->sp.snake);
                goto bad;
            }
            if (json_object_is_type(v, json_type_string) && ads_utf8_len(json_object_get_string(v)) > 100) {
                snprintf(msg, msgsz, "%s.%s must be at most 100 characters", prefix, f->sp.snake);
                goto bad;
            }
        }
        json_object_object_add(n, f->sp.snake, json_object_get(v));
    }
    *out = n;
    return 0;
bad:
    json_object_put(n);
    return -1;
}

static const struct field product_fields[] = {
    { { "name", NULL }, F_STR, 1, 5, 200 },
    { { "description", NULL }, F_STR, 1, 20, 1000 },
    { { "category", NULL }, F_STR, 1, 1, 100 },
    { { "price", NULL }, F_ANY_SCALAR, 0, 0, 0 },
    { { "key_features", "keyFeatures" }, F_STR_ARRAY, 0, 0, 20 },
    { { NULL, NULL }, F_STR, 0, 0, 0 },
};

static const struct field objective_fields[] = {
    { { "target_audience", "targetAudience" }, F_STR, 1, 1, 300 },
    { { "campaign_duration", "campaignDuration" }, F_STR, 1, 1, 100 },
    { { "primary_goal", "primaryGoal" }, F_STR, 1, 1, 300 },
    { { "target_age_range", "targetAgeRange" }, F_STR, 0, 0, 100 },
    { { "platform_preferences", "platformPreferences" }, F_STR_ARRAY, 0, 0, 10 },
    { { "income_level", "incomeLevel" }, F_STR, 0, 0, 100 },
    { { "geographic_focus", "geographicFocus" }, F_STR, 0, 0, 300 },
    { { "budget", NULL }, F_ANY_SCALAR, 0, 0, 0 },
    { { "secondary_goals", "secondaryGoals" }, F_STR_ARRAY, 0, 0, 10 },
    { { NULL, NULL }, F_STR, 0, 0, 0 },
};

static const struct field market_fields[] = {
    { { "markets", NULL }, F_STR_ARRAY, 1, 1, 20 },
    { { NULL, NULL }, F_STR, 0, 0, 0 },
};

void api_campaign_brief_free(struct campaign_brief *b)
{
    json_object_put(b->product);
    json_object_put(b->objectives);
    json_object_put(b->markets_obj);
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

static int section(struct call *c, const char *corr, const char *snake, const char *camel,
                   const struct field *fields, json_object **out)
{
    struct spelling sp = { snake, camel };
    json_object *v = pick(c->body, &sp);
    char msg[300];

    if (v == NULL || !json_object_is_type(v, json_type_object)) {
        snprintf(msg, sizeof msg, "%s is required and must be an object", snake);
        campaign_error(c, corr, 400, "invalid_request", msg);
        return -1;
    }
    if (normalize(v, snake, fields, out, msg, sizeof msg) != 0) {
        campaign_error(c, corr, 400, "invalid_request", msg);
        return -1;
    }
    return 0;
}

/* Finds the photo: upload_id, or s3_info in the uploads bucket, owned by
 * the caller. Fills b->bucket and b->key. */
static int locate_image(struct call *c, const char *corr, struct campaign_brief *b)
{
    static const char by_id[] =
        "SELECT bucket, s3_key FROM uploads WHERE upload_id = $1::uuid AND ($2 = '' OR user_id = $2)";
    static const char by_key[] =
        "SELECT bucket, s3_key FROM uploads WHERE bucket = $1 AND s3_key = $2 AND ($3 = '' OR user_id = $3)";
    struct spelling s3 = { "s3_info", "s3Info" }, uid = { "upload_id", "uploadId" };
    json_object *info = pick(c->body, &s3), *idv = pick(c->body, &uid), *v;
    const char *vals[3], *owner = c->scoped ? c->user : "";
    char err[ADS_ERRSZ];
    PGresult *r;
    int rc;

    if (info != NULL) {
        const char *bucket = NULL, *key = NULL;
        if (!json_object_is_type(info, json_type_object)) {
            campaign_error(c, corr, 400, "invalid_request", "s3_info must be an object");
            return -1;
        }
        if (json_object_object_get_ex(info, "bucket", &v) && json_object_is_type(v, json_type_string))
            bucket = json_object_get_string(v);
        if (json_object_object_get_ex(info, "key", &v) && json_object_is_type(v, json_type_string))
            key = json_object_get_string(v);
        if (bucket == NULL || key == NULL) {
            campaign_error(c, corr, 400, "invalid_request", "s3_info.bucket and s3_info.key are required strings");
            return -1;
        }
        if (strcmp(bucket, c->ctx->cfg->uploads_bucket) != 0) {
            campaign_error(c, corr, 400, "invalid_request", "s3_info.bucket must be the uploads bucket");
            return -1;
        }
        if (!store_valid_key(key)) {
            campaign_error(c, corr, 400, "invalid_request", "s3_info.key is not a valid object key");
            return -1;
        }
        vals[0] = bucket;
        vals[1] = key;
        vals[2] = owner;
        rc = db_exec(c->ctx->db, "campaign_by_key", by_key, 3, vals, &r, NULL, err);
    } else if (idv != NULL) {
        if (!json_object_is_type(idv, json_type_string) || !ads_is_uuid(json_object_get_string(idv))) {
            campaign_error(c, corr, 400, "invalid_request", "upload_id must be an upload id (UUID)");
            return -1;
        }
        vals[0] = json_object_get_string(idv);
        vals[1] = owner;
        rc = db_exec(c->ctx->db, "campaign_by_id", by_id, 2, vals, &r, NULL, err);
    } else {
        campaign_error(c, corr, 400, "invalid_request", "s3_info or upload_id is required");
        return -1;
    }
    if (rc != DB_OK) {
        api_db_error(c, rc, "campaign image lookup", err);
        return -1;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        campaign_error(c, corr, 404, "not_found", "Image not found among your uploads");
        return -1;
    }
    snprintf(b->bucket, sizeof b->bucket, "%s", PQgetvalue(r, 0, 0));
    snprintf(b->key, sizeof b->key, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    return 0;
}

int api_campaign_brief(struct call *c, const char *corr, struct campaign_brief *b)
{
    memset(b, 0, sizeof *b);
    if (section(c, corr, "product_info", "productInfo", product_fields, &b->product) != 0 ||
        section(c, corr, "target_markets", "targetMarkets", market_fields, &b->markets_obj) != 0 ||
        section(c, corr, "campaign_objectives", "campaignObjectives", objective_fields, &b->objectives) != 0 ||
        locate_image(c, corr, b) != 0) {
        api_campaign_brief_free(b);
        return -1;
    }
    json_object_object_get_ex(b->markets_obj, "markets", &b->markets);
    budget_as_text(b->objectives);
    return 0;
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
        if (rc == STORE_ERR)
            log_error("campaign %s: image read: %s", corr, err);
        campaign_error(c, corr, rc == STORE_NOT_FOUND ? 404 : 502, rc == STORE_NOT_FOUND ? "not_found" : "storage_error",
                       rc == STORE_NOT_FOUND ? "The image has not been uploaded yet" : "Object storage failed");
        api_campaign_brief_free(&b);
        return;
    }
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
                       rc == CAMPAIGN_BAD_IMAGE ? "invalid_request" : "internal_error", msg);
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
