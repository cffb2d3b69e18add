#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
    memset(b, 0, sizeof *b);
}

void buf_init_max(struct buf *b, size_t max)
{
    buf_init(b);
    b->max = max;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init_max(b, b->max);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->too_large = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static int grow(struct buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (b->oom)
        return -1;
    if (b->max > 0 && extra > b->max - b->len) {
        b->too_large = 1;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    if (grow(b, n) != 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *buf_steal(struct buf *b)
{
    char *p;

    if (b->oom) {
        buf_free(b);
        return NULL;
    }
    if (b->data == NULL)
        buf_add(b, "", 0);
    p = b->data;
    buf_init_max(b, b->max);
    return p;
}

size_t buf_write(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t len = size * n;

    buf_add(b, p, len);
    return b->oom || b->too_large ? 0 : len;
}
