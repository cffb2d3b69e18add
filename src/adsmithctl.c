/*
 * adsmithctl: operator commands over the library.
 *   migrate [--dir DIR]                 apply pending schema migrations
 *   apikey create --user USER           create a key (printed once)
 *   apikey list | apikey revoke ID
 *   config check                        validate the configuration
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cfg.h"
#include "db.h"
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
            "  config check                  validate the configuration and print it\n");
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

static int cmd_config_check(struct config *cfg)
{
    char err[ADS_ERRSZ];
    struct store *s = store_open(cfg, err);
    struct kb *kb;

    if (s == NULL)
        return fail("config", err);
    store_close(s);
    kb = kb_load_dir(cfg->data_dir, err);
    if (kb == NULL)
        return fail("config", err);
    printf("# knowledge base: %d markets\n", kb_count(kb));
    kb_free(kb);
    cfg_dump(cfg, stdout);
    printf("# configuration ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct db *db;
    const char *path = NULL;
    char err[ADS_ERRSZ];
    int i = 1, rc;

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
    else
        rc = usage();
    db_close(db);
    cfg_free(&cfg);
    return rc;
}
