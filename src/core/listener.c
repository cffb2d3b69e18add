/* A LISTENing connection with reconnect and backoff: see listener.h. */
#include "listener.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000

void listener_init(struct listener *l, struct db *db, const char *channel, const char *what)
{
    memset(l, 0, sizeof *l);
    l->db = db;
    l->channel = channel;
    l->what = what;
    l->backoff_ms = BACKOFF_MIN_MS;
}

int listener_up(const struct listener *l)
{
    PGconn *c = db_conn(l->db);

    return l->gen != 0 && l->gen == db_generation(l->db) && c != NULL && PQstatus(c) == CONNECTION_OK;
}

int listener_ready(struct listener *l, double now)
{
    char sql[96], err[ADS_ERRSZ];

    if (listener_up(l))
        return LISTENER_UP;
    if (now < l->retry_at)
        return LISTENER_DOWN;
    snprintf(sql, sizeof sql, "LISTEN %s", l->channel);
    if (db_simple(l->db, sql, err) != DB_OK) {
        /* libpq's messages run on over several lines: the first says it. */
        log_warn("%.*s; retrying in %ld ms", (int)strcspn(err, "\n"), err, l->backoff_ms);
        l->gen = 0;
        l->retry_at = now + (double)l->backoff_ms;
        l->backoff_ms = l->backoff_ms * 2 < BACKOFF_MAX_MS ? l->backoff_ms * 2 : BACKOFF_MAX_MS;
        return LISTENER_DOWN;
    }
    l->gen = db_generation(l->db);
    l->backoff_ms = BACKOFF_MIN_MS;
    log_info("listening for %s", l->what);
    return LISTENER_FRESH;
}

void listener_lost(struct listener *l, const char *err)
{
    if (l->gen != 0)
        log_warn("database connection lost: %.*s", (int)strcspn(err, "\n"), err);
    l->gen = 0;
    db_drop(l->db);
}
