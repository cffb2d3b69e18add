/*
 * SigV4 against AWS's published test suite (aws-sig-v4-test-suite: every
 * case signs example.amazonaws.com for service "service" in us-east-1 at
 * 20150830T123600Z with AKIDEXAMPLE), the S3 documentation's presigned URL
 * example, presign/verify round trips and tampering. The cases' requests and
 * published results are written out here as data; botocore cross-checks
 * live in the integration suite.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"
#include "unit.h"
#include "util.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const struct sigv4_creds suite_creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "service"
};

struct suite_case {
    const char *name;
    const char *method;
    const char *raw_path;                 /* as in the case's request line */
    struct sigv4_pair query[3];
    size_t nquery;
    struct sigv4_pair extra[4];           /* headers besides host and x-amz-date */
    size_t nextra;
    const char *body;
    const char *signed_headers;
    const char *signature;
};

static const struct suite_case cases[] = {
    { "get-vanilla", "GET", "/", { { 0 } }, 0, { { 0 } }, 0, "",
      "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    { "get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
      { { 0 } }, 0, { { 0 } }, 0, "",
      "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
    { "get-slashes", "GET", "//example//", { { 0 } }, 0, { { 0 } }, 0, "",
      "host;x-amz-date", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84" },
    { "get-vanilla-query-order-key-case", "GET", "/", { { "Param2", "value2" }, { "Param1", "value1" } }, 2,
      { { 0 } }, 0, "", "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
    { "get-vanilla-query-order-value", "GET", "/", { { "Param1", "value2" }, { "Param1", "value1" } }, 2,
      { { 0 } }, 0, "", "host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694" },
    { "get-vanilla-utf8-query", "GET", "/", { { "\xe1\x88\xb4", "bar" } }, 1, { { 0 } }, 0, "",
      "host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04" },
    { "get-header-value-order", "GET", "/", { { 0 } }, 0,
      { { "My-Header1", "value4" }, { "My-Header1", "value1" }, { "My-Header1", "value3" }, { "My-Header1", "value2" } }, 4,
      "", "host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01" },
    { "get-header-key-duplicate", "GET", "/", { { 0 } }, 0,
      { { "My-Header1", "value2" }, { "My-Header1", "value2" }, { "My-Header1", "value1" } }, 3,
      "", "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea" },
    { "get-header-value-trim", "GET", "/", { { 0 } }, 0,
      { { "My-Header1", " value1" }, { "My-Header2", "\"a   b   c\"" } }, 2,
      "", "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
    { "post-x-www-form-urlencoded", "POST", "/", { { 0 } }, 0,
      { { "Content-Type", "application/x-www-form-urlencoded" } }, 1, "Param1=value1",
      "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
    { "post-sts-token (header)", "GET", "/", { { 0 } }, 0,
      { { "X-Amz-Security-Token", "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267" } }, 1, "",
      "host;x-amz-date;x-amz-security-token", "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8" },
};

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int run_case(const struct suite_case *c)
{
    struct sigv4_pair h[8];
    struct sigv4_request r;
    char hash[65], want[512], sts_hash[65];
    char *auth, *creq, *sh, *sts;
    size_t i, n = 0;
    int ok;

    h[n++] = (struct sigv4_pair){ "Host", "example.amazonaws.com" };
    h[n++] = (struct sigv4_pair){ "X-Amz-Date", "20150830T123600Z" };
    for (i = 0; i < c->nextra; i++)
        h[n++] = c->extra[i];
    ads_sha256_hex(c->body, strlen(c->body), hash);
    memset(&r, 0, sizeof r);
    r.method = c->method;
    r.path = "/";
    r.raw_path = c->raw_path;
    r.query = c->query;
    r.nquery = c->nquery;
    r.headers = h;
    r.nheaders = n;
    r.payload_hash = hash;
    auth = sigv4_authorization(&suite_creds, &r, "20150830T123600Z");
    snprintf(want, sizeof want, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                                "SignedHeaders=%s, Signature=%s", c->signed_headers, c->signature);
    ok = auth != NULL && strcmp(auth, want) == 0;
    if (!ok)
        fprintf(stderr, "%s:\n  got  %s\n  want %s\n", c->name, auth ? auth : "(null)", want);
    free(auth);
    /* The string to sign carries the hash of the canonical request. */
    if (sigv4_canonical_request(&r, "service", &creq, &sh) == 0) {
        sts = sigv4_string_to_sign("20150830T123600Z", "us-east-1", "service", creq);
        ads_sha256_hex(creq, strlen(creq), sts_hash);
        static const char prefix[] = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n";
        ok &= strncmp(sts, prefix, strlen(prefix)) == 0 &&
              strcmp(sts + strlen(sts) - 64, sts_hash) == 0 && strcmp(sh, c->signed_headers) == 0;
        free(sts);
        free(creq);
        free(sh);
    }
    return ok;
}

static char *creq_of(const char *path, const char *raw_path, const struct sigv4_pair *q, size_t nq,
                     const struct sigv4_pair *h, size_t nh, const char *service)
{
    struct sigv4_request r;
    char *creq, *sh;

    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = path;
    r.raw_path = raw_path;
    r.query = q;
    r.nquery = nq;
    r.headers = h;
    r.nheaders = nh;
    r.payload_hash = EMPTY_SHA256;
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
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(run_case(&cases[i]));

    /* The suite's published canonical request for get-vanilla-query-order-key-case. */
    q[0] = (struct sigv4_pair){ "Param2", "value2" };
    q[1] = (struct sigv4_pair){ "Param1", "value1" };
    creq = creq_of("/", NULL, q, 2, h, 2, "service");
    CHECK(creq && strcmp(creq, "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                               "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA256) == 0);
    free(creq);
    /* Published canonical URIs of get-space and get-utf8 (request line as on the wire). */
    creq = creq_of("/", "/example space/", NULL, 0, h, 2, "service");
    CHECK(creq && starts_with(creq, "GET\n/example%20space/\n"));
    free(creq);
    creq = creq_of("/", "/\xe1\x88\xb4", NULL, 0, h, 2, "service");
    CHECK(creq && starts_with(creq, "GET\n/%E1%88%B4\n"));
    free(creq);
    /* A decoded path, non-S3: normalised and encoded twice, as the wire
     * form is encoded once more (Bedrock model ARNs depend on this). */
    creq = creq_of("/model/arn:aws:bedrock/x/../invoke", NULL, NULL, 0, h, 2, "bedrock");
    CHECK(creq && starts_with(creq, "GET\n/model/arn%253Aaws%253Abedrock/invoke\n"));
    free(creq);
    /* S3: each segment encoded once, no normalisation; awkward keys. */
    creq = creq_of("/bucket/a b+c~d=e&f%g//h/\xc3\xa9", NULL, NULL, 0, h, 2, "s3");
    CHECK(creq && starts_with(creq, "GET\n/bucket/a%20b%2Bc~d%3De%26f%25g//h/%C3%A9\n"));
    free(creq);

    /* S3 documentation: presigned GET of examplebucket/test.txt. */
    {
        struct sigv4_creds s3 = { "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "s3" };
        struct sigv4_pair sh[1] = { { "host", "examplebucket.s3.amazonaws.com" } };
        struct sigv4_request r;
        time_t t;
        char *qs;

        memset(&r, 0, sizeof r);
        r.method = "GET";
        r.path = "/test.txt";
        r.headers = sh;
        r.nheaders = 1;
        r.payload_hash = SIGV4_UNSIGNED;
        ads_parse_amzdate("20130524T000000Z", &t);
        qs = sigv4_presign_query(&s3, &r, t, 86400);
        CHECK(qs && strcmp(qs, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524"
                               "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                               "&X-Amz-SignedHeaders=host&X-Amz-Signature="
                               "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") == 0);
        free(qs);
    }

    /* Presign then verify as the local store does; tampering fails. */
    {
        struct sigv4_creds s3 = { "AKID", "secret/key+x", NULL, "us-east-1", "s3" };
        struct sigv4_pair sh[2] = { { "content-type", "image/png" }, { "host", "127.0.0.1:8080" } };
        const char *const req[] = { "content-type", NULL };
        struct sigv4_pair got[2] = { { "Host", "127.0.0.1:8080" }, { "Content-Type", "image/png" } };
        struct sigv4_request r;
        time_t now = 1700000000;
        char err[ADS_ERRSZ];
        char *qs, *bad;

        memset(&r, 0, sizeof r);
        r.method = "PUT";
        r.path = "/objects/b/uploads/u/k.png";
        r.headers = sh;
        r.nheaders = 2;
        r.payload_hash = SIGV4_UNSIGNED;
        qs = sigv4_presign_query(&s3, &r, now, 3600);
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
