/* Presigned uploads, upload status, the local store's PUT endpoint, health. */
#include <config.h>

#include "api_int.h"
#include "uploads.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>


static const char *ext_for_type(const char *t)
{
    if (strcmp(t, "image/jpeg") == 0 || strcmp(t, "image/jpg") == 0)
        return "jpg";
    if (strcmp(t, "image/png") == 0)
        return "png";
    if (strcmp(t, "image/webp") == 0)
        return "webp";
    return NULL;
}

void route_health(struct call *c)
{
    static const char sql[] = "SELECT 1";
    char err[ADS_ERRSZ];
    PGresult *r;
    json_object *o = json_object_new_object();
    int rc = db_exec(c->ctx->db, "health", sql, 0, NULL, &r, NULL, err);

    if (rc == DB_OK)
        PQclear(r);
    else
        log_warn("health: %s", err);
    json_object_object_add(o, "status", json_object_new_string(rc == DB_OK ? "ok" : "degraded"));
    json_object_object_add(o, "database", json_object_new_string(rc == DB_OK ? "ok" : "unavailable"));
    json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
    if (rc != DB_OK)
        json_object_object_add(o, "code", json_object_new_string("unavailable"));
    api_json(c, rc == DB_OK ? 200 : 503, o);
}

static const char *const upload_types[] = { "image/jpeg", "image/jpg", "image/png", "image/webp", NULL };

/* The body of POST /api/upload/presigned-url. */
static const struct av_field presign_fields[] = {
    { .name = "file_name", .alt = "fileName", .type = AV_STRING, .required = 1, .min = 1, .max = 255 },
    { .name = "file_type", .alt = "fileType", .type = AV_STRING, .required = 1, .max = 16, .allowed = upload_types,
      .bad_msg = "file_type must be image/jpeg, image/jpg, image/png or image/webp" },
    { .name = "file_size", .alt = "fileSize", .type = AV_INT, .min = 0, .max = STORE_MAX_UPLOAD },
    AV_END,
};

static void slots_full(struct call *c, long retry_after)
{
    char secs[24];

    snprintf(secs, sizeof secs, "%ld", retry_after);
    api_error(c, 429, "rate_limited", NULL,
              "Too many unused upload URLs (at most %ld): upload to them or wait until they expire",
              c->ctx->cfg->max_pending_uploads);
    api_header(c, "Retry-After", secs);
}

void route_presign(struct call *c)
{
    const struct config *cfg = c->ctx->cfg;
    const char *type, *ext;
    char id[37], ts[16], user[65], key[256], err[ADS_ERRSZ];
    struct upload_slot slot;
    json_object *o, *hdr, *v;
    long retry_after = 0;
    char *url;
    int rc;

    if (api_body_valid(c, presign_fields) != 0)
        return;
    type = api_in_str(c, "file_type");
    ext = ext_for_type(type);
    if (ads_uuid4(id) != 0) {
        api_error(c, 500, "internal_error", NULL, "Internal error");
        return;
    }
    ads_fmt_compact(time(NULL), ts);
    if (ads_reduce_chars(c->user, user, sizeof user, "_-") == 0)
        snprintf(user, sizeof user, "user");
    snprintf(key, sizeof key, "uploads/%s/%s_%s.%s", user, ts, id, ext);
    url = store_presign_put(c->ctx->store, cfg->uploads_bucket, key, type, cfg->upload_expires, time(NULL), err);
    if (url == NULL) {
        log_error("presign: %s", err);
        api_error(c, 500, "internal_error", NULL, "Could not create the upload URL");
        return;
    }
    memset(&slot, 0, sizeof slot);
    slot.id = id;
    slot.user = c->user;
    slot.bucket = cfg->uploads_bucket;
    slot.key = key;
    slot.file_name = api_in_str(c, "file_name");
    slot.content_type = type;
    slot.declared_size = json_object_object_get_ex(c->in, "file_size", &v) ? (long long)json_object_get_int64(v) : -1;
    slot.expires_in = cfg->upload_expires;
    rc = uploads_insert(c->ctx->db, &slot, cfg->max_pending_uploads, &retry_after, err);
    if (rc != DB_OK) {
        free(url);
        if (rc == UPLOADS_FULL)
            slots_full(c, retry_after);
        else
            api_db_error(c, rc, "upload insert", err);
        return;
    }
    o = json_object_new_object();
    api_add2(o, "upload_id", "uploadId", json_object_new_string(id));
    api_add2(o, "upload_url", "uploadUrl", json_object_new_string(url));
    json_object_object_add(o, "method", json_object_new_string("PUT"));
    json_object_object_add(o, "s3_bucket", json_object_new_string(cfg->uploads_bucket));
    api_add2(o, "s3_key", "imageKey", json_object_new_string(key));
    api_add2(o, "expires_in", "expiresIn", json_object_new_int64(cfg->upload_expires));
    hdr = json_object_new_object();
    json_object_object_add(hdr, "Content-Type", json_object_new_string(type));
    api_add2(o, "required_headers", "requiredHeaders", hdr);
    free(url);
    api_json(c, 200, o);
}

static void status_not_found(struct call *c, const char *id)
{
    json_object *o = json_object_new_object();

    api_add2(o, "upload_id", "uploadId", json_object_new_string(id));
    json_object_object_add(o, "status", json_object_new_string("not_found"));
    api_json(c, 200, o);
}

void route_upload_status(struct call *c)
{
    const char *id = c->param;
    char err[ADS_ERRSZ], lm[21], bucket[64], key[1100];
    struct store_info info;
    json_object *o;
    int rc;

    if (!ads_is_uuid(id)) {
        status_not_found(c, ads_all_chars(id, 1, 64, "-_") ? id : "");
        return;
    }
    rc = uploads_by_id(c->ctx->db, id, c->scoped ? c->user : "", bucket, sizeof bucket, key, sizeof key, err);
    if (rc == UPLOADS_NOT_FOUND) {
        status_not_found(c, id);
        return;
    }
    if (rc != DB_OK) {
        api_db_error(c, rc, "upload status", err);
        return;
    }
    rc = store_head(c->ctx->store, bucket, key, &info, err);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        log_error("upload status head: %s", err);
        api_error(c, 502, "storage_error", NULL, "%s", store_error_text(rc));
        return;
    }
    if (rc == STORE_NOT_FOUND) {
        status_not_found(c, id);
        return;
    }
    /* The slot is used: it no longer counts as pending. A failure here only
     * leaves the sweep to find the object. */
    if (uploads_mark_uploaded(c->ctx->db, bucket, key, err) != DB_OK)
        log_warn("upload status: %s", err);
    o = json_object_new_object();
    api_add2(o, "upload_id", "uploadId", json_object_new_string(id));
    json_object_object_add(o, "status", json_object_new_string("completed"));
    api_add2(o, "s3_key", "imageKey", json_object_new_string(key));
    json_object_object_add(o, "s3_bucket", json_object_new_string(bucket));
    json_object_object_add(o, "size", json_object_new_int64(info.size));
    json_object_object_add(o, "content_type", json_object_new_string(info.content_type));
    ads_fmt_iso8601(info.last_modified, lm);
    json_object_object_add(o, "last_modified", json_object_new_string(lm));
    api_json(c, 200, o);
}

static const char *header_of(const struct api_request *req, const char *name)
{
    size_t i;

    for (i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* PUT /objects/{bucket}/{key}?X-Amz-...: the local store's upload endpoint,
 * the same request a client would send to S3 with a presigned URL. */
void route_object_put(struct call *c)
{
    const struct api_request *req = c->req;
    const struct config *cfg = c->ctx->cfg;
    char bucket[64], key[1100], err[ADS_ERRSZ];
    const char *type = header_of(req, "content-type");
    const char *ext, *dot;
    json_object *o;
    int rc;

    if (store_verify_put(c->ctx->store, req->path, req->query, req->headers, req->nheaders,
                         time(NULL), bucket, sizeof bucket, key, sizeof key, err) != 0) {
        api_error(c, 403, "access_denied", NULL, "Upload refused: %s", err);
        return;
    }
    if (strcmp(bucket, cfg->uploads_bucket) != 0 || strncmp(key, "uploads/", 8) != 0) {
        api_error(c, 403, "access_denied", NULL, "Uploads go to the uploads bucket only");
        return;
    }
    ext = type ? ext_for_type(type) : NULL;
    dot = strrchr(key, '.');
    if (ext == NULL || dot == NULL || strcmp(dot + 1, ext) != 0) {
        api_error(c, 403, "access_denied", NULL, "Content-Type does not match the signed upload");
        return;
    }
    if (req->body_len > STORE_MAX_UPLOAD || req->content_length > STORE_MAX_UPLOAD) {
        api_error(c, 413, "payload_too_large", NULL, "Uploads are limited to 10 MiB");
        return;
    }
    if (req->content_length < 0 || (size_t)req->content_length != req->body_len) {
        api_error(c, 400, "invalid_request", NULL, "Content-Length is required and must match the body");
        return;
    }
    rc = store_put(c->ctx->store, bucket, key, req->body, req->body_len, type, err);
    if (rc == STORE_FULL) {
        log_error("object put: %s", err);
        api_header(c, "Retry-After", "60");
        api_error(c, 507, "insufficient_storage", NULL, "The object store is out of space; try again later");
        return;
    }
    if (rc != STORE_OK) {
        log_error("object put: %s", err);
        api_error(c, 500, "storage_error", NULL, "Could not store the object");
        return;
    }
    if (uploads_mark_uploaded(c->ctx->db, bucket, key, err) != DB_OK)
        log_warn("object put: %s (the sweep will find the object)", err);
    {
        char etag[70], md[65];
        ads_sha256_hex(req->body, req->body_len, md);
        snprintf(etag, sizeof etag, "\"%.32s\"", md);
        api_header(c, "ETag", etag);
    }
    o = json_object_new_object();
    json_object_object_add(o, "bucket", json_object_new_string(bucket));
    json_object_object_add(o, "key", json_object_new_string(key));
    json_object_object_add(o, "size", json_object_new_int64((int64_t)req->body_len));
    api_json(c, 200, o);
}
