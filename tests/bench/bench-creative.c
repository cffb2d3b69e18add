/*
 * Times the built-in creative compositor, each phase in a child process so
 * its peak RSS (getrusage ru_maxrss, read by the parent from wait4) is its
 * own:
 *   compose   a 1080x1080 background_replace from a 2400x1800 studio shot:
 *             downscale, cut-out, backdrop, shadow, headline and CTA, PNG;
 *             then the same with a Japanese overlay (the CJK face loaded)
 *   cutout    the cut-out alone on a 12-megapixel (4000x3000) studio shot,
 *             at full resolution, and as the compositor runs it (downscaled
 *             to the product's box first)
 * Usage: bench-creative [compose|cutout|all] [runs, default 10]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "creative.h"
#include "cutout.h"
#include "shots.h"
#include "util.h"

static double now_ms(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median and best of n wall times, CPU time's median. */
struct timing { double wall[64], cpu[64]; int n; };

/* Records one run begun at wall time w0, CPU time c0. */
static void lap(struct timing *t, double w0, double c0)
{
    t->wall[t->n] = now_ms(CLOCK_MONOTONIC) - w0;
    t->cpu[t->n++] = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
}

static void report(const char *what, struct timing *t)
{
    qsort(t->wall, (size_t)t->n, sizeof(double), cmp_double);
    qsort(t->cpu, (size_t)t->n, sizeof(double), cmp_double);
    printf("%-46s median %7.1f ms  best %7.1f ms  (CPU median %7.1f ms, %d runs)\n", what, t->wall[t->n / 2],
           t->wall[0], t->cpu[t->n / 2], t->n);
}

static int compose_in(int runs, const char *lang)
{
    static const struct shot s = { "lamp", SHOT_BOTTLE, BG_NOISE, 0xF2F2F0, 0xC8202A };
    static const struct creative_overlay en = { "Summer sale: 30% off every desk lamp this week", "Shop now",
                                                "bottom" };
    static const struct creative_overlay ja = { "夏のセール：今週はデスクランプが全品30%オフ", "今すぐ購入",
                                                "bottom" };
    struct creative_spec spec = { "background_replace", "A desk lamp on a sunny terrace", "natural", 1080, 1080,
                                  NULL, 0, strcmp(lang, "ja") == 0 ? &ja : &en, lang };
    unsigned char *truth, *photo = shot_make(&s, 2400, 1800, &truth), *png;
    struct timing t = { .n = 0 };
    char err[ADS_ERRSZ];
    size_t len;
    int i;

    free(truth);
    /* One run to load fontconfig and the faces, not timed. */
    if (creative_compose(&spec, photo, 2400, 1800, &png, &len, err) != 0) {
        fprintf(stderr, "compose: %s\n", err);
        return 1;
    }
    free(png);
    for (i = 0; i < runs && i < 64; i++) {
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (creative_compose(&spec, photo, 2400, 1800, &png, &len, err) != 0) {
            fprintf(stderr, "compose: %s\n", err);
            return 1;
        }
        lap(&t, w0, c0);
        free(png);
    }
    report(strcmp(lang, "ja") == 0 ? "the same, Japanese overlay (Noto Sans CJK)"
                                   : "creative 1080x1080, cut-out + overlay (goal 150)", &t);
    printf("  PNG %zu bytes\n", len);
    free(photo);
    return 0;
}

static int phase_cutout(int runs)
{
    static const struct shot s = { "bottle", SHOT_BOTTLE, BG_GRADIENT, 0xF6F4F0, 0x2E7D32 };
    int w = 4000, h = 3000;
    unsigned char *truth, *photo = shot_make(&s, w, h, &truth), *alpha = malloc((size_t)w * h);
    struct cutout_stats st;
    struct timing t = { .n = 0 };
    char err[ADS_ERRSZ];
    int i;

    free(truth);
    for (i = 0; i < runs && i < 64; i++) {
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (cutout_mask(photo, w, h, 3, alpha, &st, err) != CUTOUT_OK) {
            fprintf(stderr, "cutout: %s\n", err);
            return 1;
        }
        lap(&t, w0, c0);
    }
    report("cut-out, 12 MP at full resolution", &t);
    printf("  threshold dE %.1f, border noise dE %.1f, foreground %.1f%%\n", st.threshold, st.border_noise,
           100 * st.foreground);
    free(alpha);
    free(photo);
    return 0;
}

/* The compositor's own path from a 12 MP photo: background_remove, so the
 * time is downscale + cut-out + PNG, no backdrop or text. */
static int phase_cutout_path(int runs)
{
    static const struct shot s = { "bottle", SHOT_BOTTLE, BG_GRADIENT, 0xF6F4F0, 0x2E7D32 };
    struct creative_spec spec = { "background_remove", "", "natural", 1080, 1080, NULL, 0, NULL, NULL };
    unsigned char *truth, *photo = shot_make(&s, 4000, 3000, &truth), *png;
    struct timing t = { .n = 0 };
    char err[ADS_ERRSZ];
    size_t len;
    int i;

    free(truth);
    for (i = 0; i < runs && i < 64; i++) {
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (creative_compose(&spec, photo, 4000, 3000, &png, &len, err) != 0) {
            fprintf(stderr, "compose: %s\n", err);
            return 1;
        }
        lap(&t, w0, c0);
        free(png);
    }
    report("background_remove 1080x1080 from 12 MP", &t);
    free(photo);
    return 0;
}

static int phase_compose(int runs)
{
    return compose_in(runs, "en");
}

static int phase_compose_ja(int runs)
{
    return compose_in(runs, "ja");
}

/* Runs fn in a child; prints the child's peak RSS. */
static int in_child(const char *what, int (*fn)(int), int runs)
{
    struct rusage ru;
    pid_t pid;
    int status;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        int rc = fn(runs);
        fflush(stdout);
        _exit(rc);
    }
    if (wait4(pid, &status, 0, &ru) < 0)
        return 1;
    printf("  peak RSS of %s: %ld KiB\n", what, ru.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    int runs = argc > 2 ? atoi(argv[2]) : 10, rc = 0;

    runs = runs < 1 ? 1 : runs > 64 ? 64 : runs;
    if (strcmp(what, "compose") == 0 || strcmp(what, "all") == 0)
        rc |= in_child("the creative (photo 2400x1800 RGBA = 16.5 MiB; goal < 65536 KiB)", phase_compose, runs);
    if (strcmp(what, "compose") == 0 || strcmp(what, "all") == 0)
        rc |= in_child("the Japanese creative", phase_compose_ja, runs);
    if (strcmp(what, "cutout") == 0 || strcmp(what, "all") == 0) {
        rc |= in_child("the 12 MP cut-out (photo 45.8 MiB, mask 11.4 MiB)", phase_cutout, runs < 5 ? runs : 5);
        rc |= in_child("the 12 MP background_remove", phase_cutout_path, runs < 5 ? runs : 5);
    }
    return rc;
}
