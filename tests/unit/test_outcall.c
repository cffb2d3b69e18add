/* outcall: the capped reply buffer, the classifiers, the retry schedule,
 * and whole calls against a scripted HTTP server on loopback. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aws.h"
#include "buf.h"
#include "outcall.h"
#include "unit.h"
#include "util.h"

static void test_buf_cap(void)
{
    static const struct {
        size_t max;
        const char *adds[3];
        const char *want;
        int too_large;
    } cases[] = {
        { 0, { "abc", "def", NULL }, "abcdef", 0 },
        { 6, { "abc", "def", NULL }, "abcdef", 0 },
        { 5, { "abc", "def", NULL }, "abc", 1 },      /* refused whole */
        { 5, { "abcdef", "ab", NULL }, "ab", 1 },
        { 1, { "", "a", "b" }, "a", 1 },
    };
    size_t i, j;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b;
        buf_init_max(&b, cases[i].max);
        for (j = 0; j < 3 && cases[i].adds[j] != NULL; j++)
            buf_adds(&b, cases[i].adds[j]);
        CHECK(strcmp(b.data ? b.data : "", cases[i].want) == 0);
        CHECK(b.too_large == cases[i].too_large && !b.oom);
        buf_reset(&b);
        CHECK(b.too_large == 0 && b.max == cases[i].max);
        buf_free(&b);
        CHECK(b.max == cases[i].max);
    }
}

static void test_buf_write(void)
{
    struct buf b;
    char chunk[4] = "wxyz";

    buf_init_max(&b, 10);
    CHECK(buf_write(chunk, 1, 4, &b) == 4);
    CHECK(buf_write(chunk, 2, 2, &b) == 4);
    CHECK(buf_write(chunk, 1, 4, &b) == 0 && b.too_large);   /* curl stops: CURLE_WRITE_ERROR */
    CHECK(b.len == 8);
    buf_free(&b);
}

static void test_classify_http(void)
{
    static const struct {
        long status;
        enum outcall_class want;
    } cases[] = {
        { 200, OUTCALL_OK }, { 204, OUTCALL_OK }, { 400, OUTCALL_PERMANENT }, { 404, OUTCALL_PERMANENT },
        { 429, OUTCALL_THROTTLED }, { 500, OUTCALL_RETRY }, { 503, OUTCALL_RETRY },
    };
    char err[ADS_ERRSZ];
    struct outcall c;
    size_t i;

    CHECK(outcall_init(&c, NULL, "probe", 100, err) == 0);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c.status = cases[i].status;
        err[0] = '\0';
        CHECK(outcall_classify_http(&c, CURLE_OK, err) == cases[i].want);
        CHECK(cases[i].want == OUTCALL_OK || strncmp(err, "probe: HTTP ", 12) == 0);
    }
    CHECK(outcall_classify_http(&c, CURLE_COULDNT_CONNECT, err) == OUTCALL_RETRY && strncmp(err, "probe: ", 7) == 0);
    outcall_clear(&c);
}

static void test_classify_aws(void)
{
    static const struct {
        long status;
        const char *error_type, *body;
        enum outcall_class want;
        const char *says;
    } cases[] = {
        { 200, "", "{}", OUTCALL_OK, "" },
        { 400, "ValidationException", "{\"message\":\"bad input\"}", OUTCALL_PERMANENT,
          "Nova: HTTP 400 ValidationException: bad input" },
        { 400, "", "{\"__type\":\"com.amazon#ThrottlingException\",\"message\":\"slow\"}", OUTCALL_THROTTLED,
          "ThrottlingException: slow" },
        { 429, "", "", OUTCALL_THROTTLED, "HTTP 429 (no error type)" },
        { 403, "AccessDeniedException", "{\"Message\":\"no\"}", OUTCALL_RETRY, "AccessDeniedException: no" },
        { 500, "", "not json", OUTCALL_RETRY, "HTTP 500" },
    };
    char err[ADS_ERRSZ];
    struct outcall c;
    size_t i;

    CHECK(outcall_init(&c, NULL, "Nova", 1000, err) == 0);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&c.reply);
        buf_adds(&c.reply, cases[i].body);
        snprintf(c.error_type, sizeof c.error_type, "%s", cases[i].error_type);
        c.status = cases[i].status;
        err[0] = '\0';
        CHECK(aws_classify(&c, CURLE_OK, err) == cases[i].want);
        CHECK(strstr(err, cases[i].says) != NULL);
    }
    outcall_clear(&c);
}

static void test_next_try(void)
{
    char err[ADS_ERRSZ];
    struct outcall c;
    double now, at, after;
    int i;

    CHECK(outcall_init(&c, NULL, "probe", 100, err) == 0);
    c.policy = outcall_policy_default(2);
    c.attempt = 1;
    CHECK(outcall_next_try(&c, OUTCALL_OK) == 0);
    CHECK(outcall_next_try(&c, OUTCALL_PERMANENT) == 0);
    for (i = 0; i < 50; i++) {                /* full jitter: [now, now + 200 ms) on the first */
        /* Bounded by the clock read before and after the call: a slow call
         * (a sanitizer build) widens neither side. */
        now = ads_now_ms();
        at = outcall_next_try(&c, OUTCALL_RETRY);
        after = ads_now_ms();
        CHECK(at >= now && at < after + 200);
    }
    c.attempt = 2;
    now = ads_now_ms();
    at = outcall_next_try(&c, OUTCALL_THROTTLED);
    after = ads_now_ms();
    CHECK(at >= now && at < after + 400);
    c.attempt = 3;                            /* retries used up */
    CHECK(outcall_next_try(&c, OUTCALL_RETRY) == 0);
    c.attempt = 1;
    c.policy.retry_on = OUTCALL_RETRY_ON(OUTCALL_RETRY);
    CHECK(outcall_next_try(&c, OUTCALL_THROTTLED) == 0);
    c.deadline_ms = ads_now_ms() - 1;         /* no retry past the deadline */
    CHECK(outcall_next_try(&c, OUTCALL_RETRY) == 0);
    CHECK(outcall_begin(&c, err) == -1 && strcmp(err, "probe: out of time") == 0);
    outcall_clear(&c);
}

/* A loopback server answering each connection with the next scripted reply. */
struct script {
    int fd, n, served;
    const char *replies[4];
};

static void *serve(void *arg)
{
    struct script *s = arg;
    char req[4096];

    for (s->served = 0; s->served < s->n; s->served++) {
        int c = accept(s->fd, NULL, NULL);
        size_t got = 0;
        ssize_t r;
        if (c < 0)
            break;
        while (got < sizeof req - 1 && (r = read(c, req + got, sizeof req - 1 - got)) > 0) {
            got += (size_t)r;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL)
                break;
        }
        if (write(c, s->replies[s->served], strlen(s->replies[s->served])) < 0)
            s->served = s->n;
        close(c);
    }
    return NULL;
}

static int listen_loopback(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

#define R503 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define R200 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
#define R404 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define RBIG "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nConnection: close\r\n\r\n0123456789012345678901234567890123456789"

static void test_run(void)
{
    static const struct {
        int n, retries;
        const char *replies[4];
        size_t cap;
        enum outcall_class want;
        int attempts;
        const char *reply, *says;
    } cases[] = {
        { 1, 2, { R200 }, 100, OUTCALL_OK, 1, "hello", "" },
        { 3, 2, { R503, R503, R200 }, 100, OUTCALL_OK, 3, "hello", "" },
        { 3, 2, { R503, R503, R503 }, 100, OUTCALL_RETRY, 3, "", "probe: HTTP 503" },
        { 1, 2, { R404 }, 100, OUTCALL_PERMANENT, 1, "", "probe: HTTP 404" },
        { 1, 0, { RBIG }, 10, OUTCALL_RETRY, 1, "", "probe: reply larger than 10 bytes" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct script s;
        struct outcall c;
        pthread_t t;
        char err[ADS_ERRSZ] = "", url[64];
        int port = 0;

        memset(&s, 0, sizeof s);
        s.n = cases[i].n;
        memcpy(s.replies, cases[i].replies, sizeof s.replies);
        s.fd = listen_loopback(&port);
        CHECK(s.fd >= 0 && pthread_create(&t, NULL, serve, &s) == 0);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
        CHECK(outcall_init(&c, NULL, "probe", cases[i].cap, err) == 0);
        c.policy = outcall_policy_default(cases[i].retries);
        c.policy.base_ms = 10;
        c.deadline_ms = ads_now_ms() + 10000;
        CHECK(outcall_request(&c, "GET", url, NULL, 0, err) == 0);
        CHECK(outcall_run(&c, err) == cases[i].want);
        CHECK(c.attempt == cases[i].attempts);
        CHECK(cases[i].want != OUTCALL_OK || strcmp(outcall_text(&c), cases[i].reply) == 0);
        CHECK(strstr(err, cases[i].says) != NULL);
        pthread_join(t, NULL);
        CHECK(s.served == cases[i].n);
        close(s.fd);
        outcall_clear(&c);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_buf_cap();
    test_buf_write();
    test_classify_http();
    test_classify_aws();
    test_next_try();
    test_run();
    curl_global_cleanup();
    return unit_done("test_outcall");
}
