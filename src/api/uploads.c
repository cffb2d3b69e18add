#include "uploads.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int uploads_insert(struct db *db, const struct upload_slot *s, long max_pending, long *retry_after, char *err)
{
    /* One statement: count the pending slots and insert only below the cap. */
    static const char sql[] =
        "WITH pending AS (SELECT count(*) AS n, min(expires_at) AS first FROM uploads"
        "  WHERE user_id = $2 AND uploaded_at IS NULL AND expires_at > now()),"
        " ins AS (INSERT INTO uploads (upload_id, user_id, bucket, s3_key, file_name, content_type,"
        "  declared_size, expires_at)"
        "  SELECT $1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8::int)"
        "  FROM pending WHERE n < $9::bigint RETURNING 1)"
        " SELECT (SELECT count(*) FROM ins),"
        "  ceil(GREATEST(1, EXTRACT(EPOCH FROM (SELECT first FROM pending) - now())))::bigint";
    char size[24], expires[24], cap[24];
    const char *vals[9];
    PGresult *r;
    int rc;

    snprintf(size, sizeof size, "%lld", s->declared_size);
    snprintf(expires, sizeof expires, "%ld", s->expires_in);
    snprintf(cap, sizeof cap, "%ld", max_pending);
    vals[0] = s->id;
    vals[1] = s->user;
    vals[2] = s->bucket;
    vals[3] = s->key;
    vals[4] = s->file_name;
    vals[5] = s->content_type;
    vals[6] = s->declared_size >= 0 ? size : NULL;
    vals[7] = expires;
    vals[8] = cap;
    rc = db_exec(db, "uploads_insert", sql, 9, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    if (strcmp(PQgetvalue(r, 0, 0), "1") != 0) {
        *retry_after = PQgetisnull(r, 0, 1) ? 1 : atol(PQgetvalue(r, 0, 1));
        rc = UPLOADS_FULL;
    }
    PQclear(r);
    return rc;
}

/* Copies the (bucket, key) row of r, or says it is missing. */
static int one_slot(PGresult *r, char *bucket, size_t bucketsz, char *key, size_t keysz)
{
    if (PQntuples(r) != 1) {
        PQclear(r);
        return UPLOADS_NOT_FOUND;
    }
    snprintf(bucket, bucketsz, "%s", PQgetvalue(r, 0, 0));
    snprintf(key, keysz, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    return DB_OK;
}

int uploads_by_id(struct db *db, const char *id, const char *owner,
                  char *bucket, size_t bucketsz, char *key, size_t keysz, char *err)
{
    static const char sql[] =
        "SELECT bucket, s3_key FROM uploads WHERE upload_id = $1::uuid AND ($2 = '' OR user_id = $2)";
    const char *vals[2] = { id, owner };
    PGresult *r;
    int rc = db_exec(db, "uploads_by_id", sql, 2, vals, &r, NULL, err);

    return rc != DB_OK ? rc : one_slot(r, bucket, bucketsz, key, keysz);
}

int uploads_by_key(struct db *db, const char *bucket, const char *key, const char *owner,
                   char *bucket_out, size_t bucketsz, char *key_out, size_t keysz, char *err)
{
    static const char sql[] =
        "SELECT bucket, s3_key FROM uploads WHERE bucket = $1 AND s3_key = $2 AND ($3 = '' OR user_id = $3)";
    const char *vals[3] = { bucket, key, owner };
    PGresult *r;
    int rc = db_exec(db, "uploads_by_key", sql, 3, vals, &r, NULL, err);

    return rc != DB_OK ? rc : one_slot(r, bucket_out, bucketsz, key_out, keysz);
}

int uploads_mark_uploaded(struct db *db, const char *bucket, const char *key, char *err)
{
    static const char sql[] =
        "UPDATE uploads SET uploaded_at = now() WHERE bucket = $1 AND s3_key = $2 AND uploaded_at IS NULL";
    const char *vals[2] = { bucket, key };
    PGresult *r;
    int rc = db_exec(db, "uploads_mark", sql, 2, vals, &r, NULL, err);

    if (rc == DB_OK)
        PQclear(r);
    return rc;
}

int uploads_sweep(struct db *db, struct store *store, int *deleted, char *err)
{
    static const char sel[] =
        "SELECT bucket, s3_key FROM uploads WHERE uploaded_at IS NULL AND expires_at < now()"
        " ORDER BY expires_at LIMIT 100";
    static const char del[] =
        "DELETE FROM uploads WHERE bucket = $1 AND s3_key = $2 AND uploaded_at IS NULL AND expires_at < now()";
    PGresult *r;
    int rc, i;

    *deleted = 0;
    rc = db_exec(db, "uploads_unused", sel, 0, NULL, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    for (i = 0; i < PQntuples(r) && rc == DB_OK; i++) {
        const char *vals[2] = { PQgetvalue(r, i, 0), PQgetvalue(r, i, 1) };
        struct store_info info;
        char serr[ADS_ERRSZ];
        int st = store_head(store, vals[0], vals[1], &info, serr);
        if (st == STORE_OK) {
            rc = uploads_mark_uploaded(db, vals[0], vals[1], err);
            continue;
        }
        if (st != STORE_NOT_FOUND)
            break;       /* the store is failing: keep the slots, and the sweep short */
        long n = 0;
        rc = db_command(db, "uploads_delete", del, 2, vals, &n, err);
        *deleted += (int)n;
    }
    PQclear(r);
    return rc;
}

/* Unused: no product or campaign job names the object, and the slot's URL
 * has expired (nobody can still upload to it). */
#define UPLOAD_UNUSED \
    "created_at < " LC_RETENTION " AND expires_at < now()" \
    " AND NOT EXISTS (SELECT 1 FROM products p WHERE p.s3_bucket = uploads.bucket AND p.s3_key = uploads.s3_key)" \
    " AND NOT EXISTS (SELECT 1 FROM campaign_jobs j WHERE j.s3_bucket = uploads.bucket AND j.s3_key = uploads.s3_key)"

int uploads_prune(struct db *db, long secs, int dry, struct lc_count *out, char *err)
{
    static const char preview[] = LC_PRUNE_PREVIEW("uploads", UPLOAD_UNUSED, "s3_key");
    static const char batch[] = LC_PRUNE_BATCH("uploads", "upload_id", UPLOAD_UNUSED " ORDER BY created_at");

    return lc_prune(db, "uploads_prune", "uploads_prune_dry", preview, batch, secs, dry, out, err);
}

int uploads_export(struct db *db, const char *user, json_object **out, char *err)
{
    static const char sql[] =
        "SELECT coalesce(json_agg(json_build_object('upload_id', upload_id, 'bucket', bucket, 's3_key', s3_key,"
        "  'file_name', file_name, 'content_type', content_type, 'declared_size', declared_size,"
        "  'created_at', created_at, 'expires_at', expires_at, 'uploaded_at', uploaded_at) ORDER BY created_at),"
        " '[]')::text FROM uploads WHERE user_id = $1";
    const char *vals[1] = { user };

    return lc_json(db, "uploads_export", sql, 1, vals, out, err);
}

int uploads_delete_user(struct db *db, const char *user, struct lc_count *out, char *err)
{
    static const char sql[] = LC_USER_BATCH("uploads", "upload_id", "true");

    return lc_user_delete(db, "uploads_delete_user", sql, user, out, err);
}
