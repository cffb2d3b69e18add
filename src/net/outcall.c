#include "outcall.h"
#include "util.h"

#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

struct sink {
    struct http_reply *r;
    size_t max;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;

    if (s->r->body.len + len > s->max) {
        s->r->too_large = 1;
        return 0;
    }
    buf_add(&s->r->body, p, len);
    return s->r->body.oom ? 0 : len;
}

void http_reply_free(struct http_reply *r)
{
    buf_free(&r->body);
}

int http_request(CURL *c, const char *url, struct curl_slist *headers, const char *body, size_t max_reply,
                 double deadline_ms, long connect_ms, int retries, const char *what, struct http_reply *out,
                 char *err)
{
    struct sink s = { out, max_reply };
    int attempt, rc = HTTP_FAILED;

    memset(out, 0, sizeof *out);
    buf_init(&out->body);
    for (attempt = 0; attempt <= retries; attempt++) {
        long left = (long)(deadline_ms - ads_now_ms());
        CURLcode cc;

        if (left <= 0) {
            ads_errf(err, "%s: out of time", what);
            return HTTP_FAILED;
        }
        buf_reset(&out->body);
        out->too_large = 0;
        out->status = 0;
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        if (body != NULL) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        }
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms < left ? connect_ms : left);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        cc = curl_easy_perform(c);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
            if (out->status >= 200 && out->status < 300)
                return HTTP_OK;
            rc = HTTP_STATUS;
            if (out->status != 429 && out->status < 500)
                return rc;            /* a 4xx: asking again will not help */
        } else {
            ads_errf(err, "%s: %s", what, out->too_large ? "reply too large" : curl_easy_strerror(cc));
            rc = HTTP_FAILED;
        }
        if (attempt < retries) {
            unsigned int rnd = 0;
            RAND_bytes((unsigned char *)&rnd, sizeof rnd);
            usleep((useconds_t)(rnd % (200u << attempt)) * 1000);
        }
    }
    return rc;
}
