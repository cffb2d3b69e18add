/* The decoding sandbox's own side (see imgbox.h): the body of the
 * adsmith-imgdec program. Everything that bounds it is in place before the
 * first byte of the image is read. */
#include "imgbox.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <seccomp.h>

#define MB (1024L * 1024L)

/* AddressSanitizer and ThreadSanitizer reserve terabytes of shadow address
 * space: under them (test builds) RLIMIT_AS is left alone, the decoder's
 * own memory bound still holds, the runtime's own system calls are
 * allowed, and the leak check (which needs ptrace) is off. */
#if defined(__SANITIZE_ADDRESS__)
#define ADS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ADS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define ADS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ADS_TSAN 1
#endif
#endif
#if defined(ADS_ASAN) || defined(ADS_TSAN)
#define ADS_SANITIZED 1
#endif
#ifdef ADS_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif
/* Address space that is not the decoder's: the program and its libraries,
 * the stack, the reply. */
#define OVERHEAD_MB 24

struct opts {
    const char *mode;          /* "analysis" | "jpeg" */
    long bytes, side, quality, max_pixels, cpu_ms, memory_mb;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct { const char *name; size_t off; long min, max; } known[] = {
        { "--bytes", offsetof(struct opts, bytes), 0, 64 * MB },
        { "--side", offsetof(struct opts, side), 1, IMGDEC_MAX_SIDE },
        { "--quality", offsetof(struct opts, quality), 0, 100 },
        { "--max-pixels", offsetof(struct opts, max_pixels), 1, 1000000000 },
        { "--cpu-ms", offsetof(struct opts, cpu_ms), 1, 3600000 },
        { "--memory-mb", offsetof(struct opts, memory_mb), OVERHEAD_MB + 8, 65536 },
    };
    int i;
    size_t k;

    memset(o, 0, sizeof *o);
    o->quality = 85;
    o->max_pixels = 40000000;
    o->cpu_ms = 2000;
    o->memory_mb = 128;
    o->side = -1;
    o->bytes = -1;
    if (argc < 2 || (strcmp(argv[1], "analysis") != 0 && strcmp(argv[1], "jpeg") != 0))
        return -1;
    o->mode = argv[1];
    for (i = 2; i + 1 < argc; i += 2) {
        for (k = 0; k < sizeof known / sizeof known[0] && strcmp(argv[i], known[k].name) != 0; k++)
            ;
        if (k == sizeof known / sizeof known[0] ||
            ads_parse_long(argv[i + 1], known[k].min, known[k].max, (long *)((char *)o + known[k].off)) != 0)
            return -1;
    }
    return (i == argc && o->side > 0 && o->bytes >= 0) ? 0 : -1;
}

static int set_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = { soft, hard };

    return setrlimit(resource, &rl);
}

/* Memory, CPU seconds (the decoder's own clock stops it first, to the
 * millisecond), no file written, no descriptor opened, no core. */
static int limit_self(const struct opts *o)
{
    rlim_t cpu_s = (rlim_t)(o->cpu_ms + 999) / 1000 + 1;
    rlim_t as = (rlim_t)o->memory_mb * MB;

#ifdef ADS_SANITIZED
    as = RLIM_INFINITY;
#endif
    return set_limit(RLIMIT_AS, as, as) |
           set_limit(RLIMIT_CPU, cpu_s, cpu_s + 1) | set_limit(RLIMIT_FSIZE, 0, 0) |
           set_limit(RLIMIT_NOFILE, 3, 3) | set_limit(RLIMIT_CORE, 0, 0) | set_limit(RLIMIT_NPROC, 0, 0);
}

/* Reading fd 0, writing fds 1 and 2, memory without PROT_EXEC, the CPU
 * clock, exit. Any other system call kills the process. */
static int confine(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    int rc = ctx ? 0 : -1;

    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, SCMP_A0(SCMP_CMP_EQ, 0, 0)) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, 1, 0)) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, 2, 0)) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(brk), 0) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(munmap), 0) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mremap), 0) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(madvise), 0) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clock_gettime), 0) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigreturn), 0) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0) |
             seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
#ifdef ADS_SANITIZED
    /* The sanitizer's runtime, on longjmp and on a report. */
    {
        static const int extra[] = { SCMP_SYS(sigaltstack), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
                                     SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
                                     SCMP_SYS(readlink), SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(futex),
                                     SCMP_SYS(sched_yield), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
                                     SCMP_SYS(sched_getaffinity), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
                                     SCMP_SYS(pread64), SCMP_SYS(getrusage), SCMP_SYS(mincore) };
        size_t i;
        for (i = 0; rc == 0 && i < sizeof extra / sizeof extra[0]; i++)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, extra[i], 0);
        if (rc == 0)
            rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 0);
    }
#endif
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

static int write_all(const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(1, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int reply_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int reply_line(const char *fmt, ...)
{
    char line[320];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    return write_all(line, (size_t)n);
}

static int read_input(unsigned char *in, long want)
{
    long got = 0;

    while (got < want) {
        ssize_t n = read(0, in + got, (size_t)(want - got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += n;
    }
    return 0;
}

static int decode_and_reply(const struct opts *o, const unsigned char *in)
{
    struct imgdec_limits lim;
    struct image img;
    char err[ADS_ERRSZ];
    unsigned char *jpeg = NULL;
    size_t jlen = 0;
    long room = o->memory_mb - OVERHEAD_MB - (o->bytes + MB - 1) / MB;
    int rc;

    lim.max_pixels = o->max_pixels;
    lim.max_memory = (size_t)(room > 8 ? room : 8) * MB;
    lim.max_cpu_ms = o->cpu_ms;
    rc = imgdec_decode_limited(in, (size_t)o->bytes, &lim, (int)o->side, &img, err);
    if (rc != IMGDEC_OK)
        return reply_line(IMGBOX_MAGIC " %s %s", rc == IMGDEC_LIMIT ? "limit" : "invalid", err);
    if (strcmp(o->mode, "analysis") == 0) {
        rc = reply_line(IMGBOX_MAGIC " ok analysis %s %d %d %d %d %d %d", img.format, img.width, img.height,
                        img.gw, img.gh, img.exif_orientation, img.has_alpha ? 1 : 0);
        if (rc == 0)
            rc = write_all(img.rgba, (size_t)img.gw * img.gh * 4);
    } else if (imgdec_encode_jpeg(&img, (int)o->quality, &jpeg, &jlen, err) != 0) {
        rc = reply_line(IMGBOX_MAGIC " limit %s", err);
    } else {
        rc = reply_line(IMGBOX_MAGIC " ok jpeg %zu", jlen);
        if (rc == 0)
            rc = write_all(jpeg, jlen);
    }
    free(jpeg);
    imgdec_free(&img);
    return rc;
}

int imgbox_child_main(int argc, char **argv)
{
    struct opts o;
    unsigned char *in;

    if (parse_opts(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: adsmith-imgdec analysis|jpeg --bytes N --side N [--quality N] [--max-pixels N]"
                        " [--cpu-ms N] [--memory-mb N] < image\n");
        return 2;
    }
    if (limit_self(&o) != 0 || confine() != 0) {
        fprintf(stderr, "adsmith-imgdec: cannot confine the decoder: %s\n", strerror(errno));
        return 3;
    }
    /* From here on: the filter is in force. */
    in = malloc(o.bytes > 0 ? (size_t)o.bytes : 1);
    if (in == NULL)
        return reply_line(IMGBOX_MAGIC " limit the image does not fit in the memory limit of %ld MB", o.memory_mb)
                   ? 4 : 0;
    if (read_input(in, o.bytes) != 0)
        return reply_line(IMGBOX_MAGIC " invalid the image was not received whole") ? 4 : 0;
    if (decode_and_reply(&o, in) != 0)
        return 4;
    free(in);
    return 0;
}
