#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

void ads_errf(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, ADS_ERRSZ, fmt, ap);
    va_end(ap);
}

int ads_uuid4(char out[37])
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

int ads_is_uuid(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 36)
        return 0;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

void ads_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int ads_random_hex(char *out, size_t nbytes)
{
    unsigned char buf[64];

    if (nbytes > sizeof buf || RAND_bytes(buf, (int)nbytes) != 1)
        return -1;
    ads_hex(buf, nbytes, out);
    return 0;
}

/* SHA-256 is fetched once: OpenSSL 3's one-shot SHA256() looks the
 * algorithm up on every call, which dominated request signing. Each thread
 * keeps a digest context of its own (freed when the thread ends), as the
 * campaign's stage threads sign requests at once. */
static EVP_MD *sha256_md;
static pthread_key_t sha256_ctx_key;
static int sha256_ready;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
/* The thread's context, also registered under sha256_ctx_key so that it is
 * freed when the thread ends; the plain thread-local is the fast path. */
static _Thread_local EVP_MD_CTX *sha256_thread_ctx;

static void sha256_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void sha256_init(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha256_ready = sha256_md != NULL && pthread_key_create(&sha256_ctx_key, sha256_ctx_free) == 0;
}

static EVP_MD_CTX *sha256_ctx(void)
{
    EVP_MD_CTX *ctx;

    if (sha256_thread_ctx != NULL)
        return sha256_thread_ctx;
    if (pthread_once(&sha256_once, sha256_init) != 0 || !sha256_ready)
        return NULL;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return NULL;
    if (pthread_setspecific(sha256_ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    sha256_thread_ctx = ctx;
    return ctx;
}

void ads_sha256_hex(const void *data, size_t n, char out[65])
{
    EVP_MD_CTX *ctx = sha256_ctx();
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned int len = 0;

    if (ctx == NULL || EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, data, n) != 1 || EVP_DigestFinal_ex(ctx, md, &len) != 1)
        SHA256(data, n, md);
    ads_hex(md, sizeof md, out);
}

void ads_fmt_compact(time_t t, char out[16])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y%m%d_%H%M%S", &tm);
}

void ads_fmt_amzdate(time_t t, char out[17])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void ads_fmt_iso8601(time_t t, char out[21])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int ads_parse_amzdate(const char *s, time_t *out)
{
    struct tm tm;
    int i;

    if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i]))
            return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
    tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
    tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
    tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    *out = timegm(&tm);
    return 0;
}

static int allowed(int c, const char *extra)
{
    return isalnum(c) || (extra != NULL && c != 0 && strchr(extra, c) != NULL);
}

size_t ads_reduce_chars(const char *src, char *dst, size_t dstsz, const char *extra)
{
    size_t n = 0;

    if (dstsz == 0)
        return 0;
    for (; *src != '\0' && n + 1 < dstsz; src++) {
        unsigned char c = (unsigned char)*src;
        if (c < 128 && allowed(c, extra))
            dst[n++] = (char)c;
    }
    dst[n] = '\0';
    return n;
}

int ads_all_chars(const char *s, size_t minlen, size_t maxlen, const char *extra)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strlen(s);
    if (n < minlen || n > maxlen)
        return 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 128 || !allowed(c, extra))
            return 0;
    }
    return 1;
}

long ads_utf8_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;

    while (*p != '\0') {
        int extra;
        if (*p < 0x80)
            extra = 0;
        else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
            extra = 1;
        else if ((*p & 0xf0) == 0xe0)
            extra = 2;
        else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
            extra = 3;
        else
            return -1;
        p++;
        for (; extra > 0; extra--, p++)
            if ((*p & 0xc0) != 0x80)
                return -1;
        n++;
    }
    return n;
}

int ads_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int ads_read_file(const char *path, size_t maxbytes, char **out, size_t *len, char *err)
{
    FILE *f;
    struct stat st;
    char *buf;
    size_t n;

    f = fopen(path, "rb");
    if (f == NULL) {
        char why[128];
        /* strerror_r: strerror's buffer is shared by all threads. */
        ads_errf(err, "cannot open %s: %s", path, strerror_r(errno, why, sizeof why));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > maxbytes) {
        ads_errf(err, "%s: not a regular file or larger than %zu bytes", path, maxbytes);
        fclose(f);
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        ads_errf(err, "out of memory reading %s", path);
        fclose(f);
        return -1;
    }
    n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (n != (size_t)st.st_size) {
        ads_errf(err, "short read on %s", path);
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    if (len != NULL)
        *len = n;
    return 0;
}

double ads_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* One item of an address list: its family, bytes and prefix length. */
struct addr_item {
    int family;
    unsigned char bytes[16];
    int prefix;
};

static int parse_addr_item(const char *item, size_t len, struct addr_item *out)
{
    char text[64];
    char *slash;
    long prefix = -1;

    if (len == 0 || len >= sizeof text)
        return -1;
    memcpy(text, item, len);
    text[len] = '\0';
    if ((slash = strchr(text, '/')) != NULL) {
        *slash = '\0';
        if (ads_parse_long(slash + 1, 0, 128, &prefix) != 0)
            return -1;
    }
    if (inet_pton(AF_INET, text, out->bytes) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, text, out->bytes) == 1)
        out->family = AF_INET6;
    else
        return -1;
    if (prefix > (out->family == AF_INET ? 32 : 128))
        return -1;
    out->prefix = prefix >= 0 ? (int)prefix : (out->family == AF_INET ? 32 : 128);
    return 0;
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int full = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t)full) != 0)
        return 0;
    return rest == 0 || ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

/* Calls fn on each item; stops at the first that fn answers non-zero. */
static int each_addr_item(const char *list, int (*fn)(const char *, size_t, void *), void *arg)
{
    const char *p = list;

    while (p != NULL && *p != '\0') {
        size_t len;
        int rc;
        p += strspn(p, " ,\t");
        len = strcspn(p, " ,\t");
        if (len == 0)
            break;
        if ((rc = fn(p, len, arg)) != 0)
            return rc;
        p += len;
    }
    return 0;
}

static int item_invalid(const char *item, size_t len, void *arg)
{
    struct addr_item a;

    (void)arg;
    return parse_addr_item(item, len, &a) != 0 ? -1 : 0;
}

int ads_addr_list_valid(const char *list)
{
    return each_addr_item(list, item_invalid, NULL);
}

static int item_holds(const char *item, size_t len, void *arg)
{
    const struct addr_item *addr = arg;
    struct addr_item net;

    if (parse_addr_item(item, len, &net) != 0 || net.family != addr->family)
        return 0;
    return prefix_equal(net.bytes, addr->bytes, net.prefix) ? 1 : 0;
}

int ads_addr_in_list(const char *list, const char *addr)
{
    struct addr_item a;

    if (addr == NULL || parse_addr_item(addr, strlen(addr), &a) != 0 || strchr(addr, '/') != NULL)
        return 0;
    return each_addr_item(list, item_holds, &a) == 1;
}
