/*
 * adsmithctl: operator commands over the library.
 *   migrate [--dir DIR]                 apply pending schema migrations
 *   apikey create --user USER           create a key (printed once)
 *   apikey list | apikey revoke ID
 *   config check                        validate the configuration
 *   storage check                       put/head/get/delete round trip on the store
 *   presign --method PUT|GET --bucket B --key K [...]   print a presigned S3 URL
 *   jobs list [--status S] [--limit N] | jobs retry ID | jobs retry --all-dead
 *   prune [--dry-run]                   delete what the retention settings let go
 *   user export USER [--links SECONDS] | user delete USER --yes
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "adsmithctl_data.h"
#include "auth.h"
#include "awscreds.h"
#include "cfg.h"
#include "db.h"
#include "jobq.h"
#include "kb.h"
#include "migrate.h"
#include "store.h"
#include "util.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: adsmithctl [-c CONFIG] COMMAND\n"
            "  migrate [--dir DIR]           apply pending migrations (default DIR: data_dir/sql)\n"
            "  apikey create --user USER     create an API key; it is printed once\n"
            "  apikey list                   list keys (no secrets)\n"
            "  apikey revoke ID              revoke a key\n"
            "  config check                  validate the configuration and print it\n"
            "  storage check                 put/head/get/delete round trip on the configured store\n"
            "  presign --method PUT|GET --bucket B --key K [--content-type T] [--expires SECONDS]\n"
            "          [--date YYYYMMDDTHHMMSSZ] [--endpoint URL] [--region R] [--path-style]\n"
            "                                print a presigned S3 URL (credentials from the AWS provider chain)\n"
            "  prune [--dry-run]             delete rows and objects past their retention (retain_*)\n"
            "  user export USER [--links SECONDS]   print everything kept about USER as JSON\n"
            "  user delete USER --yes        delete USER's keys, rows and objects\n");
    return 2;
}

static int fail(const char *what, const char *err)
{
    fprintf(stderr, "adsmithctl: %s: %s\n", what, err);
    return 1;
}

static int cmd_migrate(struct config *cfg, struct db *db, int argc, char **argv)
{
    char dir[4096], err[ADS_ERRSZ];

    snprintf(dir, sizeof dir, "%s/sql", cfg->data_dir);
    if (argc >= 2 && strcmp(argv[0], "--dir") == 0)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else if (argc != 0)
        return usage();
    if (migrate_run(db, dir, stdout, err) != DB_OK)
        return fail("migrate", err);
    printf("schema is up to date\n");
    return 0;
}

static int cmd_apikey(struct db *db, int argc, char **argv)
{
    char err[ADS_ERRSZ];
    int rc;

    if (argc >= 1 && strcmp(argv[0], "create") == 0) {
        char key[AUTH_KEY_LEN + 1];
        long id;
        if (argc != 3 || strcmp(argv[1], "--user") != 0)
            return usage();
        if (auth_create(db, argv[2], key, &id, err) != DB_OK)
            return fail("apikey create", err);
        fprintf(stderr, "key %ld created for %s; it is shown only now:\n", id, argv[2]);
        printf("%s\n", key);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return auth_list(db, stdout, err) == DB_OK ? 0 : fail("apikey list", err);
    if (argc == 2 && strcmp(argv[0], "revoke") == 0) {
        long id;
        if (ads_parse_long(argv[1], 1, 1L << 62, &id) != 0)
            return usage();
        rc = auth_revoke(db, id, err);
        if (rc == 1)
            return fail("apikey revoke", "no such active key");
        if (rc != DB_OK)
            return fail("apikey revoke", err);
        printf("key %ld revoked\n", id);
        return 0;
    }
    return usage();
}

static int cmd_jobs_list(struct db *db, int argc, char **argv)
{
    const char *status = NULL;
    long limit = 50;
    char err[ADS_ERRSZ];
    int i;

    for (i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--status") == 0)
            status = argv[i + 1];
        else if (strcmp(argv[i], "--limit") != 0 || ads_parse_long(argv[i + 1], 1, 100000, &limit) != 0)
            return usage();
    }
    if (i != argc)
        return usage();
    if (status != NULL && strcmp(status, "pending") != 0 && strcmp(status, "completed") != 0 &&
        strcmp(status, "failed") != 0)
        return fail("jobs list", "--status must be pending, completed or failed");
    return jobq_list(db, status, limit, stdout, err) == DB_OK ? 0 : fail("jobs list", err);
}

static int cmd_jobs(struct db *db, int argc, char **argv)
{
    char err[ADS_ERRSZ];
    long n = 0;

    if (argc >= 1 && strcmp(argv[0], "list") == 0)
        return cmd_jobs_list(db, argc - 1, argv + 1);
    if (argc != 2 || strcmp(argv[0], "retry") != 0)
        return usage();
    if (strcmp(argv[1], "--all-dead") == 0) {
        if (jobq_retry(db, NULL, &n, err) != DB_OK)
            return fail("jobs retry", err);
        printf("%ld failed job(s) put back in the queue\n", n);
        return 0;
    }
    if (!ads_all_chars(argv[1], 1, 64, "_-"))
        return fail("jobs retry", "a request id is 1-64 of [A-Za-z0-9_-]");
    if (jobq_retry(db, argv[1], &n, err) != DB_OK)
        return fail("jobs retry", err);
    if (n == 0)
        return fail("jobs retry", "no failed job with that id");
    printf("job %s put back in the queue\n", argv[1]);
    return 0;
}

/* Says where one chain's credentials come from (never the secret nor the
 * session token). 0, or -1 when they cannot be had. */
static int print_aws_source(struct awscreds *c, const char *user, char *err)
{
    char line[512];

    if (c == NULL || awscreds_describe(c, line, sizeof line, err) != 0)
        return -1;
    printf("# aws credentials (%s): %s\n", user, line);
    return 0;
}

static int cmd_config_check(struct config *cfg)
{
    char err[ADS_ERRSZ];
    struct store *s = store_open(cfg, err);
    struct kb *kb;

    if (s == NULL)
        return fail("config", err);
    store_close(s);
    if (strcmp(cfg->storage, "s3") == 0 && print_aws_source(awscreds_s3(cfg, err), "storage", err) != 0)
        return fail("config", err);
    if ((strcmp(cfg->text_provider, "bedrock") == 0 || strcmp(cfg->image_provider, "bedrock") == 0 ||
         strcmp(cfg->vision_provider, "rekognition") == 0) &&
        print_aws_source(awscreds_ai(cfg, err), "ai services", err) != 0)
        return fail("config", err);
    kb = kb_load_dir(cfg->data_dir, err);
    if (kb == NULL)
        return fail("config", err);
    printf("# knowledge base: %d markets\n", kb_count(kb));
    kb_free(kb);
    cfg_dump(cfg, stdout);
    printf("# configuration ok\n");
    return 0;
}

/* Signed requests carry this machine's time: S3 refuses a header-signed
 * request more than 15 minutes off, and a presigned URL is expired (or not
 * yet valid) as soon as the skew passes its lifetime. The store's clock is
 * read from the object it just wrote. Past CLOCK_WARN_S it is said; past
 * CLOCK_FAIL_S the check fails. */
#define CLOCK_WARN_S 60
#define CLOCK_FAIL_S 300

static int check_clock(time_t store_time, time_t sent, time_t answered)
{
    long skew;

    if (store_time <= 0)
        return STORE_OK;
    skew = (long)(store_time - sent);
    if (store_time >= sent && store_time <= answered)
        skew = 0;
    else if (store_time > answered)
        skew = (long)(store_time - answered);
    if (labs(skew) <= CLOCK_WARN_S) {
        printf("clock:  ok\n");
        return STORE_OK;
    }
    printf("clock:  %s: this machine's clock is %ld s %s the store's; presigned URLs that live less than "
           "that are refused as expired%s; set the clock (NTP)\n",
           labs(skew) > CLOCK_FAIL_S ? "FAILED" : "warning", labs(skew), skew > 0 ? "behind" : "ahead of",
           labs(skew) > 900 ? " and S3 refuses every signed request past 15 minutes" : "");
    return labs(skew) > CLOCK_FAIL_S ? STORE_ERR : STORE_OK;
}

static int cmd_storage_check(struct config *cfg)
{
    static const char payload[] = "adsmith storage check\n";
    struct store *s;
    struct store_info info;
    char err[ADS_ERRSZ], key[128], id[37];
    char *data = NULL;
    size_t len = 0;
    time_t sent, answered;
    int rc, clock_rc = STORE_OK;

    s = store_open(cfg, err);
    if (s == NULL)
        return fail("storage", err);
    ads_uuid4(id);
    snprintf(key, sizeof key, "adsmith-check/%s.txt", id);
    printf("store: %s, bucket %s, key %s\n", cfg->storage, cfg->uploads_bucket, key);
    sent = time(NULL);
    rc = store_put(s, cfg->uploads_bucket, key, payload, sizeof payload - 1, "text/plain", err);
    answered = time(NULL);
    printf("put:    %s%s\n", rc == STORE_OK ? "ok" : "FAILED: ", rc == STORE_OK ? "" : err);
    if (rc == STORE_OK) {
        rc = store_head(s, cfg->uploads_bucket, key, &info, err);
        if (rc == STORE_OK && info.size != (long long)(sizeof payload - 1)) {
            snprintf(err, ADS_ERRSZ, "size %lld, expected %zu", info.size, sizeof payload - 1);
            rc = STORE_ERR;
        }
        printf("head:   %s%s\n", rc == STORE_OK ? "ok" : "FAILED: ", rc == STORE_OK ? "" : rc == STORE_NOT_FOUND ? "not found" : err);
        if (rc == STORE_OK)
            clock_rc = check_clock(info.last_modified, sent, answered);
    }
    if (rc == STORE_OK) {
        rc = store_get(s, cfg->uploads_bucket, key, 4096, &data, &len, err);
        if (rc == STORE_OK && (len != sizeof payload - 1 || memcmp(data, payload, len) != 0)) {
            snprintf(err, ADS_ERRSZ, "content differs");
            rc = STORE_ERR;
        }
        printf("get:    %s%s\n", rc == STORE_OK ? "ok" : "FAILED: ", rc == STORE_OK ? "" : err);
        free(data);
    }
    if (rc == STORE_OK) {
        rc = store_delete(s, cfg->uploads_bucket, key, err);
        if (rc == STORE_OK && store_head(s, cfg->uploads_bucket, key, &info, err) != STORE_NOT_FOUND) {
            snprintf(err, ADS_ERRSZ, "object still there after delete");
            rc = STORE_ERR;
        }
        printf("delete: %s%s\n", rc == STORE_OK ? "ok" : "FAILED: ", rc == STORE_OK ? "" : err);
    }
    store_close(s);
    if (rc == STORE_OK)
        rc = clock_rc;
    printf(rc == STORE_OK ? "storage ok\n" : "storage check failed\n");
    return rc == STORE_OK ? 0 : 1;
}

/* Options come from the command line; credentials from the provider chain
 * (awscreds.h: s3_* or ADSMITH_S3_*, AWS_*, shared files, web identity,
 * container, instance), like aws s3 presign. */
static int cmd_presign(struct config *cfg, int argc, char **argv)
{
    const char *method = NULL, *bucket = NULL, *key = NULL, *ctype = NULL, *date = NULL;
    long expires = 3600;
    time_t when = time(NULL);
    char err[ADS_ERRSZ];
    struct store *s;
    char *url;
    int i;

    free(cfg->storage);
    cfg->storage = strdup("s3");
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--path-style") == 0) {
            free(cfg->s3_path_style);
            cfg->s3_path_style = strdup("yes");
            continue;
        }
        if (v == NULL)
            return usage();
        i++;
        if (strcmp(a, "--method") == 0)
            method = v;
        else if (strcmp(a, "--bucket") == 0)
            bucket = v;
        else if (strcmp(a, "--key") == 0)
            key = v;
        else if (strcmp(a, "--content-type") == 0)
            ctype = v;
        else if (strcmp(a, "--date") == 0)
            date = v;
        else if (strcmp(a, "--expires") == 0 && ads_parse_long(v, 1, 604800, &expires) == 0)
            continue;
        else if (strcmp(a, "--endpoint") == 0) {
            free(cfg->s3_endpoint);
            cfg->s3_endpoint = strdup(v);
        } else if (strcmp(a, "--region") == 0) {
            free(cfg->s3_region);
            cfg->s3_region = strdup(v);
        } else
            return usage();
    }
    if (method == NULL || bucket == NULL || key == NULL || (strcmp(method, "PUT") != 0 && strcmp(method, "GET") != 0))
        return usage();
    if (date != NULL && ads_parse_amzdate(date, &when) != 0)
        return fail("presign", "--date must be YYYYMMDDTHHMMSSZ");
    s = store_open(cfg, err);
    if (s == NULL)
        return fail("presign", err);
    url = store_presign(s, method, bucket, key, ctype, expires, when, err);
    store_close(s);
    if (url == NULL)
        return fail("presign", err);
    printf("%s\n", url);
    free(url);
    return 0;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct db *db;
    const char *path = NULL;
    char err[ADS_ERRSZ];
    int i = 1, rc;

    /* Before any thread starts: libcurl's global set-up is not thread-safe. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    if (argc > 2 && strcmp(argv[1], "-c") == 0) {
        path = argv[2];
        i = 3;
    }
    if (i >= argc)
        return usage();
    if (cfg_load(&cfg, cfg_path(path), err) != 0) {
        fprintf(stderr, "adsmithctl: %s\n", err);
        return 1;
    }
    if (strcmp(argv[i], "storage") == 0) {
        rc = (i + 1 < argc && strcmp(argv[i + 1], "check") == 0) ? cmd_storage_check(&cfg) : usage();
        cfg_free(&cfg);
        return rc;
    }
    if (strcmp(argv[i], "presign") == 0) {
        rc = cmd_presign(&cfg, argc - i - 1, argv + i + 1);
        cfg_free(&cfg);
        return rc;
    }
    if (strcmp(argv[i], "config") == 0) {
        rc = (i + 1 < argc && strcmp(argv[i + 1], "check") == 0) ? cmd_config_check(&cfg) : usage();
        cfg_free(&cfg);
        return rc;
    }
    db = db_open(cfg.database_url, err);
    if (db == NULL || db_ensure(db, err) != DB_OK) {
        cfg_free(&cfg);
        return fail("database", err);
    }
    if (strcmp(argv[i], "migrate") == 0)
        rc = cmd_migrate(&cfg, db, argc - i - 1, argv + i + 1);
    else if (strcmp(argv[i], "apikey") == 0)
        rc = cmd_apikey(db, argc - i - 1, argv + i + 1);
    else if (strcmp(argv[i], "jobs") == 0)
        rc = cmd_jobs(db, argc - i - 1, argv + i + 1);
    else if (strcmp(argv[i], "prune") == 0)
        rc = ctl_prune(&cfg, db, argc - i - 1, argv + i + 1);
    else if (strcmp(argv[i], "user") == 0)
        rc = ctl_user(&cfg, db, argc - i - 1, argv + i + 1);
    else
        rc = CTL_USAGE;
    if (rc == CTL_USAGE)
        rc = usage();
    db_close(db);
    cfg_free(&cfg);
    return rc;
}
