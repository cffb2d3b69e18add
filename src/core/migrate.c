#include "migrate.h"
#include "util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK "7420131"   /* advisory lock key for migrations */

static int is_migration(const char *name)
{
    size_t n = strlen(name), i;

    if (n < 9 || strcmp(name + n - 4, ".sql") != 0 || name[3] != '_')
        return 0;
    for (i = 0; i < 3; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    for (i = 4; i < n - 4; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return 0;
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_files(const char *dir, char ***out, int *n, char *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    int cnt = 0;

    if (d == NULL) {
        ads_errf(err, "cannot open migrations directory %s", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char **nv;
        if (!is_migration(e->d_name))
            continue;
        nv = realloc(v, sizeof *v * (size_t)(cnt + 1));
        if (nv == NULL)
            break;
        v = nv;
        v[cnt++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(v, (size_t)cnt, sizeof *v, cmp_str);
    *out = v;
    *n = cnt;
    return 0;
}

static int applied(struct db *db, const char *version, int *yes, char *err)
{
    static const char sql[] = "SELECT 1 FROM schema_migrations WHERE version = $1::int";
    const char *vals[1] = { version };
    PGresult *r;
    int rc = db_exec(db, "migrate_applied", sql, 1, vals, &r, NULL, err);

    if (rc != DB_OK)
        return rc;
    *yes = PQntuples(r) > 0;
    PQclear(r);
    return DB_OK;
}

static int apply_one(struct db *db, const char *dir, const char *file, FILE *out, char *err)
{
    static const char rec[] = "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)";
    char path[4096], version[4];
    char *sql;
    const char *vals[2];
    PGresult *r;
    int rc, done = 0;

    snprintf(version, sizeof version, "%.3s", file);
    rc = applied(db, version, &done, err);
    if (rc != DB_OK)
        return rc;
    if (done) {
        fprintf(out, "migration %s: already applied\n", file);
        return DB_OK;
    }
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (ads_read_file(path, 4 * 1024 * 1024, &sql, NULL, err) != 0)
        return DB_ERROR;
    rc = db_simple(db, "BEGIN", err);
    if (rc == DB_OK)
        rc = db_simple(db, sql, err);
    free(sql);
    if (rc == DB_OK) {
        vals[0] = version;
        vals[1] = file;
        rc = db_exec(db, "migrate_record", rec, 2, vals, &r, NULL, err);
        if (rc == DB_OK)
            PQclear(r);
    }
    if (rc == DB_OK)
        rc = db_simple(db, "COMMIT", err);
    if (rc != DB_OK) {
        char ignore[ADS_ERRSZ];
        char why[ADS_ERRSZ];
        snprintf(why, sizeof why, "%s", err);
        db_simple(db, "ROLLBACK", ignore);
        ads_errf(err, "migration %s failed: %s", file, why);
        return rc;
    }
    fprintf(out, "migration %s: applied\n", file);
    return DB_OK;
}

int migrate_run(struct db *db, const char *dir, FILE *out, char *err)
{
    char **files = NULL;
    int n = 0, i, rc;

    rc = db_simple(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", err);
    if (rc != DB_OK)
        return rc;
    rc = db_simple(db,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version integer PRIMARY KEY, name text NOT NULL,"
                   " applied_at timestamptz NOT NULL DEFAULT now());"
                   "COMMENT ON TABLE schema_migrations IS 'Schema versions applied by adsmithctl migrate.';"
                   "COMMENT ON COLUMN schema_migrations.version IS 'Number of the migration file (NNN).';"
                   "COMMENT ON COLUMN schema_migrations.name IS 'File name of the migration.';"
                   "COMMENT ON COLUMN schema_migrations.applied_at IS 'When it was applied.'",
                   err);
    if (rc == DB_OK && list_files(dir, &files, &n, err) != 0)
        rc = DB_ERROR;
    for (i = 0; rc == DB_OK && i < n; i++)
        rc = apply_one(db, dir, files[i], out, err);
    for (i = 0; i < n; i++)
        free(files[i]);
    free(files);
    {
        char ignore[ADS_ERRSZ];
        db_simple(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", ignore);
    }
    return rc;
}
