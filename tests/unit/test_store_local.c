#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "sigv4.h"
#include "store.h"
#include "unit.h"
#include "util.h"

int main(void)
{
    struct config cfg;
    struct store *s;
    struct store_info info;
    char err[ADS_ERRSZ], root[] = "/tmp/adsmith-store-XXXXXX", bucket[64], key[1100];
    char *data = NULL, *url;
    size_t len = 0;

    CHECK(mkdtemp(root) != NULL);
    setenv("ADSMITH_STORAGE_ROOT", root, 1);
    setenv("ADSMITH_S3_ACCESS_KEY_ID", "AKIDLOCAL", 1);
    setenv("ADSMITH_S3_SECRET_ACCESS_KEY", "local-secret", 1);
    setenv("ADSMITH_PUBLIC_BASE_URL", "http://127.0.0.1:8080/", 1);
    CHECK(cfg_load(&cfg, NULL, err) == 0);
    s = store_open(&cfg, err);
    CHECK(s != NULL);

    CHECK(store_valid_key("uploads/u/20250101_000000_x.png"));
    CHECK(!store_valid_key("uploads/../etc/passwd"));
    CHECK(!store_valid_key("/abs"));
    CHECK(!store_valid_key("a//b"));
    CHECK(!store_valid_key("a/.hidden"));
    CHECK(!store_valid_key("a/b c"));
    CHECK(!store_valid_bucket(".."));

    CHECK(store_put(s, "adsmith-uploads", "uploads/u/a.png", "hello", 5, "image/png", err) == STORE_OK);
    CHECK(store_head(s, "adsmith-uploads", "uploads/u/a.png", &info, err) == STORE_OK);
    CHECK(info.size == 5 && strcmp(info.content_type, "image/png") == 0);
    CHECK(store_get(s, "adsmith-uploads", "uploads/u/a.png", 100, &data, &len, err) == STORE_OK);
    CHECK(len == 5 && memcmp(data, "hello", 5) == 0);
    free(data);
    CHECK(store_head(s, "adsmith-uploads", "uploads/u/missing.png", &info, err) == STORE_NOT_FOUND);
    CHECK(store_put(s, "adsmith-uploads", "../escape", "x", 1, NULL, err) == STORE_ERR);
    CHECK(store_delete(s, "adsmith-uploads", "uploads/u/a.png", err) == STORE_OK);
    CHECK(store_head(s, "adsmith-uploads", "uploads/u/a.png", &info, err) == STORE_NOT_FOUND);

    url = store_presign_put(s, "adsmith-uploads", "uploads/u/b.jpg", "image/jpeg", 600, time(NULL), err);
    {
        const char *want = "http://127.0.0.1:8080/objects/adsmith-uploads/uploads/u/b.jpg?X-Amz-";
        CHECK(url != NULL && strncmp(url, want, strlen(want)) == 0);
    }
    if (url != NULL) {
        struct sigv4_pair h[2] = { { "host", "127.0.0.1:8080" }, { "content-type", "image/jpeg" } };
        const char *q = strchr(url, '?') + 1;
        CHECK(store_verify_put(s, "/objects/adsmith-uploads/uploads/u/b.jpg", q, h, 2, time(NULL),
                               bucket, sizeof bucket, key, sizeof key, err) == 0);
        CHECK(strcmp(bucket, "adsmith-uploads") == 0 && strcmp(key, "uploads/u/b.jpg") == 0);
        h[0].value = "evil.example";
        CHECK(store_verify_put(s, "/objects/adsmith-uploads/uploads/u/b.jpg", q, h, 2, time(NULL),
                               bucket, sizeof bucket, key, sizeof key, err) != 0);
    }
    free(url);
    url = store_public_url(s, "adsmith-assets", "generated/u/x.png");
    CHECK(strcmp(url, "http://127.0.0.1:8080/objects/adsmith-assets/generated/u/x.png") == 0);
    free(url);
    store_close(s);
    cfg_free(&cfg);

    /* The local store's own signing keys: used when set (the s3_* ones, AWS
     * credentials for storage = s3, then sign nothing here), and required
     * when neither is set. */
    {
        static const struct { const char *key_id, *secret, *s3_key, *s3_secret, *signer; } cases[] = {
            { "adsmith-local", "own-secret", "AKIDLOCAL", "local-secret", "adsmith-local" },
            { "adsmith-local", "own-secret", "", "", "adsmith-local" },
            { "", "", "AKIDLOCAL", "local-secret", "AKIDLOCAL" },   /* older configurations */
            { "", "", "", "", NULL },
            { "", "own-secret", "", "", NULL },                    /* an empty key id */
        };
        size_t i;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char want[80];
            setenv("ADSMITH_LOCAL_SIGNING_KEY_ID", cases[i].key_id, 1);
            setenv("ADSMITH_LOCAL_SIGNING_SECRET", cases[i].secret, 1);
            setenv("ADSMITH_S3_ACCESS_KEY_ID", cases[i].s3_key, 1);
            setenv("ADSMITH_S3_SECRET_ACCESS_KEY", cases[i].s3_secret, 1);
            CHECK(cfg_load(&cfg, NULL, err) == 0);
            s = store_open(&cfg, err);
            CHECK((s != NULL) == (cases[i].signer != NULL));
            if (s == NULL) {
                CHECK(strstr(err, "local_signing") != NULL);
                cfg_free(&cfg);
                continue;
            }
            url = store_presign_put(s, "adsmith-uploads", "uploads/u/c.png", "image/png", 600, time(NULL), err);
            snprintf(want, sizeof want, "X-Amz-Credential=%s%%2F", cases[i].signer);
            CHECK(url != NULL && strstr(url, want) != NULL);
            free(url);
            store_close(s);
            cfg_free(&cfg);
        }
    }
    {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        CHECK(system(cmd) == 0);
    }
    return unit_done("store_local");
}
