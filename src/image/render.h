/*
 * render: the built-in image provider (the Nova Canvas stand-in). cairo
 * draws a PNG at the contract's size for the aspect ratio: a composition
 * whose palette follows the style and whose shapes and layout are seeded
 * from the prompt's hash, with the prompt set as a caption in DejaVu Sans
 * (fontconfig/FreeType through cairo), wrapped and shrunk so it never
 * overflows. Deterministic per (prompt, style, aspect ratio).
 *
 * The PNG bytes are malloc'd and owned by the caller.
 */
#ifndef ADS_RENDER_H
#define ADS_RENDER_H

#include <stddef.h>

#include <cairo.h>

/* Pixel size for an aspect ratio; 0, or -1 when unknown. */
int render_size(const char *aspect_ratio, int *w, int *h);

int render_png(const char *prompt, const char *style, const char *aspect_ratio,
               unsigned char **png, size_t *len, char *err);

/* The composition without its caption, drawn on cr at w x h: a gradient
 * and prompt-seeded shapes in the style's palette, or in colors (0xRRGGBB,
 * ncolors 0..10; 0 means the style's). mode: RENDER_SHAPES draws the shapes
 * as render_png does, RENDER_SOFT as soft glows (a backdrop for a product),
 * 0 the gradient alone. Deterministic per arguments. Thread-safe. */
enum { RENDER_SHAPES = 1, RENDER_SOFT = 2 };
void render_scene(cairo_t *cr, const char *prompt, const char *style, const unsigned int *colors, int ncolors,
                  int w, int h, int mode);
/* Adds a rounded rectangle (corner radius r, at most half a side) to the
 * path of cr: the plates, pills and crops of the creatives. */
void render_rounded(cairo_t *cr, double x, double y, double w, double h, double r);

/* Encodes an image surface as a PNG (malloc'd, caller-owned). 0 or -1. */
int render_encode_png(cairo_surface_t *s, unsigned char **png, size_t *len, char *err);

/* The palette's accent colour (0xRRGGBB) for the same arguments. */
unsigned int render_accent(const char *style, const unsigned int *colors, int ncolors);

#endif
