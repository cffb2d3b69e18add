/*
 * products: the products table, one row per finished campaign (the brief,
 * what each stage found, and the campaign). Both ways to a campaign write it
 * through here: the synchronous route and the campaign queue's completion,
 * so a row is the same whichever made it.
 *
 * struct product_row holds text only (JSON columns as JSON text), so a row
 * made on one thread can be written by another without sharing any json-c
 * object. products_row_fill allocates the texts; products_row_clear frees
 * them. The id strings are borrowed.
 *
 * Thread-safety: products_campaign_column and products_row_fill are
 * thread-safe (they touch only their arguments); the functions taking a
 * struct db are as thread-safe as that connection (one thread per db).
 */
#ifndef ADS_PRODUCTS_H
#define ADS_PRODUCTS_H

#include <json-c/json.h>

#include "db.h"
#include "lifecycle.h"

struct product_row {
    const char *product_id, *user_id, *correlation_id, *s3_bucket, *s3_key;  /* borrowed */
    char *name, *description, *category;                                     /* owned */
    char *product_info, *target_markets, *campaign_objectives;               /* owned JSON */
    char *image_analysis, *youtube_data, *cultural_data, *campaign;          /* owned JSON */
};

/* The campaign column: correlation_id, generation_method, generated_at,
 * campaign_data, usage, cost_usd, warnings, duration_ms. The json-c
 * arguments gain a reference each; the new object is the caller's. */
json_object *products_campaign_column(const char *correlation_id, const char *generation_method,
                                      json_object *campaign, json_object *usage, double cost_usd,
                                      json_object *warnings, double duration_ms);

/* Fills the row's texts from the brief's sections (product_info,
 * target_markets and campaign_objectives as validated), the stage results
 * and the campaign column. The ids must be set by the caller. 0, or -1 out
 * of memory (the row is then cleared). */
int products_row_fill(struct product_row *row, json_object *product_info, json_object *target_markets,
                      json_object *objectives, json_object *image_analysis, json_object *youtube_data,
                      json_object *cultural_data, json_object *campaign_column, char *err);
void products_row_clear(struct product_row *row);

/* INSERTs the row. A second row with the same product_id is refused by the
 * primary key (DB_ERROR, SQLSTATE 23505). */
int products_insert(struct db *db, const struct product_row *row, char *err);

/* The campaign column of product_id (*out, the caller's). 0, 1 when there
 * is no such row, <0 a DB_* error. */
int products_campaign(struct db *db, const char *product_id, json_object **out, char *err);

/* Lifecycle (lifecycle.h). Prunes products older than secs (a photo is the
 * upload's object: it goes with the upload once nothing uses it); dry:
 * counts them only. */
int products_prune(struct db *db, long secs, int dry, struct lc_count *out, char *err);
/* The user's products, every column but user_id (campaign included), as a
 * new JSON array. */
int products_export(struct db *db, const char *user, json_object **out, char *err);
int products_delete_user(struct db *db, const char *user, struct lc_count *out, char *err);
/* The dominant colours of the latest stored analysis of a user's photo
 * (bucket, key): at most max "#RRGGBB" as a JSON array text in *out
 * (malloc'd, the caller's), or *out NULL when none is stored. DB_OK or a
 * DB_* error. */
int products_photo_colors(struct db *db, const char *user, const char *bucket, const char *key, int max,
                          char **out, char *err);

#endif
