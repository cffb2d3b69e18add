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

/* Pixel size for an aspect ratio; 0, or -1 when unknown. */
int render_size(const char *aspect_ratio, int *w, int *h);

int render_png(const char *prompt, const char *style, const char *aspect_ratio,
               unsigned char **png, size_t *len, char *err);

#endif
