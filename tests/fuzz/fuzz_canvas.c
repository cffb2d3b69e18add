/* libFuzzer target: a Nova Canvas reply of arbitrary bytes. The first byte
 * picks the aspect ratio asked for. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ratios[] = { "1:1", "16:9", "9:16", "4:3", "3:4" };
    unsigned char *png = NULL;
    size_t len = 0;
    char msg[ADS_ERRSZ];
    char *body;

    if (size < 1)
        return 0;
    body = malloc(size);
    if (body == NULL)
        return 0;
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';     /* replies arrive NUL-terminated in a buf */
    if (canvas_reply(body, size - 1, ratios[data[0] % 5], &png, &len, msg) == OUTCALL_OK)
        free(png);
    free(body);
    return 0;
}
