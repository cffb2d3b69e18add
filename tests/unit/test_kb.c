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
