/*
 * kb: the market knowledge base shipped as data (data/markets.json), loaded
 * once at start. Markets are matched by id, name, region or country,
 * case-insensitively ("EU", "Europe", "Germany"); longer aliases also match
 * inside a phrase ("Western Europe"). An unknown market gets the generic
 * profile. Each market names the region it belongs to ("region"), which
 * clients use to group the list.
 *
 * struct kb owns the parsed JSON (kb_free). Profiles returned are borrowed
 * from it and live as long as the kb.
 */
#ifndef ADS_KB_H
#define ADS_KB_H

#include <json-c/json.h>

#include "l10n.h"

struct kb;

struct kb *kb_load(const char *path, char *err);
/* Loads data_dir/markets.json and the copy deck data_dir/copy.json. */
struct kb *kb_load_dir(const char *data_dir, char *err);
void kb_free(struct kb *kb);

/* The profile for a market name, or NULL when nothing matches. */
json_object *kb_match(const struct kb *kb, const char *market);
json_object *kb_generic(const struct kb *kb);
int kb_count(const struct kb *kb);
/* The i-th market profile in file order (0 <= i < kb_count), else NULL. */
json_object *kb_market_at(const struct kb *kb, int i);

/* The languages (BCP 47 tags, the first the primary) for a market as the
 * brief names it: the country's own when the profile lists the name in
 * "country_languages" ("Brazil" in Latin America: pt-BR; "Quebec": fr-CA),
 * else the profile's "languages". Borrowed from the profile; NULL only for
 * a NULL profile. */
json_object *kb_languages(json_object *profile, const char *market);
/* The primary language of kb_languages, "en" when there is none. */
const char *kb_language(json_object *profile, const char *market);

/* The built-in copy deck (data_dir/copy.json) kb_load_dir loads beside the
 * markets; NULL for a kb from kb_load. Lives as long as the kb. */
const struct l10n *kb_copy(const struct kb *kb);

/* Profile field helpers: the string, or "" / an empty-array-safe NULL. */
const char *kb_str(json_object *profile, const char *field);
json_object *kb_list(json_object *profile, const char *field);

#endif
