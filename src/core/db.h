/*
 * db: one persistent PostgreSQL connection per process, with statements
 * prepared on first use and re-prepared after a reconnect. Every value goes
 * through libpq parameters; no SQL text is ever built from input.
 *
 * Callers name each statement (a short unique name) and give its text; the
 * pair must never change at run time. A lost connection is retried once at
 * the next call; when the server is still away the call answers
 * DB_UNAVAILABLE so the API can say 503 and carry on.
 *
 * struct db is owned by its opener (db_close). A PGresult handed back is
 * owned by the caller (PQclear).
 */
#ifndef ADS_DB_H
#define ADS_DB_H

#include <libpq-fe.h>

enum { DB_OK = 0, DB_ERROR = -1, DB_UNAVAILABLE = -2 };

struct db;

/* Never fails for a server that is down: the connection is made lazily. */
struct db *db_open(const char *conninfo, char *err);
void db_close(struct db *db);

/* Runs a named prepared statement. On DB_OK *res holds a tuples or command
 * result. On DB_ERROR err holds the server's message (for logs) and
 * *sqlstate (6 bytes) the SQLSTATE. */
int db_exec(struct db *db, const char *name, const char *sql, int nparams,
            const char *const *values, PGresult **res, char *sqlstate, char *err);

/* db_exec for a statement that returns no rows: *affected (may be NULL)
 * gets how many rows it touched. */
int db_command(struct db *db, const char *name, const char *sql, int nparams,
               const char *const *values, long *affected, char *err);

/* db_exec for a query answering the milliseconds until the next thing of a
 * queue is due, or NULL when nothing is: *ms gets -1 for NULL (or no row),
 * 0 for what is already due, else the number. (GREATEST(0, x) in the SQL
 * would not do: it ignores a NULL, and "nothing due" would become "now".) */
int db_query_due_ms(struct db *db, const char *name, const char *sql, long *ms, char *err);

/* Plain statement without parameters (BEGIN, COMMIT, LISTEN, migrations). */
int db_simple(struct db *db, const char *sql, char *err);

/* A transaction on this connection. While one is open a lost connection is
 * not replaced: every statement answers DB_UNAVAILABLE until db_rollback,
 * so no statement of it can run on its own on a new connection. db_commit
 * ends it whatever its outcome (DB_OK only when committed). */
int db_begin(struct db *db, char *err);
int db_commit(struct db *db, char *err);
void db_rollback(struct db *db);

/* Makes sure a connection exists; DB_OK or DB_UNAVAILABLE. */
int db_ensure(struct db *db, char *err);

/* The live connection, for LISTEN/NOTIFY and socket polling; may be NULL. */
PGconn *db_conn(struct db *db);

/* Counts the connections made: session state (LISTEN) set on an older
 * generation is gone. */
unsigned long db_generation(const struct db *db);

/* Forgets the connection so the next call reconnects. */
void db_drop(struct db *db);

#endif
