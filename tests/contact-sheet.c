/*
 * The built-in creatives on one sheet, for a person to look at: every task
 * at every named size from a synthetic studio shot, the sample photo (no
 * studio shot: the rounded-crop fallback), overlays in eight scripts, and
 * creative_finish on a wide model image. Each creative is checked for its
 * exact size; the program fails when one is not made.
 * Usage: contact-sheet OUT.png [DATADIR] [tile_side]  (tile_side: a tile's side, 140;
 * docs/contact-sheet.png is made at 112 to stay small)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <png.h>
#include <pango/pangocairo.h>

#include "creative.h"
#include "shots.h"
#include "util.h"

static int tile_side = 140;    /* a tile's longer side, pixels */
#define GAP 10
#define LABEL 30

static const char *const names[] = { "instagram_square", "instagram_portrait", "story", "facebook_link",
                                     "youtube_thumbnail", "pinterest", "linkedin" };
static const char *const tasks[] = { "text_image", "background_replace", "background_remove", "variation",
                                     "color_guided" };

/* A product drawn with cairo on a graded studio sweep: a bottle with a
 * cap and a label, shaded, with a little sensor noise. RGBA, caller frees. */
static unsigned char *studio_bottle(int w, int h)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(s);
    cairo_pattern_t *g = cairo_pattern_create_linear(0, 0, 0, h);
    unsigned char *out = malloc((size_t)w * h * 4), *data;
    uint32_t seed = 99;
    int x, y, stride;

    cairo_pattern_add_color_stop_rgb(g, 0, 0.97, 0.96, 0.95);
    cairo_pattern_add_color_stop_rgb(g, 1, 0.84, 0.84, 0.86);
    cairo_set_source(cr, g);
    cairo_paint(cr);
    cairo_pattern_destroy(g);
    /* Body with a side light. */
    g = cairo_pattern_create_linear(w * 0.38, 0, w * 0.62, 0);
    cairo_pattern_add_color_stop_rgb(g, 0, 0.55, 0.06, 0.12);
    cairo_pattern_add_color_stop_rgb(g, 0.35, 0.86, 0.2, 0.25);
    cairo_pattern_add_color_stop_rgb(g, 1, 0.45, 0.04, 0.1);
    cairo_new_path(cr);
    cairo_move_to(cr, w * 0.46, h * 0.18);
    cairo_line_to(cr, w * 0.54, h * 0.18);
    cairo_curve_to(cr, w * 0.54, h * 0.3, w * 0.62, h * 0.3, w * 0.62, h * 0.4);
    cairo_line_to(cr, w * 0.62, h * 0.86);
    cairo_curve_to(cr, w * 0.62, h * 0.9, w * 0.6, h * 0.9, w * 0.58, h * 0.9);
    cairo_line_to(cr, w * 0.42, h * 0.9);
    cairo_curve_to(cr, w * 0.4, h * 0.9, w * 0.38, h * 0.9, w * 0.38, h * 0.86);
    cairo_line_to(cr, w * 0.38, h * 0.4);
    cairo_curve_to(cr, w * 0.38, h * 0.3, w * 0.46, h * 0.3, w * 0.46, h * 0.18);
    cairo_close_path(cr);
    cairo_set_source(cr, g);
    cairo_fill(cr);
    cairo_pattern_destroy(g);
    cairo_rectangle(cr, w * 0.455, h * 0.1, w * 0.09, h * 0.09);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.18);
    cairo_fill(cr);
    cairo_rectangle(cr, w * 0.38, h * 0.52, w * 0.24, h * 0.2);
    cairo_set_source_rgb(cr, 0.98, 0.93, 0.8);
    cairo_fill(cr);
    cairo_rectangle(cr, w * 0.4, h * 0.6, w * 0.2, h * 0.02);
    cairo_set_source_rgb(cr, 0.55, 0.06, 0.12);
    cairo_fill(cr);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    data = cairo_image_surface_get_data(s);
    stride = cairo_image_surface_get_stride(s);
    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            uint32_t p = ((const uint32_t *)(data + (size_t)y * stride))[x];
            unsigned char *o = out + ((size_t)y * w + x) * 4;
            int c, n = (int)(shot_rand(&seed) % 3) - 1;
            for (c = 0; c < 3; c++) {
                int v = (int)((p >> (16 - 8 * c)) & 255) + n;
                o[c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
            o[3] = 255;
        }
    }
    cairo_surface_destroy(s);
    return out;
}

static unsigned char *read_png(const char *path, int *w, int *h)
{
    png_image im;
    unsigned char *px;

    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path))
        return NULL;
    im.format = PNG_FORMAT_RGBA;
    px = malloc(PNG_IMAGE_SIZE(im));
    if (px == NULL || !png_image_finish_read(&im, NULL, px, 0, NULL)) {
        free(px);
        return NULL;
    }
    *w = (int)im.width;
    *h = (int)im.height;
    return px;
}

struct sheet {
    cairo_t *cr;
    int col, row, cols, failed;
};

static cairo_status_t from_mem(void *closure, unsigned char *data, unsigned int len)
{
    struct { const unsigned char *p; size_t left; } *m = closure;

    if (len > m->left)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, m->p, len);
    m->p += len;
    m->left -= len;
    return CAIRO_STATUS_SUCCESS;
}

static void label(cairo_t *cr, const char *text, double x, double y)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string("Noto Sans 7");

    pango_layout_set_font_description(l, fd);
    pango_layout_set_text(l, text, -1);
    pango_layout_set_width(l, tile_side * PANGO_SCALE);
    pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.25);
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, l);
    pango_font_description_free(fd);
    g_object_unref(l);
}

/* Places one PNG as a tile, scaled to fit, on a checkerboard (so alpha shows). */
static void tile(struct sheet *sh, const unsigned char *png, size_t len, int ew, int eh, const char *text)
{
    struct { const unsigned char *p; size_t left; } m = { png, len };
    cairo_surface_t *im = cairo_image_surface_create_from_png_stream(from_mem, &m);
    double x = GAP + sh->col * (tile_side + GAP), y = GAP + sh->row * (tile_side + GAP + LABEL), sc;
    int w = cairo_image_surface_get_width(im), h = cairo_image_surface_get_height(im), i, j;
    char buf[160];

    if (cairo_surface_status(im) != CAIRO_STATUS_SUCCESS || w != ew || h != eh) {
        fprintf(stderr, "contact sheet: %s is %dx%d, not %dx%d\n", text, w, h, ew, eh);
        sh->failed = 1;
    }
    sc = (double)tile_side / (w > h ? w : h);
    cairo_save(sh->cr);
    cairo_rectangle(sh->cr, x, y, w * sc, h * sc);
    cairo_clip(sh->cr);
    for (i = 0; i < (int)(w * sc); i += 8)
        for (j = 0; j < (int)(h * sc); j += 8)
            if (((i + j) / 8) & 1)
                cairo_rectangle(sh->cr, x + i, y + j, 8, 8);
    cairo_set_source_rgb(sh->cr, 0.85, 0.85, 0.85);
    cairo_fill(sh->cr);
    cairo_restore(sh->cr);
    cairo_save(sh->cr);
    cairo_translate(sh->cr, x, y);
    cairo_scale(sh->cr, sc, sc);
    cairo_set_source_surface(sh->cr, im, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(sh->cr), CAIRO_FILTER_GOOD);
    cairo_paint(sh->cr);
    cairo_restore(sh->cr);
    snprintf(buf, sizeof buf, "%s\n%dx%d", text, w, h);
    label(sh->cr, buf, x, y + h * sc + 2);
    cairo_surface_destroy(im);
    if (++sh->col == sh->cols) {
        sh->col = 0;
        sh->row++;
    }
}

static void add(struct sheet *sh, const struct creative_spec *spec, const unsigned char *photo, int pw, int ph,
                int finish, const char *text)
{
    unsigned char *png;
    size_t len;
    char err[ADS_ERRSZ];
    int rc = finish ? creative_finish(spec, photo, pw, ph, 0, &png, &len, err)
                    : creative_compose(spec, photo, pw, ph, &png, &len, err);

    if (rc != 0) {
        fprintf(stderr, "contact sheet: %s: %s\n", text, err);
        sh->failed = 1;
        return;
    }
    tile(sh, png, len, spec->width, spec->height, text);
    free(png);
}

int main(int argc, char **argv)
{
    static const unsigned int palette[] = { 0x264653, 0x2A9D8F, 0xE9C46A, 0xF4A261, 0xE76F51 };
    static const struct { const char *lang, *headline, *cta; } scripts[] = {
        { "pt-BR", "Promoção de verão: 30% de desconto", "Compre já" },
        { "ru", "Летняя распродажа: скидка 30%", "Купить" },
        { "el", "Καλοκαιρινές εκπτώσεις έως 30%", "Αγοράστε" },
        { "ja", "夏のセール：全品30%オフ", "今すぐ購入" },
        { "zh-CN", "夏季特卖：全场七折", "立即购买" },
        { "ko", "여름 세일: 전 품목 30% 할인", "지금 구매" },
        { "ar", "تخفيضات الصيف: خصم ٣٠٪ على كل شيء", "تسوق الآن" },
        { "hi", "गर्मियों की सेल: हर चीज़ पर 30% छूट", "अभी खरीदें" },
    };
    static const char *const styles[] = { "natural", "vivid", "photographic", "anime" };
    const char *datadir = argc > 2 ? argv[2] : "data";
    struct creative_overlay ov = { "Summer sale: 30% off", "Shop now", "bottom" };
    struct creative_spec spec;
    struct sheet sh = { NULL, 0, 0, 7, 0 };
    cairo_surface_t *s;
    unsigned char *bottle, *sample;
    char path[512], text[160];
    int pw = 1200, ph = 1200, sw = 0, shh = 0, rows = 7;
    size_t i, j;

    if (argc < 2) {
        fprintf(stderr, "usage: contact-sheet OUT.png [DATADIR] [tile_side]\n");
        return 2;
    }
    if (argc > 3)
        tile_side = atoi(argv[3]) >= 60 && atoi(argv[3]) <= 400 ? atoi(argv[3]) : tile_side;
    creative_warmup();
    bottle = studio_bottle(pw, ph);
    snprintf(path, sizeof path, "%s/sample-product.png", datadir);
    sample = read_png(path, &sw, &shh);
    s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, GAP + sh.cols * (tile_side + GAP),
                                   GAP + rows * (tile_side + GAP + LABEL));
    sh.cr = cairo_create(s);
    cairo_set_source_rgb(sh.cr, 1, 1, 1);
    cairo_paint(sh.cr);
    memset(&spec, 0, sizeof spec);
    spec.prompt = "A bottle of sparkling rose on a summer terrace";
    spec.overlay = &ov;
    /* Rows 1-5: each task at each named size. */
    for (j = 0; j < sizeof tasks / sizeof tasks[0]; j++) {
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            creative_size(names[i], &spec.width, &spec.height);
            spec.task = tasks[j];
            spec.style = styles[(i + j) % 4];
            spec.colors = j == 4 ? palette : NULL;
            spec.ncolors = j == 4 ? 5 : 0;
            ov.position = i % 3 == 0 ? "bottom" : i % 3 == 1 ? "top" : "center";
            snprintf(text, sizeof text, "%s, %s", tasks[j], names[i]);
            add(&sh, &spec, bottle, pw, ph, 0, text);
        }
    }
    /* Row 6-7: the overlay in eight scripts. */
    spec.task = "background_replace";
    spec.style = "natural";
    spec.colors = NULL;
    spec.ncolors = 0;
    for (i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        struct creative_overlay o = { scripts[i].headline, scripts[i].cta, "bottom" };
        creative_size(i % 2 ? "instagram_square" : "instagram_portrait", &spec.width, &spec.height);
        spec.overlay = &o;
        spec.language = scripts[i].lang;
        spec.style = styles[i % 4];
        snprintf(text, sizeof text, "overlay, %s", scripts[i].lang);
        add(&sh, &spec, bottle, pw, ph, 0, text);
    }
    spec.language = NULL;
    spec.overlay = &ov;
    ov.position = "bottom";
    /* The sample photo is a scene, not a studio shot: the rounded crop. */
    if (sample != NULL) {
        creative_size("instagram_square", &spec.width, &spec.height);
        spec.task = "background_replace";
        add(&sh, &spec, sample, sw, shh, 0, "no studio shot: crop");
        /* creative_finish: a 4:3 image into a story (fit on its blur) and a
         * square (cover). */
        creative_size("story", &spec.width, &spec.height);
        add(&sh, &spec, sample, sw, shh, 1, "finish: fit + blur");
        creative_size("instagram_square", &spec.width, &spec.height);
        add(&sh, &spec, sample, sw, shh, 1, "finish: cover");
    }
    cairo_destroy(sh.cr);
    if (cairo_surface_write_to_png(s, argv[1]) != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "contact sheet: cannot write %s\n", argv[1]);
        sh.failed = 1;
    }
    cairo_surface_destroy(s);
    free(bottle);
    free(sample);
    if (!sh.failed)
        printf("contact sheet: %s\n", argv[1]);
    return sh.failed;
}
