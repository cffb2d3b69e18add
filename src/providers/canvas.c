#include "canvas.h"
#include "render.h"
#include "util.h"

#include <cairo.h>
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
    int w, h;

    *png = NULL;
    if (render_size(aspect_ratio, &w, &h) != 0) {
        ads_errf(msg, "unknown aspect ratio");
        return OUTCALL_PERMANENT;
    }
    return canvas_reply_size(body, len, w, h, png, pnglen, msg);
}

enum outcall_class canvas_reply_size(const char *body, size_t len, int w, int h,
                                     unsigned char **png, size_t *pnglen, char *msg)
{
    json_tokener *tok = json_tokener_new();
    json_object *root = NULL, *images, *first;
    enum outcall_class rc = OUTCALL_RETRY;

    *png = NULL;
    if (tok != NULL && len < 0x7fffffff)
        root = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    if (root == NULL || !json_object_is_type(root, json_type_object)) {
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

int canvas_size_ok(int w, int h)
{
    return w >= CANVAS_SIDE_MIN && h >= CANVAS_SIDE_MIN && w <= CANVAS_SIDE_MAX && h <= CANVAS_SIDE_MAX &&
           w % CANVAS_SIDE_STEP == 0 && h % CANVAS_SIDE_STEP == 0 && (long)w * h <= CANVAS_MAX_PIXELS &&
           w <= (long)h * CANVAS_MAX_ASPECT && h <= (long)w * CANVAS_MAX_ASPECT;
}

static int round_up(int v, int step)
{
    return (v + step - 1) / step * step;
}

int canvas_input_size(int pw, int ph, int box_w, int box_h, int *w, int *h)
{
    double s = 1.0;

    if (pw <= 0 || ph <= 0)
        return 0;
    if ((double)box_w / pw < s)
        s = (double)box_w / pw;
    if ((double)box_h / ph < s)
        s = (double)box_h / ph;
    *w = round_up((int)(pw * s + 0.5), CANVAS_SIDE_STEP);
    *h = round_up((int)(ph * s + 0.5), CANVAS_SIDE_STEP);
    if (*w < CANVAS_SIDE_MIN)
        *w = CANVAS_SIDE_MIN;
    if (*h < CANVAS_SIDE_MIN)
        *h = CANVAS_SIDE_MIN;
    /* A sliver of a photo is padded to 4:1 rather than refused. */
    if (*w > *h * CANVAS_MAX_ASPECT)
        *h = round_up((*w + CANVAS_MAX_ASPECT - 1) / CANVAS_MAX_ASPECT, CANVAS_SIDE_STEP);
    if (*h > *w * CANVAS_MAX_ASPECT)
        *w = round_up((*h + CANVAS_MAX_ASPECT - 1) / CANVAS_MAX_ASPECT, CANVAS_SIDE_STEP);
    return canvas_size_ok(*w, *h);
}

static cairo_status_t png_sink(void *closure, const unsigned char *data, unsigned int len)
{
    buf_add((struct buf *)closure, data, len);
    return CAIRO_STATUS_SUCCESS;
}

/* The photo as a cairo surface: premultiplied ARGB in native order. */
static cairo_surface_t *photo_surface(const unsigned char *rgba, int pw, int ph)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph);
    unsigned char *d;
    int stride, x, y;

    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        return s;
    cairo_surface_flush(s);
    d = cairo_image_surface_get_data(s);
    stride = cairo_image_surface_get_stride(s);
    for (y = 0; y < ph; y++) {
        uint32_t *row = (uint32_t *)(void *)(d + (size_t)y * (size_t)stride);
        for (x = 0; x < pw; x++) {
            const unsigned char *p = rgba + ((size_t)y * (size_t)pw + (size_t)x) * 4;
            uint32_t a = p[3];
            row[x] = a << 24 | (p[0] * a / 255) << 16 | (p[1] * a / 255) << 8 | (p[2] * a / 255);
        }
    }
    cairo_surface_mark_dirty(s);
    return s;
}

static char *b64_encode(const unsigned char *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);

    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

char *canvas_input_png(const unsigned char *rgba, int pw, int ph, int w, int h, int scale_pct,
                       unsigned int bg, char *err)
{
    cairo_surface_t *photo, *canvas;
    cairo_t *cr;
    struct buf png;
    double s;
    char *out = NULL;

    if (!canvas_size_ok(w, h) || pw <= 0 || ph <= 0 || scale_pct < 1 || scale_pct > 100) {
        ads_errf(err, "Nova Canvas: %dx%d is not an input image size it accepts", w, h);
        return NULL;
    }
    photo = photo_surface(rgba, pw, ph);
    /* RGB24: cairo writes the PNG without an alpha channel. */
    canvas = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cr = cairo_create(canvas);
    cairo_set_source_rgb(cr, (bg >> 16 & 255) / 255.0, (bg >> 8 & 255) / 255.0, (bg & 255) / 255.0);
    cairo_paint(cr);
    s = (double)w * scale_pct / 100 / pw;
    if ((double)h * scale_pct / 100 / ph < s)
        s = (double)h * scale_pct / 100 / ph;
    cairo_translate(cr, (w - pw * s) / 2, (h - ph * s) / 2);
    cairo_scale(cr, s, s);
    cairo_set_source_surface(cr, photo, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_destroy(cr);
    buf_init(&png);
    if (cairo_surface_status(photo) != CAIRO_STATUS_SUCCESS || cairo_surface_status(canvas) != CAIRO_STATUS_SUCCESS ||
        cairo_surface_write_to_png_stream(canvas, png_sink, &png) != CAIRO_STATUS_SUCCESS || png.oom)
        ads_errf(err, "Nova Canvas: could not draw the input image");
    else if ((out = b64_encode((const unsigned char *)png.data, png.len)) == NULL)
        ads_errf(err, "out of memory");
    buf_free(&png);
    cairo_surface_destroy(photo);
    cairo_surface_destroy(canvas);
    return out;
}

static json_object *gen_config(const struct canvas_task *t, int sized)
{
    json_object *gen = json_object_new_object();

    json_object_object_add(gen, "numberOfImages", json_object_new_int(1));
    json_object_object_add(gen, "quality", json_object_new_string(t->quality));
    if (sized) {
        json_object_object_add(gen, "width", json_object_new_int(t->width));
        json_object_object_add(gen, "height", json_object_new_int(t->height));
    }
    json_object_object_add(gen, "cfgScale", json_object_new_double(canvas_cfg_scale(t->style)));
    return gen;
}

/* The task's own parameters object under its name, and the taskType. */
static int task_params(json_object *root, const struct canvas_task *t, char *err)
{
    json_object *p = json_object_new_object();
    const char *type, *field;
    int i;

    if (strcmp(t->task, "background_remove") == 0) {
        type = "BACKGROUND_REMOVAL", field = "backgroundRemovalParams";
        json_object_object_add(p, "image", json_object_new_string(t->image_b64));
    } else if (strcmp(t->task, "background_replace") == 0) {
        type = "OUTPAINTING", field = "outPaintingParams";
        json_object_object_add(p, "image", json_object_new_string(t->image_b64));
        json_object_object_add(p, "text", json_object_new_string(t->prompt));
        json_object_object_add(p, "negativeText", json_object_new_string(NEGATIVE_TEXT));
        json_object_object_add(p, "maskPrompt", json_object_new_string(CANVAS_MASK_PROMPT));
        json_object_object_add(p, "outPaintingMode", json_object_new_string("PRECISE"));
    } else if (strcmp(t->task, "variation") == 0) {
        json_object *imgs = json_object_new_array();
        type = "IMAGE_VARIATION", field = "imageVariationParams";
        json_object_array_add(imgs, json_object_new_string(t->image_b64));
        json_object_object_add(p, "images", imgs);
        json_object_object_add(p, "text", json_object_new_string(t->prompt));
        json_object_object_add(p, "negativeText", json_object_new_string(NEGATIVE_TEXT));
        json_object_object_add(p, "similarityStrength", json_object_new_double(0.7));
    } else if (strcmp(t->task, "color_guided") == 0) {
        json_object *cols = json_object_new_array();
        char hex[8];
        type = "COLOR_GUIDED_GENERATION", field = "colorGuidedGenerationParams";
        for (i = 0; i < t->ncolors && i < 10; i++) {
            snprintf(hex, sizeof hex, "#%06X", t->colors[i] & 0xffffffu);
            json_object_array_add(cols, json_object_new_string(hex));
        }
        json_object_object_add(p, "colors", cols);
        json_object_object_add(p, "text", json_object_new_string(t->prompt));
        json_object_object_add(p, "negativeText", json_object_new_string(NEGATIVE_TEXT));
        if (t->image_b64 != NULL)
            json_object_object_add(p, "referenceImage", json_object_new_string(t->image_b64));
    } else if (strcmp(t->task, "text_image") == 0) {
        type = "TEXT_IMAGE", field = "textToImageParams";
        json_object_object_add(p, "text", json_object_new_string(t->prompt));
        json_object_object_add(p, "negativeText", json_object_new_string(NEGATIVE_TEXT));
    } else {
        json_object_put(p);
        ads_errf(err, "unknown task");
        return -1;
    }
    json_object_object_add(root, "taskType", json_object_new_string(type));
    json_object_object_add(root, field, p);
    return 0;
}

char *canvas_task_request(const struct canvas_task *t, size_t *len, char *err)
{
    json_object *root;
    char *out;
    int edit = strcmp(t->task, "background_remove") == 0 || strcmp(t->task, "background_replace") == 0;

    if (strcmp(t->task, "text_image") != 0 && t->image_b64 == NULL) {
        ads_errf(err, "task %s needs the photo", t->task);
        return NULL;
    }
    if (strcmp(t->task, "color_guided") == 0 && (t->ncolors < 1 || t->ncolors > 10)) {
        ads_errf(err, "color_guided needs 1 to 10 colours");
        return NULL;
    }
    if (!edit && !canvas_size_ok(t->width, t->height)) {
        ads_errf(err, "Nova Canvas cannot make %dx%d", t->width, t->height);
        return NULL;
    }
    root = json_object_new_object();
    if (task_params(root, t, err) != 0) {
        json_object_put(root);
        return NULL;
    }
    /* An edit answers at the input image's size: no width or height;
     * background removal takes no generation settings at all. */
    if (strcmp(t->task, "background_remove") != 0)
        json_object_object_add(root, "imageGenerationConfig", gen_config(t, !edit));
    out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    if (out == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    *len = strlen(out);
    return out;
}
