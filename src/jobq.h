/*
 * jobq: the image job queue kept in generated_images. A claim takes due
 * pending jobs with FOR UPDATE SKIP LOCKED and sets a lease (locked_until,
 * locked_by), counts the attempt and records claimed_at, in one statement,
 * so several generators share the queue without running a job twice at
 * once. Completion and failure are conditional on still holding the lease
 * of a pending job: a late worker cannot overwrite a result.
 *
 * A struct jobq_job owns its prompt (jobq_job_clear).
 */
#ifndef ADS_JOBQ_H
#define ADS_JOBQ_H

#include "db.h"

#define JOBQ_CHANNEL "adsmith_jobs"

struct jobq_job {
    char request_id[65];
    char user_id[129];
    char style[16];
    char aspect_ratio[8];
    char *prompt;
    int attempts;
};

/* Claims up to max jobs into jobs[]; *n gets the count. */
int jobq_claim(struct db *db, const char *worker, long lease_secs, int max,
               struct jobq_job *jobs, int *n, char *err);
/* 0 when this worker completed it; 1 when the lease was lost. */
int jobq_complete(struct db *db, const struct jobq_job *job, const char *worker,
                  const char *s3_key, const char *s3_url, char *err);
/* Records a failed attempt: retried after retry_secs unless permanent or
 * attempts reached max_attempts, then failed with the error. 0, or 1 when
 * the lease was lost. */
int jobq_fail(struct db *db, const struct jobq_job *job, const char *worker,
              const char *error, int permanent, long max_attempts, long retry_secs, char *err);
void jobq_job_clear(struct jobq_job *job);

/* The generated object key for a job at time t (out: at least 512 bytes). */
void jobq_asset_key(const struct jobq_job *job, long t, char *out, size_t outsz);

#endif
