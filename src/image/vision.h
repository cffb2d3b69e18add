/*
 * vision: image analysis behind one interface. The built-in provider reads
 * what the pixels say (size, orientation, format, brightness, contrast,
 * dominant colours by k-means on a downscaled copy, named by the nearest
 * entry of a colour table in CIELAB) and reports labels in the contract's
 * shape. Deterministic for the same bytes.
 *
 * The bytes are decoded only in the decoding sandbox (imgbox.h), within
 * the caller's deadline.
 *
 * The result is a json-c object owned by the caller (json_object_put).
 *
 * Thread-safe (the campaign's image stage runs it on its own thread): each
 * call has its own decoder state and objects.
 */
#ifndef ADS_VISION_H
#define ADS_VISION_H

#include <stddef.h>

#include <json-c/json.h>

#include "cfg.h"
#include "imgdec.h"

/* Analyses image bytes. declared_as is the upload's content type or file
 * name (NULL: unknown): when the bytes are another format, the analysis
 * says "declared_format" and a warning is added to warnings (if not NULL).
 * On success (IMGDEC_OK) *out is
 * {"provider", "width", "height", "format", "orientation", "brightness",
 *  "contrast", "colors": [{"name","hex","share"}], "labels": [...]}.
 * Otherwise an IMGDEC_* code (imgdec.h) and a message for the user. */
int vision_analyze(const struct config *cfg, const void *data, size_t len, const char *declared_as,
                   double deadline_ms, json_object **out, json_object *warnings, char *err);

/* The same analysis of an image already decoded (in-process: tests). */
json_object *vision_analyze_image(const struct image *img);

/* Nearest colour name for an sRGB colour (static string). */
const char *vision_color_name(int r, int g, int b);

#endif
