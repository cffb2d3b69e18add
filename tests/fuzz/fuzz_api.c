/* libFuzzer target: a whole API request (method, path, content type and
 * body from the input) through routing, parsing and validation. The
 * database URL points nowhere, so requests that pass validation end in a
 * 503, which is itself checked to be JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api.h"
#include "log.h"
#include "util.h"

static struct api_ctx ctx;
static struct config cfg;

static void init(void)
{
    char err[ADS_ERRSZ];

    log_init("fuzz", (enum log_level)(LOG_ERROR + 1));   /* quiet: every 503 would log */
    setenv("ADSMITH_AUTH", "none", 1);
    setenv("ADSMITH_DATABASE_URL", "host=/nonexistent/adsmith-fuzz dbname=x connect_timeout=1", 1);
    setenv("ADSMITH_S3_ACCESS_KEY_ID", "AKID", 1);
    setenv("ADSMITH_S3_SECRET_ACCESS_KEY", "secret", 1);
    setenv("ADSMITH_STORAGE_ROOT", "/nonexistent/adsmith-fuzz", 1);
    if (cfg_load(&cfg, NULL, err) != 0)
        abort();
    ctx.cfg = &cfg;
    ctx.db = db_open(cfg.database_url, err);
    ctx.store = store_open(&cfg, err);
    ctx.kb = kb_load_dir(getenv("ADS_FUZZ_DATADIR") ? getenv("ADS_FUZZ_DATADIR") : "data", err);
    if (ctx.db == NULL || ctx.store == NULL || ctx.kb == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
    static const char *const paths[] = { "/api/assets", "/api/campaigns", "/api/campaign/tier-1",
                                         "/api/upload/presigned-url", "/api/assets/x-1", "/api/upload/status/abc",
                                         "/api/health", "/objects/adsmith-uploads/uploads/u/a.png" };
    struct api_request req;
    struct api_response resp;
    json_object *o;

    if (ctx.cfg == NULL)
        init();
    if (size < 1)
        return 0;
    memset(&req, 0, sizeof req);
    req.method = methods[data[0] & 3];
    req.path = paths[(data[0] >> 2) & 7];
    req.query = "";
    req.content_type = (data[0] & 0x20) ? "text/plain" : "application/json";
    req.body = (const char *)data + 1;
    req.body_len = size - 1;
    req.content_length = (long)req.body_len;
    api_handle(&ctx, &req, &resp);
    o = json_tokener_parse(resp.body);
    if (o == NULL || resp.status < 200 || resp.status > 599)
        abort();
    json_object_put(o);
    api_response_free(&resp);
    return 0;
}
