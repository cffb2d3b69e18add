#include "procmetrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

int procmetrics_put(struct db *db, const char *instance, const char *program, int pid, time_t started_at,
                    const char *snapshot, char *err)
{
    static const char sql[] =
        "INSERT INTO process_metrics (instance, program, pid, started_at, updated_at, snapshot)"
        " VALUES ($1, $2, $3::int, to_timestamp($4::bigint), clock_timestamp(), $5::jsonb)"
        " ON CONFLICT (instance) DO UPDATE SET program = EXCLUDED.program, pid = EXCLUDED.pid,"
        "   started_at = EXCLUDED.started_at, updated_at = EXCLUDED.updated_at, snapshot = EXCLUDED.snapshot";
    char pids[16], started[24];
    const char *vals[5] = { instance, program, pids, started, snapshot };

    snprintf(pids, sizeof pids, "%d", pid);
    snprintf(started, sizeof started, "%lld", (long long)started_at);
    return db_command(db, "procmetrics_put", sql, 5, vals, NULL, err);
}

int procmetrics_publish(struct db *db, const char *instance, const char *program, time_t started_at,
                        struct metrics *m, char *err)
{
    char *snapshot = metrics_snapshot(m);
    int rc;

    if (snapshot == NULL) {
        ads_errf(err, "metrics snapshot: out of memory");
        return DB_ERROR;
    }
    rc = procmetrics_put(db, instance, program, (int)getpid(), started_at, snapshot, err);
    free(snapshot);
    return rc;
}

int procmetrics_each_fresh(struct db *db, long fresh_secs, procmetrics_fn fn, void *arg, char *err)
{
    static const char sql[] =
        "SELECT instance, program, extract(epoch FROM clock_timestamp() - updated_at)::float8, snapshot::text"
        " FROM process_metrics WHERE updated_at > clock_timestamp() - make_interval(secs => $1::int)"
        " ORDER BY program, instance";
    char secs[24];
    const char *vals[1] = { secs };
    PGresult *r;
    int rc, i;

    snprintf(secs, sizeof secs, "%ld", fresh_secs);
    rc = db_exec(db, "procmetrics_fresh", sql, 1, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    for (i = 0; i < PQntuples(r); i++)
        fn(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), atof(PQgetvalue(r, i, 2)), PQgetvalue(r, i, 3));
    PQclear(r);
    return DB_OK;
}

int procmetrics_prune(struct db *db, long keep_secs, long *n, char *err)
{
    static const char sql[] =
        "DELETE FROM process_metrics WHERE updated_at < clock_timestamp() - make_interval(secs => $1::int)";
    char secs[24];
    const char *vals[1] = { secs };

    snprintf(secs, sizeof secs, "%ld", keep_secs);
    return db_command(db, "procmetrics_prune", sql, 1, vals, n, err);
}
