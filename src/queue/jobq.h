/*
 * jobq: the image job queue kept in generated_images.
 *
 * A claim takes due pending jobs with FOR UPDATE SKIP LOCKED and sets a
 * lease (locked_until, locked_by), counts the attempt and records
 * claimed_at, in one statement, so several generators share the queue
 * without running a job twice at once. Every later write (complete, fail,
 * release, extend) is conditional on still holding the lease of a pending
 * job: a late worker whose lease expired cannot overwrite the result of the
 * worker that took over.
 *
 * A failed attempt goes back to pending with run_after in the future; the
 * last allowed one, or one that can never succeed, makes the job failed
 * with dead_lettered_at set (the dead_letter view). A release (shutdown,
 * throttling) puts a job back without counting the attempt.
 *
 * A struct jobq_job owns its prompt and its creative texts (jobq_job_clear).
 * Sets of jobs travel as arrays of request ids; what comes back is the
 * subset still held.
 *
 * Creatives (sql/011_creatives.sql): a request with any of the creatives
 * fields is queued by jobq_queue_set as one row per size, in one
 * transaction, all rows carrying set_id = the client's request_id (a
 * request without sizes: one row named request_id; with sizes: rows named
 * request_id.SIZE). GET /api/assets/{set_id} answers the set with outputs.
 */
#ifndef ADS_JOBQ_H
#define ADS_JOBQ_H

#include <stdio.h>

#include <json-c/json.h>

#include "db.h"
#include "lifecycle.h"

#define JOBQ_CHANNEL "adsmith_jobs"

#define JOBQ_MAX_COLORS 10

/* A job's creative fields: task "text_image" and the rest empty for a
 * plain text job (every row queued without them). */
struct jobq_creative {
    char task[24];
    char size_name[33];          /* "" when none */
    int width, height;           /* exact output size; 0: the aspect ratio's */
    char *source_bucket;         /* the source photo, NULL when none (owned) */
    char *source_key;
    unsigned int colors[JOBQ_MAX_COLORS];   /* 0xRRGGBB */
    int ncolors;
    int has_overlay;
    char *headline, *cta;        /* overlay texts, NULL when absent (owned) */
    char position[8];            /* top, bottom or center */
    char language[36];           /* the overlay's BCP 47 tag, "" when not given */
};

struct jobq_job {
    char request_id[100];
    char user_id[129];
    char style[16];
    char aspect_ratio[8];
    char *prompt;
    int attempts;            /* including this one */
    double pickup_s;         /* from due (queued, retry time, lease end) to this claim */
    struct jobq_creative cr;
};

/* A finished job to record as completed. */
struct jobq_done {
    const char *request_id;
    const char *s3_key;
    const char *s3_url;
};

/* Claims up to max due jobs that have attempts left into jobs[]; *n gets
 * the count. */
int jobq_claim(struct db *db, const char *worker, long lease_secs, long max_attempts,
               int max, struct jobq_job *jobs, int *n, char *err);

#define JOBQ_MAX_COMPLETE 256

/* Completes n (at most JOBQ_MAX_COMPLETE) jobs in one statement. held[i] is set to 1 for each job this
 * worker completed, 0 where the lease had been lost. */
int jobq_complete(struct db *db, const char *worker, const struct jobq_done *done, int n,
                  int *held, char *err);

/* Records a failed attempt: retried after retry_ms unless permanent or the
 * attempts are used up, then failed for good with the error. 0, or 1 when
 * the lease was lost. *dead is set when the job failed for good. */
int jobq_fail(struct db *db, const struct jobq_job *job, const char *worker, const char *error,
              int permanent, long max_attempts, long retry_ms, int *dead, char *err);

/* Puts jobs back to pending after delay_ms without counting the attempt
 * (error, when not NULL, is kept as the reason) and wakes the generators.
 * *n gets how many were still held. */
int jobq_release(struct db *db, const char *worker, const char *const *ids, int nids,
                 long delay_ms, const char *error, int *n, char *err);

/* Extends the leases of held jobs to now + lease_secs; held[i] as above. */
int jobq_extend(struct db *db, const char *worker, const char *const *ids, int nids,
                long lease_secs, int *held, char *err);

/* Fails for good the pending jobs with no attempt left that nobody holds:
 * their lease expired on the last attempt (generators died or hung), or
 * max_attempts was lowered under them. *n gets the count. */
int jobq_reap(struct db *db, long max_attempts, int *n, char *err);

/* Milliseconds until the next pending job becomes due (a retry's run_after
 * or an expired lease); -1 when none is waiting. */
/* Queue depth for metrics: pending jobs waiting (*pending) and held under
 * a live lease (*running). */
int jobq_depth(struct db *db, long long *pending, long long *running, char *err);

int jobq_next_due(struct db *db, long *ms, char *err);

/* Prints jobs (newest first, at most limit; status NULL for all) to f. */
int jobq_list(struct db *db, const char *status, long limit, FILE *f, char *err);

/* Puts one failed job (id) or every failed job (id NULL) back to pending
 * with a fresh count of attempts. *n gets how many. */
int jobq_retry(struct db *db, const char *id, long *n, char *err);

/* The status JSON of GET /api/assets/{id} for job id into *out (caller
 * puts it): what the route answers and what a webhook carries. user ""
 * reads any user's job. 0 found, 1 not found (nothing in *out), or a DB_*
 * error with err. */
int jobq_status_json(struct db *db, const char *user, const char *id, json_object **out, char *err);

/* A page cursor: "<created_at in epoch microseconds>.<request_id>". Clients
 * treat it as opaque; jobq_user_page checks its form. */
#define JOBQ_CURSOR_MAX 96
#define JOBQ_BAD_CURSOR 1
#define JOBQ_PAGE_MAX 100

/* One page of user's jobs, newest first (created_at, then request_id): at
 * most limit (1..JOBQ_PAGE_MAX) created before cursor (NULL or "" for the
 * first page). *items gets a new array of objects with the fields of
 * GET /api/assets/{id}; next gets the cursor of the following page, or ""
 * on the last. DB_OK, a db_* failure, or JOBQ_BAD_CURSOR (nothing read). */
int jobq_user_page(struct db *db, const char *user, const char *cursor, long limit,
                   json_object **items, char next[JOBQ_CURSOR_MAX], char *err);

void jobq_job_clear(struct jobq_job *job);

/* One row of a creatives request. */
struct jobq_row {
    const char *request_id;      /* the set id, or set_id.SIZE */
    const char *aspect_ratio;    /* the contract ratio nearest the size */
    const char *size_name;
    int width, height;
};

/* A creatives request: what every row shares, and the rows. colors_json
 * (a JSON array of "#RRGGBB") and overlay_json may be NULL; source_bucket
 * and source_key both NULL or both set; callback may be NULL. */
struct jobq_set {
    const char *set_id, *user, *prompt, *style, *hash, *callback, *task;
    const char *source_bucket, *source_key, *colors_json, *overlay_json;
    const struct jobq_row *rows;
    int nrows;
};

#define JOBQ_CONFLICT 2

/* Queues the set's rows in one transaction, serialised per set id (an
 * advisory lock), unless rows of the set or a job named set_id exist: then
 * DB_OK when every one is this user's with this hash (a repeat), else
 * JOBQ_CONFLICT and nothing written. *queued is 1 when rows were written. */
int jobq_queue_set(struct db *db, const struct jobq_set *q, int *queued, char *err);

/* The generated object key for a job at time t (out: at least 512 bytes). */
void jobq_asset_key(const struct jobq_job *job, long t, char *out, size_t outsz);

/* Retry delay after a failed attempt: base_ms * 2^(attempts-1), capped at
 * an hour, with equal jitter (half fixed, half random) so a burst of
 * failures does not come back as a burst. */
long jobq_backoff_ms(long base_ms, int attempts);

/* Lifecycle (lifecycle.h); pending jobs are never pruned. Completed jobs
 * older than secs, with their images (queued for deletion); dry: counts
 * them only. */
int jobq_prune_images(struct db *db, long secs, int dry, struct lc_count *out, char *err);
/* Failed jobs (no image) older than secs. */
int jobq_prune_failed(struct db *db, long secs, int dry, struct lc_count *out, char *err);
/* The user's jobs as a new JSON array: every column but the owner, the
 * body hash and the lease; bucket (assets_bucket) beside each s3_key. */
int jobq_export(struct db *db, const char *user, const char *assets_bucket, json_object **out, char *err);
/* Deletes the user's jobs but those a generator holds now (out->left). */
int jobq_delete_user(struct db *db, const char *user, struct lc_count *out, char *err);

#endif
