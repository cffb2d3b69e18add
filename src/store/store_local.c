/* The local object store: a directory tree, written atomically. */
#include "store_int.h"
#include "buf.h"
#include "log.h"
#include "sigv4.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct local_store {
    struct store base;
    char *root;
    char *base_url;       /* public_base_url without a trailing '/' */
    char *host;           /* host[:port] of base_url, signed into URLs */
    char *access_key;
    char *secret_key;
    char *session_token;
    char *region;
};

static char *dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

static const struct store_ops local_ops;

struct store *store_local_open(const struct config *cfg, char *err)
{
    struct local_store *s;
    const char *h;
    size_t n;

    /* The upload URLs' signing keys are the store's own, never AWS
     * credentials. Older configurations kept them in s3_*: still read,
     * with a warning, so that they keep working. */
    int legacy = cfg->local_signing_secret[0] == '\0';

    if (legacy && (cfg->s3_access_key_id[0] == '\0' || cfg->s3_secret_access_key[0] == '\0')) {
        ads_errf(err, "storage = local signs upload URLs: set local_signing_secret");
        return NULL;
    }
    if (!legacy && cfg->local_signing_key_id[0] == '\0') {
        ads_errf(err, "storage = local: local_signing_key_id must not be empty");
        return NULL;
    }
    if (legacy)
        log_warn("storage = local signs upload URLs with s3_access_key_id/s3_secret_access_key: deprecated, "
                 "move them to local_signing_key_id/local_signing_secret (s3_* are for storage = s3)");
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    s->base.ops = &local_ops;
    s->root = strdup(cfg->storage_root);
    s->base_url = strdup(cfg->public_base_url);
    h = strstr(cfg->public_base_url, "://") + 3;
    n = strcspn(h, "/");
    s->host = strndup(h, n);
    s->access_key = dup_or_empty(legacy ? cfg->s3_access_key_id : cfg->local_signing_key_id);
    s->secret_key = dup_or_empty(legacy ? cfg->s3_secret_access_key : cfg->local_signing_secret);
    s->session_token = dup_or_empty(legacy ? cfg->s3_session_token : "");
    s->region = dup_or_empty(cfg->s3_region);
    if (!s->root || !s->base_url || !s->host || !s->access_key || !s->secret_key ||
        !s->session_token || !s->region) {
        store_close(&s->base);
        ads_errf(err, "out of memory");
        return NULL;
    }
    n = strlen(s->base_url);
    while (n > 0 && s->base_url[n - 1] == '/')
        s->base_url[--n] = '\0';
    return &s->base;
}

int store_is_local(const struct store *s)
{
    return s != NULL && s->ops == &local_ops;
}

static void local_close(struct store *base)
{
    struct local_store *s = (struct local_store *)base;

    free(s->root);
    free(s->base_url);
    free(s->host);
    free(s->access_key);
    free(s->secret_key);
    free(s->session_token);
    free(s->region);
    free(s);
}

static int object_path(const struct local_store *s, const char *bucket, const char *key,
                       char *out, size_t outsz, char *err)
{
    if (!store_valid_bucket(bucket) || !store_valid_key(key)) {
        ads_errf(err, "invalid bucket or key");
        return -1;
    }
    if ((size_t)snprintf(out, outsz, "%s/%s/%s", s->root, bucket, key) >= outsz) {
        ads_errf(err, "object path too long");
        return -1;
    }
    return 0;
}

/* The content type lives beside the tree, out of the publicly served part. */
static int meta_path(const struct local_store *s, const char *bucket, const char *key, char *out, size_t outsz)
{
    return (size_t)snprintf(out, outsz, "%s/.meta/%s/%s", s->root, bucket, key) < outsz ? 0 : -1;
}

static int mkdirs_for(const char *path, char *err)
{
    char tmp[4096];
    char *p;

    if (strlen(path) >= sizeof tmp) {
        ads_errf(err, "path too long");
        return -1;
    }
    strcpy(tmp, path);
    for (p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            ads_errf(err, "cannot create directory: %s", strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char dir[4096];
    char *slash;
    int fd, rc;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        return 0;
    *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* STORE_FULL when errno says the disk or the quota is full. */
static int put_failure(void)
{
    return errno == ENOSPC || errno == EDQUOT ? STORE_FULL : STORE_ERR;
}

/* Temp file in the same directory, fsync, rename: readers see all or
 * nothing. STORE_OK, STORE_FULL or STORE_ERR; on failure no file is left. */
static int write_atomic(const char *path, const void *data, size_t len, char *err)
{
    char tmp[4200], rnd[17];
    const char *p = data;
    int fd;

    if (mkdirs_for(path, err) != 0)
        return put_failure();
    if (ads_random_hex(rnd, 8) != 0) {
        ads_errf(err, "no randomness");
        return -1;
    }
    {
        const char *slash = strrchr(path, '/');
        snprintf(tmp, sizeof tmp, "%.*s/.tmp-%s", (int)(slash - path), path, rnd);
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        ads_errf(err, "cannot create object: %s", strerror(errno));
        return put_failure();
    }
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int rc = w < 0 ? put_failure() : STORE_ERR;
            ads_errf(err, "write failed: %s", strerror(errno));
            close(fd);
            unlink(tmp);
            return rc;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int rc = put_failure();
        ads_errf(err, "fsync failed: %s", strerror(errno));
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        int rc = put_failure();
        ads_errf(err, "rename failed: %s", strerror(errno));
        unlink(tmp);
        return rc;
    }
    fsync_dir_of(path);
    return STORE_OK;
}

static int local_put(struct store *base, const char *bucket, const char *key,
                     const void *data, size_t len, const char *content_type,
                     const struct sigv4_pair *meta, size_t nmeta, char *err)
{
    struct local_store *s = (struct local_store *)base;
    char path[4096], mpath[4096];
    int rc;

    (void)meta;    /* the local store keeps the content type only */
    (void)nmeta;
    if (object_path(s, bucket, key, path, sizeof path, err) != 0)
        return STORE_ERR;
    if (content_type == NULL || meta_path(s, bucket, key, mpath, sizeof mpath) != 0)
        mpath[0] = '\0';
    if (mpath[0] != '\0' && (rc = write_atomic(mpath, content_type, strlen(content_type), err)) != STORE_OK)
        return rc;
    rc = write_atomic(path, data, len, err);
    if (rc != STORE_OK && mpath[0] != '\0')
        unlink(mpath);    /* no content type left behind for an object that is not there */
    return rc;
}

static void type_from_ext(const char *key, char *out, size_t outsz)
{
    const char *dot = strrchr(key, '.');
    const char *t = "application/octet-stream";

    if (dot != NULL) {
        if (strcmp(dot, ".png") == 0)
            t = "image/png";
        else if (strcmp(dot, ".jpg") == 0 || strcmp(dot, ".jpeg") == 0)
            t = "image/jpeg";
        else if (strcmp(dot, ".webp") == 0)
            t = "image/webp";
    }
    snprintf(out, outsz, "%s", t);
}

static int local_head(struct store *base, const char *bucket, const char *key,
                      struct store_info *info, char *err)
{
    struct local_store *s = (struct local_store *)base;
    char path[4096], mpath[4096];
    struct stat st;
    int fd;

    if (object_path(s, bucket, key, path, sizeof path, err) != 0)
        return STORE_ERR;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return STORE_NOT_FOUND;
        ads_errf(err, "stat failed: %s", strerror(errno));
        return STORE_ERR;
    }
    if (!S_ISREG(st.st_mode))
        return STORE_NOT_FOUND;
    info->size = (long long)st.st_size;
    info->last_modified = st.st_mtime;
    type_from_ext(key, info->content_type, sizeof info->content_type);
    if (meta_path(s, bucket, key, mpath, sizeof mpath) == 0 && (fd = open(mpath, O_RDONLY)) >= 0) {
        ssize_t n = read(fd, info->content_type, sizeof info->content_type - 1);
        if (n > 0)
            info->content_type[n] = '\0';
        else
            type_from_ext(key, info->content_type, sizeof info->content_type);
        close(fd);
    }
    return STORE_OK;
}

static int local_get(struct store *base, const char *bucket, const char *key, size_t maxbytes,
                     char **data, size_t *len, char *err)
{
    struct local_store *s = (struct local_store *)base;
    char path[4096];

    if (object_path(s, bucket, key, path, sizeof path, err) != 0)
        return STORE_ERR;
    if (access(path, F_OK) != 0)
        return STORE_NOT_FOUND;
    return ads_read_file(path, maxbytes, data, len, err) == 0 ? STORE_OK : STORE_ERR;
}

static int local_del(struct store *base, const char *bucket, const char *key, char *err)
{
    struct local_store *s = (struct local_store *)base;
    char path[4096], mpath[4096];

    if (object_path(s, bucket, key, path, sizeof path, err) != 0)
        return STORE_ERR;
    if (meta_path(s, bucket, key, mpath, sizeof mpath) == 0)
        unlink(mpath);
    if (unlink(path) != 0 && errno != ENOENT) {
        ads_errf(err, "delete failed: %s", strerror(errno));
        return STORE_ERR;
    }
    return STORE_OK;
}

static void creds_of(const struct local_store *s, struct sigv4_creds *c)
{
    c->access_key = s->access_key;
    c->secret_key = s->secret_key;
    c->session_token = s->session_token;
    c->region = s->region;
    c->service = "s3";
}

static char *local_presign(struct store *base, const char *method, const char *bucket, const char *key,
                           const char *content_type, long expires, time_t now, char *err)
{
    struct local_store *s = (struct local_store *)base;
    struct sigv4_creds c;
    struct sigv4_pair hdrs[2] = { { "content-type", content_type }, { "host", s->host } };
    struct sigv4_request r;
    char path[2200];
    char *q;
    struct buf url;

    if (strcmp(method, "PUT") != 0) {
        ads_errf(err, "the local store presigns uploads (PUT) only");
        return NULL;
    }
    snprintf(path, sizeof path, "/objects/%s/%s", bucket, key);
    creds_of(s, &c);
    memset(&r, 0, sizeof r);
    r.method = "PUT";
    r.path = path;
    r.headers = hdrs;
    r.nheaders = 2;
    r.payload_hash = SIGV4_UNSIGNED;
    q = sigv4_presign_query(&c, &r, now, expires);
    if (q == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    buf_init(&url);
    buf_adds(&url, s->base_url);
    sigv4_uri_encode(&url, path, strlen(path), 1);
    buf_addc(&url, '?');
    buf_adds(&url, q);
    free(q);
    return buf_steal(&url);
}

static char *local_public_url(struct store *base, const char *bucket, const char *key)
{
    struct local_store *s = (struct local_store *)base;
    struct buf url;

    buf_init(&url);
    buf_adds(&url, s->base_url);
    buf_adds(&url, "/objects/");
    sigv4_uri_encode(&url, bucket, strlen(bucket), 0);
    buf_addc(&url, '/');
    sigv4_uri_encode(&url, key, strlen(key), 1);
    return buf_steal(&url);
}

int store_verify_put(struct store *base, const char *raw_path, const char *raw_query,
                     const struct sigv4_pair *headers, size_t nheaders, time_t now,
                     char *bucket, size_t bucketsz, char *key, size_t keysz, char *err)
{
    static const char *const required[] = { "content-type", NULL };
    struct local_store *s = (struct local_store *)base;
    struct sigv4_creds c;
    struct buf dec;
    const char *rest, *slash;
    int rc = -1;

    if (!store_is_local(base)) {
        ads_errf(err, "uploads go to the object store directly");
        return -1;
    }
    if (strncmp(raw_path, "/objects/", 9) != 0) {
        ads_errf(err, "not an object path");
        return -1;
    }
    creds_of(s, &c);
    if (sigv4_verify_presigned(&c, "PUT", raw_path, raw_query, headers, nheaders, required, now, err) != 0)
        return -1;
    buf_init(&dec);
    if (sigv4_uri_decode(&dec, raw_path + 9, strlen(raw_path + 9)) != 0 || (buf_add(&dec, "", 0), dec.oom)) {
        ads_errf(err, "malformed path");
        goto out;
    }
    rest = dec.data;
    slash = strchr(rest, '/');
    if (slash == NULL || (size_t)(slash - rest) >= bucketsz || strlen(slash + 1) >= keysz) {
        ads_errf(err, "malformed object path");
        goto out;
    }
    snprintf(bucket, bucketsz, "%.*s", (int)(slash - rest), rest);
    snprintf(key, keysz, "%s", slash + 1);
    if (!store_valid_bucket(bucket) || !store_valid_key(key)) {
        ads_errf(err, "invalid bucket or key");
        goto out;
    }
    rc = 0;
out:
    buf_free(&dec);
    return rc;
}

static const struct store_ops local_ops = {
    local_put, local_head, local_get, local_del, local_presign, local_public_url, local_close, store_valid_key,
    NULL,
};
