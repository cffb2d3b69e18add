/* Synthetic studio shots for the compositor's tests: a known foreground
 * shape on a plain, noisy or graded background, with its true mask. */
#ifndef ADS_SHOTS_H
#define ADS_SHOTS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum shot_shape { SHOT_DISC, SHOT_BOX, SHOT_RING, SHOT_BOTTLE, SHOT_EDGE };
enum shot_bg { BG_PLAIN, BG_NOISE, BG_GRADIENT, BG_BUSY, BG_FLOOR };

struct shot {
    const char *name;
    enum shot_shape shape;
    enum shot_bg bg;
    unsigned int bg_rgb, fg_rgb;
};

static inline uint32_t shot_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* 1 where the shape is. The ring has a hole wide enough to see through. */
static inline int shot_inside(enum shot_shape sh, int x, int y, int w, int h)
{
    double cx = w / 2.0, cy = h / 2.0, dx = x + 0.5 - cx, dy = y + 0.5 - cy, u = (w < h ? w : h);
    double r2 = dx * dx + dy * dy;

    switch (sh) {
    case SHOT_DISC:
        return r2 < (u * 0.3) * (u * 0.3);
    case SHOT_BOX:
        return dx > -u * 0.25 && dx < u * 0.2 && dy > -u * 0.3 && dy < u * 0.25;
    case SHOT_RING:
        return r2 < (u * 0.35) * (u * 0.35) && r2 > (u * 0.17) * (u * 0.17);
    case SHOT_BOTTLE:
        return (dx > -u * 0.12 && dx < u * 0.12 && dy > -u * 0.1 && dy < u * 0.35)
            || (dx > -u * 0.04 && dx < u * 0.04 && dy > -u * 0.35 && dy <= -u * 0.1);
    case SHOT_EDGE:   /* stands on the bottom edge, cut by the frame */
        return dx > -u * 0.2 && dx < u * 0.2 && dy > -u * 0.15;
    }
    return 0;
}

/* RGBA w x h (caller frees) and the truth mask (caller frees). */
static inline unsigned char *shot_make(const struct shot *s, int w, int h, unsigned char **truth)
{
    unsigned char *px = malloc((size_t)w * h * 4), *t = malloc((size_t)w * h);
    uint32_t seed = 2463534242u;
    int x, y, c;

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * 4;
            int in = shot_inside(s->shape, x, y, w, h);
            unsigned int rgb = in ? s->fg_rgb : s->bg_rgb;
            t[(size_t)y * w + x] = (unsigned char)in;
            for (c = 0; c < 3; c++) {
                int v = (int)((rgb >> (16 - 8 * c)) & 255);
                if (!in && s->bg == BG_GRADIENT)
                    v -= 45 * y / h + 10 * x / w;             /* a studio sweep's fall-off */
                if (s->bg == BG_NOISE || (in && s->bg != BG_BUSY))
                    v += (int)(shot_rand(&seed) % 13) - 6;    /* sensor noise */
                if (!in && s->bg == BG_BUSY)
                    v = (int)(shot_rand(&seed) % 256);        /* not a studio shot */
                if (!in && s->bg == BG_FLOOR && y > h * 4 / 5)
                    v = c == 0 ? 120 : c == 1 ? 75 : 45;      /* a table top: a scene */
                if (in)   /* shading across the product */
                    v += 30 * x / w - 15;
                p[c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
            p[3] = 255;
        }
    }
    *truth = t;
    return px;
}

#endif
