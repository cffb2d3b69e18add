/*
 * Internals shared by the api_*.c route files. Not installed, not a
 * promise to anything outside the API module.
 */
#ifndef ADS_API_INT_H
#define ADS_API_INT_H

#include <json-c/json.h>

#include "api.h"
#include "auth.h"
#include "api_valid.h"

struct call {
    struct api_ctx *ctx;
    const struct api_request *req;
    struct api_response *resp;
    json_object *body;               /* parsed JSON object for POST routes */
    json_object *in;                 /* the body as its route's table passed it (api_body_valid) */
    char user[AUTH_USER_MAX + 1];    /* the caller */
    int scoped;                      /* 1: rows are filtered by user */
    const char *param;               /* the {id} path segment, if any */
};

/* Sets a JSON error {"error", "code"} (extra may add fields; it is consumed). */
void api_error(struct call *c, int status, const char *code, json_object *extra,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sets a JSON body; takes ownership of obj. */
void api_json(struct call *c, int status, json_object *obj);
void api_header(struct call *c, const char *name, const char *value);
/* Maps a db_* failure to 503 (unavailable) or 500. */
void api_db_error(struct call *c, int rc, const char *what, const char *err);

/* The value of a field under either spelling (b may be NULL); a JSON null
 * counts as absent. *name, when not NULL, gets the spelling found. */
json_object *api_field(json_object *o, const char *a, const char *b, const char **name);

/* Looks up a field by either spelling outside a route's table (the caller's
 * user_id before routing). Returns 0 when absent or null, 1 with *out set
 * when present, -1 when present with the wrong type (error set). */
int api_field_str(struct call *c, json_object *o, const char *a, const char *b, const char **out);

/* Checks c->body against the route's table into c->in (freed with the
 * call); -1 with a 400 invalid_request set when a rule is broken. */
int api_body_valid(struct call *c, const struct av_field *table);
/* A text field of c->in, or NULL when absent. */
const char *api_in_str(struct call *c, const char *name);

/* Adds k and v under both names. */
void api_add2(json_object *o, const char *a, const char *b, json_object *v);

/* Reads the query parameter name (decoded) into out; 0 when present. */
int api_query_param(const char *query, const char *name, char *out, size_t outsz);

/* The job's webhook target: the body's callback_url|callbackUrl (checked:
 * http(s), no private literal address unless webhook_allow_private), else
 * the webhook_url default, else NULL. 1 when the body named one, 0 when
 * not, -1 when the response is set. */
int api_callback_url(struct call *c, const char **out);

/* Validates a campaign brief (the body of POST /api/campaign/tier-1):
 * product_info, target_markets, campaign_objectives, and s3_info (in
 * uploads_bucket) or upload_id, under either spelling. On success *out is a
 * new object (the caller's) holding those fields under their snake_case
 * names; -1 with msg set (a 400 invalid_request message naming the field)
 * otherwise. Thread-safe; touches no database. */
int api_campaign_brief_valid(json_object *body, const char *uploads_bucket, json_object **out,
                             char *msg, size_t msgsz);

/* The validated brief of a campaign request: `all` (owned) holds
 * product_info, target_markets and campaign_objectives as snake_case
 * objects, which the other members borrow; and the caller's own photo. */
struct campaign_brief {
    json_object *all;
    json_object *product, *objectives, *markets_obj, *markets;
    char bucket[64], key[1100];
};

/* Validates a campaign request's brief and finds the caller's photo, the
 * same for POST /api/campaign/tier-1 and POST /api/campaigns. 0, or -1
 * with the error answer set (400/404/503) and nothing to free. */
int api_campaign_brief(struct call *c, const char *corr, struct campaign_brief *b);
void api_campaign_brief_free(struct campaign_brief *b);

/* 1 when the request carries Prefer: respond-async. */
int api_prefers_async(const struct call *c);

void route_health(struct call *c);
void route_presign(struct call *c);
void route_upload_status(struct call *c);
void route_campaign(struct call *c);
void route_campaigns_post(struct call *c);
void route_campaigns_get(struct call *c);
void route_campaigns_list(struct call *c);
void route_assets_post(struct call *c);
void route_assets_get(struct call *c);
void route_assets_list(struct call *c);
void route_markets(struct call *c);
void route_object_put(struct call *c);
/* GET /metrics (api_metrics.c): the Prometheus exposition. */
void route_metrics(struct call *c);

#endif
