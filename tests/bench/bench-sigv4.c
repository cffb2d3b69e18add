/*
 * SigV4 and S3 throughput for scripts/bench.
 *   bench-sigv4 sign          presigned URLs/s and header-signed requests/s on one core
 *   bench-sigv4 put N         N PutObject calls of 1 MiB to the store configured by ADSMITH_*
 * The signing inputs match the botocore timing in scripts/bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "sigv4.h"
#include "store.h"
#include "util.h"

static double seconds(void)
{
    return ads_now_ms() / 1000.0;
}

static void bench_sign(void)
{
    struct sigv4_creds c = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "s3" };
    struct sigv4_pair ph[2] = { { "content-type", "image/png" }, { "host", "adsmith-uploads.s3.us-east-1.amazonaws.com" } };
    struct sigv4_pair hh[4] = { { "host", "adsmith-uploads.s3.us-east-1.amazonaws.com" },
                                { "x-amz-date", "20261124T120000Z" },
                                { "x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
                                { "content-type", "image/png" } };
    struct sigv4_request r;
    double t0, el;
    long n;

    memset(&r, 0, sizeof r);
    r.method = "PUT";
    r.path = "/uploads/alice/20261124_120000_0b6f4a52-2c1e-4b3e-9d1e-5d2b8f0c7a11.png";
    r.headers = ph;
    r.nheaders = 2;
    r.payload_hash = SIGV4_UNSIGNED;
    t0 = seconds();
    for (n = 0; (el = seconds() - t0) < 1.5; n++)
        free(sigv4_presign_query(&c, &r, 1795000000 + (n & 1023), 3600));
    printf("sigv4_presign_per_s %.0f\n", (double)n / el);
    r.headers = hh;
    r.nheaders = 4;
    r.payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    t0 = seconds();
    for (n = 0; (el = seconds() - t0) < 1.5; n++)
        free(sigv4_authorization(&c, &r, "20261124T120000Z"));
    printf("sigv4_header_sign_per_s %.0f\n", (double)n / el);
}

static int bench_put(int count)
{
    struct config cfg;
    struct store *s;
    char err[ADS_ERRSZ], key[128];
    char *data = malloc(1 << 20);
    double t0, el;
    int i;

    memset(data, 'a', 1 << 20);
    if (cfg_load(&cfg, cfg_path(NULL), err) != 0 || (s = store_open(&cfg, err)) == NULL) {
        fprintf(stderr, "bench-sigv4: %s\n", err);
        return 1;
    }
    t0 = seconds();
    for (i = 0; i < count; i++) {
        snprintf(key, sizeof key, "bench/object-%d.bin", i);
        if (store_put(s, cfg.uploads_bucket, key, data, 1 << 20, "application/octet-stream", err) != STORE_OK) {
            fprintf(stderr, "bench-sigv4: %s\n", err);
            return 1;
        }
    }
    el = seconds() - t0;
    printf("s3_put_1mib_per_s %.1f (%.1f MiB/s over %d objects)\n", count / el, count / el, count);
    store_close(s);
    cfg_free(&cfg);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "sign") == 0) {
        bench_sign();
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "put") == 0)
        return bench_put(atoi(argv[2]));
    fprintf(stderr, "usage: bench-sigv4 sign | put N\n");
    return 2;
}
