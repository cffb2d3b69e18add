/*
 * adsmith-generator: works the image job queue. LISTEN wakes it at once
 * when a job is queued; a sweep every poll_interval seconds catches missed
 * notifications and expired leases. It renders with the built-in renderer,
 * stores the PNG in the assets bucket and completes the job under its lease.
 * SIGTERM: stop claiming, finish the job in hand, exit.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "db.h"
#include "jobq.h"
#include "log.h"
#include "render.h"
#include "sigv4.h"
#include "store.h"
#include "util.h"

#define BATCH 4

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

struct gen {
    struct config cfg;
    struct db *db;
    struct store *store;
    char worker[128];
    int listening;
};

static int listen_jobs(struct gen *g, char *err)
{
    int rc = db_simple(g->db, "LISTEN " JOBQ_CHANNEL, err);

    g->listening = rc == DB_OK;
    return rc;
}

/* Waits for a notification, the sweep interval, or a signal. */
static void wait_for_work(struct gen *g)
{
    PGconn *c = db_conn(g->db);
    struct pollfd pfd;
    PGnotify *n;

    if (c == NULL || !g->listening) {
        sleep(1);
        return;
    }
    pfd.fd = PQsocket(c);
    pfd.events = POLLIN;
    if (poll(&pfd, 1, (int)g->cfg.poll_interval * 1000) < 0 && errno != EINTR)
        return;
    if (!PQconsumeInput(c)) {
        g->listening = 0;
        return;
    }
    while ((n = PQnotifies(c)) != NULL)
        PQfreemem(n);
}

static void run_job(struct gen *g, struct jobq_job *job)
{
    unsigned char *png = NULL;
    size_t len = 0;
    char key[600], err[ADS_ERRSZ], ignore[ADS_ERRSZ];
    char *url;
    double t0 = ads_now_ms();
    int rc;

    if (render_png(job->prompt, job->style, job->aspect_ratio, &png, &len, err) != 0) {
        log_error("job %s: render failed: %s", job->request_id, err);
        jobq_fail(g->db, job, g->worker, err, 1, g->cfg.max_attempts, 0, ignore);
        return;
    }
    jobq_asset_key(job, (long)time(NULL), key, sizeof key);
    {
        struct sigv4_pair meta[2] = { { "request-id", job->request_id }, { "generator", "builtin" } };
        rc = store_put_meta(g->store, g->cfg.assets_bucket, key, png, len, "image/png", meta, 2, err);
    }
    if (rc != STORE_OK) {
        long backoff = 1L << (job->attempts < 8 ? job->attempts : 8);
        free(png);
        log_error("job %s: store failed: %s (attempt %d)", job->request_id, err, job->attempts);
        jobq_fail(g->db, job, g->worker, "could not store the image", 0, g->cfg.max_attempts, backoff, ignore);
        return;
    }
    free(png);
    url = store_public_url(g->store, g->cfg.assets_bucket, key);
    rc = jobq_complete(g->db, job, g->worker, key, url ? url : "", err);
    if (rc == 1)
        log_warn("job %s: lease lost before completion; the other worker's result stands", job->request_id);
    else if (rc != DB_OK)
        log_error("job %s: completion not recorded: %s", job->request_id, err);
    else
        log_info("job %s completed in %.1f ms (%zu bytes)", job->request_id, ads_now_ms() - t0, len);
    free(url);
}

static int work_once(struct gen *g)
{
    struct jobq_job jobs[BATCH];
    char err[ADS_ERRSZ];
    int n = 0, i, rc;

    rc = jobq_claim(g->db, g->worker, g->cfg.job_lease, BATCH, jobs, &n, err);
    if (rc != DB_OK) {
        log_warn("claim failed: %s", err);
        g->listening = 0;
        return -1;
    }
    for (i = 0; i < n; i++) {
        run_job(g, &jobs[i]);
        jobq_job_clear(&jobs[i]);
    }
    return n;
}

int main(int argc, char **argv)
{
    struct gen g;
    char err[ADS_ERRSZ], host[64];
    const char *path = NULL;
    int opt, backoff = 1;
    struct sigaction sa;

    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        if (opt == 'c') {
            path = optarg;
        } else {
            fprintf(stderr, "usage: adsmith-generator [-c CONFIG]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    memset(&g, 0, sizeof g);
    if (cfg_load(&g.cfg, cfg_path(path), err) != 0) {
        fprintf(stderr, "adsmith-generator: %s\n", err);
        return 1;
    }
    log_init("adsmith-generator", (enum log_level)log_parse_level(g.cfg.log_level));
    g.db = db_open(g.cfg.database_url, err);
    g.store = store_open(&g.cfg, err);
    if (g.db == NULL || g.store == NULL) {
        fprintf(stderr, "adsmith-generator: %s\n", err);
        return 1;
    }
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(g.worker, sizeof g.worker, "%s:%d", host, (int)getpid());
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    log_info("generator %s started (sweep every %ld s)", g.worker, g.cfg.poll_interval);
    while (!got_term) {
        int n;
        if (!g.listening) {
            if (listen_jobs(&g, err) != DB_OK) {
                log_warn("%s; retrying in %d s", err, backoff);
                sleep((unsigned)backoff);
                backoff = backoff < 30 ? backoff * 2 : 30;
                continue;
            }
            backoff = 1;
            log_info("listening for jobs");
        }
        n = work_once(&g);
        if (n == BATCH || got_term)
            continue;
        if (n >= 0)
            wait_for_work(&g);
    }
    log_info("generator stopped");
    db_close(g.db);
    store_close(g.store);
    cfg_free(&g.cfg);
    return 0;
}
