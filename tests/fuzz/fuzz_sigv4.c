/* libFuzzer target: presigned URL verification of an arbitrary path, query
 * and headers (the bytes are split at the first two newlines). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sigv4_creds c = { "AKID", "secret", NULL, "us-east-1", "s3" };
    static const char *const req[] = { "content-type", NULL };
    char *text = malloc(size + 1), *path, *query, *host, *nl;
    char err[ADS_ERRSZ];

    memcpy(text, data, size);
    text[size] = '\0';
    path = text;
    query = "";
    host = "h";
    if ((nl = strchr(path, '\n')) != NULL) {
        *nl = '\0';
        query = nl + 1;
        if ((nl = strchr(query, '\n')) != NULL) {
            *nl = '\0';
            host = nl + 1;
        }
    }
    {
        struct sigv4_pair h[2] = { { "host", host }, { "content-type", "image/png" } };
        sigv4_verify_presigned(&c, "PUT", path, query, h, 2, req, 1700000000, err);
    }
    free(text);
    return 0;
}
