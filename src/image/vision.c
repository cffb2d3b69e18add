#include "vision.h"
#include "imgbox.h"
#include "imgdec.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRID_SIDE 160
#define K 6

struct named { const char *name; unsigned char r, g, b; };

/* Names a marketer would use, spread over the colour space. */
static const struct named palette[] = {
    { "Black", 0, 0, 0 }, { "Charcoal", 54, 69, 79 }, { "Dark Gray", 90, 90, 90 },
    { "Gray", 128, 128, 128 }, { "Silver", 192, 192, 192 }, { "Light Gray", 220, 220, 220 },
    { "White", 255, 255, 255 }, { "Ivory", 255, 250, 235 }, { "Beige", 225, 205, 170 },
    { "Tan", 210, 180, 140 }, { "Brown", 120, 72, 40 }, { "Chocolate", 80, 45, 25 },
    { "Maroon", 128, 0, 0 }, { "Burgundy", 128, 0, 32 }, { "Red", 220, 30, 35 },
    { "Crimson", 190, 20, 60 }, { "Coral", 255, 127, 80 }, { "Salmon", 250, 128, 114 },
    { "Orange", 255, 140, 0 }, { "Peach", 255, 203, 164 }, { "Gold", 230, 180, 30 },
    { "Mustard", 200, 160, 40 }, { "Yellow", 250, 225, 40 }, { "Cream", 255, 245, 200 },
    { "Olive", 120, 120, 30 }, { "Lime Green", 150, 220, 50 }, { "Green", 40, 150, 60 },
    { "Forest Green", 34, 90, 40 }, { "Mint", 170, 240, 200 }, { "Sage", 160, 180, 140 },
    { "Teal", 0, 128, 128 }, { "Turquoise", 64, 210, 200 }, { "Cyan", 0, 220, 235 },
    { "Sky Blue", 135, 200, 235 }, { "Light Blue", 180, 210, 240 }, { "Blue", 30, 90, 220 },
    { "Royal Blue", 65, 105, 225 }, { "Navy Blue", 20, 30, 90 }, { "Indigo", 75, 0, 130 },
    { "Purple", 128, 50, 160 }, { "Lavender", 200, 180, 235 }, { "Violet", 150, 80, 200 },
    { "Magenta", 220, 30, 160 }, { "Pink", 245, 160, 190 }, { "Hot Pink", 255, 80, 160 },
    { "Rose", 220, 110, 130 },
};
#define NPAL (sizeof palette / sizeof palette[0])

static double lin(double c)
{
    c /= 255.0;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double labf(double t)
{
    return t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0;
}

static void to_lab(double r, double g, double b, double lab[3])
{
    double R = lin(r), G = lin(g), B = lin(b);
    double x = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047;
    double y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
    double z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883;

    lab[0] = 116.0 * labf(y) - 16.0;
    lab[1] = 500.0 * (labf(x) - labf(y));
    lab[2] = 200.0 * (labf(y) - labf(z));
}

const char *vision_color_name(int r, int g, int b)
{
    double lab[3], best = 1e18;
    const char *name = "Gray";
    size_t i;

    to_lab(r, g, b, lab);
    for (i = 0; i < NPAL; i++) {
        double p[3], d;
        to_lab(palette[i].r, palette[i].g, palette[i].b, p);
        d = (lab[0] - p[0]) * (lab[0] - p[0]) + (lab[1] - p[1]) * (lab[1] - p[1]) +
            (lab[2] - p[2]) * (lab[2] - p[2]);
        if (d < best) {
            best = d;
            name = palette[i].name;
        }
    }
    return name;
}

struct cluster { double c[3]; double n; };

static double dist2(const double *a, const unsigned char *p)
{
    double d0 = a[0] - p[0], d1 = a[1] - p[1], d2 = a[2] - p[2];
    return d0 * d0 + d1 * d1 + d2 * d2;
}

/* k-means on opaque grid pixels, seeded by farthest-point from the mean:
 * deterministic, and it finds small but distinct accent colours. */
static int kmeans(const struct image *img, struct cluster *cl, int k)
{
    size_t n = (size_t)img->gw * img->gh, i;
    double mean[3] = { 0, 0, 0 }, cnt = 0;
    int j, it, used = 0;

    for (i = 0; i < n; i++) {
        const unsigned char *p = img->rgba + 4 * i;
        if (p[3] < 128)
            continue;
        mean[0] += p[0];
        mean[1] += p[1];
        mean[2] += p[2];
        cnt++;
    }
    if (cnt == 0)
        return 0;
    for (j = 0; j < 3; j++)
        mean[j] /= cnt;
    memcpy(cl[0].c, mean, sizeof mean);
    used = 1;
    while (used < k) {
        double far = -1;
        const unsigned char *pick = NULL;
        for (i = 0; i < n; i++) {
            const unsigned char *p = img->rgba + 4 * i;
            double dmin = 1e18;
            if (p[3] < 128)
                continue;
            for (j = 0; j < used; j++) {
                double d = dist2(cl[j].c, p);
                if (d < dmin)
                    dmin = d;
            }
            if (dmin > far) {
                far = dmin;
                pick = p;
            }
        }
        if (pick == NULL || far < 400.0)
            break;
        cl[used].c[0] = pick[0];
        cl[used].c[1] = pick[1];
        cl[used].c[2] = pick[2];
        used++;
    }
    for (it = 0; it < 12; it++) {
        double sum[K][3];
        memset(sum, 0, sizeof sum);
        for (j = 0; j < used; j++)
            cl[j].n = 0;
        for (i = 0; i < n; i++) {
            const unsigned char *p = img->rgba + 4 * i;
            int best = 0;
            double bd = 1e18;
            if (p[3] < 128)
                continue;
            for (j = 0; j < used; j++) {
                double d = dist2(cl[j].c, p);
                if (d < bd) {
                    bd = d;
                    best = j;
                }
            }
            sum[best][0] += p[0];
            sum[best][1] += p[1];
            sum[best][2] += p[2];
            cl[best].n++;
        }
        for (j = 0; j < used; j++)
            if (cl[j].n > 0)
                for (int c = 0; c < 3; c++)
                    cl[j].c[c] = sum[j][c] / cl[j].n;
    }
    return used;
}

static int cmp_cluster(const void *a, const void *b)
{
    const struct cluster *x = a, *y = b;

    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return memcmp(x->c, y->c, sizeof x->c);
}

static double round1(double v)
{
    return floor(v * 10.0 + 0.5) / 10.0;
}

static json_object *label(const char *name, double confidence, const char *category)
{
    json_object *l = json_object_new_object(), *cats = json_object_new_array();

    json_object_array_add(cats, json_object_new_string(category));
    json_object_object_add(l, "name", json_object_new_string(name));
    json_object_object_add(l, "confidence", json_object_new_double(round1(confidence)));
    json_object_object_add(l, "categories", cats);
    json_object_object_add(l, "instances", json_object_new_int(0));
    return l;
}

/* Merges clusters that map to the same name; adds colour labels. */
static void add_colors(json_object *res, json_object *labels, struct cluster *cl, int k, double total)
{
    json_object *colors = json_object_new_array();
    const char *names[K];
    double share[K], rgb[K][3];
    int n = 0, i, j;

    for (i = 0; i < k; i++) {
        const char *nm = vision_color_name((int)(cl[i].c[0] + 0.5), (int)(cl[i].c[1] + 0.5), (int)(cl[i].c[2] + 0.5));
        for (j = 0; j < n && strcmp(names[j], nm) != 0; j++)
            ;
        if (j == n) {
            names[n] = nm;
            share[n] = 0;
            memcpy(rgb[n], cl[i].c, sizeof rgb[n]);
            n++;
        }
        share[j] += cl[i].n / total * 100.0;
    }
    for (i = 0; i < n; i++) {
        char hex[8];
        json_object *c;
        if (share[i] < 2.0)
            continue;
        c = json_object_new_object();
        snprintf(hex, sizeof hex, "#%02x%02x%02x", (int)(rgb[i][0] + 0.5), (int)(rgb[i][1] + 0.5), (int)(rgb[i][2] + 0.5));
        json_object_object_add(c, "name", json_object_new_string(names[i]));
        json_object_object_add(c, "hex", json_object_new_string(hex));
        json_object_object_add(c, "share", json_object_new_double(round1(share[i])));
        json_object_array_add(colors, c);
        if (share[i] >= 5.0)
            json_object_array_add(labels, label(names[i], share[i], "Color"));
    }
    json_object_object_add(res, "colors", colors);
}

json_object *vision_analyze_image(const struct image *img)
{
    struct cluster cl[K];
    double sum = 0, sum2 = 0, cnt = 0, mean, contrast;
    size_t i, n;
    int k;
    const char *orient;
    json_object *res, *labels;

    n = (size_t)img->gw * img->gh;
    for (i = 0; i < n; i++) {
        const unsigned char *p = img->rgba + 4 * i;
        double y;
        if (p[3] < 128)
            continue;
        y = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
        sum += y;
        sum2 += y * y;
        cnt++;
    }
    mean = cnt > 0 ? sum / cnt : 0;
    contrast = cnt > 0 ? sqrt(fmax(0.0, sum2 / cnt - mean * mean)) : 0;
    memset(cl, 0, sizeof cl);
    k = kmeans(img, cl, K);
    qsort(cl, (size_t)k, sizeof cl[0], cmp_cluster);

    res = json_object_new_object();
    labels = json_object_new_array();
    json_object_object_add(res, "provider", json_object_new_string("builtin"));
    json_object_object_add(res, "width", json_object_new_int(img->width));
    json_object_object_add(res, "height", json_object_new_int(img->height));
    json_object_object_add(res, "format", json_object_new_string(img->format));
    orient = img->width == img->height ? "Square" : img->width > img->height ? "Landscape" : "Portrait";
    json_object_object_add(res, "orientation", json_object_new_string(orient));
    json_object_object_add(res, "exif_orientation", json_object_new_int(img->exif_orientation));
    json_object_object_add(res, "has_alpha", json_object_new_boolean(img->has_alpha));
    json_object_object_add(res, "brightness", json_object_new_double(round1(mean / 255.0 * 100.0)));
    json_object_object_add(res, "contrast", json_object_new_double(round1(contrast / 127.5 * 100.0)));
    if (cnt > 0)
        add_colors(res, labels, cl, k, cnt);
    else
        json_object_object_add(res, "colors", json_object_new_array());
    json_object_array_add(labels, label(orient, 100.0, "Composition"));
    if (mean >= 170)
        json_object_array_add(labels, label("Bright", 50.0 + (mean - 170) / 85.0 * 50.0, "Lighting"));
    else if (mean <= 85)
        json_object_array_add(labels, label("Dark", 50.0 + (85 - mean) / 85.0 * 50.0, "Lighting"));
    if (contrast >= 70)
        json_object_array_add(labels, label("High Contrast", fmin(100.0, contrast / 127.5 * 100.0), "Lighting"));
    json_object_object_add(res, "labels", labels);
    return res;
}

/* A JPEG uploaded as image/png (or named .png) is analysed as what it is,
 * with a warning: the bytes decide how they are decoded, so the label
 * cannot mislead the decoder, and such files are common (a renamed
 * download, an exporter's wrong extension); refusing would only send the
 * user looking for a converter. */
static void declared_vs_actual(const char *declared_as, json_object *res, json_object *warnings)
{
    const char *declared = imgdec_declared_format(declared_as);
    const char *actual = json_object_get_string(json_object_object_get(res, "format"));
    char msg[ADS_ERRSZ];

    if (declared == NULL || strcmp(declared, actual) == 0)
        return;
    json_object_object_add(res, "declared_format", json_object_new_string(declared));
    if (warnings != NULL) {
        snprintf(msg, sizeof msg, "the image was uploaded as %s but is a %s; it was analysed as %s",
                 declared, actual, actual);
        json_object_array_add(warnings, json_object_new_string(msg));
    }
}

int vision_analyze(const struct config *cfg, const void *data, size_t len, const char *declared_as,
                   double deadline_ms, json_object **out, json_object *warnings, char *err)
{
    struct image img;
    int rc;

    *out = NULL;
    if ((rc = imgbox_analyze(cfg, data, len, GRID_SIDE, deadline_ms, &img, err)) != IMGDEC_OK)
        return rc;
    *out = vision_analyze_image(&img);
    imgdec_free(&img);
    declared_vs_actual(declared_as, *out, warnings);
    return IMGDEC_OK;
}
