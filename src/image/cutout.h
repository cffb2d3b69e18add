/*
 * cutout: separates a product from a plain or near-plain studio background.
 *
 * The background is modelled from the image's border: each side's colours
 * in CIELAB, smoothed, and blended across the image (a Coons patch), so a
 * light fall-off or a sweep gradient is followed rather than fought. A pixel
 * is background when its ΔE (CIE76) to that model is under a threshold set
 * from the border's measured noise, and it is connected to the border by
 * such pixels (a queue-based flood fill: no recursion, every pixel queued at
 * most once). Enclosed pockets of background (a mug's handle) become
 * transparent when they are large and close to the model; foreground specks
 * are dropped; the edge is eroded a pixel and feathered.
 *
 * It refuses (CUTOUT_REFUSED, with the reason in err) when the border is too
 * busy to be a studio background, or when what is left is almost nothing or
 * almost everything of the image. Callers then crop instead.
 *
 * Cost: O(pixels) time; memory about 7 bytes a pixel besides the input.
 * Work at the output resolution: downscale the photo first.
 * Thread-safe (the Lab table is built once under pthread_once).
 */
#ifndef ADS_CUTOUT_H
#define ADS_CUTOUT_H

#include <stddef.h>

enum {
    CUTOUT_OK = 0,
    CUTOUT_REFUSED = 1,     /* not a studio shot: err says why */
    CUTOUT_ERROR = -1       /* bad arguments or out of memory */
};

struct cutout_stats {
    double threshold;       /* ΔE under which a pixel matched the background */
    double border_noise;    /* 90th percentile ΔE of the border to its smoothed self */
    double foreground;      /* fraction of pixels kept (alpha >= 128) */
    int holes;              /* enclosed background pockets made transparent */
    int specks;             /* foreground specks removed */
};

/* rgba: w x h, 4 bytes a pixel (alpha ignored). alpha: w*h bytes written,
 * 255 product, 0 background. feather: edge softness in pixels (0..8).
 * stats may be NULL. */
int cutout_mask(const unsigned char *rgba, int w, int h, int feather, unsigned char *alpha,
                struct cutout_stats *stats, char *err);

/* Box blur of radius r (a running sum: O(pixels) whatever r) on a plane of
 * bytes w x h with the given stride, through tmp (w*h bytes). Two passes
 * approach a Gaussian. */
void cutout_blur(unsigned char *a, int w, int h, int stride, int r, unsigned char *tmp);

#endif
