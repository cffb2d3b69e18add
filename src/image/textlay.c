#include "textlay.h"
#include "creative.h"
#include "render.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pango/pangocairo.h>

#define MIN_CONTRAST 4.5

/* ThreadSanitizer builds only: fontconfig, Pango, GLib and HarfBuzz are not
 * instrumented, so the runtime cannot see the atomics they synchronise
 * with (Pango starts fontconfig on a thread of its own) and reports races
 * inside them. cairo's glyph cache takes a font's lock under its global
 * one only with a try-lock when it evicts, which the lock-order detector
 * still counts as an inversion. Every program linking the text layout
 * carries these suppressions; in other builds nothing calls this. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
    return "race:libfontconfig.so\nrace:libpango-1.0.so\nrace:libpangoft2-1.0.so\n"
           "race:libglib-2.0.so\nrace:libgobject-2.0.so\nrace:libharfbuzz.so\n"
           "deadlock:libcairo.so\n";
}

struct textlay {
    PangoContext *ctx;
    PangoLayout *head, *cta;
    int w, h, pos;                 /* pos: 0 bottom, 1 top, 2 centre */
    double mx;                     /* horizontal margin */
    double head_top, head_h;       /* union of ink and logical, layout coordinates */
    double head_w;                 /* the headline layout's width */
    PangoRectangle head_ink, head_log, cta_ink, cta_log;
    double pill_w, pill_h, gap;
    struct textlay_box band;
    unsigned int accent;
    struct textlay_report rep;
};

static int is_rtl_language(const char *lang)
{
    static const char *const rtl[] = { "ar", "he", "iw", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb" };
    size_t i, n;

    for (i = 0; i < sizeof rtl / sizeof rtl[0]; i++) {
        n = strlen(rtl[i]);
        if (strncmp(lang, rtl[i], n) == 0 && (lang[n] == '\0' || lang[n] == '-' || lang[n] == '_'))
            return 1;
    }
    return 0;
}

static double channel_lum(double c)
{
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double lum_rgb(double r, double g, double b)
{
    return 0.2126 * channel_lum(r) + 0.7152 * channel_lum(g) + 0.0722 * channel_lum(b);
}

static double lum_hex(unsigned int c)
{
    return lum_rgb(((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0, (c & 255) / 255.0);
}

static double ratio(double la, double lb)
{
    return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

double textlay_contrast(unsigned int a, unsigned int b)
{
    return ratio(lum_hex(a), lum_hex(b));
}

/* Valid UTF-8 of at most max characters (invalid bytes become U+FFFD, a
 * longer text ends in an ellipsis), so the layout's cost is bounded
 * whatever the caller passed. g_free the result. */
static char *bounded_text(const char *text, long max)
{
    char *v = g_utf8_make_valid(text, -1), *out;

    if (g_utf8_strlen(v, -1) <= max)
        return v;
    *g_utf8_offset_to_pointer(v, max - 1) = '\0';
    out = g_strconcat(v, "\xe2\x80\xa6", NULL);
    g_free(v);
    return out;
}

static PangoLayout *new_layout(PangoContext *ctx, const char *text, const char *face, double px, int width)
{
    PangoLayout *l = pango_layout_new(ctx);
    PangoFontDescription *fd = pango_font_description_from_string(face);

    pango_font_description_set_absolute_size(fd, px * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_text(l, text, -1);
    pango_layout_set_width(l, width * PANGO_SCALE);
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
    return l;
}

/* The extent of ink and logical boxes together: what must stay inside. */
static void union_box(const PangoRectangle *a, const PangoRectangle *b, PangoRectangle *u)
{
    int x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
    int x1 = a->x + a->width > b->x + b->width ? a->x + a->width : b->x + b->width;
    int y1 = a->y + a->height > b->y + b->height ? a->y + a->height : b->y + b->height;

    u->x = x0;
    u->y = y0;
    u->width = x1 - x0;
    u->height = y1 - y0;
}

/* Evens the lines out: the narrowest width that keeps the line count, so
 * a last line is not one orphaned word. */
static void balance(struct textlay *t, double maxw)
{
    int lines = pango_layout_get_line_count(t->head), i;
    double lo = maxw / 2, hi = maxw;

    for (i = 0; i < 7; i++) {
        double mid = (lo + hi) / 2;
        pango_layout_set_width(t->head, (int)mid * PANGO_SCALE);
        if (pango_layout_get_line_count(t->head) == lines)
            hi = mid;
        else
            lo = mid;
    }
    pango_layout_set_width(t->head, (int)hi * PANGO_SCALE);
    pango_layout_get_pixel_extents(t->head, &t->head_ink, &t->head_log);
    t->head_w = (int)hi;
}

/* Shrinks the headline until it fits width x maxh; at the smallest size it
 * is cut with an ellipsis to maxh instead. */
static void fit_headline(struct textlay *t, const char *text, double maxw, double maxh)
{
    double unit = t->w < t->h ? t->w : t->h;
    double px = unit * 0.085, minpx = unit * 0.022 > 12 ? unit * 0.022 : 12;
    PangoRectangle u;

    for (;;) {
        if (t->head != NULL)
            g_object_unref(t->head);
        t->head = new_layout(t->ctx, text, "Noto Sans Bold", px, (int)maxw);
        pango_layout_get_pixel_extents(t->head, &t->head_ink, &t->head_log);
        union_box(&t->head_ink, &t->head_log, &u);
        if (u.x >= 0 && u.x + u.width <= maxw && u.height <= maxh)
            break;
        if (px <= minpx) {
            pango_layout_set_height(t->head, (int)(maxh * 0.8) * PANGO_SCALE);
            pango_layout_set_ellipsize(t->head, PANGO_ELLIPSIZE_END);
            pango_layout_get_pixel_extents(t->head, &t->head_ink, &t->head_log);
            t->rep.ellipsized = 1;
            break;
        }
        px = px * 0.9 < minpx ? minpx : px * 0.9;
    }
    t->head_w = maxw;
    if (!t->rep.ellipsized && pango_layout_get_line_count(t->head) > 1)
        balance(t, maxw);
    union_box(&t->head_ink, &t->head_log, &u);
    t->head_top = u.y;
    t->head_h = u.height;
    t->rep.headline_px = px;
    t->rep.headline_lines = pango_layout_get_line_count(t->head);
}

static void fit_cta(struct textlay *t, const char *text, double maxw)
{
    double unit = t->w < t->h ? t->w : t->h;
    double px = t->rep.headline_px > 0 ? t->rep.headline_px * 0.5 : unit * 0.04;
    double lo = unit * 0.022 > 12 ? unit * 0.022 : 12, hi = unit * 0.045;
    double padx, pady;
    PangoRectangle u;

    px = px < lo ? lo : px > hi ? hi : px;
    padx = px * 1.2;
    pady = px * 0.55;
    t->cta = new_layout(t->ctx, text, "Noto Sans Bold", px, (int)(maxw - 2 * padx));
    /* One line: a pill does not wrap; too long a CTA is ellipsized. */
    pango_layout_set_ellipsize(t->cta, PANGO_ELLIPSIZE_END);
    pango_layout_set_height(t->cta, -1);
    pango_layout_get_pixel_extents(t->cta, &t->cta_ink, &t->cta_log);
    union_box(&t->cta_ink, &t->cta_log, &u);
    /* The layout is maxw wide and centred; the pill hugs the text. */
    t->pill_w = pango_layout_get_line_count(t->cta) > 0 ? u.width + 2 * padx : 0;
    t->pill_h = u.height + 2 * pady;
}

struct textlay *textlay_plan(cairo_t *cr, int w, int h, const struct creative_overlay *ov, const char *language,
                             unsigned int accent, char *err)
{
    struct textlay *t = calloc(1, sizeof *t);
    const char *lang = language != NULL && language[0] != '\0' ? language : "en";
    double unit = w < h ? w : h, maxw, my, bandh;

    if (t == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    t->w = w;
    t->h = h;
    t->accent = accent;
    t->ctx = pango_cairo_create_context(cr);
    if (t->ctx == NULL) {
        free(t);
        ads_errf(err, "no Pango context");
        return NULL;
    }
    pango_context_set_language(t->ctx, pango_language_from_string(lang));
    t->rep.rtl = is_rtl_language(lang);
    pango_context_set_base_dir(t->ctx, t->rep.rtl ? PANGO_DIRECTION_RTL : PANGO_DIRECTION_LTR);
    t->mx = w * 0.07;
    my = h * 0.05;
    maxw = w - 2 * t->mx;
    t->pos = 0;
    if (ov != NULL && ov->position != NULL && strcmp(ov->position, "top") == 0)
        t->pos = 1;
    else if (ov != NULL && ov->position != NULL && strcmp(ov->position, "center") == 0)
        t->pos = 2;
    if (ov != NULL && ov->headline != NULL && ov->headline[0] != '\0') {
        char *text = bounded_text(ov->headline, TEXTLAY_MAX_HEADLINE);
        fit_headline(t, text, maxw, h * (h > w ? 0.22 : 0.28));
        g_free(text);
    }
    if (ov != NULL && ov->cta != NULL && ov->cta[0] != '\0') {
        char *text = bounded_text(ov->cta, TEXTLAY_MAX_CTA);
        fit_cta(t, text, maxw);
        g_free(text);
    }
    t->gap = t->head != NULL && t->cta != NULL ? unit * 0.03 : 0;
    bandh = (t->head != NULL ? t->head_h : 0) + t->gap + (t->cta != NULL ? t->pill_h : 0);
    t->band.x = t->mx;
    t->band.w = maxw;
    t->band.h = bandh;
    t->band.y = t->pos == 1 ? my : t->pos == 2 ? (h - bandh) / 2 : h - my - bandh;
    return t;
}

struct textlay_box textlay_band(const struct textlay *t)
{
    return t->band;
}

int textlay_position(const struct textlay *t)
{
    return t->pos == 1 ? 1 : t->pos == 2 ? 2 : 0;
}

/* The worst contrast of text colour c against the pixels of box, each
 * first covered by a plate of colour pc at alpha pa. Pixels that are
 * mostly transparent count as unknown: they fail unless plated. */
static double worst_contrast(cairo_surface_t *s, struct textlay_box b, unsigned int c, unsigned int pc, double pa)
{
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s), sw = cairo_image_surface_get_width(s);
    int sh = cairo_image_surface_get_height(s), alpha = cairo_image_surface_get_format(s) == CAIRO_FORMAT_ARGB32;
    double lt = lum_hex(c), worst = 21, pr = ((pc >> 16) & 255) / 255.0, pg = ((pc >> 8) & 255) / 255.0, pb = (pc & 255) / 255.0;
    double dx, dy;
    int x0, y0, x1, y1, x, y, step;

    /* Image coordinates are the user space; the surface may be offset. */
    cairo_surface_get_device_offset(s, &dx, &dy);
    x0 = (int)(b.x + dx);
    y0 = (int)(b.y + dy);
    x1 = (int)ceil(b.x + b.w + dx);
    y1 = (int)ceil(b.y + b.h + dy);

    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > sw ? sw : x1;
    y1 = y1 > sh ? sh : y1;
    /* A grid of at most about 100 x 100 samples bounds the cost. */
    step = (x1 - x0) / 100 > (y1 - y0) / 100 ? (x1 - x0) / 100 : (y1 - y0) / 100;
    step = step < 1 ? 1 : step;
    for (y = y0; y < y1; y += step) {
        const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
        for (x = x0; x < x1; x += step) {
            uint32_t p = row[x];
            double a = alpha ? ((p >> 24) & 255) / 255.0 : 1.0, r, g, bl, cr;
            if (a < 0.5 && pa < 0.5)
                return 1.0;
            /* Un-premultiply, then blend on black where transparent. */
            r = a > 0 ? ((p >> 16) & 255) / 255.0 : 0;
            g = a > 0 ? ((p >> 8) & 255) / 255.0 : 0;
            bl = a > 0 ? (p & 255) / 255.0 : 0;
            r = r * (1 - pa) + pr * pa;
            g = g * (1 - pa) + pg * pa;
            bl = bl * (1 - pa) + pb * pa;
            cr = ratio(lt, lum_rgb(r, g, bl));
            if (cr < worst)
                worst = cr;
        }
    }
    return worst;
}

static void set_hex(cairo_t *cr, unsigned int c, double a)
{
    cairo_set_source_rgba(cr, ((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0, (c & 255) / 255.0, a);
}

static void draw_headline(struct textlay *t, cairo_t *cr)
{
    static const unsigned int light = 0xFFFFFF, dark = 0x111111;
    cairo_surface_t *s = cairo_get_target(cr);
    double ox = t->mx + (t->band.w - t->head_w) / 2, oy = t->band.y - t->head_top, px = t->rep.headline_px, cl, cd, a;
    struct textlay_box ink = { ox + t->head_ink.x, oy + t->head_ink.y, t->head_ink.width, t->head_ink.height };
    struct textlay_box plate;
    unsigned int text = light;

    cairo_surface_flush(s);
    cl = worst_contrast(s, ink, light, 0, 0);
    cd = worst_contrast(s, ink, dark, 0, 0);
    text = cl >= cd ? light : dark;
    t->rep.contrast = cl >= cd ? cl : cd;
    if (t->rep.contrast < MIN_CONTRAST) {
        /* A plate: dark under light text, light under dark, as faint as
         * the contrast allows. */
        double pad = px * 0.35;
        plate.x = ink.x - pad < 0 ? 0 : ink.x - pad;
        plate.y = ink.y - pad < 0 ? 0 : ink.y - pad;
        plate.w = (ink.x + ink.w + pad > t->w ? t->w : ink.x + ink.w + pad) - plate.x;
        plate.h = (ink.y + ink.h + pad > t->h ? t->h : ink.y + ink.h + pad) - plate.y;
        for (a = 0.3; a < 0.96; a += 0.05) {
            cl = worst_contrast(s, ink, light, 0x000000, a);
            cd = worst_contrast(s, ink, dark, 0xFFFFFF, a);
            if (cl >= MIN_CONTRAST || cd >= MIN_CONTRAST)
                break;
        }
        a = a > 0.95 ? 0.95 : a;
        text = cl >= cd ? light : dark;
        t->rep.contrast = cl >= cd ? cl : cd;
        render_rounded(cr, plate.x, plate.y, plate.w, plate.h, pad);
        set_hex(cr, text == light ? 0x000000 : 0xFFFFFF, a);
        cairo_fill(cr);
        t->rep.plate = 1;
    }
    t->rep.headline = ink;
    t->rep.unknown_glyphs += pango_layout_get_unknown_glyphs_count(t->head);
    set_hex(cr, text, 1.0);
    cairo_move_to(cr, ox, oy);
    pango_cairo_update_layout(cr, t->head);
    pango_cairo_show_layout(cr, t->head);
    if (pango_layout_get_line_count(t->head) > 0)
        t->rep.rtl = pango_layout_get_line_readonly(t->head, 0)->resolved_dir == PANGO_DIRECTION_RTL;
}

static void draw_cta(struct textlay *t, cairo_t *cr)
{
    double top = t->band.y + (t->head != NULL ? t->head_h + t->gap : 0);
    double px = t->w / 2.0 - t->pill_w / 2, padx;
    PangoRectangle u;
    unsigned int text;

    if (t->pill_w <= 0)
        return;
    union_box(&t->cta_ink, &t->cta_log, &u);
    padx = (t->pill_w - u.width) / 2;
    render_rounded(cr, px, top, t->pill_w, t->pill_h, t->pill_h / 2);
    set_hex(cr, t->accent, 1.0);
    cairo_fill(cr);
    /* Black or white on any colour reaches at least 4.58. */
    text = textlay_contrast(t->accent, 0xFFFFFF) >= textlay_contrast(t->accent, 0x111111) ? 0xFFFFFF : 0x111111;
    set_hex(cr, text, 1.0);
    cairo_move_to(cr, px + padx - u.x, top + (t->pill_h - u.height) / 2 - u.y);
    pango_cairo_update_layout(cr, t->cta);
    pango_cairo_show_layout(cr, t->cta);
    t->rep.unknown_glyphs += pango_layout_get_unknown_glyphs_count(t->cta);
    t->rep.cta.x = px;
    t->rep.cta.y = top;
    t->rep.cta.w = t->pill_w;
    t->rep.cta.h = t->pill_h;
}

void textlay_draw(struct textlay *t, cairo_t *cr, struct textlay_report *rep)
{
    if (t->head != NULL)
        draw_headline(t, cr);
    if (t->cta != NULL)
        draw_cta(t, cr);
    if (rep != NULL)
        *rep = t->rep;
}

void textlay_free(struct textlay *t)
{
    if (t == NULL)
        return;
    if (t->head != NULL)
        g_object_unref(t->head);
    if (t->cta != NULL)
        g_object_unref(t->cta);
    if (t->ctx != NULL)
        g_object_unref(t->ctx);
    free(t);
}
