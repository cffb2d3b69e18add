#include "outcall.h"
#include "telemetry.h"
#include "log.h"
#include "util.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct outcall_policy outcall_policy_default(int retries)
{
    struct outcall_policy p;

    p.retries = retries;
    p.base_ms = 200;
    p.cap_ms = 60000;
    p.retry_on = OUTCALL_RETRY_ON(OUTCALL_RETRY) | OUTCALL_RETRY_ON(OUTCALL_THROTTLED);
    return p;
}

/* Copies a header's value (trimmed; up to the first ':' when cut_colon). */
static void header_value(const char *line, size_t len, size_t skip, int cut_colon, char *out, size_t outsz)
{
    const char *v = line + skip, *end = line + len;
    size_t n;

    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if (cut_colon) {
        const char *colon = memchr(v, ':', (size_t)(end - v));
        if (colon != NULL)
            end = colon;
    }
    n = (size_t)(end - v);
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static int is_header(const char *p, size_t len, const char *name)
{
    size_t n = strlen(name);

    return len > n && strncasecmp(p, name, n) == 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct outcall *c = arg;
    size_t len = size * n;
    char num[32];

    if (is_header(p, len, "x-amzn-errortype:"))
        header_value(p, len, 17, 1, c->error_type, sizeof c->error_type);
    else if (is_header(p, len, "x-amzn-requestid:"))
        header_value(p, len, 17, 0, c->request_id, sizeof c->request_id);
    else if (is_header(p, len, "x-amz-request-id:") && c->request_id[0] == '\0')
        header_value(p, len, 17, 0, c->request_id, sizeof c->request_id);
    else if (is_header(p, len, "content-type:"))
        header_value(p, len, 13, 0, c->content_type, sizeof c->content_type);
    else if (is_header(p, len, "content-length:")) {
        header_value(p, len, 15, 0, num, sizeof num);
        c->content_length = atoll(num);
    } else if (is_header(p, len, "last-modified:")) {
        char date[64];
        header_value(p, len, 14, 0, date, sizeof date);
        c->last_modified = curl_getdate(date, NULL);
    }
    return len;
}

static size_t on_read(char *dst, size_t size, size_t n, void *arg)
{
    struct outcall *c = arg;
    size_t want = size * n, left = c->body_len - c->body_pos;

    if (want > left)
        want = left;
    memcpy(dst, c->body + c->body_pos, want);
    c->body_pos += want;
    return want;
}

int outcall_init(struct outcall *c, CURL *easy, const char *what, size_t max_reply, char *err)
{
    memset(c, 0, sizeof *c);
    buf_init_max(&c->reply, max_reply);
    snprintf(c->what, sizeof c->what, "%s", what);
    c->method = "GET";
    c->policy = outcall_policy_default(0);
    c->classify = outcall_classify_http;
    c->content_length = -1;
    if (easy != NULL) {
        curl_easy_reset(easy);
        c->easy = easy;
        return 0;
    }
    c->easy = curl_easy_init();
    c->own_easy = 1;
    if (c->easy == NULL) {
        ads_errf(err, "%s: cannot create a curl handle", what);
        return -1;
    }
    return 0;
}

struct outcall *outcall_new(const char *what, size_t max_reply, char *err)
{
    struct outcall *c = malloc(sizeof *c);

    if (c == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    if (outcall_init(c, NULL, what, max_reply, err) != 0) {
        outcall_free(c);
        return NULL;
    }
    return c;
}

void outcall_clear(struct outcall *c)
{
    if (c->own_easy && c->easy != NULL)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->body);
    buf_free(&c->reply);
    memset(c, 0, sizeof *c);
}

void outcall_free(struct outcall *c)
{
    if (c == NULL)
        return;
    outcall_clear(c);
    free(c);
}

int outcall_request(struct outcall *c, const char *method, const char *url, const void *body, size_t len,
                    char *err)
{
    c->method = method;
    free(c->body);
    c->body = NULL;
    c->body_len = 0;
    if (body != NULL) {
        if ((c->body = malloc(len + 1)) == NULL) {
            ads_errf(err, "out of memory");
            return -1;
        }
        memcpy(c->body, body, len);
        c->body[len] = '\0';
        c->body_len = len;
    }
    if (curl_easy_setopt(c->easy, CURLOPT_URL, url) != CURLE_OK) {
        ads_errf(err, "out of memory");
        return -1;
    }
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c->easy, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c->easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c->easy, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c->easy, CURLOPT_READDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->body_len);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body ? c->body : "");
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
    } else if (strcmp(method, "DELETE") == 0) {
        curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    return 0;
}

int outcall_header(struct outcall *c, const char *name, const char *value)
{
    struct buf line;
    struct curl_slist *l;

    buf_init(&line);
    buf_printf(&line, "%s: %s", name, value);
    if (!line.oom && value[0] == '\0')
        line.data[line.len - 1] = '\0';          /* "name:" drops curl's own */
    l = line.oom ? NULL : curl_slist_append(c->headers, line.data);
    buf_free(&line);
    if (l == NULL)
        return -1;
    c->headers = l;
    return 0;
}

int outcall_begin(struct outcall *c, char *msg)
{
    long total = c->timeout_ms, connect = c->connect_ms;

    if (c->deadline_ms > 0) {
        long left = (long)(c->deadline_ms - ads_now_ms());
        if (left <= 0) {
            ads_errf(msg, "%s: out of time", c->what);
            return -1;
        }
        if (total <= 0 || left < total)
            total = left;
        if (connect <= 0 || left < connect)
            connect = left;
    }
    buf_reset(&c->reply);
    c->status = 0;
    c->body_pos = 0;
    c->content_type[0] = '\0';
    c->content_length = -1;
    c->last_modified = 0;
    c->error_type[0] = '\0';
    c->request_id[0] = '\0';
    c->attempt++;
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, buf_write);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &c->reply);
    curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, connect > 0 ? connect : 0L);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, total > 0 ? total : 0L);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    return 0;
}

enum outcall_class outcall_end(struct outcall *c, CURLcode cc, char *msg)
{
    static const char *const class_word[] = { NULL, "retry", "throttled", "permanent" };
    enum outcall_class cls;
    curl_off_t us = 0;

    c->status = 0;
    if (cc == CURLE_OK)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
    cls = c->classify(c, cc, msg);
    /* Every attempt of every service passes here, blocking or in a multi:
     * the one place outbound latency and errors are counted. */
    curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME_T, &us);
    telemetry_outcall(c->what, class_word[cls], (double)us / 1e6);
    return cls;
}

double outcall_next_try(const struct outcall *c, enum outcall_class cls)
{
    unsigned int rnd = 0;
    long span;
    double at;

    if (cls == OUTCALL_OK || (c->policy.retry_on & OUTCALL_RETRY_ON(cls)) == 0 || c->attempt > c->policy.retries)
        return 0;
    span = c->policy.base_ms << (c->attempt - 1 < 16 ? c->attempt - 1 : 16);
    if (span > c->policy.cap_ms)
        span = c->policy.cap_ms;
    RAND_bytes((unsigned char *)&rnd, sizeof rnd);
    at = ads_now_ms() + (double)(span > 0 ? rnd % (unsigned long)span : 0);
    if (c->deadline_ms > 0 && at >= c->deadline_ms)
        return 0;
    return at;
}

enum outcall_class outcall_run(struct outcall *c, char *msg)
{
    for (;;) {
        enum outcall_class cls;
        double at, wait;

        if (outcall_begin(c, msg) != 0)
            return OUTCALL_RETRY;
        cls = outcall_end(c, curl_easy_perform(c->easy), msg);
        at = outcall_next_try(c, cls);
        if (at <= 0)
            return cls;
        log_warn("%s; retrying (attempt %d of %d)", msg, c->attempt + 1, c->policy.retries + 1);
        wait = at - ads_now_ms();
        if (wait > 0)
            usleep((useconds_t)(wait * 1000));
    }
}

enum outcall_class outcall_classify_http(struct outcall *c, CURLcode cc, char *msg)
{
    if (cc != CURLE_OK) {
        if (c->reply.too_large)
            ads_errf(msg, "%s: reply larger than %zu bytes", c->what, c->reply.max);
        else
            ads_errf(msg, "%s: %s", c->what, curl_easy_strerror(cc));
        return OUTCALL_RETRY;
    }
    if (c->status >= 200 && c->status < 300)
        return OUTCALL_OK;
    ads_errf(msg, "%s: HTTP %ld", c->what, c->status);
    if (c->status == 429)
        return OUTCALL_THROTTLED;
    return c->status >= 500 ? OUTCALL_RETRY : OUTCALL_PERMANENT;
}

const char *outcall_text(const struct outcall *c)
{
    return c->reply.data ? c->reply.data : "";
}
