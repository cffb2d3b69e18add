#include "aws.h"
#include "awscreds.h"
#include "sigv4.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    memset(ep, 0, sizeof *ep);
}

int aws_endpoint_init(struct aws_endpoint *ep, const char *url, const char *service,
                      const char *region, struct awscreds *creds, long connect_ms, long timeout_ms, char *err)
{
    memset(ep, 0, sizeof *ep);
    if (aws_split_url(url, "endpoint", &ep->scheme, &ep->host, &ep->prefix, err) != 0) {
        aws_endpoint_free(ep);
        return -1;
    }
    ep->service = strdup(service);
    ep->region = strdup(region);
    ep->creds = creds;
    ep->connect_ms = connect_ms;
    ep->timeout_ms = timeout_ms;
    if (!ep->service || !ep->region) {
        aws_endpoint_free(ep);
        ads_errf(err, "out of memory");
        return -1;
    }
    return 0;
}

int aws_ai_endpoint(struct aws_endpoint *ep, const struct config *cfg, const char *service, const char *host,
                    const char *url, const char *region, long timeout_ms, char *err)
{
    struct awscreds *creds = awscreds_ai(cfg, err);
    char def[256];

    if (creds == NULL)
        return -1;
    if (url[0] == '\0') {
        snprintf(def, sizeof def, "https://%s.%s.amazonaws.com", host, region);
        url = def;
    }
    return aws_endpoint_init(ep, url, service, region, creds, cfg->ai_connect_timeout_ms, timeout_ms, err);
}

int aws_bedrock_endpoint(struct aws_endpoint *ep, const struct config *cfg, long timeout_ms, char *err)
{
    return aws_ai_endpoint(ep, cfg, "bedrock", "bedrock-runtime", cfg->bedrock_endpoint, cfg->bedrock_region,
                           timeout_ms, err);
}

/* Signs the POST with the chain's current credentials and adds its
 * headers to c. 0 or -1 with a message. */
static int sign_into(const struct aws_endpoint *ep, const char *path, const char *target,
                     const char *content_type, const char *body, size_t len, struct outcall *c, char *err)
{
    struct sigv4_pair h[6];
    struct sigv4_request req;
    struct sigv4_creds cr;
    struct awscreds_value *v = malloc(sizeof *v);
    char amzdate[17], hash[65];
    size_t nh = 0;
    int rc;

    if (v == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    if (awscreds_get(ep->creds, v, err) != 0) {
        char m[ADS_ERRSZ];
        snprintf(m, sizeof m, "%s", err);
        ads_errf(err, "%s: %s", ep->service, m);
        free(v);
        return -1;
    }

    ads_fmt_amzdate(time(NULL), amzdate);
    ads_sha256_hex(body, len, hash);
    h[nh++] = (struct sigv4_pair){ "host", ep->host };
    h[nh++] = (struct sigv4_pair){ "x-amz-date", amzdate };
    h[nh++] = (struct sigv4_pair){ "content-type", content_type };
    if (target != NULL)
        h[nh++] = (struct sigv4_pair){ "x-amz-target", target };
    if (v->session_token[0] != '\0')
        h[nh++] = (struct sigv4_pair){ "x-amz-security-token", v->session_token };
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.raw_path = path;
    req.headers = h;
    req.nheaders = nh;
    req.payload_hash = hash;
    cr.access_key = v->access_key;
    cr.secret_key = v->secret_key;
    cr.session_token = v->session_token;
    cr.region = ep->region;
    cr.service = ep->service;
    rc = aws_sign_call(c, &cr, &req, amzdate);
    if (rc == 0)
        rc = outcall_header(c, "Accept", "application/json");
    if (rc != 0)
        ads_errf(err, "out of memory");
    memset(v, 0, sizeof *v);
    free(v);
    return rc;
}

int aws_sign_call(struct outcall *c, const struct sigv4_creds *cr, const struct sigv4_request *req,
                  const char *amzdate)
{
    char *auth = sigv4_authorization(cr, req, amzdate);
    size_t i;
    int rc = auth != NULL ? 0 : -1;

    for (i = 1; i < req->nheaders && rc == 0; i++)       /* curl sends Host itself */
        rc = outcall_header(c, req->headers[i].name, req->headers[i].value);
    if (rc == 0)
        rc = outcall_header(c, "Authorization", auth);
    if (rc == 0)
        rc = outcall_header(c, "Expect", "");
    free(auth);
    return rc;
}

struct outcall *aws_call_new(const struct aws_endpoint *ep, const char *raw_path, const char *target,
                             const char *content_type, const char *body, size_t len, const char *what,
                             char *err)
{
    struct outcall *c = outcall_new(what, AWS_MAX_REPLY, err);
    struct buf path, url;
    int rc = -1;

    if (c == NULL)
        return NULL;
    buf_init(&path);
    buf_init(&url);
    buf_printf(&path, "%s%s", ep->prefix, raw_path);
    buf_printf(&url, "%s://%s%s", ep->scheme, ep->host, path.data ? path.data : "");
    if (!path.oom && !url.oom && outcall_request(c, "POST", url.data, body, len, err) == 0) {
        rc = sign_into(ep, path.data, target, content_type, body, len, c, err);
    } else if (path.oom || url.oom) {
        ads_errf(err, "out of memory");
    }
    buf_free(&path);
    buf_free(&url);
    if (rc != 0) {
        outcall_free(c);
        return NULL;
    }
    c->classify = aws_classify;
    c->connect_ms = ep->connect_ms;
    c->timeout_ms = ep->timeout_ms;
    return c;
}

/* The "message" (or "Message") and "__type" of an AWS JSON error body. */
static void json_error(const struct outcall *c, char *type, size_t typesz, char *msg, size_t msgsz)
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

enum outcall_class aws_classify(struct outcall *c, CURLcode cc, char *msg)
{
    char amsg[200];

    if (cc != CURLE_OK)
        return outcall_classify_http(c, cc, msg);       /* RETRY, with curl's message */
    if (c->status >= 200 && c->status < 300)
        return OUTCALL_OK;
    json_error(c, c->error_type, sizeof c->error_type, amsg, sizeof amsg);
    ads_errf(msg, "%s: HTTP %ld %s%s%s%s%s", c->what, c->status,
             c->error_type[0] ? c->error_type : "(no error type)", amsg[0] ? ": " : "", amsg,
             c->request_id[0] ? " (request " : "", c->request_id[0] ? c->request_id : "");
    if (c->request_id[0] != '\0' && strlen(msg) + 1 < ADS_ERRSZ)
        strcat(msg, ")");
    if (c->status == 429 || is_throttle(c->error_type))
        return OUTCALL_THROTTLED;
    /* A 400 is about this request (validation, the content filter): sending
     * it again cannot help. 401/403/404 are about credentials or the model's
     * configuration, which an operator can fix; the job may then succeed. */
    if (c->status == 400)
        return OUTCALL_PERMANENT;
    return OUTCALL_RETRY;
}

enum outcall_class aws_call_retried(const struct aws_endpoint *ep, const char *raw_path, const char *target,
                                    const char *content_type, const char *body, size_t len, const char *what,
                                    double deadline_ms, int retries, struct outcall **out, char *msg)
{
    struct outcall *c = aws_call_new(ep, raw_path, target, content_type, body, len, what, msg);
    enum outcall_class cls;

    *out = NULL;
    if (c == NULL)
        return OUTCALL_RETRY;
    c->deadline_ms = deadline_ms;
    c->policy = outcall_policy_default(retries);
    cls = outcall_run(c, msg);
    if (cls == OUTCALL_OK)
        *out = c;
    else
        outcall_free(c);
    return cls;
}

void aws_bedrock_path(struct buf *b, const char *model, const char *op)
{
    buf_adds(b, "/model/");
    sigv4_uri_encode(b, model, strlen(model), 0);
    buf_addc(b, '/');
    buf_adds(b, op);
}
