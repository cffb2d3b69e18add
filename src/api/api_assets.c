/* Image jobs: queue one (idempotent by request_id) or a set of product
 * creatives (one job per size), and read their state. */
#include "api_int.h"
#include "buf.h"
#include "creative.h"
#include "jobq.h"
#include "log.h"
#include "products.h"
#include "store.h"
#include "uploads.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const styles[] = { "natural", "vivid", "anime", "photographic", NULL };
static const char *const ratios[] = { "1:1", "16:9", "9:16", "4:3", "3:4", NULL };

static int valid_request_id(const char *v)
{
    return ads_all_chars(v, 1, 64, "_-");
}

static const char *const tasks[] = { "text_image", "background_replace", "background_remove", "variation",
                                     "color_guided", NULL };
static const char *const positions[] = { "top", "bottom", "center", NULL };

/* The named platform sizes and the contract's ratios, at most once each. */
#define MAX_SIZES 12

/* source: the caller's own upload, by id or by key. */
static const struct av_field source_fields[] = {
    { .name = "upload_id", .alt = "uploadId", .type = AV_STRING, .max = 36, .check = ads_is_uuid,
      .bad_msg = "source.upload_id must be an upload id (UUID)" },
    { .name = "s3_key", .alt = "s3Key", .type = AV_STRING, .min = 1, .max = 1024, .check = store_valid_key,
      .bad_msg = "source.s3_key is not a valid object key" },
    AV_END,
};

/* A BCP 47 language tag as the markets use them ("ja", "pt-BR", "zh-Hant-TW"):
 * a 2-3 letter language, then subtags of 2-8 letters or digits. */
static int is_lang_tag(const char *s)
{
    size_t n = 0;

    while (s[n] >= 'a' && s[n] <= 'z')
        n++;
    if (n < 2 || n > 3)
        return 0;
    s += n;
    while (*s == '-') {
        s++;
        for (n = 0; (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9'); n++)
            ;
        if (n < 2 || n > 8)
            return 0;
        s += n;
    }
    return *s == '\0';
}

/* overlay: the text adsmith sets on the image (models render text badly),
 * shaped for its language (which font a Han character takes, say). */
static const struct av_field overlay_fields[] = {
    { .name = "headline", .type = AV_STRING, .min = 1, .max = 80 },
    { .name = "cta", .type = AV_STRING, .min = 1, .max = 30 },
    { .name = "position", .type = AV_STRING, .max = 8, .allowed = positions, .def = "bottom" },
    { .name = "language", .type = AV_STRING, .min = 2, .max = 35, .check = is_lang_tag,
      .bad_msg = "overlay.language must be a BCP 47 language tag such as ja or pt-BR" },
    AV_END,
};

/* The body of POST /api/assets. */
static const struct av_field asset_fields[] = {
    { .name = "prompt", .type = AV_STRING, .required = 1, .min = 10, .max = 1000, .missing_msg = "Prompt is required" },
    { .name = "style", .type = AV_STRING, .max = 16, .allowed = styles, .def = "natural" },
    { .name = "aspect_ratio", .alt = "aspectRatio", .type = AV_STRING, .max = 8, .allowed = ratios, .def = "1:1" },
    { .name = "request_id", .alt = "requestId", .type = AV_STRING, .min = 1, .max = 64, .check = valid_request_id,
      .bad_msg = "request_id must be 1-64 of [A-Za-z0-9_-]" },
    /* Creatives: none of these present is a plain image job, as before. */
    { .name = "task", .type = AV_STRING, .max = 24, .allowed = tasks },
    { .name = "source", .type = AV_OBJECT, .fields = source_fields },
    { .name = "colors", .type = AV_STR_ARRAY, .max = JOBQ_MAX_COLORS, .item_min = 7, .item_max = 7 },
    { .name = "overlay", .type = AV_OBJECT, .fields = overlay_fields },
    { .name = "sizes", .type = AV_STR_ARRAY, .min = 1, .max = MAX_SIZES, .item_min = 1, .item_max = 32 },
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
                      const char *creative, char out[65])
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
    /* The creatives fields only when the request has some: a plain
     * request hashes exactly as it always has. */
    if (creative != NULL) {
        buf_addc(&b, '\x1e');
        buf_adds(&b, creative);
    }
    ads_sha256_hex(b.data ? b.data : "", b.len, out);
    buf_free(&b);
}

static const char *const creative_names[] = { "task", "source", "colors", "overlay", "sizes", NULL };

/* 1 when the request uses any creatives field. */
static int has_creative_fields(struct call *c)
{
    const char *const *n;

    for (n = creative_names; *n != NULL; n++)
        if (json_object_object_get_ex(c->in, *n, NULL))
            return 1;
    return 0;
}

/* A creatives request as checked, before it is queued. */
struct creative_req {
    const char *task;
    json_object *source;          /* borrowed from c->in, or NULL */
    char bucket[64], key[1100];   /* the source upload, once found */
    char *colors_json;            /* owned: the palette or NULL */
    char *overlay_json;           /* owned */
    struct buf extra;             /* the creatives part of the body hash */
    struct jobq_row rows[MAX_SIZES];
    char ids[MAX_SIZES][100];
    const char *names[MAX_SIZES];
    int nrows;
};

/* The contract's ratio nearest a size: the model's native generation size. */
static const char *nearest_ratio(int w, int h)
{
    static const char *const ratios_by[] = { "1:1", "16:9", "9:16", "4:3", "3:4" };
    static const double value[] = { 1.0, 16.0 / 9, 9.0 / 16, 4.0 / 3, 3.0 / 4 };
    double want = log((double)w / h), best = 1e9;
    const char *pick = "1:1";
    size_t i;

    for (i = 0; i < sizeof value / sizeof value[0]; i++)
        if (fabs(log(value[i]) - want) < best) {
            best = fabs(log(value[i]) - want);
            pick = ratios_by[i];
        }
    return pick;
}

static int bad_request(struct call *c, const char *msg)
{
    api_error(c, 400, "invalid_request", NULL, "%s", msg);
    return -1;
}

/* Adds name=value to the hash's creatives part. */
static void extra_add(struct creative_req *q, const char *name, const char *value)
{
    buf_adds(&q->extra, name);
    buf_addc(&q->extra, '=');
    buf_adds(&q->extra, value);
    buf_addc(&q->extra, '\x1f');
}

static const char *plain_json(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* colors: each "#RRGGBB", kept upper-case. */
static int check_colors(struct call *c, struct creative_req *q)
{
    json_object *a, *norm;
    size_t i;

    if (!json_object_object_get_ex(c->in, "colors", &a))
        return 0;
    norm = json_object_new_array();
    for (i = 0; i < json_object_array_length(a); i++) {
        const char *v = json_object_get_string(json_object_array_get_idx(a, i));
        char hex[8];
        int k;
        if (v[0] != '#' || strspn(v + 1, "0123456789abcdefABCDEF") != 6 || v[7] != '\0') {
            json_object_put(norm);
            return bad_request(c, "colors items must be colours as #RRGGBB");
        }
        for (k = 0; k < 7; k++)
            hex[k] = (char)(v[k] >= 'a' && v[k] <= 'f' ? v[k] - 32 : v[k]);
        hex[7] = '\0';
        json_object_array_add(norm, json_object_new_string(hex));
    }
    q->colors_json = strdup(plain_json(norm));
    json_object_put(norm);
    extra_add(q, "colors", q->colors_json ? q->colors_json : "");
    return 0;
}

static int check_overlay(struct call *c, struct creative_req *q)
{
    json_object *o;

    if (!json_object_object_get_ex(c->in, "overlay", &o))
        return 0;
    if (!json_object_object_get_ex(o, "headline", NULL) && !json_object_object_get_ex(o, "cta", NULL))
        return bad_request(c, "overlay needs a headline or a cta");
    q->overlay_json = strdup(plain_json(o));
    extra_add(q, "overlay", q->overlay_json ? q->overlay_json : "");
    return 0;
}

/* sizes (or, without them, the aspect ratio): one row each. */
static int check_sizes(struct call *c, struct creative_req *q, const char *rid, const char *ratio)
{
    json_object *a = NULL;
    size_t i, n = 1;
    struct buf seen;
    int j;

    if (json_object_object_get_ex(c->in, "sizes", &a))
        n = json_object_array_length(a);
    buf_init(&seen);
    for (i = 0; i < n; i++) {
        const char *name = a ? json_object_get_string(json_object_array_get_idx(a, i)) : ratio;
        struct jobq_row *row = &q->rows[q->nrows];
        char token[33];
        if (creative_size(name, &row->width, &row->height) != 0) {
            api_error(c, 400, "invalid_request", NULL,
                      "sizes items must be instagram_square, instagram_portrait, story, facebook_link,"
                      " youtube_thumbnail, pinterest, linkedin or an aspect ratio (1:1, 16:9, 9:16, 4:3, 3:4)");
            buf_free(&seen);
            return -1;
        }
        for (j = 0; j < q->nrows; j++)
            if (strcmp(q->names[j], name) == 0) {
                buf_free(&seen);
                return bad_request(c, "sizes must not name a size twice");
            }
        q->names[q->nrows] = name;
        /* "16:9" names the row "16x9": ids are [A-Za-z0-9_-.]. */
        snprintf(token, sizeof token, "%s", name);
        for (j = 0; token[j] != '\0'; j++)
            if (token[j] == ':')
                token[j] = 'x';
        if (a != NULL)
            snprintf(q->ids[q->nrows], sizeof q->ids[0], "%s.%s", rid, token);
        else
            snprintf(q->ids[q->nrows], sizeof q->ids[0], "%s", rid);
        row->request_id = q->ids[q->nrows];
        row->size_name = name;
        row->aspect_ratio = a ? nearest_ratio(row->width, row->height) : ratio;
        buf_adds(&seen, i ? "," : "");
        buf_adds(&seen, name);
        q->nrows++;
    }
    if (a != NULL)
        extra_add(q, "sizes", seen.data ? seen.data : "");
    buf_free(&seen);
    return 0;
}

/* task and source: checked for form here, found among the uploads later. */
static int check_task(struct call *c, struct creative_req *q)
{
    int by_id, by_key;

    q->task = api_in_str(c, "task");
    if (q->task != NULL)
        extra_add(q, "task", q->task);
    else
        q->task = "text_image";
    if (!json_object_object_get_ex(c->in, "source", &q->source)) {
        q->source = NULL;
        if (strcmp(q->task, "text_image") != 0) {
            api_error(c, 400, "invalid_request", NULL, "source is required for task %s", q->task);
            return -1;
        }
        return 0;
    }
    by_id = json_object_object_get_ex(q->source, "upload_id", NULL);
    by_key = json_object_object_get_ex(q->source, "s3_key", NULL);
    if (by_id == by_key)
        return bad_request(c, "source needs one of upload_id or s3_key");
    extra_add(q, "source", plain_json(q->source));
    return 0;
}

/* The source among the caller's uploads, and its object in the store.
 * Someone else's upload answers as one that does not exist. */
static int find_source(struct call *c, struct creative_req *q)
{
    const char *owner = c->scoped ? c->user : "";
    json_object *v;
    struct store_info info;
    char err[ADS_ERRSZ];
    int rc;

    if (json_object_object_get_ex(q->source, "upload_id", &v))
        rc = uploads_by_id(c->ctx->db, json_object_get_string(v), owner, q->bucket, sizeof q->bucket, q->key,
                           sizeof q->key, err);
    else if (json_object_object_get_ex(q->source, "s3_key", &v))
        rc = uploads_by_key(c->ctx->db, c->ctx->cfg->uploads_bucket, json_object_get_string(v), owner,
                            q->bucket, sizeof q->bucket, q->key, sizeof q->key, err);
    else
        return bad_request(c, "source needs one of upload_id or s3_key");
    if (rc == DB_OK) {
        rc = store_head(c->ctx->store, q->bucket, q->key, &info, err);
        if (rc == STORE_OK)
            return 0;
        if (rc != STORE_NOT_FOUND) {
            log_error("source head: %s", err);
            api_error(c, 502, "storage_error", NULL, "Object storage failed");
            return -1;
        }
        rc = UPLOADS_NOT_FOUND;
    }
    if (rc == UPLOADS_NOT_FOUND) {
        api_error(c, 404, "not_found", NULL, "Source image not found among your uploads");
        return -1;
    }
    api_db_error(c, rc, "source lookup", err);
    return -1;
}

static void creative_req_free(struct creative_req *q)
{
    free(q->colors_json);
    free(q->overlay_json);
    buf_free(&q->extra);
}

/* POST /api/assets with creatives fields: every check first, then the set
 * queued in one transaction (nothing written on any error). own_callback
 * is the request's own callback_url (part of the hash), callback the one
 * the jobs carry. */
static void creative_post(struct call *c, const char *rid, const char *own_callback, const char *callback)
{
    struct creative_req q;
    struct jobq_set set;
    char hash[65], err[ADS_ERRSZ];
    int rc, queued_now = 0;

    memset(&q, 0, sizeof q);
    buf_init(&q.extra);
    if (check_task(c, &q) != 0 || check_colors(c, &q) != 0 || check_overlay(c, &q) != 0 ||
        check_sizes(c, &q, rid, api_in_str(c, "aspect_ratio")) != 0)
        goto done;
    if (q.source != NULL && find_source(c, &q) != 0)
        goto done;
    /* No palette asked for: the photo's dominant colours, when its
     * analysis is stored (a campaign was made from it). */
    if (q.colors_json == NULL && q.source != NULL &&
        products_photo_colors(c->ctx->db, c->user, q.bucket, q.key, JOBQ_MAX_COLORS, &q.colors_json, err) != DB_OK)
        log_warn("source colours not read: %s", err);
    if (strcmp(q.task, "color_guided") == 0 && (q.colors_json == NULL || strcmp(q.colors_json, "[]") == 0)) {
        bad_request(c, "colors is required for task color_guided (no stored analysis of the source gives its colours)");
        goto done;
    }
    body_hash(api_in_str(c, "prompt"), api_in_str(c, "style"), api_in_str(c, "aspect_ratio"), own_callback,
              q.extra.data ? q.extra.data : "", hash);
    memset(&set, 0, sizeof set);
    set.set_id = rid;
    set.user = c->user;
    set.prompt = api_in_str(c, "prompt");
    set.style = api_in_str(c, "style");
    set.hash = hash;
    set.callback = callback;
    set.task = q.task;
    set.source_bucket = q.source ? q.bucket : NULL;
    set.source_key = q.source ? q.key : NULL;
    set.colors_json = q.colors_json;
    set.overlay_json = q.overlay_json;
    set.rows = q.rows;
    set.nrows = q.nrows;
    rc = jobq_queue_set(c->ctx->db, &set, &queued_now, err);
    if (rc == JOBQ_CONFLICT) {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "request_id", json_object_new_string(rid));
        api_error(c, 409, "conflict", extra, "request_id is already used by another request");
    } else if (rc != DB_OK) {
        api_db_error(c, rc, "creatives insert", err);
    } else {
        queued(c, rid);
    }
done:
    creative_req_free(&q);
}

void route_assets_post(struct call *c)
{
    static const char ins[] =
        "INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash,"
        " callback_url) SELECT $1, $2, $3, $4, $5, $6, $7"
        /* An id naming a set of creatives is taken too. */
        " WHERE NOT EXISTS (SELECT 1 FROM generated_images WHERE set_id = $1)"
        " ON CONFLICT (request_id) DO NOTHING RETURNING request_id";
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
    if (has_creative_fields(c)) {
        creative_post(c, rid, rc == 1 ? callback : NULL, callback);
        return;
    }
    body_hash(prompt, style, ratio, rc == 1 ? callback : NULL, NULL, hash);
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

    /* A set's own jobs are named REQUEST_ID.SIZE. */
    if (!ads_all_chars(id, 1, 97, "_-.")) {
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
