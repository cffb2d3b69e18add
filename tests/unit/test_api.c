/* The router and the rules checked before any database work, with
 * auth = none so no database is needed. Routes that touch PostgreSQL are
 * covered by the integration suite. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api.h"
#include "unit.h"
#include "util.h"

static struct api_ctx ctx;

static int call(const char *method, const char *path, const char *ctype, const char *body,
                char *code, size_t codesz, struct api_response *resp)
{
    struct api_request req;
    json_object *o, *c;

    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = path;
    req.query = "";
    req.content_type = ctype;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.content_length = (long)req.body_len;
    api_handle(&ctx, &req, resp);
    o = json_tokener_parse(resp->body);
    code[0] = '\0';
    if (o && json_object_object_get_ex(o, "code", &c))
        snprintf(code, codesz, "%s", json_object_get_string(c));
    json_object_put(o);
    return resp->status;
}

int main(void)
{
    struct config cfg;
    struct api_response r;
    char err[ADS_ERRSZ], code[64], *big;

    setenv("ADSMITH_AUTH", "none", 1);
    CHECK(cfg_load(&cfg, NULL, err) == 0);
    ctx.cfg = &cfg;

    CHECK(call("GET", "/api/nothing", NULL, NULL, code, sizeof code, &r) == 404 && strcmp(code, "not_found") == 0);
    api_response_free(&r);
    CHECK(call("DELETE", "/api/assets", NULL, NULL, code, sizeof code, &r) == 405 &&
          strcmp(code, "method_not_allowed") == 0 && strstr(r.headers, "Allow: POST") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/health", NULL, NULL, code, sizeof code, &r) == 405 && strstr(r.headers, "Allow: GET"));
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "text/plain", "{}", code, sizeof code, &r) == 415 &&
          strcmp(code, "unsupported_media_type") == 0);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json", "[1,2]", code, sizeof code, &r) == 400 &&
          strcmp(code, "invalid_json") == 0);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json", "{\"prompt\": ", code, sizeof code, &r) == 400 &&
          strcmp(code, "invalid_json") == 0);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json; charset=utf-8", "{} trailing", code, sizeof code, &r) == 400 &&
          strcmp(code, "invalid_json") == 0);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json", "{}", code, sizeof code, &r) == 400 &&
          strcmp(code, "invalid_request") == 0 && strstr(r.body, "Prompt is required") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json", "{\"prompt\":\"short\"}", code, sizeof code, &r) == 400 &&
          strstr(r.body, "prompt") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json", "{\"prompt\":\"a long enough prompt\",\"style\":\"oil\"}",
               code, sizeof code, &r) == 400 && strstr(r.body, "style") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json", "{\"prompt\":\"a long enough prompt\",\"request_id\":\"../x\"}",
               code, sizeof code, &r) == 400 && strstr(r.body, "request_id") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/upload/presigned-url", "application/json", "{\"file_name\":\"a.gif\",\"file_type\":\"image/gif\"}",
               code, sizeof code, &r) == 400 && strstr(r.body, "file_type") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/upload/presigned-url", "application/json", "{\"file_type\":\"image/png\"}",
               code, sizeof code, &r) == 400 && strstr(r.body, "file_name") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/upload/presigned-url", "application/json",
               "{\"fileName\":\"a.png\",\"fileType\":\"image/png\",\"fileSize\":99999999}", code, sizeof code, &r) == 400 &&
          strstr(r.body, "fileSize") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/campaign/tier-1", "application/json", "{\"product_info\":{\"name\":\"abc\"}}",
               code, sizeof code, &r) == 400 && strstr(r.body, "\"success\":false") && strstr(r.body, "correlation_id") &&
          strstr(r.body, "product_info.name"));
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json", "{\"prompt\":\"a long enough prompt\",\"user_id\":\"../../etc\"}",
               code, sizeof code, &r) == 400 && strstr(r.body, "user_id") != NULL);
    api_response_free(&r);

    big = malloc(70000);
    memset(big, ' ', 69999);
    big[0] = '{';
    big[69998] = '}';
    big[69999] = '\0';
    CHECK(call("POST", "/api/assets", "application/json", big, code, sizeof code, &r) == 413 &&
          strcmp(code, "payload_too_large") == 0);
    api_response_free(&r);
    free(big);
    CHECK(api_body_limit("/objects/x/y") == 10 * 1024 * 1024 && api_body_limit("/api/assets") == 64 * 1024);
    /* Asynchronous campaigns: routing and the brief's rules come first. */
    CHECK(call("DELETE", "/api/campaigns", NULL, NULL, code, sizeof code, &r) == 405 &&
          strstr(r.headers, "Allow: POST, GET") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/campaigns/x", "application/json", "{}", code, sizeof code, &r) == 405 &&
          strstr(r.headers, "Allow: GET") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/campaigns", "application/json", "[1]", code, sizeof code, &r) == 400 &&
          strcmp(code, "invalid_json") == 0);
    api_response_free(&r);
    CHECK(call("POST", "/api/campaigns", "application/json", "{}", code, sizeof code, &r) == 400 &&
          strcmp(code, "invalid_request") == 0 && strstr(r.body, "product_info") != NULL);
    api_response_free(&r);
    cfg_free(&cfg);
    return unit_done("api");
}
