/*
 * imgdec: decodes JPEG (libjpeg-turbo), PNG (libpng) and WebP (libwebp)
 * into a small RGBA analysis copy: rows are box-averaged into a grid whose
 * longer side is at most grid_side, one grid row at a time, so the full
 * image is never held for JPEG, non-interlaced PNG or lossy WebP. EXIF
 * orientation of JPEGs is applied (width and height as displayed).
 *
 * Every decode is bounded WHILE it runs, whatever the file's structure:
 * - the declared size (max_pixels, and IMGDEC_MAX_SIDE per side) before any
 *   pixel is decoded;
 * - memory: libjpeg's max_memory_to_use (progressive coefficient buffers),
 *   PNG ancillary chunks never decompressed nor kept (text, iCCP, sPLT...),
 *   libpng's chunk size and cache limits, and an estimate checked before
 *   the large buffers (interlaced PNG, lossless WebP) are allocated;
 * - CPU: the process's CPU clock is read from libjpeg's progress monitor,
 *   libpng's read callback and every row; a progressive JPEG may have at
 *   most IMGDEC_MAX_SCANS scans.
 * A decode past a bound answers IMGDEC_LIMIT with a message naming it.
 *
 * This runs untrusted bytes through three C libraries: the product calls it
 * only inside the decoding sandbox (imgbox.h, the adsmith-imgdec program);
 * the in-process functions here are for that program, the unit tests and
 * the fuzz target.
 *
 * struct image owns its pixels; imgdec_free releases them. The JPEG bytes
 * of imgdec_encode_jpeg are malloc'd and owned by the caller.
 *
 * Thread-safe: each call has its own decoder state.
 */
#ifndef ADS_IMGDEC_H
#define ADS_IMGDEC_H

#include <stddef.h>

/* Return codes of imgdec and imgbox. */
enum {
    IMGDEC_OK = 0,
    IMGDEC_INVALID = -1,   /* not a decodable image: the caller's file */
    IMGDEC_LIMIT = -2,     /* past a bound (size, memory, CPU, scans): the caller's file */
    IMGDEC_FAILED = -3,    /* the sandbox could not run: the server's fault */
    IMGDEC_DEADLINE = -4   /* the caller's deadline passed first */
};

#define IMGDEC_MAX_SIDE 32768   /* no product photo is wider; bounds every row buffer */
#define IMGDEC_MAX_SCANS 100    /* real progressive JPEGs have about 10 */

struct imgdec_limits {
    long max_pixels;       /* declared width x height */
    size_t max_memory;     /* bytes for the decoder's large buffers; 0: unbounded */
    long max_cpu_ms;       /* CPU time of this process from the start of the decode; 0: unbounded */
};

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

/* The format a MIME type or a file name extension declares ("jpeg", "png",
 * "webp"), NULL when none of them. */
const char *imgdec_declared_format(const char *type_or_name);

/* IMGDEC_OK, IMGDEC_INVALID or IMGDEC_LIMIT. */
int imgdec_decode_limited(const void *data, size_t len, const struct imgdec_limits *lim, int grid_side,
                          struct image *out, char *err);
/* The same with a pixel budget only (tests). */
int imgdec_decode(const void *data, size_t len, long max_pixels, int grid_side,
                  struct image *out, char *err);
void imgdec_free(struct image *img);

/* Encodes an image's grid (RGB) as a JPEG at quality. */
int imgdec_encode_jpeg(const struct image *img, int quality, unsigned char **out, size_t *outlen, char *err);

#endif
