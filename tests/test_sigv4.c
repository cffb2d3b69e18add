/* SigV4: the canonical forms the specification defines, presign/verify
 * round trips, and tampering. Cross-checks against botocore live in the
 * integration suite (tests/integration/sigv4_botocore.py). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"
#include "unit.h"
#include "util.h"

static const struct sigv4_creds creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "service"
};

static char *creq_of(const char *method, const char *path, const struct sigv4_pair *q, size_t nq,
                     const struct sigv4_pair *h, size_t nh, const char *service)
{
    struct sigv4_request r = { method, path, q, nq, h, nh,
                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" };
    char *creq, *sh;

    if (sigv4_canonical_request(&r, service, &creq, &sh) != 0)
        return NULL;
    free(sh);
    return creq;
}

int main(void)
{
    struct sigv4_pair h[3] = { { "Host", "example.amazonaws.com" }, { "X-Amz-Date", "20150830T123600Z" } };
    struct sigv4_pair q[3];
    char *creq;
    struct buf b;

    /* Query ordering by encoded name then value; header names lower-cased. */
    q[0] = (struct sigv4_pair){ "Param2", "value2" };
    q[1] = (struct sigv4_pair){ "Param1", "value1" };
    creq = creq_of("GET", "/", q, 2, h, 2, "service");
    CHECK(creq && strcmp(creq, "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                               "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    free(creq);
    q[0] = (struct sigv4_pair){ "a", "foo" };
    q[1] = (struct sigv4_pair){ "b", "foo" };
    q[2] = (struct sigv4_pair){ "A", "foo" };
    creq = creq_of("GET", "/", q, 3, h, 2, "service");
    CHECK(creq && strstr(creq, "\nA=foo&a=foo&b=foo\n") != NULL);
    free(creq);

    /* Non-S3 paths are normalised and encoded twice; S3 once, as is. */
    creq = creq_of("GET", "/example/../ab c", NULL, 0, h, 2, "service");
    CHECK(creq && strncmp(creq, "GET\n/ab%2520c\n", 14) == 0);
    free(creq);
    creq = creq_of("GET", "/bucket/a b+c~d=e&f%g//h", NULL, 0, h, 2, "s3");
    CHECK(creq && strncmp(creq, "GET\n/bucket/a%20b%2Bc~d%3De%26f%25g//h\n", 38) == 0);
    free(creq);
    creq = creq_of("GET", "/\xe1\x88\xb4", NULL, 0, h, 2, "s3");
    CHECK(creq && strncmp(creq, "GET\n/%E1%88%B4\n", 15) == 0);
    free(creq);

    /* Header values trimmed, inner runs folded, repeats joined by commas. */
    h[2] = (struct sigv4_pair){ "My-Header1", "  value1   with  spaces  " };
    creq = creq_of("GET", "/", NULL, 0, h, 3, "service");
    CHECK(creq && strstr(creq, "\nmy-header1:value1 with spaces\n") != NULL);
    free(creq);

    /* The published get-vanilla signature (AWS SigV4 documentation example). */
    {
        struct sigv4_request r = { "GET", "/", NULL, 0, h, 2,
                                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" };
        char *auth = sigv4_authorization(&creds, &r, "20150830T123600Z");
        CHECK(auth && strcmp(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                                   "SignedHeaders=host;x-amz-date, "
                                   "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31") == 0);
        free(auth);
    }

    /* Presign then verify as the store does; tampering fails. */
    {
        struct sigv4_creds s3 = { "AKID", "secret/key+x", NULL, "us-east-1", "s3" };
        struct sigv4_pair sh[2] = { { "content-type", "image/png" }, { "host", "127.0.0.1:8080" } };
        struct sigv4_request r = { "PUT", "/objects/b/uploads/u/k.png", NULL, 0, sh, 2, SIGV4_UNSIGNED };
        const char *const req[] = { "content-type", NULL };
        struct sigv4_pair got[2] = { { "Host", "127.0.0.1:8080" }, { "Content-Type", "image/png" } };
        time_t now = 1700000000;
        char err[ADS_ERRSZ];
        char *qs = sigv4_presign_query(&s3, &r, now, 3600);
        char *bad;

        CHECK(qs != NULL && strstr(qs, "X-Amz-SignedHeaders=content-type%3Bhost") != NULL);
        CHECK(sigv4_verify_presigned(&s3, "PUT", "/objects/b/uploads/u/k.png", qs, got, 2, req, now + 10, err) == 0);
        CHECK(sigv4_verify_presigned(&s3, "PUT", "/objects/b/uploads/u/k.png", qs, got, 2, req, now + 3601, err) != 0 &&
              strstr(err, "expired") != NULL);
        CHECK(sigv4_verify_presigned(&s3, "PUT", "/objects/b/uploads/u/other.png", qs, got, 2, req, now, err) != 0);
        CHECK(sigv4_verify_presigned(&s3, "GET", "/objects/b/uploads/u/k.png", qs, got, 2, req, now, err) != 0);
        got[1].value = "image/jpeg";
        CHECK(sigv4_verify_presigned(&s3, "PUT", "/objects/b/uploads/u/k.png", qs, got, 2, req, now, err) != 0);
        got[1].value = "image/png";
        bad = strdup(qs);
        bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
        CHECK(sigv4_verify_presigned(&s3, "PUT", "/objects/b/uploads/u/k.png", bad, got, 2, req, now, err) != 0 &&
              strstr(err, "signature") != NULL);
        free(bad);
        s3.secret_key = "another";
        CHECK(sigv4_verify_presigned(&s3, "PUT", "/objects/b/uploads/u/k.png", qs, got, 2, req, now, err) != 0);
        free(qs);
    }

    buf_init(&b);
    CHECK(sigv4_uri_decode(&b, "%zz", 3) != 0);
    buf_free(&b);
    return unit_done("sigv4");
}
