/*
 * telemetry: what adsmith measures. The table of its metric families
 * (names, types, help, buckets), the process's registry, and one call per
 * event, so the code that sees an event names it in one line and the
 * label sets stay bounded (routes as patterns, fixed outcome words).
 *
 * Each program sets the process registry once at start, before any thread
 * or fork (telemetry_init: shared for the API master, whose workers fork
 * from it; local for the generator and the campaigner). Without one (the
 * CLI, unit tests) every recorder is a no-op.
 *
 * Thread-safety: every telemetry_* recorder may be called from any thread
 * (atomic adds on the registry). telemetry_init and telemetry_shutdown are
 * for the program's main thread alone.
 */
#ifndef ADS_TELEMETRY_H
#define ADS_TELEMETRY_H

#include "metrics.h"

enum telemetry_family {
    TM_API_REQUESTS,          /* adsmith_api_requests_total{pool,method,route,status} */
    TM_API_DURATION,          /* adsmith_api_request_duration_seconds{method,route} */
    TM_API_IN_FLIGHT,         /* adsmith_api_requests_in_flight{pool} */
    TM_API_RESTARTS,          /* adsmith_api_worker_restarts_total{pool} */
    TM_QUEUE_JOBS,            /* adsmith_queue_jobs{queue,status} (set at scrape) */
    TM_JOBS,                  /* adsmith_jobs_total{queue,outcome} */
    TM_JOBS_RUNNING,          /* adsmith_jobs_running{queue} */
    TM_JOB_PICKUP,            /* adsmith_job_pickup_seconds{queue} */
    TM_JOB_DURATION,          /* adsmith_job_duration_seconds{queue} */
    TM_OUTCALL_ATTEMPTS,      /* adsmith_outcall_attempts_total{service} */
    TM_OUTCALL_ERRORS,        /* adsmith_outcall_errors_total{service,class} */
    TM_OUTCALL_DURATION,      /* adsmith_outcall_duration_seconds{service} */
    TM_MODEL_TOKENS,          /* adsmith_model_tokens_total{provider,direction} */
    TM_MODEL_COST,            /* adsmith_model_cost_usd_total{provider} */
    TM_DB_RECONNECTS,         /* adsmith_db_reconnects_total */
    TM_SNAPSHOT_AGE,          /* adsmith_metrics_snapshot_age_seconds (set at scrape) */
    TM_DROPPED,               /* adsmith_metrics_dropped_total (set at scrape) */
    TM_NFAMILIES
};

extern const struct metric_def telemetry_defs[TM_NFAMILIES];

/* Series room of a registry: every label set adsmith makes fits many times. */
#define TELEMETRY_SERIES 2048

/* Makes the process registry (shared: in memory that children forked
 * later share). 0, or -1 with a message. */
int telemetry_init(int shared, char *err);
/* The process registry, or NULL. */
struct metrics *telemetry_registry(void);
void telemetry_shutdown(void);

/* ---- recorders ---- */

/* A finished API request: route is the pattern that matched ("*" written
 * as {id}) or NULL for none; seconds from accept to response. */
void telemetry_api_request(const char *pool, const char *method, const char *route, int status, double seconds);
void telemetry_api_in_flight(const char *pool, int delta);
void telemetry_api_restart(const char *pool);

/* Background jobs. queue: "images" or "campaigns". outcome: completed,
 * retried, throttled, failed (for good, a permanent error),
 * dead_lettered (attempts or leases used up), released, lease_lost. */
void telemetry_job_outcome(const char *queue, const char *outcome, long n);
void telemetry_job_pickup(const char *queue, double seconds);
void telemetry_job_duration(const char *queue, double seconds);
void telemetry_jobs_running(const char *queue, int delta);

/* One outbound attempt of service (outcall's `what`) that took seconds;
 * cls: NULL when it succeeded, else "retry", "throttled" or "permanent". */
void telemetry_outcall(const char *service, const char *cls, double seconds);

/* Tokens and cost a text model reported for one campaign. */
void telemetry_model_usage(const char *provider, long long input_tokens, long long output_tokens, double cost_usd);

void telemetry_db_reconnect(void);

#endif
