#include "products.h"
#include "util.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *text_of(json_object *o)
{
    return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static char *field_text(json_object *o, const char *name)
{
    json_object *v;

    return strdup(json_object_object_get_ex(o, name, &v) && v != NULL ? json_object_get_string(v) : "");
}

json_object *products_campaign_column(const char *correlation_id, const char *generation_method,
                                      json_object *campaign, json_object *usage, double cost_usd,
                                      json_object *warnings, double duration_ms)
{
    json_object *o = json_object_new_object();
    char when[21];

    ads_fmt_iso8601(time(NULL), when);
    json_object_object_add(o, "correlation_id", json_object_new_string(correlation_id));
    json_object_object_add(o, "generation_method", json_object_new_string(generation_method));
    json_object_object_add(o, "generated_at", json_object_new_string(when));
    json_object_object_add(o, "campaign_data", json_object_get(campaign));
    json_object_object_add(o, "usage", json_object_get(usage));
    json_object_object_add(o, "cost_usd", json_object_new_double(cost_usd));
    json_object_object_add(o, "warnings", json_object_get(warnings));
    json_object_object_add(o, "duration_ms", json_object_new_double((double)(long)(duration_ms * 10) / 10.0));
    return o;
}

int products_row_fill(struct product_row *row, json_object *product_info, json_object *target_markets,
                      json_object *objectives, json_object *image_analysis, json_object *youtube_data,
                      json_object *cultural_data, json_object *campaign_column, char *err)
{
    /* json-c reuses one buffer per object: each text is copied at once. */
    row->name = field_text(product_info, "name");
    row->description = field_text(product_info, "description");
    row->category = field_text(product_info, "category");
    row->product_info = text_of(product_info);
    row->target_markets = text_of(target_markets);
    row->campaign_objectives = text_of(objectives);
    row->image_analysis = text_of(image_analysis);
    row->youtube_data = text_of(youtube_data);
    row->cultural_data = text_of(cultural_data);
    row->campaign = text_of(campaign_column);
    if (!row->name || !row->description || !row->category || !row->product_info || !row->target_markets ||
        !row->campaign_objectives || !row->image_analysis || !row->youtube_data || !row->cultural_data ||
        !row->campaign) {
        products_row_clear(row);
        ads_errf(err, "out of memory");
        return -1;
    }
    return 0;
}

void products_row_clear(struct product_row *row)
{
    free(row->name);
    free(row->description);
    free(row->category);
    free(row->product_info);
    free(row->target_markets);
    free(row->campaign_objectives);
    free(row->image_analysis);
    free(row->youtube_data);
    free(row->cultural_data);
    free(row->campaign);
    row->name = row->description = row->category = NULL;
    row->product_info = row->target_markets = row->campaign_objectives = NULL;
    row->image_analysis = row->youtube_data = row->cultural_data = row->campaign = NULL;
}

int products_insert(struct db *db, const struct product_row *row, char *err)
{
    static const char sql[] =
        "INSERT INTO products (product_id, user_id, correlation_id, name, description, category, product_info,"
        " s3_bucket, s3_key, target_markets, campaign_objectives, image_analysis, youtube_data, cultural_data, campaign)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb, $13::jsonb, $14::jsonb, $15::jsonb)";
    const char *vals[15] = { row->product_id, row->user_id, row->correlation_id, row->name, row->description,
                             row->category, row->product_info, row->s3_bucket, row->s3_key, row->target_markets,
                             row->campaign_objectives, row->image_analysis, row->youtube_data, row->cultural_data,
                             row->campaign };
    PGresult *r;
    int rc = db_exec(db, "product_insert", sql, 15, vals, &r, NULL, err);

    if (rc == DB_OK)
        PQclear(r);
    return rc;
}

int products_campaign(struct db *db, const char *product_id, json_object **out, char *err)
{
    static const char sql[] = "SELECT campaign FROM products WHERE product_id = $1::uuid";
    const char *vals[1] = { product_id };
    PGresult *r;
    int rc;

    *out = NULL;
    rc = db_exec(db, "product_campaign", sql, 1, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return 1;
    }
    *out = json_tokener_parse(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (*out == NULL) {
        ads_errf(err, "products.campaign of %s is not JSON", product_id);
        return DB_ERROR;
    }
    return 0;
}

int products_prune(struct db *db, long secs, int dry, struct lc_count *out, char *err)
{
    static const char preview[] = LC_PRUNE_PREVIEW("products", "created_at < " LC_RETENTION, "product_id::text");
    static const char batch[] =
        LC_PRUNE_BATCH("products", "product_id", "created_at < " LC_RETENTION " ORDER BY created_at");

    return lc_prune(db, "products_prune", "products_prune_dry", preview, batch, secs, dry, out, err);
}

int products_export(struct db *db, const char *user, json_object **out, char *err)
{
    /* Every column but the owner: the brief, each stage's result and the campaign. */
    static const char sql[] =
        "SELECT coalesce(json_agg(to_jsonb(p) - 'user_id' ORDER BY created_at), '[]')::text"
        " FROM products p WHERE user_id = $1";
    const char *vals[1] = { user };

    return lc_json(db, "products_export", sql, 1, vals, out, err);
}

int products_delete_user(struct db *db, const char *user, struct lc_count *out, char *err)
{
    static const char sql[] = LC_USER_BATCH("products", "product_id", "true");

    return lc_user_delete(db, "products_delete_user", sql, user, out, err);

}

int products_photo_colors(struct db *db, const char *user, const char *bucket, const char *key, int max,
                          char **out, char *err)
{
    static const char sql[] =
        "SELECT jsonb_agg(upper(c.v->>'hex') ORDER BY c.n) FROM"
        " (SELECT image_analysis FROM products WHERE user_id = $1 AND s3_bucket = $2 AND s3_key = $3"
        "    AND jsonb_typeof(image_analysis->'colors') = 'array' ORDER BY created_at DESC LIMIT 1) p,"
        " jsonb_array_elements(p.image_analysis->'colors') WITH ORDINALITY AS c(v, n)"
        " WHERE c.v->>'hex' ~ '^#[0-9A-Fa-f]{6}$' AND c.n <= $4::int";
    char maxs[16];
    const char *vals[4] = { user, bucket, key, maxs };
    PGresult *r;
    int rc;

    *out = NULL;
    snprintf(maxs, sizeof maxs, "%d", max);
    rc = db_exec(db, "products_photo_colors", sql, 4, vals, &r, NULL, err);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) && (*out = strdup(PQgetvalue(r, 0, 0))) == NULL) {
        ads_errf(err, "out of memory");
        rc = DB_ERROR;
    }
    PQclear(r);
    return rc;
}
