/* The parent's side of the decoding sandbox (see imgbox.h). */
#include "imgbox.h"
#include "buf.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WALL_FACTOR 5          /* wall clock allowed per CPU millisecond: a busy machine is not the file's fault */
#define HEADER_MAX 256

/* One run of the program: what it was asked and what became of it. */
struct run {
    const struct config *cfg;
    char *argv[16];
    char args[8][32];
    size_t reply_max;
    double deadline_ms;        /* the caller's, 0: none */
    struct buf reply;
    int timed_out, by_deadline, status;
};

static void add_arg(struct run *r, int *n, const char *name, long value)
{
    int i = (*n - 2) / 2;      /* argv[0] and the mode come first */

    snprintf(r->args[i], sizeof r->args[i], "%ld", value);
    r->argv[(*n)++] = (char *)name;
    r->argv[(*n)++] = r->args[i];
}

/* In the child between fork and exec: async-signal-safe calls only (the
 * parent has threads). Never returns. */
static void child_exec(int sock, const char *path, char *const argv[])
{
    static char *const envp[] = { NULL };
    struct sigaction dfl;
    sigset_t none;
    int s, nul;

    /* A descriptor of our own above 2, without close-on-exec. */
    s = fcntl(sock, F_DUPFD, 10);
    if (s < 0 || dup2(s, 0) < 0 || dup2(s, 1) < 0)
        _exit(127);
    nul = open("/dev/null", O_WRONLY);
    if (nul < 0 || (nul != 2 && dup2(nul, 2) < 0))
        _exit(127);
    /* Every other descriptor (the database socket, the FastCGI socket, the
     * log) closed: exec without them or not at all. */
    if (close_range(3, ~0U, 0) != 0)
        _exit(127);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execve(path, argv, envp);
    _exit(127);
}

/* Sends the bytes and gathers the reply until the child closes its end,
 * the reply overflows, or the time is up. */
static void exchange(struct run *r, int fd, const void *data, size_t len, double end)
{
    size_t sent = 0;
    char chunk[65536];

    if (len == 0)
        shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = { fd, POLLIN | (sent < len ? POLLOUT : 0), 0 };
        double left = end - ads_now_ms();
        ssize_t n;
        if (left <= 0) {
            r->timed_out = 1;
            break;
        }
        if (poll(&p, 1, (int)left + 1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if ((p.revents & POLLOUT) && sent < len) {
            n = send(fd, (const char *)data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                sent = len;            /* the child stopped reading: its reply tells why */
            if (sent == len)
                shutdown(fd, SHUT_WR);
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break;
            if (n > 0)
                buf_add(&r->reply, chunk, (size_t)n);
            if (r->reply.len > r->reply_max || r->reply.oom)
                break;                 /* more than any honest reply */
        }
    }
}

/* Waits for the child until end, then kills it; always reaped. */
static void reap(struct run *r, pid_t pid, double end)
{
    struct timespec ms = { 0, 1000000 };

    for (;;) {
        pid_t w = waitpid(pid, &r->status, WNOHANG);
        if (w == pid)
            return;
        if (w < 0 && errno != EINTR)
            break;
        if (r->timed_out || ads_now_ms() >= end) {
            r->timed_out = 1;
            break;
        }
        nanosleep(&ms, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
        ;
}

static int spawn_and_talk(struct run *r, const void *data, size_t len, char *err)
{
    const char *helper = r->cfg->decode_helper;
    double limit_end = ads_now_ms() + (double)r->cfg->decode_max_cpu_ms * WALL_FACTOR, end = limit_end;
    int sv[2];
    pid_t pid;

    if (access(helper, X_OK) != 0) {
        log_error("image decoder %s: %s", helper, strerror(errno));
        ads_errf(err, "the image decoder is not available");
        return IMGDEC_FAILED;
    }
    if (r->deadline_ms > 0 && r->deadline_ms < end)
        end = r->deadline_ms;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        log_error("image decoder: socketpair: %s", strerror(errno));
        ads_errf(err, "the image decoder could not be started");
        return IMGDEC_FAILED;
    }
    pid = fork();
    if (pid < 0) {
        log_error("image decoder: fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        ads_errf(err, "the image decoder could not be started");
        return IMGDEC_FAILED;
    }
    if (pid == 0)
        child_exec(sv[1], helper, r->argv);
    close(sv[1]);
    exchange(r, sv[0], data, len, end);
    close(sv[0]);
    reap(r, pid, end);
    r->by_deadline = r->timed_out && end < limit_end;
    return IMGDEC_OK;
}

/* Keeps printable ASCII of the child's message: it is the file's doing. */
static void clean_copy(char *dst, size_t dstsz, const char *src, size_t n)
{
    size_t i, o = 0;

    for (i = 0; i < n && o + 1 < dstsz; i++)
        dst[o++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[o] = '\0';
}

/* What the process's end says, before its reply is read. */
static int judge_exit(const struct run *r, char *err)
{
    long cpu = r->cfg->decode_max_cpu_ms;

    if (r->by_deadline) {
        ads_errf(err, "the deadline passed while the image was being decoded");
        return IMGDEC_DEADLINE;
    }
    if (r->timed_out) {
        ads_errf(err, "decoding exceeded the time limit of %ld ms", cpu * WALL_FACTOR);
        return IMGDEC_LIMIT;
    }
    if (r->reply.len > r->reply_max) {
        ads_errf(err, "the image decoder's reply is larger than allowed");
        return IMGDEC_INVALID;
    }
    if (WIFSIGNALED(r->status)) {
        int sig = WTERMSIG(r->status);
        if (sig == SIGXCPU || sig == SIGKILL) {
            ads_errf(err, "decoding exceeded the CPU limit of %ld ms", cpu);
            return IMGDEC_LIMIT;
        }
        log_warn("image decoder stopped by signal %d%s", sig, sig == SIGSYS ? " (a system call the sandbox forbids)" : "");
        ads_errf(err, "the image decoder crashed on this file");
        return IMGDEC_INVALID;
    }
    if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 127) {
        log_error("image decoder %s could not be run", r->cfg->decode_helper);
        ads_errf(err, "the image decoder could not be started");
        return IMGDEC_FAILED;
    }
    if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
        ads_errf(err, "the image decoder failed on this file (status %d)", WEXITSTATUS(r->status));
        return IMGDEC_INVALID;
    }
    return IMGDEC_OK;
}

/* Splits the reply into its header line (NUL-terminated copy) and payload.
 * A refusal (limit or invalid) is answered here. */
static int parse_header(const struct run *r, char *line, size_t linesz, const char **payload, size_t *plen,
                        char *err)
{
    const char *nl = memchr(r->reply.data ? r->reply.data : "", '\n',
                            r->reply.len < HEADER_MAX ? r->reply.len : HEADER_MAX);
    size_t n;

    if (nl == NULL || strncmp(r->reply.data, IMGBOX_MAGIC " ", sizeof IMGBOX_MAGIC) != 0) {
        ads_errf(err, "the image decoder's reply was not understood");
        return IMGDEC_INVALID;
    }
    n = (size_t)(nl - r->reply.data);
    clean_copy(line, linesz, r->reply.data, n);
    *payload = nl + 1;
    *plen = r->reply.len - n - 1;
    if (strncmp(line + sizeof IMGBOX_MAGIC, "limit ", 6) == 0) {
        ads_errf(err, "%s", line + sizeof IMGBOX_MAGIC + 6);
        return IMGDEC_LIMIT;
    }
    if (strncmp(line + sizeof IMGBOX_MAGIC, "invalid ", 8) == 0) {
        ads_errf(err, "%s", line + sizeof IMGBOX_MAGIC + 8);
        return IMGDEC_INVALID;
    }
    return IMGDEC_OK;
}

static int run_helper(struct run *r, const void *data, size_t len, char *line, size_t linesz,
                      const char **payload, size_t *plen, char *err)
{
    int rc = spawn_and_talk(r, data, len, err);

    if (rc == IMGDEC_OK)
        rc = judge_exit(r, err);
    if (rc == IMGDEC_OK)
        rc = parse_header(r, line, linesz, payload, plen, err);
    return rc;
}

static void run_init(struct run *r, const struct config *cfg, const char *mode, size_t len, int side, int quality,
                     double deadline_ms)
{
    int n = 0;

    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->deadline_ms = deadline_ms;
    r->reply_max = HEADER_MAX + (size_t)side * side * 4;
    buf_init(&r->reply);
    r->argv[n++] = "adsmith-imgdec";
    r->argv[n++] = (char *)mode;
    add_arg(r, &n, "--bytes", (long)len);
    add_arg(r, &n, "--side", side);
    add_arg(r, &n, "--quality", quality);
    add_arg(r, &n, "--max-pixels", cfg->max_image_pixels);
    add_arg(r, &n, "--cpu-ms", cfg->decode_max_cpu_ms);
    add_arg(r, &n, "--memory-mb", cfg->decode_max_memory_mb);
    r->argv[n] = NULL;
}

static const char *static_format(const char *s)
{
    static const char *const known[] = { "jpeg", "png", "webp" };
    size_t i;

    for (i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return NULL;
}

int imgbox_analyze(const struct config *cfg, const void *data, size_t len, int grid_side, double deadline_ms,
                   struct image *out, char *err)
{
    struct run r;
    char line[HEADER_MAX], fmt[8];
    const char *payload = NULL;
    size_t plen = 0;
    int w, h, gw, gh, exif, alpha, end = 0, rc;

    memset(out, 0, sizeof *out);
    run_init(&r, cfg, "analysis", len, grid_side, 0, deadline_ms);
    rc = run_helper(&r, data, len, line, sizeof line, &payload, &plen, err);
    if (rc == IMGDEC_OK) {
        if (sscanf(line, IMGBOX_MAGIC " ok analysis %7s %d %d %d %d %d %d%n", fmt, &w, &h, &gw, &gh, &exif,
                   &alpha, &end) != 7 || line[end] != '\0' || static_format(fmt) == NULL ||
            w < 1 || h < 1 || w > IMGDEC_MAX_SIDE || h > IMGDEC_MAX_SIDE || gw < 1 || gh < 1 ||
            gw > grid_side || gh > grid_side || exif < 1 || exif > 8 || (alpha != 0 && alpha != 1) ||
            plen != (size_t)gw * gh * 4) {
            ads_errf(err, "the image decoder's reply was not understood");
            rc = IMGDEC_INVALID;
        } else if ((out->rgba = malloc(plen)) == NULL) {
            ads_errf(err, "out of memory");
            rc = IMGDEC_FAILED;
        } else {
            memcpy(out->rgba, payload, plen);
            out->width = w;
            out->height = h;
            out->gw = gw;
            out->gh = gh;
            out->format = static_format(fmt);
            out->exif_orientation = exif;
            out->has_alpha = alpha;
        }
    }
    buf_free(&r.reply);
    return rc;
}

int imgbox_downscale_jpeg(const struct config *cfg, const void *data, size_t len, int max_side, int quality,
                          double deadline_ms, unsigned char **out, size_t *outlen, char *err)
{
    struct run r;
    char line[HEADER_MAX];
    const char *payload = NULL;
    size_t plen = 0;
    unsigned long n;
    int end = 0, rc;

    *out = NULL;
    *outlen = 0;
    run_init(&r, cfg, "jpeg", len, max_side, quality, deadline_ms);
    rc = run_helper(&r, data, len, line, sizeof line, &payload, &plen, err);
    if (rc == IMGDEC_OK) {
        const unsigned char *p = (const unsigned char *)payload;
        if (sscanf(line, IMGBOX_MAGIC " ok jpeg %lu%n", &n, &end) != 1 || line[end] != '\0' || n != plen ||
            n < 3 || p[0] != 0xff || p[1] != 0xd8 || p[2] != 0xff) {
            ads_errf(err, "the image decoder's reply was not understood");
            rc = IMGDEC_INVALID;
        } else if ((*out = malloc(plen)) == NULL) {
            ads_errf(err, "out of memory");
            rc = IMGDEC_FAILED;
        } else {
            memcpy(*out, payload, plen);
            *outlen = plen;
        }
    }
    buf_free(&r.reply);
    return rc;
}
