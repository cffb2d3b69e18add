#include <stdlib.h>
#include <string.h>

#include "l10n.h"
#include "langcheck.h"
#include "unit.h"
#include "util.h"

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, k, &v);
    return v;
}

static const char *str(json_object *o, const char *k)
{
    json_object *v = get(o, k);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* Template filling: each value is cleaned, then put in its slot. */
struct fill_case {
    const char *tmpl, *product, *feature1, *want;
};

static const struct fill_case fills[] = {
    { "Entdecken Sie {product}: {feature1}.", "Aurora", "dimmbar", "Entdecken Sie Aurora: dimmbar." },
    { "{product}", "The \"Best\" Lamp", "", "The \"Best\" Lamp" },
    { "{product}", "It's a 'lamp' \\ or /", "", "It's a 'lamp' \\ or /" },
    /* A slot in a value is text, never expanded again. */
    { "Scopri {product}: {feature1}", "Lamp {feature1}", "x", "Scopri Lamp feature1: x" },
    { "{product}", "Glow ✨ Lamp 🌙", "", "Glow ✨ Lamp 🌙" },
    /* Right-to-left text is isolated so it cannot reorder the sentence. */
    { "Découvrez {product} : {feature1}", "מנורה", "USB", "Découvrez \xe2\x81\xa8מנורה\xe2\x81\xa9 : USB" },
    { "{product}!", "مصباح Aurora", "", "\xe2\x81\xa8مصباح Aurora\xe2\x81\xa9!" },
    /* Controls become spaces or go; whitespace collapses; direction marks go. */
    { "[{product}]", "  A\nB\tC\x01" "D  ", "", "[A B CD]" },
    { "[{product}]", "A\xe2\x80\xae" "B", "", "[AB]" },
    /* Slots that are not ours are left for the mailing tool. */
    { "Hi {first_name}, {product}: {link}", "Aurora", "", "Hi {first_name}, Aurora: {link}" },
    { "{product} {unclosed", "Aurora", "", "Aurora {unclosed" },
    { "{feature2} {feature3}", "Aurora", "", "two three" },
    { NULL, NULL, NULL, NULL }
};

static void test_fill(void)
{
    const struct fill_case *c;

    for (c = fills; c->tmpl != NULL; c++) {
        char p[L10N_SLOT_MAX + 8], f[L10N_SLOT_MAX + 8];
        struct l10n_slots s = { p, { f, "two", "three" }, "", NULL };
        char *out;
        json_object *round;

        l10n_clean(c->product, p, sizeof p);
        l10n_clean(c->feature1, f, sizeof f);
        out = l10n_fill(c->tmpl, &s);
        if (strcmp(out, c->want) != 0)
            fprintf(stderr, "fill \"%s\": got \"%s\", want \"%s\"\n", c->tmpl, out, c->want);
        CHECK(strcmp(out, c->want) == 0);
        /* Whatever the name, the JSON carrying it parses back the same. */
        round = json_object_new_object();
        json_object_object_add(round, "caption", json_object_new_string(out));
        {
            json_object *back = json_tokener_parse(json_object_to_json_string(round));
            CHECK(back != NULL && strcmp(str(back, "caption"), out) == 0);
            json_object_put(back);
        }
        json_object_put(round);
        free(out);
    }
}

static void test_clean_limits(void)
{
    char big[2000], out[L10N_SLOT_MAX + 8], tiny[8];
    size_t i;

    /* A long name of three-byte characters is cut on a character boundary. */
    big[0] = '\0';
    for (i = 0; i < 300; i++)
        strcat(big, "灯");
    l10n_clean(big, out, sizeof out);
    CHECK(strlen(out) <= L10N_SLOT_MAX && strlen(out) % 3 == 0 && ads_utf8_len(out) > 0);
    CHECK(langcheck_text("zh", out, NULL, 0) == LANGCHECK_OK);
    /* Invalid bytes in a name are dropped, not passed on. */
    l10n_clean("Lamp\xff\xfe", out, sizeof out);
    CHECK(strcmp(out, "Lamp") == 0);
    l10n_clean("ABCDEFGHIJ", tiny, sizeof tiny);
    CHECK(strlen(tiny) < sizeof tiny);
    l10n_clean(NULL, out, sizeof out);
    CHECK(out[0] == '\0');
}

static json_object *product(const char *name)
{
    json_object *p = json_object_new_object(), *f = json_object_new_array();

    json_object_object_add(p, "name", json_object_new_string(name));
    json_object_array_add(f, json_object_new_string("Wireless charging base"));
    json_object_array_add(f, json_object_new_string("Five colour temperatures"));
    json_object_object_add(p, "key_features", f);
    return p;
}

/* Every language of the deck makes a variant that passes its own check,
 * with English features in it and awkward names. */
static void test_variants(const struct l10n *d)
{
    static const char *const langs[] = { "en", "de", "fr", "es", "pt-BR", "it", "ja", "ko", "zh-CN", NULL };
    static const char *const names[] = { "Aurora Desk Lamp", "The \"Glow\" 🌙", "מנורה Aurora", NULL };
    static const char *platforms[] = { "Instagram", "TikTok", "YouTube", "Facebook", "Pinterest", "LinkedIn" };
    size_t l, n, i, j;

    for (l = 0; langs[l] != NULL; l++)
        for (n = 0; names[n] != NULL; n++) {
            json_object *info = product(names[n]), *v, *ideas, *back;
            struct l10n_input in = { "Somewhere", "Somewhere", langs[l], info, (int)n % 2, platforms, 6 };
            v = l10n_variant(d, &in);
            CHECK(v != NULL);
            if (v == NULL)
                continue;
            if (strcmp(str(v, "language_check"), "passed") != 0)
                fprintf(stderr, "%s / %s: %s\n", langs[l], names[n], str(v, "language_check_detail"));
            CHECK(strcmp(str(v, "language_check"), "passed") == 0);
            CHECK(strcmp(str(v, "language"), langs[l]) == 0 && strcmp(str(v, "source"), "builtin") == 0);
            ideas = get(v, "content_ideas");
            CHECK(ideas && json_object_array_length(ideas) == 6);
            /* Distinct angles and topics; every idea names its language. */
            for (i = 0; ideas && i < json_object_array_length(ideas); i++) {
                json_object *a = json_object_array_get_idx(ideas, i);
                CHECK(strcmp(str(a, "language"), langs[l]) == 0 && strstr(str(a, "caption"), "{") == NULL);
                for (j = 0; j < i; j++) {
                    json_object *b = json_object_array_get_idx(ideas, j);
                    CHECK(strcmp(str(a, "topic"), str(b, "topic")) != 0 && strcmp(str(a, "angle"), str(b, "angle")) != 0);
                }
            }
            CHECK(strstr(json_object_to_json_string(v), "{product}") == NULL);
            CHECK(strstr(json_object_to_json_string(v), "{feature") == NULL);
            CHECK(strstr(json_object_to_json_string(v), "{first_name}") != NULL);
            back = json_tokener_parse(json_object_to_json_string(v));
            CHECK(back != NULL && json_object_equal(back, v));
            json_object_put(back);
            json_object_put(v);
            json_object_put(info);
        }
}

int main(void)
{
    const char *dir = getenv("ADS_TEST_DATADIR");
    char path[1024], err[ADS_ERRSZ];
    struct l10n *d;
    const char *used = NULL;

    test_fill();
    test_clean_limits();
    snprintf(path, sizeof path, "%s/copy.json", dir ? dir : "data");
    d = l10n_load(path, err);
    CHECK(d != NULL);
    if (d == NULL)
        return unit_done("l10n");
    CHECK(l10n_load("/nonexistent/copy.json", err) == NULL && err[0] != '\0');

    /* Language lookup: the tag, else the same language. */
    CHECK(l10n_lang(d, "fr-CA", &used) != NULL && strcmp(used, "fr") == 0);
    CHECK(l10n_lang(d, "pt-PT", &used) != NULL && strcmp(used, "pt-BR") == 0);
    CHECK(l10n_lang(d, "ZH-cn", &used) != NULL && strcmp(used, "zh-CN") == 0);
    CHECK(l10n_lang(d, "hi", NULL) == NULL && l10n_lang(d, "", NULL) == NULL);
    test_variants(d);

    /* A language without copy gets English, and says so. */
    {
        static const char *pl[] = { "Instagram" };
        json_object *info = product("Aurora");
        struct l10n_input in = { "India", "India", "hi", info, 0, pl, 1 };
        json_object *v = l10n_variant(d, &in);
        CHECK(v && strcmp(str(v, "language"), "en") == 0 && strcmp(str(v, "requested_language"), "hi") == 0);
        CHECK(v && strstr(str(v, "note"), "hi") != NULL);
        /* English copy checked as German fails, with the reason. */
        CHECK(v && l10n_check_variant(v, "de", info) == LANGCHECK_WRONG);
        CHECK(v && strcmp(str(v, "language_check"), "failed") == 0 && str(v, "language_check_detail")[0]);
        CHECK(v && l10n_check_variant(v, "en", info) == LANGCHECK_OK && get(v, "language_check_detail") == NULL);
        CHECK(l10n_variant_ok(v));
        json_object_put(v);
        json_object_put(info);
    }
    /* Overlays: the market's words around the product name. */
    {
        char *h = NULL, *c = NULL;
        CHECK(l10n_overlay(d, "ja", "Aurora", 1, &h, &c) == 0);
        CHECK(h && strstr(h, "Aurora") && langcheck_text("ja", h, NULL, 0) == LANGCHECK_OK);
        CHECK(c && langcheck_text("ja", c, NULL, 0) == LANGCHECK_OK);
        free(h);
        free(c);
        CHECK(l10n_overlay(d, "de-AT", "Aurora", 0, &h, &c) == 0 && strstr(h, "Entdecken Sie Aurora") != NULL);
        free(h);
        free(c);
    }
    /* Every language's overlay fits POST /api/assets's overlay limits
     * (headline 80, cta 30 characters), a long product name included. */
    {
        static const char *const langs[] = { "en", "de", "fr", "es", "pt-BR", "it", "ja", "ko", "zh-CN", NULL };
        const char *name = "Aurora Professional Dimmable LED Desk Lamp with Wireless Base";
        size_t i;
        int sales;

        for (i = 0; langs[i] != NULL; i++)
            for (sales = 0; sales <= 1; sales++) {
                char *h = NULL, *c = NULL;
                CHECK(l10n_overlay(d, langs[i], name, sales, &h, &c) == 0);
                CHECK(h != NULL && ads_utf8_len(h) >= 1 && ads_utf8_len(h) <= 80);
                CHECK(c != NULL && ads_utf8_len(c) >= 1 && ads_utf8_len(c) <= 30);
                /* Two words are too few for the Latin languages' word check: script only. */
                CHECK(c != NULL && (i < 6 || langcheck_text(langs[i], c, NULL, 0) == LANGCHECK_OK));
                free(h);
                free(c);
            }
    }
    CHECK(!l10n_variant_ok(NULL));
    {
        json_object *bad = json_tokener_parse("{\"content_ideas\": [{\"caption\": 3}]}");
        CHECK(!l10n_variant_ok(bad));
        json_object_put(bad);
    }
    l10n_free(d);
    return unit_done("l10n");
}
