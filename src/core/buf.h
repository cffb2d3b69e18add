/*
 * buf: a growable byte string, always NUL-terminated. The struct owns its
 * data; buf_free releases it, buf_steal hands it to the caller. Appends
 * record an out-of-memory condition in `oom` instead of failing each call,
 * so builders check once at the end.
 *
 * A buf belongs to one thread at a time; there is no shared state.
 */
#ifndef ADS_BUF_H
#define ADS_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the data (caller frees) and leaves b empty; NULL after oom. */
char *buf_steal(struct buf *b);

#endif
