#include "cutout.h"
#include "util.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* sRGB -> CIELAB (D65) through two tables: sRGB to linear, and the cube
 * root of Lab's f(t) sampled finely enough (ΔE error < 0.05) to interpolate. */
#define FSTEPS 2048
static float lin_tab[256];
static float f_tab[FSTEPS + 2];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
    int i;

    for (i = 0; i < 256; i++) {
        double c = i / 255.0;
        lin_tab[i] = (float)(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4));
    }
    for (i = 0; i <= FSTEPS + 1; i++) {
        double t = 1.1 * i / FSTEPS;
        f_tab[i] = (float)(t > 216.0 / 24389.0 ? cbrt(t) : (24389.0 / 27.0 * t + 16.0) / 116.0);
    }
}

static inline float flab(float t)
{
    float x = t * (FSTEPS / 1.1f);
    int i;

    if (x <= 0)
        return f_tab[0];
    if (x >= FSTEPS)
        return f_tab[FSTEPS];
    i = (int)x;
    return f_tab[i] + (f_tab[i + 1] - f_tab[i]) * (x - (float)i);
}

static inline void to_lab(const unsigned char *p, float lab[3])
{
    float r = lin_tab[p[0]], g = lin_tab[p[1]], b = lin_tab[p[2]];
    float fx = flab((0.4124564f * r + 0.3575761f * g + 0.1804375f * b) / 0.95047f);
    float fy = flab(0.2126729f * r + 0.7151522f * g + 0.0721750f * b);
    float fz = flab((0.0193339f * r + 0.1191920f * g + 0.9503041f * b) / 1.08883f);

    lab[0] = 116.0f * fy - 16.0f;
    lab[1] = 500.0f * (fx - fy);
    lab[2] = 200.0f * (fy - fz);
}

static inline float de76(const float a[3], const float b[3])
{
    float d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];

    return sqrtf(d0 * d0 + d1 * d1 + d2 * d2);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

/* The q-th quantile (0..1) of v[0..n), sorting a copy in tmp. */
static float quantile(const float *v, size_t n, float *tmp, double q)
{
    size_t k;

    if (n == 0)
        return 0;
    memcpy(tmp, v, n * sizeof *v);
    qsort(tmp, n, sizeof *tmp, cmp_float);
    k = (size_t)(q * (double)(n - 1) + 0.5);
    return tmp[k];
}

/* One side of the border: its Lab samples, an inlier flag each, smoothed. */
struct side {
    int n;
    float *lab;      /* n * 3 */
    unsigned char *in;
};

/* Outliers (where the product touches the edge) take the colour of the
 * nearest inliers, so the model stays the background's; then a box filter
 * evens out sensor noise. Returns the count of inliers. */
static int side_repair(struct side *s, float *tmp, int radius)
{
    int i, last = -1, inl = 0, c;

    for (i = 0; i < s->n; i++) {
        if (!s->in[i])
            continue;
        inl++;
        if (last + 1 < i) {
            int j;
            for (j = last + 1; j < i; j++) {
                for (c = 0; c < 3; c++) {
                    float a = last >= 0 ? s->lab[last * 3 + c] : s->lab[i * 3 + c];
                    float t = last >= 0 ? (float)(j - last) / (float)(i - last) : 0;
                    s->lab[j * 3 + c] = a + (s->lab[i * 3 + c] - a) * t;
                }
            }
        }
        last = i;
    }
    if (inl == 0)
        return 0;
    for (i = last + 1; i < s->n; i++)
        for (c = 0; c < 3; c++)
            s->lab[i * 3 + c] = s->lab[last * 3 + c];
    /* Box filter through a running sum (tmp: n * 3). */
    for (c = 0; c < 3; c++) {
        double sum = 0;
        int lo, hi, cnt = 0;
        for (i = 0; i < s->n && i <= radius; i++) {
            sum += s->lab[i * 3 + c];
            cnt++;
        }
        for (i = 0; i < s->n; i++) {
            tmp[i * 3 + c] = (float)(sum / cnt);
            hi = i + radius + 1;
            lo = i - radius;
            if (hi < s->n) {
                sum += s->lab[hi * 3 + c];
                cnt++;
            }
            if (lo >= 0) {
                sum -= s->lab[lo * 3 + c];
                cnt--;
            }
        }
    }
    return inl;
}

/* Breadth-first fill over pixels whose state is in the `from` set (a bit
 * per state, 4-connected),
 * setting them to `to`, starting at seed (already set to `to` and queued
 * by the caller at q[0]). Returns the number of pixels in the component;
 * they are q[0..n). Each pixel is queued at most once: O(pixels). */
static size_t fill(unsigned char *state, int w, int h, uint32_t *q, size_t n0, unsigned from, unsigned char to)
{
    size_t head = 0, tail = n0;
#define IN(s) ((from >> (s)) & 1u)

    while (head < tail) {
        uint32_t p = q[head++];
        int x = (int)(p % (uint32_t)w), y = (int)(p / (uint32_t)w);
        if (x > 0 && IN(state[p - 1])) { state[p - 1] = to; q[tail++] = p - 1; }
        if (x + 1 < w && IN(state[p + 1])) { state[p + 1] = to; q[tail++] = p + 1; }
        if (y > 0 && IN(state[p - w])) { state[p - w] = to; q[tail++] = p - (uint32_t)w; }
        if (y + 1 < h && IN(state[p + w])) { state[p + w] = to; q[tail++] = p + (uint32_t)w; }
    }
#undef IN
    return tail;
}

void cutout_blur(unsigned char *a, int w, int h, int stride, int r, unsigned char *tmp)
{
    int x, y;

    for (y = 0; y < h; y++) {
        const unsigned char *row = a + (size_t)y * stride;
        unsigned char *out = tmp + (size_t)y * w;
        int sum = 0, cnt = 0;
        for (x = 0; x < w && x <= r; x++) { sum += row[x]; cnt++; }
        for (x = 0; x < w; x++) {
            out[x] = (unsigned char)((sum + cnt / 2) / cnt);
            if (x + r + 1 < w) { sum += row[x + r + 1]; cnt++; }
            if (x - r >= 0) { sum -= row[x - r]; cnt--; }
        }
    }
    for (x = 0; x < w; x++) {
        int sum = 0, cnt = 0;
        for (y = 0; y < h && y <= r; y++) { sum += tmp[(size_t)y * w + x]; cnt++; }
        for (y = 0; y < h; y++) {
            a[(size_t)y * stride + x] = (unsigned char)((sum + cnt / 2) / cnt);
            if (y + r + 1 < h) { sum += tmp[(size_t)(y + r + 1) * w + x]; cnt++; }
            if (y - r >= 0) { sum -= tmp[(size_t)(y - r) * w + x]; cnt--; }
        }
    }
}

/* Pixel states during the passes. */
enum { S_FG = 0, S_NEAR = 1, S_CLOSE = 2, S_BG = 3, S_DONE = 4, S_KEEP = 5 };

struct work {
    struct side side[4];      /* top, bottom, left, right */
    float *tmp;
    unsigned char *state;
    uint32_t *q;
};

static void work_free(struct work *wk)
{
    int i;

    for (i = 0; i < 4; i++) {
        free(wk->side[i].lab);
        free(wk->side[i].in);
    }
    free(wk->tmp);
    free(wk->state);
    free(wk->q);
}

/* Reads the four sides, flags outliers against the border's median colour,
 * repairs and smooths them; measures the noise. 0, or CUTOUT_REFUSED. */
static int border_model(struct work *wk, const unsigned char *rgba, int w, int h, float *noise, char *err)
{
    int total = 2 * (w + h), k = 0, s, i, c, inl = 0, bad_side = 0;
    float *all = malloc((size_t)total * 3 * sizeof *all), *dist = malloc((size_t)total * sizeof *dist);
    float med[3], d50, cut;

    if (all == NULL || dist == NULL) {
        free(all);
        free(dist);
        ads_errf(err, "out of memory");
        return CUTOUT_ERROR;
    }
    for (s = 0; s < 4; s++) {
        struct side *sd = &wk->side[s];
        for (i = 0; i < sd->n; i++) {
            int x = s == 0 || s == 1 ? i : (s == 2 ? 0 : w - 1);
            int y = s == 2 || s == 3 ? i : (s == 0 ? 0 : h - 1);
            to_lab(rgba + ((size_t)y * w + x) * 4, sd->lab + i * 3);
            memcpy(all + (size_t)k * 3, sd->lab + i * 3, 3 * sizeof *all);
            k++;
        }
    }
    for (c = 0; c < 3; c++) {
        for (i = 0; i < total; i++)
            dist[i] = all[i * 3 + c];
        med[c] = quantile(dist, (size_t)total, wk->tmp, 0.5);
    }
    for (i = 0; i < total; i++)
        dist[i] = de76(all + i * 3, med);
    d50 = quantile(dist, (size_t)total, wk->tmp, 0.5);
    cut = 4 * d50 + 8;
    cut = cut < 20 ? 20 : cut > 35 ? 35 : cut;
    k = 0;
    for (s = 0; s < 4; s++) {
        int side_in = 0;
        for (i = 0; i < wk->side[s].n; i++, k++) {
            wk->side[s].in[i] = dist[k] <= cut;
            side_in += wk->side[s].in[i];
        }
        /* A product may touch an edge, but a whole side of another colour
         * is a scene (a table top, a floor), not a backdrop. */
        bad_side |= side_in * 4 < wk->side[s].n;
        inl += side_in;
    }
    if (bad_side || inl < total * 0.6) {
        free(all);
        free(dist);
        ads_errf(err, "border not uniform enough for a cut-out (%d%% of it matches its median colour%s)",
                 100 * inl / total, bad_side ? ", a side hardly at all" : "");
        return CUTOUT_REFUSED;
    }
    /* Noise: each inlier against its smoothed side. */
    k = 0;
    for (s = 0; s < 4; s++) {
        struct side *sd = &wk->side[s];
        int radius = sd->n / 50 > 2 ? sd->n / 50 : 2;
        memcpy(all, sd->lab, (size_t)sd->n * 3 * sizeof *all);
        side_repair(sd, wk->tmp, radius);
        memcpy(sd->lab, wk->tmp, (size_t)sd->n * 3 * sizeof *all);
        for (i = 0; i < sd->n; i++)
            if (sd->in[i])
                dist[k++] = de76(all + i * 3, sd->lab + i * 3);
    }
    *noise = quantile(dist, (size_t)k, wk->tmp, 0.9);
    free(all);
    free(dist);
    if (*noise > 12) {
        ads_errf(err, "border too busy for a cut-out (noise ΔE %.1f)", *noise);
        return CUTOUT_REFUSED;
    }
    return 0;
}

/* ΔE of every pixel to the background model, blended over the image from
 * the four sides (a Coons patch), classified into states. */
static void classify(struct work *wk, const unsigned char *rgba, int w, int h, float t)
{
    const float *top = wk->side[0].lab, *bot = wk->side[1].lab, *lft = wk->side[2].lab, *rgt = wk->side[3].lab;
    const float *c00 = top, *c10 = top + (w - 1) * 3, *c01 = bot, *c11 = bot + (w - 1) * 3;
    float close2 = t * t * 0.36f, near2 = t * t;
    int x, y, c;

    for (y = 0; y < h; y++) {
        float v = h > 1 ? (float)y / (float)(h - 1) : 0, left[3], slope[3], base[3];
        /* Along a row the model is linear in u besides the top and bottom
         * terms: left + u * slope. */
        for (c = 0; c < 3; c++) {
            left[c] = lft[y * 3 + c] - ((1 - v) * c00[c] + v * c01[c]);
            slope[c] = (rgt[y * 3 + c] - ((1 - v) * c10[c] + v * c11[c])) - left[c];
        }
        for (x = 0; x < w; x++) {
            float u = w > 1 ? (float)x / (float)(w - 1) : 0, lab[3], d2 = 0;
            size_t p = (size_t)y * w + x;
            to_lab(rgba + p * 4, lab);
            for (c = 0; c < 3; c++) {
                base[c] = (1 - v) * top[x * 3 + c] + v * bot[x * 3 + c] + left[c] + u * slope[c] - lab[c];
                d2 += base[c] * base[c];
            }
            wk->state[p] = d2 < close2 ? S_CLOSE : d2 < near2 ? S_NEAR : S_FG;
        }
    }
}

int cutout_mask(const unsigned char *rgba, int w, int h, int feather, unsigned char *alpha,
                struct cutout_stats *stats, char *err)
{
    struct work wk;
    struct cutout_stats st;
    size_t n, i, k, fg = 0, minhole, minspeck;
    float noise = 0, t;
    int rc = CUTOUT_ERROR, x, y, s;

    memset(&wk, 0, sizeof wk);
    memset(&st, 0, sizeof st);
    if (rgba == NULL || alpha == NULL || w < 8 || h < 8 || w > 16384 || h > 16384 || feather < 0 || feather > 8) {
        ads_errf(err, "cut-out: bad arguments");
        return CUTOUT_ERROR;
    }
    pthread_once(&tab_once, tab_init);
    n = (size_t)w * h;
    wk.side[0].n = wk.side[1].n = w;
    wk.side[2].n = wk.side[3].n = h;
    for (s = 0; s < 4; s++) {
        wk.side[s].lab = malloc((size_t)wk.side[s].n * 3 * sizeof(float));
        wk.side[s].in = malloc((size_t)wk.side[s].n);
    }
    wk.tmp = malloc((size_t)2 * (w + h) * 3 * sizeof(float));
    wk.state = malloc(n);
    wk.q = malloc(n * sizeof *wk.q);
    for (s = 0; s < 4; s++)
        if (wk.side[s].lab == NULL || wk.side[s].in == NULL)
            goto oom;
    if (wk.tmp == NULL || wk.state == NULL || wk.q == NULL)
        goto oom;

    rc = border_model(&wk, rgba, w, h, &noise, err);
    if (rc != 0)
        goto out;
    /* Threshold from the measured noise: clean backgrounds get a tight one,
     * noisy ones a looser one, within bounds that keep product edges. */
    t = 3.0f * noise + 6.0f;
    t = t < 8 ? 8 : t > 30 ? 30 : t;
    st.threshold = t;
    st.border_noise = noise;
    classify(&wk, rgba, w, h, t);

    /* Flood from every border pixel that matches the model. */
    k = 0;
    for (x = 0; x < w; x++) {
        size_t p0 = (size_t)x, p1 = (size_t)(h - 1) * w + x;
        if (wk.side[0].in[x] && wk.state[p0] != S_FG && wk.state[p0] != S_BG) { wk.state[p0] = S_BG; wk.q[k++] = (uint32_t)p0; }
        if (wk.side[1].in[x] && wk.state[p1] != S_FG && wk.state[p1] != S_BG) { wk.state[p1] = S_BG; wk.q[k++] = (uint32_t)p1; }
    }
    for (y = 0; y < h; y++) {
        size_t p0 = (size_t)y * w, p1 = (size_t)y * w + w - 1;
        if (wk.side[2].in[y] && wk.state[p0] != S_FG && wk.state[p0] != S_BG) { wk.state[p0] = S_BG; wk.q[k++] = (uint32_t)p0; }
        if (wk.side[3].in[y] && wk.state[p1] != S_FG && wk.state[p1] != S_BG) { wk.state[p1] = S_BG; wk.q[k++] = (uint32_t)p1; }
    }
    fill(wk.state, w, h, wk.q, k, 1u << S_NEAR | 1u << S_CLOSE, S_BG);

    /* Enclosed pockets: unreached pixels close to the model. A large pocket
     * is background seen through the product; a small one is likely a detail
     * of the product in the background's colour, and stays. Pixels only
     * near the model (shading on the product) stay too. */
    minhole = n / 500 > 64 ? n / 500 : 64;
    for (i = 0; i < n; i++) {
        size_t m, j;
        if (wk.state[i] == S_NEAR)
            wk.state[i] = S_FG;
        if (wk.state[i] != S_CLOSE)
            continue;
        wk.state[i] = S_DONE;
        wk.q[0] = (uint32_t)i;
        m = fill(wk.state, w, h, wk.q, 1, 1u << S_CLOSE, S_DONE);
        if (m >= minhole) {
            for (j = 0; j < m; j++)
                wk.state[wk.q[j]] = S_BG;
            st.holes++;
        } else {
            for (j = 0; j < m; j++)
                wk.state[wk.q[j]] = S_FG;
        }
    }
    /* Specks: small foreground islands (dust, noise) go. */
    minspeck = n / 1000 > 16 ? n / 1000 : 16;
    for (i = 0; i < n; i++) {
        size_t m, j;
        if (wk.state[i] != S_FG)
            continue;
        wk.state[i] = S_KEEP;
        wk.q[0] = (uint32_t)i;
        m = fill(wk.state, w, h, wk.q, 1, 1u << S_FG | 1u << S_NEAR, S_KEEP);
        if (m < minspeck) {
            for (j = 0; j < m; j++)
                wk.state[wk.q[j]] = S_BG;
            st.specks++;
        } else {
            fg += m;
        }
    }
    st.foreground = (double)fg / (double)n;
    if (st.foreground < 0.01) {
        ads_errf(err, "no product found against the background (%.1f%% foreground)", 100 * st.foreground);
        rc = CUTOUT_REFUSED;
        goto out;
    }
    if (st.foreground > 0.95) {
        ads_errf(err, "the background does not separate from the product (%.1f%% foreground)", 100 * st.foreground);
        rc = CUTOUT_REFUSED;
        goto out;
    }
    /* Erode one pixel (the edge carries the background's colour), then
     * feather: two box blurs approach a Gaussian. */
    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            size_t p = (size_t)y * w + x;
            int keep = wk.state[p] == S_KEEP;
            if (keep && feather > 0)
                keep = (x == 0 || wk.state[p - 1] == S_KEEP) && (x + 1 == w || wk.state[p + 1] == S_KEEP)
                    && (y == 0 || wk.state[p - w] == S_KEEP) && (y + 1 == h || wk.state[p + w] == S_KEEP);
            alpha[p] = keep ? 255 : 0;
        }
    }
    if (feather > 0) {
        int r1 = (feather + 1) / 2, r2 = feather / 2 > 0 ? feather / 2 : 1;
        cutout_blur(alpha, w, h, w, r1, wk.state);
        cutout_blur(alpha, w, h, w, r2, wk.state);
    }
    st.foreground = (double)fg / (double)n;
    rc = CUTOUT_OK;
    goto out;
oom:
    ads_errf(err, "out of memory");
    rc = CUTOUT_ERROR;
out:
    if (stats != NULL)
        *stats = st;
    work_free(&wk);
    return rc;
}
