#include "jobq.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/rand.h>

/* The ids as a JSON array, the one form in which a set of ids reaches SQL. */
static char *ids_json(const char *const *ids, int n)
{
    json_object *a = json_object_new_array();
    char *out;
    int i;

    for (i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(ids[i]));
    out = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
    json_object_put(a);
    return out;
}

/* Marks held[i] for each id among the result's first column. */
static void mark_held(PGresult *r, const char *const *ids, int n, int *held)
{
    int i, j;

    for (i = 0; i < n; i++)
        held[i] = 0;
    for (j = 0; j < PQntuples(r); j++)
        for (i = 0; i < n; i++)
            if (!held[i] && strcmp(ids[i], PQgetvalue(r, j, 0)) == 0) {
                held[i] = 1;
                break;
            }
}

/* A NULL column as NULL, else a copy; -1 out of memory. */
static int dup_col(PGresult *r, int row, int col, char **out)
{
    *out = NULL;
    if (PQgetisnull(r, row, col))
        return 0;
    *out = strdup(PQgetvalue(r, row, col));
    return *out == NULL ? -1 : 0;
}

/* The claim's creative columns (6..16) into cr; -1 out of memory. */
static int claim_creative(PGresult *r, int row, struct jobq_creative *cr)
{
    const char *p = PQgetvalue(r, row, 9);

    snprintf(cr->task, sizeof cr->task, "%s", PQgetvalue(r, row, 6));
    snprintf(cr->size_name, sizeof cr->size_name, "%s", PQgetvalue(r, row, 14));
    cr->width = atoi(PQgetvalue(r, row, 15));
    cr->height = atoi(PQgetvalue(r, row, 16));
    /* "#RRGGBB,#RRGGBB": the rows hold only what the API checked. */
    while (*p == '#' && cr->ncolors < JOBQ_MAX_COLORS) {
        char *end;
        cr->colors[cr->ncolors++] = (unsigned int)strtoul(p + 1, &end, 16) & 0xffffffu;
        p = *end == ',' ? end + 1 : end;
    }
    cr->has_overlay = strcmp(PQgetvalue(r, row, 10), "t") == 0;
    snprintf(cr->position, sizeof cr->position, "%s", PQgetvalue(r, row, 13));
    snprintf(cr->language, sizeof cr->language, "%s", PQgetvalue(r, row, 18));
    if (dup_col(r, row, 7, &cr->source_bucket) != 0 || dup_col(r, row, 8, &cr->source_key) != 0 ||
        dup_col(r, row, 11, &cr->headline) != 0 || dup_col(r, row, 12, &cr->cta) != 0)
        return -1;
    return 0;
}

int jobq_claim(struct db *db, const char *worker, long lease_secs, long max_attempts,
               int max, struct jobq_job *jobs, int *n, char *err)
{
    static const char sql[] =
        "WITH due AS ("
        "  SELECT request_id, greatest(run_after, coalesce(locked_until, run_after)) AS due_at"
        "  FROM generated_images"
        "  WHERE status = 'pending' AND run_after <= now() AND attempts < $4::int"
        "    AND (locked_until IS NULL OR locked_until < now())"
        "  ORDER BY run_after LIMIT $2 FOR UPDATE SKIP LOCKED),"
        " t AS (SELECT clock_timestamp() AS at)"
        " UPDATE generated_images g SET locked_until = now() + make_interval(secs => $3::int),"
        "   locked_by = $1, attempts = g.attempts + 1, claimed_at = t.at,"
        "   started_at = coalesce(g.started_at, t.at)"
        " FROM due, t WHERE g.request_id = due.request_id"
        " RETURNING g.request_id, g.user_id, g.prompt, g.style, g.aspect_ratio, g.attempts,"
        "   g.task, g.source_bucket, g.source_key,"
        "   (SELECT string_agg(c, ',') FROM jsonb_array_elements_text(coalesce(g.colors, '[]')) c),"
        "   g.overlay IS NOT NULL, g.overlay->>'headline', g.overlay->>'cta', g.overlay->>'position',"
        "   g.size_name, g.width, g.height,"
        "   extract(epoch FROM t.at - due.due_at)::float8, g.overlay->>'language'";
    char maxs[16], leases[24], attempts[24];
    const char *vals[4] = { worker, maxs, leases, attempts };
    PGresult *r;
    int rc, i;

    snprintf(maxs, sizeof maxs, "%d", max);
    snprintf(leases, sizeof leases, "%ld", lease_secs);
    snprintf(attempts, sizeof attempts, "%ld", max_attempts);
    *n = 0;
    rc = db_exec(db, "jobq_claim", sql, 4, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    for (i = 0; i < PQntuples(r) && i < max; i++) {
        struct jobq_job *j = &jobs[i];
        memset(j, 0, sizeof *j);
        snprintf(j->request_id, sizeof j->request_id, "%s", PQgetvalue(r, i, 0));
        snprintf(j->user_id, sizeof j->user_id, "%s", PQgetvalue(r, i, 1));
        j->prompt = strdup(PQgetvalue(r, i, 2));
        snprintf(j->style, sizeof j->style, "%s", PQgetvalue(r, i, 3));
        snprintf(j->aspect_ratio, sizeof j->aspect_ratio, "%s", PQgetvalue(r, i, 4));
        j->attempts = atoi(PQgetvalue(r, i, 5));
        j->pickup_s = atof(PQgetvalue(r, i, 17));
        if (j->prompt == NULL || claim_creative(r, i, &j->cr) != 0) {
            jobq_job_clear(j);
            /* The lease expires and another claim takes it. */
            continue;
        }
        (*n)++;
    }
    PQclear(r);
    return DB_OK;
}

int jobq_complete(struct db *db, const char *worker, const struct jobq_done *done, int n,
                  int *held, char *err)
{
    static const char sql[] =
        "UPDATE generated_images g SET status = 'completed', s3_key = d.s3_key, s3_url = d.s3_url,"
        " generated_at = clock_timestamp(), locked_until = NULL, error = NULL"
        " FROM json_to_recordset($2::json) AS d(request_id text, s3_key text, s3_url text)"
        " WHERE g.request_id = d.request_id AND g.locked_by = $1 AND g.status = 'pending'"
        " RETURNING g.request_id";
    json_object *a = json_object_new_array();
    const char *ids[JOBQ_MAX_COMPLETE];
    const char *vals[2];
    char *js;
    PGresult *r;
    int rc, i;

    if (n > JOBQ_MAX_COMPLETE) {
        ads_errf(err, "at most %d completions at once", JOBQ_MAX_COMPLETE);
        json_object_put(a);
        return DB_ERROR;
    }
    for (i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "request_id", json_object_new_string(done[i].request_id));
        json_object_object_add(o, "s3_key", json_object_new_string(done[i].s3_key));
        json_object_object_add(o, "s3_url", json_object_new_string(done[i].s3_url));
        json_object_array_add(a, o);
        ids[i] = done[i].request_id;
    }
    js = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
    json_object_put(a);
    if (js == NULL) {
        ads_errf(err, "out of memory");
        return DB_ERROR;
    }
    vals[0] = worker;
    vals[1] = js;
    rc = db_exec(db, "jobq_complete", sql, 2, vals, &r, NULL, err);
    free(js);
    if (rc != DB_OK)
        return rc;
    mark_held(r, ids, n, held);
    PQclear(r);
    return DB_OK;
}

int jobq_fail(struct db *db, const struct jobq_job *job, const char *worker, const char *error,
              int permanent, long max_attempts, long retry_ms, int *dead, char *err)
{
    static const char sql[] =
        "WITH f AS (SELECT $4::boolean OR attempts >= $5::int AS dead FROM generated_images"
        "           WHERE request_id = $1 AND locked_by = $2 AND status = 'pending' FOR UPDATE)"
        " UPDATE generated_images SET"
        " status = CASE WHEN f.dead THEN 'failed' ELSE 'pending' END,"
        " dead_lettered_at = CASE WHEN f.dead THEN clock_timestamp() END,"
        " locked_by = CASE WHEN f.dead THEN locked_by END,"
        " error = $3, locked_until = NULL,"
        " run_after = clock_timestamp() + make_interval(secs => $6::double precision / 1000)"
        " FROM f WHERE request_id = $1 AND locked_by = $2 AND status = 'pending'"
        " RETURNING f.dead";
    char maxs[24], retry[24];
    const char *vals[6] = { job->request_id, worker, error, permanent ? "true" : "false", maxs, retry };
    PGresult *r;
    int rc, changed;

    snprintf(maxs, sizeof maxs, "%ld", max_attempts);
    snprintf(retry, sizeof retry, "%ld", retry_ms);
    *dead = 0;
    rc = db_exec(db, "jobq_fail", sql, 6, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    changed = PQntuples(r);
    if (changed == 1)
        *dead = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return changed == 1 ? DB_OK : 1;
}

int jobq_release(struct db *db, const char *worker, const char *const *ids, int nids,
                 long delay_ms, const char *error, int *n, char *err)
{
    static const char sql[] =
        "WITH r AS (UPDATE generated_images SET attempts = greatest(attempts - 1, 0),"
        "   locked_until = NULL, locked_by = NULL, error = coalesce($4, error),"
        "   run_after = clock_timestamp() + make_interval(secs => $3::double precision / 1000)"
        " WHERE request_id = ANY (ARRAY(SELECT json_array_elements_text($2::json)))"
        "   AND locked_by = $1 AND status = 'pending' RETURNING 1)"
        " SELECT (SELECT count(*) FROM r),"
        "   CASE WHEN $3::bigint = 0 THEN pg_notify('" JOBQ_CHANNEL "', 'released') END";
    char delay[24];
    char *js = ids_json(ids, nids);
    const char *vals[4] = { worker, js, delay, error };
    PGresult *r;
    int rc;

    *n = 0;
    if (js == NULL) {
        ads_errf(err, "out of memory");
        return DB_ERROR;
    }
    snprintf(delay, sizeof delay, "%ld", delay_ms);
    rc = db_exec(db, "jobq_release", sql, 4, vals, &r, NULL, err);
    free(js);
    if (rc != DB_OK)
        return rc;
    *n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return DB_OK;
}

int jobq_extend(struct db *db, const char *worker, const char *const *ids, int nids,
                long lease_secs, int *held, char *err)
{
    static const char sql[] =
        "UPDATE generated_images SET locked_until = now() + make_interval(secs => $3::int)"
        " WHERE request_id = ANY (ARRAY(SELECT json_array_elements_text($2::json)))"
        "   AND locked_by = $1 AND status = 'pending' RETURNING request_id";
    char lease[24];
    char *js = ids_json(ids, nids);
    const char *vals[3] = { worker, js, lease };
    PGresult *r;
    int rc;

    if (js == NULL) {
        ads_errf(err, "out of memory");
        return DB_ERROR;
    }
    snprintf(lease, sizeof lease, "%ld", lease_secs);
    rc = db_exec(db, "jobq_extend", sql, 3, vals, &r, NULL, err);
    free(js);
    if (rc != DB_OK)
        return rc;
    mark_held(r, ids, nids, held);
    PQclear(r);
    return DB_OK;
}

int jobq_reap(struct db *db, long max_attempts, int *n, char *err)
{
    static const char sql[] =
        "UPDATE generated_images SET status = 'failed', dead_lettered_at = clock_timestamp(),"
        " error = 'the lease expired on each of ' || attempts || ' attempts (generator stopped or hung)'"
        " WHERE status = 'pending' AND attempts >= $1::int"
        "   AND (locked_until IS NULL OR locked_until < now())";
    char maxs[24];
    const char *vals[1] = { maxs };
    long affected;
    int rc;

    snprintf(maxs, sizeof maxs, "%ld", max_attempts);
    rc = db_command(db, "jobq_reap", sql, 1, vals, &affected, err);
    *n = (int)affected;
    return rc;
}

int jobq_depth(struct db *db, long long *pending, long long *running, char *err)
{
    /* Only pending rows (the partial index): finished ones are history. */
    static const char sql[] =
        "SELECT count(*) FILTER (WHERE locked_until IS NULL OR locked_until < now()),"
        "       count(*) FILTER (WHERE locked_until >= now())"
        " FROM generated_images WHERE status = 'pending'";
    PGresult *r;
    int rc = db_exec(db, "jobq_depth", sql, 0, NULL, &r, NULL, err);

    if (rc != DB_OK)
        return rc;
    *pending = atoll(PQgetvalue(r, 0, 0));
    *running = atoll(PQgetvalue(r, 0, 1));
    PQclear(r);
    return DB_OK;
}

int jobq_next_due(struct db *db, long *ms, char *err)
{
    static const char sql[] =
        "SELECT ceil(extract(epoch FROM min(greatest(run_after, coalesce(locked_until, run_after)))"
        "                              - clock_timestamp()) * 1000)::bigint"
        " FROM generated_images WHERE status = 'pending'";
    return db_query_due_ms(db, "jobq_next_due", sql, ms, err);
}

int jobq_list(struct db *db, const char *status, long limit, FILE *f, char *err)
{
    static const char sql[] =
        "SELECT request_id, status, attempts,"
        " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        " coalesce(to_char(claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '-'),"
        " coalesce(to_char(coalesce(generated_at, dead_lettered_at) AT TIME ZONE 'UTC',"
        "                  'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '-'),"
        " coalesce(locked_by, '-'), coalesce(replace(error, E'\\n', ' '), '')"
        " FROM generated_images WHERE ($1::text IS NULL OR status = $1)"
        " ORDER BY created_at DESC LIMIT $2::int";
    char lim[24];
    const char *vals[2] = { status, lim };
    PGresult *r;
    int rc, i;

    snprintf(lim, sizeof lim, "%ld", limit);
    rc = db_exec(db, "jobq_list", sql, 2, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    fprintf(f, "REQUEST_ID\tSTATUS\tATTEMPTS\tCREATED\tCLAIMED\tFINISHED\tWORKER\tERROR\n");
    for (i = 0; i < PQntuples(r); i++)
        fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
                PQgetvalue(r, i, 6), PQgetvalue(r, i, 7));
    PQclear(r);
    return DB_OK;
}

int jobq_retry(struct db *db, const char *id, long *n, char *err)
{
    static const char sql[] =
        "UPDATE generated_images SET status = 'pending', attempts = 0, dead_lettered_at = NULL,"
        " run_after = clock_timestamp(), locked_until = NULL, locked_by = NULL"
        " WHERE status = 'failed' AND ($1::text IS NULL OR request_id = $1)";
    const char *vals[1] = { id };

    return db_command(db, "jobq_retry", sql, 1, vals, n, err);
}

/* Splits a cursor into its microseconds and request id; -1 when malformed. */
static int cursor_parse(const char *cursor, char *micros, size_t msz, char *id, size_t idsz)
{
    const char *dot = strchr(cursor, '.');
    size_t n, i;

    if (dot == NULL)
        return -1;
    n = (size_t)(dot - cursor);
    if (n == 0 || n > 18 || n >= msz)
        return -1;
    for (i = 0; i < n; i++)
        if (cursor[i] < '0' || cursor[i] > '9')
            return -1;
    if (!ads_all_chars(dot + 1, 1, 64, "_-") || strlen(dot + 1) >= idsz)
        return -1;
    memcpy(micros, cursor, n);
    micros[n] = '\0';
    snprintf(id, idsz, "%s", dot + 1);
    return 0;
}

/* The columns of a job as GET /api/assets/{id} shows it, in the order
 * status_item reads them: the one-job query and the page query select them first. */
#define STATUS_COLUMNS \
    "request_id, status, user_id, prompt, style, aspect_ratio," \
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), attempts," \
    " s3_key, s3_url, to_char(generated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), error"

static void add_text(json_object *o, PGresult *r, int row, int col, const char *name)
{
    if (!PQgetisnull(r, row, col))
        json_object_object_add(o, name, json_object_new_string(PQgetvalue(r, row, col)));
}

/* One row of STATUS_COLUMNS as GET /api/assets/{id} shows it. */
static json_object *status_item(PGresult *r, int row)
{
    json_object *o = json_object_new_object();
    const char *status = PQgetvalue(r, row, 1);

    add_text(o, r, row, 0, "request_id");
    add_text(o, r, row, 1, "status");
    add_text(o, r, row, 2, "user_id");
    add_text(o, r, row, 3, "prompt");
    add_text(o, r, row, 4, "style");
    add_text(o, r, row, 5, "aspect_ratio");
    add_text(o, r, row, 6, "created_at");
    json_object_object_add(o, "attempts", json_object_new_int(atoi(PQgetvalue(r, row, 7))));
    if (strcmp(status, "completed") == 0) {
        add_text(o, r, row, 8, "s3_key");
        add_text(o, r, row, 9, "s3_url");
        add_text(o, r, row, 10, "generated_at");
    } else if (strcmp(status, "failed") == 0) {
        add_text(o, r, row, 11, "error");
    }
    return o;
}

int jobq_user_page(struct db *db, const char *user, const char *cursor, long limit,
                   json_object **items, char next[JOBQ_CURSOR_MAX], char *err)
{
    /* Keyset: (created_at, request_id) below the cursor's, on the
     * (user_id, created_at) index; one row more than asked tells whether
     * another page follows. */
    static const char sql[] =
        "SELECT " STATUS_COLUMNS ", (extract(epoch FROM created_at) * 1000000)::bigint"
        " FROM generated_images WHERE user_id = $1"
        " AND ($2::bigint IS NULL OR (created_at, request_id) <"
        "      (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::text))"
        " ORDER BY created_at DESC, request_id DESC LIMIT $4::int";
    char micros[24], id[65], lim[24];
    const char *vals[4];
    PGresult *r;
    int rc, i, n;

    *items = NULL;
    next[0] = '\0';
    if (limit < 1 || limit > JOBQ_PAGE_MAX)
        limit = JOBQ_PAGE_MAX;
    vals[0] = user;
    vals[1] = NULL;
    vals[2] = NULL;
    if (cursor != NULL && cursor[0] != '\0') {
        if (cursor_parse(cursor, micros, sizeof micros, id, sizeof id) != 0)
            return JOBQ_BAD_CURSOR;
        vals[1] = micros;
        vals[2] = id;
    }
    snprintf(lim, sizeof lim, "%ld", limit + 1);
    vals[3] = lim;
    rc = db_exec(db, "jobq_user_page", sql, 4, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    n = PQntuples(r);
    *items = json_object_new_array();
    for (i = 0; i < n && i < limit; i++)
        json_object_array_add(*items, status_item(r, i));
    if (n > limit)
        snprintf(next, JOBQ_CURSOR_MAX, "%s.%s", PQgetvalue(r, (int)limit - 1, 12), PQgetvalue(r, (int)limit - 1, 0));
    PQclear(r);
    return DB_OK;
}

long jobq_backoff_ms(long base_ms, int attempts)
{
    unsigned int rnd = 0;
    long d = base_ms;
    int i;

    for (i = 1; i < attempts && d < 3600000; i++)
        d *= 2;
    if (d > 3600000)
        d = 3600000;
    RAND_bytes((unsigned char *)&rnd, sizeof rnd);
    return d / 2 + (long)(rnd % (unsigned)(d / 2 + 1));
}

/* One output of a set: its size and where it stands. Columns after
 * STATUS_COLUMNS: 12 set_id, 13 size_name, 14 width, 15 height, 16 task. */
static json_object *set_output(PGresult *r, int row)
{
    json_object *o = json_object_new_object();
    const char *status = PQgetvalue(r, row, 1);

    add_text(o, r, row, 13, "size");
    json_object_object_add(o, "width", json_object_new_int(atoi(PQgetvalue(r, row, 14))));
    json_object_object_add(o, "height", json_object_new_int(atoi(PQgetvalue(r, row, 15))));
    add_text(o, r, row, 1, "status");
    if (strcmp(status, "completed") == 0) {
        add_text(o, r, row, 9, "url");
        add_text(o, r, row, 8, "s3_key");
    } else if (strcmp(status, "failed") == 0) {
        add_text(o, r, row, 11, "error");
    }
    return o;
}

/* The set's status: pending while any output is, completed when all are,
 * else failed (the completed ones keep their URLs). */
static const char *set_status(PGresult *r)
{
    int i, pending = 0, failed = 0;

    for (i = 0; i < PQntuples(r); i++) {
        pending += strcmp(PQgetvalue(r, i, 1), "pending") == 0;
        failed += strcmp(PQgetvalue(r, i, 1), "failed") == 0;
    }
    return pending ? "pending" : failed ? "failed" : "completed";
}

/* The answer for a creatives set: the first row's fields under the set's
 * id, its status, task and outputs; with one output, its result at the top
 * too (as a plain job's). */
static json_object *set_item(PGresult *r)
{
    json_object *o = status_item(r, 0), *outs = json_object_new_array();
    int i, n = PQntuples(r), attempts = 0;

    for (i = 0; i < n; i++) {
        json_object_array_add(outs, set_output(r, i));
        if (atoi(PQgetvalue(r, i, 7)) > attempts)
            attempts = atoi(PQgetvalue(r, i, 7));
    }
    add_text(o, r, 0, 12, "request_id");
    json_object_object_add(o, "status", json_object_new_string(set_status(r)));
    json_object_object_add(o, "attempts", json_object_new_int(attempts));
    add_text(o, r, 0, 16, "task");
    if (n > 1) {
        json_object_object_del(o, "s3_key");
        json_object_object_del(o, "s3_url");
        json_object_object_del(o, "generated_at");
        json_object_object_del(o, "error");
    }
    json_object_object_add(o, "outputs", outs);
    return o;
}

int jobq_status_json(struct db *db, const char *user, const char *id, json_object **out, char *err)
{
    /* A job by its id, or the rows of the set it names. */
    static const char sql[] =
        "SELECT " STATUS_COLUMNS ", set_id, size_name, width, height, task FROM generated_images"
        " WHERE (request_id = $1 OR set_id = $1) AND ($2 = '' OR user_id = $2)"
        " ORDER BY created_at, request_id LIMIT 64";
    const char *vals[2] = { id, user };
    PGresult *r;
    json_object *o;
    int rc;

    *out = NULL;
    rc = db_exec(db, "jobq_status", sql, 2, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 1;
    }
    o = PQgetisnull(r, 0, 12) || strcmp(PQgetvalue(r, 0, 12), id) != 0 ? status_item(r, 0) : set_item(r);
    PQclear(r);
    *out = o;
    return 0;
}

/* The rows of a set as the JSON array its INSERT reads. */
static char *rows_json(const struct jobq_set *q)
{
    json_object *a = json_object_new_array();
    char *out;
    int i;

    for (i = 0; i < q->nrows; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "request_id", json_object_new_string(q->rows[i].request_id));
        json_object_object_add(o, "aspect_ratio", json_object_new_string(q->rows[i].aspect_ratio));
        json_object_object_add(o, "size_name", json_object_new_string(q->rows[i].size_name));
        json_object_object_add(o, "width", json_object_new_int(q->rows[i].width));
        json_object_object_add(o, "height", json_object_new_int(q->rows[i].height));
        json_object_array_add(a, o);
    }
    out = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
    json_object_put(a);
    return out;
}

/* Inside the transaction: 1 when the set's rows (or a job of its name)
 * exist, and *same whether all are this user's with this hash. */
static int set_exists(struct db *db, const struct jobq_set *q, int *same, char *err)
{
    static const char sql[] =
        "SELECT count(*), count(*) FILTER (WHERE user_id = $2 AND body_hash = $3)"
        " FROM generated_images WHERE request_id = $1 OR set_id = $1";
    const char *vals[3] = { q->set_id, q->user, q->hash };
    PGresult *r;
    int rc = db_exec(db, "jobq_set_exists", sql, 3, vals, &r, NULL, err), n;

    if (rc != DB_OK)
        return rc;
    n = atoi(PQgetvalue(r, 0, 0));
    *same = n > 0 && n == atoi(PQgetvalue(r, 0, 1));
    PQclear(r);
    return n > 0 ? 1 : 0;
}

int jobq_queue_set(struct db *db, const struct jobq_set *q, int *queued, char *err)
{
    static const char lock[] = "SELECT pg_advisory_xact_lock(hashtextextended('adsmith_set:' || $1, 0))";
    static const char ins[] =
        "INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash,"
        " callback_url, task, source_bucket, source_key, colors, overlay, size_name, width, height, set_id)"
        " SELECT d.request_id, $2, $3, $4, d.aspect_ratio, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb,"
        "   d.size_name, d.width, d.height, $1"
        " FROM json_to_recordset($12::json) AS d(request_id text, aspect_ratio text, size_name text,"
        "   width int, height int)";
    const char *vals[12];
    char *js = rows_json(q);
    PGresult *r;
    int rc, same = 0;

    *queued = 0;
    if (js == NULL) {
        ads_errf(err, "out of memory");
        return DB_ERROR;
    }
    if ((rc = db_begin(db, err)) != DB_OK)
        goto done;
    vals[0] = q->set_id;
    if ((rc = db_exec(db, "jobq_set_lock", lock, 1, vals, &r, NULL, err)) != DB_OK)
        goto fail;
    PQclear(r);
    if ((rc = set_exists(db, q, &same, err)) < 0)
        goto fail;
    if (rc == 1) {
        db_rollback(db);
        rc = same ? DB_OK : JOBQ_CONFLICT;
        goto done;
    }
    vals[1] = q->user;
    vals[2] = q->prompt;
    vals[3] = q->style;
    vals[4] = q->hash;
    vals[5] = q->callback;
    vals[6] = q->task;
    vals[7] = q->source_bucket;
    vals[8] = q->source_key;
    vals[9] = q->colors_json;
    vals[10] = q->overlay_json;
    vals[11] = js;
    if ((rc = db_exec(db, "jobq_set_insert", ins, 12, vals, &r, NULL, err)) != DB_OK)
        goto fail;
    PQclear(r);
    if ((rc = db_commit(db, err)) == DB_OK)
        *queued = 1;
    goto done;
fail:
    db_rollback(db);
done:
    free(js);
    return rc;
}

void jobq_job_clear(struct jobq_job *job)
{
    struct jobq_creative *cr = &job->cr;

    free(job->prompt);
    job->prompt = NULL;
    free(cr->source_bucket);
    free(cr->source_key);
    free(cr->headline);
    free(cr->cta);
    cr->source_bucket = cr->source_key = cr->headline = cr->cta = NULL;
}

void jobq_asset_key(const struct jobq_job *job, long t, char *out, size_t outsz)
{
    char ts[16], user[65], slug[51];
    const char *p;
    size_t n = 0;

    ads_fmt_compact((time_t)t, ts);
    if (ads_reduce_chars(job->user_id, user, sizeof user, "_-") == 0)
        snprintf(user, sizeof user, "user");
    /* Spaces become '_', anything else outside [A-Za-z0-9_] is dropped. */
    for (p = job->prompt; *p != '\0' && n < 50; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ')
            slug[n++] = '_';
        else if (c < 128 && (c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            slug[n++] = (char)c;
    }
    slug[n] = '\0';
    snprintf(out, outsz, "generated/%s/%s_%s_%s.png", user, ts, job->request_id, slug);
}

/* A completed job lives as long as its image; a failed one has none. */
#define IMAGE_OLD "status = 'completed' AND coalesce(generated_at, created_at) < " LC_RETENTION
#define FAILED_OLD "status = 'failed' AND coalesce(dead_lettered_at, created_at) < " LC_RETENTION

int jobq_prune_images(struct db *db, long secs, int dry, struct lc_count *out, char *err)
{
    static const char preview[] = LC_PRUNE_PREVIEW("generated_images", IMAGE_OLD, "coalesce(s3_key, request_id)");
    static const char batch[] = LC_PRUNE_BATCH("generated_images", "request_id", IMAGE_OLD);

    return lc_prune(db, "jobq_prune_images", "jobq_prune_images_dry", preview, batch, secs, dry, out, err);
}

int jobq_prune_failed(struct db *db, long secs, int dry, struct lc_count *out, char *err)
{
    static const char preview[] = LC_PRUNE_PREVIEW("generated_images", FAILED_OLD, "request_id");
    static const char batch[] = LC_PRUNE_BATCH("generated_images", "request_id", FAILED_OLD);

    return lc_prune(db, "jobq_prune_failed", "jobq_prune_failed_dry", preview, batch, secs, dry, out, err);
}

int jobq_export(struct db *db, const char *user, const char *assets_bucket, json_object **out, char *err)
{
    /* The lease columns say which worker held the job: not the user's data. */
    static const char sql[] =
        "SELECT coalesce(json_agg(to_jsonb(g) - 'user_id' - 'body_hash' - 'locked_by' - 'locked_until'"
        "  || jsonb_build_object('bucket', CASE WHEN g.s3_key IS NOT NULL THEN $2::text END)"
        "  ORDER BY created_at), '[]')::text"
        " FROM generated_images g WHERE user_id = $1";
    const char *vals[2] = { user, assets_bucket };

    return lc_json(db, "jobq_export", sql, 2, vals, out, err);
}

int jobq_delete_user(struct db *db, const char *user, struct lc_count *out, char *err)
{
    /* A job a generator holds now is kept: its result would land after the
     * row is gone, an object nobody deletes. */
    static const char sql[] = LC_USER_BATCH("generated_images", "request_id",
                                            "status <> 'pending' OR locked_until IS NULL OR locked_until < now()");

    return lc_user_delete(db, "jobq_delete_user", sql, user, out, err);
}
