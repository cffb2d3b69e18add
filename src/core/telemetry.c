#include "telemetry.h"

#include <stdio.h>
#include <string.h>

/* API requests: a health check in a millisecond, a campaign in up to 60 s. */
static const double api_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
/* Jobs wait for a notification (milliseconds) or a sweep, a retry's backoff
 * (seconds to an hour); they run from a cairo drawing to a minute's call. */
static const double job_bounds[] = { 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600 };
static const double call_bounds[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };

#define NB(a) ((int)(sizeof(a) / sizeof((a)[0])))

const struct metric_def telemetry_defs[TM_NFAMILIES] = {
    [TM_API_REQUESTS] = { "adsmith_api_requests_total",
        "API requests answered, by worker pool, method, route pattern and status.", METRIC_COUNTER, NULL, 0, 1 },
    [TM_API_DURATION] = { "adsmith_api_request_duration_seconds",
        "Time from a worker's accept to its response, by method and route pattern.", METRIC_HISTOGRAM,
        api_bounds, NB(api_bounds), 1e9 },
    [TM_API_IN_FLIGHT] = { "adsmith_api_requests_in_flight",
        "API requests being served now, by worker pool.", METRIC_GAUGE, NULL, 0, 1 },
    [TM_API_RESTARTS] = { "adsmith_api_worker_restarts_total",
        "API workers that died and were replaced, by pool.", METRIC_COUNTER, NULL, 0, 1 },
    [TM_QUEUE_JOBS] = { "adsmith_queue_jobs",
        "Jobs in each queue table by status, read from PostgreSQL at scrape time.", METRIC_GAUGE, NULL, 0, 1 },
    [TM_JOBS] = { "adsmith_jobs_total",
        "Job attempts ended, by queue and outcome (completed, retried, throttled, failed, dead_lettered, "
        "released, lease_lost).", METRIC_COUNTER, NULL, 0, 1 },
    [TM_JOBS_RUNNING] = { "adsmith_jobs_running",
        "Jobs a process holds now, by queue.", METRIC_GAUGE, NULL, 0, 1 },
    [TM_JOB_PICKUP] = { "adsmith_job_pickup_seconds",
        "Time from a job being due (queued, or its retry time) to its claim, by queue.", METRIC_HISTOGRAM,
        job_bounds, NB(job_bounds), 1e9 },
    [TM_JOB_DURATION] = { "adsmith_job_duration_seconds",
        "Time from a job's claim to its result, by queue.", METRIC_HISTOGRAM, job_bounds, NB(job_bounds), 1e9 },
    [TM_OUTCALL_ATTEMPTS] = { "adsmith_outcall_attempts_total",
        "Outbound HTTP attempts (model, vision, video and storage calls), by service.", METRIC_COUNTER, NULL, 0, 1 },
    [TM_OUTCALL_ERRORS] = { "adsmith_outcall_errors_total",
        "Outbound HTTP attempts that failed, by service and class (retry, throttled, permanent).",
        METRIC_COUNTER, NULL, 0, 1 },
    [TM_OUTCALL_DURATION] = { "adsmith_outcall_duration_seconds",
        "Duration of one outbound HTTP attempt, by service.", METRIC_HISTOGRAM, call_bounds, NB(call_bounds), 1e9 },
    [TM_MODEL_TOKENS] = { "adsmith_model_tokens_total",
        "Tokens text models reported, by provider and direction (input, output).", METRIC_COUNTER, NULL, 0, 1 },
    [TM_MODEL_COST] = { "adsmith_model_cost_usd_total",
        "Estimated text model cost in US dollars (price_*_per_mtok), by provider.", METRIC_COUNTER, NULL, 0, 1e6 },
    [TM_DB_RECONNECTS] = { "adsmith_db_reconnects_total",
        "PostgreSQL connections made again after one was lost.", METRIC_COUNTER, NULL, 0, 1 },
    [TM_SNAPSHOT_AGE] = { "adsmith_metrics_snapshot_age_seconds",
        "Age of each background process's last metrics snapshot, by instance and program.", METRIC_GAUGE,
        NULL, 0, 1e3 },
    [TM_DROPPED] = { "adsmith_metrics_dropped_total",
        "Metric records lost because a registry's series table was full.", METRIC_COUNTER, NULL, 0, 1 },
};

static struct metrics *reg;

int telemetry_init(int shared, char *err)
{
    if (reg != NULL)
        return 0;
    reg = metrics_new(telemetry_defs, TM_NFAMILIES, TELEMETRY_SERIES, shared, err);
    return reg != NULL ? 0 : -1;
}

struct metrics *telemetry_registry(void)
{
    return reg;
}

void telemetry_shutdown(void)
{
    metrics_free(reg);
    reg = NULL;
}

/* Methods a route can have; anything else is one word. */
static const char *method_word(const char *m)
{
    static const char *const known[] = { "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS" };
    size_t i;

    for (i = 0; m != NULL && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return "other";
}

/* A route pattern as a label: a trailing star becomes {id} ({key} for objects). */
static void route_word(const char *pattern, char *out, size_t outsz)
{
    size_t n;

    if (pattern == NULL) {
        snprintf(out, outsz, "unmatched");
        return;
    }
    n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*')
        snprintf(out, outsz, "%.*s%s", (int)(n - 1), pattern, strncmp(pattern, "/objects/", 9) == 0 ? "{key}" : "{id}");
    else
        snprintf(out, outsz, "%s", pattern);
}

void telemetry_api_request(const char *pool, const char *method, const char *route, int status, double seconds)
{
    char labels[METRICS_LABELS_MAX] = "", r[128], st[16];

    if (reg == NULL)
        return;
    route_word(route, r, sizeof r);
    snprintf(st, sizeof st, "%d", status);
    metrics_label(labels, sizeof labels, "method", method_word(method));
    metrics_label(labels, sizeof labels, "route", r);
    metrics_observe(reg, TM_API_DURATION, labels, seconds);
    /* The counter's labels are the histogram's and two more. */
    metrics_label(labels, sizeof labels, "pool", pool);
    metrics_label(labels, sizeof labels, "status", st);
    metrics_add(reg, TM_API_REQUESTS, labels, 1);
}

static void add1(int family, const char *name, const char *value, long long n)
{
    char labels[METRICS_LABELS_MAX] = "";

    if (reg == NULL)
        return;
    metrics_label(labels, sizeof labels, name, value);
    metrics_add(reg, family, labels, n);
}

static void observe1(int family, const char *name, const char *value, double v)
{
    char labels[METRICS_LABELS_MAX] = "";

    if (reg == NULL)
        return;
    metrics_label(labels, sizeof labels, name, value);
    metrics_observe(reg, family, labels, v);
}

void telemetry_api_in_flight(const char *pool, int delta)
{
    add1(TM_API_IN_FLIGHT, "pool", pool, delta);
}

void telemetry_api_restart(const char *pool)
{
    add1(TM_API_RESTARTS, "pool", pool, 1);
}

void telemetry_job_outcome(const char *queue, const char *outcome, long n)
{
    char labels[METRICS_LABELS_MAX] = "";

    if (reg == NULL || n <= 0)
        return;
    metrics_label(labels, sizeof labels, "queue", queue);
    metrics_label(labels, sizeof labels, "outcome", outcome);
    metrics_add(reg, TM_JOBS, labels, n);
}

void telemetry_job_pickup(const char *queue, double seconds)
{
    observe1(TM_JOB_PICKUP, "queue", queue, seconds < 0 ? 0 : seconds);
}

void telemetry_job_duration(const char *queue, double seconds)
{
    observe1(TM_JOB_DURATION, "queue", queue, seconds < 0 ? 0 : seconds);
}

void telemetry_jobs_running(const char *queue, int delta)
{
    add1(TM_JOBS_RUNNING, "queue", queue, delta);
}

void telemetry_outcall(const char *service, const char *cls, double seconds)
{
    char labels[METRICS_LABELS_MAX] = "";

    if (reg == NULL)
        return;
    metrics_label(labels, sizeof labels, "service", service);
    metrics_add(reg, TM_OUTCALL_ATTEMPTS, labels, 1);
    metrics_observe(reg, TM_OUTCALL_DURATION, labels, seconds < 0 ? 0 : seconds);
    if (cls == NULL)
        return;
    metrics_label(labels, sizeof labels, "class", cls);
    metrics_add(reg, TM_OUTCALL_ERRORS, labels, 1);
}

void telemetry_model_usage(const char *provider, long long input_tokens, long long output_tokens, double cost_usd)
{
    char labels[METRICS_LABELS_MAX] = "";

    if (reg == NULL)
        return;
    metrics_label(labels, sizeof labels, "provider", provider);
    if (cost_usd > 0)
        metrics_observe(reg, TM_MODEL_COST, labels, cost_usd);
    metrics_label(labels, sizeof labels, "direction", "input");
    if (input_tokens > 0)
        metrics_add(reg, TM_MODEL_TOKENS, labels, input_tokens);
    labels[0] = '\0';
    metrics_label(labels, sizeof labels, "provider", provider);
    metrics_label(labels, sizeof labels, "direction", "output");
    if (output_tokens > 0)
        metrics_add(reg, TM_MODEL_TOKENS, labels, output_tokens);
}

void telemetry_db_reconnect(void)
{
    if (reg != NULL)
        metrics_add(reg, TM_DB_RECONNECTS, "", 1);
}
