/*
 * util: small helpers shared by every module.
 *
 * Error convention for the whole library: a function that can fail returns
 * a negative code (or NULL) and writes a one-line human message into the
 * caller's buffer `err`, which holds at least ADS_ERRSZ bytes. Messages never
 * contain secrets. No global error state.
 *
 * Every function here is thread-safe: none keeps state between calls except
 * ads_sha256_hex's digest context, which is one per thread (freed when the
 * thread ends), and its SHA-256 algorithm, fetched once (pthread_once).
 */
#ifndef ADS_UTIL_H
#define ADS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ADS_ERRSZ 256

/* Formats into err (ADS_ERRSZ bytes). err may be NULL. */
void ads_errf(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Random UUID v4 into out (37 bytes incl. NUL) from the OpenSSL CSPRNG. */
int ads_uuid4(char out[37]);
/* 1 when s is a canonical lower/upper-case UUID text. */
int ads_is_uuid(const char *s);

/* n random bytes as lowercase hex into out (2n+1 bytes). 0 or -1. */
int ads_random_hex(char *out, size_t nbytes);
void ads_hex(const unsigned char *in, size_t n, char *out);
/* SHA-256 of data as hex into out (65 bytes). Threads may hash at once. */
void ads_sha256_hex(const void *data, size_t n, char out[65]);

/* UTC time formatting. */
void ads_fmt_compact(time_t t, char out[16]);      /* YYYYMMDD_HHMMSS */
void ads_fmt_amzdate(time_t t, char out[17]);      /* YYYYMMDDTHHMMSSZ */
void ads_fmt_iso8601(time_t t, char out[21]);      /* YYYY-MM-DDTHH:MM:SSZ */
/* Parses YYYYMMDDTHHMMSSZ; 0 on success. */
int ads_parse_amzdate(const char *s, time_t *out);

/* Copies src into dst keeping only [A-Za-z0-9_-] (plus '_' for others when
 * keep_other is 0 they are dropped). Result is NUL-terminated; at most
 * dstsz-1 characters. Returns the length. */
size_t ads_reduce_chars(const char *src, char *dst, size_t dstsz, const char *allowed_extra);

/* 1 when every byte of s (length 1..maxlen) is in [A-Za-z0-9] or extra. */
int ads_all_chars(const char *s, size_t minlen, size_t maxlen, const char *extra);

/* Number of Unicode code points in a UTF-8 string; -1 when not valid UTF-8. */
long ads_utf8_len(const char *s);

/* Parses a base-10 integer with bounds; 0 on success. */
int ads_parse_long(const char *s, long min, long max, long *out);

/* Reads a whole file (at most maxbytes) into a malloc'd buffer, NUL-terminated.
 * Caller frees *out. */
int ads_read_file(const char *path, size_t maxbytes, char **out, size_t *len, char *err);

/* Monotonic milliseconds. */
double ads_now_ms(void);

/* Address lists ("10.0.0.0/8 192.0.2.7, 2001:db8::/32"): items separated
 * by spaces or commas, each an IPv4 or IPv6 address with an optional
 * prefix length. ads_addr_list_valid: 0 when every item is one (an empty
 * list is valid). ads_addr_in_list: 1 when addr (a literal address) is in
 * one of the list's items. */
int ads_addr_list_valid(const char *list);
int ads_addr_in_list(const char *list, const char *addr);

#endif
