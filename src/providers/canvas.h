/*
 * canvas: Amazon Nova Canvas text-to-image through bedrock-runtime
 * InvokeModel. Builds the request body (TEXT_IMAGE, the contract's pixel
 * size for the aspect ratio, cfgScale by style) and reads the reply: the
 * base64 image is decoded and must be a whole PNG of the asked size (the
 * signature, IHDR's width and height, and an IEND chunk at the end), or
 * the reply's own error, which Nova Canvas uses for content it refuses.
 *
 * Every returned buffer is malloc'd and owned by the caller.
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

/* 1 when data is a PNG whose IHDR says w x h and which ends with IEND. */
int canvas_png_ok(const unsigned char *data, size_t len, int w, int h);

#endif
