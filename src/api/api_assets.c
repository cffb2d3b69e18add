/* Image jobs: queue one (idempotent by request_id) and read its state. */
#include "api_int.h"
#include "buf.h"
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

/* The body a request_id stands for: a repeat must carry the same one. */
static void body_hash(const char *prompt, const char *style, const char *ratio, char out[65])
{
    struct buf b;

    buf_init(&b);
    buf_adds(&b, prompt);
    buf_addc(&b, '\x1f');
    buf_adds(&b, style);
    buf_addc(&b, '\x1f');
    buf_adds(&b, ratio);
    ads_sha256_hex(b.data ? b.data : "", b.len, out);
    buf_free(&b);
}

void route_assets_post(struct call *c)
{
    static const char ins[] =
        "INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO NOTHING RETURNING request_id";
    static const char sel[] =
        "SELECT user_id, body_hash FROM generated_images WHERE request_id = $1";
    const char *prompt, *style, *ratio, *rid;
    char idbuf[65], hash[65], err[ADS_ERRSZ];
    const char *vals[6];
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
    body_hash(prompt, style, ratio, hash);
    vals[0] = rid;
    vals[1] = c->user;
    vals[2] = prompt;
    vals[3] = style;
    vals[4] = ratio;
    vals[5] = hash;
    rc = db_exec(c->ctx->db, "asset_insert", ins, 6, vals, &r, NULL, err);
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

static void add_col(json_object *o, PGresult *r, int col, const char *name)
{
    if (!PQgetisnull(r, 0, col))
        json_object_object_add(o, name, json_object_new_string(PQgetvalue(r, 0, col)));
}

void route_assets_get(struct call *c)
{
    static const char sql[] =
        "SELECT request_id, status, user_id, prompt, style, aspect_ratio,"
        " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), attempts,"
        " s3_key, s3_url, to_char(generated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), error"
        " FROM generated_images WHERE request_id = $1 AND ($2 = '' OR user_id = $2)";
    const char *id = c->param;
    char err[ADS_ERRSZ];
    const char *vals[2];
    PGresult *r;
    json_object *o;
    int rc;

    if (!ads_all_chars(id, 1, 64, "_-")) {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "request_id", json_object_new_string(""));
        api_error(c, 404, "not_found", extra, "Request not found");
        return;
    }
    vals[0] = id;
    vals[1] = c->scoped ? c->user : "";
    rc = db_exec(c->ctx->db, "asset_get", sql, 2, vals, &r, NULL, err);
    if (rc != DB_OK) {
        api_db_error(c, rc, "asset get", err);
        return;
    }
    if (PQntuples(r) != 1) {
        json_object *extra = json_object_new_object();
        PQclear(r);
        json_object_object_add(extra, "request_id", json_object_new_string(id));
        api_error(c, 404, "not_found", extra, "Request not found");
        return;
    }
    o = json_object_new_object();
    add_col(o, r, 0, "request_id");
    add_col(o, r, 1, "status");
    add_col(o, r, 2, "user_id");
    add_col(o, r, 3, "prompt");
    add_col(o, r, 4, "style");
    add_col(o, r, 5, "aspect_ratio");
    add_col(o, r, 6, "created_at");
    json_object_object_add(o, "attempts", json_object_new_int(atoi(PQgetvalue(r, 0, 7))));
    if (strcmp(PQgetvalue(r, 0, 1), "completed") == 0) {
        add_col(o, r, 8, "s3_key");
        add_col(o, r, 9, "s3_url");
        add_col(o, r, 10, "generated_at");
    } else if (strcmp(PQgetvalue(r, 0, 1), "failed") == 0) {
        add_col(o, r, 11, "error");
    }
    PQclear(r);
    api_json(c, 200, o);
}
