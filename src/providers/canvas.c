#include "canvas.h"
#include "render.h"
#include "util.h"

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What Nova Canvas should steer away from in a marketing image. */
#define NEGATIVE_TEXT "blurry, distorted, low quality, watermark, garbled text, deformed"

double canvas_cfg_scale(const char *style)
{
    if (strcmp(style, "natural") == 0)
        return 6.0;
    if (strcmp(style, "vivid") == 0)
        return 8.0;
    return 7.0;
}

char *canvas_request(const char *prompt, const char *style, const char *aspect_ratio,
                     const char *quality, size_t *len, char *err)
{
    json_object *root, *params, *gen;
    char *out;
    int w, h;

    if (render_size(aspect_ratio, &w, &h) != 0) {
        ads_errf(err, "unknown aspect ratio");
        return NULL;
    }
    root = json_object_new_object();
    params = json_object_new_object();
    gen = json_object_new_object();
    json_object_object_add(root, "taskType", json_object_new_string("TEXT_IMAGE"));
    json_object_object_add(params, "text", json_object_new_string(prompt));
    json_object_object_add(params, "negativeText", json_object_new_string(NEGATIVE_TEXT));
    json_object_object_add(root, "textToImageParams", params);
    json_object_object_add(gen, "numberOfImages", json_object_new_int(1));
    json_object_object_add(gen, "quality", json_object_new_string(quality));
    json_object_object_add(gen, "width", json_object_new_int(w));
    json_object_object_add(gen, "height", json_object_new_int(h));
    json_object_object_add(gen, "cfgScale", json_object_new_double(canvas_cfg_scale(style)));
    json_object_object_add(root, "imageGenerationConfig", gen);
    out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    if (out == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    *len = strlen(out);
    return out;
}

static unsigned long be32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) | ((unsigned long)p[2] << 8) | p[3];
}

int canvas_png_ok(const unsigned char *d, size_t len, int w, int h)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    static const unsigned char iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82 };

    if (len < 8 + 25 + 12 || memcmp(d, sig, 8) != 0)
        return 0;
    if (be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
        return 0;
    if (be32(d + 16) != (unsigned long)w || be32(d + 20) != (unsigned long)h)
        return 0;
    return memcmp(d + len - 12, iend, 12) == 0;
}

/* Decodes standard base64 (no line breaks needed, padding required). */
static unsigned char *b64_decode(const char *s, size_t n, size_t *outlen)
{
    EVP_ENCODE_CTX *ctx;
    unsigned char *out;
    int a = 0, b = 0, ok;

    if (n == 0 || n > (size_t)0x7fffffff - 4)
        return NULL;
    out = malloc(n / 4 * 3 + 4);
    ctx = EVP_ENCODE_CTX_new();
    if (out == NULL || ctx == NULL) {
        free(out);
        EVP_ENCODE_CTX_free(ctx);
        return NULL;
    }
    EVP_DecodeInit(ctx);
    ok = EVP_DecodeUpdate(ctx, out, &a, (const unsigned char *)s, (int)n) >= 0 &&
         EVP_DecodeFinal(ctx, out + a, &b) == 1;
    EVP_ENCODE_CTX_free(ctx);
    if (!ok) {
        free(out);
        return NULL;
    }
    *outlen = (size_t)(a + b);
    return out;
}

/* The reply's "error" text, when the model refused. */
static int refusal(json_object *root, char *msg)
{
    json_object *e;

    if (!json_object_object_get_ex(root, "error", &e) || json_object_is_type(e, json_type_null))
        return 0;
    ads_errf(msg, "Nova Canvas refused the prompt: %.180s", json_object_get_string(e));
    return 1;
}

enum outcall_class canvas_reply(const char *body, size_t len, const char *aspect_ratio,
                              unsigned char **png, size_t *pnglen, char *msg)
{
    json_tokener *tok = json_tokener_new();
    json_object *root = NULL, *images, *first;
    enum outcall_class rc = OUTCALL_RETRY;
    int w, h;

    *png = NULL;
    if (tok != NULL && len < 0x7fffffff)
        root = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    if (render_size(aspect_ratio, &w, &h) != 0) {
        ads_errf(msg, "unknown aspect ratio");
        rc = OUTCALL_PERMANENT;
    } else if (root == NULL || !json_object_is_type(root, json_type_object)) {
        ads_errf(msg, "Nova Canvas: reply is not a JSON object");
    } else if (!json_object_object_get_ex(root, "images", &images) ||
               !json_object_is_type(images, json_type_array) || json_object_array_length(images) == 0) {
        if (refusal(root, msg))
            rc = OUTCALL_PERMANENT;
        else
            ads_errf(msg, "Nova Canvas: reply holds no image");
    } else if ((first = json_object_array_get_idx(images, 0)) == NULL ||
               !json_object_is_type(first, json_type_string)) {
        ads_errf(msg, "Nova Canvas: images[0] is not a string");
    } else if ((*png = b64_decode(json_object_get_string(first), (size_t)json_object_get_string_len(first),
                                  pnglen)) == NULL) {
        ads_errf(msg, "Nova Canvas: images[0] is not valid base64");
    } else if (!canvas_png_ok(*png, *pnglen, w, h)) {
        ads_errf(msg, "Nova Canvas: the image is not a whole %dx%d PNG", w, h);
        free(*png);
        *png = NULL;
    } else {
        rc = OUTCALL_OK;
    }
    json_object_put(root);
    return rc;
}
