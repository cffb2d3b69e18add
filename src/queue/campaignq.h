/*
 * campaignq: the asynchronous campaign queue kept in campaign_jobs.
 *
 * POST /api/campaigns queues a validated brief (campaignq_enqueue); the
 * INSERT fires NOTIFY adsmith_campaigns. adsmith-campaigner claims due jobs
 * with FOR UPDATE SKIP LOCKED and a lease (locked_until, locked_by), counting
 * the attempt; a job is 'running' while leased. A runner that dies leaves
 * its lease to expire, and the next claim runs the job again. Every later
 * write (complete, fail, release, extend) is conditional on the lease of
 * that very claim (locked_by and the attempt number): a runner that lost
 * its lease cannot write a result, so a job has at most one. Completion
 * writes the products row and the job's status in one transaction.
 *
 * Statuses: pending -> running -> completed | failed, and running -> pending
 * again on a retryable failure (after run_after) or a release at shutdown.
 *
 * Ownership: struct campaignq_job owns its brief (campaignq_job_clear).
 * JSON handed back (*out) belongs to the caller.
 *
 * Thread-safety: the functions taking a struct db are as thread-safe as
 * that connection is (one thread per struct db). The cursor and status
 * building functions are pure and thread-safe.
 */
#ifndef ADS_CAMPAIGNQ_H
#define ADS_CAMPAIGNQ_H

#include <stddef.h>

#include <json-c/json.h>

#include "db.h"
#include "lifecycle.h"
#include "products.h"

#define CAMPAIGNQ_CHANNEL "adsmith_campaigns"

/* A new job; every string is borrowed. brief is the JSON text of
 * {"product_info", "target_markets", "campaign_objectives"}. */
struct campaignq_new {
    const char *product_id;
    const char *user_id;
    const char *correlation_id;
    const char *name;
    const char *brief;
    const char *s3_bucket;
    const char *s3_key;
    const char *callback_url;   /* may be NULL */
};

/* A claimed job. */
struct campaignq_job {
    char product_id[37];
    char user_id[129];
    char correlation_id[37];
    char s3_bucket[64];
    char s3_key[1100];
    char *brief;                /* JSON text, owned */
    int attempts;               /* including this one: the claim's token */
    double pickup_s;            /* from due (queued, retry time, lease end) to this claim */
};

/* Queues a job (pending) and wakes the campaigners. */
int campaignq_enqueue(struct db *db, const struct campaignq_new *job, char *err);

/* Claims up to max due jobs (pending and due, or running with an expired
 * lease) that have attempts left; *n gets the count. */
int campaignq_claim(struct db *db, const char *worker, long lease_secs, long max_attempts,
                    int max, struct campaignq_job *jobs, int *n, char *err);

/* Writes row into products and marks the job completed, in one
 * transaction, if this claim still holds it. 0, 1 when the lease was lost
 * (nothing written), or a DB_* error (nothing written). */
int campaignq_complete(struct db *db, const char *worker, const struct campaignq_job *job,
                       const char *generation_method, const struct product_row *row, char *err);

/* Records a failed attempt with its reason and machine code: pending again
 * after retry_ms, unless permanent or the attempts are used up: then failed
 * for good. 0, or 1 when the lease was lost. *dead set when failed for good. */
int campaignq_fail(struct db *db, const char *worker, const struct campaignq_job *job,
                   const char *code, const char *error, int permanent, long max_attempts,
                   long retry_ms, int *dead, char *err);

/* Puts a job back to pending at once without counting the attempt
 * (shutdown); the trigger wakes the other campaigners. 0, or 1 when not
 * held. */
int campaignq_release(struct db *db, const char *worker, const struct campaignq_job *job, char *err);

/* Extends the lease of held jobs to now + lease_secs; held[i] is set to 1
 * for each job still held by this claim. */
int campaignq_extend(struct db *db, const char *worker, const struct campaignq_job *const *jobs,
                     int n, long lease_secs, int *held, char *err);

/* Fails for good the running jobs whose lease expired on their last
 * attempt (code lease_expired). *n gets the count. */
int campaignq_reap(struct db *db, long max_attempts, int *n, char *err);

/* Milliseconds until the next job becomes due (a retry's run_after or an
 * expired lease); -1 when none is waiting. */
/* Queue depth for metrics: jobs pending and running. */
int campaignq_depth(struct db *db, long long *pending, long long *running, char *err);

int campaignq_next_due(struct db *db, long *ms, char *err);

void campaignq_job_clear(struct campaignq_job *job);

/* GET /api/campaigns/{product_id}: the exact JSON the route answers.
 * user NULL or "" looks in every user's jobs. 0 with *out set; 1 when there
 * is no such job (or it is another user's); <0 a DB_* error. */
int campaignq_status_json(struct db *db, const char *user, const char *product_id,
                          json_object **out, char *err);

/* One job's row as the status answer is built from it (strings borrowed;
 * NULL where the column is NULL). */
struct campaignq_status {
    const char *product_id, *status, *correlation_id, *name, *created_at, *started_at,
        *completed_at, *error, *error_code, *generation_method;
    int attempts;
};

/* Builds the status answer; column is the products row's campaign column
 * (for a completed job; may be NULL otherwise). Returns a new object. */
json_object *campaignq_status_build(const struct campaignq_status *st, json_object *column);

/* GET /api/campaigns: up to limit (1-100) of user's jobs, newest first,
 * after the cursor (NULL or "" for the first page). *out gets
 * {"campaigns": [...], "next_cursor": text or null}. 0, 1 for a cursor
 * that cannot be read, <0 a DB_* error. */
int campaignq_list_json(struct db *db, const char *user, long limit, const char *cursor,
                        json_object **out, char *err);

/* Keyset cursors: (created_at in microseconds since the epoch, product_id)
 * of the last row shown, as opaque base64url text. encode: 0, or -1 when
 * out (at least 96 bytes) is too small; decode: 0, or -1 when malformed. */
int campaignq_cursor_encode(long long created_us, const char *product_id, char *out, size_t outsz);
int campaignq_cursor_decode(const char *cursor, long long *created_us, char product_id[37]);

/* Lifecycle (lifecycle.h); pending and running jobs are never pruned.
 * Completed and failed jobs older than secs (their products rows are
 * products_prune's); dry: counts them only. */
int campaignq_prune(struct db *db, long secs, int dry, struct lc_count *out, char *err);
/* The user's campaign jobs as a new JSON array (no owner, no lease). */
int campaignq_export(struct db *db, const char *user, json_object **out, char *err);
/* Deletes the user's jobs but those a campaigner holds now (out->left). */
int campaignq_delete_user(struct db *db, const char *user, struct lc_count *out, char *err);

#endif
