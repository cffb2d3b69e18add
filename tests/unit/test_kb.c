#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "unit.h"
#include "util.h"

static const char *id_of(const struct kb *kb, const char *m)
{
    json_object *p = kb_match(kb, m);
    return p ? kb_str(p, "id") : "(none)";
}

int main(void)
{
    const char *dir = getenv("ADS_TEST_DATADIR");
    char err[ADS_ERRSZ];
    struct kb *kb = kb_load_dir(dir ? dir : "data", err);
    static const char *const required[] = { "north_america", "latin_america", "europe", "uk", "dach", "france",
                                            "nordics", "middle_east", "nigeria", "kenya", "south_africa", "india",
                                            "china", "japan", "south_korea", "southeast_asia", "australia", NULL };
    const char *const *r;

    CHECK(kb != NULL);
    if (kb == NULL)
        return unit_done("kb");
    for (r = required; *r != NULL; r++)
        CHECK(strcmp(id_of(kb, *r), *r) == 0);
    CHECK(strcmp(id_of(kb, "EU"), "europe") == 0);
    CHECK(strcmp(id_of(kb, "Europe"), "europe") == 0);
    CHECK(strcmp(id_of(kb, "Germany"), "dach") == 0);
    CHECK(strcmp(id_of(kb, "  north   AMERICA "), "north_america") == 0);
    CHECK(strcmp(id_of(kb, "Western Europe"), "europe") == 0);
    CHECK(strcmp(id_of(kb, "USA"), "north_america") == 0);
    CHECK(strcmp(id_of(kb, "Lagos"), "nigeria") == 0);
    CHECK(strcmp(id_of(kb, "Africa"), "africa") == 0);
    CHECK(kb_match(kb, "Atlantis") == NULL);
    CHECK(kb_match(kb, "us and them") == NULL);     /* short aliases match whole names only */
    CHECK(kb_generic(kb) != NULL);
    /* Each market's primary language, the country's own where it has one. */
    {
        static const char *const langs[][2] = {
            { "Japan", "ja" }, { "Germany", "de" }, { "Brazil", "pt-BR" }, { "Mexico", "es" }, { "France", "fr" },
            { "Spain", "es" }, { "Italy", "it" }, { "South Korea", "ko" }, { "China", "zh-CN" }, { "Quebec", "fr-CA" },
            { "USA", "en" }, { "UK", "en-GB" }, { "Switzerland", "de-CH" }, { "India", "hi" }, { "Sweden", "sv" },
            { "UAE", "ar" }, { NULL, NULL }
        };
        int i;
        for (i = 0; langs[i][0] != NULL; i++) {
            const char *got = kb_language(kb_match(kb, langs[i][0]), langs[i][0]);
            if (strcmp(got, langs[i][1]) != 0)
                fprintf(stderr, "%s: %s, want %s\n", langs[i][0], got, langs[i][1]);
            CHECK(strcmp(got, langs[i][1]) == 0);
        }
        CHECK(strcmp(kb_language(kb_generic(kb), "Atlantis"), "en") == 0);
        CHECK(kb_languages(NULL, "x") == NULL && strcmp(kb_language(NULL, "x"), "en") == 0);
        for (i = 0; i < kb_count(kb); i++)
            CHECK(kb_languages(kb_market_at(kb, i), "") != NULL && kb_list(kb_market_at(kb, i), "best_times") != NULL);
        CHECK(kb_copy(kb) != NULL);
    }
    /* Every market names its region, so clients can group the list. */
    {
        int i;
        for (i = 0; i < kb_count(kb); i++)
            CHECK(kb_str(kb_market_at(kb, i), "region")[0] != '\0');
        CHECK(strcmp(kb_str(kb_market_at(kb, 0), "id"), "north_america") == 0);
        CHECK(kb_market_at(kb, kb_count(kb)) == NULL && kb_market_at(kb, -1) == NULL);
    }
    kb_free(kb);
    CHECK(kb_load("/nonexistent/markets.json", err) == NULL);
    return unit_done("kb");
}
