#include "webhookq.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int webhookq_claim(struct db *db, int max, long lease_ms, struct webhookq_item *items, int *n, char *err)
{
    static const char sql[] =
        "WITH due AS ("
        "  SELECT id FROM webhook_deliveries"
        "  WHERE state = 'pending' AND due_at <= now()"
        "    AND (locked_until IS NULL OR locked_until < now())"
        "  ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " UPDATE webhook_deliveries d SET locked_until = now() + make_interval(secs => $2::int / 1000.0),"
        "   attempted_at = clock_timestamp()"
        " FROM due WHERE d.id = due.id"
        " RETURNING d.id, d.job_kind, d.job_id, d.user_id, d.url, d.attempt";
    char maxs[16], leases[24];
    const char *vals[2] = { maxs, leases };
    PGresult *r;
    int rc, i;

    snprintf(maxs, sizeof maxs, "%d", max);
    snprintf(leases, sizeof leases, "%ld", lease_ms);
    *n = 0;
    rc = db_exec(db, "webhookq_claim", sql, 2, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    for (i = 0; i < PQntuples(r) && i < max; i++) {
        struct webhookq_item *it = &items[*n];
        memset(it, 0, sizeof *it);
        it->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        snprintf(it->kind, sizeof it->kind, "%s", PQgetvalue(r, i, 1));
        snprintf(it->job_id, sizeof it->job_id, "%s", PQgetvalue(r, i, 2));
        snprintf(it->user_id, sizeof it->user_id, "%s", PQgetvalue(r, i, 3));
        it->url = strdup(PQgetvalue(r, i, 4));
        it->attempt = atoi(PQgetvalue(r, i, 5));
        if (it->url == NULL)
            continue;        /* the lease expires and another claim takes it */
        (*n)++;
    }
    PQclear(r);
    return DB_OK;
}

int webhookq_record(struct db *db, long long id, const struct webhookq_result *res, char *err)
{
    static const char sql[] =
        "WITH done AS ("
        "  UPDATE webhook_deliveries SET state = CASE WHEN $2::bool THEN 'delivered' ELSE 'failed' END,"
        "    status_code = $3::int, error = $4, duration_ms = $5::int, locked_until = NULL"
        "  WHERE id = $1::bigint AND state = 'pending'"
        "  RETURNING job_kind, job_id, user_id, url, job_status, attempt),"
        " retry AS ("
        "  INSERT INTO webhook_deliveries (job_kind, job_id, user_id, url, job_status, attempt, due_at)"
        "  SELECT job_kind, job_id, user_id, url, job_status, attempt + 1,"
        "         clock_timestamp() + make_interval(secs => $7::bigint / 1000.0)"
        "  FROM done WHERE $6::bool)"
        " SELECT count(*) FROM done";
    char ids[24], codes[16], durs[24], retry_ms[24];
    const char *vals[7];
    PGresult *r;
    int rc, found;

    snprintf(ids, sizeof ids, "%lld", id);
    snprintf(codes, sizeof codes, "%ld", res->status_code);
    snprintf(durs, sizeof durs, "%ld", res->duration_ms);
    snprintf(retry_ms, sizeof retry_ms, "%ld", res->retry_ms);
    vals[0] = ids;
    vals[1] = res->delivered ? "true" : "false";
    vals[2] = res->status_code > 0 ? codes : NULL;
    vals[3] = res->delivered ? NULL : res->error;
    vals[4] = durs;
    vals[5] = res->retry && !res->delivered ? "true" : "false";
    vals[6] = retry_ms;
    rc = db_exec(db, "webhookq_record", sql, 7, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    found = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return found == 1 ? 0 : 1;
}

int webhookq_release(struct db *db, long long id, char *err)
{
    static const char sql[] =
        "UPDATE webhook_deliveries SET locked_until = NULL, attempted_at = NULL"
        " WHERE id = $1::bigint AND state = 'pending'";
    char ids[24];
    const char *vals[1] = { ids };
    PGresult *r;
    int rc;

    snprintf(ids, sizeof ids, "%lld", id);
    rc = db_exec(db, "webhookq_release", sql, 1, vals, &r, NULL, err);
    if (rc == DB_OK)
        PQclear(r);
    return rc;
}

int webhookq_next_due(struct db *db, long *ms, char *err)
{
    static const char sql[] =
        "SELECT ceil(extract(epoch FROM min(greatest(due_at, coalesce(locked_until, due_at))) - now())"
        " * 1000)::bigint FROM webhook_deliveries WHERE state = 'pending'";

    return db_query_due_ms(db, "webhookq_next_due", sql, ms, err);
}

void webhookq_item_clear(struct webhookq_item *it)
{
    free(it->url);
    it->url = NULL;
}

#define DELIVERY_OLD "state <> 'pending' AND coalesce(attempted_at, created_at) < " LC_RETENTION

int webhookq_prune(struct db *db, long secs, int dry, struct lc_count *out, char *err)
{
    static const char preview[] = LC_PRUNE_PREVIEW("webhook_deliveries", DELIVERY_OLD, "id::text");
    static const char batch[] = LC_PRUNE_BATCH("webhook_deliveries", "id", DELIVERY_OLD);

    return lc_prune(db, "webhookq_prune", "webhookq_prune_dry", preview, batch, secs, dry, out, err);
}

int webhookq_delete_user(struct db *db, const char *user, struct lc_count *out, char *err)
{
    /* An attempt being made now is kept (out->left). */
    static const char sql[] = LC_USER_BATCH("webhook_deliveries", "id",
                                            "state <> 'pending' OR locked_until IS NULL OR locked_until < now()");

    return lc_user_delete(db, "webhookq_delete_user", sql, user, out, err);
}
