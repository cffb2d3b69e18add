#include "campaignq.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Timestamps as the API shows them everywhere. */
#define ISO_MS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

int campaignq_enqueue(struct db *db, const struct campaignq_new *job, char *err)
{
    static const char sql[] =
        "INSERT INTO campaign_jobs (product_id, user_id, correlation_id, name, brief, s3_bucket, s3_key,"
        " callback_url) VALUES ($1::uuid, $2, $3::uuid, $4, $5::jsonb, $6, $7, $8)";
    const char *vals[8] = { job->product_id, job->user_id, job->correlation_id, job->name, job->brief,
                            job->s3_bucket, job->s3_key, job->callback_url };
    PGresult *r;
    int rc = db_exec(db, "campaignq_enqueue", sql, 8, vals, &r, NULL, err);

    if (rc == DB_OK)
        PQclear(r);
    return rc;
}

int campaignq_claim(struct db *db, const char *worker, long lease_secs, long max_attempts,
                    int max, struct campaignq_job *jobs, int *n, char *err)
{
    static const char sql[] =
        "WITH due AS ("
        "  SELECT product_id, CASE WHEN status = 'running' THEN locked_until ELSE run_after END AS due_at"
        "  FROM campaign_jobs"
        "  WHERE ((status = 'pending' AND run_after <= now())"
        "         OR (status = 'running' AND locked_until < now()))"
        "    AND attempts < $4::int"
        "  ORDER BY run_after LIMIT $2 FOR UPDATE SKIP LOCKED),"
        " t AS (SELECT clock_timestamp() AS at)"
        " UPDATE campaign_jobs j SET status = 'running',"
        "   locked_until = now() + make_interval(secs => $3::int), locked_by = $1,"
        "   attempts = j.attempts + 1, claimed_at = t.at, started_at = coalesce(j.started_at, t.at)"
        " FROM due, t WHERE j.product_id = due.product_id"
        " RETURNING j.product_id, j.user_id, j.correlation_id, j.brief, j.s3_bucket, j.s3_key, j.attempts,"
        "   extract(epoch FROM t.at - due.due_at)::float8";
    char maxs[16], leases[24], attempts[24];
    const char *vals[4] = { worker, maxs, leases, attempts };
    PGresult *r;
    int rc, i;

    snprintf(maxs, sizeof maxs, "%d", max);
    snprintf(leases, sizeof leases, "%ld", lease_secs);
    snprintf(attempts, sizeof attempts, "%ld", max_attempts);
    *n = 0;
    rc = db_exec(db, "campaignq_claim", sql, 4, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    for (i = 0; i < PQntuples(r) && i < max; i++) {
        struct campaignq_job *j = &jobs[*n];
        memset(j, 0, sizeof *j);
        snprintf(j->product_id, sizeof j->product_id, "%s", PQgetvalue(r, i, 0));
        snprintf(j->user_id, sizeof j->user_id, "%s", PQgetvalue(r, i, 1));
        snprintf(j->correlation_id, sizeof j->correlation_id, "%s", PQgetvalue(r, i, 2));
        j->brief = strdup(PQgetvalue(r, i, 3));
        snprintf(j->s3_bucket, sizeof j->s3_bucket, "%s", PQgetvalue(r, i, 4));
        snprintf(j->s3_key, sizeof j->s3_key, "%s", PQgetvalue(r, i, 5));
        j->attempts = atoi(PQgetvalue(r, i, 6));
        j->pickup_s = atof(PQgetvalue(r, i, 7));
        if (j->brief == NULL)
            continue;            /* the lease expires and another claim takes it */
        (*n)++;
    }
    PQclear(r);
    return DB_OK;
}

int campaignq_complete(struct db *db, const char *worker, const struct campaignq_job *job,
                       const char *generation_method, const struct product_row *row, char *err)
{
    static const char sql[] =
        "UPDATE campaign_jobs SET status = 'completed', generation_method = $4,"
        " completed_at = clock_timestamp(), locked_until = NULL, error = NULL, error_code = NULL"
        " WHERE product_id = $1::uuid AND locked_by = $2 AND attempts = $3::int AND status = 'running'"
        " RETURNING 1";
    char attempts[16];
    const char *vals[4] = { job->product_id, worker, attempts, generation_method };
    PGresult *r;
    int rc, held;

    snprintf(attempts, sizeof attempts, "%d", job->attempts);
    rc = db_begin(db, err);
    if (rc != DB_OK)
        return rc;
    rc = db_exec(db, "campaignq_complete", sql, 4, vals, &r, NULL, err);
    if (rc != DB_OK) {
        db_rollback(db);
        return rc;
    }
    held = PQntuples(r) == 1;
    PQclear(r);
    if (!held) {
        db_rollback(db);
        return 1;
    }
    rc = products_insert(db, row, err);
    if (rc != DB_OK) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db, err);
}

int campaignq_fail(struct db *db, const char *worker, const struct campaignq_job *job,
                   const char *code, const char *error, int permanent, long max_attempts,
                   long retry_ms, int *dead, char *err)
{
    static const char sql[] =
        "WITH f AS (SELECT $4::boolean OR attempts >= $5::int AS dead FROM campaign_jobs"
        "           WHERE product_id = $1::uuid AND locked_by = $2 AND attempts = $3::int"
        "             AND status = 'running' FOR UPDATE)"
        " UPDATE campaign_jobs SET"
        " status = CASE WHEN f.dead THEN 'failed' ELSE 'pending' END,"
        " completed_at = CASE WHEN f.dead THEN clock_timestamp() END,"
        " error = $7, error_code = $8, locked_until = NULL,"
        " run_after = clock_timestamp() + make_interval(secs => $6::double precision / 1000)"
        " FROM f WHERE product_id = $1::uuid AND locked_by = $2 AND attempts = $3::int AND status = 'running'"
        " RETURNING f.dead";
    char attempts[16], maxs[24], retry[24];
    const char *vals[8] = { job->product_id, worker, attempts, permanent ? "true" : "false", maxs, retry,
                            error, code };
    PGresult *r;
    int rc, changed;

    snprintf(attempts, sizeof attempts, "%d", job->attempts);
    snprintf(maxs, sizeof maxs, "%ld", max_attempts);
    snprintf(retry, sizeof retry, "%ld", retry_ms);
    *dead = 0;
    rc = db_exec(db, "campaignq_fail", sql, 8, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    changed = PQntuples(r);
    if (changed == 1)
        *dead = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return changed == 1 ? DB_OK : 1;
}

int campaignq_release(struct db *db, const char *worker, const struct campaignq_job *job, char *err)
{
    static const char sql[] =
        "UPDATE campaign_jobs SET status = 'pending', attempts = greatest(attempts - 1, 0),"
        " locked_until = NULL, locked_by = NULL, run_after = clock_timestamp()"
        " WHERE product_id = $1::uuid AND locked_by = $2 AND attempts = $3::int AND status = 'running'";
    char attempts[16];
    const char *vals[3] = { job->product_id, worker, attempts };
    long n;
    int rc;

    snprintf(attempts, sizeof attempts, "%d", job->attempts);
    rc = db_command(db, "campaignq_release", sql, 3, vals, &n, err);
    if (rc != DB_OK)
        return rc;
    return n == 1 ? DB_OK : 1;
}

int campaignq_extend(struct db *db, const char *worker, const struct campaignq_job *const *jobs,
                     int n, long lease_secs, int *held, char *err)
{
    static const char sql[] =
        "UPDATE campaign_jobs j SET locked_until = now() + make_interval(secs => $3::int)"
        " FROM json_to_recordset($2::json) AS h(product_id uuid, attempts int)"
        " WHERE j.product_id = h.product_id AND j.attempts = h.attempts"
        "   AND j.locked_by = $1 AND j.status = 'running'"
        " RETURNING j.product_id::text, j.attempts";
    json_object *a = json_object_new_array();
    char lease[24], *js;
    const char *vals[3];
    PGresult *r;
    int rc, i, k;

    for (i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "product_id", json_object_new_string(jobs[i]->product_id));
        json_object_object_add(o, "attempts", json_object_new_int(jobs[i]->attempts));
        json_object_array_add(a, o);
        held[i] = 0;
    }
    js = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
    json_object_put(a);
    if (js == NULL) {
        ads_errf(err, "out of memory");
        return DB_ERROR;
    }
    snprintf(lease, sizeof lease, "%ld", lease_secs);
    vals[0] = worker;
    vals[1] = js;
    vals[2] = lease;
    rc = db_exec(db, "campaignq_extend", sql, 3, vals, &r, NULL, err);
    free(js);
    if (rc != DB_OK)
        return rc;
    for (k = 0; k < PQntuples(r); k++)
        for (i = 0; i < n; i++)
            if (!held[i] && strcmp(jobs[i]->product_id, PQgetvalue(r, k, 0)) == 0 &&
                jobs[i]->attempts == atoi(PQgetvalue(r, k, 1))) {
                held[i] = 1;
                break;
            }
    PQclear(r);
    return DB_OK;
}

int campaignq_reap(struct db *db, long max_attempts, int *n, char *err)
{
    static const char sql[] =
        "UPDATE campaign_jobs SET status = 'failed', completed_at = clock_timestamp(),"
        " error_code = 'lease_expired',"
        " error = 'the lease expired on each of ' || attempts || ' attempts (campaigner stopped or hung)'"
        " WHERE status IN ('pending', 'running') AND attempts >= $1::int"
        "   AND (locked_until IS NULL OR locked_until < now())";
    char maxs[24];
    const char *vals[1] = { maxs };
    long affected;
    int rc;

    snprintf(maxs, sizeof maxs, "%ld", max_attempts);
    rc = db_command(db, "campaignq_reap", sql, 1, vals, &affected, err);
    *n = (int)affected;
    return rc;
}

int campaignq_depth(struct db *db, long long *pending, long long *running, char *err)
{
    static const char sql[] =
        "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'running')"
        " FROM campaign_jobs WHERE status IN ('pending', 'running')";
    PGresult *r;
    int rc = db_exec(db, "campaignq_depth", sql, 0, NULL, &r, NULL, err);

    if (rc != DB_OK)
        return rc;
    *pending = atoll(PQgetvalue(r, 0, 0));
    *running = atoll(PQgetvalue(r, 0, 1));
    PQclear(r);
    return DB_OK;
}

int campaignq_next_due(struct db *db, long *ms, char *err)
{
    static const char sql[] =
        "SELECT ceil(extract(epoch FROM min(CASE WHEN status = 'running' THEN locked_until ELSE run_after END)"
        "                              - clock_timestamp()) * 1000)::bigint"
        " FROM campaign_jobs WHERE status IN ('pending', 'running')";
    return db_query_due_ms(db, "campaignq_next_due", sql, ms, err);
}

void campaignq_job_clear(struct campaignq_job *job)
{
    free(job->brief);
    job->brief = NULL;
}

/* ------------------------------------------------------------ answers */

static void add_str(json_object *o, const char *name, const char *v)
{
    json_object_object_add(o, name, v != NULL ? json_object_new_string(v) : NULL);
}

static json_object *member(json_object *o, const char *name)
{
    json_object *v = NULL;

    return o != NULL && json_object_object_get_ex(o, name, &v) ? v : NULL;
}

json_object *campaignq_status_build(const struct campaignq_status *st, json_object *column)
{
    json_object *o = json_object_new_object();
    int completed = strcmp(st->status, "completed") == 0;
    int failed = strcmp(st->status, "failed") == 0;
    json_object *w;

    /* The completed answer is tier-1's 200 plus the job's own fields. */
    if (completed || failed)
        json_object_object_add(o, "success", json_object_new_boolean(completed));
    add_str(o, "product_id", st->product_id);
    add_str(o, "productId", st->product_id);
    add_str(o, "correlation_id", st->correlation_id);
    add_str(o, "status", st->status);
    add_str(o, "product_name", st->name);
    add_str(o, "created_at", st->created_at);
    add_str(o, "started_at", st->started_at);
    add_str(o, "completed_at", st->completed_at);
    json_object_object_add(o, "attempts", json_object_new_int(st->attempts));
    if (completed) {
        add_str(o, "generation_method", st->generation_method);
        w = member(column, "warnings");
        json_object_object_add(o, "warnings", w != NULL ? json_object_get(w) : json_object_new_array());
        json_object_object_add(o, "campaign", json_object_get(member(column, "campaign_data")));
    } else if (failed) {
        add_str(o, "error", st->error != NULL ? st->error : "The campaign failed");
        add_str(o, "code", st->error_code != NULL ? st->error_code : "internal_error");
    }
    return o;
}

int campaignq_status_json(struct db *db, const char *user, const char *product_id,
                          json_object **out, char *err)
{
    static const char sql[] =
        "SELECT product_id::text, status, correlation_id::text, name, " ISO_MS("created_at") ","
        " " ISO_MS("started_at") ", " ISO_MS("completed_at") ", error, error_code, generation_method, attempts"
        " FROM campaign_jobs WHERE product_id = $1::uuid AND ($2 = '' OR user_id = $2)";
    const char *vals[2] = { product_id, user != NULL ? user : "" };
    struct campaignq_status st;
    json_object *column = NULL;
    PGresult *r;
    int rc, i;
    const char **cols[10] = { &st.product_id, &st.status, &st.correlation_id, &st.name, &st.created_at,
                              &st.started_at, &st.completed_at, &st.error, &st.error_code,
                              &st.generation_method };

    *out = NULL;
    if (product_id == NULL || !ads_is_uuid(product_id))
        return 1;
    rc = db_exec(db, "campaignq_status", sql, 2, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 1;
    }
    for (i = 0; i < 10; i++)
        *cols[i] = PQgetisnull(r, 0, i) ? NULL : PQgetvalue(r, 0, i);
    st.attempts = atoi(PQgetvalue(r, 0, 10));
    if (strcmp(st.status, "completed") == 0) {
        rc = products_campaign(db, product_id, &column, err);
        if (rc < 0) {
            PQclear(r);
            return rc;
        }
    }
    *out = campaignq_status_build(&st, column);
    json_object_put(column);
    PQclear(r);
    return 0;
}

int campaignq_list_json(struct db *db, const char *user, long limit, const char *cursor,
                        json_object **out, char *err)
{
    static const char sql[] =
        "SELECT product_id::text, status, name, generation_method, " ISO_MS("created_at") ","
        " " ISO_MS("started_at") ", " ISO_MS("completed_at") ", error_code, attempts,"
        " (extract(epoch FROM created_at) * 1000000)::bigint"
        " FROM campaign_jobs WHERE ($1 = '' OR user_id = $1)"
        "   AND ($2::bigint IS NULL OR (created_at, product_id)"
        "        < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid))"
        " ORDER BY created_at DESC, product_id DESC LIMIT $4::int";
    char us[24], lim[24], pid[37], next[128];
    long long created_us = 0;
    const char *vals[4] = { user != NULL ? user : "", NULL, NULL, lim };
    json_object *list, *o;
    PGresult *r;
    int rc, i, rows;

    *out = NULL;
    if (cursor != NULL && cursor[0] != '\0') {
        if (campaignq_cursor_decode(cursor, &created_us, pid) != 0)
            return 1;
        snprintf(us, sizeof us, "%lld", created_us);
        vals[1] = us;
        vals[2] = pid;
    }
    /* One more than asked: whether there is a next page. */
    snprintf(lim, sizeof lim, "%ld", limit + 1);
    rc = db_exec(db, "campaignq_list", sql, 4, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    rows = PQntuples(r);
    list = json_object_new_array();
    for (i = 0; i < rows && i < limit; i++) {
        json_object *c = json_object_new_object();
        add_str(c, "product_id", PQgetvalue(r, i, 0));
        add_str(c, "productId", PQgetvalue(r, i, 0));
        add_str(c, "status", PQgetvalue(r, i, 1));
        add_str(c, "product_name", PQgetvalue(r, i, 2));
        add_str(c, "generation_method", PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3));
        add_str(c, "created_at", PQgetvalue(r, i, 4));
        add_str(c, "started_at", PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5));
        add_str(c, "completed_at", PQgetisnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6));
        if (!PQgetisnull(r, i, 7))
            add_str(c, "code", PQgetvalue(r, i, 7));
        json_object_object_add(c, "attempts", json_object_new_int(atoi(PQgetvalue(r, i, 8))));
        json_object_array_add(list, c);
    }
    o = json_object_new_object();
    json_object_object_add(o, "campaigns", list);
    if (rows > limit && limit > 0 &&
        campaignq_cursor_encode(atoll(PQgetvalue(r, limit - 1, 9)), PQgetvalue(r, limit - 1, 0), next,
                                sizeof next) == 0)
        add_str(o, "next_cursor", next);
    else
        add_str(o, "next_cursor", NULL);
    PQclear(r);
    *out = o;
    return 0;
}

/* ------------------------------------------------------------ cursors */

int campaignq_cursor_encode(long long created_us, const char *product_id, char *out, size_t outsz)
{
    char plain[64];
    unsigned char enc[96];
    int n, len, i;

    n = snprintf(plain, sizeof plain, "%lld.%s", created_us, product_id);
    if (n <= 0 || (size_t)n >= sizeof plain || !ads_is_uuid(product_id) || created_us < 0)
        return -1;
    len = EVP_EncodeBlock(enc, (const unsigned char *)plain, n);
    /* base64url without padding: safe in a query string as it is. */
    while (len > 0 && enc[len - 1] == '=')
        len--;
    if ((size_t)len >= outsz)
        return -1;
    for (i = 0; i < len; i++)
        out[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : (char)enc[i];
    out[len] = '\0';
    return 0;
}

int campaignq_cursor_decode(const char *cursor, long long *created_us, char product_id[37])
{
    char b64[100], plain[80], *dot, *end;
    size_t len = strlen(cursor), i;
    int n, pad = 0;
    long long v;

    if (len == 0 || len > 88)
        return -1;
    for (i = 0; i < len; i++) {
        char ch = cursor[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_'))
            return -1;
        b64[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    }
    while ((len + (size_t)pad) % 4 != 0) {
        b64[len + (size_t)pad] = '=';
        pad++;
    }
    if (pad == 3)
        return -1;
    n = EVP_DecodeBlock((unsigned char *)plain, (const unsigned char *)b64, (int)(len + (size_t)pad));
    if (n < 0)
        return -1;
    n -= pad;                          /* EVP_DecodeBlock counts the padding as zero bytes */
    plain[n] = '\0';
    if ((int)strlen(plain) != n || (dot = strchr(plain, '.')) == NULL)
        return -1;
    *dot = '\0';
    if (plain[0] < '0' || plain[0] > '9')
        return -1;
    v = strtoll(plain, &end, 10);
    if (*end != '\0' || v < 0 || !ads_is_uuid(dot + 1))
        return -1;
    *created_us = v;
    snprintf(product_id, 37, "%s", dot + 1);
    return 0;
}

#define CAMPAIGN_OLD "status IN ('completed', 'failed') AND coalesce(completed_at, created_at) < " LC_RETENTION

int campaignq_prune(struct db *db, long secs, int dry, struct lc_count *out, char *err)
{
    static const char preview[] = LC_PRUNE_PREVIEW("campaign_jobs", CAMPAIGN_OLD, "product_id::text");
    static const char batch[] = LC_PRUNE_BATCH("campaign_jobs", "product_id", CAMPAIGN_OLD);

    return lc_prune(db, "campaignq_prune", "campaignq_prune_dry", preview, batch, secs, dry, out, err);
}

int campaignq_export(struct db *db, const char *user, json_object **out, char *err)
{
    static const char sql[] =
        "SELECT coalesce(json_agg(to_jsonb(j) - 'user_id' - 'locked_by' - 'locked_until' ORDER BY created_at),"
        " '[]')::text FROM campaign_jobs j WHERE user_id = $1";
    const char *vals[1] = { user };

    return lc_json(db, "campaignq_export", sql, 1, vals, out, err);
}

int campaignq_delete_user(struct db *db, const char *user, struct lc_count *out, char *err)
{
    /* A campaign a campaigner runs now is kept (out->left). */
    static const char sql[] = LC_USER_BATCH("campaign_jobs", "product_id",
                                            "status NOT IN ('pending', 'running') OR locked_until IS NULL"
                                            " OR locked_until < now()");

    return lc_user_delete(db, "campaignq_delete_user", sql, user, out, err);
}
