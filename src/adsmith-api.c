/*
 * adsmith-api: the FastCGI API server. The master opens two sockets, loads
 * what workers share (config, knowledge base, store settings) and pre-forks
 * two pools, replacing any worker that dies:
 *   general   `workers` children on `listen`: every route;
 *   campaign  `campaign_workers` + `campaign_queue` children on
 *             `campaign_listen`, where nginx sends POST /api/campaign/tier-1
 *             alone. A campaign holds its worker for seconds of provider
 *             calls; in a pool of its own it can never keep the other routes
 *             waiting (a bulkhead).
 * At most `campaign_workers` campaigns run at once (slots in memory shared
 * by the pool). A campaign worker that accepts a request while every slot is
 * taken waits for one until the request is `campaign_queue_timeout_ms` old
 * (nginx passes the request's start as ADSMITH_REQUEST_START, so time spent
 * in the socket's backlog counts), then answers 503 "unavailable" with
 * Retry-After. The socket's backlog is as large as the pool, for bursts;
 * past it nginx's connect fails at once and nginx answers the same 503.
 * A general worker handed the campaign route anyway (an nginx config
 * without the split) serves it, and says so once in the log.
 * SIGTERM: workers of both pools finish the request in hand, then exit.
 * SIGHUP: config re-read; a new generation of both pools starts at once
 * while the old one finishes the requests in hand and exits (a campaign in
 * hand must not leave the other routes without workers meanwhile).
 */
#include <config.h>

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api.h"
#include "auth.h"
#include "cfg.h"
#include "log.h"
#include "telemetry.h"
#include "util.h"

#define MAX_WORKERS 256
#define CAMPAIGN_ROUTE "/api/campaign/tier-1"
/* Seconds a refused campaign is told to wait; nginx's own refusal says the
 * same (nginx/adsmith-locations.conf.in). */
#define CAMPAIGN_RETRY_AFTER "5"

enum pool_kind { POOL_GENERAL, POOL_CAMPAIGN, NPOOLS };
/* The pool label of the metrics. */
static const char *const pool_label[NPOOLS] = { "general", "campaign" };

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void on_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT) {
        got_term = 1;
        /* libfcgi retries an interrupted accept() unless told to stop. */
        FCGX_ShutdownPending();
    }
    else if (sig == SIGHUP)
        got_hup = 1;
    else if (sig == SIGCHLD)
        got_chld = 1;
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;    /* no SA_RESTART: a blocked accept() must return */
    sigaction(sig, &sa, NULL);
}

/* ---- worker ---- */

#define MAX_HEADERS 64

/* FastCGI params as lower-case, dash-separated header names. */
static size_t collect_headers(char **envp, struct sigv4_pair *h, char names[][96])
{
    size_t n = 0;

    for (; envp != NULL && *envp != NULL && n < MAX_HEADERS; envp++) {
        const char *e = *envp, *eq = strchr(e, '='), *src;
        size_t len, i;
        if (eq == NULL)
            continue;
        if (strncmp(e, "HTTP_", 5) == 0)
            src = e + 5;
        else if (strncmp(e, "CONTENT_TYPE=", 13) == 0 || strncmp(e, "CONTENT_LENGTH=", 15) == 0)
            src = e;
        else
            continue;
        len = (size_t)(eq - src);
        if (len == 0 || len >= 96)
            continue;
        for (i = 0; i < len; i++)
            names[n][i] = src[i] == '_' ? '-' : (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
        names[n][len] = '\0';
        h[n].name = names[n];
        h[n].value = eq + 1;
        n++;
    }
    return n;
}

static char *read_body(FCGX_Request *r, long declared, size_t limit, size_t *len)
{
    size_t want, got = 0;
    char *b;

    if (declared <= 0) {
        *len = 0;
        return NULL;
    }
    want = (size_t)declared > limit ? limit + 1 : (size_t)declared;
    b = malloc(want + 1);
    if (b == NULL) {
        *len = 0;
        return NULL;
    }
    while (got < want) {
        int n = FCGX_GetStr(b + got, (int)(want - got), r->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    b[got] = '\0';
    *len = got;
    return b;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

/* Campaigns running at once, across the campaign pool's processes: one
 * slot per campaign, holding the pid of the worker that runs it. Shared
 * memory mapped by the master before it forks; the master frees the slot
 * of a worker that died holding one. */
struct campaign_slots {
    atomic_int pid[MAX_WORKERS];
};
static struct campaign_slots *slots;

static int slot_take(long n)
{
    int me = (int)getpid(), i;

    for (i = 0; i < n && i < MAX_WORKERS; i++) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&slots->pid[i], &free_slot, me))
            return i;
    }
    return -1;
}

static void slot_release(int i)
{
    atomic_store(&slots->pid[i], 0);
}

/* The master's side: whatever slot pid held is free again. */
static void slots_forget(pid_t pid)
{
    int i;

    for (i = 0; slots != NULL && i < MAX_WORKERS; i++) {
        int held = (int)pid;
        atomic_compare_exchange_strong(&slots->pid[i], &held, 0);
    }
}

/* Which workers are inside a request, so the master can take a worker
 * that died mid-request out of the in-flight gauge. An entry per live
 * worker (pid, and the pool it counted in while busy), in memory shared
 * like the slots; a worker takes a free entry when it starts. */
struct busy_entry {
    atomic_int pid;
    atomic_int pool;     /* pool + 1 while in a request; 0 when idle */
};
static struct busy_entry *busy;
#define NBUSY (2 * NPOOLS * MAX_WORKERS)    /* a generation and the one retiring */
static struct busy_entry *my_busy;

static void busy_claim(void)
{
    int me = (int)getpid(), i;

    for (i = 0; busy != NULL && i < NBUSY; i++) {
        int free_entry = 0;
        if (atomic_compare_exchange_strong(&busy[i].pid, &free_entry, me)) {
            my_busy = &busy[i];
            return;
        }
    }
}

static void busy_set(enum pool_kind kind, int on)
{
    telemetry_api_in_flight(pool_label[kind], on ? 1 : -1);
    if (my_busy != NULL)
        atomic_store(&my_busy->pool, on ? (int)kind + 1 : 0);
}

/* The master's side: a dead worker's request is in flight no more. */
static void busy_forget(pid_t pid)
{
    int i;

    for (i = 0; busy != NULL && i < NBUSY; i++) {
        int pool;
        if (atomic_load(&busy[i].pid) != (int)pid)
            continue;
        pool = atomic_exchange(&busy[i].pool, 0);
        if (pool > 0)
            telemetry_api_in_flight(pool_label[pool - 1], -1);
        atomic_store(&busy[i].pid, 0);
    }
}

static double wall_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

/* When nginx took the request (its $msec, "1732540000.123", passed as
 * ADSMITH_REQUEST_START), in wall_ms; now when absent or not a number. */
static double request_start_ms(FCGX_Request *r)
{
    const char *v = FCGX_GetParam("ADSMITH_REQUEST_START", r->envp);
    char *end;
    double t;

    if (v == NULL || *v == '\0')
        return wall_ms();
    t = strtod(v, &end);
    return (*end == '\0' && t > 0) ? t * 1000.0 : wall_ms();
}

/* A campaign slot for the request, waiting for one until the request is
 * campaign_queue_timeout_ms old (counted from nginx's start, so the time it
 * spent in the socket's backlog counts too). -1: none came in time. */
static int campaign_admit(const struct config *cfg, double start_ms)
{
    const struct timespec pause = { 0, 10 * 1000 * 1000 };
    double deadline = start_ms + (double)cfg->campaign_queue_timeout_ms;
    int slot;

    /* A stopping worker (SIGTERM) waits no more: its caller is refused now. */
    while ((slot = slot_take(cfg->campaign_workers)) < 0 && wall_ms() < deadline && !got_term)
        nanosleep(&pause, NULL);
    return slot;
}

static void refuse_campaign(struct api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->route = CAMPAIGN_ROUTE;
    resp->status = 503;
    resp->body = strdup("{\"error\":\"All campaign workers are busy, retry shortly\",\"code\":\"unavailable\"}\n");
    snprintf(resp->headers, sizeof resp->headers, "Retry-After: %s\r\n", CAMPAIGN_RETRY_AFTER);
}

/* POST /api/campaign/tier-1. In the campaign pool it runs once it holds a
 * slot, or is refused with 503 when none frees in time: the caller is told
 * to come back rather than kept in a queue it cannot see. A general worker
 * serves it at once (the old layout keeps working) but warns once: the
 * bulkhead is missing from nginx's config. */
static void serve_campaign(struct api_ctx *ctx, enum pool_kind kind, FCGX_Request *r,
                           const struct api_request *req, struct api_response *resp)
{
    static int warned;
    double start;
    int slot;

    if (kind == POOL_GENERAL) {
        if (!warned)
            log_warn("%s reached a general worker: nginx does not send it to campaign_listen; "
                     "serving it here, but campaigns can now hold every general worker", CAMPAIGN_ROUTE);
        warned = 1;
        api_handle(ctx, req, resp);
        return;
    }
    start = request_start_ms(r);
    slot = campaign_admit(ctx->cfg, start);
    if (slot < 0) {
        log_warn("campaign refused: no campaign worker free after %.0f ms (campaign_queue_timeout_ms %ld), request %s",
                 wall_ms() - start, ctx->cfg->campaign_queue_timeout_ms, req->request_id ? req->request_id : "-");
        refuse_campaign(resp);
        return;
    }
    api_handle(ctx, req, resp);
    slot_release(slot);
}

static void serve_one(struct api_ctx *ctx, enum pool_kind kind, FCGX_Request *r)
{
    static char names[MAX_HEADERS][96];
    struct sigv4_pair headers[MAX_HEADERS];
    struct api_request req;
    struct api_response resp;
    const char *uri = FCGX_GetParam("REQUEST_URI", r->envp);
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
    char path[2048];
    const char *q;
    char *body;
    long declared = -1;
    double started = ads_now_ms();

    busy_set(kind, 1);
    memset(&req, 0, sizeof req);
    if (uri == NULL)
        uri = "/";
    q = strchr(uri, '?');
    snprintf(path, sizeof path, "%.*s", (int)(q ? (size_t)(q - uri) : strlen(uri)), uri);
    if (cl != NULL && *cl != '\0' && ads_parse_long(cl, 0, 1L << 40, &declared) != 0)
        declared = -1;
    req.method = FCGX_GetParam("REQUEST_METHOD", r->envp);
    if (req.method == NULL)
        req.method = "GET";
    req.path = path;
    req.query = q ? q + 1 : "";
    req.content_type = FCGX_GetParam("CONTENT_TYPE", r->envp);
    req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", r->envp);
    req.x_api_key = FCGX_GetParam("HTTP_X_API_KEY", r->envp);
    req.request_id = FCGX_GetParam("HTTP_X_REQUEST_ID", r->envp);
    req.remote_addr = FCGX_GetParam("REMOTE_ADDR", r->envp);
    req.nheaders = collect_headers(r->envp, headers, names);
    {
        /* Signature checks need the Host as sent, port included. */
        const char *signed_host = FCGX_GetParam("ADSMITH_SIGNED_HOST", r->envp);
        size_t i;
        for (i = 0; signed_host != NULL && i < req.nheaders; i++)
            if (strcmp(headers[i].name, "host") == 0)
                headers[i].value = signed_host;
    }
    req.headers = headers;
    req.content_length = declared;
    body = read_body(r, declared, api_body_limit(path), &req.body_len);
    req.body = body;

    if (strcmp(path, CAMPAIGN_ROUTE) == 0)
        serve_campaign(ctx, kind, r, &req, &resp);
    else
        api_handle(ctx, &req, &resp);
    {
        /* libfcgi's own printf lacks C99 conversions: format with libc.
         * A body is NULL only when memory ran out. */
        const char *out = resp.body != NULL ? resp.body : "";
        char head[1024];
        int n = snprintf(head, sizeof head,
                         "Status: %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n%s"
                         "Content-Length: %zu\r\n\r\n",
                         resp.status, reason(resp.status),
                         resp.content_type != NULL ? resp.content_type : "application/json", resp.headers,
                         strlen(out));
        FCGX_PutStr(head, n, r->out);
        FCGX_PutStr(out, (int)strlen(out), r->out);
    }
    if (resp.status >= 500)
        log_warn("%s %s -> %d request %s", req.method, path, resp.status, req.request_id ? req.request_id : "-");
    else
        log_debug("%s %s -> %d", req.method, path, resp.status);
    telemetry_api_request(pool_label[kind], req.method, resp.route, resp.status,
                          (ads_now_ms() - started) / 1000.0);
    busy_set(kind, 0);
    api_response_free(&resp);
    free(body);
}

static int worker_main(const struct config *cfg, const struct kb *kb, int sock, enum pool_kind kind)
{
    struct api_ctx ctx;
    FCGX_Request r;
    char err[ADS_ERRSZ];

    /* A worker never outlives its master (crash or SIGKILL of the master). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        return 0;
    /* ps and tests tell the pools apart by the name (15 bytes at most). */
    if (kind == POOL_CAMPAIGN)
        prctl(PR_SET_NAME, "campaign-worker");
    busy_claim();
    install(SIGTERM, on_signal);
    install(SIGINT, SIG_IGN);
    install(SIGHUP, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    {
        /* The master forks with its signals blocked; a worker must not
         * inherit that, or SIGTERM would never reach it. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
    }
    memset(&ctx, 0, sizeof ctx);
    ctx.cfg = cfg;
    ctx.kb = kb;
    ctx.db = db_open(cfg->database_url, err);
    ctx.store = store_open(cfg, err);
    ctx.auth_cache = auth_cache_new(cfg->auth_cache_ttl * 1000L);
    if (ctx.db == NULL || ctx.store == NULL) {
        log_error("worker start: %s", err);
        return 1;
    }
    if (db_ensure(ctx.db, err) != DB_OK)
        log_warn("%s (will retry per request)", err);
    FCGX_InitRequest(&r, sock, FCGI_FAIL_ACCEPT_ON_INTR);
    while (!got_term) {
        if (FCGX_Accept_r(&r) < 0) {
            if (got_term || errno == EINTR)
                continue;
            log_error("accept failed: %s", strerror(errno));
            break;
        }
        serve_one(&ctx, kind, &r);
        FCGX_Finish_r(&r);
    }
    FCGX_Free(&r, 0);
    db_close(ctx.db);
    store_close(ctx.store);
    auth_cache_free(ctx.auth_cache);
    return 0;
}

/* ---- master ---- */

/* One pre-forked pool: its socket and a slot per worker. */
struct pool {
    const char *name;         /* for the log: "worker", "campaign worker" */
    int sock;
    pid_t pids[MAX_WORKERS];
};

struct master {
    const char *config_path;
    struct config cfg;
    struct kb *kb;
    struct pool pools[NPOOLS];
    /* Workers of earlier generations (SIGHUP) finishing their last request:
     * waited for, never replaced. */
    pid_t retiring[NPOOLS * MAX_WORKERS];
    time_t last_fail;
    int fast_fails;
};

/* The campaign pool has a process for each campaign that may run and for
 * each that may wait for a slot (cfg_load keeps the sum within 256). */
static long pool_size(const struct config *cfg, enum pool_kind kind)
{
    long n = kind == POOL_CAMPAIGN ? cfg->campaign_workers + cfg->campaign_queue : cfg->workers;

    return n < MAX_WORKERS ? n : MAX_WORKERS;
}

static pid_t spawn(struct master *m, enum pool_kind kind, int slot)
{
    struct pool *p = &m->pools[kind];
    pid_t pid = fork();

    if (pid == 0) {
        int rc;
        /* A worker listens on its own pool's socket only. */
        close(m->pools[kind == POOL_CAMPAIGN ? POOL_GENERAL : POOL_CAMPAIGN].sock);
        rc = worker_main(&m->cfg, m->kb, p->sock, kind);
        _exit(rc);
    }
    if (pid < 0) {
        log_error("fork failed: %s", strerror(errno));
        return -1;
    }
    p->pids[slot] = pid;
    return pid;
}

static int load(const char *path, struct config *cfg, struct kb **kb, char *err)
{
    struct store *probe;

    if (cfg_load(cfg, path, err) != 0)
        return -1;
    probe = store_open(cfg, err);
    if (probe == NULL) {
        cfg_free(cfg);
        return -1;
    }
    store_close(probe);
    *kb = kb_load_dir(cfg->data_dir, err);
    if (*kb == NULL) {
        cfg_free(cfg);
        return -1;
    }
    return 0;
}

/* backlog: connections the kernel holds until a worker accepts them. On a
 * unix socket a connect beyond it fails at once (EAGAIN): nginx answers. */
static int open_socket(const char *listen_at, int backlog, char *err)
{
    int fd;

    if (listen_at[0] == '/') {
        unlink(listen_at);
    }
    fd = FCGX_OpenSocket(listen_at, backlog);
    if (fd < 0) {
        ads_errf(err, "cannot listen on %s", listen_at);
        return -1;
    }
    /* nginx connects as another user of the socket's group. */
    if (listen_at[0] == '/')
        chmod(listen_at, 0660);
    return fd;
}

/* Clears the slot of a worker that ended, to be refilled; a retiring one
 * is just forgotten. */
static void forget(struct master *m, pid_t pid, int status)
{
    size_t r;
    int k, i;

    for (r = 0; r < sizeof m->retiring / sizeof m->retiring[0]; r++)
        if (m->retiring[r] == pid) {
            m->retiring[r] = 0;
            return;
        }
    for (k = 0; k < NPOOLS; k++) {
        struct pool *p = &m->pools[k];
        for (i = 0; i < MAX_WORKERS; i++) {
            if (p->pids[i] != pid)
                continue;
            p->pids[i] = 0;
            if (!got_term && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                telemetry_api_restart(pool_label[k]);
                log_warn("%s %d died (%s %d); replacing it", p->name, (int)pid,
                         WIFSIGNALED(status) ? "signal" : "exit",
                         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                if (time(NULL) - m->last_fail < 1)
                    m->fast_fails++;
                else
                    m->fast_fails = 0;
                m->last_fail = time(NULL);
            }
            return;
        }
    }
}

static void reap(struct master *m)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        slots_forget(pid);
        busy_forget(pid);
        forget(m, pid, status);
    }
}

static void fill(struct master *m)
{
    int k, i;

    if (m->fast_fails > 5) {
        /* Workers die at start (database or config trouble): slow down. */
        sleep(1);
        m->fast_fails = 0;
    }
    for (k = 0; k < NPOOLS; k++)
        for (i = 0; i < pool_size(&m->cfg, (enum pool_kind)k); i++)
            if (m->pools[k].pids[i] == 0)
                spawn(m, (enum pool_kind)k, i);
}

static void signal_all(struct master *m, int sig)
{
    size_t r;
    int k, i;

    for (k = 0; k < NPOOLS; k++)
        for (i = 0; i < MAX_WORKERS; i++)
            if (m->pools[k].pids[i] > 0)
                kill(m->pools[k].pids[i], sig);
    for (r = 0; r < sizeof m->retiring / sizeof m->retiring[0]; r++)
        if (m->retiring[r] > 0)
            kill(m->retiring[r], sig);
}

static int live(const struct master *m)
{
    size_t r;
    int k, i, n = 0;

    for (k = 0; k < NPOOLS; k++)
        for (i = 0; i < MAX_WORKERS; i++)
            n += m->pools[k].pids[i] > 0;
    for (r = 0; r < sizeof m->retiring / sizeof m->retiring[0]; r++)
        n += m->retiring[r] > 0;
    return n;
}

/* The running generation stops taking requests (SIGTERM: the one in hand is
 * finished) and leaves its slots to the next. A worker still retiring from
 * an earlier reload keeps its place in the list. */
static void retire_all(struct master *m)
{
    size_t r = 0;
    int k, i;

    signal_all(m, SIGTERM);
    for (k = 0; k < NPOOLS; k++)
        for (i = 0; i < MAX_WORKERS; i++) {
            if (m->pools[k].pids[i] <= 0)
                continue;
            while (r < sizeof m->retiring / sizeof m->retiring[0] && m->retiring[r] > 0)
                r++;
            if (r == sizeof m->retiring / sizeof m->retiring[0])
                return;   /* cannot happen: there are as many places as slots */
            m->retiring[r] = m->pools[k].pids[i];
            m->pools[k].pids[i] = 0;
        }
}

/* Sockets are opened once: a changed address waits for a restart. */
static void keep_sockets(struct config *ncfg, const struct config *old)
{
    if (strcmp(ncfg->listen, old->listen) != 0)
        log_warn("listen changed: takes effect on restart, not reload");
    if (strcmp(ncfg->campaign_listen, old->campaign_listen) != 0)
        log_warn("campaign_listen changed: takes effect on restart, not reload");
    free(ncfg->listen);
    ncfg->listen = strdup(old->listen);
    free(ncfg->campaign_listen);
    ncfg->campaign_listen = strdup(old->campaign_listen);
}

static void reload(struct master *m)
{
    struct config ncfg;
    struct kb *nkb;
    char err[ADS_ERRSZ];

    if (load(m->config_path, &ncfg, &nkb, err) != 0) {
        log_error("reload refused, keeping the running config: %s", err);
        return;
    }
    keep_sockets(&ncfg, &m->cfg);
    /* Old workers finish in-flight work and exit; the caller's fill() starts
     * the new generation right away. */
    retire_all(m);
    /* The campaign backlog absorbs a burst as large as the pool. */
    if (listen(m->pools[POOL_CAMPAIGN].sock, (int)pool_size(&ncfg, POOL_CAMPAIGN)) != 0)
        log_warn("campaign socket backlog unchanged: %s", strerror(errno));
    cfg_free(&m->cfg);
    kb_free(m->kb);
    m->cfg = ncfg;
    m->kb = nkb;
    log_init("adsmith-api", (enum log_level)log_parse_level(m->cfg.log_level));
    log_info("configuration reloaded; %ld workers, %ld campaign workers, campaign queue %ld",
             m->cfg.workers, m->cfg.campaign_workers, m->cfg.campaign_queue);
}

static void shutdown_workers(struct master *m)
{
    int waited = 0;

    signal_all(m, SIGTERM);
    while (live(m) > 0 && waited < 300) {
        usleep(100000);
        waited++;
        reap(m);
    }
    if (live(m) > 0) {
        log_warn("workers still busy after 30 s: killing them");
        signal_all(m, SIGKILL);
        while (live(m) > 0 && waitpid(-1, NULL, 0) > 0)
            reap(m);
    }
}

/* Both sockets, or neither (err says which failed). */
static int open_sockets(struct master *m, char *err)
{
    m->pools[POOL_GENERAL].name = "worker";
    m->pools[POOL_CAMPAIGN].name = "campaign worker";
    m->pools[POOL_GENERAL].sock = open_socket(m->cfg.listen, 1024, err);
    if (m->pools[POOL_GENERAL].sock < 0)
        return -1;
    m->pools[POOL_CAMPAIGN].sock = open_socket(m->cfg.campaign_listen, (int)pool_size(&m->cfg, POOL_CAMPAIGN), err);
    if (m->pools[POOL_CAMPAIGN].sock < 0) {
        close(m->pools[POOL_GENERAL].sock);
        if (m->cfg.listen[0] == '/')
            unlink(m->cfg.listen);
        return -1;
    }
    return 0;
}

static void close_sockets(struct master *m)
{
    close(m->pools[POOL_GENERAL].sock);
    close(m->pools[POOL_CAMPAIGN].sock);
    if (m->cfg.listen[0] == '/')
        unlink(m->cfg.listen);
    if (m->cfg.campaign_listen[0] == '/')
        unlink(m->cfg.campaign_listen);
}

static void usage(void)
{
    fprintf(stderr, "usage: adsmith-api [-c CONFIG] [-t]\n"
                    "  -c FILE  configuration file (default: $ADSMITH_CONFIG)\n"
                    "  -t       check the configuration and exit\n");
}

int main(int argc, char **argv)
{
    struct master m;
    char err[ADS_ERRSZ];
    const char *path = NULL;
    int opt, check_only = 0;
    sigset_t block, old;

    /* Before any thread starts: libcurl's global set-up is not thread-safe. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    while ((opt = getopt(argc, argv, "c:th")) != -1) {
        if (opt == 'c')
            path = optarg;
        else if (opt == 't')
            check_only = 1;
        else {
            usage();
            return opt == 'h' ? 0 : 2;
        }
    }
    memset(&m, 0, sizeof m);
    m.config_path = cfg_path(path);
    if (load(m.config_path, &m.cfg, &m.kb, err) != 0) {
        fprintf(stderr, "adsmith-api: %s\n", err);
        return 1;
    }
    log_init("adsmith-api", (enum log_level)log_parse_level(m.cfg.log_level));
    if (check_only) {
        printf("configuration ok\n");
        return 0;
    }
    if (FCGX_Init() != 0) {
        fprintf(stderr, "adsmith-api: FastCGI init failed\n");
        return 1;
    }
    if (open_sockets(&m, err) != 0) {
        fprintf(stderr, "adsmith-api: %s\n", err);
        return 1;
    }
    slots = mmap(NULL, sizeof *slots, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slots == MAP_FAILED) {
        fprintf(stderr, "adsmith-api: campaign slots: %s\n", strerror(errno));
        close_sockets(&m);
        return 1;
    }
    /* The metrics every worker adds to, mapped before the first fork. */
    busy = mmap(NULL, NBUSY * sizeof *busy, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (busy == MAP_FAILED || telemetry_init(1, err) != 0) {
        if (busy == MAP_FAILED)
            snprintf(err, sizeof err, "busy table: %s", strerror(errno));
        fprintf(stderr, "adsmith-api: %s\n", err);
        close_sockets(&m);
        return 1;
    }
    install(SIGTERM, on_signal);
    install(SIGINT, on_signal);
    install(SIGHUP, on_signal);
    install(SIGCHLD, on_signal);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGCHLD);
    log_info("listening on %s with %ld workers, campaigns on %s: %ld at once, %ld waiting at most %ld ms (version %s)",
             m.cfg.listen, m.cfg.workers, m.cfg.campaign_listen, m.cfg.campaign_workers, m.cfg.campaign_queue,
             m.cfg.campaign_queue_timeout_ms, PACKAGE_VERSION);
    sigprocmask(SIG_BLOCK, &block, &old);
    fill(&m);
    while (!got_term) {
        /* Signals are blocked except inside sigsuspend: no lost wake-ups. */
        if (!got_hup && !got_chld)
            sigsuspend(&old);
        if (got_term)
            break;
        if (got_chld) {
            got_chld = 0;
            reap(&m);
        }
        if (got_hup) {
            got_hup = 0;
            reload(&m);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        fill(&m);
        sigprocmask(SIG_BLOCK, &block, NULL);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    log_info("stopping: waiting for in-flight requests");
    shutdown_workers(&m);
    close_sockets(&m);
    kb_free(m.kb);
    cfg_free(&m.cfg);
    log_info("stopped");
    return 0;
}
