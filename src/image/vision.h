/*
 * vision: image analysis behind one interface. The built-in provider reads
 * what the pixels say (size, orientation, format, brightness, contrast,
 * dominant colours by k-means on a downscaled copy, named by the nearest
 * entry of a colour table in CIELAB) and reports labels in the contract's
 * shape. Deterministic for the same bytes.
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

/* Analyses image bytes. On success *out is
 * {"provider", "width", "height", "format", "orientation", "brightness",
 *  "contrast", "colors": [{"name","hex","share"}], "labels": [...]}. */
int vision_analyze(const struct config *cfg, const void *data, size_t len,
                   json_object **out, char *err);

/* Nearest colour name for an sRGB colour (static string). */
const char *vision_color_name(int r, int g, int b);

#endif
