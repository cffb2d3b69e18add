/* metrics: the exposition writer (escaping, cumulative buckets, +Inf ==
 * _count), snapshots through JSON, and counting from threads and from
 * processes forked over a shared registry. */
#include "metrics.h"
#include "unit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const double bounds[] = { 0.1, 0.5, 1 };
static const struct metric_def defs[] = {
    { "t_requests_total", "Requests.", METRIC_COUNTER, NULL, 0, 1 },
    { "t_seconds", "Latency with a \\ and a\nline feed in its help.", METRIC_HISTOGRAM, bounds, 3, 1e9 },
    { "t_cost_usd_total", "Cost.", METRIC_COUNTER, NULL, 0, 1e6 },
    { "t_in_flight", "Now.", METRIC_GAUGE, NULL, 0, 1 },
};
enum { F_REQ, F_SEC, F_COST, F_GAUGE, NF };

static int contains(const struct buf *b, const char *s)
{
    return b->data != NULL && strstr(b->data, s) != NULL;
}

static void test_labels(void)
{
    static const struct { const char *value, *want; } cases[] = {
        { "/api/assets/{id}", "k=\"/api/assets/{id}\"" },
        { "say \"hi\"", "k=\"say \\\"hi\\\"\"" },
        { "back\\slash", "k=\"back\\\\slash\"" },
        { "two\nlines", "k=\"two\\nlines\"" },
        { "", "k=\"\"" },
        { "caf\xc3\xa9", "k=\"caf\xc3\xa9\"" },
    };
    char out[64], small[8];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        out[0] = '\0';
        CHECK(metrics_label(out, sizeof out, "k", cases[i].value) == 0);
        if (strcmp(out, cases[i].want) != 0)
            fprintf(stderr, "label case %zu: got %s\n", i, out);
        CHECK(strcmp(out, cases[i].want) == 0);
    }
    out[0] = '\0';
    metrics_label(out, sizeof out, "a", "1");
    metrics_label(out, sizeof out, "b", "2");
    CHECK(strcmp(out, "a=\"1\",b=\"2\"") == 0);
    /* What does not fit leaves the labels as they were. */
    snprintf(small, sizeof small, "a=\"1\"");
    CHECK(metrics_label(small, sizeof small, "b", "2") == -1 && strcmp(small, "a=\"1\"") == 0);
}

/* Observations and the bucket lines they must give, cumulative. */
static void test_histogram(void)
{
    static const struct { double v[6]; int n; const char *lines[7]; } cases[] = {
        { { 0 }, 0, { "t_seconds_bucket{le=\"+Inf\"} 0", "t_seconds_count 0", "t_seconds_sum 0", NULL } },
        { { 0.05, 0.1, 0.3, 0.9, 5 }, 5,
          { "t_seconds_bucket{le=\"0.1\"} 2", "t_seconds_bucket{le=\"0.5\"} 3", "t_seconds_bucket{le=\"1\"} 4",
            "t_seconds_bucket{le=\"+Inf\"} 5", "t_seconds_count 5", "t_seconds_sum 6.35", NULL } },
        { { 7, 8 }, 2, { "t_seconds_bucket{le=\"0.1\"} 0", "t_seconds_bucket{le=\"1\"} 0",
                         "t_seconds_bucket{le=\"+Inf\"} 2", "t_seconds_count 2", NULL } },
    };
    size_t i;
    int k;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[200];
        struct metrics *m = metrics_new(defs, NF, 16, 0, err);
        struct buf b;
        buf_init(&b);
        /* Adding 0 makes the series without observing anything. */
        metrics_add(m, F_SEC, "", 0);
        for (k = 0; k < cases[i].n; k++)
            metrics_observe(m, F_SEC, "", cases[i].v[k]);
        metrics_write(&b, &m, 1);
        for (k = 0; cases[i].lines[k] != NULL; k++) {
            if (!contains(&b, cases[i].lines[k]))
                fprintf(stderr, "histogram case %zu: no line %s in\n%s", i, cases[i].lines[k], b.data);
            CHECK(contains(&b, cases[i].lines[k]));
        }
        buf_free(&b);
        metrics_free(m);
    }
}

static void test_exposition(void)
{
    char err[200];
    struct metrics *m = metrics_new(defs, NF, 16, 0, err), *copy;
    struct buf b;
    char *snap;

    metrics_add(m, F_REQ, "route=\"/x\",status=\"200\"", 3);
    metrics_observe(m, F_COST, "provider=\"bedrock\"", 0.001234);
    metrics_add(m, F_GAUGE, "", 2);
    metrics_add(m, F_GAUGE, "", -1);
    buf_init(&b);
    metrics_write(&b, &m, 1);
    CHECK(contains(&b, "# HELP t_requests_total Requests.\n# TYPE t_requests_total counter\n"));
    CHECK(contains(&b, "# HELP t_seconds Latency with a \\\\ and a\\nline feed in its help.\n"));
    CHECK(contains(&b, "# TYPE t_seconds histogram\n"));
    CHECK(contains(&b, "t_requests_total{route=\"/x\",status=\"200\"} 3\n"));
    CHECK(contains(&b, "t_cost_usd_total{provider=\"bedrock\"} 0.001234\n"));
    CHECK(contains(&b, "t_in_flight 1\n"));
    CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
    buf_free(&b);

    /* A snapshot comes back under a prefix, the values added. */
    snap = metrics_snapshot(m);
    CHECK(snap != NULL);
    copy = metrics_new(defs, NF, 16, 0, err);
    CHECK(metrics_load(copy, snap, "instance=\"h:1\"", err) == 0);
    CHECK(metrics_load(copy, snap, "instance=\"h:1\"", err) == 0);
    CHECK(metrics_get(copy, F_REQ, "instance=\"h:1\",route=\"/x\",status=\"200\"") == 6);
    CHECK(metrics_get(copy, F_GAUGE, "instance=\"h:1\"") == 2);
    CHECK(metrics_load(copy, "{\"series\": 3}", "", err) == -1);
    CHECK(metrics_load(copy, "not json", "", err) == -1);
    /* Foreign or malformed series are skipped, the rest taken. */
    CHECK(metrics_load(copy, "{\"series\":[{\"m\":\"nope\",\"l\":\"\",\"v\":[1]},"
                             "{\"m\":\"t_requests_total\",\"l\":\"a=\\\"x\\ny\\\"\",\"v\":[1]},"
                             "{\"m\":\"t_requests_total\",\"l\":\"a=\\\"open\",\"v\":[1]},"
                             "{\"m\":\"t_seconds\",\"l\":\"\",\"v\":[1,2]},"
                             "{\"m\":\"t_requests_total\",\"l\":\"a=\\\"ok\\\"\",\"v\":[5]}]}", "", err) == 0);
    CHECK(metrics_get(copy, F_REQ, "a=\"ok\"") == 5);
    buf_init(&b);
    metrics_write(&b, &copy, 1);
    CHECK(!contains(&b, "nope") && !contains(&b, "open") && !contains(&b, "x\ny"));
    buf_free(&b);
    free(snap);
    metrics_free(copy);
    metrics_free(m);
}

/* The table full: records are counted as dropped, never misplaced. */
static void test_full(void)
{
    char err[200], l[32];
    struct metrics *m = metrics_new(defs, NF, 4, 0, err);
    int i;

    for (i = 0; i < 6; i++) {
        snprintf(l, sizeof l, "n=\"%d\"", i);
        metrics_add(m, F_REQ, l, 1);
    }
    CHECK(atomic_load(m->dropped) == 2);
    metrics_free(m);
}

#define THREADS 8
#define PER 20000

static void *adder(void *arg)
{
    struct metrics *m = arg;
    int i;

    for (i = 0; i < PER; i++) {
        metrics_add(m, F_REQ, i % 2 ? "k=\"odd\"" : "k=\"even\"", 1);
        metrics_observe(m, F_SEC, "", 0.2);
    }
    return NULL;
}

static void test_concurrent(void)
{
    char err[200];
    struct metrics *m = metrics_new(defs, NF, 64, 1, err);
    pthread_t t[THREADS];
    struct buf b;
    pid_t pid;
    int i, status = -1;

    CHECK(m != NULL);
    for (i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, adder, m);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(metrics_get(m, F_REQ, "k=\"odd\"") == THREADS * PER / 2);
    /* A forked child counts into the same shared table. */
    pid = fork();
    if (pid == 0) {
        metrics_add(m, F_REQ, "k=\"child\"", 7);
        metrics_add(m, F_REQ, "k=\"odd\"", 1);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    CHECK(status == 0);
    CHECK(metrics_get(m, F_REQ, "k=\"child\"") == 7);
    CHECK(metrics_get(m, F_REQ, "k=\"odd\"") == THREADS * PER / 2 + 1);
    buf_init(&b);
    metrics_write(&b, &m, 1);
    CHECK(contains(&b, "t_seconds_bucket{le=\"0.5\"} 160000\n"));
    CHECK(contains(&b, "t_seconds_count 160000\n"));
    buf_free(&b);
    metrics_free(m);
}

int main(void)
{
    test_labels();
    test_histogram();
    test_exposition();
    test_full();
    test_concurrent();
    return unit_done("metrics");
}
