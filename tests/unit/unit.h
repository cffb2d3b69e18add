/* A minimal unit-test harness: CHECK records a failure and goes on;
 * unit_done prints the tally and gives the exit status for automake. */
#ifndef ADS_UNIT_H
#define ADS_UNIT_H

#include <stdio.h>

static int unit_failed, unit_passed;

#define CHECK(cond) do { \
    if (cond) unit_passed++; \
    else { unit_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

static inline int unit_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif
