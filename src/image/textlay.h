/*
 * textlay: the overlay text of a creative (headline and call to action),
 * set by Pango over HarfBuzz in Debian's Noto fonts (Noto Sans and its
 * script faces, Noto Sans CJK), on a cairo surface.
 *
 * The headline wraps to the width and its size shrinks until it fits its
 * band; the ink extents (what is actually drawn, diacritics and all) are
 * measured, so nothing is ever clipped. The layout's language is set from
 * BCP 47 so HarfBuzz shapes CJK, Arabic and Devanagari with the right
 * faces and forms; right-to-left languages get a right-to-left base
 * direction. The text colour is chosen from the pixels under the text so
 * the WCAG contrast ratio is at least 4.5; when neither light nor dark text
 * reaches it, a plate (a rounded scrim) goes under the text first. The call
 * to action is a pill whose colour comes from the palette. Text that is not
 * valid UTF-8 is repaired (U+FFFD), and overlong text cut, before layout.
 *
 * Thread-safety: each plan owns its PangoContext, made from the caller's
 * cairo context; Pango's cairo font map is per thread. A plan is used by
 * one thread.
 */
#ifndef ADS_TEXTLAY_H
#define ADS_TEXTLAY_H

#include <cairo.h>

/* Longer texts are cut (with an ellipsis) to these many characters. */
#define TEXTLAY_MAX_HEADLINE 300
#define TEXTLAY_MAX_CTA 60

struct creative_overlay;
struct textlay;

struct textlay_box { double x, y, w, h; };

struct textlay_report {
    struct textlay_box headline;   /* ink box in image pixels; w == 0 when none */
    struct textlay_box cta;        /* the pill, when a CTA was set */
    double headline_px;            /* font size chosen */
    int headline_lines;
    double contrast;               /* WCAG ratio of the headline against what is under it */
    int plate;                     /* 1 when a scrim had to go under the headline */
    int rtl;                       /* the base direction used */
    int ellipsized;                /* 1 when even the smallest size could not hold it all */
    int unknown_glyphs;            /* characters no installed font covers (drawn as boxes) */
};

/* Lays out the overlay for a w x h image: sizes, wrapping, the band it
 * needs (band: where the text goes, at the top, centre or bottom). NULL
 * with err on failure; an overlay with neither headline nor CTA gives a
 * plan that draws nothing. accent: the palette colour for the CTA pill
 * (0xRRGGBB). Free with textlay_free. */
struct textlay *textlay_plan(cairo_t *cr, int w, int h, const struct creative_overlay *ov, const char *language,
                             unsigned int accent, char *err);
/* The band the text will occupy (image pixels), to keep the product clear. */
struct textlay_box textlay_band(const struct textlay *t);
/* 1 when the band is at the top of the image, 0 at the bottom, 2 centred. */
int textlay_position(const struct textlay *t);
/* Draws onto the surface of cr (an ARGB32 or RGB24 image surface, whose
 * device offset, if any, maps the image's origin) reading the pixels under
 * the text for the contrast check. rep may be NULL. */
void textlay_draw(struct textlay *t, cairo_t *cr, struct textlay_report *rep);
void textlay_free(struct textlay *t);

/* WCAG 2 contrast ratio of two sRGB colours (0xRRGGBB). */
double textlay_contrast(unsigned int a, unsigned int b);

#endif
