/*
 * Times the built-in providers: analysis of a 12-megapixel JPEG, synthesis
 * for the sample brief, rendering per aspect ratio. One phase per process so
 * each reports its own peak RSS.
 * Usage: bench-builtin mkjpeg FILE | vision FILE | synth DATADIR | render DATADIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cfg.h"
#include "imgmake.h"
#include "kb.h"
#include "render.h"
#include "synth.h"
#include "util.h"
#include "vision.h"

/* A textured 4000x3000 JPEG (gradients, stripes, noise): closer to a photo
 * than flat colours, which decode unrealistically fast. */
static unsigned char *make_photo_jpeg(int w, int h, size_t *len)
{
    unsigned char *px = malloc((size_t)w * h * 3), *out;
    unsigned seed = 12345;

    for (int y = 0; y < h; y++) {
        unsigned char *row = px + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            seed = seed * 1103515245u + 12345u;
            int noise = (int)((seed >> 16) & 31) - 16;
            int v = ((x / 40 + y / 40) & 1) ? 40 : 0;
            row[3 * x] = (unsigned char)((x * 255 / w + noise + v) & 255);
            row[3 * x + 1] = (unsigned char)((y * 255 / h + noise) & 255);
            row[3 * x + 2] = (unsigned char)((128 + noise - v) & 255);
        }
    }
    out = encode_jpeg(px, w, h, 0, 1, len);
    free(px);
    return out;
}

static long peak_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double best_of(int n, double (*fn)(void *), void *arg)
{
    double best = 1e18;
    int i;

    for (i = 0; i < n; i++) {
        double t = fn(arg);
        if (t < best)
            best = t;
    }
    return best;
}

struct img { unsigned char *d; size_t n; struct config *cfg; };

static double one_vision(void *p)
{
    struct img *im = p;
    json_object *o;
    char err[ADS_ERRSZ];
    double t0 = ads_now_ms();

    if (vision_analyze(im->cfg, im->d, im->n, NULL, 0, &o, NULL, err) != 0) {
        fprintf(stderr, "vision: %s\n", err);
        exit(1);
    }
    json_object_put(o);
    return ads_now_ms() - t0;
}

struct syn { struct kb *kb; json_object *markets, *product, *objectives; };

static double one_synth(void *p)
{
    struct syn *s = p;
    struct synth_input in;
    json_object *w = json_object_new_array(), *c;
    double t0 = ads_now_ms();

    memset(&in, 0, sizeof in);
    in.product_info = s->product;
    in.markets = s->markets;
    in.objectives = s->objectives;
    in.kb = s->kb;
    in.cultural = synth_cultural(s->kb, s->markets, w);
    c = synth_campaign(&in, w);
    json_object_put(in.cultural);
    json_object_put(c);
    json_object_put(w);
    return ads_now_ms() - t0;
}

int main(int argc, char **argv)
{
    char err[ADS_ERRSZ];
    struct config cfg;

    if (argc != 3)
        return 2;
    cfg_load(&cfg, NULL, err);
    if (strcmp(argv[1], "mkjpeg") == 0) {
        /* Its own process, so the analysis phase's peak RSS is its own. */
        size_t n;
        unsigned char *d = make_photo_jpeg(4000, 3000, &n);
        FILE *f = fopen(argv[2], "wb");
        if (f == NULL || fwrite(d, 1, n, f) != n)
            return 1;
        fclose(f);
        free(d);
    } else if (strcmp(argv[1], "vision") == 0) {
        struct img im;
        im.cfg = &cfg;
        if (ads_read_file(argv[2], 64 << 20, (char **)&im.d, &im.n, err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        printf("vision_input_jpeg_bytes %zu\n", im.n);
        printf("vision_12mp_jpeg_ms %.2f\nvision_peak_rss_kb %ld\n", best_of(5, one_vision, &im), peak_kb());
        free(im.d);
    } else if (strcmp(argv[1], "synth") == 0) {
        struct syn s;
        s.kb = kb_load_dir(argv[2], err);
        if (s.kb == NULL) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        s.markets = json_tokener_parse("[\"North America\",\"Germany\",\"Japan\"]");
        s.product = json_tokener_parse("{\"name\":\"Aurora Desk Lamp\",\"category\":\"Home Office\","
                                       "\"description\":\"A dimmable LED desk lamp with a wireless charging base.\","
                                       "\"key_features\":[\"Wireless charging base\",\"Five colour temperatures\"]}");
        s.objectives = json_tokener_parse("{\"target_audience\":\"remote workers\",\"campaign_duration\":\"4 weeks\","
                                          "\"primary_goal\":\"drive online sales\",\"budget\":\"$8,000\"}");
        printf("synth_sample_brief_ms %.3f\nsynth_peak_rss_kb %ld\n", best_of(50, one_synth, &s), peak_kb());
        kb_free(s.kb);
    } else {
        static const char *const ratios[] = { "1:1", "16:9", "9:16", "4:3", "3:4" };
        for (int i = 0; i < 5; i++) {
            double best = 1e18;
            for (int k = 0; k < 3; k++) {
                unsigned char *png;
                size_t n;
                double t0 = ads_now_ms();
                render_png("Studio product shot of a desk lamp on a walnut desk, warm light", "photographic",
                           ratios[i], &png, &n, err);
                if (ads_now_ms() - t0 < best)
                    best = ads_now_ms() - t0;
                free(png);
            }
            printf("render_%s_ms %.2f\n", ratios[i], best);
        }
        printf("render_peak_rss_kb %ld\n", peak_kb());
    }
    cfg_free(&cfg);
    return 0;
}
