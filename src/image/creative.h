/*
 * creative: the built-in (offline) provider for product creatives, and the
 * finishing step for a model's output. cairo composes at exactly the
 * requested size: a background generated from the style and palette, the
 * product cut out of its studio shot (src/image/cutout.h; a rounded-rect
 * crop when the background cannot be separated) with a soft shadow, and
 * the overlay text set by Pango over HarfBuzz in Debian's Noto fonts
 * (src/image/textlay.h).
 *
 * Photos and model images arrive decoded (RGBA, 4 bytes a pixel, straight
 * alpha, row-major, no padding) by the imgbox sandbox; nothing here ever
 * decodes client bytes. PNG outputs are malloc'd and owned by the caller.
 *
 * Thread-safety: every function is thread-safe. Each call owns its cairo
 * surfaces and its own PangoContext; Pango's cairo font map is one per
 * thread. fontconfig initialises itself on the first text layout (its cache
 * scan takes tens of milliseconds); creative_warmup does that up front,
 * once per thread, and may be skipped.
 */
#ifndef ADS_CREATIVE_H
#define ADS_CREATIVE_H

#include <stddef.h>

/* Named platform sizes and the contract's aspect ratios ("1:1", "16:9", ...) -> pixels.
 * Names: instagram_square 1080x1080, instagram_portrait 1080x1350, story 1080x1920,
 * facebook_link 1200x628, youtube_thumbnail 1280x720, pinterest 1000x1500, linkedin 1200x627.
 * Returns 0, or -1 when unknown. Thread-safe. */
int creative_size(const char *name, int *w, int *h);

struct creative_overlay {
    const char *headline;   /* may be NULL */
    const char *cta;        /* may be NULL */
    const char *position;   /* "top", "bottom" (default), "center" */
};

struct creative_spec {
    const char *task;       /* "text_image", "background_replace", "background_remove", "variation", "color_guided" */
    const char *prompt;     /* the scene/brief text */
    const char *style;      /* the contract's styles */
    int width, height;      /* exact output size */
    const unsigned int *colors; int ncolors;   /* 0xRRGGBB palette, 0..10 */
    const struct creative_overlay *overlay;    /* NULL: no text */
    const char *language;   /* BCP 47 for text shaping ("ja", "ar", "pt-BR"); NULL = "en" */
};

/* The built-in (offline) provider: composes a PNG of exactly spec->width x spec->height.
 * photo: decoded RGBA (already decoded in the imgbox sandbox, never raw client bytes),
 * pw x ph; NULL for text_image. The PNG is malloc'd, owned by the caller. Thread-safe. */
int creative_compose(const struct creative_spec *spec, const unsigned char *photo, int pw, int ph,
                     unsigned char **png, size_t *len, char *err);

/* A model's image (decoded RGBA, iw x ih, decoded in the sandbox) -> exactly spec->width x
 * spec->height without distorting it (scale to cover/fit, extend with blurred edge colour
 * rather than stretching), then the overlay set on it. PNG malloc'd, caller-owned. Thread-safe. */
int creative_finish(const struct creative_spec *spec, const unsigned char *rgba, int iw, int ih,
                    int keep_alpha, unsigned char **png, size_t *len, char *err);

/* Loads fontconfig's configuration and the Noto faces for this thread, so
 * the first creative does not pay for it. Optional. Thread-safe. */
void creative_warmup(void);

#endif
