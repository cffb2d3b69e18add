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
/* Series a scrape makes itself: the queue gauges and the dropped count. */
#define SCRAPE_OWN_SERIES 16
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

/* The fresh snapshots, held until the scrape registry is sized for them. */
struct snapshot {
    char *instance, *program, *text;
    double age_s;
};
struct snapshots {
    struct snapshot *items;
    size_t n, cap;
    long series;           /* series they hold, at most */
    int oom;
};

static void keep_snapshot(void *arg, const char *instance, const char *program, double age_s, const char *text)
{
    struct snapshots *all = arg;
    struct snapshot *one;
    const char *p;

    if (all->n == all->cap) {
        size_t cap = all->cap ? all->cap * 2 : 16;
        struct snapshot *items = realloc(all->items, cap * sizeof *items);
        if (items == NULL) {
            all->oom = 1;
            return;
        }
        all->items = items;
        all->cap = cap;
    }
    one = &all->items[all->n];
    one->instance = strdup(instance);
    one->program = strdup(program);
    one->text = strdup(text);
    one->age_s = age_s;
    if (one->instance == NULL || one->program == NULL || one->text == NULL) {
        free(one->instance);
        free(one->program);
        free(one->text);
        all->oom = 1;
        return;
    }
    all->n++;
    /* Each series of a snapshot has one "m" member. */
    for (p = text; (p = strstr(p, "\"m\"")) != NULL; p++)
        all->series++;
    all->series++;         /* its age */
}

static void snapshots_free(struct snapshots *all)
{
    size_t i;

    for (i = 0; i < all->n; i++) {
        free(all->items[i].instance);
        free(all->items[i].program);
        free(all->items[i].text);
    }
    free(all->items);
}

/* The fresh snapshots (stale ones pruned); logged and empty when the
 * database cannot say. */
static void read_snapshots(struct db *db, long interval, struct snapshots *all)
{
    char err[ADS_ERRSZ];

    if (procmetrics_each_fresh(db, 3 * interval + 5, keep_snapshot, all, err) != DB_OK) {
        log_warn("metrics: process snapshots: %s", err);
        return;
    }
    if (all->oom)
        log_warn("metrics: out of memory reading process snapshots; some are missing");
    if (procmetrics_prune(db, KEEP_SECS, NULL, err) != DB_OK)
        log_warn("metrics: pruning process snapshots: %s", err);
}

static void load_snapshots(struct metrics *m, const struct snapshots *all)
{
    char prefix[METRICS_LABELS_MAX], err[ADS_ERRSZ];
    size_t i;

    for (i = 0; i < all->n; i++) {
        const struct snapshot *one = &all->items[i];
        prefix[0] = '\0';
        if (metrics_label(prefix, sizeof prefix, "instance", one->instance) != 0 ||
            metrics_label(prefix, sizeof prefix, "program", one->program) != 0)
            continue;
        if (metrics_load(m, one->text, prefix, err) != 0) {
            log_warn("metrics: snapshot of %s: %s", one->instance, err);
            continue;
        }
        metrics_observe(m, TM_SNAPSHOT_AGE, prefix, one->age_s);
    }
}

void route_metrics(struct call *c)
{
    struct metrics *own = telemetry_registry(), *scrape, *regs[2];
    struct snapshots all;
    struct buf out;
    char err[ADS_ERRSZ];
    long dropped;
    int n = 0;

    if (!allowed(c->ctx->cfg, c->req->remote_addr)) {
        api_error(c, 403, "access_denied", NULL, "Metrics are not served to this address");
        return;
    }
    memset(&all, 0, sizeof all);
    read_snapshots(c->ctx->db, c->ctx->cfg->metrics_interval, &all);
    /* Twice the series it will hold: the table stays sparse, probes short. */
    scrape = metrics_new(telemetry_defs, TM_NFAMILIES, (int)(2 * (all.series + SCRAPE_OWN_SERIES)), 0, err);
    if (scrape == NULL) {
        snapshots_free(&all);
        log_error("metrics: %s", err);
        api_error(c, 500, "internal_error", NULL, "Internal error");
        return;
    }
    queue_depths(c->ctx->db, scrape);
    load_snapshots(scrape, &all);
    snapshots_free(&all);
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
