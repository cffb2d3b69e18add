/*
 * lifecycle: what prune, user export and user delete share, and the
 * object_deletions table (sql/009_lifecycle.sql), whose SQL lives here.
 *
 * Each table's module keeps its own prune, export and delete statements and
 * runs them through these helpers: a deletion runs in batches of LC_BATCH
 * rows, each batch one statement (its own short transaction) that takes its
 * rows with FOR UPDATE SKIP LOCKED, so it never waits on a queue's claim
 * and a queue's claim never waits on it.
 *
 * Order of deletion, and why an interruption is harmless: a row that names
 * an object (uploads, generated_images) queues that object in
 * object_deletions by trigger, in the transaction that deletes the row; the
 * object is deleted from storage afterwards (lc_objects_drain), then its
 * queue row. Stopped anywhere, no row a user can read points at a deleted
 * object, and the next run deletes whatever objects are still queued. An
 * object already gone counts as deleted. The cost of the order: an object
 * outlives its row until the drain (seconds, or until the next run).
 *
 * Functions use only the struct db given: thread-safe as long as each
 * thread has its own. JSON handed back is the caller's (json_object_put).
 */
#ifndef ADS_LIFECYCLE_H
#define ADS_LIFECYCLE_H

#include <json-c/json.h>

#include "db.h"
#include "store.h"

#define LC_BATCH 500
#define LC_SAMPLE 5

/* The statements of a prune and of a user delete, built at compile time
 * from a table's literal names and conditions (never from input). cond
 * reads the table unaliased; $1 is the retention in seconds (prune) or the
 * user (delete), $2 the batch size; RETENTION is the age limit. */
#define LC_RETENTION "now() - make_interval(secs => $1::double precision)"
#define LC_PRUNE_PREVIEW(table, cond, key) \
    "WITH v AS (SELECT " key " AS k FROM " table " WHERE " cond ")" \
    " SELECT count(*), coalesce((SELECT json_agg(k) FROM (SELECT k FROM v LIMIT 5) s), '[]') FROM v"
#define LC_PRUNE_BATCH(table, id, cond) \
    "WITH v AS (SELECT " id " FROM " table " WHERE " cond " LIMIT $2::int FOR UPDATE SKIP LOCKED)," \
    " d AS (DELETE FROM " table " t USING v WHERE t." id " = v." id " RETURNING 1)" \
    " SELECT count(*) FROM d"
#define LC_USER_BATCH(table, id, cond) \
    "WITH v AS (SELECT " id " FROM " table " WHERE user_id = $1 AND (" cond ")" \
    "  LIMIT $2::int FOR UPDATE SKIP LOCKED)," \
    " d AS (DELETE FROM " table " t USING v WHERE t." id " = v." id " RETURNING 1)" \
    " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM " table " WHERE user_id = $1) - (SELECT count(*) FROM d)"

/* What one kind of prune or delete did, or (dry run) would do. */
struct lc_count {
    long rows;                  /* rows deleted, or that a dry run would delete */
    long left;                  /* user delete: the user's rows kept (jobs running now) */
    int nsample;                /* dry run: a few keys of what would go */
    char sample[LC_SAMPLE][256];
};

/* Prunes one kind. dry: runs preview_sql ($1 retention in seconds), which
 * answers one row (count, JSON array of sample keys), into out. Else runs
 * batch_sql ($1 retention seconds, $2 batch size), which deletes one batch
 * and answers one row (rows deleted), until a batch comes back short.
 * name and dry_name name the two statements (static strings, as db.h
 * wants). */
int lc_prune(struct db *db, const char *name, const char *dry_name, const char *preview_sql, const char *batch_sql,
             long secs, int dry, struct lc_count *out, char *err);

/* Deletes a user's rows of one kind: sql ($1 user, $2 batch size) deletes
 * one batch and answers one row (rows deleted, the user's rows it kept),
 * repeated until a batch comes back short. */
int lc_user_delete(struct db *db, const char *name, const char *sql, const char *user, struct lc_count *out,
                   char *err);

/* Runs sql (nvals parameters), which answers one row holding one JSON
 * text, into *out. */
int lc_json(struct db *db, const char *name, const char *sql, int nvals, const char *const *vals,
            json_object **out, char *err);

/* Objects queued for deletion: how many, and a sample of their keys. */
int lc_objects_pending(struct db *db, struct lc_count *out, char *err);

/* Deletes the queued objects from store (a NULL bucket is assets_bucket)
 * and then their queue rows, LC_BATCH at a time, until none is left.
 * out->rows gets the objects deleted (or found already gone); out->left
 * those whose key this store can never hold (dropped from the queue). A
 * storage failure stops the drain with the error: the rest stays queued. */
int lc_objects_drain(struct db *db, struct store *store, const char *assets_bucket, struct lc_count *out,
                     char *err);

#endif
