/* Test fixtures made in memory with the real encoders. Caller frees. */
#ifndef ADS_IMGMAKE_H
#define ADS_IMGMAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

/* Left half colour a, right half colour b. */
static inline void fill_split(unsigned char *px, int w, int h, int ch, const unsigned char *a, const unsigned char *b)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(px + ((size_t)y * w + x) * ch, x < w / 2 ? a : b, (size_t)ch);
}

/* JPEG of an RGB buffer (w*h*3); EXIF orientation written when > 1. */
static inline unsigned char *encode_jpeg(const unsigned char *px, int w, int h, int progressive,
                                         int orientation, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *out = NULL;
    unsigned long n = 0;

    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 92, TRUE);
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    if (orientation > 1) {
        unsigned char exif[] = { 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1,
                                 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (unsigned char)orientation, 0, 0, 0, 0, 0, 0 };
        jpeg_write_marker(&c, JPEG_APP0 + 1, exif, sizeof exif);
    }
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *len = n;
    return out;
}

static inline unsigned char *make_jpeg(int w, int h, const unsigned char *a, const unsigned char *b,
                                       int progressive, int orientation, size_t *len)
{
    unsigned char *px = malloc((size_t)w * h * 3), *out;

    fill_split(px, w, h, 3, a, b);
    out = encode_jpeg(px, w, h, progressive, orientation, len);
    free(px);
    return out;
}

struct pngbuf { unsigned char *d; size_t n, cap; };

static inline void png_w(png_structp p, png_bytep d, png_size_t n)
{
    struct pngbuf *b = png_get_io_ptr(p);
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->d = realloc(b->d, b->cap);
    }
    memcpy(b->d + b->n, d, n);
    b->n += n;
}

static inline void png_f(png_structp p) { (void)p; }

/* bit_depth 8 or 16; palette != 0 makes a palette image; interlace optional. */
static inline unsigned char *make_png(int w, int h, const unsigned char *a, const unsigned char *b,
                               int bit_depth, int palette, int interlace, size_t *len)
{
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop i = png_create_info_struct(p);
    struct pngbuf out = { NULL, 0, 0 };
    int bpp = palette ? 1 : (bit_depth == 16 ? 8 : 4);
    unsigned char *row = malloc((size_t)w * bpp);

    png_set_write_fn(p, &out, png_w, png_f);
    if (palette) {
        png_color pal[2] = { { a[0], a[1], a[2] }, { b[0], b[1], b[2] } };
        png_set_IHDR(p, i, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_PALETTE,
                     interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_set_PLTE(p, i, pal, 2);
    } else {
        png_set_IHDR(p, i, (png_uint_32)w, (png_uint_32)h, bit_depth, PNG_COLOR_TYPE_RGBA,
                     interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    }
    png_write_info(p, i);
    if (bit_depth == 16)
        png_set_swap(p);
    {
        int passes = png_set_interlace_handling(p);
        for (int pass = 0; pass < passes; pass++)
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    const unsigned char *c = x < w / 2 ? a : b;
                    if (palette) {
                        row[x] = x < w / 2 ? 0 : 1;
                    } else if (bit_depth == 16) {
                        for (int k = 0; k < 4; k++) {
                            unsigned v = (k < 3 ? c[k] : 255) * 257u;
                            row[x * 8 + k * 2] = (unsigned char)(v & 255);
                            row[x * 8 + k * 2 + 1] = (unsigned char)(v >> 8);
                        }
                    } else {
                        row[x * 4] = c[0]; row[x * 4 + 1] = c[1]; row[x * 4 + 2] = c[2]; row[x * 4 + 3] = 255;
                    }
                }
                png_write_row(p, row);
            }
    }
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &i);
    free(row);
    *len = out.n;
    return out.d;
}

static inline unsigned char *make_webp(int w, int h, const unsigned char *a, const unsigned char *b, size_t *len)
{
    unsigned char *px = malloc((size_t)w * h * 4), *out = NULL;
    unsigned char a4[4] = { a[0], a[1], a[2], 255 }, b4[4] = { b[0], b[1], b[2], 255 };

    fill_split(px, w, h, 4, a4, b4);
    *len = WebPEncodeLosslessRGBA(px, w, h, w * 4, &out);
    free(px);
    return out;
}

#endif
