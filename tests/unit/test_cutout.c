#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutout.h"
#include "shots.h"
#include "unit.h"
#include "util.h"

/* Intersection over union of alpha >= 128 against the truth. */
static double iou(const unsigned char *alpha, const unsigned char *truth, size_t n)
{
    size_t i, inter = 0, uni = 0;

    for (i = 0; i < n; i++) {
        int a = alpha[i] >= 128, t = truth[i] != 0;
        inter += a && t;
        uni += a || t;
    }
    return uni ? (double)inter / (double)uni : 0;
}

int main(void)
{
    static const struct shot cases[] = {
        { "red disc on white", SHOT_DISC, BG_PLAIN, 0xF5F5F2, 0xC8202A },
        { "dark box on grey", SHOT_BOX, BG_PLAIN, 0xB4B4B4, 0x303848 },
        { "navy ring on white (hole)", SHOT_RING, BG_PLAIN, 0xFAFAFA, 0x1F2F6F },
        { "bottle on noisy white", SHOT_BOTTLE, BG_NOISE, 0xF0F0F0, 0x2E7D32 },
        { "disc on noisy grey", SHOT_DISC, BG_NOISE, 0xC0C4C8, 0xE0A030 },
        { "box on a graded sweep", SHOT_BOX, BG_GRADIENT, 0xF8F6F0, 0x8B1A1A },
        { "ring on a graded sweep (hole)", SHOT_RING, BG_GRADIENT, 0xEEF2F8, 0x404040 },
        { "light product on white", SHOT_BOTTLE, BG_PLAIN, 0xFFFFFF, 0xC8CCD8 },
        { "product cut by the bottom edge", SHOT_EDGE, BG_NOISE, 0xF2F2F2, 0x6A1B9A },
    };
    static const int dims[][2] = { { 320, 320 }, { 480, 300 }, { 240, 400 } };
    unsigned char *px, *truth, *alpha;
    struct cutout_stats st;
    char err[ADS_ERRSZ];
    size_t i, d, j;
    double lowest = 1;
    int rc;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (d = 0; d < sizeof dims / sizeof dims[0]; d++) {
            int w = dims[d][0], h = dims[d][1];
            double q;
            px = shot_make(&cases[i], w, h, &truth);
            alpha = malloc((size_t)w * h);
            rc = cutout_mask(px, w, h, 2, alpha, &st, err);
            q = rc == CUTOUT_OK ? iou(alpha, truth, (size_t)w * h) : 0;
            if (rc != CUTOUT_OK || q < 0.9)
                fprintf(stderr, "%s %dx%d: rc %d IoU %.3f (%s)\n", cases[i].name, w, h, rc, q, rc ? err : "");
            CHECK(rc == CUTOUT_OK);
            CHECK(q >= 0.9);
            lowest = q < lowest ? q : lowest;
            if (cases[i].shape == SHOT_RING && rc == CUTOUT_OK) {
                /* The hole in the middle is transparent, the ring opaque. */
                CHECK(alpha[(size_t)(h / 2) * w + w / 2] == 0);
                CHECK(st.holes >= 1);
            }
            /* The corners are background, the shape's interior product. */
            CHECK(alpha[0] == 0 && alpha[(size_t)w * h - 1] == 0);
            for (j = 0; j < (size_t)w * h; j += 97) {
                int y = (int)(j / (size_t)w), x = (int)(j % (size_t)w);
                if (shot_inside(cases[i].shape, x, y, w, h) && shot_inside(cases[i].shape, x - 6, y, w, h)
                    && shot_inside(cases[i].shape, x + 6, y, w, h) && shot_inside(cases[i].shape, x, y - 6, w, h)
                    && shot_inside(cases[i].shape, x, y + 6, w, h) && alpha[j] != 255) {
                    fprintf(stderr, "%s %dx%d: interior pixel %d,%d alpha %d\n", cases[i].name, w, h, x, y, alpha[j]);
                    CHECK(alpha[j] == 255);
                    break;
                }
            }
            free(px);
            free(truth);
            free(alpha);
        }
    }

    /* Refusals: a busy scene, an empty backdrop, a frame the product fills. */
    {
        static const struct shot refuse[] = {
            { "busy scene", SHOT_DISC, BG_BUSY, 0x808080, 0xC8202A },
            { "lamp on a table top", SHOT_BOX, BG_FLOOR, 0xEEEAE0, 0x1A2050 },
        };
        int w = 300, h = 240;
        for (i = 0; i < sizeof refuse / sizeof refuse[0]; i++) {
            px = shot_make(&refuse[i], w, h, &truth);
            alpha = malloc((size_t)w * h);
            err[0] = '\0';
            CHECK(cutout_mask(px, w, h, 2, alpha, NULL, err) == CUTOUT_REFUSED);
            CHECK(err[0] != '\0');
            free(px);
            free(truth);
            free(alpha);
        }
        px = malloc((size_t)w * h * 4);
        alpha = malloc((size_t)w * h);
        memset(px, 0xF0, (size_t)w * h * 4);
        CHECK(cutout_mask(px, w, h, 2, alpha, NULL, err) == CUTOUT_REFUSED);
        CHECK(strstr(err, "no product") != NULL);
        /* Left half one colour, right half another: no single backdrop. */
        for (j = 0; j < (size_t)w * h; j++) {
            int left = (int)(j % (size_t)w) < w / 2;
            px[j * 4] = left ? 250 : 20;
            px[j * 4 + 1] = left ? 250 : 30;
            px[j * 4 + 2] = left ? 250 : 160;
        }
        CHECK(cutout_mask(px, w, h, 2, alpha, NULL, err) == CUTOUT_REFUSED);
        CHECK(cutout_mask(px, 4, 4, 2, alpha, NULL, err) == CUTOUT_ERROR);
        CHECK(cutout_mask(NULL, w, h, 2, alpha, NULL, err) == CUTOUT_ERROR);
        free(px);
        free(alpha);
    }
    printf("cutout: lowest IoU over the studio shots %.3f\n", lowest);
    return unit_done("cutout");
}
