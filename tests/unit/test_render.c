#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "unit.h"
#include "util.h"

static unsigned be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

int main(void)
{
    static const char *const ratios[] = { "1:1", "16:9", "9:16", "4:3", "3:4" };
    static const int sizes[][2] = { { 1024, 1024 }, { 1280, 720 }, { 720, 1280 }, { 1152, 864 }, { 864, 1152 } };
    unsigned char *a, *b;
    size_t na, nb;
    char err[ADS_ERRSZ], longp[1100];
    int i;

    for (i = 0; i < 5; i++) {
        CHECK(render_png("A studio photo of a desk lamp", "natural", ratios[i], &a, &na, err) == 0);
        CHECK(na > 1000 && memcmp(a, "\x89PNG", 4) == 0);
        CHECK((int)be32(a + 16) == sizes[i][0] && (int)be32(a + 20) == sizes[i][1]);
        CHECK(sizes[i][0] % 16 == 0 && sizes[i][1] % 16 == 0);
        free(a);
    }
    CHECK(render_png("Same prompt twice", "vivid", "1:1", &a, &na, err) == 0);
    CHECK(render_png("Same prompt twice", "vivid", "1:1", &b, &nb, err) == 0);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    free(b);
    CHECK(render_png("Same prompt twice", "anime", "1:1", &b, &nb, err) == 0);
    CHECK(na != nb || memcmp(a, b, na) != 0);
    free(a);
    free(b);
    memset(longp, 'w', sizeof longp - 1);
    for (i = 7; i < (int)sizeof longp - 1; i += 8)
        longp[i] = ' ';
    longp[sizeof longp - 1] = '\0';
    CHECK(render_png(longp, "photographic", "9:16", &a, &na, err) == 0);
    free(a);
    CHECK(render_png("x", "natural", "2:1", &a, &na, err) != 0);
    return unit_done("render");
}
