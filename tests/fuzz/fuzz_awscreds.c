/* libFuzzer target: what the AWS credential chain reads from outside the
 * process: a shared credentials or config file, STS's
 * AssumeRoleWithWebIdentity reply, the container or instance endpoint's
 * JSON, and their expiry times. The first byte picks the reader. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "awscreds.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const profiles[] = { "default", "prod", "a b", "" };
    struct awscreds_value v;
    char err[ADS_ERRSZ];
    char *text;
    time_t t;
    int rc;

    if (size < 1)
        return 0;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';     /* files and replies arrive NUL-terminated */
    memset(&v, 0, sizeof v);
    switch (data[0] % 5) {
    case 0:
    case 1:
        rc = awscreds_parse_profile(text, size - 1, data[0] % 5, profiles[(data[0] >> 3) & 3], "fuzz", &v, err);
        if (rc == 1 && (v.access_key[0] == '\0' || v.secret_key[0] == '\0'))
            abort();     /* "found" promises both keys */
        break;
    case 2:
        rc = awscreds_parse_sts(text, size - 1, &v, err);
        if (rc == 0 && (v.access_key[0] == '\0' || v.secret_key[0] == '\0'))
            abort();
        break;
    case 3:
        rc = awscreds_parse_json(text, &v, err);
        if (rc == 0 && (v.access_key[0] == '\0' || v.secret_key[0] == '\0'))
            abort();
        break;
    default:
        (void)awscreds_parse_time(text, &t);
        break;
    }
    free(text);
    return 0;
}
