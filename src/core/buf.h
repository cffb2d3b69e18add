/*
 * buf: a growable byte string, always NUL-terminated. The struct owns its
 * data; buf_free releases it, buf_steal hands it to the caller. Appends
 * record an out-of-memory condition in `oom` instead of failing each call,
 * so builders check once at the end.
 *
 * A buf may carry a size cap (buf_init_max; 0 is none), as curl's dynbuf
 * does: an append that would pass it is refused whole and sets `too_large`,
 * leaving what was there. buf_write is libcurl's write-callback shape over a
 * buf, so every capped reply body is collected the same way. The cap
 * survives buf_reset, buf_free and buf_steal; too_large is cleared by
 * buf_reset. A buf is not shared between threads.
 */
#ifndef ADS_BUF_H
#define ADS_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
    size_t max;            /* cap on len; 0: none */
    int too_large;         /* an append passed max */
};

void buf_init(struct buf *b);
/* An empty buf that holds at most max bytes (0: no cap). */
void buf_init_max(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the data (caller frees) and leaves b empty; NULL after oom. */
char *buf_steal(struct buf *b);
/* libcurl's CURLOPT_WRITEFUNCTION over the buf passed as arg: size * n, or
 * 0 (which makes curl stop with CURLE_WRITE_ERROR) past the cap or on oom. */
size_t buf_write(char *p, size_t size, size_t n, void *arg);

#endif
