#include "kb.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kb {
    json_object *root;
    json_object *markets;   /* borrowed from root */
    json_object *generic;   /* borrowed from root */
    struct l10n *copy;      /* the copy deck, NULL unless kb_load_dir */
};

static int check_profile(json_object *p, char *err)
{
    static const char *const lists[] = { "platforms", "content_types", "cultural_notes", "key_dates", "language_notes",
                                        "languages", "best_days", "best_times", NULL };
    const char *const *f;
    json_object *v;

    if (!json_object_object_get_ex(p, "name", &v) || !json_object_is_type(v, json_type_string)) {
        ads_errf(err, "knowledge base: a market has no name");
        return -1;
    }
    for (f = lists; *f != NULL; f++) {
        json_object *l;
        if (!json_object_object_get_ex(p, *f, &l) || !json_object_is_type(l, json_type_array) ||
            json_object_array_length(l) == 0) {
            ads_errf(err, "knowledge base: market %s lacks %s", json_object_get_string(v), *f);
            return -1;
        }
    }
    return 0;
}

struct kb *kb_load(const char *path, char *err)
{
    struct kb *kb;
    size_t i;

    kb = calloc(1, sizeof *kb);
    if (kb == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    kb->root = json_object_from_file(path);
    if (kb->root == NULL || !json_object_object_get_ex(kb->root, "markets", &kb->markets) ||
        !json_object_is_type(kb->markets, json_type_array) ||
        !json_object_object_get_ex(kb->root, "generic", &kb->generic)) {
        ads_errf(err, "cannot load market knowledge base %s", path);
        kb_free(kb);
        return NULL;
    }
    for (i = 0; i < json_object_array_length(kb->markets); i++) {
        if (check_profile(json_object_array_get_idx(kb->markets, i), err) != 0) {
            kb_free(kb);
            return NULL;
        }
    }
    if (check_profile(kb->generic, err) != 0) {
        kb_free(kb);
        return NULL;
    }
    return kb;
}

struct kb *kb_load_dir(const char *data_dir, char *err)
{
    char path[4096];
    struct kb *kb;

    snprintf(path, sizeof path, "%s/markets.json", data_dir);
    if ((kb = kb_load(path, err)) == NULL)
        return NULL;
    snprintf(path, sizeof path, "%s/copy.json", data_dir);
    if ((kb->copy = l10n_load(path, err)) == NULL) {
        kb_free(kb);
        return NULL;
    }
    return kb;
}

const struct l10n *kb_copy(const struct kb *kb)
{
    return kb->copy;
}

void kb_free(struct kb *kb)
{
    if (kb == NULL)
        return;
    json_object_put(kb->root);
    l10n_free(kb->copy);
    free(kb);
}

int kb_count(const struct kb *kb)
{
    return (int)json_object_array_length(kb->markets);
}

json_object *kb_market_at(const struct kb *kb, int i)
{
    if (i < 0 || i >= kb_count(kb))
        return NULL;
    return json_object_array_get_idx(kb->markets, (size_t)i);
}

json_object *kb_generic(const struct kb *kb)
{
    return kb->generic;
}

const char *kb_str(json_object *profile, const char *field)
{
    json_object *v;

    if (profile != NULL && json_object_object_get_ex(profile, field, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "";
}

json_object *kb_list(json_object *profile, const char *field)
{
    json_object *v;

    if (profile != NULL && json_object_object_get_ex(profile, field, &v) && json_object_is_type(v, json_type_array))
        return v;
    return NULL;
}

/* Lower-case, single-spaced, trimmed copy. */
static void normalize(const char *in, char *out, size_t outsz)
{
    size_t n = 0;
    int space = 0;

    for (; *in != '\0' && n + 1 < outsz; in++) {
        unsigned char c = (unsigned char)*in;
        if (isspace(c) || c == '_') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < outsz)
            out[n++] = ' ';
        space = 0;
        out[n++] = (char)tolower(c);
    }
    out[n] = '\0';
}

/* needle occurs in hay bounded by non-alphanumerics. */
static int contains_word(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    const char *p = hay;

    while ((p = strstr(p, needle)) != NULL) {
        int before = p == hay || !isalnum((unsigned char)p[-1]);
        int after = !isalnum((unsigned char)p[n]);
        if (before && after)
            return 1;
        p++;
    }
    return 0;
}

static int profile_matches(json_object *p, const char *want, int loose)
{
    json_object *aliases = kb_list(p, "aliases");
    char norm[128];
    size_t i;

    normalize(kb_str(p, "name"), norm, sizeof norm);
    if (!loose && (strcmp(norm, want) == 0 || strcmp(kb_str(p, "id"), want) == 0))
        return 1;
    for (i = 0; aliases != NULL && i < json_object_array_length(aliases); i++) {
        const char *a = json_object_get_string(json_object_array_get_idx(aliases, i));
        if (!loose && strcmp(a, want) == 0)
            return 1;
        if (loose && strlen(a) >= 4 && contains_word(want, a))
            return 1;
    }
    return 0;
}

json_object *kb_match(const struct kb *kb, const char *market)
{
    char want[128];
    size_t i, n = json_object_array_length(kb->markets);
    int loose;

    normalize(market, want, sizeof want);
    if (want[0] == '\0')
        return NULL;
    for (loose = 0; loose <= 1; loose++)
        for (i = 0; i < n; i++)
            if (profile_matches(json_object_array_get_idx(kb->markets, i), want, loose))
                return json_object_array_get_idx(kb->markets, i);
    return NULL;
}

json_object *kb_languages(json_object *profile, const char *market)
{
    json_object *countries;
    char want[128];

    if (profile == NULL)
        return NULL;
    normalize(market ? market : "", want, sizeof want);
    if (want[0] != '\0' && json_object_object_get_ex(profile, "country_languages", &countries) &&
        json_object_is_type(countries, json_type_object)) {
        json_object_object_foreach(countries, name, langs) {
            if (json_object_is_type(langs, json_type_array) && json_object_array_length(langs) > 0 &&
                (strcmp(name, want) == 0 || (strlen(name) >= 4 && contains_word(want, name))))
                return langs;
        }
    }
    return kb_list(profile, "languages");
}

const char *kb_language(json_object *profile, const char *market)
{
    json_object *l = kb_languages(profile, market);
    json_object *first = l && json_object_array_length(l) > 0 ? json_object_array_get_idx(l, 0) : NULL;

    return first && json_object_is_type(first, json_type_string) ? json_object_get_string(first) : "en";
}
