#include <stdlib.h>
#include <string.h>

#include "imgdec.h"
#include "imgmake.h"
#include "unit.h"
#include "util.h"

/* PNG chunk CRC, so a rewritten IHDR stays valid. */
static unsigned long crc32_of(const unsigned char *p, size_t n)
{
    unsigned long c = 0xffffffffUL;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320UL & (0UL - (c & 1)));
    }
    return c ^ 0xffffffffUL;
}

static const unsigned char red[3] = { 220, 30, 35 }, navy[3] = { 20, 30, 90 };

/* The left column of the grid should read red, the right navy. */
static int split_ok(const struct image *img)
{
    const unsigned char *l = img->rgba + ((size_t)(img->gh / 2) * img->gw + 1) * 4;
    const unsigned char *r = img->rgba + ((size_t)(img->gh / 2) * img->gw + img->gw - 2) * 4;
    return abs(l[0] - 220) < 12 && abs(l[2] - 35) < 12 && abs(r[0] - 20) < 12 && abs(r[2] - 90) < 12;
}

/* The bounds checked while decoding, in-process: each case decodes or
 * stops with the code and message the table says. */
static void test_limits(void)
{
    enum { JPEG_PROG, JPEG_BIG, PNG_INTERLACED, WEBP, PNG_CUT };
    static const struct {
        const char *what;
        int kind;
        long max_pixels;
        size_t max_memory;
        long max_cpu_ms;
        int rc;
        const char *says;
    } cases[] = {
        { "progressive JPEG within the memory bound", JPEG_PROG, 40000000, 64u << 20, 0, IMGDEC_OK, NULL },
        { "progressive JPEG past the memory bound", JPEG_PROG, 40000000, 1u << 20, 0, IMGDEC_LIMIT, "memory limit of 1 MB" },
        { "progressive JPEG past the pixel budget", JPEG_PROG, 1000000, 0, 0, IMGDEC_LIMIT, "limit of 1000000 pixels" },
        { "large JPEG past the CPU bound", JPEG_BIG, 40000000, 0, 1, IMGDEC_LIMIT, "CPU limit of 1 ms" },
        { "large JPEG within the CPU bound", JPEG_BIG, 40000000, 0, 20000, IMGDEC_OK, NULL },
        { "interlaced PNG within the memory bound", PNG_INTERLACED, 40000000, 16u << 20, 0, IMGDEC_OK, NULL },
        { "interlaced PNG past the memory bound", PNG_INTERLACED, 40000000, 1u << 20, 0, IMGDEC_LIMIT, "interlaced PNG" },
        /* libpng's error jumps out of the pass loop: the whole-image
         * buffers must still be freed (the sanitized run checks leaks). */
        { "interlaced PNG cut in the middle", PNG_CUT, 40000000, 16u << 20, 0, IMGDEC_INVALID, "PNG" },
        { "WebP past the pixel budget", WEBP, 10000, 0, 0, IMGDEC_LIMIT, "pixels" },
        { "WebP within the bounds", WEBP, 40000000, 8u << 20, 1000, IMGDEC_OK, NULL },
    };
    unsigned char *img[5];
    size_t len[5], i;

    img[JPEG_PROG] = make_jpeg(1600, 1200, red, navy, 1, 1, &len[JPEG_PROG]);
    img[JPEG_BIG] = make_jpeg(4000, 3000, red, navy, 1, 1, &len[JPEG_BIG]);
    img[PNG_INTERLACED] = make_png(1000, 800, red, navy, 16, 1, 1, &len[PNG_INTERLACED]);
    img[WEBP] = make_webp(320, 240, red, navy, &len[WEBP]);
    len[PNG_CUT] = len[PNG_INTERLACED] / 2;
    img[PNG_CUT] = malloc(len[PNG_CUT]);
    memcpy(img[PNG_CUT], img[PNG_INTERLACED], len[PNG_CUT]);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct imgdec_limits lim = { cases[i].max_pixels, cases[i].max_memory, cases[i].max_cpu_ms };
        struct image out;
        char err[ADS_ERRSZ] = "";
        int rc = imgdec_decode_limited(img[cases[i].kind], len[cases[i].kind], &lim, 160, &out, err);
        CHECK(rc == cases[i].rc);
        CHECK(cases[i].says == NULL || strstr(err, cases[i].says) != NULL);
        if (rc != cases[i].rc || (cases[i].says && !strstr(err, cases[i].says)))
            fprintf(stderr, "%s: rc %d: %s\n", cases[i].what, rc, err);
        if (rc == IMGDEC_OK) {
            CHECK(split_ok(&out));
            imgdec_free(&out);
        }
    }
    for (i = 0; i < 5; i++)
        free(img[i]);
}

int main(void)
{
    struct image img;
    char err[ADS_ERRSZ];
    unsigned char *d;
    size_t n;

    d = make_jpeg(640, 480, red, navy, 0, 1, &n);
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == 0);
    CHECK(img.width == 640 && img.height == 480 && strcmp(img.format, "jpeg") == 0 && img.gw == 160 && split_ok(&img));
    imgdec_free(&img);
    /* Truncated JPEG is rejected, not filled with grey. */
    CHECK(imgdec_decode(d, n / 2, 40000000, 160, &img, err) != 0);
    free(d);

    d = make_jpeg(600, 400, red, navy, 1, 6, &n);
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == 0);
    CHECK(img.exif_orientation == 6 && img.width == 400 && img.height == 600);
    imgdec_free(&img);
    free(d);

    d = make_png(300, 200, red, navy, 8, 0, 0, &n);
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == 0 && strcmp(img.format, "png") == 0 && split_ok(&img));
    imgdec_free(&img);
    CHECK(imgdec_decode(d, n - 20, 40000000, 160, &img, err) != 0);
    free(d);
    d = make_png(300, 200, red, navy, 16, 0, 0, &n);
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == 0 && split_ok(&img));
    imgdec_free(&img);
    free(d);
    d = make_png(300, 200, red, navy, 8, 1, 0, &n);
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == 0 && split_ok(&img));
    imgdec_free(&img);
    free(d);
    d = make_png(300, 200, red, navy, 8, 0, 1, &n);
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == 0 && split_ok(&img));
    imgdec_free(&img);
    free(d);

    d = make_webp(320, 240, red, navy, &n);
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == 0 && strcmp(img.format, "webp") == 0 && split_ok(&img));
    imgdec_free(&img);
    CHECK(imgdec_decode(d, n / 2, 40000000, 160, &img, err) != 0);
    free(d);

    /* A pixel bomb: a 20000x20000 PNG header is refused before decoding. */
    d = make_png(20000, 2, red, navy, 8, 1, 0, &n);
    d[16] = 0; d[17] = 0; d[18] = 0x4e; d[19] = 0x20;       /* width 20000 */
    d[20] = 0; d[21] = 0; d[22] = 0x4e; d[23] = 0x20;       /* height 20000 */
    {
        unsigned long crc = crc32_of(d + 12, 17);           /* "IHDR" + 13 bytes */
        d[29] = (unsigned char)(crc >> 24); d[30] = (unsigned char)(crc >> 16);
        d[31] = (unsigned char)(crc >> 8); d[32] = (unsigned char)crc;
    }
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == IMGDEC_LIMIT && strstr(err, "exceeds") != NULL);
    free(d);
    /* A side past IMGDEC_MAX_SIDE, within the pixel budget. */
    d = make_png(40000, 1, red, navy, 8, 0, 0, &n);
    CHECK(imgdec_decode(d, n, 40000000, 160, &img, err) == IMGDEC_LIMIT && strstr(err, "per side") != NULL);
    free(d);
    test_limits();

    CHECK(imgdec_decode("GIF89a....", 10, 40000000, 160, &img, err) != 0 && strstr(err, "not a JPEG") != NULL);
    CHECK(imgdec_decode("", 0, 40000000, 160, &img, err) != 0);
    return unit_done("imgdec");
}
