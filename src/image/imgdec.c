#include "imgdec.h"
#include "util.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

const char *imgdec_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;

    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return "jpeg";
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "webp";
    return NULL;
}

/* Accumulates full-resolution rows into the grid by box averaging. */
struct grid {
    int w, h, gw, gh;
    double *sum;     /* gw*gh*4 */
    unsigned *count;
};

static int grid_init(struct grid *g, int w, int h, int max_side)
{
    double scale = (w > h ? w : h) > max_side ? (double)max_side / (w > h ? w : h) : 1.0;

    g->w = w;
    g->h = h;
    g->gw = (int)(w * scale) > 0 ? (int)(w * scale) : 1;
    g->gh = (int)(h * scale) > 0 ? (int)(h * scale) : 1;
    g->sum = calloc((size_t)g->gw * g->gh * 4, sizeof *g->sum);
    g->count = calloc((size_t)g->gw * g->gh, sizeof *g->count);
    return (g->sum && g->count) ? 0 : -1;
}

/* row holds w pixels of `channels` bytes (3 or 4). */
static void grid_row(struct grid *g, int y, const unsigned char *row, int channels)
{
    int gy = (int)((long long)y * g->gh / g->h);
    int x;

    for (x = 0; x < g->w; x++) {
        int gx = (int)((long long)x * g->gw / g->w);
        size_t i = (size_t)gy * g->gw + gx;
        const unsigned char *px = row + (size_t)x * channels;
        g->sum[4 * i] += px[0];
        g->sum[4 * i + 1] += px[1];
        g->sum[4 * i + 2] += px[2];
        g->sum[4 * i + 3] += channels == 4 ? px[3] : 255;
        g->count[i]++;
    }
}

static unsigned char *grid_finish(struct grid *g)
{
    size_t n = (size_t)g->gw * g->gh, i;
    unsigned char *out = malloc(n * 4);
    int k;

    if (out != NULL) {
        for (i = 0; i < n; i++)
            for (k = 0; k < 4; k++)
                out[4 * i + k] = (unsigned char)(g->count[i] ? g->sum[4 * i + k] / g->count[i] + 0.5 : 0);
    }
    free(g->sum);
    free(g->count);
    g->sum = NULL;
    g->count = NULL;
    return out;
}

static void grid_drop(struct grid *g)
{
    free(g->sum);
    free(g->count);
}

/* ---- JPEG ---- */

struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr cinfo)
{
    struct jerr *e = (struct jerr *)cinfo->err;

    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jmp, 1);
}

/* Counts warnings (a truncated stream is one) without printing them. */
static void jpeg_quiet(j_common_ptr cinfo, int level)
{
    if (level < 0)
        cinfo->err->num_warnings++;
}

static unsigned rd16(const unsigned char *p, int le)
{
    return le ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
}

static unsigned long rd32(const unsigned char *p, int le)
{
    return le ? (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24
              : (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/* Orientation tag (0x0112) of IFD0 in an APP1 "Exif\0\0" payload; 1 if none. */
static int exif_orientation(const unsigned char *d, size_t n)
{
    const unsigned char *t;
    size_t tn, ifd, i, count;
    int le;

    if (n < 14 || memcmp(d, "Exif\0\0", 6) != 0)
        return 1;
    t = d + 6;
    tn = n - 6;
    if (memcmp(t, "II*\0", 4) == 0)
        le = 1;
    else if (memcmp(t, "MM\0*", 4) == 0)
        le = 0;
    else
        return 1;
    ifd = rd32(t + 4, le);
    if (ifd + 2 > tn)
        return 1;
    count = rd16(t + ifd, le);
    for (i = 0; i < count; i++) {
        size_t e = ifd + 2 + 12 * i;
        if (e + 12 > tn)
            return 1;
        if (rd16(t + e, le) == 0x0112) {
            unsigned v = rd16(t + e + 8, le);
            return (v >= 1 && v <= 8) ? (int)v : 1;
        }
    }
    return 1;
}

static int decode_jpeg(const void *data, size_t len, long max_pixels, int max_side,
                       struct image *out, char *err)
{
    struct jpeg_decompress_struct cinfo;
    struct jerr je;
    struct grid g;
    unsigned char *volatile row = NULL;   /* freed after a longjmp */
    jpeg_saved_marker_ptr m;

    memset(&g, 0, sizeof g);
    cinfo.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = jpeg_fail;
    je.mgr.emit_message = jpeg_quiet;
    if (setjmp(je.jmp)) {
        ads_errf(err, "not a decodable JPEG: %s", je.msg);
        jpeg_destroy_decompress(&cinfo);
        grid_drop(&g);
        free(row);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&cinfo, TRUE);
    if ((long long)cinfo.image_width * cinfo.image_height > max_pixels) {
        ads_errf(err, "image of %ux%u pixels exceeds the limit of %ld pixels",
                 cinfo.image_width, cinfo.image_height, max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    out->exif_orientation = 1;
    for (m = cinfo.marker_list; m != NULL; m = m->next)
        if (m->marker == JPEG_APP0 + 1)
            out->exif_orientation = exif_orientation(m->data, m->data_length);
    /* Let the DCT scale down: an analysis grid needs no full-size pixels. */
    unsigned scale = 1;
    while (scale < 8 && (int)(cinfo.image_width / (scale * 2)) >= max_side &&
           (int)(cinfo.image_height / (scale * 2)) >= max_side / 2)
        scale *= 2;
    cinfo.scale_num = 1;
    cinfo.scale_denom = scale;
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (grid_init(&g, (int)cinfo.output_width, (int)cinfo.output_height, max_side) != 0 ||
        (row = malloc((size_t)cinfo.output_width * 3)) == NULL) {
        ads_errf(err, "out of memory decoding JPEG");
        jpeg_destroy_decompress(&cinfo);
        grid_drop(&g);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = { row };
        int y = (int)cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, rows, 1);
        grid_row(&g, y, row, 3);
    }
    if (je.mgr.num_warnings > 0 && cinfo.output_scanline < cinfo.output_height) {
        ads_errf(err, "truncated JPEG");
        jpeg_destroy_decompress(&cinfo);
        grid_drop(&g);
        free(row);
        return -1;
    }
    out->width = (int)cinfo.image_width;
    out->height = (int)cinfo.image_height;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->gw = g.gw;
    out->gh = g.gh;
    out->rgba = grid_finish(&g);
    out->format = "jpeg";
    if (out->rgba == NULL) {
        ads_errf(err, "out of memory decoding JPEG");
        return -1;
    }
    if (je.mgr.num_warnings > 0) {
        /* libjpeg fills a truncated stream with grey and warns: reject it. */
        ads_errf(err, "corrupt or truncated JPEG");
        imgdec_free(out);
        return -1;
    }
    return 0;
}

/* ---- PNG ---- */

struct png_src {
    const unsigned char *data;
    size_t len, pos;
    char msg[160];
};

static void png_read_mem(png_structp png, png_bytep dst, png_size_t n)
{
    struct png_src *s = png_get_io_ptr(png);

    if (n > s->len - s->pos)
        png_error(png, "truncated PNG");
    memcpy(dst, s->data + s->pos, n);
    s->pos += n;
}

static void png_fail(png_structp png, png_const_charp msg)
{
    struct png_src *s = png_get_error_ptr(png);

    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static int decode_png(const void *data, size_t len, long max_pixels, int max_side,
                      struct image *out, char *err)
{
    struct png_src src = { data, len, 0, "" };
    png_structp png;
    png_infop info;
    struct grid g;
    unsigned char *volatile row = NULL;   /* these three are freed after a longjmp */
    unsigned char *volatile full = NULL;
    png_bytep *volatile rows = NULL;
    png_uint_32 w, h, y;
    int passes, pass, ctype;

    memset(&g, 0, sizeof g);
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_fail, png_quiet);
    info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        ads_errf(err, "out of memory decoding PNG");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        ads_errf(err, "not a decodable PNG: %s", src.msg);
        png_destroy_read_struct(&png, &info, NULL);
        grid_drop(&g);
        free(row);
        free(full);
        free(rows);
        return -1;
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    w = png_get_image_width(png, info);
    h = png_get_image_height(png, info);
    if ((long long)w * h > max_pixels) {
        ads_errf(err, "image of %ux%u pixels exceeds the limit of %ld pixels", (unsigned)w, (unsigned)h, max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    ctype = png_get_color_type(png, info);
    out->has_alpha = (ctype & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (grid_init(&g, (int)w, (int)h, max_side) != 0 || (row = malloc((size_t)w * 4)) == NULL) {
        ads_errf(err, "out of memory decoding PNG");
        png_destroy_read_struct(&png, &info, NULL);
        grid_drop(&g);
        return -1;
    }
    if (passes > 1) {
        /* Interlaced: the last pass completes each row; earlier passes
         * need the row's previous state, so keep one full image. */
        full = malloc((size_t)w * h * 4);
        rows = malloc(sizeof *rows * h);
        if (full == NULL || rows == NULL) {
            free(full);
            free(rows);
            ads_errf(err, "out of memory decoding PNG");
            png_destroy_read_struct(&png, &info, NULL);
            grid_drop(&g);
            free(row);
            return -1;
        }
        for (y = 0; y < h; y++)
            rows[y] = full + (size_t)y * w * 4;
        png_read_image(png, rows);
        for (y = 0; y < h; y++)
            grid_row(&g, (int)y, rows[y], 4);
        free(full);
        free(rows);
        full = NULL;
        rows = NULL;
    } else {
        for (pass = 0; pass < passes; pass++)
            for (y = 0; y < h; y++) {
                png_read_row(png, row, NULL);
                grid_row(&g, (int)y, row, 4);
            }
    }
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(row);
    out->width = (int)w;
    out->height = (int)h;
    out->gw = g.gw;
    out->gh = g.gh;
    out->exif_orientation = 1;
    out->format = "png";
    out->rgba = grid_finish(&g);
    if (out->rgba == NULL) {
        ads_errf(err, "out of memory decoding PNG");
        return -1;
    }
    return 0;
}

/* ---- WebP ---- */

static int decode_webp(const void *data, size_t len, long max_pixels, int max_side,
                       struct image *out, char *err)
{
    WebPBitstreamFeatures f;
    struct grid g;
    uint8_t *px;
    int w, h, y;

    if (WebPGetFeatures(data, len, &f) != VP8_STATUS_OK) {
        ads_errf(err, "not a decodable WebP");
        return -1;
    }
    w = f.width;
    h = f.height;
    if ((long long)w * h > max_pixels) {
        ads_errf(err, "image of %dx%d pixels exceeds the limit of %ld pixels", w, h, max_pixels);
        return -1;
    }
    px = WebPDecodeRGBA(data, len, &w, &h);
    if (px == NULL) {
        ads_errf(err, "not a decodable WebP (corrupt or truncated)");
        return -1;
    }
    if (grid_init(&g, w, h, max_side) != 0) {
        WebPFree(px);
        grid_drop(&g);
        ads_errf(err, "out of memory decoding WebP");
        return -1;
    }
    for (y = 0; y < h; y++)
        grid_row(&g, y, px + (size_t)y * w * 4, 4);
    WebPFree(px);
    out->width = w;
    out->height = h;
    out->gw = g.gw;
    out->gh = g.gh;
    out->has_alpha = f.has_alpha;
    out->exif_orientation = 1;
    out->format = "webp";
    out->rgba = grid_finish(&g);
    if (out->rgba == NULL) {
        ads_errf(err, "out of memory decoding WebP");
        return -1;
    }
    return 0;
}

/* Rotates/flips the grid so it reads as displayed (EXIF 2..8). */
static int apply_orientation(struct image *img, char *err)
{
    int o = img->exif_orientation, x, y;
    int sw = img->gw, sh = img->gh;
    int dw = o >= 5 ? sh : sw, dh = o >= 5 ? sw : sh;
    unsigned char *dst;

    if (o <= 1)
        return 0;
    dst = malloc((size_t)dw * dh * 4);
    if (dst == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    for (y = 0; y < sh; y++) {
        for (x = 0; x < sw; x++) {
            int dx, dy;
            switch (o) {
            case 2: dx = sw - 1 - x; dy = y; break;
            case 3: dx = sw - 1 - x; dy = sh - 1 - y; break;
            case 4: dx = x; dy = sh - 1 - y; break;
            case 5: dx = y; dy = x; break;
            case 6: dx = sh - 1 - y; dy = x; break;
            case 7: dx = sh - 1 - y; dy = sw - 1 - x; break;
            default: dx = y; dy = sw - 1 - x; break;
            }
            memcpy(dst + ((size_t)dy * dw + dx) * 4, img->rgba + ((size_t)y * sw + x) * 4, 4);
        }
    }
    free(img->rgba);
    img->rgba = dst;
    img->gw = dw;
    img->gh = dh;
    if (o >= 5) {
        int t = img->width;
        img->width = img->height;
        img->height = t;
    }
    return 0;
}

int imgdec_decode(const void *data, size_t len, long max_pixels, int max_side,
                  struct image *out, char *err)
{
    const char *fmt = imgdec_sniff(data, len);
    int rc;

    memset(out, 0, sizeof *out);
    if (fmt == NULL) {
        ads_errf(err, "not a JPEG, PNG or WebP image");
        return -1;
    }
    if (strcmp(fmt, "jpeg") == 0)
        rc = decode_jpeg(data, len, max_pixels, max_side, out, err);
    else if (strcmp(fmt, "png") == 0)
        rc = decode_png(data, len, max_pixels, max_side, out, err);
    else
        rc = decode_webp(data, len, max_pixels, max_side, out, err);
    if (rc == 0 && apply_orientation(out, err) != 0) {
        imgdec_free(out);
        return -1;
    }
    return rc;
}

void imgdec_free(struct image *img)
{
    free(img->rgba);
    img->rgba = NULL;
}

/* The grid is RGBA; JPEG wants RGB rows. */
static int encode_rgb_jpeg(const struct image *img, int quality, unsigned char **out,
                           size_t *outlen, char *err)
{
    struct jpeg_compress_struct cinfo;
    struct jerr je;
    unsigned char *row = malloc((size_t)img->gw * 3);
    unsigned char *mem = NULL;
    unsigned long memlen = 0;
    int x;

    if (row == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    cinfo.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = jpeg_fail;
    if (setjmp(je.jmp)) {
        jpeg_destroy_compress(&cinfo);
        free(row);
        free(mem);
        ads_errf(err, "JPEG encoding failed: %s", je.msg);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &mem, &memlen);
    cinfo.image_width = (JDIMENSION)img->gw;
    cinfo.image_height = (JDIMENSION)img->gh;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        const unsigned char *src = img->rgba + (size_t)cinfo.next_scanline * (size_t)img->gw * 4;
        JSAMPROW rp = row;
        for (x = 0; x < img->gw; x++)
            memcpy(row + 3 * x, src + 4 * x, 3);
        jpeg_write_scanlines(&cinfo, &rp, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(row);
    *out = mem;
    *outlen = memlen;
    return 0;
}

int imgdec_downscale_jpeg(const void *data, size_t len, long max_pixels, int max_side, int quality,
                          unsigned char **out, size_t *outlen, char *err)
{
    struct image img;
    int rc;

    if (imgdec_decode(data, len, max_pixels, max_side, &img, err) != 0)
        return -1;
    rc = encode_rgb_jpeg(&img, quality, out, outlen, err);
    imgdec_free(&img);
    return rc;
}
