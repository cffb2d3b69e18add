/* Batches for prune and user delete, and the object deletion queue (see lifecycle.h). */
#include "lifecycle.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sample_from_json(struct lc_count *out, const char *text)
{
    json_object *a = json_tokener_parse(text);
    size_t i;

    out->nsample = 0;
    if (a == NULL || !json_object_is_type(a, json_type_array)) {
        json_object_put(a);
        return;
    }
    for (i = 0; i < json_object_array_length(a) && out->nsample < LC_SAMPLE; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(a, i));
        snprintf(out->sample[out->nsample++], sizeof out->sample[0], "%s", s ? s : "");
    }
    json_object_put(a);
}

/* Runs a one-row statement and reads (count, second column) from it. */
static int one_row(struct db *db, const char *name, const char *sql, int nvals, const char *const *vals,
                   long *first, PGresult **keep, char *err)
{
    PGresult *r;
    int rc = db_exec(db, name, sql, nvals, vals, &r, NULL, err);

    if (rc != DB_OK)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        ads_errf(err, "%s: no answer row", name);
        return DB_ERROR;
    }
    *first = atol(PQgetvalue(r, 0, 0));
    *keep = r;
    return DB_OK;
}

int lc_prune(struct db *db, const char *name, const char *dry_name, const char *preview_sql, const char *batch_sql,
             long secs, int dry, struct lc_count *out, char *err)
{
    char secs_txt[24], batch[16];
    const char *vals[2] = { secs_txt, batch };
    PGresult *r;
    long n;
    int rc;

    memset(out, 0, sizeof *out);
    snprintf(secs_txt, sizeof secs_txt, "%ld", secs);
    snprintf(batch, sizeof batch, "%d", LC_BATCH);
    if (dry) {
        rc = one_row(db, dry_name, preview_sql, 1, vals, &out->rows, &r, err);
        if (rc != DB_OK)
            return rc;
        sample_from_json(out, PQgetvalue(r, 0, 1));
        PQclear(r);
        return DB_OK;
    }
    do {
        rc = one_row(db, name, batch_sql, 2, vals, &n, &r, err);
        if (rc != DB_OK)
            return rc;
        PQclear(r);
        out->rows += n;
    } while (n >= LC_BATCH);
    return DB_OK;
}

int lc_user_delete(struct db *db, const char *name, const char *sql, const char *user, struct lc_count *out,
                   char *err)
{
    char batch[16];
    const char *vals[2] = { user, batch };
    PGresult *r;
    long n;
    int rc;

    memset(out, 0, sizeof *out);
    snprintf(batch, sizeof batch, "%d", LC_BATCH);
    do {
        rc = one_row(db, name, sql, 2, vals, &n, &r, err);
        if (rc != DB_OK)
            return rc;
        out->left = atol(PQgetvalue(r, 0, 1));
        PQclear(r);
        out->rows += n;
    } while (n >= LC_BATCH);
    return DB_OK;
}

int lc_json(struct db *db, const char *name, const char *sql, int nvals, const char *const *vals,
            json_object **out, char *err)
{
    PGresult *r;
    int rc;

    *out = NULL;
    rc = db_exec(db, name, sql, nvals, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        *out = json_tokener_parse(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (*out == NULL) {
        ads_errf(err, "%s: the answer is not JSON", name);
        return DB_ERROR;
    }
    return DB_OK;
}

int lc_objects_pending(struct db *db, struct lc_count *out, char *err)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM object_deletions),"
        " coalesce((SELECT json_agg(s3_key) FROM (SELECT s3_key FROM object_deletions ORDER BY id LIMIT 5) s),"
        "          '[]')";
    PGresult *r;
    int rc;

    memset(out, 0, sizeof *out);
    rc = one_row(db, "lc_objects_pending", sql, 0, NULL, &out->rows, &r, err);
    if (rc != DB_OK)
        return rc;
    sample_from_json(out, PQgetvalue(r, 0, 1));
    PQclear(r);
    return DB_OK;
}

/* Deletes one batch of queued objects; *got gets how many rows were read. */
static int drain_batch(struct db *db, struct store *store, const char *assets_bucket, struct lc_count *out,
                       long *got, char *err)
{
    static const char sel[] =
        "SELECT id, coalesce(bucket, $1), s3_key FROM object_deletions ORDER BY id LIMIT $2::int";
    static const char del[] =
        "DELETE FROM object_deletions WHERE id = ANY (ARRAY(SELECT json_array_elements_text($1::json))::bigint[])";
    char batch[16], serr[ADS_ERRSZ];
    const char *vals[2] = { assets_bucket, batch };
    json_object *done = json_object_new_array();
    PGresult *r;
    int rc, i, failed = 0;

    snprintf(batch, sizeof batch, "%d", LC_BATCH);
    rc = db_exec(db, "lc_objects_batch", sel, 2, vals, &r, NULL, err);
    if (rc != DB_OK) {
        json_object_put(done);
        return rc;
    }
    *got = PQntuples(r);
    for (i = 0; i < PQntuples(r) && !failed; i++) {
        const char *bucket = PQgetvalue(r, i, 1), *key = PQgetvalue(r, i, 2);
        int st;
        if (!store_valid_bucket(bucket) || !store_key_ok(store, key)) {
            /* Never a key of this store: nothing to delete, nothing to keep. */
            out->left++;
        } else if ((st = store_delete(store, bucket, key, serr)) == STORE_OK || st == STORE_NOT_FOUND) {
            out->rows++;
        } else {
            ads_errf(err, "deleting an object: %s", serr);
            failed = 1;
            break;
        }
        json_object_array_add(done, json_object_new_int64(atoll(PQgetvalue(r, i, 0))));
    }
    PQclear(r);
    if (json_object_array_length(done) > 0) {
        const char *v[1] = { json_object_to_json_string_ext(done, JSON_C_TO_STRING_PLAIN) };
        char derr[ADS_ERRSZ];
        rc = db_command(db, "lc_objects_done", del, 1, v, NULL, failed ? derr : err);
    }
    json_object_put(done);
    if (failed)
        return DB_ERROR;
    return rc;
}

int lc_objects_drain(struct db *db, struct store *store, const char *assets_bucket, struct lc_count *out,
                     char *err)
{
    long got;
    int rc;

    memset(out, 0, sizeof *out);
    do {
        rc = drain_batch(db, store, assets_bucket, out, &got, err);
        if (rc != DB_OK)
            return rc;
    } while (got >= LC_BATCH);
    return DB_OK;
}
