#include "auth.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int auth_valid_user(const char *user)
{
    return ads_all_chars(user, 1, AUTH_USER_MAX, "_.@-");
}

int auth_create(struct db *db, const char *user, char key[AUTH_KEY_LEN + 1], long *id, char *err)
{
    static const char sql[] =
        "INSERT INTO api_keys (user_id, key_prefix, key_hash) VALUES ($1, $2, $3) RETURNING id";
    char hex[41], hash[65], prefix[13];
    const char *vals[3];
    PGresult *r;
    int rc;

    if (!auth_valid_user(user)) {
        ads_errf(err, "user must be 1-128 of [A-Za-z0-9_.@-]");
        return DB_ERROR;
    }
    if (ads_random_hex(hex, 20) != 0) {
        ads_errf(err, "no randomness available");
        return DB_ERROR;
    }
    snprintf(key, AUTH_KEY_LEN + 1, "ads_%s", hex);
    snprintf(prefix, sizeof prefix, "%.12s", key);
    ads_sha256_hex(key, strlen(key), hash);
    vals[0] = user;
    vals[1] = prefix;
    vals[2] = hash;
    rc = db_exec(db, "auth_create", sql, 3, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    *id = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return DB_OK;
}

#define AUTH_CACHE_SLOTS 64

struct auth_cache_entry {
    char hash[65];
    char user[AUTH_USER_MAX + 1];
    double expires_ms;
};

struct auth_cache {
    long ttl_ms;
    unsigned next;
    struct auth_cache_entry e[AUTH_CACHE_SLOTS];
};

struct auth_cache *auth_cache_new(long ttl_ms)
{
    struct auth_cache *c;

    if (ttl_ms <= 0)
        return NULL;
    c = calloc(1, sizeof *c);
    if (c != NULL)
        c->ttl_ms = ttl_ms;
    return c;
}

void auth_cache_free(struct auth_cache *c)
{
    free(c);
}

static int cache_get(struct auth_cache *c, const char *hash, char *user)
{
    double now = ads_now_ms();
    int i;

    for (i = 0; c != NULL && i < AUTH_CACHE_SLOTS; i++) {
        if (c->e[i].expires_ms > now && strcmp(c->e[i].hash, hash) == 0) {
            snprintf(user, AUTH_USER_MAX + 1, "%s", c->e[i].user);
            return 1;
        }
    }
    return 0;
}

static void cache_put(struct auth_cache *c, const char *hash, const char *user)
{
    struct auth_cache_entry *e;

    if (c == NULL)
        return;
    e = &c->e[c->next++ % AUTH_CACHE_SLOTS];
    snprintf(e->hash, sizeof e->hash, "%s", hash);
    snprintf(e->user, sizeof e->user, "%s", user);
    e->expires_ms = ads_now_ms() + (double)c->ttl_ms;
}

int auth_lookup(struct db *db, struct auth_cache *cache, const char *key,
                char user[AUTH_USER_MAX + 1], char *err)
{
    static const char sql[] =
        "SELECT user_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL";
    char hash[65];
    const char *vals[1] = { hash };
    PGresult *r;
    int rc;

    if (key == NULL || strlen(key) != AUTH_KEY_LEN || strncmp(key, "ads_", 4) != 0)
        return 1;
    ads_sha256_hex(key, strlen(key), hash);
    if (cache_get(cache, hash, user))
        return DB_OK;
    rc = db_exec(db, "auth_lookup", sql, 1, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 1;
    }
    snprintf(user, AUTH_USER_MAX + 1, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    cache_put(cache, hash, user);
    return DB_OK;
}

int auth_list(struct db *db, FILE *f, char *err)
{
    static const char sql[] =
        "SELECT id, user_id, key_prefix, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
        " coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '-')"
        " FROM api_keys ORDER BY id";
    PGresult *r;
    int i, rc;

    rc = db_exec(db, "auth_list", sql, 0, NULL, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    fprintf(f, "%-6s %-24s %-14s %-20s %s\n", "ID", "USER", "PREFIX", "CREATED (UTC)", "REVOKED (UTC)");
    for (i = 0; i < PQntuples(r); i++)
        fprintf(f, "%-6s %-24s %-14s %-20s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
    PQclear(r);
    return DB_OK;
}

int auth_revoke(struct db *db, long id, char *err)
{
    static const char sql[] =
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL";
    char idtxt[24];
    const char *vals[1] = { idtxt };
    long n;
    int rc;

    snprintf(idtxt, sizeof idtxt, "%ld", id);
    rc = db_command(db, "auth_revoke", sql, 1, vals, &n, err);
    if (rc != DB_OK)
        return rc;
    return n == 1 ? DB_OK : 1;
}

int auth_export(struct db *db, const char *user, json_object **out, char *err)
{
    /* Metadata only: never the hash (it identifies the key). */
    static const char sql[] =
        "SELECT coalesce(json_agg(json_build_object('id', id, 'key_prefix', key_prefix, 'created_at', created_at,"
        "  'revoked_at', revoked_at) ORDER BY id), '[]')::text FROM api_keys WHERE user_id = $1";
    const char *vals[1] = { user };

    return lc_json(db, "auth_export", sql, 1, vals, out, err);
}

int auth_delete_user(struct db *db, const char *user, struct lc_count *out, char *err)
{
    static const char sql[] = LC_USER_BATCH("api_keys", "id", "true");

    return lc_user_delete(db, "auth_delete_user", sql, user, out, err);
}
