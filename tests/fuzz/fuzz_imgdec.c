/* libFuzzer target: image decoding of arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "imgdec.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct image img;
    char err[ADS_ERRSZ];

    if (imgdec_decode(data, size, 4000000, 64, &img, err) == 0)
        imgdec_free(&img);
    return 0;
}
