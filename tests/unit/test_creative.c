#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <png.h>

#include "creative.h"
#include "shots.h"
#include "textlay.h"
#include "unit.h"
#include "util.h"

/* Decodes a PNG to RGBA with libpng's simplified reader. NULL on failure. */
static unsigned char *png_rgba(const unsigned char *png, size_t len, int *w, int *h, int *has_alpha)
{
    png_image im;
    unsigned char *px;

    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&im, png, len))
        return NULL;
    *has_alpha = (im.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    im.format = PNG_FORMAT_RGBA;
    px = malloc(PNG_IMAGE_SIZE(im));
    if (px == NULL || !png_image_finish_read(&im, NULL, px, 0, NULL)) {
        free(px);
        png_image_free(&im);
        return NULL;
    }
    *w = (int)im.width;
    *h = (int)im.height;
    return px;
}

/* Pixels within tol of rgb on every channel (and opaque enough). */
static size_t count_near(const unsigned char *px, int w, int h, unsigned int rgb, int tol)
{
    size_t i, n = 0;

    for (i = 0; i < (size_t)w * h; i++) {
        const unsigned char *p = px + i * 4;
        if (p[3] > 200 && abs(p[0] - (int)(rgb >> 16 & 255)) <= tol && abs(p[1] - (int)(rgb >> 8 & 255)) <= tol
            && abs(p[2] - (int)(rgb & 255)) <= tol)
            n++;
    }
    return n;
}

static const char *const names[] = { "instagram_square", "instagram_portrait", "story", "facebook_link",
                                     "youtube_thumbnail", "pinterest", "linkedin" };
static const int name_dims[][2] = { { 1080, 1080 }, { 1080, 1350 }, { 1080, 1920 }, { 1200, 628 },
                                    { 1280, 720 }, { 1000, 1500 }, { 1200, 627 } };
static const char *const tasks[] = { "text_image", "background_replace", "background_remove", "variation",
                                     "color_guided" };

/* Long headlines in each script, with the language they are shaped for. */
static const struct script {
    const char *lang, *headline, *cta;
} scripts[] = {
    { "pt-BR", "Promoção de verão: até 40% de desconto em luminárias, cadeiras e decoração — só nesta semana, "
               "frete grátis para São Paulo, Brasília e Florianópolis", "Compre já" },
    { "ru", "Летняя распродажа: скидки до 40% на светильники, стулья и декор — только на этой неделе, "
            "бесплатная доставка по всей России", "Купить сейчас" },
    { "el", "Καλοκαιρινές εκπτώσεις: έως 40% σε φωτιστικά, καρέκλες και διακόσμηση — μόνο αυτή την εβδομάδα, "
            "δωρεάν αποστολή", "Αγοράστε τώρα" },
    { "ja", "夏のセール：照明、椅子、インテリア雑貨が最大40%オフ。今週限り、全国送料無料でお届けします。"
            "お見逃しなく、今すぐチェックしてください", "今すぐ購入" },
    { "zh-CN", "夏季特卖：灯具、椅子和家居装饰低至六折，仅限本周，全国包邮，数量有限，售完即止，"
               "快来选购您喜爱的商品吧", "立即购买" },
    { "ko", "여름 세일: 조명, 의자, 인테리어 소품 최대 40% 할인 — 이번 주 한정, 전국 무료 배송, "
            "지금 바로 확인하세요", "지금 구매" },
    { "ar", "تخفيضات الصيف: خصم يصل إلى ٤٠٪ على المصابيح والكراسي والديكور — هذا الأسبوع فقط، "
            "مع شحن مجاني إلى جميع المدن", "تسوق الآن" },
    { "hi", "गर्मियों की सेल: लैंप, कुर्सियों और सजावट पर 40% तक की छूट — केवल इस सप्ताह, "
            "पूरे भारत में मुफ़्त डिलीवरी", "अभी खरीदें" },
};

/* Sets the overlay on a w x h image placed 64 px inside a larger transparent
 * surface: any ink outside the image lands in that margin and is found. */
static void check_text(const struct script *sc, const char *position, int w, int h, int busy)
{
    const int m = 64;
    struct creative_overlay ov = { sc->headline, sc->cta, position };
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w + 2 * m, h + 2 * m);
    cairo_t *cr = cairo_create(s);
    struct textlay *t;
    struct textlay_report rep;
    char err[ADS_ERRSZ];
    unsigned char *data;
    int stride, x, y, outside = 0, changed = 0;

    cairo_surface_set_device_offset(s, m, m);
    if (busy) {
        /* Stripes of black and white: no text colour passes without a plate. */
        cairo_rectangle(cr, 0, 0, w, h);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        for (x = 0; x < w; x += 16)
            cairo_rectangle(cr, x, 0, 8, h);
        cairo_fill(cr);
    } else {
        cairo_rectangle(cr, 0, 0, w, h);
        cairo_set_source_rgb(cr, 0.45, 0.5, 0.55);
        cairo_fill(cr);
    }
    t = textlay_plan(cr, w, h, &ov, sc->lang, 0x3A86FF, err);
    CHECK(t != NULL);
    if (t == NULL)
        goto out;
    textlay_draw(t, cr, &rep);
    textlay_free(t);
    cairo_surface_flush(s);
    data = cairo_image_surface_get_data(s);
    stride = cairo_image_surface_get_stride(s);
    for (y = 0; y < h + 2 * m; y++) {
        const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
        for (x = 0; x < w + 2 * m; x++) {
            int in = x >= m && x < m + w && y >= m && y < m + h;
            if (!in && row[x] != 0)
                outside++;
        }
    }
    /* The ink box and the pill inside the image, with ink actually drawn. */
    for (y = (int)rep.headline.y; y < rep.headline.y + rep.headline.h; y++) {
        const uint32_t *row = (const uint32_t *)(data + (size_t)(y + m) * stride);
        for (x = (int)rep.headline.x; x < rep.headline.x + rep.headline.w; x++)
            changed += (row[x + m] & 0xFFFFFF) == 0xFFFFFF || (row[x + m] & 0xFFFFFF) == 0x111111;
    }
    if (outside || rep.unknown_glyphs || rep.contrast < 4.5)
        fprintf(stderr, "%s %s %dx%d: %d px outside, %d unknown glyphs, contrast %.2f, %.0f px, %d lines\n",
                sc->lang, position, w, h, outside, rep.unknown_glyphs, rep.contrast, rep.headline_px,
                rep.headline_lines);
    CHECK(outside == 0);
    CHECK(rep.headline.w > 0 && rep.headline.x >= 0 && rep.headline.y >= 0);
    CHECK(rep.headline.x + rep.headline.w <= w && rep.headline.y + rep.headline.h <= h);
    CHECK(rep.cta.w > 0 && rep.cta.x >= 0 && rep.cta.y >= 0 && rep.cta.x + rep.cta.w <= w
          && rep.cta.y + rep.cta.h <= h);
    CHECK(changed > 50);
    CHECK(rep.unknown_glyphs == 0);
    CHECK(rep.contrast >= 4.5);
    CHECK(rep.rtl == (strcmp(sc->lang, "ar") == 0));
    if (busy)
        CHECK(rep.plate == 1);
out:
    cairo_destroy(cr);
    cairo_surface_destroy(s);
}

/* Threads composing at once, each in its own script: every result must
 * equal the same creative made alone (the header promises thread-safety:
 * a PangoContext per call, Pango's font map per thread). */
struct job {
    const unsigned char *photo;
    int pw, ph;
    size_t script;
    unsigned char *png;
    size_t len;
    int rc;
};

static int compose_script(const unsigned char *photo, int pw, int ph, size_t k, unsigned char **png, size_t *len)
{
    struct creative_overlay ov = { scripts[k].headline, scripts[k].cta, "bottom" };
    struct creative_spec spec = { "background_replace", "A desk lamp", "vivid", 540, 540, NULL, 0, &ov,
                                  scripts[k].lang };
    char err[ADS_ERRSZ];

    return creative_compose(&spec, photo, pw, ph, png, len, err);
}

static void *compose_thread(void *arg)
{
    struct job *j = arg;

    j->rc = compose_script(j->photo, j->pw, j->ph, j->script, &j->png, &j->len);
    return NULL;
}

static void check_threads(const unsigned char *photo, int pw, int ph)
{
    struct job jobs[4];
    pthread_t th[4];
    size_t i;

    for (i = 0; i < 4; i++) {
        jobs[i] = (struct job){ photo, pw, ph, i * 2 + 1, NULL, 0, -1 };
        CHECK(pthread_create(&th[i], NULL, compose_thread, &jobs[i]) == 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < 4; i++) {
        unsigned char *alone;
        size_t len;
        CHECK(jobs[i].rc == 0);
        CHECK(compose_script(photo, pw, ph, jobs[i].script, &alone, &len) == 0);
        CHECK(jobs[i].rc == 0 && len == jobs[i].len && memcmp(alone, jobs[i].png, len) == 0);
        free(alone);
        free(jobs[i].png);
    }
}

int main(void)
{
    static const unsigned int palette[] = { 0x264653, 0x2A9D8F, 0xE9C46A, 0xF4A261 };
    static const struct shot lamp = { "lamp", SHOT_BOTTLE, BG_NOISE, 0xF2F2F0, 0xC8202A };
    struct creative_overlay ov = { "Summer sale on every lamp", "Shop now", "bottom" };
    struct creative_spec spec;
    unsigned char *photo, *truth, *png, *png2, *px;
    size_t len, len2, i, j;
    char err[ADS_ERRSZ];
    int w, h, pw = 900, ph = 700, alpha;

    /* Sizes: every name, the contract's aspect ratios, unknown ones. */
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(creative_size(names[i], &w, &h) == 0 && w == name_dims[i][0] && h == name_dims[i][1]);
    }
    CHECK(creative_size("16:9", &w, &h) == 0 && w == 1280 && h == 720);
    CHECK(creative_size("tiktok", &w, &h) == -1);
    CHECK(creative_size(NULL, &w, &h) == -1);

    creative_warmup();
    photo = shot_make(&lamp, pw, ph, &truth);
    memset(&spec, 0, sizeof spec);
    spec.prompt = "A desk lamp on a sunny terrace";
    spec.style = "natural";
    spec.overlay = &ov;

    /* Every named size gives exactly its size, for every task. */
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (j = 0; j < sizeof tasks / sizeof tasks[0]; j++) {
            spec.task = tasks[j];
            spec.width = name_dims[i][0];
            spec.height = name_dims[i][1];
            spec.colors = j == 4 ? palette : NULL;
            spec.ncolors = j == 4 ? 4 : 0;
            CHECK(creative_compose(&spec, photo, pw, ph, &png, &len, err) == 0);
            px = png_rgba(png, len, &w, &h, &alpha);
            CHECK(px != NULL && w == name_dims[i][0] && h == name_dims[i][1]);
            CHECK(alpha == (j == 2));
            /* The product's own red is there (not for text_image). */
            if (px != NULL && j != 0)
                CHECK(count_near(px, w, h, 0xC8202A, 40) > (size_t)w * h / 200);
            if (px != NULL && j == 2) {
                /* Transparent around the product, opaque on it. */
                CHECK(px[3] == 0 && px[((size_t)w * h - 1) * 4 + 3] == 0);
            }
            free(px);
            free(png);
        }
    }

    /* Same spec, same bytes; another prompt, another backdrop. */
    spec.task = "background_replace";
    spec.width = spec.height = 1080;
    spec.colors = NULL;
    spec.ncolors = 0;
    CHECK(creative_compose(&spec, photo, pw, ph, &png, &len, err) == 0);
    CHECK(creative_compose(&spec, photo, pw, ph, &png2, &len2, err) == 0);
    CHECK(len == len2 && memcmp(png, png2, len) == 0);
    free(png2);
    spec.prompt = "A desk lamp in a loft";
    CHECK(creative_compose(&spec, photo, pw, ph, &png2, &len2, err) == 0);
    CHECK(len != len2 || memcmp(png, png2, len) != 0);
    free(png);
    free(png2);

    /* A photo that is no studio shot: the whole photo, cropped round. */
    {
        static const struct shot busy = { "scene", SHOT_DISC, BG_BUSY, 0x808080, 0x1E88E5 };
        unsigned char *bt, *bp = shot_make(&busy, 400, 300, &bt);
        spec.overlay = NULL;
        CHECK(creative_compose(&spec, bp, 400, 300, &png, &len, err) == 0);
        px = png_rgba(png, len, &w, &h, &alpha);
        CHECK(px != NULL && w == 1080 && h == 1080);
        if (px != NULL)
            CHECK(count_near(px, w, h, 0x1E88E5, 40) > (size_t)w * h / 50);
        free(px);
        free(png);
        free(bp);
        free(bt);
        spec.overlay = &ov;
    }

    /* Tiny and extreme photos: still exactly the size, no cut-out tried
     * below 16 px. */
    {
        static const int tiny[][2] = { { 1, 1 }, { 3, 200 }, { 640, 2 }, { 16, 16 } };
        unsigned char *tp = malloc(640 * 200 * 4);
        memset(tp, 0x80, 640 * 200 * 4);
        spec.task = "background_replace";
        spec.width = 1200;
        spec.height = 628;
        for (i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
            CHECK(creative_compose(&spec, tp, tiny[i][0], tiny[i][1], &png, &len, err) == 0);
            px = png_rgba(png, len, &w, &h, &alpha);
            CHECK(px != NULL && w == 1200 && h == 628);
            free(px);
            free(png);
        }
        free(tp);
        spec.width = spec.height = 1080;
    }

    /* Bad input changes nothing and says why. */
    spec.task = "upscale";
    CHECK(creative_compose(&spec, photo, pw, ph, &png, &len, err) == -1 && strstr(err, "task") != NULL);
    spec.task = "background_replace";
    CHECK(creative_compose(&spec, NULL, pw, ph, &png, &len, err) == -1);
    spec.width = 0;
    CHECK(creative_compose(&spec, photo, pw, ph, &png, &len, err) == -1);
    spec.width = 1080;
    spec.ncolors = 11;
    spec.colors = palette;
    CHECK(creative_compose(&spec, photo, pw, ph, &png, &len, err) == -1);
    spec.ncolors = 0;

    /* Finishing a model's image: exact size, undistorted. A 16:9 image into
     * a story is fitted whole on its blurred self; its centre stays. */
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        spec.width = name_dims[i][0];
        spec.height = name_dims[i][1];
        CHECK(creative_finish(&spec, photo, pw, ph, (int)(i == 2), &png, &len, err) == 0);
        px = png_rgba(png, len, &w, &h, &alpha);
        CHECK(px != NULL && w == spec.width && h == spec.height && alpha == (i == 2));
        if (px != NULL)
            CHECK(count_near(px, w, h, 0xC8202A, 40) > (size_t)w * h / 200);
        free(px);
        free(png);
    }
    spec.overlay = NULL;
    spec.width = 1080;
    spec.height = 1920;
    CHECK(creative_finish(&spec, photo, pw, ph, 0, &png, &len, err) == 0);
    px = png_rgba(png, len, &w, &h, &alpha);
    if (px != NULL) {
        /* Fitted width: 900 -> 1080, so a 1.2 scale; the product's middle
         * column is at the centre, the background above it unstretched. */
        const unsigned char *c = px + ((size_t)(h / 2) * w + w / 2) * 4;
        CHECK(abs(c[0] - 0xC8) < 40 && c[1] < 80);
    }
    free(px);
    free(png);
    CHECK(creative_finish(&spec, NULL, 10, 10, 0, &png, &len, err) == -1);

    /* Text: every script at every size and position never leaves the image. */
    for (i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
        for (j = 0; j < sizeof names / sizeof names[0]; j++)
            check_text(&scripts[i], j % 3 == 0 ? "top" : j % 3 == 1 ? "bottom" : "center", name_dims[j][0],
                       name_dims[j][1], 0);
    for (i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
        check_text(&scripts[i], "bottom", 1080, 1080, 1);
    check_threads(photo, pw, ph);
    {
        /* Invalid UTF-8 and a 20,000-character headline: drawn, bounded. */
        static const struct script odd[] = { { "en", "Bad \xff\xfe bytes \xc3", "Go \x80" } };
        static struct script huge;
        char *big = malloc(20001);
        for (i = 0; i < 20000; i++)
            big[i] = i % 7 == 6 ? ' ' : 'w';
        big[20000] = '\0';
        huge = (struct script){ "en", big, big };
        check_text(&odd[0], "bottom", 1080, 1080, 0);
        check_text(&huge, "top", 1200, 628, 0);
        free(big);
    }
    CHECK(textlay_contrast(0xFFFFFF, 0x000000) > 20.9);
    CHECK(textlay_contrast(0x777777, 0xFFFFFF) < 4.5);

    free(photo);
    free(truth);
    return unit_done("creative");
}
