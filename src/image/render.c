#include "render.h"
#include "buf.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>


struct ratio { const char *name; int w, h; };
static const struct ratio ratios[] = {
    { "1:1", 1024, 1024 }, { "16:9", 1280, 720 }, { "9:16", 720, 1280 },
    { "4:3", 1152, 864 }, { "3:4", 864, 1152 },
};

int render_size(const char *aspect_ratio, int *w, int *h)
{
    size_t i;

    for (i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
        if (strcmp(ratios[i].name, aspect_ratio) == 0) {
            *w = ratios[i].w;
            *h = ratios[i].h;
            return 0;
        }
    }
    return -1;
}

struct rgb { double r, g, b; };
struct palette { struct rgb bg1, bg2, c[4]; int outline; double shape_alpha; };

static struct rgb hex(uint32_t v)
{
    struct rgb c = { ((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0 };
    return c;
}

/* A palette from the caller's colours: the first two make the gradient,
 * the others (or the first two again) the shapes. */
static struct palette palette_of(const unsigned int *colors, int n)
{
    struct palette p;
    int i;

    memset(&p, 0, sizeof p);
    p.shape_alpha = 0.85;
    p.bg1 = hex(colors[0]);
    p.bg2 = hex(colors[n > 1 ? 1 : 0]);
    if (n == 1) {
        /* One colour: its gradient runs to a lighter tint of itself. */
        p.bg2.r += (1 - p.bg2.r) * 0.45;
        p.bg2.g += (1 - p.bg2.g) * 0.45;
        p.bg2.b += (1 - p.bg2.b) * 0.45;
    }
    for (i = 0; i < 4; i++)
        p.c[i] = hex(colors[n > 2 ? 2 + i % (n - 2) : i % n]);
    return p;
}

static struct palette palette_for(const char *style)
{
    struct palette p;

    memset(&p, 0, sizeof p);
    p.shape_alpha = 0.85;
    if (strcmp(style, "vivid") == 0) {
        p.bg1 = hex(0x1b0a3c); p.bg2 = hex(0x6a00f4);
        p.c[0] = hex(0xff006e); p.c[1] = hex(0xffbe0b); p.c[2] = hex(0x3a86ff); p.c[3] = hex(0x06d6a0);
    } else if (strcmp(style, "anime") == 0) {
        p.bg1 = hex(0xbde0fe); p.bg2 = hex(0xffc8dd);
        p.c[0] = hex(0xff8fab); p.c[1] = hex(0x8ecae6); p.c[2] = hex(0xffd166); p.c[3] = hex(0xcdb4db);
        p.outline = 1;
        p.shape_alpha = 1.0;
    } else if (strcmp(style, "photographic") == 0) {
        p.bg1 = hex(0x101418); p.bg2 = hex(0x4a5560);
        p.c[0] = hex(0xf1e3d3); p.c[1] = hex(0xc9ada7); p.c[2] = hex(0x9aa5b1); p.c[3] = hex(0xe0c097);
        p.shape_alpha = 0.35;
    } else {
        p.bg1 = hex(0xe9edc9); p.bg2 = hex(0xccd5ae);
        p.c[0] = hex(0x6b705c); p.c[1] = hex(0xa5a58d); p.c[2] = hex(0xcb997e); p.c[3] = hex(0xddbea9);
    }
    return p;
}

/* xorshift64* seeded from FNV-1a of the prompt: same prompt, same picture. */
static uint64_t seed_of(const char *s, const char *style)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    for (; *style != '\0'; style++)
        h = (h ^ (unsigned char)*style) * 1099511628211ULL;
    return h ? h : 1;
}

static double rnd(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return (double)((*st * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void set(cairo_t *cr, struct rgb c, double a)
{
    cairo_set_source_rgba(cr, c.r, c.g, c.b, a);
}

/* Soft glows: radial gradients fading to nothing, kept away from the
 * centre's middle so a product stands on a calm field. */
static void draw_glows(cairo_t *cr, const struct palette *p, int w, int h, uint64_t *st)
{
    int n = 3 + (int)(rnd(st) * 3), i;
    double unit = (w > h ? w : h);

    for (i = 0; i < n; i++) {
        double x = rnd(st) * w, y = rnd(st) * h, r = unit * (0.2 + rnd(st) * 0.35);
        struct rgb c = p->c[(int)(rnd(st) * 4) & 3];
        cairo_pattern_t *g = cairo_pattern_create_radial(x, y, 0, x, y, r);

        cairo_pattern_add_color_stop_rgba(g, 0, c.r, c.g, c.b, 0.55);
        cairo_pattern_add_color_stop_rgba(g, 1, c.r, c.g, c.b, 0);
        cairo_set_source(cr, g);
        cairo_paint(cr);
        cairo_pattern_destroy(g);
    }
}

static void draw_background(cairo_t *cr, const struct palette *p, int w, int h, uint64_t *st)
{
    double angle = rnd(st) * M_PI;
    cairo_pattern_t *g = cairo_pattern_create_linear(w / 2.0 - cos(angle) * w / 2, h / 2.0 - sin(angle) * h / 2,
                                                     w / 2.0 + cos(angle) * w / 2, h / 2.0 + sin(angle) * h / 2);

    cairo_pattern_add_color_stop_rgb(g, 0, p->bg1.r, p->bg1.g, p->bg1.b);
    cairo_pattern_add_color_stop_rgb(g, 1, p->bg2.r, p->bg2.g, p->bg2.b);
    cairo_set_source(cr, g);
    cairo_paint(cr);
    cairo_pattern_destroy(g);
}

static void draw_shapes(cairo_t *cr, const struct palette *p, int w, int h, uint64_t *st)
{
    int n = 5 + (int)(rnd(st) * 6), i;
    double unit = (w < h ? w : h);

    for (i = 0; i < n; i++) {
        double x = rnd(st) * w, y = rnd(st) * h * 0.75, r = unit * (0.06 + rnd(st) * 0.22);
        int kind = (int)(rnd(st) * 3);
        struct rgb c = p->c[(int)(rnd(st) * 4) & 3];

        cairo_new_path(cr);
        if (kind == 0) {
            cairo_arc(cr, x, y, r, 0, 2 * M_PI);
        } else if (kind == 1) {
            double a = rnd(st) * M_PI;
            cairo_save(cr);
            cairo_translate(cr, x, y);
            cairo_rotate(cr, a);
            cairo_rectangle(cr, -r, -r * 0.6, 2 * r, 1.2 * r);
            cairo_restore(cr);
        } else {
            cairo_move_to(cr, 0, y);
            cairo_curve_to(cr, w * 0.33, y - r, w * 0.66, y + r, w, y);
            cairo_line_to(cr, w, y + r * 0.5);
            cairo_curve_to(cr, w * 0.66, y + r * 1.5, w * 0.33, y + r * 0.1, 0, y + r * 0.5);
            cairo_close_path(cr);
        }
        set(cr, c, p->shape_alpha);
        if (p->outline) {
            cairo_fill_preserve(cr);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.15);
            cairo_set_line_width(cr, unit / 200.0);
            cairo_stroke(cr);
        } else {
            cairo_fill(cr);
        }
    }
}

/* Breaks text into lines that fit width; returns the line count, or -1 when
 * more than max_lines would be needed. lines[] point into a copy in out. */
static int wrap(cairo_t *cr, const char *text, double width, char *out, size_t outsz,
                const char **lines, int max_lines)
{
    char *p, *word, *save = NULL;
    int n = 0;
    struct buf line;

    buf_init(&line);
    snprintf(out, outsz, "%s", text);
    p = out;
    /* Lines are rebuilt into out's tail as NUL-separated strings. */
    {
        static char store[4096];
        size_t used = 0;
        for (word = strtok_r(p, " \t\n", &save); word != NULL; word = strtok_r(NULL, " \t\n", &save)) {
            size_t keep = line.len;
            cairo_text_extents_t ext;
            if (line.len > 0)
                buf_addc(&line, ' ');
            buf_adds(&line, word);
            cairo_text_extents(cr, line.data, &ext);
            if (ext.x_advance > width && keep > 0) {
                line.len = keep;
                line.data[keep] = '\0';
                if (n >= max_lines || used + keep + 1 > sizeof store) {
                    buf_free(&line);
                    return -1;
                }
                memcpy(store + used, line.data, keep + 1);
                lines[n++] = store + used;
                used += keep + 1;
                buf_reset(&line);
                buf_adds(&line, word);
            }
        }
        if (line.len > 0) {
            if (n >= max_lines || used + line.len + 1 > sizeof store) {
                buf_free(&line);
                return -1;
            }
            memcpy(store + used, line.data, line.len + 1);
            lines[n++] = store + used;
        }
    }
    buf_free(&line);
    return n;
}

static void draw_caption(cairo_t *cr, const char *prompt, int w, int h)
{
    const char *lines[8];
    char copy[4096];
    double size = (w < h ? w : h) / 18.0, pad = w * 0.06, band_top;
    int n = -1, i;
    cairo_font_extents_t fe;

    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    for (; size >= 10.0; size *= 0.9) {
        cairo_set_font_size(cr, size);
        n = wrap(cr, prompt, w - 2 * pad, copy, sizeof copy, lines, 4);
        if (n > 0) {
            cairo_text_extents_t ext;
            int fits = 1;
            for (i = 0; i < n; i++) {
                cairo_text_extents(cr, lines[i], &ext);
                if (ext.x_advance > w - 2 * pad)
                    fits = 0;
            }
            if (fits)
                break;
        }
    }
    if (n <= 0) {
        /* Too long even at the smallest size: keep the start, elided. */
        char cut[160];
        snprintf(cut, sizeof cut, "%.150s...", prompt);
        cairo_set_font_size(cr, 10.0);
        n = wrap(cr, cut, w - 2 * pad, copy, sizeof copy, lines, 8);
        if (n <= 0)
            return;
    }
    cairo_font_extents(cr, &fe);
    band_top = h - pad - n * fe.height - pad * 0.5;
    cairo_rectangle(cr, 0, band_top, w, h - band_top);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.55);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    for (i = 0; i < n; i++) {
        cairo_move_to(cr, pad, band_top + pad * 0.5 + fe.ascent + i * fe.height);
        cairo_show_text(cr, lines[i]);
    }
}

static void png_to_buf(png_structp png, png_bytep data, size_t len)
{
    struct buf *b = png_get_io_ptr(png);

    buf_add(b, data, len);
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

/* One row of a cairo surface as RGB or straight-alpha RGBA bytes. */
static void unpack_row(const uint32_t *src, unsigned char *dst, int w, int alpha)
{
    int x;

    for (x = 0; x < w; x++) {
        uint32_t p = src[x];
        unsigned a = alpha ? p >> 24 : 255, r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
        if (alpha && a != 255) {
            r = a ? (r * 255 + a / 2) / a : 0;
            g = a ? (g * 255 + a / 2) / a : 0;
            b = a ? (b * 255 + a / 2) / a : 0;
        }
        *dst++ = (unsigned char)(r > 255 ? 255 : r);
        *dst++ = (unsigned char)(g > 255 ? 255 : g);
        *dst++ = (unsigned char)(b > 255 ? 255 : b);
        if (alpha)
            *dst++ = (unsigned char)a;
    }
}

/* libpng directly rather than cairo's writer: a fast zlib level and one
 * filter keep the encode a fraction of the drawing's time. */
int render_encode_png(cairo_surface_t *s, unsigned char **out, size_t *len, char *err)
{
    png_structp png = NULL;
    png_infop info = NULL;
    struct buf b;
    unsigned char *volatile row = NULL;
    int w, h, stride, alpha, y;
    const unsigned char *data;

    cairo_surface_flush(s);
    w = cairo_image_surface_get_width(s);
    h = cairo_image_surface_get_height(s);
    stride = cairo_image_surface_get_stride(s);
    data = cairo_image_surface_get_data(s);
    alpha = cairo_image_surface_get_format(s) == CAIRO_FORMAT_ARGB32;
    if (data == NULL || (!alpha && cairo_image_surface_get_format(s) != CAIRO_FORMAT_RGB24)) {
        ads_errf(err, "PNG encoding: not an RGB image surface");
        return -1;
    }
    buf_init(&b);
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    info = png != NULL ? png_create_info_struct(png) : NULL;
    row = malloc((size_t)w * 4);
    if (png == NULL || info == NULL || row == NULL)
        goto fail;
    if (setjmp(png_jmpbuf(png)))
        goto fail;
    png_set_write_fn(png, &b, png_to_buf, png_flush_none);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, alpha ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 1);
    png_set_compression_strategy(png, Z_RLE);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    png_write_info(png, info);
    for (y = 0; y < h; y++) {
        unpack_row((const uint32_t *)(data + (size_t)y * stride), row, w, alpha);
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (b.oom) {
        buf_free(&b);
        ads_errf(err, "PNG encoding: out of memory");
        return -1;
    }
    *len = b.len;
    *out = (unsigned char *)buf_steal(&b);
    return 0;
fail:
    png_destroy_write_struct(&png, &info);
    free(row);
    buf_free(&b);
    ads_errf(err, "PNG encoding failed");
    return -1;
}

void render_rounded(cairo_t *cr, double x, double y, double w, double h, double r)
{
    r = r > h / 2 ? h / 2 : r;
    r = r > w / 2 ? w / 2 : r;
    cairo_new_sub_path(cr);
    cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
    cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
    cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
    cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
    cairo_close_path(cr);
}

void render_scene(cairo_t *cr, const char *prompt, const char *style, const unsigned int *colors, int ncolors,
                  int w, int h, int mode)
{
    struct palette p = ncolors > 0 && colors != NULL ? palette_of(colors, ncolors) : palette_for(style);
    uint64_t st = seed_of(prompt, style);

    draw_background(cr, &p, w, h, &st);
    if (mode == RENDER_SHAPES)
        draw_shapes(cr, &p, w, h, &st);
    else if (mode == RENDER_SOFT)
        draw_glows(cr, &p, w, h, &st);
}

unsigned int render_accent(const char *style, const unsigned int *colors, int ncolors)
{
    struct palette p = ncolors > 0 && colors != NULL ? palette_of(colors, ncolors) : palette_for(style);

    return (unsigned int)(p.c[0].r * 255 + 0.5) << 16 | (unsigned int)(p.c[0].g * 255 + 0.5) << 8
         | (unsigned int)(p.c[0].b * 255 + 0.5);
}

int render_png(const char *prompt, const char *style, const char *aspect_ratio,
               unsigned char **png, size_t *len, char *err)
{
    cairo_surface_t *s;
    cairo_t *cr;
    int w, h, rc;

    if (render_size(aspect_ratio, &w, &h) != 0) {
        ads_errf(err, "unknown aspect ratio");
        return -1;
    }
    s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cr = cairo_create(s);
    render_scene(cr, prompt, style, NULL, 0, w, h, RENDER_SHAPES);
    draw_caption(cr, prompt, w, h);
    cairo_destroy(cr);
    rc = render_encode_png(s, png, len, err);
    cairo_surface_destroy(s);
    return rc;
}
