/* jobq: what can be checked without a database (the statements themselves
 * run against PostgreSQL in the integration suite): retry backoff and
 * generated object keys. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "jobq.h"
#include "unit.h"

static void test_backoff(void)
{
    int attempt, i, differ = 0;
    long prev = -1;

    for (attempt = 1; attempt <= 4; attempt++) {
        long full = 2000L << (attempt - 1);
        for (i = 0; i < 200; i++) {
            long d = jobq_backoff_ms(2000, attempt);
            CHECK(d >= full / 2 && d <= full);
            if (prev >= 0 && d != prev)
                differ = 1;
            prev = d;
        }
    }
    CHECK(differ);                                   /* jittered, not fixed */
    for (i = 0; i < 50; i++)
        CHECK(jobq_backoff_ms(2000, 40) <= 3600000); /* capped at an hour */
    CHECK(jobq_backoff_ms(2000, 40) >= 1800000);
}

static void test_key(void)
{
    struct jobq_job j;
    char key[600];

    memset(&j, 0, sizeof j);
    strcpy(j.request_id, "req-1");
    strcpy(j.user_id, "alice@example.com");
    j.prompt = strdup("Summer sale: 50% off / today only!");
    jobq_asset_key(&j, 0, key, sizeof key);
    CHECK(strcmp(key, "generated/aliceexamplecom/19700101_000000_req-1_Summer_sale_50_off__today_only.png") == 0);
    jobq_job_clear(&j);
    CHECK(j.prompt == NULL);
}

int main(void)
{
    test_backoff();
    test_key();
    return unit_done("test_jobq");
}
