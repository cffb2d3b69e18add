/*
 * imgdec: decodes JPEG (libjpeg-turbo), PNG (libpng) and WebP (libwebp)
 * into a small RGBA analysis copy, never the full image in memory for JPEG
 * and PNG: rows are box-averaged into a grid whose longer side is at most
 * max_side. The declared pixel count is checked against max_pixels before any
 * pixel is decoded, so a decompression bomb costs nothing. EXIF orientation
 * of JPEGs is applied (width and height as displayed).
 *
 * imgdec_downscale_jpeg re-encodes such a copy (RGB, the longer side at
 * most max_side) as a JPEG, for services that take images up to a size.
 *
 * struct image owns its pixels; imgdec_free releases them. The JPEG bytes
 * of imgdec_downscale_jpeg are malloc'd and owned by the caller.
 *
 * Thread-safe: each call has its own decoder state.
 */
#ifndef ADS_IMGDEC_H
#define ADS_IMGDEC_H

#include <stddef.h>

struct image {
    int width, height;          /* full size as displayed */
    int gw, gh;                 /* analysis grid size */
    unsigned char *rgba;        /* gw * gh * 4 */
    const char *format;         /* "jpeg", "png", "webp" (static) */
    int exif_orientation;       /* 1..8, 1 when absent */
    int has_alpha;
};

/* Sniffs the format from magic bytes; NULL when not one we decode. */
const char *imgdec_sniff(const void *data, size_t len);

int imgdec_decode(const void *data, size_t len, long max_pixels, int max_side,
                  struct image *out, char *err);
void imgdec_free(struct image *img);

/* Decodes, box-averages to at most max_side, encodes JPEG at quality. */
int imgdec_downscale_jpeg(const void *data, size_t len, long max_pixels, int max_side, int quality,
                          unsigned char **out, size_t *outlen, char *err);

#endif
