/*
 * Internals shared by the store drivers: every driver's struct begins with
 * struct store, whose ops table the public functions dispatch through.
 */
#ifndef ADS_STORE_INT_H
#define ADS_STORE_INT_H

#include "store.h"

struct store_ops {
    int (*put)(struct store *s, const char *bucket, const char *key, const void *data, size_t len,
               const char *content_type, const struct sigv4_pair *meta, size_t nmeta, char *err);
    int (*head)(struct store *s, const char *bucket, const char *key, struct store_info *info, char *err);
    int (*get)(struct store *s, const char *bucket, const char *key, size_t maxbytes, char **data,
               size_t *len, char *err);
    int (*del)(struct store *s, const char *bucket, const char *key, char *err);
    char *(*presign)(struct store *s, const char *method, const char *bucket, const char *key,
                     const char *content_type, long expires, time_t now, char *err);
    char *(*public_url)(struct store *s, const char *bucket, const char *key);
    void (*close)(struct store *s);
    /* The driver's own rule for object keys: the local driver's keys are
     * file names, S3's are whatever S3 accepts. */
    int (*valid_key)(const char *key);
    /* NULL when the driver has no network call to offer (store_put_call). */
    struct outcall *(*put_call)(struct store *s, const char *bucket, const char *key, const void *data, size_t len,
                                const char *content_type, const struct sigv4_pair *meta, size_t nmeta, char *err);
};

struct store {
    const struct store_ops *ops;
};

struct store *store_local_open(const struct config *cfg, char *err);
struct store *store_s3_open(const struct config *cfg, char *err);
int store_is_local(const struct store *s);

#endif
