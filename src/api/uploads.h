/*
 * uploads: the uploads table, one row per upload slot handed out by
 * POST /api/upload/presigned-url. All of its SQL lives here.
 *
 * A slot is pending from its creation until the object is seen in storage
 * (uploaded_at set) or its URL expires (expires_at). A user holds at most
 * max_pending_uploads pending slots; unused expired slots are deleted by
 * uploads_sweep, which the generator's sweep calls.
 *
 * Functions take the caller's struct db and are as thread-safe as it is
 * (one per process or thread). Strings are the caller's.
 */
#ifndef ADS_UPLOADS_H
#define ADS_UPLOADS_H

#include <stddef.h>

#include <json-c/json.h>

#include "db.h"
#include "lifecycle.h"
#include "store.h"

enum { UPLOADS_NOT_FOUND = 1, UPLOADS_FULL = 2 };

struct upload_slot {
    const char *id, *user, *bucket, *key, *file_name, *content_type;
    long long declared_size;     /* -1: not declared */
    long expires_in;             /* seconds the URL works */
};

/* Inserts the slot unless its user already holds max_pending pending slots:
 * then UPLOADS_FULL and *retry_after the seconds until the first of them
 * expires. DB_OK, UPLOADS_FULL, DB_ERROR or DB_UNAVAILABLE. Two requests
 * racing at the cap may both pass: the cap is a bound on abuse, not a quota. */
int uploads_insert(struct db *db, const struct upload_slot *s, long max_pending, long *retry_after, char *err);

/* Finds a slot by id (owner "" for any user): DB_OK with bucket and key
 * copied, UPLOADS_NOT_FOUND, or a db error. */
int uploads_by_id(struct db *db, const char *id, const char *owner,
                  char *bucket, size_t bucketsz, char *key, size_t keysz, char *err);
/* The same by bucket and key. */
int uploads_by_key(struct db *db, const char *bucket, const char *key, const char *owner,
                   char *bucket_out, size_t bucketsz, char *key_out, size_t keysz, char *err);

/* Records that the object is in storage (idempotent). */
int uploads_mark_uploaded(struct db *db, const char *bucket, const char *key, char *err);

/* Deletes up to 100 expired slots whose object is not in storage; a slot
 * whose object turns out to be there (an S3 upload nobody asked the status
 * of) is marked uploaded instead. One HEAD per slot; stops at the first
 * storage error, so a store outage costs one failed call. *deleted gets the
 * count. */
int uploads_sweep(struct db *db, struct store *store, int *deleted, char *err);

/* Lifecycle (lifecycle.h). Prunes slots older than secs that no product
 * or campaign job uses and whose URL has expired (their objects are queued
 * for deletion); dry: counts them only. */
int uploads_prune(struct db *db, long secs, int dry, struct lc_count *out, char *err);
/* The user's upload slots as a new JSON array (bucket and key of each). */
int uploads_export(struct db *db, const char *user, json_object **out, char *err);
/* Deletes all of the user's slots (their objects queued for deletion). */
int uploads_delete_user(struct db *db, const char *user, struct lc_count *out, char *err);

#endif
