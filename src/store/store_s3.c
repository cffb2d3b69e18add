/*
 * The S3 driver: PutObject, GetObject, HeadObject, DeleteObject and
 * presigned URLs against any S3-compatible endpoint, path-style or
 * virtual-hosted. Every request is an outcall (outcall.h): connect and
 * total timeouts, retries with full-jitter backoff on 5xx, SlowDown and
 * connection errors, never on 4xx; S3's XML error body read by this
 * driver's classifier into the message (code, message, request id). The
 * blocking operations share one curl handle per store (connections and TLS
 * sessions reused), so a store is used by one thread at a time; PutObject
 * can also be had as a call of its own for an event loop (store_put_call).
 */
#include "store_int.h"
#include "aws.h"
#include "awscreds.h"
#include "outcall.h"
#include "buf.h"
#include "sigv4.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct s3_store {
    struct store base;
    CURL *curl;
    char *scheme;          /* "http" or "https" */
    char *host;            /* host[:port] of the endpoint */
    char *prefix;          /* path prefix of the endpoint, "" or "/x" */
    int path_style;
    struct awscreds *creds;    /* the process's S3 chain (awscreds.h), not owned */
    char *region;
    char *public_base;     /* assets_public_url, or "" for the object URL */
    long connect_ms, timeout_ms;
    int retries;
};

static const struct store_ops s3_ops;

static void s3_close(struct store *base)
{
    struct s3_store *s = (struct s3_store *)base;

    if (s->curl)
        curl_easy_cleanup(s->curl);
    free(s->scheme);
    free(s->host);
    free(s->prefix);
    free(s->region);
    free(s->public_base);
    free(s);
}

struct store *store_s3_open(const struct config *cfg, char *err)
{
    struct s3_store *s;
    struct awscreds *creds = awscreds_s3(cfg, err);
    char endpoint[512];

    /* The credentials themselves are found on first use (awscreds.h):
     * opening needs no network. */
    if (creds == NULL)
        return NULL;
    /* Reference-counted by libcurl: the programs' mains made the first call
     * before any thread started; this one only counts. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    s->base.ops = &s3_ops;
    if (cfg->s3_endpoint[0] != '\0')
        snprintf(endpoint, sizeof endpoint, "%s", cfg->s3_endpoint);
    else
        snprintf(endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com", cfg->s3_region);
    if (aws_split_url(endpoint, "s3_endpoint", &s->scheme, &s->host, &s->prefix, err) != 0) {
        s3_close(&s->base);
        return NULL;
    }
    s->path_style = strcmp(cfg->s3_path_style, "yes") == 0;
    s->creds = creds;
    s->region = strdup(cfg->s3_region);
    s->public_base = strdup(cfg->assets_public_url);
    s->connect_ms = cfg->s3_connect_timeout_ms;
    s->timeout_ms = cfg->s3_timeout_ms;
    s->retries = (int)cfg->s3_retries;
    s->curl = curl_easy_init();
    if (!s->region || !s->public_base || !s->curl) {
        s3_close(&s->base);
        ads_errf(err, "out of memory");
        return NULL;
    }
    return &s->base;
}

/* Host header, signed path (decoded) and URL for an object. */
struct target {
    char host[300];
    char path[1200];      /* decoded: "/bucket/key" or "/key", with the endpoint prefix */
    struct buf url;
};

static void target_of(const struct s3_store *s, const char *bucket, const char *key, struct target *t)
{
    buf_init(&t->url);
    if (s->path_style) {
        snprintf(t->host, sizeof t->host, "%s", s->host);
        snprintf(t->path, sizeof t->path, "%s/%s/%s", s->prefix, bucket, key);
    } else {
        snprintf(t->host, sizeof t->host, "%s.%s", bucket, s->host);
        snprintf(t->path, sizeof t->path, "%s/%s", s->prefix, key);
    }
    buf_printf(&t->url, "%s://%s", s->scheme, t->host);
    sigv4_uri_encode(&t->url, t->path, strlen(t->path), 1);
}

/* A consistent copy of the chain's current credentials into *v, and c
 * pointing at it. 0, or -1 with a message. */
static int creds_of(const struct s3_store *s, struct sigv4_creds *c, struct awscreds_value *v, char *err)
{
    if (awscreds_get(s->creds, v, err) != 0) {
        char m[ADS_ERRSZ];
        snprintf(m, sizeof m, "%s", err);
        ads_errf(err, "S3: %s", m);
        return -1;
    }
    c->access_key = v->access_key;
    c->secret_key = v->secret_key;
    c->session_token = v->session_token;
    c->region = s->region;
    c->service = "s3";
    return 0;
}

/* The request to sign for an object (decoded path; headers start with host). */
static void request_of(struct sigv4_request *req, const char *method, const struct target *t,
                       const struct sigv4_pair *h, size_t nh, const char *payload_hash)
{
    memset(req, 0, sizeof *req);
    req->method = method;
    req->path = t->path;
    req->headers = h;
    req->nheaders = nh;
    req->payload_hash = payload_hash;
}

/* Text between <tag> and </tag> in an S3 error document. */
static void xml_field(const char *xml, const char *tag, char *out, size_t outsz)
{
    char open[40], close[40];
    const char *a, *b;

    out[0] = '\0';
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    if (xml == NULL || (a = strstr(xml, open)) == NULL)
        return;
    a += strlen(open);
    if ((b = strstr(a, close)) == NULL)
        return;
    snprintf(out, outsz, "%.*s", (int)(b - a), a);
}

/* The S3 classifier (an outcall_classify): S3's XML error body (code,
 * message, request id) becomes the message. Connection errors, timeouts
 * and 5xx are worth another attempt (503 SlowDown is THROTTLED); any 4xx
 * never is (the caller reads c->status for a 404). */
static enum outcall_class s3_classify(struct outcall *c, CURLcode cc, char *err)
{
    char code[64], msg[160], rid[80];

    if (cc != CURLE_OK) {
        if (c->reply.too_large) {
            ads_errf(err, "%s: object larger than %zu bytes", c->what, c->reply.max);
            return OUTCALL_PERMANENT;
        }
        ads_errf(err, "%s: %s", c->what, curl_easy_strerror(cc));
        if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_SEND_ERROR ||
            cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_COULDNT_RESOLVE_HOST)
            return OUTCALL_RETRY;
        return OUTCALL_PERMANENT;
    }
    if (c->status >= 200 && c->status < 300)
        return OUTCALL_OK;
    xml_field(c->reply.data, "Code", code, sizeof code);
    xml_field(c->reply.data, "Message", msg, sizeof msg);
    xml_field(c->reply.data, "RequestId", rid, sizeof rid);
    ads_errf(err, "%s: HTTP %ld %s%s%s%s%s", c->what, c->status, code[0] ? code : "(no code)",
             msg[0] ? ": " : "", msg, rid[0] ? " request " : "", rid);
    if (c->status == 503 && strcmp(code, "SlowDown") == 0)
        return OUTCALL_THROTTLED;
    return c->status >= 500 ? OUTCALL_RETRY : OUTCALL_PERMANENT;
}

/* Sets c up as one signed S3 request (op names it in messages), with the
 * store's timeouts and retry policy (full jitter, 100 ms doubling up to
 * 6.4 s, s3_retries times). max is the reply cap (0: small error bodies). */
static int s3_build(const struct s3_store *s, struct outcall *c, const char *op, const char *method,
                    const char *bucket, const char *key, const void *body, size_t len, const char *content_type,
                    const struct sigv4_pair *meta, size_t nmeta, char *err)
{
    struct target t;
    struct sigv4_creds cr;
    struct awscreds_value *v;
    struct sigv4_pair h[6 + 8];
    char metanames[8][80];
    struct sigv4_request req;
    char amzdate[17], hash[65];
    size_t nh = 0, i;
    int rc;

    snprintf(c->what, sizeof c->what, "S3 %s", op);
    c->classify = s3_classify;
    c->connect_ms = s->connect_ms;
    c->timeout_ms = s->timeout_ms;
    c->policy.retries = s->retries;
    c->policy.base_ms = 100;
    c->policy.cap_ms = 6400;
    c->policy.retry_on = OUTCALL_RETRY_ON(OUTCALL_RETRY) | OUTCALL_RETRY_ON(OUTCALL_THROTTLED);
    if ((v = malloc(sizeof *v)) == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    if (creds_of(s, &cr, v, err) != 0) {
        free(v);
        return -1;
    }
    target_of(s, bucket, key, &t);
    ads_fmt_amzdate(time(NULL), amzdate);
    ads_sha256_hex(body ? body : "", body ? len : 0, hash);
    h[nh++] = (struct sigv4_pair){ "host", t.host };
    h[nh++] = (struct sigv4_pair){ "x-amz-date", amzdate };
    h[nh++] = (struct sigv4_pair){ "x-amz-content-sha256", hash };
    if (v->session_token[0] != '\0')
        h[nh++] = (struct sigv4_pair){ "x-amz-security-token", v->session_token };
    if (content_type != NULL)
        h[nh++] = (struct sigv4_pair){ "content-type", content_type };
    for (i = 0; i < nmeta && i < 8; i++) {
        snprintf(metanames[i], sizeof metanames[i], "x-amz-meta-%s", meta[i].name);
        h[nh++] = (struct sigv4_pair){ metanames[i], meta[i].value };
    }
    request_of(&req, method, &t, h, nh, hash);
    rc = t.url.oom ? -1 : outcall_request(c, method, t.url.data, body, body ? len : 0, err);
    if (rc == 0 && aws_sign_call(c, &cr, &req, amzdate) != 0) {
        ads_errf(err, "out of memory");
        rc = -1;
    }
    buf_free(&t.url);
    memset(v, 0, sizeof *v);
    free(v);
    return rc;
}

/* One request run blocking on the store's handle (its connections kept). */
static int s3_run(struct s3_store *s, struct outcall *c, const char *op, const char *method, const char *bucket,
                  const char *key, const void *body, size_t len, const char *content_type,
                  const struct sigv4_pair *meta, size_t nmeta, size_t max, char *err)
{
    if (outcall_init(c, s->curl, op, max ? max : 64 * 1024, err) != 0 ||
        s3_build(s, c, op, method, bucket, key, body, len, content_type, meta, nmeta, err) != 0)
        return -1;
    return (int)outcall_run(c, err);
}

static const char *put_type(const char *content_type)
{
    return content_type ? content_type : "application/octet-stream";
}

/* The store code for a finished call (rc -1: it never began): attempts
 * with no HTTP status on the last one mean the server never answered. */
static int failed_as(int rc, const struct outcall *c)
{
    if (rc == OUTCALL_OK)
        return STORE_OK;
    if (rc < 0)
        return STORE_ERR;
    if (c->status == 404)
        return STORE_NOT_FOUND;
    return c->attempt > 0 && c->status == 0 ? STORE_UNREACHABLE : STORE_ERR;
}

static int s3_put(struct store *base, const char *bucket, const char *key,
                  const void *data, size_t len, const char *content_type,
                  const struct sigv4_pair *meta, size_t nmeta, char *err)
{
    struct outcall c;
    int rc = s3_run((struct s3_store *)base, &c, "PutObject", "PUT", bucket, key, data, len, put_type(content_type),
                    meta, nmeta, 0, err);

    rc = failed_as(rc, &c);
    outcall_clear(&c);
    return rc;
}

static struct outcall *s3_put_call(struct store *base, const char *bucket, const char *key, const void *data,
                                   size_t len, const char *content_type, const struct sigv4_pair *meta,
                                   size_t nmeta, char *err)
{
    struct outcall *c = outcall_new("S3 PutObject", 64 * 1024, err);

    if (c != NULL && s3_build((struct s3_store *)base, c, "PutObject", "PUT", bucket, key, data, len,
                              put_type(content_type), meta, nmeta, err) != 0) {
        outcall_free(c);
        c = NULL;
    }
    return c;
}

static int s3_head(struct store *base, const char *bucket, const char *key, struct store_info *info, char *err)
{
    struct outcall c;
    int rc = s3_run((struct s3_store *)base, &c, "HeadObject", "HEAD", bucket, key, NULL, 0, NULL, NULL, 0, 0,
                    err);

    if (rc == OUTCALL_OK) {
        info->size = c.content_length;
        info->last_modified = c.last_modified;
        snprintf(info->content_type, sizeof info->content_type, "%s", c.content_type);
    }
    rc = failed_as(rc, &c);
    outcall_clear(&c);
    return rc;
}

static int s3_get(struct store *base, const char *bucket, const char *key, size_t maxbytes,
                  char **data, size_t *len, char *err)
{
    struct outcall c;
    int rc = s3_run((struct s3_store *)base, &c, "GetObject", "GET", bucket, key, NULL, 0, NULL, NULL, 0,
                    maxbytes, err);

    if (rc == OUTCALL_OK) {
        *len = c.reply.len;
        *data = buf_steal(&c.reply);
        rc = *data ? STORE_OK : STORE_ERR;
    } else {
        rc = failed_as(rc, &c);
    }
    outcall_clear(&c);
    return rc;
}

static int s3_del(struct store *base, const char *bucket, const char *key, char *err)
{
    struct outcall c;
    int rc = s3_run((struct s3_store *)base, &c, "DeleteObject", "DELETE", bucket, key, NULL, 0, NULL, NULL, 0, 0,
                    err);

    /* S3 answers 204 for a missing key; some compatible stores say 404:
     * either way the object is gone, which is what a delete asks. */
    rc = c.status == 404 ? STORE_OK : failed_as(rc, &c);
    outcall_clear(&c);
    return rc;
}

static char *s3_presign(struct store *base, const char *method, const char *bucket, const char *key,
                        const char *content_type, long expires, time_t now, char *err)
{
    struct s3_store *s = (struct s3_store *)base;
    struct sigv4_creds c;
    struct awscreds_value *v = malloc(sizeof *v);
    struct sigv4_pair h[2];
    struct sigv4_request req;
    struct target t;
    size_t nh = 0;
    char *q;

    if (v == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    if (creds_of(s, &c, v, err) != 0) {
        free(v);
        return NULL;
    }
    target_of(s, bucket, key, &t);
    if (content_type != NULL && strcmp(method, "PUT") == 0)
        h[nh++] = (struct sigv4_pair){ "content-type", content_type };
    h[nh++] = (struct sigv4_pair){ "host", t.host };
    request_of(&req, method, &t, h, nh, SIGV4_UNSIGNED);
    q = sigv4_presign_query(&c, &req, now, expires);
    memset(v, 0, sizeof *v);
    free(v);
    if (q == NULL) {
        buf_free(&t.url);
        ads_errf(err, "out of memory");
        return NULL;
    }
    buf_addc(&t.url, '?');
    buf_adds(&t.url, q);
    free(q);
    return buf_steal(&t.url);
}

static char *s3_public_url(struct store *base, const char *bucket, const char *key)
{
    struct s3_store *s = (struct s3_store *)base;
    struct target t;
    struct buf b;

    if (s->public_base[0] != '\0') {
        buf_init(&b);
        buf_adds(&b, s->public_base);
        buf_addc(&b, '/');
        sigv4_uri_encode(&b, key, strlen(key), 1);
        return buf_steal(&b);
    }
    target_of(s, bucket, key, &t);
    return buf_steal(&t.url);
}

static const struct store_ops s3_ops = {
    s3_put, s3_head, s3_get, s3_del, s3_presign, s3_public_url, s3_close, store_s3_valid_key,
    s3_put_call,
};
