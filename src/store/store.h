/*
 * store: object storage behind one interface, S3's model (bucket, key,
 * content type). Drivers: "local" (objects under storage_root/{bucket}/{key},
 * written atomically; upload URLs are SigV4-presigned URLs on the API's own
 * /objects/ endpoint). Keys and buckets are checked before any path is built:
 * segments of [A-Za-z0-9._-], none "." or "..", none starting with '.'.
 *
 * struct store is owned by its opener; store_close frees it. URLs returned
 * are malloc'd and owned by the caller.
 */
#ifndef ADS_STORE_H
#define ADS_STORE_H

#include <stddef.h>
#include <time.h>

#include "cfg.h"

#define STORE_MAX_UPLOAD (10L * 1024 * 1024)

struct store;

struct store_info {
    long long size;
    char content_type[64];
    time_t last_modified;
};

/* STORE_FULL: a put failed for want of space (the local driver's disk or
 * quota); nothing of the object is left. STORE_UNREACHABLE: the store never
 * answered (every attempt timed out or could not connect), as apart from
 * STORE_ERR, an answer that was an error. */
enum { STORE_OK = 0, STORE_ERR = -1, STORE_NOT_FOUND = 1, STORE_FULL = -2, STORE_UNREACHABLE = -3 };

/* The message a client is given for a failed store call's code. */
const char *store_error_text(int rc);

struct store *store_open(const struct config *cfg, char *err);
void store_close(struct store *s);

/* 1 when bucket and key are safe and well formed. store_valid_key is the
 * strict rule for keys that become file names (the local driver, and the
 * keys adsmith makes itself: [A-Za-z0-9._-] segments, none starting with a
 * dot); store_s3_valid_key is S3's rule (1-1024 bytes of UTF-8, no control
 * characters). store_key_ok applies the rule of s's driver. */
int store_valid_bucket(const char *bucket);
int store_valid_key(const char *key);
int store_s3_valid_key(const char *key);
int store_key_ok(const struct store *s, const char *key);

int store_put(struct store *s, const char *bucket, const char *key,
              const void *data, size_t len, const char *content_type, char *err);
/* With user metadata (names without the x-amz-meta- prefix, values plain
 * ASCII). The S3 driver sends them as x-amz-meta-*; the local driver keeps
 * only the content type. */
struct sigv4_pair;
int store_put_meta(struct store *s, const char *bucket, const char *key, const void *data, size_t len,
                   const char *content_type, const struct sigv4_pair *meta, size_t nmeta, char *err);
/* PutObject as a call an event loop runs (outcall.h: outcall_begin, the
 * easy handle in a curl multi, outcall_end, outcall_next_try for retries),
 * so a slow store does not hold the loop up: the data is copied, the
 * request signed now, the store's timeouts and retry policy set. The call
 * is the caller's (outcall_free) and does not use the store's own handle.
 * Only drivers whose writes go over the network have it (S3):
 * store_has_put_call says which; the others are written with
 * store_put_meta. NULL with a message. */
struct outcall;
int store_has_put_call(const struct store *s);
struct outcall *store_put_call(struct store *s, const char *bucket, const char *key, const void *data, size_t len,
                               const char *content_type, const struct sigv4_pair *meta, size_t nmeta, char *err);
int store_head(struct store *s, const char *bucket, const char *key,
               struct store_info *info, char *err);
/* Reads at most maxbytes; *data malloc'd, caller frees. */
int store_get(struct store *s, const char *bucket, const char *key, size_t maxbytes,
              char **data, size_t *len, char *err);
/* STORE_OK also when there was no such object (deleting is idempotent). */
int store_delete(struct store *s, const char *bucket, const char *key, char *err);

/* Presigned URL for method (PUT requires content_type to be sent as signed;
 * the local driver presigns PUT only). */
char *store_presign(struct store *s, const char *method, const char *bucket, const char *key,
                    const char *content_type, long expires, time_t now, char *err);
/* Presigned PUT URL that requires the given Content-Type. */
char *store_presign_put(struct store *s, const char *bucket, const char *key,
                        const char *content_type, long expires, time_t now, char *err);
/* URL anyone can GET (generated assets). */
char *store_public_url(struct store *s, const char *bucket, const char *key);

/* Local driver: verifies an incoming presigned PUT on /objects/. raw_path is
 * the request path as received ("/objects/bucket/key"), raw_query the query
 * string. On success writes bucket and key (decoded) into the out buffers. */
int store_verify_put(struct store *s, const char *raw_path, const char *raw_query,
                     const struct sigv4_pair *headers, size_t nheaders, time_t now,
                     char *bucket, size_t bucketsz, char *key, size_t keysz, char *err);

#endif
