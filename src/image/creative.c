#include "creative.h"
#include "cutout.h"
#include "render.h"
#include "textlay.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>

#define MAX_SIDE 4096

struct named { const char *name; int w, h; };
static const struct named sizes[] = {
    { "instagram_square", 1080, 1080 }, { "instagram_portrait", 1080, 1350 }, { "story", 1080, 1920 },
    { "facebook_link", 1200, 628 }, { "youtube_thumbnail", 1280, 720 }, { "pinterest", 1000, 1500 },
    { "linkedin", 1200, 627 },
};

int creative_size(const char *name, int *w, int *h)
{
    size_t i;

    if (name == NULL)
        return -1;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (strcmp(sizes[i].name, name) == 0) {
            *w = sizes[i].w;
            *h = sizes[i].h;
            return 0;
        }
    }
    return render_size(name, w, h);
}

enum task { T_TEXT, T_REPLACE, T_REMOVE, T_VARIATION, T_COLOR };

static int task_of(const char *s)
{
    static const char *const names[] = { "text_image", "background_replace", "background_remove", "variation",
                                         "color_guided" };
    int i;

    for (i = 0; s != NULL && i < 5; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int check_spec(const struct creative_spec *spec, char *err)
{
    if (spec == NULL || task_of(spec->task) < 0) {
        ads_errf(err, "unknown creative task");
        return -1;
    }
    if (spec->width < 16 || spec->height < 16 || spec->width > MAX_SIDE || spec->height > MAX_SIDE) {
        ads_errf(err, "creative size must be 16..%d pixels a side", MAX_SIDE);
        return -1;
    }
    if (spec->ncolors < 0 || spec->ncolors > 10 || (spec->ncolors > 0 && spec->colors == NULL)) {
        ads_errf(err, "a palette holds 0..10 colours");
        return -1;
    }
    return 0;
}

static int check_image(const unsigned char *px, int w, int h, const char *what, char *err)
{
    if (px == NULL || w < 1 || h < 1 || w > 16384 || h > 16384 || (size_t)w * h > 64u * 1024 * 1024) {
        ads_errf(err, "%s missing or of a bad size", what);
        return -1;
    }
    return 0;
}

/* Area-average downscale of RGBA to exactly dw x dh (dw <= w, dh <= h):
 * every source pixel is read once. Caller frees. */
static unsigned char *downscale(const unsigned char *src, int w, int h, int dw, int dh)
{
    unsigned char *out = malloc((size_t)dw * dh * 4);
    uint32_t *acc = calloc((size_t)dw * 5, sizeof *acc);
    int *col = malloc((size_t)w * sizeof *col);
    int x, y, oy = 0, c;

    if (out == NULL || acc == NULL || col == NULL) {
        free(out);
        free(acc);
        free(col);
        return NULL;
    }
    for (x = 0; x < w; x++)
        col[x] = (int)((int64_t)x * dw / w) * 5;
    for (y = 0; y < h; y++) {
        const unsigned char *p = src + (size_t)y * w * 4;
        int ny = (int)((int64_t)(y + 1) * dh / h);
        for (x = 0; x < w; x++, p += 4) {
            uint32_t *a = acc + col[x];
            a[0] += p[0];
            a[1] += p[1];
            a[2] += p[2];
            a[3] += p[3];
            a[4]++;
        }
        if (ny > oy || y == h - 1) {
            for (x = 0; x < dw; x++) {
                uint32_t *a = acc + (size_t)x * 5;
                for (c = 0; c < 4; c++)
                    out[((size_t)oy * dw + x) * 4 + c] = (unsigned char)(a[4] ? (a[c] + a[4] / 2) / a[4] : 0);
            }
            memset(acc, 0, (size_t)dw * 5 * sizeof *acc);
            oy = ny < dh ? ny : dh - 1;
        }
    }
    free(acc);
    free(col);
    return out;
}

/* A premultiplied ARGB32 surface from RGBA, the alpha multiplied by mask
 * (w*h bytes) when given, restricted to the box x0,y0,bw,bh. */
static cairo_surface_t *to_surface(const unsigned char *rgba, const unsigned char *mask, int w, int x0, int y0,
                                   int bw, int bh)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, bw, bh);
    unsigned char *data;
    int stride, x, y;

    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        return s;
    data = cairo_image_surface_get_data(s);
    stride = cairo_image_surface_get_stride(s);
    for (y = 0; y < bh; y++) {
        uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
        for (x = 0; x < bw; x++) {
            size_t i = (size_t)(y + y0) * w + (x + x0);
            const unsigned char *p = rgba + i * 4;
            unsigned a = p[3];
            if (mask != NULL)
                a = (a * mask[i] + 127) / 255;
            row[x] = (uint32_t)a << 24 | (uint32_t)((p[0] * a + 127) / 255) << 16
                   | (uint32_t)((p[1] * a + 127) / 255) << 8 | (uint32_t)((p[2] * a + 127) / 255);
        }
    }
    cairo_surface_mark_dirty(s);
    return s;
}

/* 1 when the photo carries its own transparency (a cut-out already). */
static int has_alpha(const unsigned char *rgba, int w, int h)
{
    size_t i, n = (size_t)w * h, clear = 0;

    for (i = 0; i < n; i += 7)
        clear += rgba[i * 4 + 3] < 128;
    return clear * 7 > n / 20;
}

/* The product ready to place: its pixels with alpha, cropped to what is
 * visible, and whether the cut-out worked. */
struct product {
    cairo_surface_t *s;
    int w, h;
    int cut;                      /* 0: the photo as a rounded rectangle */
    unsigned int mean;            /* mean colour of the product, 0xRRGGBB */
    char why[ADS_ERRSZ];          /* why the cut-out was refused */
};

static void product_free(struct product *p)
{
    if (p->s != NULL)
        cairo_surface_destroy(p->s);
    p->s = NULL;
}

/* Downscales the photo to about what the box needs, cuts the product out
 * (or keeps the whole photo when that fails) and crops to its extent. */
static int product_make(const unsigned char *photo, int pw, int ph, double boxw, double boxh, struct product *pr,
                        char *err)
{
    /* A little above the box's scale: the crop to the product then
     * enlarges it less; more would cost time for little. */
    double fit = fmin(boxw / pw, boxh / ph) * 1.25;
    int ww = fit < 1 ? (int)(pw * fit + 0.5) : pw, wh = fit < 1 ? (int)(ph * fit + 0.5) : ph;
    unsigned char *work = NULL, *mask = NULL;
    const unsigned char *px = photo;
    int x0 = ww, y0 = wh, x1 = -1, y1 = -1, x, y, rc = -1, unit;
    uint64_t sum[3] = { 0, 0, 0 }, cnt = 0;

    memset(pr, 0, sizeof *pr);
    ww = ww < 8 ? 8 : ww;
    wh = wh < 8 ? 8 : wh;
    if (ww < pw && wh < ph) {
        work = downscale(photo, pw, ph, ww, wh);
        if (work == NULL)
            goto oom;
        px = work;
    } else {
        ww = pw;
        wh = ph;
    }
    mask = malloc((size_t)ww * wh);
    if (mask == NULL)
        goto oom;
    unit = ww < wh ? ww : wh;
    if (has_alpha(px, ww, wh)) {
        for (size_t i = 0; i < (size_t)ww * wh; i++)
            mask[i] = 255;
        pr->cut = 1;
    } else if (ww >= 16 && wh >= 16) {
        int f = unit / 400 + 1, r = cutout_mask(px, ww, wh, f > 4 ? 4 : f, mask, NULL, pr->why);
        if (r == CUTOUT_ERROR)
            goto fail;
        pr->cut = r == CUTOUT_OK;
    }
    if (!pr->cut) {
        for (size_t i = 0; i < (size_t)ww * wh; i++)
            mask[i] = 255;
    }
    for (y = 0; y < wh; y++) {
        for (x = 0; x < ww; x++) {
            size_t i = (size_t)y * ww + x;
            if ((mask[i] * px[i * 4 + 3]) / 255 < 16)
                continue;
            x0 = x < x0 ? x : x0;
            x1 = x > x1 ? x : x1;
            y0 = y < y0 ? y : y0;
            y1 = y > y1 ? y : y1;
            if (((x ^ y) & 3) == 0) {
                sum[0] += px[i * 4];
                sum[1] += px[i * 4 + 1];
                sum[2] += px[i * 4 + 2];
                cnt++;
            }
        }
    }
    if (x1 < x0) {
        x0 = y0 = 0;
        x1 = ww - 1;
        y1 = wh - 1;
    }
    if (cnt > 0)
        pr->mean = (unsigned)(sum[0] / cnt) << 16 | (unsigned)(sum[1] / cnt) << 8 | (unsigned)(sum[2] / cnt);
    pr->w = x1 - x0 + 1;
    pr->h = y1 - y0 + 1;
    pr->s = to_surface(px, mask, ww, x0, y0, pr->w, pr->h);
    if (cairo_surface_status(pr->s) != CAIRO_STATUS_SUCCESS)
        goto oom;
    rc = 0;
    goto out;
oom:
    ads_errf(err, "out of memory");
fail:
    if (err != NULL && pr->why[0] != '\0')
        ads_errf(err, "%s", pr->why);
    product_free(pr);
out:
    free(work);
    free(mask);
    return rc;
}

/* A soft shadow: the product's alpha, blurred, darkened, offset down.
 * It is blurred at half size and scaled up: a shadow has no detail. */
static void draw_shadow(cairo_t *cr, const struct product *pr, double x, double y, double scale)
{
    double hs = scale / 2;
    int dw = (int)ceil(pr->w * hs), dh = (int)ceil(pr->h * hs);
    int blur = (int)((dw < dh ? dw : dh) * 0.025) + 1, pad = 2 * blur + 2;
    int sw = dw + 2 * pad, sh = dh + 2 * pad;
    cairo_surface_t *a = cairo_image_surface_create(CAIRO_FORMAT_A8, sw, sh);
    unsigned char *tmp = malloc((size_t)sw * sh);
    cairo_t *c;

    if (cairo_surface_status(a) != CAIRO_STATUS_SUCCESS || tmp == NULL) {
        /* No shadow rather than no creative. */
        cairo_surface_destroy(a);
        free(tmp);
        return;
    }
    c = cairo_create(a);
    cairo_translate(c, pad, pad);
    cairo_scale(c, hs, hs);
    cairo_set_source_surface(c, pr->s, 0, 0);
    cairo_paint(c);
    cairo_destroy(c);
    cairo_surface_flush(a);
    cutout_blur(cairo_image_surface_get_data(a), sw, sh, cairo_image_surface_get_stride(a), blur, tmp);
    cutout_blur(cairo_image_surface_get_data(a), sw, sh, cairo_image_surface_get_stride(a), blur, tmp);
    cairo_surface_mark_dirty(a);
    free(tmp);
    cairo_save(cr);
    cairo_translate(cr, x + (blur * 0.6 - pad) * 2, y + (blur * 1.4 - pad) * 2);
    cairo_scale(cr, 2, 2);
    cairo_set_source_rgba(cr, 0.05, 0.05, 0.1, 0.38);
    cairo_mask_surface(cr, a, 0, 0);
    cairo_restore(cr);
    cairo_surface_destroy(a);
}

static void draw_product(cairo_t *cr, const struct product *pr, double x, double y, double scale, int tint,
                         unsigned int tint_colour)
{
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, scale, scale);
    if (!pr->cut) {
        double r = (pr->w < pr->h ? pr->w : pr->h) * 0.06;
        render_rounded(cr, 0, 0, pr->w, pr->h, r);
        cairo_clip(cr);
    }
    cairo_set_source_surface(cr, pr->s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    if (tint) {
        /* color_guided: a light wash of the palette over the product's own
         * pixels, its shading kept (soft light, masked by its alpha). */
        cairo_set_operator(cr, CAIRO_OPERATOR_SOFT_LIGHT);
        cairo_set_source_rgba(cr, ((tint_colour >> 16) & 255) / 255.0, ((tint_colour >> 8) & 255) / 255.0,
                              (tint_colour & 255) / 255.0, 0.25);
        cairo_mask_surface(cr, pr->s, 0, 0);
    }
    cairo_restore(cr);
}

/* An analogous palette from one colour (the product's): the colour's hue
 * turned by 150 and 210 degrees, light and deep, for a variation. */
static void palette_from(unsigned int c, unsigned int out[4])
{
    double r = ((c >> 16) & 255) / 255.0, g = ((c >> 8) & 255) / 255.0, b = (c & 255) / 255.0;
    double mx = fmax(r, fmax(g, b)), mn = fmin(r, fmin(g, b)), hue = 0, d = mx - mn;
    static const double turn[4] = { 150, 210, 180, 30 }, light[4] = { 0.88, 0.72, 0.45, 0.6 };
    int i;

    if (d > 1e-6)
        hue = mx == r ? fmod((g - b) / d, 6) : mx == g ? (b - r) / d + 2 : (r - g) / d + 4;
    hue *= 60;
    for (i = 0; i < 4; i++) {
        double h = fmod(hue + turn[i] + 360, 360) / 60, s = 0.45, l = light[i];
        double C = (1 - fabs(2 * l - 1)) * s, X = C * (1 - fabs(fmod(h, 2) - 1)), m = l - C / 2, rr, gg, bb;
        int k = (int)h;
        rr = k == 0 || k == 5 ? C : k == 1 || k == 4 ? X : 0;
        gg = k == 1 || k == 2 ? C : k == 0 || k == 3 ? X : 0;
        bb = k == 3 || k == 4 ? C : k == 2 || k == 5 ? X : 0;
        out[i] = (unsigned)((rr + m) * 255 + 0.5) << 16 | (unsigned)((gg + m) * 255 + 0.5) << 8
               | (unsigned)((bb + m) * 255 + 0.5);
    }
}

/* The soft backdrop, drawn at a quarter of the size and scaled up
 * smoothly: it has no detail to lose and radial gradients are costly. */
static void draw_backdrop(cairo_t *cr, const char *prompt, const char *style, const unsigned int *colors, int n,
                          int w, int h)
{
    int sw = w / 4 + 1, sh = h / 4 + 1;
    cairo_surface_t *small = cairo_image_surface_create(CAIRO_FORMAT_RGB24, sw, sh);
    cairo_t *c = cairo_create(small);

    render_scene(c, prompt, style, colors, n, sw, sh, RENDER_SOFT);
    cairo_destroy(c);
    cairo_save(cr);
    cairo_scale(cr, (double)w / sw, (double)h / sh);
    cairo_set_source_surface(cr, small, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(small);
}

static const char *or_default(const char *s, const char *d)
{
    return s != NULL && s[0] != '\0' ? s : d;
}

static int finish_png(cairo_surface_t *s, cairo_t *cr, struct textlay *tl, unsigned char **png, size_t *len,
                      char *err)
{
    int rc;

    if (tl != NULL)
        textlay_draw(tl, cr, NULL);
    textlay_free(tl);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        ads_errf(err, "drawing failed: %s", cairo_status_to_string(cairo_status(cr)));
        cairo_destroy(cr);
        cairo_surface_destroy(s);
        return -1;
    }
    cairo_destroy(cr);
    rc = render_encode_png(s, png, len, err);
    cairo_surface_destroy(s);
    return rc;
}

int creative_compose(const struct creative_spec *spec, const unsigned char *photo, int pw, int ph,
                     unsigned char **png, size_t *len, char *err)
{
    const char *prompt, *style;
    cairo_surface_t *s;
    cairo_t *cr;
    struct textlay *tl = NULL;
    struct textlay_box band = { 0, 0, 0, 0 };
    struct product pr;
    unsigned int accent, pal[4];
    double w, h, mx, my, bx, by, bw, bh, scale;
    int task;

    if (check_spec(spec, err) != 0)
        return -1;
    task = task_of(spec->task);
    if (task != T_TEXT && check_image(photo, pw, ph, "product photo", err) != 0)
        return -1;
    prompt = or_default(spec->prompt, "");
    style = or_default(spec->style, "natural");
    w = spec->width;
    h = spec->height;
    s = cairo_image_surface_create(task == T_REMOVE ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, spec->width,
                                   spec->height);
    cr = cairo_create(s);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(cr);
        cairo_surface_destroy(s);
        ads_errf(err, "out of memory");
        return -1;
    }
    accent = render_accent(style, spec->colors, spec->ncolors);
    if (spec->overlay != NULL) {
        tl = textlay_plan(cr, spec->width, spec->height, spec->overlay, spec->language, accent, err);
        if (tl == NULL) {
            cairo_destroy(cr);
            cairo_surface_destroy(s);
            return -1;
        }
        band = textlay_band(tl);
    }
    if (task == T_TEXT) {
        render_scene(cr, prompt, style, spec->colors, spec->ncolors, spec->width, spec->height, RENDER_SHAPES);
        return finish_png(s, cr, tl, png, len, err);
    }
    /* The safe area, less the text's band unless the text sits centred
     * over the product. */
    mx = w * 0.08;
    my = h * 0.07;
    bx = mx;
    by = my;
    bw = w - 2 * mx;
    bh = h - 2 * my;
    if (band.h > 0 && textlay_position(tl) != 2) {
        double gap = fmin(w, h) * 0.03;
        if (textlay_position(tl) == 1) {
            by = band.y + band.h + gap;
            bh = h - my - by;
        } else {
            bh = band.y - gap - by;
        }
        if (bh < h * 0.3) {
            /* Too little room: the product takes a fair share anyway and
             * the text's contrast check decides about a plate. */
            bh = h * 0.3;
        }
    }
    if (product_make(photo, pw, ph, bw, bh, &pr, err) != 0) {
        textlay_free(tl);
        cairo_destroy(cr);
        cairo_surface_destroy(s);
        return -1;
    }
    if (task == T_VARIATION) {
        palette_from(pr.mean, pal);
        draw_backdrop(cr, prompt, "variation", pal, 4, spec->width, spec->height);
    } else if (task == T_REPLACE || task == T_COLOR) {
        draw_backdrop(cr, prompt, style, spec->colors, spec->ncolors, spec->width, spec->height);
    }
    scale = fmin(bw / pr.w, bh / pr.h);
    bx += (bw - pr.w * scale) / 2;
    by += (bh - pr.h * scale) / 2;
    if (task != T_REMOVE)
        draw_shadow(cr, &pr, bx, by, scale);
    draw_product(cr, &pr, bx, by, scale, task == T_COLOR, spec->ncolors > 0 ? spec->colors[0] : accent);
    product_free(&pr);
    return finish_png(s, cr, tl, png, len, err);
}

int creative_finish(const struct creative_spec *spec, const unsigned char *rgba, int iw, int ih, int keep_alpha,
                    unsigned char **png, size_t *len, char *err)
{
    cairo_surface_t *s, *img;
    cairo_t *cr;
    struct textlay *tl = NULL;
    double w, h, k, scale;

    if (check_spec(spec, err) != 0 || check_image(rgba, iw, ih, "model image", err) != 0)
        return -1;
    w = spec->width;
    h = spec->height;
    s = cairo_image_surface_create(keep_alpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, spec->width, spec->height);
    cr = cairo_create(s);
    img = to_surface(rgba, NULL, iw, 0, 0, iw, ih);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS || cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        cairo_destroy(cr);
        cairo_surface_destroy(s);
        ads_errf(err, "out of memory");
        return -1;
    }
    k = ((double)iw / ih) / (w / h);
    if (k < 1)
        k = 1 / k;
    if (k <= 1.2) {
        /* Close aspect: cover, losing a little at two edges. */
        scale = fmax(w / iw, h / ih);
    } else {
        /* Far aspect: fit whole, over the image itself blown up to cover
         * and blurred (drawn tiny, then scaled up smoothly). */
        scale = fmin(w / iw, h / ih);
        if (!keep_alpha) {
            int sw = spec->width / 24 + 1, sh = spec->height / 24 + 1;
            cairo_surface_t *small = cairo_image_surface_create(CAIRO_FORMAT_RGB24, sw, sh);
            cairo_t *c = cairo_create(small);
            double cs = fmax((double)sw / iw, (double)sh / ih);
            cairo_translate(c, (sw - iw * cs) / 2, (sh - ih * cs) / 2);
            cairo_scale(c, cs, cs);
            cairo_set_source_surface(c, img, 0, 0);
            cairo_paint(c);
            cairo_destroy(c);
            cairo_save(cr);
            cairo_scale(cr, w / sw, h / sh);
            cairo_set_source_surface(cr, small, 0, 0);
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
            cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
            cairo_paint(cr);
            cairo_restore(cr);
            cairo_set_source_rgba(cr, 0, 0, 0, 0.18);
            cairo_paint(cr);
            cairo_surface_destroy(small);
        }
    }
    cairo_save(cr);
    cairo_translate(cr, (w - iw * scale) / 2, (h - ih * scale) / 2);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    if (spec->overlay != NULL) {
        tl = textlay_plan(cr, spec->width, spec->height, spec->overlay, spec->language,
                          render_accent(or_default(spec->style, "natural"), spec->colors, spec->ncolors), err);
        if (tl == NULL) {
            cairo_destroy(cr);
            cairo_surface_destroy(s);
            return -1;
        }
    }
    return finish_png(s, cr, tl, png, len, err);
}

void creative_warmup(void)
{
    static const struct creative_overlay ov = { "Noto Ünïcode Ελληνικά Кириллица 日本語 中文 한국어 العربية हिन्दी",
                                                "Go", "bottom" };
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 64, 64);
    cairo_t *cr = cairo_create(s);
    struct textlay *tl = textlay_plan(cr, 64, 64, &ov, "en", 0x336699, NULL);

    if (tl != NULL)
        textlay_draw(tl, cr, NULL);
    textlay_free(tl);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
}
