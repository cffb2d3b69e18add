/* Routing, authentication and the rules every route shares. */
#include "api_int.h"
#include "buf.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum auth_need { NO_AUTH, NEEDS_AUTH };
enum body_kind { NO_BODY, JSON_BODY, RAW_BODY };

struct route {
    const char *method;
    const char *pattern;      /* exact, or ending in "*" for one trailing segment */
    enum auth_need auth;
    enum body_kind body;
    void (*fn)(struct call *c);
};

static const struct route routes[] = {
    { "GET", "/api/health", NO_AUTH, NO_BODY, route_health },
    { "POST", "/api/upload/presigned-url", NEEDS_AUTH, JSON_BODY, route_presign },
    { "GET", "/api/upload/status/*", NEEDS_AUTH, NO_BODY, route_upload_status },
    { "POST", "/api/campaign/tier-1", NEEDS_AUTH, JSON_BODY, route_campaign },
    { "POST", "/api/campaigns", NEEDS_AUTH, JSON_BODY, route_campaigns_post },
    { "GET", "/api/campaigns", NEEDS_AUTH, NO_BODY, route_campaigns_list },
    { "GET", "/api/campaigns/*", NEEDS_AUTH, NO_BODY, route_campaigns_get },
    { "POST", "/api/assets", NEEDS_AUTH, JSON_BODY, route_assets_post },
    { "POST", "/api/assets/", NEEDS_AUTH, JSON_BODY, route_assets_post },
    { "GET", "/api/assets", NEEDS_AUTH, NO_BODY, route_assets_list },
    { "GET", "/api/assets/", NEEDS_AUTH, NO_BODY, route_assets_list },
    { "GET", "/api/assets/*", NEEDS_AUTH, NO_BODY, route_assets_get },
    { "GET", "/api/markets", NEEDS_AUTH, NO_BODY, route_markets },
    { "PUT", "/objects/*", NO_AUTH, RAW_BODY, route_object_put },
    { "GET", "/metrics", NO_AUTH, NO_BODY, route_metrics },
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* Matches path against pattern; for "prefix*" the rest must be one
 * non-empty segment (objects take the whole rest). */
static int match(const char *pattern, const char *path, const char **param)
{
    size_t n = strlen(pattern);

    *param = NULL;
    if (pattern[n - 1] != '*')
        return strcmp(pattern, path) == 0;
    if (strncmp(pattern, path, n - 1) != 0 || path[n - 1] == '\0')
        return 0;
    *param = path + n - 1;
    if (strcmp(pattern, "/objects/*") == 0)
        return 1;
    return strchr(*param, '/') == NULL;
}

size_t api_body_limit(const char *path)
{
    return strncmp(path, "/objects/", 9) == 0 ? (size_t)STORE_MAX_UPLOAD : (size_t)API_MAX_JSON_BODY;
}

void api_header(struct call *c, const char *name, const char *value)
{
    size_t used = strlen(c->resp->headers);

    snprintf(c->resp->headers + used, sizeof c->resp->headers - used, "%s: %s\r\n", name, value);
}

void api_json(struct call *c, int status, json_object *obj)
{
    const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

    free(c->resp->body);
    c->resp->status = status;
    c->resp->body = strdup(s);
    json_object_put(obj);
}

void api_error(struct call *c, int status, const char *code, json_object *extra,
               const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_object *o = extra ? extra : json_object_new_object();

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object_object_add(o, "error", json_object_new_string(msg));
    json_object_object_add(o, "code", json_object_new_string(code));
    api_json(c, status, o);
}

void api_db_error(struct call *c, int rc, const char *what, const char *err)
{
    log_error("%s: %s", what, err);
    if (rc == DB_UNAVAILABLE)
        api_error(c, 503, "unavailable", NULL, "Database unavailable, try again shortly");
    else
        api_error(c, 500, "internal_error", NULL, "Internal error");
}

json_object *api_field(json_object *o, const char *a, const char *b, const char **name)
{
    json_object *v = NULL;

    if (json_object_object_get_ex(o, a, &v) && v != NULL) {
        if (name != NULL)
            *name = a;
        return v;
    }
    if (b != NULL && json_object_object_get_ex(o, b, &v) && v != NULL) {
        if (name != NULL)
            *name = b;
        return v;
    }
    return NULL;
}

int api_field_str(struct call *c, json_object *o, const char *a, const char *b, const char **out)
{
    const char *name = a;
    json_object *v = api_field(o, a, b, &name);

    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        api_error(c, 400, "invalid_request", NULL, "%s must be a string", name);
        return -1;
    }
    if (!api_valid_text(v)) {
        api_error(c, 400, "invalid_request", NULL, "%s must be valid UTF-8 without NUL characters", name);
        return -1;
    }
    *out = json_object_get_string(v);
    return 1;
}

int api_body_valid(struct call *c, const struct av_field *table)
{
    char msg[300];

    if (api_valid(c->body, table, "", &c->in, msg, sizeof msg) != 0) {
        api_error(c, 400, "invalid_request", NULL, "%s", msg);
        return -1;
    }
    return 0;
}

const char *api_in_str(struct call *c, const char *name)
{
    json_object *v;

    return json_object_object_get_ex(c->in, name, &v) ? json_object_get_string(v) : NULL;
}

void api_add2(json_object *o, const char *a, const char *b, json_object *v)
{
    json_object_object_add(o, a, v);
    json_object_object_add(o, b, json_object_get(v));
}

int api_query_param(const char *query, const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);
    const char *p = query;

    while (p != NULL && *p != '\0') {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            struct buf b;
            buf_init(&b);
            if (sigv4_uri_decode(&b, p + n + 1, len - n - 1) != 0 || b.oom || b.len >= outsz) {
                buf_free(&b);
                return -1;
            }
            snprintf(out, outsz, "%s", b.data ? b.data : "");
            buf_free(&b);
            return 0;
        }
        p = amp ? amp + 1 : NULL;
    }
    return -1;
}

static const char *bearer_key(const struct api_request *req)
{
    const char *a = req->authorization;

    if (a != NULL && strncasecmp(a, "Bearer ", 7) == 0) {
        a += 7;
        while (*a == ' ')
            a++;
        return a;
    }
    return req->x_api_key;
}

/* Sets c->user and c->scoped; 0 to go on, -1 when the response is set. */
static int authenticate(struct call *c)
{
    const struct config *cfg = c->ctx->cfg;
    char err[ADS_ERRSZ];
    int rc;

    if (strcmp(cfg->auth, "none") == 0) {
        const char *u = NULL;
        char q[AUTH_USER_MAX + 1];
        c->scoped = 0;
        snprintf(c->user, sizeof c->user, "anonymous");
        if (c->body != NULL) {
            if (api_field_str(c, c->body, "user_id", "userId", &u) < 0)
                return -1;
        } else if (api_query_param(c->req->query, "user_id", q, sizeof q) == 0 ||
                   api_query_param(c->req->query, "userId", q, sizeof q) == 0) {
            u = q;
            c->scoped = 1;
        }
        if (u != NULL && u[0] != '\0') {
            if (!auth_valid_user(u)) {
                api_error(c, 400, "invalid_request", NULL, "user_id must be 1-128 of [A-Za-z0-9_.@-]");
                return -1;
            }
            snprintf(c->user, sizeof c->user, "%s", u);
        }
        if (c->body != NULL)
            c->scoped = 1;
        return 0;
    }
    c->scoped = 1;
    rc = auth_lookup(c->ctx->db, c->ctx->auth_cache, bearer_key(c->req), c->user, err);
    if (rc == 1) {
        api_error(c, 401, "unauthorized", NULL, "Missing, unknown or revoked API key");
        api_header(c, "WWW-Authenticate", "Bearer");
        return -1;
    }
    if (rc != DB_OK) {
        api_db_error(c, rc, "auth", err);
        return -1;
    }
    return 0;
}

static int is_json_type(const char *ct)
{
    size_t n = strlen("application/json");

    if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* 1 when the JSON text escapes a NUL ("\u0000") anywhere, names included:
 * json-c cuts an object's name at it, so only the text can tell. */
static int escapes_nul(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < n && strncmp(s + i + 2, "0000", 4) == 0)
            return 1;
        i++;      /* the escaped character, so "\\u0000" is no NUL */
    }
    return 0;
}

/* Refuses a NUL inside a field name: json-c cuts the name there, so
 * "style\u0000x" would read as "style". A NUL inside a value is the route
 * table's to refuse (api_valid), with the route's own error shape. */
static int refuse_nul_name(struct call *c, json_object *o)
{
    char where[256];

    if (escapes_nul(c->req->body, c->req->body_len) && !api_valid_find_nul(o, "", where, sizeof where)) {
        api_error(c, 400, "invalid_request", NULL, "Field names must not contain NUL characters");
        return -1;
    }
    return 0;
}

/* Parses the JSON body into c->body; -1 when the response is set. */
static int parse_body(struct call *c)
{
    const struct api_request *req = c->req;
    json_tokener *tok;
    json_object *o;
    enum json_tokener_error jerr;

    if (req->body_len > API_MAX_JSON_BODY || req->content_length > API_MAX_JSON_BODY) {
        api_error(c, 413, "payload_too_large", NULL, "Request body is larger than 64 KiB");
        return -1;
    }
    if (!is_json_type(req->content_type)) {
        api_error(c, 415, "unsupported_media_type", NULL, "Content-Type must be application/json");
        return -1;
    }
    tok = json_tokener_new_ex(64);
    if (tok == NULL) {
        api_error(c, 500, "internal_error", NULL, "Internal error");
        return -1;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, req->body ? req->body : "", (int)req->body_len);
    jerr = json_tokener_get_error(tok);
    if (o != NULL && jerr == json_tokener_success && json_tokener_get_parse_end(tok) < req->body_len) {
        /* Only white space may follow the value. */
        size_t i;
        for (i = json_tokener_get_parse_end(tok); i < req->body_len; i++)
            if (strchr(" \t\r\n", req->body[i]) == NULL)
                jerr = json_tokener_error_parse_unexpected;
    }
    json_tokener_free(tok);
    if (o == NULL || jerr != json_tokener_success || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        api_error(c, 400, "invalid_json", NULL, "Request body must be a JSON object");
        return -1;
    }
    if (refuse_nul_name(c, o) != 0) {
        json_object_put(o);
        return -1;
    }
    c->body = o;
    return 0;
}

static void not_found(struct call *c)
{
    api_error(c, 404, "not_found", NULL, "No route for %s", c->req->method);
}

void api_handle(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp)
{
    struct call c;
    char allow[64] = "";
    size_t i;
    const struct route *r = NULL;

    memset(resp, 0, sizeof *resp);
    memset(&c, 0, sizeof c);
    c.ctx = ctx;
    c.req = req;
    c.resp = resp;
    for (i = 0; i < NROUTES; i++) {
        const char *param;
        if (!match(routes[i].pattern, req->path, &param))
            continue;
        if (strcmp(routes[i].method, req->method) == 0) {
            r = &routes[i];
            c.param = param;
            break;
        }
        if (strstr(allow, routes[i].method) == NULL)
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", routes[i].method);
    }
    if (r == NULL && allow[0] != '\0') {
        api_error(&c, 405, "method_not_allowed", NULL, "Method %s not allowed here", req->method);
        api_header(&c, "Allow", allow);
        return;
    }
    if (r == NULL) {
        not_found(&c);
        return;
    }
    resp->route = r->pattern;
    if (r->body == JSON_BODY && parse_body(&c) != 0)
        return;
    if (r->auth == NEEDS_AUTH && authenticate(&c) != 0) {
        json_object_put(c.body);
        return;
    }
    r->fn(&c);
    json_object_put(c.in);
    json_object_put(c.body);
    if (resp->body == NULL)
        api_error(&c, 500, "internal_error", NULL, "Internal error");
}

void api_response_free(struct api_response *resp)
{
    free(resp->body);
    resp->body = NULL;
}
