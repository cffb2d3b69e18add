/*
 * adsmith-campaigner: runs the asynchronous campaigns queued in
 * campaign_jobs (POST /api/campaigns).
 *
 * Many campaigns at once with bounded memory: a fixed pool of
 * campaign_concurrency threads, each running one campaign_run at a time,
 * and one main thread that alone owns the PostgreSQL connection. The main
 * thread LISTENs (NOTIFY adsmith_campaigns wakes it at once; a sweep every
 * poll_interval seconds catches the rest), claims as many due jobs as there
 * are idle threads in one statement, hands them to the pool through a
 * mutex/condvar queue, extends their leases every job_lease/3 seconds, and
 * writes each result under its lease: completion (the products row and the
 * job's status in one transaction), a failure (retried after a backoff, or
 * failed for good with its code), or a release.
 *
 * Threads: a task's job and deadline are written by the main thread before
 * it is queued; its result by the pool thread that ran it, before it is
 * marked done; the state and the queue are guarded by the pool's mutex, so
 * each side reads what the other wrote only after that hand-over. Nothing
 * json-c crosses threads: a pool thread parses the brief itself and hands
 * back the product row as text. Each pool thread opens its own object store
 * (the S3 driver's curl handle is not thread-safe); the config and the
 * knowledge base are shared read-only.
 *
 * PostgreSQL lost: finished results wait in memory, the main thread
 * reconnects with backoff (0.25 s doubling to 30 s), LISTENs again, then
 * writes them (a result whose lease another campaigner took meanwhile is
 * dropped: that one runs the job again).
 *
 * SIGTERM/SIGINT: stop claiming; the campaigns running get shutdown_grace
 * seconds, those not started yet go back to pending at once, and at the end
 * of the grace the rest too (the attempt not counted), then exit.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "campaign.h"
#include "campaignq.h"
#include "cfg.h"
#include "db.h"
#include "jobq.h"
#include "kb.h"
#include "listener.h"
#include "wakeup.h"
#include "log.h"
#include "procmetrics.h"
#include "telemetry.h"
#include "products.h"
#include "store.h"
#include "util.h"

#define CLAIM_BATCH 32
/* After the grace period, how long to keep trying to release jobs to a
 * database that is away before leaving them to lease expiry. */
#define RELEASE_WAIT_MS 5000




enum task_state { T_FREE = 0, T_QUEUED, T_RUNNING, T_DONE };
enum outcome { OUT_COMPLETE, OUT_FAIL, OUT_RELEASE };

struct task {
    /* Written by the main thread before the task is queued. */
    struct campaignq_job job;
    double deadline_ms;
    /* Written by the pool thread before the task is done. */
    enum outcome out;
    int permanent;
    char code[32];
    char error[ADS_ERRSZ];
    const char *method;          /* static */
    struct product_row row;
    double run_ms;
    /* Guarded by pool.lock. */
    enum task_state state;
    struct task *next;
    /* Main thread only. */
    int released;                /* given back at the end of the grace */
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct task *head, *tail;
    int stop;
};

struct runner {
    struct config cfg;
    struct kb *kb;
    struct db *db;
    struct pool pool;
    pthread_t *threads;
    int nthreads;
    struct task *tasks;
    int ntasks, busy;            /* busy: tasks not FREE (main thread only) */
    char worker[128];
    struct listener lsn;         /* the connection and its LISTEN */
    int more;
    double next_sweep, next_heartbeat, next_due;
    int draining;
    double drain_deadline;
    long completed, failed, retried, released, lost;
    time_t started_at;
    double next_metrics;         /* the next snapshot into process_metrics */
};

#define QUEUE "campaigns"
#define PROGRAM "adsmith-campaigner"

/* ------------------------------------------------------------ pool side */

/* The reason is prefix and detail ("image: " and the decoder's message). */
static void set_fail(struct task *t, const char *code, int permanent, const char *prefix, const char *detail)
{
    t->out = OUT_FAIL;
    t->permanent = permanent;
    snprintf(t->code, sizeof t->code, "%s", code);
    snprintf(t->error, sizeof t->error, "%s%.*s", prefix, (int)(sizeof t->error - 1 - strlen(prefix)), detail);
}

static json_object *section_of(json_object *brief, const char *name, json_type type)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(brief, name, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* Runs one campaign on this pool thread with its own store. */
static void run_task(const struct runner *r, struct store *store, struct task *t)
{
    struct campaign_input in;
    struct campaign_result res;
    json_object *brief = NULL, *product, *markets_obj, *markets = NULL, *objectives, *column;
    char err[ADS_ERRSZ], *image = NULL, *url;
    size_t image_len = 0;
    double started = ads_now_ms();
    int rc;

    if (store == NULL) {
        set_fail(t, "storage_error", 0, "", "Object storage is not available");
        return;
    }
    rc = store_get(store, t->job.s3_bucket, t->job.s3_key, STORE_MAX_UPLOAD, &image, &image_len, err);
    if (rc == STORE_NOT_FOUND) {
        set_fail(t, "not_found", 1, "", "The image has not been uploaded yet");
        return;
    }
    if (rc != STORE_OK) {
        log_error("campaign %s: image read: %s", t->job.correlation_id, err);
        set_fail(t, "storage_error", 0, "", store_error_text(rc));
        return;
    }
    brief = json_tokener_parse(t->job.brief);
    product = section_of(brief, "product_info", json_type_object);
    markets_obj = section_of(brief, "target_markets", json_type_object);
    objectives = section_of(brief, "campaign_objectives", json_type_object);
    if (markets_obj != NULL)
        markets = section_of(markets_obj, "markets", json_type_array);
    if (product == NULL || markets == NULL || objectives == NULL) {
        free(image);
        json_object_put(brief);
        set_fail(t, "internal_error", 1, "", "The queued brief cannot be read");
        return;
    }
    url = store_public_url(store, t->job.s3_bucket, t->job.s3_key);
    memset(&in, 0, sizeof in);
    in.product_info = product;
    in.markets = markets;
    in.objectives = objectives;
    in.image = image;
    in.image_len = image_len;
    in.image_url = url;
    in.s3_key = t->job.s3_key;
    in.deadline_ms = t->deadline_ms;
    rc = campaign_run(&r->cfg, r->kb, &in, &res, err);
    free(image);
    free(url);
    if (rc == CAMPAIGN_DEADLINE) {
        log_warn("campaign %s: %s; nothing saved", t->job.correlation_id, err);
        set_fail(t, "deadline_exceeded", 1, "", "The campaign did not finish in time; nothing was saved");
    } else if (rc == CAMPAIGN_BAD_IMAGE) {
        set_fail(t, "invalid_image", 1, "image: ", err);
    } else if (rc != CAMPAIGN_OK) {
        set_fail(t, "internal_error", 0, "", err);
    } else {
        size_t i;
        column = products_campaign_column(t->job.correlation_id, res.generation_method, res.campaign, res.usage,
                                          res.cost_usd, res.warnings, ads_now_ms() - started);
        memset(&t->row, 0, sizeof t->row);
        t->row.product_id = t->job.product_id;
        t->row.user_id = t->job.user_id;
        t->row.correlation_id = t->job.correlation_id;
        t->row.s3_bucket = t->job.s3_bucket;
        t->row.s3_key = t->job.s3_key;
        if (products_row_fill(&t->row, product, markets_obj, objectives, res.image_analysis, res.youtube_data,
                              res.cultural_data, column, err) != 0) {
            set_fail(t, "internal_error", 0, "", err);
        } else {
            t->out = OUT_COMPLETE;
            t->method = res.generation_method;
        }
        for (i = 0; i < json_object_array_length(res.warnings); i++)
            log_warn("campaign %s: %s", t->job.correlation_id,
                     json_object_get_string(json_object_array_get_idx(res.warnings, i)));
        json_object_put(column);
        campaign_result_free(&res);
    }
    json_object_put(brief);
    t->run_ms = ads_now_ms() - started;
}

static void *pool_thread(void *arg)
{
    struct runner *r = arg;
    struct pool *p = &r->pool;
    char err[ADS_ERRSZ];
    struct store *store = store_open(&r->cfg, err);

    if (store == NULL)
        log_error("campaign thread: object store: %s", err);
    for (;;) {
        struct task *t;
        pthread_mutex_lock(&p->lock);
        while (p->head == NULL && !p->stop)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->head == NULL) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        t = p->head;
        p->head = t->next;
        if (p->head == NULL)
            p->tail = NULL;
        t->next = NULL;
        t->state = T_RUNNING;
        pthread_mutex_unlock(&p->lock);

        run_task(r, store, t);

        pthread_mutex_lock(&p->lock);
        t->state = T_DONE;
        pthread_mutex_unlock(&p->lock);
        wakeup_poke();
    }
    store_close(store);
    return NULL;
}

/* ------------------------------------------------------------ main side */

static void db_lost(struct runner *r, const char *err)
{
    listener_lost(&r->lsn, err);
}

/* Makes sure we are connected and LISTENing on this connection. */
static int db_ready(struct runner *r, double now)
{
    int rc = listener_ready(&r->lsn, now);

    if (rc == LISTENER_FRESH)
        r->more = 1;                 /* notifications may have been missed */
    return rc != LISTENER_DOWN;
}

static enum task_state state_of(struct runner *r, struct task *t)
{
    enum task_state s;

    pthread_mutex_lock(&r->pool.lock);
    s = t->state;
    pthread_mutex_unlock(&r->pool.lock);
    return s;
}

static void task_free(struct runner *r, struct task *t)
{
    campaignq_job_clear(&t->job);
    products_row_clear(&t->row);
    pthread_mutex_lock(&r->pool.lock);
    t->state = T_FREE;
    pthread_mutex_unlock(&r->pool.lock);
    t->released = 0;
    r->busy--;
    telemetry_jobs_running(QUEUE, -1);
}

static void due_at(struct runner *r, double t)
{
    if (r->next_due <= 0 || t < r->next_due)
        r->next_due = t;
}

static void start_task(struct runner *r, struct campaignq_job *job, double now)
{
    struct task *t = NULL;
    int i;

    for (i = 0; i < r->ntasks && t == NULL; i++)
        if (state_of(r, &r->tasks[i]) == T_FREE)
            t = &r->tasks[i];
    if (t == NULL) {                 /* cannot happen: claims ask for idle threads only */
        campaignq_job_clear(job);
        return;
    }
    t->job = *job;
    t->deadline_ms = now + (double)r->cfg.campaign_deadline_ms;
    t->out = OUT_FAIL;
    t->permanent = 0;
    t->code[0] = t->error[0] = '\0';
    t->method = NULL;
    memset(&t->row, 0, sizeof t->row);
    t->run_ms = 0;
    r->busy++;
    telemetry_jobs_running(QUEUE, 1);
    telemetry_job_pickup(QUEUE, job->pickup_s);
    log_info("campaign %s product %s user %s claimed (attempt %d)", job->correlation_id, job->product_id,
             job->user_id, job->attempts);
    pthread_mutex_lock(&r->pool.lock);
    t->state = T_QUEUED;
    t->next = NULL;
    if (r->pool.tail != NULL)
        r->pool.tail->next = t;
    else
        r->pool.head = t;
    r->pool.tail = t;
    pthread_cond_signal(&r->pool.work);
    pthread_mutex_unlock(&r->pool.lock);
}

static void claim(struct runner *r, double now)
{
    static struct campaignq_job jobs[CLAIM_BATCH];
    int room = r->ntasks - r->busy, n = 0, i, rc;
    char err[ADS_ERRSZ];

    if (room > CLAIM_BATCH)
        room = CLAIM_BATCH;
    if (room <= 0)
        return;
    rc = campaignq_claim(r->db, r->worker, r->cfg.job_lease, r->cfg.max_attempts, room, jobs, &n, err);
    if (rc == DB_UNAVAILABLE) {
        db_lost(r, err);
        return;
    }
    if (rc != DB_OK) {
        log_error("claim failed: %s", err);
        r->more = 0;
        return;
    }
    for (i = 0; i < n; i++)
        start_task(r, &jobs[i], now);
    r->more = n == room;
    if (n < room) {
        long ms = -1;
        r->next_due = 0;
        if (campaignq_next_due(r->db, &ms, err) == DB_OK && ms >= 0)
            due_at(r, now + (double)ms);
    }
}

/* Writes one finished task; 0 when done with it, -1 when the database went
 * away (the task waits). */
static int write_result(struct runner *r, struct task *t)
{
    const struct campaignq_job *j = &t->job;
    char err[ADS_ERRSZ];
    long delay = 0;
    int rc, dead = 0;

    if (t->out == OUT_COMPLETE) {
        rc = campaignq_complete(r->db, r->worker, j, t->method, &t->row, err);
        if (rc == DB_OK) {
            r->completed++;
            telemetry_job_outcome(QUEUE, "completed", 1);
            log_info("campaign %s product %s user %s method %s completed in %.1f ms", j->correlation_id,
                     j->product_id, j->user_id, t->method, t->run_ms);
        }
    } else if (t->out == OUT_RELEASE) {
        rc = campaignq_release(r->db, r->worker, j, err);
        r->released += rc == DB_OK;
        telemetry_job_outcome(QUEUE, "released", rc == DB_OK);
    } else {
        delay = jobq_backoff_ms(r->cfg.retry_backoff_ms, j->attempts);
        rc = campaignq_fail(r->db, r->worker, j, t->code, t->error, t->permanent, r->cfg.max_attempts, delay,
                            &dead, err);
        if (rc == DB_OK && dead) {
            r->failed++;
            telemetry_job_outcome(QUEUE, t->permanent ? "failed" : "dead_lettered", 1);
            log_warn("campaign %s product %s failed (%s) after %d attempt(s): %s", j->correlation_id,
                     j->product_id, t->code, j->attempts, t->error);
        } else if (rc == DB_OK) {
            r->retried++;
            telemetry_job_outcome(QUEUE, "retried", 1);
            due_at(r, ads_now_ms() + (double)delay);
            log_warn("campaign %s product %s: attempt %d failed (%s), retried: %s", j->correlation_id,
                     j->product_id, j->attempts, t->code, t->error);
        }
    }
    if (rc == DB_UNAVAILABLE) {
        db_lost(r, err);
        return -1;
    }
    if (t->out != OUT_RELEASE && rc != DB_UNAVAILABLE)
        telemetry_job_duration(QUEUE, t->run_ms / 1000.0);
    if (rc == 1) {
        r->lost++;
        telemetry_job_outcome(QUEUE, "lease_lost", 1);
        log_warn("campaign %s product %s: lease lost; the result of attempt %d is dropped", j->correlation_id,
                 j->product_id, j->attempts);
    } else if (rc != DB_OK) {
        log_error("campaign %s product %s: result not recorded: %s", j->correlation_id, j->product_id, err);
    }
    task_free(r, t);
    return 0;
}

static void flush(struct runner *r)
{
    int i;

    for (i = 0; i < r->ntasks; i++)
        if (state_of(r, &r->tasks[i]) == T_DONE && !r->tasks[i].released && write_result(r, &r->tasks[i]) != 0)
            return;
}

static void heartbeat(struct runner *r)
{
    const struct campaignq_job **jobs = calloc((size_t)r->ntasks, sizeof *jobs);
    int *held = calloc((size_t)r->ntasks, sizeof *held), n = 0, i, rc;
    char err[ADS_ERRSZ];

    for (i = 0; jobs != NULL && held != NULL && i < r->ntasks; i++)
        if (state_of(r, &r->tasks[i]) != T_FREE && !r->tasks[i].released)
            jobs[n++] = &r->tasks[i].job;
    if (n > 0) {
        rc = campaignq_extend(r->db, r->worker, jobs, n, r->cfg.job_lease, held, err);
        if (rc == DB_UNAVAILABLE)
            db_lost(r, err);
        else if (rc != DB_OK)
            log_error("lease extension failed: %s", err);
        for (i = 0; rc == DB_OK && i < n; i++)
            if (!held[i])
                log_warn("campaign %s product %s: lease lost (another campaigner has it); this run's result "
                         "will be dropped", jobs[i]->correlation_id, jobs[i]->product_id);
    }
    free(jobs);
    free(held);
}

static void sweep(struct runner *r)
{
    char err[ADS_ERRSZ];
    int n = 0;
    int rc = campaignq_reap(r->db, r->cfg.max_attempts, &n, err);

    if (rc == DB_UNAVAILABLE)
        db_lost(r, err);
    else if (rc != DB_OK)
        log_error("sweep failed: %s", err);
    else if (n > 0) {
        telemetry_job_outcome(QUEUE, "dead_lettered", n);
        log_warn("%d campaign(s) failed for good: their lease expired on every attempt", n);
    }
    r->more = 1;
}

/* Stopping: the tasks no thread has started go back to the queue at once. */
static void unqueue_all(struct runner *r)
{
    struct task *t;
    int n = 0;

    pthread_mutex_lock(&r->pool.lock);
    for (t = r->pool.head; t != NULL; t = t->next) {
        t->state = T_DONE;
        t->out = OUT_RELEASE;
        n++;
    }
    r->pool.head = r->pool.tail = NULL;
    pthread_mutex_unlock(&r->pool.lock);
    if (n > 0)
        log_info("stopping: %d campaign(s) not started go back to the queue", n);
}

/* End of the grace: the campaigns still running are given back; their
 * threads' results would be dropped (the lease is gone). 1 when all are. */
static int release_running(struct runner *r)
{
    char err[ADS_ERRSZ];
    int i, rc, left = 0;

    for (i = 0; i < r->ntasks; i++) {
        struct task *t = &r->tasks[i];
        if (t->released || state_of(r, t) != T_RUNNING)
            continue;
        rc = campaignq_release(r->db, r->worker, &t->job, err);
        if (rc == DB_UNAVAILABLE) {
            db_lost(r, err);
            left++;
            continue;
        }
        t->released = 1;
        r->released += rc == DB_OK;
        telemetry_job_outcome(QUEUE, "released", rc == DB_OK);
        r->busy--;
        telemetry_jobs_running(QUEUE, -1);
    }
    return left == 0;
}

static double wake_time(struct runner *r, double now, int db_up)
{
    double until = r->next_sweep;
    int i, unwritten = 0;

    if ((db_up ? r->next_heartbeat : r->lsn.retry_at) < until)
        until = db_up ? r->next_heartbeat : r->lsn.retry_at;
    if (r->next_due > 0 && r->next_due < until)
        until = r->next_due;
    if (db_up && r->next_metrics < until)
        until = r->next_metrics;
    if (r->draining && r->drain_deadline < until)
        until = r->drain_deadline;
    for (i = 0; i < r->ntasks; i++)
        unwritten += state_of(r, &r->tasks[i]) == T_DONE && !r->tasks[i].released;
    if ((unwritten > 0 && db_up) || (r->more && db_up && !r->draining && r->busy < r->ntasks) ||
        (wakeup_stopping() && !r->draining))
        return now;
    return until;
}

static void wait_events(struct runner *r, double now, int db_up)
{
    struct pollfd fds[2];
    nfds_t nfds = 1;
    double until = wake_time(r, now, db_up);
    PGconn *c = db_conn(r->db);

    fds[0].fd = wakeup_fd();
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    if (db_up && c != NULL && PQsocket(c) >= 0) {
        fds[1].fd = PQsocket(c);
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        nfds = 2;
    }
    if (poll(fds, nfds, until > now ? (int)(until - now) + 1 : 0) < 0)
        return;                  /* a signal: the loop looks again */
    if (fds[0].revents != 0)
        wakeup_drain();
    if (nfds == 2 && fds[1].revents != 0) {
        PGnotify *n;
        if (!PQconsumeInput(c)) {
            db_lost(r, PQerrorMessage(c));
            return;
        }
        while ((n = PQnotifies(c)) != NULL) {
            r->more = 1;
            PQfreemem(n);
        }
    }
}

/* This process's metrics into process_metrics, for GET /metrics. */
static void publish_metrics(struct runner *r)
{
    char err[ADS_ERRSZ];
    int rc = procmetrics_publish(r->db, r->worker, PROGRAM, r->started_at, telemetry_registry(), err);

    if (rc == DB_UNAVAILABLE)
        db_lost(r, err);
    else if (rc != DB_OK)
        log_warn("metrics snapshot not written: %s", err);
}

/* One turn of the loop; 0 to go on, 1 when it is time to exit. */
static int step(struct runner *r)
{
    double now = ads_now_ms();
    int up;

    if (wakeup_stopping() && !r->draining) {
        r->draining = 1;
        r->drain_deadline = now + (double)r->cfg.shutdown_grace * 1000;
        unqueue_all(r);
        log_info("stopping: finishing %d campaign(s) in hand (grace %ld s)", r->busy, r->cfg.shutdown_grace);
    }
    if (r->draining && r->busy == 0)
        return 1;
    up = db_ready(r, now);
    if (up)
        flush(r);
    if (r->draining && now >= r->drain_deadline) {
        if (up && release_running(r) && r->busy == 0)
            return 1;
        if (now >= r->drain_deadline + RELEASE_WAIT_MS) {
            log_warn("%d campaign(s) left to lease expiry: the database is away", r->busy);
            return 1;
        }
    }
    up = up && r->lsn.gen != 0;
    if (up && (now >= r->next_sweep || (r->next_due > 0 && now >= r->next_due))) {
        sweep(r);
        if (now >= r->next_sweep)
            r->next_sweep = now + (double)r->cfg.poll_interval * 1000;
        r->next_due = 0;
    }
    if (up && now >= r->next_heartbeat) {
        heartbeat(r);
        r->next_heartbeat = now + (double)r->cfg.job_lease * 1000 / 3;
    }
    if (up && !r->draining && r->more)
        claim(r, now);
    if (up && now >= r->next_metrics) {
        publish_metrics(r);
        r->next_metrics = now + (double)r->cfg.metrics_interval * 1000;
    }
    wait_events(r, now, r->lsn.gen != 0);
    return 0;
}

static int setup(struct runner *r, const char *path, char *err)
{
    char host[64];
    int i;

    if (cfg_load(&r->cfg, cfg_path(path), err) != 0)
        return -1;
    log_init("adsmith-campaigner", (enum log_level)log_parse_level(r->cfg.log_level));
    /* Before the pool threads start: they record into it. */
    if (telemetry_init(0, err) != 0)
        return -1;
    r->started_at = time(NULL);
    if ((r->kb = kb_load_dir(r->cfg.data_dir, err)) == NULL || (r->db = db_open(r->cfg.database_url, err)) == NULL)
        return -1;
    listener_init(&r->lsn, r->db, CAMPAIGNQ_CHANNEL, "campaigns");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    r->ntasks = (int)r->cfg.campaign_concurrency;
    r->tasks = calloc((size_t)r->ntasks, sizeof *r->tasks);
    r->threads = calloc((size_t)r->ntasks, sizeof *r->threads);
    if (r->tasks == NULL || r->threads == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    pthread_mutex_init(&r->pool.lock, NULL);
    pthread_cond_init(&r->pool.work, NULL);
    for (i = 0; i < r->ntasks; i++) {
        if (pthread_create(&r->threads[i], NULL, pool_thread, r) != 0) {
            ads_errf(err, "cannot start campaign thread %d of %d", i + 1, r->ntasks);
            return -1;
        }
        r->nthreads++;
    }
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(r->worker, sizeof r->worker, "%s:%d", host, (int)getpid());
    return 0;
}

/* Joins the pool (every task finished or released: none is running a
 * campaign any more, or the caller has chosen to exit without them). */
static void teardown(struct runner *r)
{
    int i;

    if (r->nthreads > 0) {
        pthread_mutex_lock(&r->pool.lock);
        r->pool.stop = 1;
        pthread_cond_broadcast(&r->pool.work);
        pthread_mutex_unlock(&r->pool.lock);
        for (i = 0; i < r->nthreads; i++)
            pthread_join(r->threads[i], NULL);
    }
    for (i = 0; r->tasks != NULL && i < r->ntasks; i++) {
        campaignq_job_clear(&r->tasks[i].job);
        products_row_clear(&r->tasks[i].row);
    }
    free(r->tasks);
    free(r->threads);
    db_close(r->db);
    kb_free(r->kb);
    cfg_free(&r->cfg);
}


static int any_running(struct runner *r)
{
    int i;

    for (i = 0; i < r->ntasks; i++)
        if (state_of(r, &r->tasks[i]) == T_RUNNING)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    static struct runner r;
    char err[ADS_ERRSZ];
    const char *path = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        if (opt == 'c') {
            path = optarg;
        } else {
            fprintf(stderr, "usage: adsmith-campaigner [-c CONFIG]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    /* Signals first: the pool threads inherit the mask, and a SIGTERM
     * during setup must not kill the process half-way. */
    if (wakeup_install(err) != 0 || setup(&r, path, err) != 0) {
        fprintf(stderr, "adsmith-campaigner: %s\n", err);
        teardown(&r);
        return 1;
    }
    log_info("campaigner %s started: %d campaigns at once, lease %ld s, sweep every %ld s", r.worker, r.ntasks,
             r.cfg.job_lease, r.cfg.poll_interval);
    while (step(&r) == 0)
        ;
    if (r.lsn.gen != 0)
        publish_metrics(&r);
    log_info("campaigner stopped: %ld completed, %ld retried, %ld failed, %ld released, %ld results dropped",
             r.completed, r.retried, r.failed, r.released, r.lost);
    if (any_running(&r)) {
        /* Threads still inside a campaign whose job is back in the queue:
         * nothing of theirs is wanted, and joining would wait for them. */
        fflush(NULL);
        _exit(0);
    }
    teardown(&r);
    telemetry_shutdown();
    return 0;
}
