/*
 * auth: API keys. A key is "ads_" followed by 40 hex digits (160 random
 * bits); only its SHA-256 is stored. Keys are looked up on every request
 * through a prepared statement.
 */
#ifndef ADS_AUTH_H
#define ADS_AUTH_H

#include <stdio.h>

#include <json-c/json.h>

#include "db.h"
#include "lifecycle.h"

#define AUTH_KEY_LEN 44
#define AUTH_USER_MAX 128

/* 1 when user is 1-128 of [A-Za-z0-9_.@-]. */
int auth_valid_user(const char *user);

/* Creates a key for user; key receives it (AUTH_KEY_LEN+1 bytes), shown once. */
int auth_create(struct db *db, const char *user, char key[AUTH_KEY_LEN + 1], long *id, char *err);
/* A small per-process cache of recently seen keys (by hash) and their
 * owners, so a request costs one database round trip instead of two. An
 * entry lives ttl_ms; a revoked key therefore stops working within that
 * time. Unknown keys are never cached. Owned by its creator
 * (auth_cache_free); NULL or ttl 0 means no caching. */
struct auth_cache;
struct auth_cache *auth_cache_new(long ttl_ms);
void auth_cache_free(struct auth_cache *c);

/* Finds the owner of an unrevoked key: DB_OK and user filled, 1 when the
 * key is unknown or revoked, or DB_ERROR/DB_UNAVAILABLE. cache may be NULL. */
int auth_lookup(struct db *db, struct auth_cache *cache, const char *key,
                char user[AUTH_USER_MAX + 1], char *err);
/* Writes a table of keys (no secrets) to f. */
int auth_list(struct db *db, FILE *f, char *err);
/* Revokes by id; 1 when no such active key. */
int auth_revoke(struct db *db, long id, char *err);

/* Lifecycle (lifecycle.h): the user's keys as a new JSON array (id,
 * prefix, created, revoked; never the hash), and deleting them all (a
 * worker's cache may accept one for auth_cache_ttl more seconds). */
int auth_export(struct db *db, const char *user, json_object **out, char *err);
int auth_delete_user(struct db *db, const char *user, struct lc_count *out, char *err);

#endif
