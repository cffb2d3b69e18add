#include "aws.h"
#include "sigv4.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

int aws_split_url(const char *url, const char *name, char **scheme, char **host,
                  char **prefix, char *err)
{
    const char *p = strstr(url, "://"), *slash;
    size_t n;

    *scheme = *host = *prefix = NULL;
    if (p == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        ads_errf(err, "%s must start with http:// or https://", name);
        return -1;
    }
    *scheme = strndup(url, (size_t)(p - url));
    p += 3;
    slash = strchr(p, '/');
    *host = slash ? strndup(p, (size_t)(slash - p)) : strdup(p);
    *prefix = strdup(slash ? slash : "");
    if (*scheme == NULL || *host == NULL || *prefix == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    n = strlen(*prefix);
    while (n > 0 && (*prefix)[n - 1] == '/')
        (*prefix)[--n] = '\0';
    if ((*host)[0] == '\0' || strpbrk(*host, " \r\n@") != NULL) {
        ads_errf(err, "%s has no usable host", name);
        return -1;
    }
    return 0;
}

void aws_endpoint_free(struct aws_endpoint *ep)
{
    free(ep->scheme);
    free(ep->host);
    free(ep->prefix);
    free(ep->service);
    free(ep->region);
    free(ep->access_key);
    free(ep->secret_key);
    free(ep->session_token);
    memset(ep, 0, sizeof *ep);
}

int aws_endpoint_init(struct aws_endpoint *ep, const char *url, const char *service,
                      const char *region, const char *access_key, const char *secret_key,
                      const char *session_token, long connect_ms, long timeout_ms, char *err)
{
    memset(ep, 0, sizeof *ep);
    if (access_key[0] == '\0' || secret_key[0] == '\0') {
        ads_errf(err, "%s needs credentials: aws_access_key_id/aws_secret_access_key, "
                 "s3_access_key_id/s3_secret_access_key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", service);
        return -1;
    }
    if (aws_split_url(url, "endpoint", &ep->scheme, &ep->host, &ep->prefix, err) != 0) {
        aws_endpoint_free(ep);
        return -1;
    }
    ep->service = strdup(service);
    ep->region = strdup(region);
    ep->access_key = strdup(access_key);
    ep->secret_key = strdup(secret_key);
    ep->session_token = strdup(session_token ? session_token : "");
    ep->connect_ms = connect_ms;
    ep->timeout_ms = timeout_ms;
    if (!ep->service || !ep->region || !ep->access_key || !ep->secret_key || !ep->session_token) {
        aws_endpoint_free(ep);
        ads_errf(err, "out of memory");
        return -1;
    }
    return 0;
}

int aws_ai_endpoint(struct aws_endpoint *ep, const struct config *cfg, const char *service, const char *host,
                    const char *url, const char *region, long timeout_ms, char *err)
{
    const char *ak, *sk, *tok;
    char def[256];

    cfg_ai_credentials(cfg, &ak, &sk, &tok);
    if (url[0] == '\0') {
        snprintf(def, sizeof def, "https://%s.%s.amazonaws.com", host, region);
        url = def;
    }
    return aws_endpoint_init(ep, url, service, region, ak, sk, tok, cfg->ai_connect_timeout_ms, timeout_ms, err);
}

int aws_bedrock_endpoint(struct aws_endpoint *ep, const struct config *cfg, long timeout_ms, char *err)
{
    return aws_ai_endpoint(ep, cfg, "bedrock", "bedrock-runtime", cfg->bedrock_endpoint, cfg->bedrock_region,
                           timeout_ms, err);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct aws_call *c = arg;
    size_t len = size * n;

    if (c->reply.len + len > AWS_MAX_REPLY) {
        c->too_large = 1;
        return 0;
    }
    buf_add(&c->reply, p, len);
    return c->reply.oom ? 0 : len;
}

/* Copies a header's value (trimmed, up to the first ':' for error types). */
static void header_value(const char *line, size_t len, size_t skip, int cut_colon,
                         char *out, size_t outsz)
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

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct aws_call *c = arg;
    size_t len = size * n;

    if (len > 17 && strncasecmp(p, "x-amzn-errortype:", 17) == 0)
        header_value(p, len, 17, 1, c->error_type, sizeof c->error_type);
    else if (len > 17 && strncasecmp(p, "x-amzn-requestid:", 17) == 0)
        header_value(p, len, 17, 0, c->request_id, sizeof c->request_id);
    return len;
}

void aws_call_free(struct aws_call *c)
{
    if (c == NULL)
        return;
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->body);
    buf_free(&c->reply);
    free(c);
}

/* Adds "name: value" to the header list; 0 or -1. */
static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    struct buf line;
    struct curl_slist *l;

    buf_init(&line);
    buf_printf(&line, "%s: %s", name, value);
    l = line.oom ? NULL : curl_slist_append(*list, line.data);
    buf_free(&line);
    if (l == NULL)
        return -1;
    *list = l;
    return 0;
}

static int sign_into(const struct aws_endpoint *ep, const char *path, const char *target,
                     const char *content_type, const char *body, size_t len,
                     struct curl_slist **list)
{
    struct sigv4_pair h[6];
    struct sigv4_request req;
    struct sigv4_creds cr;
    char amzdate[17], hash[65];
    char *auth;
    size_t nh = 0, i;
    int rc = 0;

    ads_fmt_amzdate(time(NULL), amzdate);
    ads_sha256_hex(body, len, hash);
    h[nh++] = (struct sigv4_pair){ "host", ep->host };
    h[nh++] = (struct sigv4_pair){ "x-amz-date", amzdate };
    h[nh++] = (struct sigv4_pair){ "content-type", content_type };
    if (target != NULL)
        h[nh++] = (struct sigv4_pair){ "x-amz-target", target };
    if (ep->session_token[0] != '\0')
        h[nh++] = (struct sigv4_pair){ "x-amz-security-token", ep->session_token };
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.raw_path = path;
    req.headers = h;
    req.nheaders = nh;
    req.payload_hash = hash;
    cr.access_key = ep->access_key;
    cr.secret_key = ep->secret_key;
    cr.session_token = ep->session_token;
    cr.region = ep->region;
    cr.service = ep->service;
    auth = sigv4_authorization(&cr, &req, amzdate);
    if (auth == NULL)
        return -1;
    for (i = 1; i < nh && rc == 0; i++)       /* curl sends Host itself */
        rc = add_header(list, h[i].name, h[i].value);
    if (rc == 0)
        rc = add_header(list, "Authorization", auth);
    if (rc == 0)
        rc = add_header(list, "Accept", "application/json");
    if (rc == 0)
        rc = add_header(list, "Expect", "");
    free(auth);
    return rc;
}

struct aws_call *aws_call_new(const struct aws_endpoint *ep, const char *raw_path,
                              const char *target, const char *content_type,
                              const char *body, size_t len, char *err)
{
    struct aws_call *c = calloc(1, sizeof *c);
    struct buf path, url;

    if (c == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    buf_init(&c->reply);
    buf_init(&path);
    buf_init(&url);
    buf_printf(&path, "%s%s", ep->prefix, raw_path);
    buf_printf(&url, "%s://%s%s", ep->scheme, ep->host, path.data ? path.data : "");
    c->body = malloc(len + 1);
    c->easy = curl_easy_init();
    if (path.oom || url.oom || c->body == NULL || c->easy == NULL ||
        sign_into(ep, path.data, target, content_type, body, len, &c->headers) != 0) {
        buf_free(&path);
        buf_free(&url);
        aws_call_free(c);
        ads_errf(err, "out of memory");
        return NULL;
    }
    memcpy(c->body, body, len);
    c->body[len] = '\0';
    curl_easy_setopt(c->easy, CURLOPT_URL, url.data);
    curl_easy_setopt(c->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, ep->connect_ms);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, ep->timeout_ms);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    buf_free(&path);
    buf_free(&url);
    return c;
}

/* The "message" (or "Message") and "__type" of an AWS JSON error body. */
static void json_error(const struct aws_call *c, char *type, size_t typesz, char *msg, size_t msgsz)
{
    json_object *o, *v;

    msg[0] = '\0';
    if (c->reply.len == 0 || (o = json_tokener_parse(c->reply.data)) == NULL)
        return;
    if (json_object_is_type(o, json_type_object)) {
        if ((json_object_object_get_ex(o, "message", &v) || json_object_object_get_ex(o, "Message", &v)) &&
            json_object_is_type(v, json_type_string))
            snprintf(msg, msgsz, "%s", json_object_get_string(v));
        if (type[0] == '\0' && json_object_object_get_ex(o, "__type", &v) &&
            json_object_is_type(v, json_type_string)) {
            const char *t = json_object_get_string(v), *hash = strrchr(t, '#');
            snprintf(type, typesz, "%s", hash ? hash + 1 : t);
        }
    }
    json_object_put(o);
}

static int is_throttle(const char *type)
{
    return strcmp(type, "ThrottlingException") == 0 || strcmp(type, "TooManyRequestsException") == 0 ||
           strcmp(type, "ProvisionedThroughputExceededException") == 0 ||
           strcmp(type, "ServiceQuotaExceededException") == 0;
}

enum aws_outcome aws_call_outcome(struct aws_call *c, CURLcode cc, const char *what, char *msg)
{
    char amsg[200];
    long status = 0;

    if (cc != CURLE_OK) {
        if (c->too_large)
            ads_errf(msg, "%s: reply larger than %u bytes", what, AWS_MAX_REPLY);
        else
            ads_errf(msg, "%s: %s", what, curl_easy_strerror(cc));
        return AWS_RETRY;
    }
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        return AWS_OK;
    json_error(c, c->error_type, sizeof c->error_type, amsg, sizeof amsg);
    ads_errf(msg, "%s: HTTP %ld %s%s%s%s%s", what, status,
             c->error_type[0] ? c->error_type : "(no error type)", amsg[0] ? ": " : "", amsg,
             c->request_id[0] ? " (request " : "", c->request_id[0] ? c->request_id : "");
    if (c->request_id[0] != '\0' && strlen(msg) + 1 < ADS_ERRSZ)
        strcat(msg, ")");
    if (status == 429 || is_throttle(c->error_type))
        return AWS_THROTTLED;
    /* A 400 is about this request (validation, the content filter): sending
     * it again cannot help. 401/403/404 are about credentials or the model's
     * configuration, which an operator can fix; the job may then succeed. */
    if (status == 400)
        return AWS_PERMANENT;
    return AWS_RETRY;
}

enum aws_outcome aws_call_perform(struct aws_call *c, const char *what, char *msg)
{
    return aws_call_outcome(c, curl_easy_perform(c->easy), what, msg);
}

enum aws_outcome aws_call_retried(struct aws_endpoint *ep, const char *raw_path, const char *target,
                                  const char *content_type, const char *body, size_t len,
                                  const char *what, double deadline_ms, int retries,
                                  struct aws_call **out, char *msg)
{
    enum aws_outcome o = AWS_RETRY;
    long full = ep->timeout_ms;
    int attempt;

    *out = NULL;
    for (attempt = 0; attempt <= retries; attempt++) {
        long left = (long)(deadline_ms - ads_now_ms());
        struct aws_call *c;

        if (left <= 0) {
            ads_errf(msg, "%s: out of time", what);
            o = AWS_RETRY;
            break;
        }
        ep->timeout_ms = left < full ? left : full;
        c = aws_call_new(ep, raw_path, target, content_type, body, len, msg);
        ep->timeout_ms = full;
        if (c == NULL)
            return AWS_RETRY;
        o = aws_call_perform(c, what, msg);
        if (o == AWS_OK) {
            *out = c;
            return o;
        }
        aws_call_free(c);
        if (o == AWS_PERMANENT)
            break;
        if (attempt < retries) {
            unsigned int rnd = 0;
            RAND_bytes((unsigned char *)&rnd, sizeof rnd);
            usleep((useconds_t)(rnd % (200u << attempt)) * 1000);
        }
    }
    return o;
}

void aws_bedrock_path(struct buf *b, const char *model, const char *op)
{
    buf_adds(b, "/model/");
    sigv4_uri_encode(b, model, strlen(model), 0);
    buf_addc(b, '/');
    buf_adds(b, op);
}
