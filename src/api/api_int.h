/*
 * Internals shared by the api_*.c route files. Not installed, not a
 * promise to anything outside the API module.
 */
#ifndef ADS_API_INT_H
#define ADS_API_INT_H

#include <json-c/json.h>

#include "api.h"
#include "auth.h"

struct call {
    struct api_ctx *ctx;
    const struct api_request *req;
    struct api_response *resp;
    json_object *body;               /* parsed JSON object for POST routes */
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

/* Looks up a field by either spelling. Returns 0 when absent or null, 1 with
 * *out set when present, -1 when present with the wrong type (error set). */
int api_field_str(struct call *c, json_object *o, const char *a, const char *b, const char **out);
int api_field_obj(struct call *c, json_object *o, const char *a, const char *b, json_object **out);

/* Text length check in characters; sets a 400 naming the field. */
int api_check_len(struct call *c, const char *field, const char *v, long min, long max);

/* Adds k and v under both names. */
void api_add2(json_object *o, const char *a, const char *b, json_object *v);

/* Reads the query parameter name (decoded) into out; 0 when present. */
int api_query_param(const char *query, const char *name, char *out, size_t outsz);

/* The validated brief of a campaign request: product_info, target_markets
 * and campaign_objectives as snake_case objects (owned; markets borrowed
 * from markets_obj), and the caller's own photo. */
struct campaign_brief {
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
void route_object_put(struct call *c);

#endif
