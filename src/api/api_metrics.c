/*
 * GET /metrics: the Prometheus text exposition of the whole deployment as
 * one API host sees it: the API's own counters (shared by every worker of
 * this host), the queue depths read from PostgreSQL now, and the latest
 * snapshots of the background processes (process_metrics) written within
 * three metrics_interval periods, each series labelled with its instance
 * and program. Stale snapshots are deleted after KEEP_SECS.
 *
 * nginx lets only loopback and metrics_allow reach this route; the worker
 * checks the address again, so a server block that forgets the allow list
 * still exposes nothing. With PostgreSQL away the API's own series are
 * still answered (the queue and process series are missing, and logged).
 */
#include "api_int.h"
#include "buf.h"
#include "campaignq.h"
#include "jobq.h"
#include "log.h"
#include "metrics.h"
#include "procmetrics.h"
#include "telemetry.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define KEEP_SECS 900
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static int allowed(const struct config *cfg, const char *addr)
{
    return ads_addr_in_list("127.0.0.1 ::1", addr) || ads_addr_in_list(cfg->metrics_allow, addr);
}

static void queue_gauge(struct metrics *m, const char *queue, const char *status, long long n)
{
    char labels[METRICS_LABELS_MAX] = "";

    metrics_label(labels, sizeof labels, "queue", queue);
    metrics_label(labels, sizeof labels, "status", status);
    metrics_set(m, TM_QUEUE_JOBS, labels, n);
}

static void queue_depths(struct db *db, struct metrics *m)
{
    char err[ADS_ERRSZ];
    long long pending, running;

    if (jobq_depth(db, &pending, &running, err) != DB_OK) {
        log_warn("metrics: image queue depth: %s", err);
        return;
    }
    queue_gauge(m, "images", "pending", pending);
    queue_gauge(m, "images", "running", running);
    if (campaignq_depth(db, &pending, &running, err) != DB_OK) {
        log_warn("metrics: campaign queue depth: %s", err);
        return;
    }
    queue_gauge(m, "campaigns", "pending", pending);
    queue_gauge(m, "campaigns", "running", running);
}

static void add_snapshot(void *arg, const char *instance, const char *program, double age_s, const char *snapshot)
{
    struct metrics *m = arg;
    char prefix[METRICS_LABELS_MAX] = "", err[ADS_ERRSZ];

    if (metrics_label(prefix, sizeof prefix, "instance", instance) != 0 ||
        metrics_label(prefix, sizeof prefix, "program", program) != 0)
        return;
    if (metrics_load(m, snapshot, prefix, err) != 0) {
        log_warn("metrics: snapshot of %s: %s", instance, err);
        return;
    }
    metrics_observe(m, TM_SNAPSHOT_AGE, prefix, age_s);
}

static void background(struct db *db, long interval, struct metrics *m)
{
    char err[ADS_ERRSZ];

    if (procmetrics_each_fresh(db, 3 * interval + 5, add_snapshot, m, err) != DB_OK) {
        log_warn("metrics: process snapshots: %s", err);
        return;
    }
    if (procmetrics_prune(db, KEEP_SECS, NULL, err) != DB_OK)
        log_warn("metrics: pruning process snapshots: %s", err);
}

void route_metrics(struct call *c)
{
    struct metrics *own = telemetry_registry(), *scrape, *regs[2];
    struct buf out;
    char err[ADS_ERRSZ];
    long dropped;
    int n = 0;

    if (!allowed(c->ctx->cfg, c->req->remote_addr)) {
        api_error(c, 403, "access_denied", NULL, "Metrics are not served to this address");
        return;
    }
    scrape = telemetry_new_local(err);
    if (scrape == NULL) {
        log_error("metrics: %s", err);
        api_error(c, 500, "internal_error", NULL, "Internal error");
        return;
    }
    queue_depths(c->ctx->db, scrape);
    background(c->ctx->db, c->ctx->cfg->metrics_interval, scrape);
    dropped = atomic_load(scrape->dropped) + (own != NULL ? atomic_load(own->dropped) : 0);
    metrics_set(scrape, TM_DROPPED, "", dropped);
    if (own != NULL)
        regs[n++] = own;
    regs[n++] = scrape;
    buf_init(&out);
    metrics_write(&out, regs, n);
    metrics_free(scrape);
    if (out.oom) {
        buf_free(&out);
        api_error(c, 500, "internal_error", NULL, "Internal error");
        return;
    }
    c->resp->status = 200;
    c->resp->body = buf_steal(&out);
    c->resp->content_type = CONTENT_TYPE;
}
