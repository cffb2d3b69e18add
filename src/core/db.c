#include "db.h"
#include "log.h"
#include "telemetry.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define DB_MAX_PREPARED 64

struct db {
    char *conninfo;
    PGconn *conn;
    const char *prepared[DB_MAX_PREPARED];   /* statement names, static storage */
    int nprepared;
    unsigned long generation;   /* connections made so far */
    int in_tx;                  /* between db_begin and db_commit/db_rollback */
};

struct db *db_open(const char *conninfo, char *err)
{
    struct db *db = calloc(1, sizeof *db);

    if (db == NULL || (db->conninfo = strdup(conninfo)) == NULL) {
        free(db);
        ads_errf(err, "out of memory");
        return NULL;
    }
    return db;
}

void db_drop(struct db *db)
{
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    db->nprepared = 0;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    db_drop(db);
    free(db->conninfo);
    free(db);
}

static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int db_ensure(struct db *db, char *err)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return DB_OK;
    if (db->in_tx) {
        /* A new connection would run the rest of the transaction's
         * statements on their own: the transaction is lost, say so. */
        ads_errf(err, "database unavailable: connection lost inside a transaction");
        db_drop(db);
        return DB_UNAVAILABLE;
    }
    db_drop(db);
    db->conn = PQconnectdb(db->conninfo);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        /* libpq's message can echo connection parameters; keep it out of
         * client answers, log only the first line. */
        const char *m = PQerrorMessage(db->conn);
        ads_errf(err, "database unavailable: %.*s", (int)strcspn(m, "\n"), m);
        db_drop(db);
        return DB_UNAVAILABLE;
    }
    PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
    if (db->generation > 0)
        telemetry_db_reconnect();
    db->generation++;
    return DB_OK;
}

PGconn *db_conn(struct db *db)
{
    return db->conn;
}

unsigned long db_generation(const struct db *db)
{
    return db->generation;
}

static int is_prepared(const struct db *db, const char *name)
{
    int i;

    for (i = 0; i < db->nprepared; i++)
        if (strcmp(db->prepared[i], name) == 0)
            return 1;
    return 0;
}

static void copy_error(const PGresult *r, PGconn *c, char *sqlstate, char *err)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);

    if (sqlstate != NULL)
        snprintf(sqlstate, 6, "%s", st ? st : "");
    ads_errf(err, "%.*s", (int)strcspn(m, "\n"), m);
}

static int prepare(struct db *db, const char *name, const char *sql, int nparams,
                   char *sqlstate, char *err)
{
    PGresult *r;

    if (is_prepared(db, name))
        return DB_OK;
    r = PQprepare(db->conn, name, sql, nparams, NULL);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        copy_error(r, db->conn, sqlstate, err);
        PQclear(r);
        return PQstatus(db->conn) == CONNECTION_OK ? DB_ERROR : DB_UNAVAILABLE;
    }
    PQclear(r);
    if (db->nprepared < DB_MAX_PREPARED)
        db->prepared[db->nprepared++] = name;
    return DB_OK;
}

static int exec_once(struct db *db, const char *name, const char *sql, int nparams,
                     const char *const *values, PGresult **res, char *sqlstate, char *err)
{
    PGresult *r;
    ExecStatusType st;
    int rc;

    rc = db_ensure(db, err);
    if (rc != DB_OK)
        return rc;
    rc = prepare(db, name, sql, nparams, sqlstate, err);
    if (rc != DB_OK)
        return rc;
    r = PQexecPrepared(db->conn, name, nparams, values, NULL, NULL, 0);
    st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        *res = r;
        return DB_OK;
    }
    copy_error(r, db->conn, sqlstate, err);
    PQclear(r);
    return PQstatus(db->conn) == CONNECTION_OK ? DB_ERROR : DB_UNAVAILABLE;
}

int db_exec(struct db *db, const char *name, const char *sql, int nparams,
            const char *const *values, PGresult **res, char *sqlstate, char *err)
{
    int rc;
    int had_conn = db->conn != NULL;

    *res = NULL;
    if (sqlstate != NULL)
        sqlstate[0] = '\0';
    rc = exec_once(db, name, sql, nparams, values, res, sqlstate, err);
    /* A connection that died while idle (server restart) fails on first
     * use; one fresh attempt makes the restart invisible to clients. */
    if (rc == DB_UNAVAILABLE && had_conn && !db->in_tx) {
        db_drop(db);
        rc = exec_once(db, name, sql, nparams, values, res, sqlstate, err);
    }
    return rc;
}

int db_simple(struct db *db, const char *sql, char *err)
{
    PGresult *r;
    ExecStatusType st;
    int rc = db_ensure(db, err);

    if (rc != DB_OK)
        return rc;
    r = PQexec(db->conn, sql);
    st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return DB_OK;
    }
    copy_error(r, db->conn, NULL, err);
    PQclear(r);
    return PQstatus(db->conn) == CONNECTION_OK ? DB_ERROR : DB_UNAVAILABLE;
}

int db_begin(struct db *db, char *err)
{
    int rc;

    if (db->in_tx) {
        ads_errf(err, "a transaction is already open");
        return DB_ERROR;
    }
    rc = db_simple(db, "BEGIN", err);
    if (rc == DB_OK)
        db->in_tx = 1;
    return rc;
}

int db_commit(struct db *db, char *err)
{
    int rc = db_simple(db, "COMMIT", err);

    db->in_tx = 0;
    return rc;
}

void db_rollback(struct db *db)
{
    char err[ADS_ERRSZ];

    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK && db_simple(db, "ROLLBACK", err) != DB_OK)
        db_drop(db);
    db->in_tx = 0;
}

int db_command(struct db *db, const char *name, const char *sql, int nparams,
               const char *const *values, long *affected, char *err)
{
    PGresult *r;
    int rc = db_exec(db, name, sql, nparams, values, &r, NULL, err);

    if (affected != NULL)
        *affected = rc == DB_OK ? atol(PQcmdTuples(r)) : 0;
    if (rc == DB_OK)
        PQclear(r);
    return rc;
}

int db_query_due_ms(struct db *db, const char *name, const char *sql, long *ms, char *err)
{
    PGresult *r;
    int rc = db_exec(db, name, sql, 0, NULL, &r, NULL, err);

    *ms = -1;
    if (rc != DB_OK)
        return rc;
    if (PQntuples(r) == 1 && PQnfields(r) >= 1 && !PQgetisnull(r, 0, 0)) {
        *ms = atol(PQgetvalue(r, 0, 0));
        if (*ms < 0)
            *ms = 0;
    }
    PQclear(r);
    return DB_OK;
}
