/*
 * adsmith-generator: works the image job queue.
 *
 * One event loop per process. LISTEN wakes it at once when a job is queued;
 * a sweep every poll_interval seconds catches missed notifications, expired
 * leases and jobs whose retry time has come. Up to generator_concurrency
 * jobs are in flight: with image_provider = bedrock their Nova Canvas calls
 * run side by side in one curl multi, polled together with the PostgreSQL
 * socket; the built-in renderer draws in the loop itself. With storage =
 * s3 the image's PutObject runs in the same multi (store_put_call), its
 * retries scheduled by the loop, so a slow store holds up no other job.
 * Results are written under the job's lease, completions batched into one
 * statement.
 *
 * ThrottlingException halves the number of jobs in flight (at most once a
 * second) and each success adds it back slowly, so a throttled account is
 * asked less of instead of being retried harder. Leases of jobs in flight
 * are extended every job_lease/3 seconds. When PostgreSQL goes away the
 * finished results wait in memory and the loop reconnects with backoff,
 * then LISTENs again.
 *
 * Product creatives (jobs with a size: sql/011_creatives.sql): the source
 * photo is read from the store and decoded only in the decoding sandbox
 * (imgbox), both in the loop itself like the built-in renderer (bounded by
 * the upload size and decode_max_cpu_ms). The built-in provider composes
 * the creative (creative_compose); with Nova Canvas the task's call runs
 * in the multi like any other, and its image, decoded in the sandbox too,
 * is brought to the exact size with the overlay set (creative_finish).
 *
 * SIGTERM/SIGINT: stop claiming, finish the jobs in hand within
 * shutdown_grace seconds, release the rest (pending again at once, the
 * attempt not counted), exit.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "aws.h"
#include "canvas.h"
#include "creative.h"
#include "imgbox.h"
#include "outcall.h"
#include "cfg.h"
#include "db.h"
#include "jobq.h"
#include "listener.h"
#include "wakeup.h"
#include "log.h"
#include "procmetrics.h"
#include "telemetry.h"
#include "render.h"
#include "sigv4.h"
#include "store.h"
#include "uploads.h"
#include "util.h"
#include "webhook_deliverer.h"

#define BUILTIN_BATCH 4
/* After the grace period, how long to keep trying to release jobs to a
 * database that is away before leaving them to lease expiry. */
#define RELEASE_WAIT_MS 5000



enum slot_state { SLOT_FREE = 0, SLOT_RUNNING, SLOT_DONE };
enum outcome { OUT_COMPLETE, OUT_FAIL, OUT_RELEASE };

struct slot {
    enum slot_state state;
    struct jobq_job job;
    struct outcall *call;        /* while RUNNING: the model call, then the store's */
    int storing;                 /* call is the image's PutObject */
    double retry_at;             /* call waits for its next attempt (not in the multi) */
    double started;
    /* A creatives job on Nova Canvas: the reply's exact size, and whether
     * its transparency is the result (background removal). */
    int creative, reply_w, reply_h, keep_alpha;
    /* The result, while DONE and not yet written. */
    enum outcome out;
    char key[600];
    char *url;
    char error[ADS_ERRSZ];
    int permanent;
    long delay_ms;
};

struct gen {
    struct config cfg;
    struct db *db;
    struct store *store;
    int bedrock;                 /* image_provider = bedrock */
    struct aws_endpoint ep;
    struct buf invoke_path;
    char generator_meta[160];
    CURLM *multi;
    char worker[128];
    struct slot *slots;
    int nslots, busy;            /* busy: slots not FREE */
    double limit;                /* adaptive concurrency, 1..nslots */
    double last_cut;
    struct listener lsn;         /* the connection and its LISTEN */
    int more;                    /* due jobs may be waiting */
    double next_sweep, next_heartbeat, next_due;
    int draining;
    double drain_deadline;
    long completed, failed, retried, released, throttled;
    time_t started_at;
    double next_metrics;         /* the next snapshot into process_metrics */
};

#define QUEUE "images"
#define PROGRAM "adsmith-generator"

static void db_lost(struct gen *g, const char *err)
{
    listener_lost(&g->lsn, err);
}

/* Makes sure we are connected and LISTENing on this connection. */
static int db_ready(struct gen *g, double now)
{
    int rc = listener_ready(&g->lsn, now);

    if (rc == LISTENER_FRESH)
        g->more = 1;                 /* notifications may have been missed */
    return rc != LISTENER_DOWN;
}

/* Ends a slot's model call, finished or not. */
static void drop_call(struct gen *g, struct slot *s)
{
    if (s->call == NULL)
        return;
    curl_multi_remove_handle(g->multi, s->call->easy);
    outcall_free(s->call);
    s->call = NULL;
    s->storing = 0;
    s->retry_at = 0;
}

/* Begins the slot's call's next attempt in the multi; 0, or -1 with a message. */
static int launch(struct gen *g, struct slot *s, char *err)
{
    s->retry_at = 0;
    if (outcall_begin(s->call, err) != 0)
        return -1;
    s->call->user = s;
    if (curl_multi_add_handle(g->multi, s->call->easy) != CURLM_OK) {
        ads_errf(err, "%s: could not start the call", s->call->what);
        return -1;
    }
    return 0;
}

static void slot_free(struct gen *g, struct slot *s)
{
    telemetry_job_duration(QUEUE, (ads_now_ms() - s->started) / 1000.0);
    telemetry_jobs_running(QUEUE, -1);
    drop_call(g, s);
    jobq_job_clear(&s->job);
    free(s->url);
    memset(s, 0, sizeof *s);
    g->busy--;
}

static void set_fail(struct gen *g, struct slot *s, const char *error, int permanent)
{
    s->state = SLOT_DONE;
    s->out = OUT_FAIL;
    s->permanent = permanent;
    s->delay_ms = jobq_backoff_ms(g->cfg.retry_backoff_ms, s->job.attempts);
    snprintf(s->error, sizeof s->error, "%s", error);
}

static void stored(struct gen *g, struct slot *s)
{
    s->url = store_public_url(g->store, g->cfg.assets_bucket, s->key);
    s->state = SLOT_DONE;
    s->out = OUT_COMPLETE;
}

static void store_failed(struct gen *g, struct slot *s, const char *err)
{
    log_error("job %s: store failed: %s (attempt %d)", s->job.request_id, err, s->job.attempts);
    set_fail(g, s, "could not store the image", 0);
}

/* Stores the image: over the network as a call in the multi (the slot
 * stays RUNNING until it ends), else at once; then the slot is ready to
 * complete. */
static void store_result(struct gen *g, struct slot *s, const unsigned char *png, size_t len)
{
    struct sigv4_pair meta[2] = { { "request-id", s->job.request_id }, { "generator", g->generator_meta } };
    char err[ADS_ERRSZ];

    jobq_asset_key(&s->job, (long)time(NULL), s->key, sizeof s->key);
    if (!store_has_put_call(g->store)) {
        if (store_put_meta(g->store, g->cfg.assets_bucket, s->key, png, len, "image/png", meta, 2, err) != STORE_OK)
            store_failed(g, s, err);
        else
            stored(g, s);
        return;
    }
    s->call = store_put_call(g->store, g->cfg.assets_bucket, s->key, png, len, "image/png", meta, 2, err);
    if (s->call == NULL) {
        store_failed(g, s, err);
        return;
    }
    s->storing = 1;
    if (launch(g, s, err) != 0) {
        drop_call(g, s);
        store_failed(g, s, err);
    }
}

static void run_builtin(struct gen *g, struct slot *s)
{
    unsigned char *png = NULL;
    size_t len = 0;
    char err[ADS_ERRSZ];

    if (render_png(s->job.prompt, s->job.style, s->job.aspect_ratio, &png, &len, err) != 0) {
        log_error("job %s: render failed: %s", s->job.request_id, err);
        set_fail(g, s, err, 1);
        return;
    }
    store_result(g, s, png, len);
    free(png);
}

/* Sends an InvokeModel body (freed here) as the slot's call. */
static void send_canvas(struct gen *g, struct slot *s, char *body, size_t len)
{
    char err[ADS_ERRSZ];

    s->call = aws_call_new(&g->ep, g->invoke_path.data, NULL, "application/json", body, len, "Nova Canvas", err);
    free(body);
    if (s->call == NULL || launch(g, s, err) != 0) {
        drop_call(g, s);
        set_fail(g, s, err, 0);
    }
}

static void start_bedrock(struct gen *g, struct slot *s)
{
    char err[ADS_ERRSZ];
    size_t len = 0;
    char *body = canvas_request(s->job.prompt, s->job.style, s->job.aspect_ratio,
                                g->cfg.image_quality, &len, err);

    if (body == NULL) {
        set_fail(g, s, err, 1);
        return;
    }
    send_canvas(g, s, body, len);
}

/* Decoding grid of creatives: at least any size a job makes (4096 at most
 * is checked by the table), 2048 covers every named size and model image. */
#define CREATIVE_GRID 2048
/* The box a photo is fitted into for a model call that keeps its shape. */
#define CANVAS_INPUT_BOX 1024
/* background_replace: share of the canvas the photo fills; the model
 * paints the rest of the scene. */
#define OUTPAINT_PHOTO_PCT 70

/* The creative spec of a job (its strings borrowed). */
static void job_spec(const struct jobq_job *job, struct creative_spec *spec, struct creative_overlay *ov)
{
    memset(spec, 0, sizeof *spec);
    spec->task = job->cr.task;
    spec->prompt = job->prompt;
    spec->style = job->style;
    spec->width = job->cr.width;
    spec->height = job->cr.height;
    spec->colors = job->cr.colors;
    spec->ncolors = job->cr.ncolors;
    if (job->cr.has_overlay) {
        ov->headline = job->cr.headline;
        ov->cta = job->cr.cta;
        ov->position = job->cr.position[0] ? job->cr.position : NULL;
        spec->overlay = ov;
        spec->language = job->cr.language[0] ? job->cr.language : NULL;
    }
}

/* Decodes image bytes in the sandbox. On failure the job fails: for good
 * when bytes_at_fault and the bytes are what the sandbox refused. */
static int decode(struct gen *g, struct slot *s, const void *data, size_t len, const char *what,
                  int bytes_at_fault, struct image *img)
{
    char err[ADS_ERRSZ], msg[ADS_ERRSZ];
    int rc = imgbox_analyze(&g->cfg, data, len, CREATIVE_GRID, 0, img, err);

    if (rc == IMGDEC_OK)
        return 0;
    log_warn("job %s: %s: %s", s->job.request_id, what, err);
    snprintf(msg, sizeof msg, "%s: %.200s", what, err);
    set_fail(g, s, msg, bytes_at_fault && (rc == IMGDEC_INVALID || rc == IMGDEC_LIMIT));
    return -1;
}

/* Reads the source photo from the store and decodes it. */
static int load_source(struct gen *g, struct slot *s, struct image *img)
{
    char err[ADS_ERRSZ], *data = NULL;
    size_t len = 0;
    int rc = store_get(g->store, s->job.cr.source_bucket, s->job.cr.source_key, STORE_MAX_UPLOAD, &data, &len, err);

    if (rc == STORE_NOT_FOUND) {
        set_fail(g, s, "the source image is no longer in storage", 1);
        return -1;
    }
    if (rc != STORE_OK) {
        log_error("job %s: source read failed: %s (attempt %d)", s->job.request_id, err, s->job.attempts);
        set_fail(g, s, "could not read the source image", 0);
        return -1;
    }
    rc = decode(g, s, data, len, "source image", 1, img);
    free(data);
    return rc;
}

static void compose_builtin(struct gen *g, struct slot *s, const struct image *photo)
{
    struct creative_spec spec;
    struct creative_overlay ov;
    unsigned char *png = NULL;
    size_t len = 0;
    char err[ADS_ERRSZ];

    job_spec(&s->job, &spec, &ov);
    if (creative_compose(&spec, photo ? photo->rgba : NULL, photo ? photo->gw : 0, photo ? photo->gh : 0,
                         &png, &len, err) != 0) {
        log_error("job %s: compose failed: %s", s->job.request_id, err);
        set_fail(g, s, err, 1);
        return;
    }
    store_result(g, s, png, len);
    free(png);
}

/* The model's image: decoded in the sandbox, then brought to the exact
 * size with the overlay set. */
static void finish_creative(struct gen *g, struct slot *s, const unsigned char *png, size_t len)
{
    struct creative_spec spec;
    struct creative_overlay ov;
    struct image img;
    unsigned char *out = NULL;
    size_t outlen = 0;
    char err[ADS_ERRSZ];

    memset(&img, 0, sizeof img);
    /* A broken model image may not repeat: retried. */
    if (decode(g, s, png, len, "Nova Canvas image", 0, &img) != 0)
        return;
    job_spec(&s->job, &spec, &ov);
    if (creative_finish(&spec, img.rgba, img.gw, img.gh, s->keep_alpha, &out, &outlen, err) != 0) {
        log_error("job %s: finish failed: %s", s->job.request_id, err);
        set_fail(g, s, err, 1);
    } else {
        store_result(g, s, out, outlen);
    }
    free(out);
    imgdec_free(&img);
}

/* The task's Nova Canvas call, in the multi. */
static void start_canvas_task(struct gen *g, struct slot *s, const struct image *photo)
{
    const char *task = s->job.cr.task;
    int replace = strcmp(task, "background_replace") == 0;
    int edit = replace || strcmp(task, "background_remove") == 0;
    struct canvas_task t;
    char err[ADS_ERRSZ], *img64 = NULL, *body;
    int gw, gh, iw = 0, ih = 0;
    size_t len = 0;

    if (render_size(s->job.aspect_ratio, &gw, &gh) != 0) {
        set_fail(g, s, "unknown aspect ratio", 1);
        return;
    }
    memset(&t, 0, sizeof t);
    t.task = task;
    t.prompt = s->job.prompt;
    t.style = s->job.style;
    t.quality = g->cfg.image_quality;
    t.width = gw;
    t.height = gh;
    t.colors = s->job.cr.colors;
    t.ncolors = s->job.cr.ncolors;
    if (photo != NULL && strcmp(task, "text_image") != 0) {
        /* background_replace: the photo on a canvas of the target's shape,
         * so the model paints the scene around it; otherwise the photo's
         * own shape within the model's input limits. */
        if (replace) {
            iw = gw;
            ih = gh;
        } else if (!canvas_input_size(photo->gw, photo->gh, CANVAS_INPUT_BOX, CANVAS_INPUT_BOX, &iw, &ih)) {
            set_fail(g, s, "the source image has no size Nova Canvas accepts", 1);
            return;
        }
        img64 = canvas_input_png(photo->rgba, photo->gw, photo->gh, iw, ih, replace ? OUTPAINT_PHOTO_PCT : 100,
                                 0xFFFFFF, err);
        if (img64 == NULL) {
            set_fail(g, s, err, 1);
            return;
        }
        t.image_b64 = img64;
    }
    s->creative = 1;
    s->reply_w = edit ? iw : gw;
    s->reply_h = edit ? ih : gh;
    s->keep_alpha = strcmp(task, "background_remove") == 0;
    body = canvas_task_request(&t, &len, err);
    free(img64);
    if (body == NULL) {
        set_fail(g, s, err, 1);
        return;
    }
    send_canvas(g, s, body, len);
}

/* A creatives job: the source photo first, then the provider. */
static void start_creative(struct gen *g, struct slot *s)
{
    struct image photo;
    int have = s->job.cr.source_key != NULL;

    memset(&photo, 0, sizeof photo);
    if (have && load_source(g, s, &photo) != 0)
        return;
    if (g->bedrock)
        start_canvas_task(g, s, have ? &photo : NULL);
    else
        compose_builtin(g, s, have ? &photo : NULL);
    if (have)
        imgdec_free(&photo);
}

static void on_throttle(struct gen *g, double now)
{
    if (now - g->last_cut < 1000)
        return;
    g->last_cut = now;
    g->limit = g->limit / 2 < 1 ? 1 : g->limit / 2;
    log_warn("model throttled: at most %d jobs in flight for now", (int)g->limit);
}

static void on_success(struct gen *g)
{
    int before = (int)g->limit;

    if (g->limit >= g->nslots)
        return;
    g->limit += 1.0 / g->limit;
    if (g->limit > g->nslots)
        g->limit = g->nslots;
    if ((int)g->limit > before && (int)g->limit == g->nslots)
        log_info("model no longer throttled: %d jobs in flight allowed", g->nslots);
}

/* The model call ended as o. */
static void finish_model(struct gen *g, struct slot *s, enum outcall_class o, char *msg, double now)
{
    unsigned char *png = NULL;
    size_t len = 0;

    if (o == OUTCALL_OK && s->creative)
        o = canvas_reply_size(s->call->reply.data, s->call->reply.len, s->reply_w, s->reply_h, &png, &len, msg);
    else if (o == OUTCALL_OK)
        o = canvas_reply(s->call->reply.data, s->call->reply.len, s->job.aspect_ratio, &png, &len, msg);
    drop_call(g, s);
    switch (o) {
    case OUTCALL_OK:
        on_success(g);
        if (s->creative)
            finish_creative(g, s, png, len);
        else
            store_result(g, s, png, len);
        free(png);
        return;
    case OUTCALL_THROTTLED:
        on_throttle(g, now);
        set_fail(g, s, msg, 0);
        s->out = OUT_RELEASE;
        return;
    case OUTCALL_PERMANENT:
        log_warn("job %s: %s", s->job.request_id, msg);
        set_fail(g, s, msg, 1);
        return;
    case OUTCALL_RETRY:
        log_warn("job %s: %s (attempt %d)", s->job.request_id, msg, s->job.attempts);
        set_fail(g, s, msg, 0);
        return;
    }
}

/* The slot's call (model or store) ended with cc: out of the multi, then
 * classified, and either scheduled again as its policy says or done. */
static void finish_call(struct gen *g, struct slot *s, CURLcode cc, double now)
{
    char msg[ADS_ERRSZ];
    enum outcall_class o;
    double again;

    curl_multi_remove_handle(g->multi, s->call->easy);
    o = outcall_end(s->call, cc, msg);
    if ((again = outcall_next_try(s->call, o)) > 0) {
        log_warn("job %s: %s; retrying (attempt %d)", s->job.request_id, msg, s->call->attempt + 1);
        s->retry_at = again;
        return;
    }
    if (!s->storing) {
        finish_model(g, s, o, msg, now);
    } else if (o == OUTCALL_OK) {
        drop_call(g, s);
        stored(g, s);
    } else {
        drop_call(g, s);
        store_failed(g, s, msg);
    }
}

/* Calls whose next attempt has come go back into the multi. */
static void relaunch_due(struct gen *g, double now)
{
    char err[ADS_ERRSZ];
    int i;

    for (i = 0; i < g->nslots; i++) {
        struct slot *s = &g->slots[i];
        if (s->state != SLOT_RUNNING || s->call == NULL || s->retry_at <= 0 || now < s->retry_at)
            continue;
        if (launch(g, s, err) == 0)
            continue;
        if (s->storing) {
            drop_call(g, s);
            store_failed(g, s, err);
        } else {
            drop_call(g, s);
            set_fail(g, s, err, 0);
        }
    }
}

static void start_job(struct gen *g, struct jobq_job *job)
{
    struct slot *s = NULL;
    int i;

    for (i = 0; i < g->nslots && s == NULL; i++)
        if (g->slots[i].state == SLOT_FREE)
            s = &g->slots[i];
    if (s == NULL) {                 /* cannot happen: claims ask for free slots only */
        jobq_job_clear(job);
        return;
    }
    s->job = *job;
    s->started = ads_now_ms();
    s->state = SLOT_RUNNING;
    g->busy++;
    telemetry_jobs_running(QUEUE, 1);
    telemetry_job_pickup(QUEUE, job->pickup_s);
    if (s->job.cr.size_name[0] != '\0')
        start_creative(g, s);
    else if (g->bedrock)
        start_bedrock(g, s);
    else
        run_builtin(g, s);
}

/* Makes sure the loop looks at the queue again by time t. */
static void due_at(struct gen *g, double t)
{
    if (g->next_due <= 0 || t < g->next_due)
        g->next_due = t;
}

static void claim(struct gen *g, double now)
{
    int room = (int)g->limit - g->busy, n = 0, i;
    struct jobq_job jobs[1024];
    char err[ADS_ERRSZ];
    int rc;

    /* The built-in renderer draws one job at a time in this loop: claiming
     * more than a few would only keep them from other generators. */
    if (!g->bedrock && room > BUILTIN_BATCH)
        room = BUILTIN_BATCH;
    if (room <= 0)
        return;
    rc = jobq_claim(g->db, g->worker, g->cfg.job_lease, g->cfg.max_attempts, room, jobs, &n, err);
    if (rc == DB_UNAVAILABLE) {
        db_lost(g, err);
        return;
    }
    if (rc != DB_OK) {
        log_error("claim failed: %s", err);
        g->more = 0;
        return;
    }
    for (i = 0; i < n; i++)
        start_job(g, &jobs[i]);
    g->more = n == room;
    if (n < room) {
        long ms = -1;
        g->next_due = 0;
        if (jobq_next_due(g->db, &ms, err) == DB_OK && ms >= 0)
            due_at(g, now + (double)ms);
    }
}

/* Writes one non-completion result; 0 when written (or not ours any more). */
static int write_other(struct gen *g, struct slot *s)
{
    char err[ADS_ERRSZ];
    const char *id = s->job.request_id;
    int rc, dead = 0, n = 0;

    if (s->out == OUT_RELEASE) {
        /* A release with a reason is a throttled call; without, shutdown. */
        rc = jobq_release(g->db, g->worker, &id, 1, s->delay_ms, s->error[0] ? s->error : NULL, &n, err);
        if (rc == DB_OK && s->error[0] != '\0') {
            g->throttled++;
            telemetry_job_outcome(QUEUE, "throttled", 1);
        } else if (rc == DB_OK) {
            g->released++;
            telemetry_job_outcome(QUEUE, "released", 1);
        }
    } else {
        rc = jobq_fail(g->db, &s->job, g->worker, s->error, s->permanent, g->cfg.max_attempts,
                       s->delay_ms, &dead, err);
        if (rc == DB_OK && dead) {
            g->failed++;
            telemetry_job_outcome(QUEUE, s->permanent ? "failed" : "dead_lettered", 1);
            log_warn("job %s failed for good after %d attempt(s): %s", id, s->job.attempts, s->error);
        } else if (rc == DB_OK) {
            g->retried++;
            telemetry_job_outcome(QUEUE, "retried", 1);
        }
    }
    if (rc == DB_OK && !dead)
        due_at(g, ads_now_ms() + (double)s->delay_ms);
    if (rc == DB_UNAVAILABLE) {
        db_lost(g, err);
        return -1;
    }
    if (rc == 1) {
        telemetry_job_outcome(QUEUE, "lease_lost", 1);
        log_warn("job %s: lease lost; the result of this attempt is dropped", id);
    }
    else if (rc != DB_OK)
        log_error("job %s: result not recorded: %s", id, err);
    slot_free(g, s);
    return 0;
}

/* Writes the results waiting in DONE slots: completions in one statement. */
static void flush(struct gen *g)
{
    struct jobq_done done[JOBQ_MAX_COMPLETE];
    struct slot *which[JOBQ_MAX_COMPLETE];
    int held[JOBQ_MAX_COMPLETE];
    char err[ADS_ERRSZ];
    int n = 0, i, rc;
    double now = ads_now_ms();

    for (i = 0; i < g->nslots && n < JOBQ_MAX_COMPLETE; i++) {
        struct slot *s = &g->slots[i];
        if (s->state != SLOT_DONE || s->out != OUT_COMPLETE)
            continue;
        done[n].request_id = s->job.request_id;
        done[n].s3_key = s->key;
        done[n].s3_url = s->url ? s->url : "";
        which[n++] = s;
    }
    if (n > 0) {
        rc = jobq_complete(g->db, g->worker, done, n, held, err);
        if (rc == DB_UNAVAILABLE) {
            db_lost(g, err);
            return;
        }
        for (i = 0; i < n; i++) {
            if (rc != DB_OK)
                log_error("job %s: completion not recorded: %s", which[i]->job.request_id, err);
            else if (!held[i]) {
                telemetry_job_outcome(QUEUE, "lease_lost", 1);
                log_warn("job %s: lease lost before completion; the other worker's result stands",
                         which[i]->job.request_id);
            }
            else
                log_info("job %s completed in %.1f ms", which[i]->job.request_id, now - which[i]->started);
            g->completed += rc == DB_OK && held[i];
            if (rc == DB_OK && held[i])
                telemetry_job_outcome(QUEUE, "completed", 1);
            slot_free(g, which[i]);
        }
    }
    for (i = 0; i < g->nslots; i++)
        if (g->slots[i].state == SLOT_DONE && g->slots[i].out != OUT_COMPLETE && write_other(g, &g->slots[i]) != 0)
            return;
}

static void heartbeat(struct gen *g)
{
    const char *ids[1024];
    int held[1024], idx[1024];
    char err[ADS_ERRSZ];
    int n = 0, i, rc;

    for (i = 0; i < g->nslots; i++)
        if (g->slots[i].state != SLOT_FREE) {
            idx[n] = i;
            ids[n++] = g->slots[i].job.request_id;
        }
    if (n == 0)
        return;
    rc = jobq_extend(g->db, g->worker, ids, n, g->cfg.job_lease, held, err);
    if (rc == DB_UNAVAILABLE) {
        db_lost(g, err);
        return;
    }
    if (rc != DB_OK) {
        log_error("lease extension failed: %s", err);
        return;
    }
    for (i = 0; i < n; i++)
        if (!held[i]) {
            telemetry_job_outcome(QUEUE, "lease_lost", 1);
            log_warn("job %s: lease lost (another generator has it); abandoning this attempt", ids[i]);
            slot_free(g, &g->slots[idx[i]]);
        }
}

static void sweep(struct gen *g)
{
    char err[ADS_ERRSZ];
    int n = 0;
    int rc = jobq_reap(g->db, g->cfg.max_attempts, &n, err);

    if (rc == DB_UNAVAILABLE)
        db_lost(g, err);
    else if (rc != DB_OK)
        log_error("sweep failed: %s", err);
    else if (n > 0) {
        telemetry_job_outcome(QUEUE, "dead_lettered", n);
        log_warn("%d job(s) failed for good: their lease expired on every attempt", n);
    }
    if (rc == DB_OK && uploads_sweep(g->db, g->store, &n, err) != DB_OK)
        log_warn("upload slot sweep: %s", err);
    else if (rc == DB_OK && n > 0)
        log_info("%d unused upload slot(s) expired and were deleted", n);
    g->more = 1;
}

/* At the end of the grace period: jobs still running go back to the queue. */
static void release_running(struct gen *g)
{
    int i, n = 0;

    for (i = 0; i < g->nslots; i++) {
        struct slot *s = &g->slots[i];
        if (s->state != SLOT_RUNNING)
            continue;
        drop_call(g, s);
        s->state = SLOT_DONE;
        s->out = OUT_RELEASE;
        s->delay_ms = 0;
        s->error[0] = '\0';
        n++;
    }
    if (n > 0)
        log_info("shutdown grace over: releasing %d job(s) in flight", n);
}

static double min_pos(double a, double b)
{
    return a < b ? a : b;
}

/* Waits for the model calls, a notification, a signal or the next timer. */
/* When the loop must look again: the next timer, or now when there is
 * work it can do at once. */
static double wake_time(const struct gen *g, double now, int db_up)
{
    double until = g->next_sweep;
    int unwritten = 0, i;

    if (db_up)
        until = min_pos(until, g->next_metrics);
    until = min_pos(until, db_up ? g->next_heartbeat : g->lsn.retry_at);
    if (g->next_due > 0)
        until = min_pos(until, g->next_due);
    if (g->draining)
        until = min_pos(until, g->drain_deadline);
    for (i = 0; i < g->nslots; i++) {
        unwritten += g->slots[i].state == SLOT_DONE;
        if (g->slots[i].state == SLOT_RUNNING && g->slots[i].retry_at > 0)
            until = min_pos(until, g->slots[i].retry_at);
    }
    if ((unwritten > 0 && db_up) || (g->more && db_up && !g->draining && (int)g->limit > g->busy) ||
        (wakeup_stopping() && !g->draining))
        return now;
    return until;
}

static void wait_events(struct gen *g, double now, int db_up)
{
    struct curl_waitfd fds[2];
    unsigned nfds = 0;
    double until = wake_time(g, now, db_up);
    int running = 0, queued = 0;
    CURLMsg *m;
    PGconn *c = db_conn(g->db);

    fds[nfds].fd = wakeup_fd();
    fds[nfds].events = CURL_WAIT_POLLIN;
    fds[nfds++].revents = 0;
    if (db_up && c != NULL && PQsocket(c) >= 0) {
        fds[nfds].fd = PQsocket(c);
        fds[nfds].events = CURL_WAIT_POLLIN;
        fds[nfds++].revents = 0;
    }
    curl_multi_poll(g->multi, fds, nfds, until > now ? (int)(until - now) + 1 : 0, NULL);
    if (fds[0].revents != 0)
        wakeup_drain();
    curl_multi_perform(g->multi, &running);
    now = ads_now_ms();
    while ((m = curl_multi_info_read(g->multi, &queued)) != NULL) {
        struct outcall *call = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        if (call != NULL && call->user != NULL)
            finish_call(g, (struct slot *)call->user, m->data.result, now);
    }
    if (nfds == 2) {
        PGnotify *n;
        if (!PQconsumeInput(c)) {
            db_lost(g, PQerrorMessage(c));
            return;
        }
        while ((n = PQnotifies(c)) != NULL) {
            g->more = 1;
            PQfreemem(n);
        }
    }
}

static int setup(struct gen *g, const char *path, char *err)
{
    char host[64];

    if (cfg_load(&g->cfg, cfg_path(path), err) != 0)
        return -1;
    log_init("adsmith-generator", (enum log_level)log_parse_level(g->cfg.log_level));
    if (telemetry_init(0, err) != 0)
        return -1;
    g->started_at = time(NULL);
    g->db = db_open(g->cfg.database_url, err);
    if (g->db == NULL || (g->store = store_open(&g->cfg, err)) == NULL)
        return -1;
    listener_init(&g->lsn, g->db, JOBQ_CHANNEL, "jobs");
    g->multi = curl_multi_init();
    g->nslots = (int)g->cfg.generator_concurrency;
    g->slots = calloc((size_t)g->nslots, sizeof *g->slots);
    if (g->multi == NULL || g->slots == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)g->nslots);
    g->limit = g->nslots;
    buf_init(&g->invoke_path);
    g->bedrock = strcmp(g->cfg.image_provider, "bedrock") == 0;
    snprintf(g->generator_meta, sizeof g->generator_meta, "builtin");
    if (g->bedrock) {
        const struct config *c = &g->cfg;
        if (aws_bedrock_endpoint(&g->ep, c, c->image_timeout_ms, err) != 0)
            return -1;
        aws_bedrock_path(&g->invoke_path, c->image_model, "invoke");
        snprintf(g->generator_meta, sizeof g->generator_meta, "bedrock:%.120s", c->image_model);
    }
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(g->worker, sizeof g->worker, "%s:%d", host, (int)getpid());
    return 0;
}

static void teardown(struct gen *g)
{
    int i;

    for (i = 0; g->slots != NULL && i < g->nslots; i++)
        if (g->slots[i].state != SLOT_FREE)
            slot_free(g, &g->slots[i]);
    free(g->slots);
    if (g->multi != NULL)
        curl_multi_cleanup(g->multi);
    if (g->bedrock)
        aws_endpoint_free(&g->ep);
    buf_free(&g->invoke_path);
    db_close(g->db);
    store_close(g->store);
    cfg_free(&g->cfg);
}


/* This process's metrics into process_metrics, for GET /metrics. */
static void publish_metrics(struct gen *g)
{
    char err[ADS_ERRSZ];
    int rc = procmetrics_publish(g->db, g->worker, PROGRAM, g->started_at, telemetry_registry(), err);

    if (rc == DB_UNAVAILABLE)
        db_lost(g, err);
    else if (rc != DB_OK)
        log_warn("metrics snapshot not written: %s", err);
}

/* One turn of the loop; 0 to go on, 1 when it is time to exit. */
static int step(struct gen *g)
{
    double now = ads_now_ms();
    int up;

    if (wakeup_stopping() && !g->draining) {
        g->draining = 1;
        g->drain_deadline = now + (double)g->cfg.shutdown_grace * 1000;
        log_info("stopping: finishing %d job(s) in hand (grace %ld s)", g->busy, g->cfg.shutdown_grace);
    }
    if (g->draining && g->busy == 0)
        return 1;
    if (g->draining && now >= g->drain_deadline) {
        release_running(g);
        if (now >= g->drain_deadline + RELEASE_WAIT_MS) {
            log_warn("%d job(s) left to lease expiry: the database is away", g->busy);
            return 1;
        }
    }
    up = db_ready(g, now);
    if (up)
        flush(g);
    up = up && g->lsn.gen != 0;
    /* A retry or an expired lease coming due is a sweep of its own: the
     * job may need reaping rather than claiming. */
    if (up && (now >= g->next_sweep || (g->next_due > 0 && now >= g->next_due))) {
        sweep(g);
        if (now >= g->next_sweep)
            g->next_sweep = now + (double)g->cfg.poll_interval * 1000;
        g->next_due = 0;
    }
    if (up && now >= g->next_heartbeat) {
        heartbeat(g);
        g->next_heartbeat = now + (double)g->cfg.job_lease * 1000 / 3;
    }
    if (up && !g->draining && g->more)
        claim(g, now);
    if (up && now >= g->next_metrics) {
        publish_metrics(g);
        g->next_metrics = now + (double)g->cfg.metrics_interval * 1000;
    }
    relaunch_due(g, now);
    wait_events(g, now, g->lsn.gen != 0);
    return 0;
}

int main(int argc, char **argv)
{
    struct gen g;
    struct webhook_deliverer *hooks;
    char err[ADS_ERRSZ];
    const char *path = NULL;
    int opt;

    /* Before any thread starts: libcurl's global set-up is not thread-safe. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        if (opt == 'c') {
            path = optarg;
        } else {
            fprintf(stderr, "usage: adsmith-generator [-c CONFIG]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    memset(&g, 0, sizeof g);
    if (setup(&g, path, err) != 0 || wakeup_install(err) != 0) {
        fprintf(stderr, "adsmith-generator: %s\n", err);
        teardown(&g);
        return 1;
    }
    /* Webhooks go out from a thread of their own: a slow receiver never
     * holds up a job. */
    if ((hooks = webhook_deliverer_start(&g.cfg, err)) == NULL) {
        fprintf(stderr, "adsmith-generator: %s\n", err);
        teardown(&g);
        return 1;
    }
    log_info("generator %s started: provider %s, %d jobs in flight at most, sweep every %ld s",
             g.worker, g.cfg.image_provider, g.nslots, g.cfg.poll_interval);
    while (step(&g) == 0)
        ;
    webhook_deliverer_stop(hooks);
    /* The last counts, unless the database is away. */
    if (g.lsn.gen != 0)
        publish_metrics(&g);
    log_info("generator stopped: %ld completed, %ld retried, %ld failed, %ld released, %ld throttled",
             g.completed, g.retried, g.failed, g.released, g.throttled);
    teardown(&g);
    telemetry_shutdown();
    return 0;
}
