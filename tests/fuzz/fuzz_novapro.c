/* libFuzzer target: finding the JSON object in a model's reply. The first
 * byte picks the stop reason. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "novapro.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *o = NULL;
    char err[ADS_ERRSZ];
    char *text;

    if (size < 1 || (text = malloc(size)) == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    novapro_extract(text, (data[0] & 1) ? "max_tokens" : "end_turn", &o, err);
    json_object_put(o);
    free(text);
    return 0;
}
