/* adsmithctl prune, user export, user delete (see adsmithctl_data.h). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "adsmithctl_data.h"
#include "auth.h"
#include "campaignq.h"
#include "jobq.h"
#include "lifecycle.h"
#include "products.h"
#include "store.h"
#include "uploads.h"
#include "util.h"
#include "webhookq.h"

typedef int (*prune_fn)(struct db *db, long secs, int dry, struct lc_count *out, char *err);

/* The kinds in the order they are pruned: products before uploads, so an
 * upload whose last product goes is unused in the same run. */
static const struct {
    const char *kind;
    const char *setting;
    prune_fn fn;
} prune_kinds[] = {
    { "webhook_deliveries", "retain_finished_jobs", webhookq_prune },
    { "campaign_jobs", "retain_finished_jobs", campaignq_prune },
    { "image_jobs_failed", "retain_finished_jobs", jobq_prune_failed },
    { "images", "retain_images", jobq_prune_images },
    { "products", "retain_products", products_prune },
    { "uploads_unused", "retain_uploads_unused", uploads_prune },
};
#define NKINDS (sizeof prune_kinds / sizeof prune_kinds[0])

static const char *setting_value(const struct config *cfg, const char *setting)
{
    if (strcmp(setting, "retain_finished_jobs") == 0)
        return cfg->retain_finished_jobs;
    if (strcmp(setting, "retain_images") == 0)
        return cfg->retain_images;
    if (strcmp(setting, "retain_products") == 0)
        return cfg->retain_products;
    return cfg->retain_uploads_unused;
}

static int fail(const char *what, const char *err)
{
    fprintf(stderr, "adsmithctl: %s: %s\n", what, err);
    return 1;
}

/* Keys in a dry run's sample are printed escaped: they came from users. */
static void print_sample(const struct lc_count *c)
{
    int i;

    for (i = 0; i < c->nsample; i++) {
        json_object *s = json_object_new_string(c->sample[i]);
        printf("  e.g. %s\n",
               json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(s);
    }
}

static int drain(const struct config *cfg, struct db *db, struct store *s, const char *what)
{
    struct lc_count c;
    char err[ADS_ERRSZ];

    if (lc_objects_drain(db, s, cfg->assets_bucket, &c, err) != DB_OK) {
        printf("%-20s %ld\n", "objects", c.rows);
        return fail(what, err);
    }
    printf("%-20s %ld\n", "objects", c.rows);
    if (c.left > 0)
        fprintf(stderr, "adsmithctl: %s: %ld queued object key(s) this store cannot hold were dropped\n", what,
                c.left);
    return 0;
}

int ctl_prune(const struct config *cfg, struct db *db, int argc, char **argv)
{
    char err[ADS_ERRSZ];
    struct store *s = NULL;
    struct lc_count c;
    int dry = 0, rc = 0;
    size_t i;

    if (argc == 1 && strcmp(argv[0], "--dry-run") == 0)
        dry = 1;
    else if (argc != 0)
        return CTL_USAGE;
    /* The store first: rows are only deleted when their objects can be. */
    if (!dry && (s = store_open(cfg, err)) == NULL)
        return fail("prune", err);
    if (dry)
        printf("dry run: nothing is deleted; what a prune would delete now:\n");
    for (i = 0; i < NKINDS; i++) {
        const char *v = setting_value(cfg, prune_kinds[i].setting);
        long secs;
        if (cfg_duration(v, &secs) != 0) {
            rc = fail("prune", "a retention setting is not a duration");
            break;
        }
        if (secs == CFG_FOREVER) {
            printf("%-20s kept (%s = forever)\n", prune_kinds[i].kind, prune_kinds[i].setting);
            continue;
        }
        if (prune_kinds[i].fn(db, secs, dry, &c, err) != DB_OK) {
            printf("%-20s %ld\n", prune_kinds[i].kind, c.rows);
            rc = fail("prune", err);
            break;
        }
        printf("%-20s %ld\n", prune_kinds[i].kind, c.rows);
        if (dry)
            print_sample(&c);
    }
    if (dry) {
        if (lc_objects_pending(db, &c, err) != DB_OK)
            return fail("prune", err);
        printf("%-20s %ld\n", "objects_queued", c.rows);
        print_sample(&c);
        return rc;
    }
    /* Also after a failure: what was deleted so far takes its objects. */
    if (drain(cfg, db, s, "prune") != 0)
        rc = 1;
    store_close(s);
    return rc;
}

/* Adds "url" to each object of a (having bucket_field and key_field): a
 * presigned GET link, else the public URL of a generated image (the local
 * store presigns uploads only), else null. */
static void add_links(struct store *s, json_object *a, const char *bucket_field, const char *key_field,
                      long secs, int is_image)
{
    time_t now = time(NULL);
    size_t i;

    for (i = 0; i < json_object_array_length(a); i++) {
        json_object *o = json_object_array_get_idx(a, i), *b, *k;
        char err[ADS_ERRSZ];
        char *url = NULL;
        if (!json_object_object_get_ex(o, bucket_field, &b) || !json_object_object_get_ex(o, key_field, &k) ||
            !json_object_is_type(b, json_type_string) || !json_object_is_type(k, json_type_string))
            continue;
        url = store_presign(s, "GET", json_object_get_string(b), json_object_get_string(k), NULL, secs, now, err);
        if (url == NULL && is_image)
            url = store_public_url(s, json_object_get_string(b), json_object_get_string(k));
        json_object_object_add(o, "url", url ? json_object_new_string(url) : NULL);
        free(url);
    }
}

static int user_export(const struct config *cfg, struct db *db, const char *user, long link_secs)
{
    json_object *doc = json_object_new_object(), *part;
    char err[ADS_ERRSZ], now[21];
    struct store *s = NULL;
    int rc = 0;

    ads_fmt_iso8601(time(NULL), now);
    json_object_object_add(doc, "user_id", json_object_new_string(user));
    json_object_object_add(doc, "exported_at", json_object_new_string(now));
    if (auth_export(db, user, &part, err) != DB_OK)
        goto failed;
    json_object_object_add(doc, "api_keys", part);
    if (uploads_export(db, user, &part, err) != DB_OK)
        goto failed;
    json_object_object_add(doc, "uploads", part);
    if (products_export(db, user, &part, err) != DB_OK)
        goto failed;
    json_object_object_add(doc, "products", part);
    if (campaignq_export(db, user, &part, err) != DB_OK)
        goto failed;
    json_object_object_add(doc, "campaign_jobs", part);
    if (jobq_export(db, user, cfg->assets_bucket, &part, err) != DB_OK)
        goto failed;
    json_object_object_add(doc, "images", part);
    if (link_secs > 0) {
        if ((s = store_open(cfg, err)) == NULL)
            goto failed;
        json_object_object_add(doc, "links_expire_in", json_object_new_int64(link_secs));
        json_object_object_get_ex(doc, "uploads", &part);
        add_links(s, part, "bucket", "s3_key", link_secs, 0);
        json_object_object_get_ex(doc, "products", &part);
        add_links(s, part, "s3_bucket", "s3_key", link_secs, 0);
        json_object_object_get_ex(doc, "images", &part);
        add_links(s, part, "bucket", "s3_key", link_secs, 1);
        store_close(s);
    }
    printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
    return 0;
failed:
    rc = fail("user export", err);
    json_object_put(doc);
    return rc;
}

typedef int (*delete_fn)(struct db *db, const char *user, struct lc_count *out, char *err);

/* Keys first: the user can start nothing new while the rest goes. */
static const struct {
    const char *kind;
    delete_fn fn;
} delete_kinds[] = {
    { "api_keys", auth_delete_user },
    { "webhook_deliveries", webhookq_delete_user },
    { "campaign_jobs", campaignq_delete_user },
    { "images", jobq_delete_user },
    { "products", products_delete_user },
    { "uploads", uploads_delete_user },
};

static int user_delete(const struct config *cfg, struct db *db, const char *user)
{
    char err[ADS_ERRSZ];
    struct store *s;
    struct lc_count c;
    long left = 0;
    int rc = 0;
    size_t i;

    if ((s = store_open(cfg, err)) == NULL)
        return fail("user delete", err);
    for (i = 0; i < sizeof delete_kinds / sizeof delete_kinds[0]; i++) {
        if (delete_kinds[i].fn(db, user, &c, err) != DB_OK) {
            rc = fail("user delete", err);
            break;
        }
        printf("%-20s %ld\n", delete_kinds[i].kind, c.rows);
        if (c.left > 0)
            fprintf(stderr, "adsmithctl: user delete: kept %ld %s running now; run again when they finish\n",
                    c.left, delete_kinds[i].kind);
        left += c.left;
    }
    if (drain(cfg, db, s, "user delete") != 0)
        rc = 1;
    store_close(s);
    return rc != 0 || left > 0 ? 1 : 0;
}

int ctl_user(const struct config *cfg, struct db *db, int argc, char **argv)
{
    long secs = 0;

    if (argc < 2)
        return CTL_USAGE;
    if (!auth_valid_user(argv[1])) {
        fprintf(stderr, "adsmithctl: user: a user is 1-128 of [A-Za-z0-9_.@-]\n");
        return 2;
    }
    if (strcmp(argv[0], "export") == 0) {
        if (argc == 4 && strcmp(argv[2], "--links") == 0 && ads_parse_long(argv[3], 1, 604800, &secs) == 0)
            return user_export(cfg, db, argv[1], secs);
        if (argc == 4 && strcmp(argv[2], "--links") == 0) {
            fprintf(stderr, "adsmithctl: user export: --links takes 1 to 604800 seconds\n");
            return 2;
        }
        return argc == 2 ? user_export(cfg, db, argv[1], 0) : CTL_USAGE;
    }
    if (strcmp(argv[0], "delete") == 0) {
        if (argc == 3 && strcmp(argv[2], "--yes") == 0)
            return user_delete(cfg, db, argv[1]);
        if (argc == 2) {
            fprintf(stderr, "adsmithctl: user delete: this deletes every key, row and object of %s for good; "
                            "add --yes to do it\n", argv[1]);
            return 2;
        }
    }
    return CTL_USAGE;
}
