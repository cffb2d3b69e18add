#include "imgdec.h"
#include "util.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jpeglib.h>
#include <jerror.h>
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

const char *imgdec_declared_format(const char *s)
{
    static const struct { const char *suffix, *format; } map[] = {
        { "image/jpeg", "jpeg" }, { "image/jpg", "jpeg" }, { "image/png", "png" }, { "image/webp", "webp" },
        { ".jpg", "jpeg" }, { ".jpeg", "jpeg" }, { ".png", "png" }, { ".webp", "webp" },
    };
    size_t n = s ? strlen(s) : 0, i;

    for (i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t m = strlen(map[i].suffix);
        int whole = map[i].suffix[0] != '.';
        if ((whole ? n == m : n > m) && strcasecmp(s + n - m, map[i].suffix) == 0)
            return map[i].format;
    }
    return NULL;
}

/* ---- bounds ---- */

/* The CPU clock of the whole process: in the sandbox that is the decode. */
struct budget {
    const struct imgdec_limits *lim;
    double start_ms;
};

static double cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void budget_start(struct budget *b, const struct imgdec_limits *lim)
{
    b->lim = lim;
    b->start_ms = lim->max_cpu_ms > 0 ? cpu_ms() : 0;
}

/* 1 (and the message) when the decode has used its CPU time. */
static int over_cpu(const struct budget *b, char *msg, size_t msgsz)
{
    if (b->lim->max_cpu_ms <= 0 || cpu_ms() - b->start_ms <= (double)b->lim->max_cpu_ms)
        return 0;
    snprintf(msg, msgsz, "decoding exceeded the CPU limit of %ld ms", b->lim->max_cpu_ms);
    return 1;
}

/* The declared size, before any pixel: IMGDEC_LIMIT with a message, or 0. */
static int check_size(const struct imgdec_limits *lim, unsigned long w, unsigned long h, char *err)
{
    if (w > IMGDEC_MAX_SIDE || h > IMGDEC_MAX_SIDE) {
        ads_errf(err, "image of %lux%lu pixels exceeds the limit of %d pixels per side", w, h, IMGDEC_MAX_SIDE);
        return IMGDEC_LIMIT;
    }
    if ((unsigned long long)w * h > (unsigned long long)lim->max_pixels) {
        ads_errf(err, "image of %lux%lu pixels exceeds the limit of %ld pixels", w, h, lim->max_pixels);
        return IMGDEC_LIMIT;
    }
    return 0;
}

/* A buffer the decoder is about to need, against the memory bound. */
static int check_memory(const struct imgdec_limits *lim, unsigned long long need, const char *what, char *err)
{
    if (lim->max_memory == 0 || need <= lim->max_memory)
        return 0;
    ads_errf(err, "%s needs %llu MB, more than the decoding memory limit of %zu MB", what,
             (need + (1 << 20) - 1) >> 20, lim->max_memory >> 20);
    return IMGDEC_LIMIT;
}

/* ---- the analysis grid ---- */

static void grid_dims(int w, int h, int side, int *gw, int *gh)
{
    double scale = (w > h ? w : h) > side ? (double)side / (w > h ? w : h) : 1.0;

    *gw = (int)(w * scale) > 0 ? (int)(w * scale) : 1;
    *gh = (int)(h * scale) > 0 ? (int)(h * scale) : 1;
}

/* Box-averages full-resolution rows, given top to bottom, into the grid.
 * Only the grid row being filled is summed: memory is the grid plus one
 * row of sums, whatever the image's size. */
struct grid {
    int w, h, gw, gh, cur;
    uint64_t *sum;     /* gw*4, the grid row cur */
    uint32_t *count;   /* gw */
    unsigned char *out;
};

static int grid_init(struct grid *g, int w, int h, int side)
{
    memset(g, 0, sizeof *g);
    g->w = w;
    g->h = h;
    grid_dims(w, h, side, &g->gw, &g->gh);
    g->sum = calloc((size_t)g->gw * 4, sizeof *g->sum);
    g->count = calloc((size_t)g->gw, sizeof *g->count);
    g->out = calloc((size_t)g->gw * g->gh, 4);
    return (g->sum && g->count && g->out) ? 0 : -1;
}

static void grid_flush(struct grid *g)
{
    unsigned char *o = g->out + (size_t)g->cur * g->gw * 4;
    int x, k;

    for (x = 0; x < g->gw; x++) {
        uint64_t c = g->count[x];
        for (k = 0; k < 4; k++)
            o[4 * x + k] = (unsigned char)(c ? (2 * g->sum[4 * x + k] + c) / (2 * c) : 0);
    }
    memset(g->sum, 0, (size_t)g->gw * 4 * sizeof *g->sum);
    memset(g->count, 0, (size_t)g->gw * sizeof *g->count);
}

/* row holds w pixels of `channels` bytes (3 or 4); y only grows. */
static void grid_row(struct grid *g, int y, const unsigned char *row, int channels)
{
    int gy = (int)((long long)y * g->gh / g->h);
    int x;

    if (gy != g->cur) {
        grid_flush(g);
        g->cur = gy;
    }
    for (x = 0; x < g->w; x++) {
        int gx = (int)((long long)x * g->gw / g->w);
        const unsigned char *px = row + (size_t)x * channels;
        g->sum[4 * gx] += px[0];
        g->sum[4 * gx + 1] += px[1];
        g->sum[4 * gx + 2] += px[2];
        g->sum[4 * gx + 3] += channels == 4 ? px[3] : 255;
        g->count[gx]++;
    }
}

static unsigned char *grid_finish(struct grid *g)
{
    unsigned char *out = g->out;

    grid_flush(g);
    free(g->sum);
    free(g->count);
    memset(g, 0, sizeof *g);
    return out;
}

static void grid_drop(struct grid *g)
{
    free(g->sum);
    free(g->count);
    free(g->out);
    memset(g, 0, sizeof *g);
}

/* ---- JPEG ---- */

struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jmp;
    int code;                  /* IMGDEC_INVALID or IMGDEC_LIMIT */
    size_t max_memory;
    char msg[JMSG_LENGTH_MAX + 64];
};

static void jpeg_fail(j_common_ptr cinfo)
{
    struct jerr *e = (struct jerr *)cinfo->err;
    char m[JMSG_LENGTH_MAX];

    (*cinfo->err->format_message)(cinfo, m);
    if (e->mgr.msg_code == JERR_OUT_OF_MEMORY || e->mgr.msg_code == JERR_NO_BACKING_STORE) {
        e->code = IMGDEC_LIMIT;
        snprintf(e->msg, sizeof e->msg, "JPEG decoding needs more than the decoding memory limit of %zu MB",
                 e->max_memory >> 20);
    } else {
        e->code = IMGDEC_INVALID;
        snprintf(e->msg, sizeof e->msg, "not a decodable JPEG: %s", m);
    }
    longjmp(e->jmp, 1);
}

/* libjpeg fills a corrupt or truncated stream with grey and warns: a
 * warning ends the decode at once, before it costs more. */
static void jpeg_warn(j_common_ptr cinfo, int level)
{
    struct jerr *e = (struct jerr *)cinfo->err;
    char m[JMSG_LENGTH_MAX];

    if (level >= 0)
        return;
    (*cinfo->err->format_message)(cinfo, m);
    e->code = IMGDEC_INVALID;
    snprintf(e->msg, sizeof e->msg, "corrupt or truncated JPEG: %s", m);
    longjmp(e->jmp, 1);
}

/* Called for every iMCU row read and every output row: the place to stop a
 * file with too many scans or too much work. */
struct jprogress {
    struct jpeg_progress_mgr pub;
    const struct budget *b;
    struct jerr *je;
};

static void jpeg_monitor(j_common_ptr cinfo)
{
    struct jprogress *p = (struct jprogress *)cinfo->progress;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;

    if (d->input_scan_number > IMGDEC_MAX_SCANS) {
        p->je->code = IMGDEC_LIMIT;
        snprintf(p->je->msg, sizeof p->je->msg, "progressive JPEG with more than the limit of %d scans",
                 IMGDEC_MAX_SCANS);
        longjmp(p->je->jmp, 1);
    }
    if (over_cpu(p->b, p->je->msg, sizeof p->je->msg)) {
        p->je->code = IMGDEC_LIMIT;
        longjmp(p->je->jmp, 1);
    }
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

/* Let the DCT scale down: an analysis grid needs no full-size pixels. */
static unsigned dct_scale(unsigned w, unsigned h, int side)
{
    unsigned scale = 1;

    while (scale < 8 && (int)(w / (scale * 2)) >= side && (int)(h / (scale * 2)) >= side / 2)
        scale *= 2;
    return scale;
}

static int decode_jpeg(const void *data, size_t len, const struct budget *b, int side,
                       struct image *out, char *err)
{
    struct jpeg_decompress_struct cinfo;
    struct jerr je;
    struct jprogress prog;
    struct grid g;
    unsigned char *volatile row = NULL;   /* freed after a longjmp */
    jpeg_saved_marker_ptr m;
    int rc;

    memset(&g, 0, sizeof g);
    cinfo.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = jpeg_fail;
    je.mgr.emit_message = jpeg_warn;
    je.max_memory = b->lim->max_memory;
    if (setjmp(je.jmp)) {
        ads_errf(err, "%s", je.msg);
        jpeg_destroy_decompress(&cinfo);
        grid_drop(&g);
        free(row);
        return je.code;
    }
    jpeg_create_decompress(&cinfo);
    if (b->lim->max_memory > 0)
        cinfo.mem->max_memory_to_use = (long)b->lim->max_memory;
    prog.pub.progress_monitor = jpeg_monitor;
    prog.b = b;
    prog.je = &je;
    cinfo.progress = &prog.pub;
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&cinfo, TRUE);
    if ((rc = check_size(b->lim, cinfo.image_width, cinfo.image_height, err)) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return rc;
    }
    out->exif_orientation = 1;
    for (m = cinfo.marker_list; m != NULL; m = m->next)
        if (m->marker == JPEG_APP0 + 1)
            out->exif_orientation = exif_orientation(m->data, m->data_length);
    cinfo.scale_num = 1;
    cinfo.scale_denom = dct_scale(cinfo.image_width, cinfo.image_height, side);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);   /* a progressive file's scans are all read here */
    if (grid_init(&g, (int)cinfo.output_width, (int)cinfo.output_height, side) != 0 ||
        (row = malloc((size_t)cinfo.output_width * 3)) == NULL) {
        ads_errf(err, "decoding needs more than the memory limit (JPEG rows)");
        jpeg_destroy_decompress(&cinfo);
        grid_drop(&g);
        free(row);
        return IMGDEC_LIMIT;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = { row };
        int y = (int)cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, rows, 1);
        grid_row(&g, y, row, 3);
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
    return IMGDEC_OK;
}

/* ---- PNG ---- */

struct png_src {
    const unsigned char *data;
    size_t len, pos;
    unsigned long calls;
    const struct budget *b;
    int code;                  /* IMGDEC_LIMIT when a bound stopped the read */
    char msg[160];
};

/* Every byte libpng reads comes through here, chunks it skips included:
 * the place to stop a file made of a million chunks. */
static void png_read_mem(png_structp png, png_bytep dst, png_size_t n)
{
    struct png_src *s = png_get_io_ptr(png);

    if ((++s->calls & 255) == 0 && over_cpu(s->b, s->msg, sizeof s->msg)) {
        s->code = IMGDEC_LIMIT;
        png_error(png, s->msg);
    }
    if (n > s->len - s->pos)
        png_error(png, "truncated PNG");
    memcpy(dst, s->data + s->pos, n);
    s->pos += n;
}

static void png_fail(png_structp png, png_const_charp msg)
{
    struct png_src *s = png_get_error_ptr(png);

    if (s->code != IMGDEC_LIMIT) {
        /* libpng's own bounds: the user limits, chunk sizes, memory. */
        s->code = (strstr(msg, "limit") || strstr(msg, "memory") || strstr(msg, "too large"))
                      ? IMGDEC_LIMIT : IMGDEC_INVALID;
        snprintf(s->msg, sizeof s->msg, "%s%s", s->code == IMGDEC_LIMIT ? "PNG past a decoding limit: "
                                                                        : "not a decodable PNG: ", msg);
    }
    png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Interlaced: the last pass completes each row and earlier passes need the
 * row's previous state, so the whole image is held (the memory bound was
 * checked before). full and rows are the caller's, allocated before the
 * first read so that a longjmp out of libpng still finds them to free. */
static void png_rows_interlaced(png_structp png, struct png_src *src, png_uint_32 w, png_uint_32 h, int passes,
                                struct grid *g, unsigned char *full, png_bytep *rows)
{
    png_uint_32 y;
    int pass;

    for (y = 0; y < h; y++)
        rows[y] = full + (size_t)y * w * 4;
    for (pass = 0; pass < passes; pass++)
        for (y = 0; y < h; y++) {
            if (over_cpu(src->b, src->msg, sizeof src->msg)) {
                src->code = IMGDEC_LIMIT;
                png_error(png, src->msg);
            }
            png_read_row(png, rows[y], NULL);
        }
    for (y = 0; y < h; y++)
        grid_row(g, (int)y, rows[y], 4);
}

static int decode_png(const void *data, size_t len, const struct budget *b, int side,
                      struct image *out, char *err)
{
    struct png_src src = { data, len, 0, 0, b, 0, "" };
    png_structp png;
    png_infop info;
    struct grid g;
    unsigned char *volatile row = NULL;   /* these three are freed after a longjmp */
    unsigned char *volatile full = NULL;
    png_bytep *volatile rows = NULL;
    png_uint_32 w, h, y;
    int passes, ctype, rc;

    memset(&g, 0, sizeof g);
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_fail, png_quiet);
    info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        ads_errf(err, "decoding needs more than the memory limit (PNG)");
        return IMGDEC_LIMIT;
    }
    if (setjmp(png_jmpbuf(png))) {
        ads_errf(err, "%s", src.msg);
        png_destroy_read_struct(&png, &info, NULL);
        grid_drop(&g);
        free(row);
        free(full);
        free(rows);
        return src.code;
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);   /* check_size says which bound, below */
    /* Text, ICC profiles, palettes suggestions, EXIF and unknown chunks are
     * never decompressed nor kept (a zTXt or iCCP bomb costs a skip); only
     * IHDR, PLTE, tRNS, IDAT and IEND are read. */
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_set_chunk_cache_max(png, 16);
    png_set_chunk_malloc_max(png, 1u << 20);
    png_read_info(png, info);
    w = png_get_image_width(png, info);
    h = png_get_image_height(png, info);
    if ((rc = check_size(b->lim, w, h, err)) != 0) {
        png_destroy_read_struct(&png, &info, NULL);
        return rc;
    }
    if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE &&
        (rc = check_memory(b->lim, (unsigned long long)w * h * 4, "an interlaced PNG", err)) != 0) {
        png_destroy_read_struct(&png, &info, NULL);
        return rc;
    }
    ctype = png_get_color_type(png, info);
    out->has_alpha = (ctype & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (grid_init(&g, (int)w, (int)h, side) != 0 || (row = malloc((size_t)w * 4)) == NULL) {
        ads_errf(err, "decoding needs more than the memory limit (PNG rows)");
        png_destroy_read_struct(&png, &info, NULL);
        grid_drop(&g);
        free(row);
        return IMGDEC_LIMIT;
    }
    if (passes > 1) {
        full = malloc((size_t)w * h * 4);
        rows = malloc(sizeof *rows * h);
        if (full == NULL || rows == NULL) {
            ads_errf(err, "decoding needs more than the memory limit (interlaced PNG)");
            png_destroy_read_struct(&png, &info, NULL);
            grid_drop(&g);
            free(row);
            free(full);
            free(rows);
            return IMGDEC_LIMIT;
        }
        png_rows_interlaced(png, &src, w, h, passes, &g, full, rows);
    } else {
        for (y = 0; y < h; y++) {
            if (over_cpu(b, src.msg, sizeof src.msg)) {
                src.code = IMGDEC_LIMIT;
                png_error(png, src.msg);
            }
            png_read_row(png, row, NULL);
            grid_row(&g, (int)y, row, 4);
        }
    }
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(row);
    free(full);
    free(rows);
    out->width = (int)w;
    out->height = (int)h;
    out->gw = g.gw;
    out->gh = g.gh;
    out->exif_orientation = 1;
    out->format = "png";
    out->rgba = grid_finish(&g);
    return IMGDEC_OK;
}

/* ---- WebP ---- */

/* What libwebp will allocate: a lossless image is held whole (4 bytes a
 * pixel), a lossy one row by row, its alpha plane whole. */
static unsigned long long webp_need(const WebPBitstreamFeatures *f)
{
    unsigned long long px = (unsigned long long)f->width * f->height;

    return (f->format == 2 ? 4 * px : f->has_alpha ? px : 0) + 64ULL * f->width;
}

static int decode_webp(const void *data, size_t len, const struct budget *b, int side,
                       struct image *out, char *err)
{
    WebPDecoderConfig config;
    WebPIDecoder *idec;
    VP8StatusCode st = VP8_STATUS_NOT_ENOUGH_DATA;
    char msg[96];
    size_t off, n;
    int gw, gh, y, rc;

    if (!WebPInitDecoderConfig(&config) || WebPGetFeatures(data, len, &config.input) != VP8_STATUS_OK) {
        ads_errf(err, "not a decodable WebP");
        return IMGDEC_INVALID;
    }
    if (config.input.has_animation) {
        ads_errf(err, "animated WebP is not supported");
        return IMGDEC_INVALID;
    }
    if ((rc = check_size(b->lim, (unsigned long)config.input.width, (unsigned long)config.input.height, err)) != 0 ||
        (rc = check_memory(b->lim, webp_need(&config.input), "this WebP", err)) != 0)
        return rc;
    grid_dims(config.input.width, config.input.height, side, &gw, &gh);
    /* libwebp's rescaler averages the area of each grid cell while it decodes. */
    config.options.use_scaling = gw != config.input.width || gh != config.input.height;
    config.options.scaled_width = gw;
    config.options.scaled_height = gh;
    config.output.colorspace = MODE_RGBA;
    idec = WebPIDecode(NULL, 0, &config);
    if (idec == NULL) {
        ads_errf(err, "decoding needs more than the memory limit (WebP)");
        return IMGDEC_LIMIT;
    }
    /* Fed in pieces, so the CPU bound is checked while it decodes. */
    for (off = 0; off < len; off += n) {
        n = len - off < 65536 ? len - off : 65536;
        st = WebPIAppend(idec, (const uint8_t *)data + off, n);
        if (st != VP8_STATUS_SUSPENDED)
            break;
        if (over_cpu(b, msg, sizeof msg)) {
            WebPIDelete(idec);
            WebPFreeDecBuffer(&config.output);
            ads_errf(err, "%s", msg);
            return IMGDEC_LIMIT;
        }
    }
    WebPIDelete(idec);
    if (st != VP8_STATUS_OK) {
        WebPFreeDecBuffer(&config.output);
        if (st == VP8_STATUS_OUT_OF_MEMORY) {
            ads_errf(err, "decoding needs more than the memory limit (WebP)");
            return IMGDEC_LIMIT;
        }
        ads_errf(err, "not a decodable WebP (%s)", st == VP8_STATUS_SUSPENDED ? "truncated" : "corrupt");
        return IMGDEC_INVALID;
    }
    out->rgba = malloc((size_t)gw * gh * 4);
    if (out->rgba == NULL) {
        WebPFreeDecBuffer(&config.output);
        ads_errf(err, "decoding needs more than the memory limit (WebP)");
        return IMGDEC_LIMIT;
    }
    for (y = 0; y < gh; y++)
        memcpy(out->rgba + (size_t)y * gw * 4, config.output.u.RGBA.rgba + (size_t)y * config.output.u.RGBA.stride,
               (size_t)gw * 4);
    WebPFreeDecBuffer(&config.output);
    out->width = config.input.width;
    out->height = config.input.height;
    out->gw = gw;
    out->gh = gh;
    out->has_alpha = config.input.has_alpha;
    out->exif_orientation = 1;
    out->format = "webp";
    return IMGDEC_OK;
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

int imgdec_decode_limited(const void *data, size_t len, const struct imgdec_limits *lim, int grid_side,
                          struct image *out, char *err)
{
    const char *fmt = imgdec_sniff(data, len);
    struct budget b;
    int rc;

    memset(out, 0, sizeof *out);
    if (fmt == NULL) {
        ads_errf(err, "not a JPEG, PNG or WebP image");
        return IMGDEC_INVALID;
    }
    budget_start(&b, lim);
    if (strcmp(fmt, "jpeg") == 0)
        rc = decode_jpeg(data, len, &b, grid_side, out, err);
    else if (strcmp(fmt, "png") == 0)
        rc = decode_png(data, len, &b, grid_side, out, err);
    else
        rc = decode_webp(data, len, &b, grid_side, out, err);
    if (rc == IMGDEC_OK && out->rgba == NULL) {
        ads_errf(err, "decoding needs more than the memory limit");
        rc = IMGDEC_LIMIT;
    }
    if (rc == IMGDEC_OK && apply_orientation(out, err) != 0)
        rc = IMGDEC_LIMIT;
    if (rc != IMGDEC_OK)
        imgdec_free(out);
    return rc;
}

int imgdec_decode(const void *data, size_t len, long max_pixels, int grid_side,
                  struct image *out, char *err)
{
    struct imgdec_limits lim = { max_pixels, 0, 0 };

    return imgdec_decode_limited(data, len, &lim, grid_side, out, err);
}

void imgdec_free(struct image *img)
{
    free(img->rgba);
    img->rgba = NULL;
}

/* The grid is RGBA; JPEG wants RGB rows. */
int imgdec_encode_jpeg(const struct image *img, int quality, unsigned char **out, size_t *outlen, char *err)
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
    memset(&je, 0, sizeof je);
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

