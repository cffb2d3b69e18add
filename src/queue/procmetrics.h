/*
 * procmetrics: the process_metrics table (sql/010_metrics.sql), where each
 * background process keeps its latest metrics snapshot for the API's
 * GET /metrics to render.
 *
 * Every function runs one statement on the caller's connection (struct db
 * is not shared between threads); the strings passed are borrowed.
 */
#ifndef ADS_PROCMETRICS_H
#define ADS_PROCMETRICS_H

#include <time.h>

#include "db.h"
#include "metrics.h"

/* Writes (or replaces) the snapshot of instance. */
int procmetrics_put(struct db *db, const char *instance, const char *program, int pid, time_t started_at,
                    const char *snapshot, char *err);

/* procmetrics_put of a snapshot of m (metrics_snapshot). */
int procmetrics_publish(struct db *db, const char *instance, const char *program, time_t started_at,
                        struct metrics *m, char *err);

/* Called for each snapshot written within fresh_secs: age_s is its age. */
typedef void (*procmetrics_fn)(void *arg, const char *instance, const char *program, double age_s,
                               const char *snapshot);
int procmetrics_each_fresh(struct db *db, long fresh_secs, procmetrics_fn fn, void *arg, char *err);

/* Deletes snapshots older than keep_secs; *n (may be NULL) gets how many. */
int procmetrics_prune(struct db *db, long keep_secs, long *n, char *err);

#endif
