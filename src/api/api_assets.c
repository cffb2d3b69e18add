/* Image jobs: queue one (idempotent by request_id) and read its state. */
#include "api_int.h"
#include "buf.h"
#include "jobq.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const styles[] = { "natural", "vivid", "anime", "photographic", NULL };
static const char *const ratios[] = { "1:1", "16:9", "9:16", "4:3", "3:4", NULL };

static int valid_request_id(const char *v)
{
    return ads_all_chars(v, 1, 64, "_-");
}

/* The body of POST /api/assets. */
static const struct av_field asset_fields[] = {
    { .name = "prompt", .type = AV_STRING, .required = 1, .min = 10, .max = 1000, .missing_msg = "Prompt is required" },
    { .name = "style", .type = AV_STRING, .max = 16, .allowed = styles, .def = "natural" },
    { .name = "aspect_ratio", .alt = "aspectRatio", .type = AV_STRING, .max = 8, .allowed = ratios, .def = "1:1" },
    { .name = "request_id", .alt = "requestId", .type = AV_STRING, .min = 1, .max = 64, .check = valid_request_id,
      .bad_msg = "request_id must be 1-64 of [A-Za-z0-9_-]" },
    AV_END,
};

static void queued(struct call *c, const char *id)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "message", json_object_new_string("Image generation request queued"));
    json_object_object_add(o, "request_id", json_object_new_string(id));
    api_json(c, 200, o);
}

/* The body a request_id stands for: a repeat must carry the same one
 * (a callback_url, when the request names one, is part of it). */
static void body_hash(const char *prompt, const char *style, const char *ratio, const char *callback,
                      char out[65])
{
    struct buf b;

    buf_init(&b);
    buf_adds(&b, prompt);
    buf_addc(&b, '\x1f');
    buf_adds(&b, style);
    buf_addc(&b, '\x1f');
    buf_adds(&b, ratio);
    if (callback != NULL) {
        buf_addc(&b, '\x1f');
        buf_adds(&b, callback);
    }
    ads_sha256_hex(b.data ? b.data : "", b.len, out);
    buf_free(&b);
}

void route_assets_post(struct call *c)
{
    static const char ins[] =
        "INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash,"
        " callback_url) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id) DO NOTHING RETURNING request_id";
    static const char sel[] =
        "SELECT user_id, body_hash FROM generated_images WHERE request_id = $1";
    const char *prompt, *style, *ratio, *rid, *callback = NULL;
    char idbuf[65], hash[65], err[ADS_ERRSZ];
    const char *vals[7];
    PGresult *r;
    int rc;

    if (api_body_valid(c, asset_fields) != 0)
        return;
    prompt = api_in_str(c, "prompt");
    style = api_in_str(c, "style");
    ratio = api_in_str(c, "aspect_ratio");
    rid = api_in_str(c, "request_id");
    if (rid == NULL) {
        if (ads_uuid4(idbuf) != 0) {
            api_error(c, 500, "internal_error", NULL, "Internal error");
            return;
        }
        rid = idbuf;
    }
    /* Webhook: the request's own callback_url counts in the body hash; the
     * config default does not. */
    if ((rc = api_callback_url(c, &callback)) < 0)
        return;
    body_hash(prompt, style, ratio, rc == 1 ? callback : NULL, hash);
    vals[0] = rid;
    vals[1] = c->user;
    vals[2] = prompt;
    vals[3] = style;
    vals[4] = ratio;
    vals[5] = hash;
    vals[6] = callback;
    rc = db_exec(c->ctx->db, "asset_insert", ins, 7, vals, &r, NULL, err);
    if (rc != DB_OK) {
        api_db_error(c, rc, "asset insert", err);
        return;
    }
    if (PQntuples(r) == 1) {
        PQclear(r);
        queued(c, rid);
        return;
    }
    PQclear(r);
    rc = db_exec(c->ctx->db, "asset_existing", sel, 1, vals, &r, NULL, err);
    if (rc != DB_OK) {
        api_db_error(c, rc, "asset lookup", err);
        return;
    }
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), c->user) == 0 &&
        strcmp(PQgetvalue(r, 0, 1), hash) == 0) {
        PQclear(r);
        queued(c, rid);
        return;
    }
    PQclear(r);
    {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "request_id", json_object_new_string(rid));
        api_error(c, 409, "conflict", extra, "request_id is already used by another request");
    }
}

void route_assets_get(struct call *c)
{
    const char *id = c->param;
    char err[ADS_ERRSZ];
    json_object *o = NULL;
    int rc;

    if (!ads_all_chars(id, 1, 64, "_-")) {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "request_id", json_object_new_string(""));
        api_error(c, 404, "not_found", extra, "Request not found");
        return;
    }
    rc = jobq_status_json(c->ctx->db, c->scoped ? c->user : "", id, &o, err);
    if (rc < 0) {
        api_db_error(c, rc, "asset get", err);
        return;
    }
    if (rc == 1) {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "request_id", json_object_new_string(id));
        api_error(c, 404, "not_found", extra, "Request not found");
        return;
    }
    api_json(c, 200, o);
}

/* The query names the parameter (whatever its value). */
static int has_param(const char *query, const char *name)
{
    size_t n = strlen(name);
    const char *p = query;

    while ((p = strstr(p, name)) != NULL) {
        if ((p == query || p[-1] == '&') && p[n] == '=')
            return 1;
        p += n;
    }
    return 0;
}

/* GET /api/assets?limit=N&cursor=C: the caller's images, newest first, one
 * keyset page at a time. */
void route_assets_list(struct call *c)
{
    char lim[16], cursor[JOBQ_CURSOR_MAX], next[JOBQ_CURSOR_MAX], err[ADS_ERRSZ];
    const char *query = c->req->query ? c->req->query : "";
    json_object *items = NULL, *o;
    char *end;
    long limit = 20;
    int rc;

    if (api_query_param(query, "limit", lim, sizeof lim) == 0) {
        limit = strtol(lim, &end, 10);
        if (lim[0] == '\0' || *end != '\0' || limit < 1 || limit > JOBQ_PAGE_MAX) {
            api_error(c, 400, "invalid_request", NULL, "limit must be a whole number from 1 to %d", JOBQ_PAGE_MAX);
            return;
        }
    }
    cursor[0] = '\0';
    if (has_param(query, "cursor") && api_query_param(query, "cursor", cursor, sizeof cursor) != 0) {
        api_error(c, 400, "invalid_request", NULL, "cursor is not valid");
        return;
    }
    rc = jobq_user_page(c->ctx->db, c->user, cursor, limit, &items, next, err);
    if (rc == JOBQ_BAD_CURSOR) {
        api_error(c, 400, "invalid_request", NULL, "cursor is not valid");
        return;
    }
    if (rc != DB_OK) {
        api_db_error(c, rc, "asset list", err);
        return;
    }
    o = json_object_new_object();
    json_object_object_add(o, "items", items);
    json_object_object_add(o, "next_cursor", next[0] ? json_object_new_string(next) : NULL);
    api_json(c, 200, o);
}
