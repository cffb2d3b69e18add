/* libFuzzer target: image decoding of arbitrary bytes, with the bounds the
 * sandbox gives it (memory, CPU), so a slow or greedy input is a finding
 * only when it gets past them. Seeds: tests/fuzz/seeds and the hostile
 * structures of tests/hostile/mkhostile.py --small. */
#include <stddef.h>
#include <stdint.h>

#include "imgdec.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct image img;
    char err[ADS_ERRSZ];
    struct imgdec_limits lim = { 4000000, 256u << 20, 2000 };

    if (imgdec_decode_limited(data, size, &lim, 64, &img, err) == IMGDEC_OK)
        imgdec_free(&img);
    return 0;
}
