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
    /* A creatives reply is checked against the exact size asked for. */
    CHECK(canvas_reply_size(r, strlen(r), 1024, 1024, &got, &glen, msg) == OUTCALL_OK && got != NULL);
    free(got);
    CHECK(canvas_reply_size(r, strlen(r), 1024, 1008, &got, &glen, msg) == OUTCALL_RETRY && got == NULL);
    CHECK(strstr(msg, "1024x1008") != NULL);
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

/* Input image sizes: the photo's shape within a box, rounded up to
 * Nova Canvas's limits. */
static void test_input_size(void)
{
    static const struct { int pw, ph, bw, bh, w, h; } cases[] = {
        { 640, 480, 1024, 1024, 640, 480 },      /* fits: multiples of 16 already */
        { 3000, 2000, 1024, 1024, 1024, 688 },   /* scaled down, 682.7 rounded up to 688 */
        { 150, 90, 1024, 1024, 320, 320 },       /* a thumbnail padded to the smallest side */
        { 2400, 400, 1024, 1024, 1024, 256 + 64 },/* 1024x171 -> 320 high (4:1 is 256, the minimum side wins) */
        { 4000, 500, 4096, 4096, 4000, 1008 },   /* 8:1 padded to 4:1 */
        { 1001, 999, 1024, 1024, 1008, 1008 },
        { 720, 1280, 720, 1280, 720, 1280 },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int w = 0, h = 0;
        int ok = canvas_input_size(cases[i].pw, cases[i].ph, cases[i].bw, cases[i].bh, &w, &h);
        CHECK(ok && w == cases[i].w && h == cases[i].h);
        if (!(ok && w == cases[i].w && h == cases[i].h))
            fprintf(stderr, "case %zu: %dx%d -> %dx%d (ok %d)\n", i, cases[i].pw, cases[i].ph, w, h, ok);
        CHECK(canvas_size_ok(w, h));
    }
    CHECK(!canvas_size_ok(330, 320));      /* not a multiple of 16 */
    CHECK(!canvas_size_ok(304, 320));      /* a side under 320 */
    CHECK(!canvas_size_ok(2064, 2048));    /* over 4,194,304 pixels */
    CHECK(!canvas_size_ok(1600, 384));     /* wider than 4:1 */
    CHECK(canvas_size_ok(2048, 2048) && canvas_size_ok(1280, 320));
}

/* The input PNG: RGB without alpha, of the asked size, the photo's alpha
 * flattened onto the background. */
static void test_input_png(void)
{
    unsigned char rgba[4 * 4 * 4];
    char err[ADS_ERRSZ];
    unsigned char *png;
    char *b64;
    int n, i;

    for (i = 0; i < 16; i++) {
        rgba[i * 4] = 200, rgba[i * 4 + 1] = 10, rgba[i * 4 + 2] = 90, rgba[i * 4 + 3] = (unsigned char)(i < 8 ? 255 : 0);
    }
    b64 = canvas_input_png(rgba, 4, 4, 320, 480, 100, 0xFFFFFF, err);
    CHECK(b64 != NULL);
    png = malloc(strlen(b64));
    n = EVP_DecodeBlock(png, (const unsigned char *)b64, (int)strlen(b64));
    CHECK(n > 33 && memcmp(png + 1, "PNG", 3) == 0);
    CHECK(png[16] == 0 && png[17] == 0 && png[18] == 1 && png[19] == 64);   /* width 320 */
    CHECK(png[20] == 0 && png[21] == 0 && png[22] == 1 && png[23] == 224);  /* height 480 */
    CHECK(png[24] == 8 && png[25] == 2);                                    /* 8-bit RGB: no alpha channel */
    free(png);
    free(b64);
    CHECK(canvas_input_png(rgba, 4, 4, 330, 480, 100, 0, err) == NULL && strstr(err, "330x480") != NULL);
}

static const char *str_at(json_object *o, const char *a, const char *b)
{
    json_object *v = path_get(o, a, b);
    return v ? json_object_get_string(v) : "";
}

/* Each task's body: its taskType, its parameters, its generation config. */
static void test_task_requests(void)
{
    static const unsigned int colors[] = { 0xE0157A, 0x2A7FD4 };
    static const struct { const char *task, *type, *field; int sized, config; } cases[] = {
        { "text_image", "TEXT_IMAGE", "textToImageParams", 1, 1 },
        { "background_remove", "BACKGROUND_REMOVAL", "backgroundRemovalParams", 0, 0 },
        { "background_replace", "OUTPAINTING", "outPaintingParams", 0, 1 },
        { "variation", "IMAGE_VARIATION", "imageVariationParams", 1, 1 },
        { "color_guided", "COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams", 1, 1 },
    };
    struct canvas_task t;
    char err[ADS_ERRSZ];
    size_t i, len;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object *o, *v;
        char *body;
        memset(&t, 0, sizeof t);
        t.task = cases[i].task;
        t.prompt = "Pink bottle on a rooftop";
        t.style = "natural";
        t.quality = "standard";
        t.width = 1280;
        t.height = 720;
        t.image_b64 = "iVBORw0KGgo=";
        t.colors = colors;
        t.ncolors = 2;
        body = canvas_task_request(&t, &len, err);
        CHECK(body != NULL && len == strlen(body));
        o = json_tokener_parse(body);
        CHECK(strcmp(str_at(o, "taskType", NULL), cases[i].type) == 0);
        CHECK(path_get(o, cases[i].field, NULL) != NULL);
        CHECK((path_get(o, "imageGenerationConfig", NULL) != NULL) == cases[i].config);
        CHECK((path_get(o, "imageGenerationConfig", "width") != NULL) == cases[i].sized);
        if (strcmp(cases[i].task, "background_replace") == 0) {
            CHECK(strcmp(str_at(o, "outPaintingParams", "outPaintingMode"), "PRECISE") == 0);
            CHECK(strcmp(str_at(o, "outPaintingParams", "maskPrompt"), CANVAS_MASK_PROMPT) == 0);
            CHECK(strcmp(str_at(o, "outPaintingParams", "image"), "iVBORw0KGgo=") == 0);
        }
        if (strcmp(cases[i].task, "color_guided") == 0) {
            v = path_get(o, "colorGuidedGenerationParams", "colors");
            CHECK(v != NULL && json_object_array_length(v) == 2 &&
                  strcmp(json_object_get_string(json_object_array_get_idx(v, 0)), "#E0157A") == 0);
            CHECK(strcmp(str_at(o, "colorGuidedGenerationParams", "referenceImage"), "iVBORw0KGgo=") == 0);
        }
        if (strcmp(cases[i].task, "variation") == 0)
            CHECK(json_object_array_length(path_get(o, "imageVariationParams", "images")) == 1);
        json_object_put(o);
        free(body);
    }
    memset(&t, 0, sizeof t);
    t.task = "variation", t.prompt = "p", t.style = "natural", t.quality = "standard", t.width = 1280, t.height = 720;
    CHECK(canvas_task_request(&t, &len, err) == NULL);            /* no photo */
    t.task = "color_guided", t.image_b64 = "x";
    CHECK(canvas_task_request(&t, &len, err) == NULL);            /* no colours */
    t.task = "inpaint";
    CHECK(canvas_task_request(&t, &len, err) == NULL);
    t.task = "text_image", t.width = 1000;
    CHECK(canvas_task_request(&t, &len, err) == NULL);            /* not a multiple of 16 */
}

int main(void)
{
    test_request();
    test_path();
    test_reply();
    test_input_size();
    test_input_png();
    test_task_requests();
    return unit_done("test_canvas");
}
