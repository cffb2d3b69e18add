/* The router and the rules checked before any database work, with
 * auth = none so no database is needed. Routes that touch PostgreSQL are
 * covered by the integration suite. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api.h"
#include "api_int.h"
#include "unit.h"
#include "util.h"

static struct api_ctx ctx;

static const char *query = "";
static const char *remote;

static int call(const char *method, const char *path, const char *ctype, const char *body,
                char *code, size_t codesz, struct api_response *resp)
{
    struct api_request req;
    json_object *o, *c;

    memset(&req, 0, sizeof req);
    req.method = method;
    req.path = path;
    req.query = query;
    req.remote_addr = remote;
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

#define BRIEF_HEAD "{\"product_info\":{\"name\":\"Aurora Lamp\",\"description\":\"A dimmable LED desk lamp with a base.\"," \
                   "\"category\":\"Home\""
#define BRIEF_MID "},\"target_markets\":{\"markets\":[\"Japan\"]},\"campaign_objectives\":{\"target_audience\":\"a\"," \
                  "\"campaign_duration\":\"4 weeks\",\"primary_goal\":\"sales\""
#define BRIEF_TAIL "},\"upload_id\":\"00000000-0000-4000-8000-000000000000\"}"

/* Bodies refused before any database work: status 400 invalid_request and
 * a message holding the given text. */
static const struct { const char *path, *body, *names; } refused[] = {
    /* Numbers outside their documented range, whatever their JSON form. */
    { "/api/upload/presigned-url", "{\"file_name\":\"a.png\",\"file_type\":\"image/png\",\"file_size\":-1}", "file_size" },
    { "/api/upload/presigned-url", "{\"file_name\":\"a.png\",\"file_type\":\"image/png\",\"file_size\":18446744073709551615}", "file_size" },
    { "/api/upload/presigned-url", "{\"file_name\":\"a.png\",\"file_type\":\"image/png\",\"file_size\":1e3}", "file_size" },
    { "/api/campaign/tier-1", BRIEF_HEAD BRIEF_MID ",\"budget\":1e19" BRIEF_TAIL, "campaign_objectives.budget" },
    { "/api/campaign/tier-1", BRIEF_HEAD BRIEF_MID ",\"budget\":-5" BRIEF_TAIL, "campaign_objectives.budget" },
    { "/api/campaign/tier-1", BRIEF_HEAD BRIEF_MID ",\"budget\":1e400" BRIEF_TAIL, "" },
    { "/api/campaign/tier-1", BRIEF_HEAD ",\"price\":18446744073709551615" BRIEF_MID BRIEF_TAIL, "product_info.price" },
    { "/api/campaign/tier-1", BRIEF_HEAD ",\"price\":-0.01" BRIEF_MID BRIEF_TAIL, "product_info.price" },
    { "/api/campaign/tier-1", BRIEF_HEAD ",\"price\":[1]" BRIEF_MID BRIEF_TAIL, "product_info.price" },
    /* A NUL inside any string, where a C reader would stop. */
    { "/api/upload/presigned-url", "{\"file_name\":\"a.png\",\"file_type\":\"image/png\\u0000evil\"}", "file_type" },
    { "/api/assets", "{\"prompt\":\"a long enough prompt\\u0000 and more\"}", "prompt" },
    { "/api/assets", "{\"prompt\":\"a long enough prompt\",\"user_id\":\"bob\\u0000x\"}", "user_id" },
    { "/api/assets", "{\"prompt\":\"a long enough prompt\",\"style\\u0000x\":\"vivid\"}", "names" },
    { "/api/campaign/tier-1", BRIEF_HEAD BRIEF_MID ",\"secondary_goals\":[\"a\\u0000b\"]" BRIEF_TAIL, "secondary_goals[0]" },
    { "/api/campaign/tier-1", BRIEF_HEAD ",\"key_features\":[\"x\"],\"extra\":{\"deep\":\"\\u0000\"}" BRIEF_MID BRIEF_TAIL, "product_info.extra.deep" },
    /* The table's rules under the other spelling name that spelling. */
    { "/api/campaign/tier-1", "{\"productInfo\":{\"name\":\"abc\"}}", "productInfo.name" },
    { "/api/campaign/tier-1", BRIEF_HEAD BRIEF_MID ",\"platformPreferences\":\"x\"" BRIEF_TAIL, "campaign_objectives.platformPreferences" },
    { "/api/campaign/tier-1", BRIEF_HEAD BRIEF_MID "},\"target_markets\":{\"markets\":[\"Japan\"]},\"s3_info\":{\"bucket\":\"other\",\"key\":\"uploads/a/b.png\"}}", "s3_info.bucket" },
    { "/api/campaign/tier-1", BRIEF_HEAD BRIEF_MID "},\"s3_info\":{\"bucket\":\"adsmith-uploads\",\"key\":\"../x\"}}", "s3_info.key" },
    { "/api/campaign/tier-1", BRIEF_HEAD BRIEF_MID "}}", "s3_info or upload_id" },
    { "/api/assets", "{\"prompt\":\"a long enough prompt\",\"aspectRatio\":\"2:1\"}", "aspectRatio" },
};

/* GET /metrics from addresses neither loopback nor in metrics_allow: the
 * worker refuses them itself (403 access_denied, before any database work),
 * whatever nginx let through. */
static const struct { const char *addr, *allow; } refused_scrapers[] = {
    { NULL, "" },
    { "", "" },
    { "127.0.0.2", "" },
    { "::2", "" },
    { "10.0.0.6", "10.0.0.5" },
    { "10.0.0.5/32", "10.0.0.0/8" },
    { "192.0.2.1", "10.0.0.0/8, 2001:db8::/32" },
};

static void test_metrics_refusals(struct config *cfg)
{
    char *saved = cfg->metrics_allow, code[64];
    struct api_response r;
    size_t i;

    for (i = 0; i < sizeof refused_scrapers / sizeof refused_scrapers[0]; i++) {
        int status;
        remote = refused_scrapers[i].addr;
        cfg->metrics_allow = (char *)refused_scrapers[i].allow;
        status = call("GET", "/metrics", NULL, NULL, code, sizeof code, &r);
        if (status != 403)
            fprintf(stderr, "scraper case %zu: %d\n", i, status);
        CHECK(status == 403 && strcmp(code, "access_denied") == 0);
        CHECK(r.route != NULL && strcmp(r.route, "/metrics") == 0);
        api_response_free(&r);
    }
    remote = NULL;
    cfg->metrics_allow = saved;
}

int main(void)
{
    struct config cfg;
    struct api_response r;
    char err[ADS_ERRSZ], code[64], *big;

    setenv("ADSMITH_AUTH", "none", 1);
    CHECK(cfg_load(&cfg, NULL, err) == 0);
    ctx.cfg = &cfg;
    test_metrics_refusals(&cfg);

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
    /* Webhook callbacks: http(s) only; a literal private address is refused
     * at submit (webhook_allow_private = no by default). */
    CHECK(call("POST", "/api/assets", "application/json",
               "{\"prompt\":\"a long enough prompt\",\"callback_url\":\"ftp://example.com/x\"}",
               code, sizeof code, &r) == 400 && strcmp(code, "invalid_request") == 0 && strstr(r.body, "callback_url"));
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json",
               "{\"prompt\":\"a long enough prompt\",\"callbackUrl\":\"http://169.254.169.254/latest\"}",
               code, sizeof code, &r) == 400 && strstr(r.body, "metadata") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json",
               "{\"prompt\":\"a long enough prompt\",\"callback_url\":\"http://[::1]:8080/\"}",
               code, sizeof code, &r) == 400 && strstr(r.body, "loopback") != NULL);
    api_response_free(&r);
    CHECK(call("POST", "/api/assets", "application/json", "{\"prompt\":\"a long enough prompt\",\"callback_url\":7}",
               code, sizeof code, &r) == 400 && strstr(r.body, "callback_url") != NULL);
    api_response_free(&r);

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int st = call("POST", refused[i].path, "application/json", refused[i].body, code, sizeof code, &r);
        int ok = st == 400 && strcmp(code, "invalid_request") == 0 && strstr(r.body, refused[i].names) != NULL;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "case %zu: %d %s\n", i, st, r.body);
        api_response_free(&r);
    }
    {
        /* The brief check the campaign routes share, on its own. */
        json_object *in = json_tokener_parse(BRIEF_HEAD ",\"price\":89.5" BRIEF_MID ",\"budget\":8000" BRIEF_TAIL), *out = NULL, *v;
        char msg[256];
        CHECK(api_campaign_brief_valid(in, "adsmith-uploads", &out, msg, sizeof msg) == 0 && out != NULL);
        CHECK(json_object_object_get_ex(out, "product_info", &v) && json_object_object_get_ex(v, "price", &v) &&
              json_object_get_double(v) == 89.5);
        json_object_put(out);
        json_object_object_add(in, "uploadId", json_object_new_string("nope"));
        json_object_object_del(in, "upload_id");
        CHECK(api_campaign_brief_valid(in, "adsmith-uploads", &out, msg, sizeof msg) == -1 && out == NULL &&
              strstr(msg, "upload id") != NULL);
        json_object_put(in);
    }

    big = malloc(70000);
    memset(big, ' ', 69999);
    big[0] = '{';
    big[69998] = '}';
    big[69999] = '\0';
    CHECK(call("POST", "/api/assets", "application/json", big, code, sizeof code, &r) == 413 &&
          strcmp(code, "payload_too_large") == 0);
    api_response_free(&r);
    free(big);

    /* The markets list comes from the knowledge base, without a database. */
    {
        const char *dir = getenv("ADS_TEST_DATADIR");
        struct kb *kb = kb_load_dir(dir ? dir : "data", err);
        json_object *o, *list = NULL, *first;
        CHECK(kb != NULL);
        ctx.kb = kb;
        CHECK(call("GET", "/api/markets", NULL, NULL, code, sizeof code, &r) == 200);
        o = json_tokener_parse(r.body);
        CHECK(o != NULL && json_object_object_get_ex(o, "markets", &list) &&
              (int)json_object_array_length(list) == kb_count(kb) && kb_count(kb) >= 17);
        first = list ? json_object_array_get_idx(list, 0) : NULL;
        CHECK(first != NULL && strcmp(json_object_get_string(json_object_object_get(first, "name")), "North America") == 0 &&
              strcmp(json_object_get_string(json_object_object_get(first, "region")), "Americas") == 0 &&
              strcmp(json_object_get_string(json_object_object_get(first, "id")), "north_america") == 0);
        json_object_put(o);
        api_response_free(&r);
        CHECK(call("POST", "/api/markets", "application/json", "{}", code, sizeof code, &r) == 405);
        api_response_free(&r);
        ctx.kb = NULL;
        CHECK(call("GET", "/api/markets", NULL, NULL, code, sizeof code, &r) == 503 && strcmp(code, "unavailable") == 0);
        api_response_free(&r);
        kb_free(kb);
    }
    /* The image list's parameters are checked before any database work. */
    {
        static const struct { const char *query; const char *word; } bad[] = {
            { "limit=0", "limit" }, { "limit=101", "limit" }, { "limit=ten", "limit" }, { "limit=", "limit" },
            { "limit=5&cursor=abc", "cursor" }, { "cursor=12.", "cursor" }, { "cursor=.abc", "cursor" },
            { "cursor=12x.abc", "cursor" }, { "cursor=12.a%2Fb", "cursor" }, { "cursor=1234567890123456789.a", "cursor" },
        };
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            query = bad[i].query;
            CHECK(call("GET", "/api/assets", NULL, NULL, code, sizeof code, &r) == 400 &&
                  strcmp(code, "invalid_request") == 0 && strstr(r.body, bad[i].word) != NULL);
            api_response_free(&r);
        }
        query = "";
    }
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
