#include <string.h>
#include <time.h>

#include "buf.h"
#include "unit.h"
#include "util.h"

int main(void)
{
    char id[37], id2[37], out[64];
    time_t t;
    struct buf b;

    CHECK(ads_uuid4(id) == 0 && ads_is_uuid(id));
    CHECK(ads_uuid4(id2) == 0 && strcmp(id, id2) != 0);
    CHECK(id[14] == '4');
    CHECK(!ads_is_uuid("not-a-uuid"));
    CHECK(!ads_is_uuid("0123456789012345678901234567890123456"));

    ads_fmt_compact(0, out);
    CHECK(strcmp(out, "19700101_000000") == 0);
    CHECK(ads_parse_amzdate("20130524T000000Z", &t) == 0 && t == 1369353600);
    CHECK(ads_parse_amzdate("20130524T000000", &t) != 0);
    CHECK(ads_parse_amzdate("2013052XT000000Z", &t) != 0);

    CHECK(ads_reduce_chars("jo.hn@ex ample/../x", out, sizeof out, "_-") == 12 && strcmp(out, "johnexamplex") == 0);
    ads_reduce_chars("a/b..c d_e-f", out, sizeof out, "_-");
    CHECK(strcmp(out, "abcd_e-f") == 0);
    CHECK(ads_all_chars("abc_-9", 1, 64, "_-"));
    CHECK(!ads_all_chars("abc/", 1, 64, "_-"));
    CHECK(!ads_all_chars("", 1, 64, "_-"));

    CHECK(ads_utf8_len("h\xc3\xa9llo") == 5);
    CHECK(ads_utf8_len("\xff") == -1);
    CHECK(ads_utf8_len("\xc3") == -1);

    buf_init(&b);
    buf_printf(&b, "%s-%d", "x", 42);
    buf_adds(&b, "!");
    CHECK(b.len == 5 && strcmp(b.data, "x-42!") == 0);
    buf_free(&b);
    return unit_done("util");
}
