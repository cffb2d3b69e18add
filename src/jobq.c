#include "jobq.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int jobq_claim(struct db *db, const char *worker, long lease_secs, int max,
               struct jobq_job *jobs, int *n, char *err)
{
    static const char sql[] =
        "WITH due AS ("
        "  SELECT request_id FROM generated_images"
        "  WHERE status = 'pending' AND run_after <= now()"
        "    AND (locked_until IS NULL OR locked_until < now())"
        "  ORDER BY run_after LIMIT $2 FOR UPDATE SKIP LOCKED)"
        " UPDATE generated_images g SET locked_until = now() + make_interval(secs => $3::int),"
        "   locked_by = $1, attempts = g.attempts + 1, claimed_at = clock_timestamp()"
        " FROM due WHERE g.request_id = due.request_id"
        " RETURNING g.request_id, g.user_id, g.prompt, g.style, g.aspect_ratio, g.attempts";
    char maxs[16], leases[24];
    const char *vals[3] = { worker, maxs, leases };
    PGresult *r;
    int rc, i;

    snprintf(maxs, sizeof maxs, "%d", max);
    snprintf(leases, sizeof leases, "%ld", lease_secs);
    *n = 0;
    rc = db_exec(db, "jobq_claim", sql, 3, vals, &r, NULL, err);
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
        (*n)++;
    }
    PQclear(r);
    return DB_OK;
}

int jobq_complete(struct db *db, const struct jobq_job *job, const char *worker,
                  const char *s3_key, const char *s3_url, char *err)
{
    static const char sql[] =
        "UPDATE generated_images SET status = 'completed', s3_key = $3, s3_url = $4,"
        " generated_at = clock_timestamp(), locked_until = NULL, error = NULL"
        " WHERE request_id = $1 AND locked_by = $2 AND status = 'pending'";
    const char *vals[4] = { job->request_id, worker, s3_key, s3_url };
    PGresult *r;
    int rc, changed;

    rc = db_exec(db, "jobq_complete", sql, 4, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    changed = atoi(PQcmdTuples(r));
    PQclear(r);
    return changed == 1 ? DB_OK : 1;
}

int jobq_fail(struct db *db, const struct jobq_job *job, const char *worker,
              const char *error, int permanent, long max_attempts, long retry_secs, char *err)
{
    static const char sql[] =
        "UPDATE generated_images SET"
        " status = CASE WHEN $4::boolean OR attempts >= $5::int THEN 'failed' ELSE 'pending' END,"
        " error = $3, locked_until = NULL,"
        " run_after = clock_timestamp() + make_interval(secs => $6::int)"
        " WHERE request_id = $1 AND locked_by = $2 AND status = 'pending'";
    char maxs[24], retry[24];
    const char *vals[6] = { job->request_id, worker, error, permanent ? "true" : "false", maxs, retry };
    PGresult *r;
    int rc, changed;

    snprintf(maxs, sizeof maxs, "%ld", max_attempts);
    snprintf(retry, sizeof retry, "%ld", retry_secs);
    rc = db_exec(db, "jobq_fail", sql, 6, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    changed = atoi(PQcmdTuples(r));
    PQclear(r);
    return changed == 1 ? DB_OK : 1;
}

void jobq_job_clear(struct jobq_job *job)
{
    free(job->prompt);
    job->prompt = NULL;
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
