/* The store interface: driver choice and dispatch. */
#include "store_int.h"
#include "sigv4.h"
#include "util.h"

#include <string.h>

const char *store_error_text(int rc)
{
    if (rc == STORE_UNREACHABLE)
        return "Object storage did not answer in time; try again";
    if (rc == STORE_FULL)
        return "Object storage is out of space";
    return "Object storage failed";
}

struct store *store_open(const struct config *cfg, char *err)
{
    if (strcmp(cfg->storage, "local") == 0)
        return store_local_open(cfg, err);
    if (strcmp(cfg->storage, "s3") == 0)
        return store_s3_open(cfg, err);
    ads_errf(err, "storage driver '%s' is not available", cfg->storage);
    return NULL;
}

void store_close(struct store *s)
{
    if (s != NULL)
        s->ops->close(s);
}

static int checked(const struct store *s, const char *bucket, const char *key, char *err)
{
    if (!store_valid_bucket(bucket) || !store_key_ok(s, key)) {
        ads_errf(err, "invalid bucket or key");
        return 0;
    }
    return 1;
}

int store_put(struct store *s, const char *bucket, const char *key,
              const void *data, size_t len, const char *content_type, char *err)
{
    return store_put_meta(s, bucket, key, data, len, content_type, NULL, 0, err);
}

/* 1 when the object's name and metadata may be sent. */
static int put_checked(const struct store *s, const char *bucket, const char *key,
                       const struct sigv4_pair *meta, size_t nmeta, char *err)
{
    size_t i;

    if (!checked(s, bucket, key, err))
        return 0;
    for (i = 0; i < nmeta; i++) {
        if (!ads_all_chars(meta[i].name, 1, 64, "-") || strlen(meta[i].value) > 512 ||
            strpbrk(meta[i].value, "\r\n") != NULL) {
            ads_errf(err, "invalid object metadata");
            return 0;
        }
    }
    return 1;
}

int store_put_meta(struct store *s, const char *bucket, const char *key, const void *data, size_t len,
                   const char *content_type, const struct sigv4_pair *meta, size_t nmeta, char *err)
{
    if (!put_checked(s, bucket, key, meta, nmeta, err))
        return STORE_ERR;
    return s->ops->put(s, bucket, key, data, len, content_type, meta, nmeta, err);
}

int store_has_put_call(const struct store *s)
{
    return s->ops->put_call != NULL;
}

struct outcall *store_put_call(struct store *s, const char *bucket, const char *key, const void *data, size_t len,
                               const char *content_type, const struct sigv4_pair *meta, size_t nmeta, char *err)
{
    if (s->ops->put_call == NULL) {
        ads_errf(err, "this store has no PutObject call");
        return NULL;
    }
    if (!put_checked(s, bucket, key, meta, nmeta, err))
        return NULL;
    return s->ops->put_call(s, bucket, key, data, len, content_type, meta, nmeta, err);
}

int store_head(struct store *s, const char *bucket, const char *key, struct store_info *info, char *err)
{
    return checked(s, bucket, key, err) ? s->ops->head(s, bucket, key, info, err) : STORE_ERR;
}

int store_get(struct store *s, const char *bucket, const char *key, size_t maxbytes,
              char **data, size_t *len, char *err)
{
    return checked(s, bucket, key, err) ? s->ops->get(s, bucket, key, maxbytes, data, len, err) : STORE_ERR;
}

int store_delete(struct store *s, const char *bucket, const char *key, char *err)
{
    return checked(s, bucket, key, err) ? s->ops->del(s, bucket, key, err) : STORE_ERR;
}

char *store_presign(struct store *s, const char *method, const char *bucket, const char *key,
                    const char *content_type, long expires, time_t now, char *err)
{
    if (!checked(s, bucket, key, err))
        return NULL;
    return s->ops->presign(s, method, bucket, key, content_type, expires, now, err);
}

char *store_presign_put(struct store *s, const char *bucket, const char *key,
                        const char *content_type, long expires, time_t now, char *err)
{
    return store_presign(s, "PUT", bucket, key, content_type, expires, now, err);
}

char *store_public_url(struct store *s, const char *bucket, const char *key)
{
    return s->ops->public_url(s, bucket, key);
}

int store_valid_bucket(const char *bucket)
{
    return bucket != NULL && bucket[0] != '.' && ads_all_chars(bucket, 3, 63, "-.");
}

int store_valid_key(const char *key)
{
    const char *p = key;
    size_t total;

    if (key == NULL)
        return 0;
    total = strlen(key);
    if (total == 0 || total > 1024)
        return 0;
    while (*p != '\0') {
        size_t len = strcspn(p, "/");
        size_t i;
        if (len == 0 || p[0] == '.')
            return 0;
        for (i = 0; i < len; i++) {
            unsigned char c = (unsigned char)p[i];
            if (!(c < 128 && (c == '-' || c == '_' || c == '.' ||
                              (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))))
                return 0;
        }
        p += len;
        if (*p == '/') {
            p++;
            if (*p == '\0')
                return 0;
        }
    }
    return 1;
}

int store_key_ok(const struct store *s, const char *key)
{
    return key != NULL && s->ops->valid_key(key);
}

int store_s3_valid_key(const char *key)
{
    size_t n;
    const unsigned char *p;

    if (key == NULL)
        return 0;
    n = strlen(key);
    if (n == 0 || n > 1024 || ads_utf8_len(key) < 0)
        return 0;
    for (p = (const unsigned char *)key; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}
