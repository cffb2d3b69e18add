/*
 * canvas: Amazon Nova Canvas text-to-image through bedrock-runtime
 * InvokeModel. Builds the request body (TEXT_IMAGE, the contract's pixel
 * size for the aspect ratio, cfgScale by style) and reads the reply: the
 * base64 image is decoded and must be a whole PNG of the asked size (the
 * signature, IHDR's width and height, and an IEND chunk at the end), or
 * the reply's own error, which Nova Canvas uses for content it refuses.
 *
 * The creatives tasks (canvas_task_request) send the product photo as an
 * input image, which Nova Canvas takes only within its limits: each side
 * 320..4096 pixels and a multiple of 16, the aspect ratio between 1:4 and
 * 4:1, at most 4,194,304 pixels, 8 bits per channel and no transparent
 * pixel. canvas_input_size picks such a size and canvas_input_png draws
 * the photo into it (scaled with cairo, alpha flattened onto a background,
 * written as an RGB PNG without an alpha channel), base64-encoded.
 *
 * Every returned buffer is malloc'd and owned by the caller. Every
 * function is thread-safe (each call has its own cairo surfaces).
 */
#ifndef ADS_CANVAS_H
#define ADS_CANVAS_H

#include <stddef.h>

#include "outcall.h"
#include "buf.h"

/* cfgScale for a style: natural 6.0, vivid 8.0, anything else 7.0. */
double canvas_cfg_scale(const char *style);

/* The InvokeModel body; NULL with a message (unknown aspect ratio). */
char *canvas_request(const char *prompt, const char *style, const char *aspect_ratio,
                     const char *quality, size_t *len, char *err);

/* Reads a 2xx reply. OUTCALL_OK with *png and *pnglen set; OUTCALL_PERMANENT when the
 * model refused (its error is in msg); OUTCALL_RETRY when the reply is not a
 * whole PNG of the asked size (a broken answer may not repeat). */
enum outcall_class canvas_reply(const char *body, size_t len, const char *aspect_ratio,
                              unsigned char **png, size_t *pnglen, char *msg);

/* The same for a reply that must be exactly w x h (the creatives tasks:
 * an edit answers at the input image's size, a generation at the size
 * asked for). */
enum outcall_class canvas_reply_size(const char *body, size_t len, int w, int h,
                                     unsigned char **png, size_t *pnglen, char *msg);

/* Nova Canvas's input image limits. */
#define CANVAS_SIDE_MIN 320
#define CANVAS_SIDE_MAX 4096
#define CANVAS_SIDE_STEP 16
#define CANVAS_MAX_PIXELS 4194304L
#define CANVAS_MAX_ASPECT 4

/* An input image size for a pw x ph photo fitted into box_w x box_h
 * (never enlarged): the fitted size rounded up to the limits above (the
 * photo then sits centred on a little padding). Box sides must be within
 * the limits. 1 when w x h meets every limit. */
int canvas_input_size(int pw, int ph, int box_w, int box_h, int *w, int *h);

/* 1 when w x h is a size Nova Canvas accepts for an input image. */
int canvas_size_ok(int w, int h);

/* The photo (RGBA, pw x ph, straight alpha) scaled to fit scale_pct % of
 * w x h, centred on a w x h canvas of colour bg (0xRRGGBB) onto which its
 * alpha is flattened: an RGB PNG (no alpha channel), base64-encoded,
 * NUL-ended. NULL with a message. */
char *canvas_input_png(const unsigned char *rgba, int pw, int ph, int w, int h, int scale_pct,
                       unsigned int bg, char *err);

/* One creatives call. */
struct canvas_task {
    const char *task;            /* text_image, background_replace, background_remove, variation, color_guided */
    const char *prompt, *style, *quality;
    int width, height;           /* generation size (text_image, variation, color_guided) */
    const char *image_b64;       /* the photo from canvas_input_png (not for text_image) */
    const unsigned int *colors;  /* 0xRRGGBB; color_guided needs 1..10 */
    int ncolors;
};

/* The masking prompt that keeps the product in background_replace. */
#define CANVAS_MASK_PROMPT "the product"

/* The InvokeModel body for the task: TEXT_IMAGE, BACKGROUND_REMOVAL,
 * OUTPAINTING (background_replace: maskPrompt keeps the product,
 * outPaintingMode PRECISE, the prompt paints the scene),
 * IMAGE_VARIATION or COLOR_GUIDED_GENERATION (colours as "#RRGGBB", the
 * photo as referenceImage). NULL with a message. */
char *canvas_task_request(const struct canvas_task *t, size_t *len, char *err);

/* 1 when data is a PNG whose IHDR says w x h and which ends with IEND. */
int canvas_png_ok(const unsigned char *data, size_t len, int w, int h);

#endif
