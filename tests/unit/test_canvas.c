/* canvas: the Nova Canvas request body and the reading of its replies. */
#include <config.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "render.h"
#include "unit.h"
#include "util.h"

static json_object *path_get(json_object *o, const char *a, const char *b)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, a, &v))
        return NULL;
    if (b != NULL && !json_object_object_get_ex(v, b, &v))
        return NULL;
    return v;
}

static void test_request(void)
{
    char err[ADS_ERRSZ];
    size_t len = 0;
    char *body = canvas_request("A red \"shoe\" on sand", "vivid", "16:9", "premium", &len, err);
    json_object *o;

    CHECK(body != NULL && len == strlen(body));
    o = json_tokener_parse(body);
    CHECK(o != NULL);
    CHECK(strcmp(json_object_get_string(path_get(o, "taskType", NULL)), "TEXT_IMAGE") == 0);
    CHECK(strcmp(json_object_get_string(path_get(o, "textToImageParams", "text")), "A red \"shoe\" on sand") == 0);
    CHECK(json_object_get_string_len(path_get(o, "textToImageParams", "negativeText")) > 0);
    CHECK(json_object_get_int(path_get(o, "imageGenerationConfig", "numberOfImages")) == 1);
    CHECK(strcmp(json_object_get_string(path_get(o, "imageGenerationConfig", "quality")), "premium") == 0);
    CHECK(json_object_get_int(path_get(o, "imageGenerationConfig", "width")) == 1280);
    CHECK(json_object_get_int(path_get(o, "imageGenerationConfig", "height")) == 720);
    CHECK(json_object_get_double(path_get(o, "imageGenerationConfig", "cfgScale")) == 8.0);
    json_object_put(o);
    free(body);
    CHECK(canvas_request("prompt text", "natural", "2:1", "standard", &len, err) == NULL);
    CHECK(canvas_cfg_scale("natural") == 6.0);
    CHECK(canvas_cfg_scale("vivid") == 8.0);
    CHECK(canvas_cfg_scale("anime") == 7.0);
    CHECK(canvas_cfg_scale("photographic") == 7.0);
}

static void test_path(void)
{
    struct buf b;

    buf_init(&b);
    aws_bedrock_path(&b, "amazon.nova-canvas-v1:0", "invoke");
    CHECK(strcmp(b.data, "/model/amazon.nova-canvas-v1%3A0/invoke") == 0);
    buf_reset(&b);
    aws_bedrock_path(&b, "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x", "invoke");
    CHECK(strcmp(b.data, "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x/invoke") == 0);
    buf_free(&b);
}

/* A reply {"images": [base64(png)]} for a rendered image. */
static char *reply_for(const unsigned char *png, size_t len)
{
    char *b64 = malloc(len / 3 * 4 + 8), *out;
    json_object *o = json_object_new_object(), *a = json_object_new_array();

    EVP_EncodeBlock((unsigned char *)b64, png, (int)len);
    json_object_array_add(a, json_object_new_string(b64));
    json_object_object_add(o, "images", a);
    out = strdup(json_object_to_json_string(o));
    json_object_put(o);
    free(b64);
    return out;
}

static void test_reply(void)
{
    unsigned char *png = NULL, *got = NULL;
    size_t len = 0, glen = 0;
    char err[ADS_ERRSZ], msg[ADS_ERRSZ];
    char *r;

    CHECK(render_png("a test image for the canvas parser", "natural", "1:1", &png, &len, err) == 0);
    CHECK(canvas_png_ok(png, len, 1024, 1024));
    CHECK(!canvas_png_ok(png, len, 1280, 720));
    CHECK(!canvas_png_ok(png, len - 1, 1024, 1024));     /* truncated: no IEND at the end */

    r = reply_for(png, len);
    CHECK(canvas_reply(r, strlen(r), "1:1", &got, &glen, msg) == OUTCALL_OK);
    CHECK(got != NULL && glen == len && memcmp(got, png, len) == 0);
    free(got);
    /* The right PNG for another aspect ratio is not what was asked for. */
    CHECK(canvas_reply(r, strlen(r), "16:9", &got, &glen, msg) == OUTCALL_RETRY);
    CHECK(got == NULL && strstr(msg, "1280x720") != NULL);
    free(r);

    r = reply_for(png, len / 2);
    CHECK(canvas_reply(r, strlen(r), "1:1", &got, &glen, msg) == OUTCALL_RETRY);
    free(r);

    {
        const char *refused = "{\"images\": [], \"error\": \"This request has been blocked by our content filters.\"}";
        CHECK(canvas_reply(refused, strlen(refused), "1:1", &got, &glen, msg) == OUTCALL_PERMANENT);
        CHECK(strstr(msg, "content filters") != NULL);
    }
    CHECK(canvas_reply("{\"images\": [\"!!!notbase64\"]}", 28, "1:1", &got, &glen, msg) == OUTCALL_RETRY);
    CHECK(canvas_reply("{\"images\": [7]}", 15, "1:1", &got, &glen, msg) == OUTCALL_RETRY);
    CHECK(canvas_reply("[]", 2, "1:1", &got, &glen, msg) == OUTCALL_RETRY);
    CHECK(canvas_reply("{\"imag", 6, "1:1", &got, &glen, msg) == OUTCALL_RETRY);
    CHECK(canvas_reply("{}", 2, "1:1", &got, &glen, msg) == OUTCALL_RETRY && strstr(msg, "no image") != NULL);
    free(png);
}

int main(void)
{
    test_request();
    test_path();
    test_reply();
    return unit_done("test_canvas");
}
