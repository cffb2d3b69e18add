/*
 * The S3 driver: PutObject, GetObject, HeadObject, DeleteObject and
 * presigned URLs against any S3-compatible endpoint, path-style or
 * virtual-hosted. One curl handle per store, reused (connections and TLS
 * sessions), connect and total timeouts, retries with exponential backoff
 * and jitter on 5xx, SlowDown and connection errors, never on 4xx. S3's XML
 * error body becomes the error message (code, message, request id).
 */
#include "store_int.h"
#include "aws.h"
#include "buf.h"
#include "log.h"
#include "sigv4.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

struct s3_store {
    struct store base;
    CURL *curl;
    char *scheme;          /* "http" or "https" */
    char *host;            /* host[:port] of the endpoint */
    char *prefix;          /* path prefix of the endpoint, "" or "/x" */
    int path_style;
    char *access_key, *secret_key, *session_token, *region;
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
    free(s->access_key);
    free(s->secret_key);
    free(s->session_token);
    free(s->region);
    free(s->public_base);
    free(s);
}

struct store *store_s3_open(const struct config *cfg, char *err)
{
    struct s3_store *s;
    char endpoint[512];

    if (cfg->s3_access_key_id[0] == '\0' || cfg->s3_secret_access_key[0] == '\0') {
        ads_errf(err, "storage = s3 needs credentials: s3_access_key_id/s3_secret_access_key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
        return NULL;
    }
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
    s->access_key = strdup(cfg->s3_access_key_id);
    s->secret_key = strdup(cfg->s3_secret_access_key);
    s->session_token = strdup(cfg->s3_session_token);
    s->region = strdup(cfg->s3_region);
    s->public_base = strdup(cfg->assets_public_url);
    s->connect_ms = cfg->s3_connect_timeout_ms;
    s->timeout_ms = cfg->s3_timeout_ms;
    s->retries = (int)cfg->s3_retries;
    s->curl = curl_easy_init();
    if (!s->access_key || !s->secret_key || !s->session_token || !s->region || !s->public_base || !s->curl) {
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

static void creds_of(const struct s3_store *s, struct sigv4_creds *c)
{
    c->access_key = s->access_key;
    c->secret_key = s->secret_key;
    c->session_token = s->session_token;
    c->region = s->region;
    c->service = "s3";
}

struct reply {
    long status;
    struct buf body;
    size_t max;            /* body limit; 0: keep only error bodies (small) */
    int too_large;
    char content_type[64];
    long long content_length;
    time_t last_modified;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t len = size * n;
    size_t limit = r->max ? r->max : 64 * 1024;

    if (r->body.len + len > limit) {
        r->too_large = 1;
        return 0;
    }
    buf_add(&r->body, p, len);
    return r->body.oom ? 0 : len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t len = size * n;
    char line[512];

    if (len >= sizeof line)
        return len;
    memcpy(line, p, len);
    line[len] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "content-type:", 13) == 0) {
        const char *v = line + 13;
        while (*v == ' ')
            v++;
        snprintf(r->content_type, sizeof r->content_type, "%.63s", v);
    } else if (strncasecmp(line, "content-length:", 15) == 0) {
        r->content_length = atoll(line + 15);
    } else if (strncasecmp(line, "last-modified:", 14) == 0) {
        r->last_modified = curl_getdate(line + 14, NULL);
    }
    return len;
}

struct upload {
    const char *data;
    size_t len, pos;
};

static size_t on_read(char *dst, size_t size, size_t n, void *arg)
{
    struct upload *u = arg;
    size_t want = size * n, left = u->len - u->pos;

    if (want > left)
        want = left;
    memcpy(dst, u->data + u->pos, want);
    u->pos += want;
    return want;
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

static void describe_error(const char *op, const struct reply *r, char *err)
{
    char code[64], msg[160], rid[80];

    xml_field(r->body.data, "Code", code, sizeof code);
    xml_field(r->body.data, "Message", msg, sizeof msg);
    xml_field(r->body.data, "RequestId", rid, sizeof rid);
    ads_errf(err, "S3 %s: HTTP %ld %s%s%s%s%s", op, r->status, code[0] ? code : "(no code)",
             msg[0] ? ": " : "", msg, rid[0] ? " request " : "", rid);
}

static int retryable(CURLcode cc, const struct reply *r)
{
    if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_SEND_ERROR ||
        cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_COULDNT_RESOLVE_HOST)
        return 1;
    return cc == CURLE_OK && r->status >= 500;
}

/* Exponential backoff with full jitter: 0..(100 ms * 2^attempt). */
static void backoff(int attempt)
{
    unsigned int rnd = 0;
    long cap = 100L << (attempt < 6 ? attempt : 6);

    RAND_bytes((unsigned char *)&rnd, sizeof rnd);
    usleep((useconds_t)((rnd % (unsigned)cap) * 1000));
}

/* One signed request, retried as S3 recommends. */
static int s3_call(struct s3_store *s, const char *method, const char *bucket, const char *key,
                   const void *body, size_t len, const char *content_type,
                   const struct sigv4_pair *meta, size_t nmeta, struct reply *r, char *err)
{
    struct target t;
    int attempt;
    CURLcode cc = CURLE_OK;

    target_of(s, bucket, key, &t);
    for (attempt = 0;; attempt++) {
        struct sigv4_creds c;
        struct sigv4_pair h[6 + 8];
        char metanames[8][80];
        struct sigv4_request req;
        struct curl_slist *hl = NULL;
        struct upload up = { body, len, 0 };
        char amzdate[17], hash[65], line[1200];
        char *auth;
        size_t nh = 0, i;

        buf_reset(&r->body);
        r->status = 0;
        r->too_large = 0;
        r->content_type[0] = '\0';
        r->content_length = -1;
        ads_fmt_amzdate(time(NULL), amzdate);
        ads_sha256_hex(body ? body : "", body ? len : 0, hash);
        h[nh++] = (struct sigv4_pair){ "host", t.host };
        h[nh++] = (struct sigv4_pair){ "x-amz-date", amzdate };
        h[nh++] = (struct sigv4_pair){ "x-amz-content-sha256", hash };
        if (s->session_token[0] != '\0')
            h[nh++] = (struct sigv4_pair){ "x-amz-security-token", s->session_token };
        if (content_type != NULL)
            h[nh++] = (struct sigv4_pair){ "content-type", content_type };
        for (i = 0; i < nmeta && i < 8; i++) {
            snprintf(metanames[i], sizeof metanames[i], "x-amz-meta-%s", meta[i].name);
            h[nh++] = (struct sigv4_pair){ metanames[i], meta[i].value };
        }
        memset(&req, 0, sizeof req);
        req.method = method;
        req.path = t.path;
        req.headers = h;
        req.nheaders = nh;
        req.payload_hash = hash;
        creds_of(s, &c);
        auth = sigv4_authorization(&c, &req, amzdate);
        if (auth == NULL) {
            buf_free(&t.url);
            ads_errf(err, "out of memory");
            return STORE_ERR;
        }
        for (i = 1; i < nh; i++) {     /* curl sets Host itself */
            snprintf(line, sizeof line, "%s: %s", h[i].name, h[i].value);
            hl = curl_slist_append(hl, line);
        }
        snprintf(line, sizeof line, "Authorization: %s", auth);
        hl = curl_slist_append(hl, line);
        hl = curl_slist_append(hl, "Expect:");
        free(auth);

        curl_easy_reset(s->curl);
        curl_easy_setopt(s->curl, CURLOPT_URL, t.url.data);
        curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, s->connect_ms);
        curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, s->timeout_ms);
        curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, r);
        if (strcmp(method, "PUT") == 0) {
            curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(s->curl, CURLOPT_READDATA, &up);
            curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
        } else if (strcmp(method, "HEAD") == 0) {
            curl_easy_setopt(s->curl, CURLOPT_NOBODY, 1L);
        } else if (strcmp(method, "DELETE") == 0) {
            curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, "DELETE");
        }
        cc = curl_easy_perform(s->curl);
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &r->status);
        curl_slist_free_all(hl);
        if (r->too_large) {
            buf_free(&t.url);
            ads_errf(err, "S3 %s: object larger than %zu bytes", method, r->max);
            return STORE_ERR;
        }
        if (!retryable(cc, r) || attempt >= s->retries)
            break;
        log_warn("S3 %s %s/%s: %s; retrying (attempt %d)", method, bucket, key,
                 cc != CURLE_OK ? curl_easy_strerror(cc) : "server error", attempt + 1);
        backoff(attempt);
    }
    buf_free(&t.url);
    buf_add(&r->body, "", 0);
    if (cc != CURLE_OK) {
        ads_errf(err, "S3 %s: %s", method, curl_easy_strerror(cc));
        return STORE_ERR;
    }
    return STORE_OK;
}

static int s3_put(struct store *base, const char *bucket, const char *key,
                  const void *data, size_t len, const char *content_type,
                  const struct sigv4_pair *meta, size_t nmeta, char *err)
{
    struct s3_store *s = (struct s3_store *)base;
    struct reply r;
    int rc;

    memset(&r, 0, sizeof r);
    rc = s3_call(s, "PUT", bucket, key, data, len, content_type ? content_type : "application/octet-stream",
                 meta, nmeta, &r, err);
    if (rc == STORE_OK && r.status != 200) {
        describe_error("PutObject", &r, err);
        rc = STORE_ERR;
    }
    buf_free(&r.body);
    return rc;
}

static int s3_head(struct store *base, const char *bucket, const char *key, struct store_info *info, char *err)
{
    struct s3_store *s = (struct s3_store *)base;
    struct reply r;
    int rc;

    memset(&r, 0, sizeof r);
    rc = s3_call(s, "HEAD", bucket, key, NULL, 0, NULL, NULL, 0, &r, err);
    if (rc == STORE_OK) {
        if (r.status == 404) {
            rc = STORE_NOT_FOUND;
        } else if (r.status != 200) {
            ads_errf(err, "S3 HeadObject: HTTP %ld", r.status);
            rc = STORE_ERR;
        } else {
            info->size = r.content_length;
            info->last_modified = r.last_modified;
            snprintf(info->content_type, sizeof info->content_type, "%s", r.content_type);
        }
    }
    buf_free(&r.body);
    return rc;
}

static int s3_get(struct store *base, const char *bucket, const char *key, size_t maxbytes,
                  char **data, size_t *len, char *err)
{
    struct s3_store *s = (struct s3_store *)base;
    struct reply r;
    int rc;

    memset(&r, 0, sizeof r);
    r.max = maxbytes;
    rc = s3_call(s, "GET", bucket, key, NULL, 0, NULL, NULL, 0, &r, err);
    if (rc == STORE_OK && r.status == 404) {
        rc = STORE_NOT_FOUND;
    } else if (rc == STORE_OK && r.status != 200) {
        describe_error("GetObject", &r, err);
        rc = STORE_ERR;
    } else if (rc == STORE_OK) {
        *len = r.body.len;
        *data = buf_steal(&r.body);
        return *data ? STORE_OK : STORE_ERR;
    }
    buf_free(&r.body);
    return rc;
}

static int s3_del(struct store *base, const char *bucket, const char *key, char *err)
{
    struct s3_store *s = (struct s3_store *)base;
    struct reply r;
    int rc;

    memset(&r, 0, sizeof r);
    rc = s3_call(s, "DELETE", bucket, key, NULL, 0, NULL, NULL, 0, &r, err);
    if (rc == STORE_OK && r.status != 204 && r.status != 200) {
        describe_error("DeleteObject", &r, err);
        rc = STORE_ERR;
    }
    buf_free(&r.body);
    return rc;
}

static char *s3_presign(struct store *base, const char *method, const char *bucket, const char *key,
                        const char *content_type, long expires, time_t now, char *err)
{
    struct s3_store *s = (struct s3_store *)base;
    struct sigv4_creds c;
    struct sigv4_pair h[2];
    struct sigv4_request req;
    struct target t;
    size_t nh = 0;
    char *q;

    target_of(s, bucket, key, &t);
    if (content_type != NULL && strcmp(method, "PUT") == 0)
        h[nh++] = (struct sigv4_pair){ "content-type", content_type };
    h[nh++] = (struct sigv4_pair){ "host", t.host };
    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = t.path;
    req.headers = h;
    req.nheaders = nh;
    req.payload_hash = SIGV4_UNSIGNED;
    creds_of(s, &c);
    q = sigv4_presign_query(&c, &req, now, expires);
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
    s3_put, s3_head, s3_get, s3_del, s3_presign, s3_public_url, s3_close,
};
