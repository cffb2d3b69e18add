/*
 * adsmith-api: the FastCGI API server. The master opens the socket, loads
 * what workers share (config, knowledge base, store settings), pre-forks
 * `workers` children and replaces any that die. SIGTERM: workers finish the
 * request in hand, then exit. SIGHUP: config re-read, workers replaced one
 * generation at a time.
 */
#include <config.h>

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api.h"
#include "auth.h"
#include "cfg.h"
#include "log.h"
#include "util.h"

#define MAX_WORKERS 256

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

static void serve_one(struct api_ctx *ctx, FCGX_Request *r)
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

    api_handle(ctx, &req, &resp);
    {
        /* libfcgi's own printf lacks C99 conversions: format with libc. */
        char head[1024];
        int n = snprintf(head, sizeof head,
                         "Status: %d %s\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n%s"
                         "Content-Length: %zu\r\n\r\n",
                         resp.status, reason(resp.status), resp.headers, strlen(resp.body));
        FCGX_PutStr(head, n, r->out);
        FCGX_PutStr(resp.body, (int)strlen(resp.body), r->out);
    }
    if (resp.status >= 500)
        log_warn("%s %s -> %d request %s", req.method, path, resp.status, req.request_id ? req.request_id : "-");
    else
        log_debug("%s %s -> %d", req.method, path, resp.status);
    api_response_free(&resp);
    free(body);
}

static int worker_main(const struct config *cfg, const struct kb *kb, int sock)
{
    struct api_ctx ctx;
    FCGX_Request r;
    char err[ADS_ERRSZ];

    /* A worker never outlives its master (crash or SIGKILL of the master). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        return 0;
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
        serve_one(&ctx, &r);
        FCGX_Finish_r(&r);
    }
    FCGX_Free(&r, 0);
    db_close(ctx.db);
    store_close(ctx.store);
    auth_cache_free(ctx.auth_cache);
    return 0;
}

/* ---- master ---- */

struct master {
    const char *config_path;
    struct config cfg;
    struct kb *kb;
    int sock;
    pid_t pids[MAX_WORKERS];
    int generation[MAX_WORKERS];
    int current_gen;
    time_t last_fail;
    int fast_fails;
};

static pid_t spawn(struct master *m, int slot)
{
    pid_t pid = fork();

    if (pid == 0) {
        int rc = worker_main(&m->cfg, m->kb, m->sock);
        _exit(rc);
    }
    if (pid < 0) {
        log_error("fork failed: %s", strerror(errno));
        return -1;
    }
    m->pids[slot] = pid;
    m->generation[slot] = m->current_gen;
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

static int open_socket(const struct config *cfg, char *err)
{
    int fd;

    if (cfg->listen[0] == '/') {
        unlink(cfg->listen);
    }
    fd = FCGX_OpenSocket(cfg->listen, 1024);
    if (fd < 0) {
        ads_errf(err, "cannot listen on %s", cfg->listen);
        return -1;
    }
    /* nginx connects as another user of the socket's group. */
    if (cfg->listen[0] == '/')
        chmod(cfg->listen, 0660);
    return fd;
}

static void reap(struct master *m)
{
    int status, i;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < m->cfg.workers && i < MAX_WORKERS; i++) {
            if (m->pids[i] != pid)
                continue;
            m->pids[i] = 0;
            if (!got_term && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
                m->generation[i] == m->current_gen) {
                log_warn("worker %d died (%s %d); replacing it", (int)pid,
                         WIFSIGNALED(status) ? "signal" : "exit",
                         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
                if (time(NULL) - m->last_fail < 1)
                    m->fast_fails++;
                else
                    m->fast_fails = 0;
                m->last_fail = time(NULL);
            }
        }
    }
}

static void fill(struct master *m)
{
    int i;

    if (m->fast_fails > 5) {
        /* Workers die at start (database or config trouble): slow down. */
        sleep(1);
        m->fast_fails = 0;
    }
    for (i = 0; i < m->cfg.workers && i < MAX_WORKERS; i++)
        if (m->pids[i] == 0)
            spawn(m, i);
}

static void signal_all(struct master *m, int sig)
{
    int i;

    for (i = 0; i < MAX_WORKERS; i++)
        if (m->pids[i] > 0)
            kill(m->pids[i], sig);
}

static int live(const struct master *m)
{
    int i, n = 0;

    for (i = 0; i < MAX_WORKERS; i++)
        n += m->pids[i] > 0;
    return n;
}

static void reload(struct master *m)
{
    struct config ncfg;
    struct kb *nkb;
    char err[ADS_ERRSZ];
    int i;

    if (load(m->config_path, &ncfg, &nkb, err) != 0) {
        log_error("reload refused, keeping the running config: %s", err);
        return;
    }
    if (strcmp(ncfg.listen, m->cfg.listen) != 0)
        log_warn("listen changed: takes effect on restart, not reload");
    /* Old workers finish in-flight work and exit; new ones take over. */
    signal_all(m, SIGTERM);
    for (i = 0; i < MAX_WORKERS; i++)
        if (m->pids[i] > 0)
            m->generation[i] = -1;
    while (live(m) > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0)
            break;
        for (i = 0; i < MAX_WORKERS; i++)
            if (m->pids[i] == pid)
                m->pids[i] = 0;
    }
    free(ncfg.listen);
    ncfg.listen = strdup(m->cfg.listen);
    cfg_free(&m->cfg);
    kb_free(m->kb);
    m->cfg = ncfg;
    m->kb = nkb;
    m->current_gen++;
    log_init("adsmith-api", (enum log_level)log_parse_level(m->cfg.log_level));
    log_info("configuration reloaded; %ld workers", m->cfg.workers);
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
    m.sock = open_socket(&m.cfg, err);
    if (m.sock < 0) {
        fprintf(stderr, "adsmith-api: %s\n", err);
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
    log_info("listening on %s with %ld workers (version %s)", m.cfg.listen, m.cfg.workers, PACKAGE_VERSION);
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
    if (m.cfg.listen[0] == '/')
        unlink(m.cfg.listen);
    kb_free(m.kb);
    cfg_free(&m.cfg);
    log_info("stopped");
    return 0;
}
