/* The AWS credential chain: the shared-file parser, the time and expiry
 * rules, the STS and JSON readers (tables of cases), the order of the
 * sources, and many threads signing across refreshes of short-lived
 * credentials served by a container-credentials endpoint on loopback. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "awscreds.h"
#include "unit.h"
#include "util.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_parse_profile(void)
{
    static const struct {
        const char *text;
        int config_style;
        const char *profile;
        int rc;
        const char *key, *token;
        const char *errpart;
    } cases[] = {
        { "[default]\naws_access_key_id = AK1\naws_secret_access_key = SK1\n", 0, "default", 1, "AK1", "", NULL },
        { "[default]\r\naws_access_key_id=AK1\r\naws_secret_access_key=SK1\r\naws_session_token = T1\r\n", 0,
          "default", 1, "AK1", "T1", NULL },
        { "# c\n; c\n\n[a]\naws_access_key_id = A\naws_secret_access_key = SA\n[b]\naws_access_key_id = B\n"
          "aws_secret_access_key = SB\n", 0, "b", 1, "B", "", NULL },
        { "[a]\naws_access_key_id = A\naws_secret_access_key = SA\n", 0, "b", 0, "", "", NULL },
        { "[profile dev]\naws_access_key_id = D\naws_secret_access_key = SD\n", 1, "dev", 1, "D", "", NULL },
        { "[profile dev]\naws_access_key_id = D\naws_secret_access_key = SD\n", 0, "dev", 0, "", "", NULL },
        { "[dev]\naws_access_key_id = D\naws_secret_access_key = SD\n", 1, "dev", 0, "", "", NULL },
        { "[default]\nregion = eu-west-1\naws_access_key_id = D\naws_secret_access_key = SD\n", 1, "default", 1, "D",
          "", NULL },
        { "[profile   dev ]\naws_access_key_id = D\naws_secret_access_key = SD\n", 1, "dev", 1, "D", "", NULL },
        { "[profile x]\ns3 =\n  max_concurrent_requests = 20\naws_access_key_id = X\naws_secret_access_key = SX\n", 1,
          "x", 1, "X", "", NULL },
        { "[profile x]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = y\n", 1, "x", 0, "", "", NULL },
        { "", 0, "default", 0, "", "", NULL },
        { "aws_access_key_id = A\n", 0, "default", -1, "", "", "key outside a section" },
        { "[default\naws_access_key_id = A\n", 0, "default", -1, "", "", ":1: malformed section" },
        { "[]\n", 0, "default", -1, "", "", "empty section" },
        { "[default]\njust words\n", 0, "default", -1, "", "", ":2: expected" },
        { "[default]\n= x\n", 0, "default", -1, "", "", "empty key" },
        { "  indented = 1\n", 0, "default", -1, "", "", "indented line outside" },
        { "[default]\naws_access_key_id = A\n", 0, "default", -1, "", "", "only one of" },
        { "[default] trailing\n", 0, "default", -1, "", "", "malformed section" },
        /* A malformed line in another profile is still an error: the file is wrong. */
        { "[default]\naws_access_key_id = A\naws_secret_access_key = S\n[other]\nbad line\n", 0, "default", -1, "",
          "", ":5:" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct awscreds_value v;
        char err[ADS_ERRSZ] = "";
        int rc = awscreds_parse_profile(cases[i].text, strlen(cases[i].text), cases[i].config_style,
                                        cases[i].profile, "f", &v, err);
        int ok = rc == cases[i].rc && (rc != 1 || (strcmp(v.access_key, cases[i].key) == 0 &&
                                                   strcmp(v.session_token, cases[i].token) == 0)) &&
                 (cases[i].errpart == NULL || strstr(err, cases[i].errpart) != NULL);
        if (!ok)
            fprintf(stderr, "profile case %zu: rc %d err '%s'\n", i, rc, err);
        CHECK(ok);
    }
    /* Bounds: a line over 1024 bytes, a file over 64 KiB. */
    {
        struct awscreds_value v;
        char err[ADS_ERRSZ];
        size_t n = 70 * 1024;
        char *big = malloc(n + 1);
        memset(big, '#', n);
        big[n] = '\0';
        CHECK(awscreds_parse_profile(big, 2000, 0, "default", "f", &v, err) == -1 && strstr(err, "line longer"));
        CHECK(awscreds_parse_profile(big, n, 0, "default", "f", &v, err) == -1 && strstr(err, "larger than"));
        memset(big, 'k', 200);
        memcpy(big, "[default]\naws_access_key_id = ", 30);
        memcpy(big + 160, "\n", 1);
        CHECK(awscreds_parse_profile(big, 161, 0, "default", "f", &v, err) == -1 && strstr(err, "too long"));
        free(big);
    }
}

static void test_times(void)
{
    static const struct { const char *s; int rc; time_t t; } cases[] = {
        { "1970-01-01T00:00:00Z", 0, 0 },
        { "2026-11-25T23:40:00Z", 0, 1795650000 },
        { "2026-11-25T23:40:00.123Z", 0, 1795650000 },
        { "2026-11-25T23:40:00+00:00", 0, 1795650000 },
        { "2026-11-26T00:40:00+01:00", 0, 1795650000 },
        { "2026-11-25T22:40:00-01:00", 0, 1795650000 },
        { "2026-11-25 23:40:00Z", -1, 0 },
        { "2026-11-25T23:40:00", -1, 0 },
        { "2026-13-25T23:40:00Z", -1, 0 },
        { "2026-11-25T23:40:00.Z", -1, 0 },
        { "2026-11-25T23:40:00Zjunk", -1, 0 },
        { "", -1, 0 },
    };
    static const struct { time_t obtained, exp, refresh; } refresh[] = {
        { 1000, 0, 0 },                  /* never expires: never refreshed */
        { 1000, 1000 + 3600, 1000 + 3300 }, /* an hour: 5 minutes ahead */
        { 1000, 1000 + 900, 1000 + 600 },   /* 15 minutes: 5 minutes ahead */
        { 1000, 1000 + 20, 1000 + 10 },     /* 20 s: at half */
        { 1000, 1000 + 1, 1000 + 1 },
        { 1000, 900, 1000 },                /* already expired: now */
    };
    static const struct { time_t exp, now; int usable; } usable[] = {
        { 0, 123456, 1 }, { 1000, 990, 1 }, { 1000, 997, 1 }, { 1000, 998, 0 }, { 1000, 1000, 0 }, { 1000, 2000, 0 },
    };
    static const struct { int n; long s; } backoff[] = { { 1, 1 }, { 2, 2 }, { 3, 4 }, { 6, 32 }, { 7, 60 }, { 50, 60 } };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        time_t t = -1;
        int rc = awscreds_parse_time(cases[i].s, &t);
        if (rc != cases[i].rc || (rc == 0 && t != cases[i].t))
            fprintf(stderr, "time case %zu: rc %d t %ld\n", i, rc, (long)t);
        CHECK(rc == cases[i].rc && (rc != 0 || t == cases[i].t));
    }
    for (i = 0; i < sizeof refresh / sizeof refresh[0]; i++)
        CHECK(awscreds_refresh_at(refresh[i].obtained, refresh[i].exp) == refresh[i].refresh);
    for (i = 0; i < sizeof usable / sizeof usable[0]; i++)
        CHECK(awscreds_usable(usable[i].exp, usable[i].now) == usable[i].usable);
    for (i = 0; i < sizeof backoff / sizeof backoff[0]; i++)
        CHECK(awscreds_backoff(backoff[i].n) == backoff[i].s);
}

static void test_replies(void)
{
    static const struct { const char *xml; int rc; const char *key, *token; } sts[] = {
        { "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
          "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>x</SubjectFromWebIdentityToken>"
          "<Credentials><SessionToken>TOK&amp;1</SessionToken><SecretAccessKey>SEC</SecretAccessKey>"
          "<Expiration>2026-11-25T23:40:00Z</Expiration><AccessKeyId>ASIA1</AccessKeyId></Credentials>"
          "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>", 0, "ASIA1", "TOK&1" },
        { "<AssumeRoleWithWebIdentityResult><Credentials>\n  <AccessKeyId>A</AccessKeyId>\n"
          "  <SecretAccessKey>S</SecretAccessKey>\n  <SessionToken>T</SessionToken>\n"
          "  <Expiration>2026-11-25T23:40:00.000Z</Expiration>\n</Credentials></AssumeRoleWithWebIdentityResult>",
          0, "A", "T" },
        /* No expiration, no token, an element with markup inside, a bad entity, the wrong result. */
        { "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
          "</SecretAccessKey><SessionToken>T</SessionToken></Credentials></AssumeRoleWithWebIdentityResult>", -1, "", "" },
        { "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
          "</SecretAccessKey><Expiration>2026-11-25T23:40:00Z</Expiration></Credentials>"
          "</AssumeRoleWithWebIdentityResult>", -1, "", "" },
        { "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A<b/></AccessKeyId><SecretAccessKey>S"
          "</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2026-11-25T23:40:00Z</Expiration>"
          "</Credentials></AssumeRoleWithWebIdentityResult>", -1, "", "" },
        { "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A&bogus;</AccessKeyId><SecretAccessKey>S"
          "</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2026-11-25T23:40:00Z</Expiration>"
          "</Credentials></AssumeRoleWithWebIdentityResult>", -1, "", "" },
        { "<AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
          "<SessionToken>T</SessionToken><Expiration>2026-11-25T23:40:00Z</Expiration></Credentials>"
          "</AssumeRoleResult>", -1, "", "" },
        { "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>", -1, "", "" },
        { "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId>", -1, "", "" },
    };
    static const struct { const char *json; int rc; const char *key; time_t exp; } js[] = {
        { "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"2026-11-25T23:40:00Z\","
          "\"RoleArn\":\"arn:aws:iam::1:role/r\"}", 0, "A", 1795650000 },
        { "{\"Code\":\"Success\",\"LastUpdated\":\"2026-11-25T23:00:00Z\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"B\","
          "\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"2026-11-25T23:40:00Z\"}", 0, "B", 1795650000 },
        { "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", 0, "A", 0 },
        { "{\"Code\":\"Failure\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", -1, "", 0 },
        { "{\"AccessKeyId\":\"A\"}", -1, "", 0 },
        { "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"tomorrow\"}", -1, "", 0 },
        { "{\"AccessKeyId\":7,\"SecretAccessKey\":\"S\"}", -1, "", 0 },
        { "[1,2]", -1, "", 0 },
        { "not json", -1, "", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof sts / sizeof sts[0]; i++) {
        struct awscreds_value v;
        char err[ADS_ERRSZ];
        int rc = awscreds_parse_sts(sts[i].xml, strlen(sts[i].xml), &v, err);
        if (rc != sts[i].rc)
            fprintf(stderr, "sts case %zu: rc %d\n", i, rc);
        CHECK(rc == sts[i].rc && (rc != 0 || (strcmp(v.access_key, sts[i].key) == 0 &&
                                              strcmp(v.session_token, sts[i].token) == 0 && v.expiration > 0)));
    }
    for (i = 0; i < sizeof js / sizeof js[0]; i++) {
        struct awscreds_value v;
        char err[ADS_ERRSZ];
        int rc = awscreds_parse_json(js[i].json, &v, err);
        if (rc != js[i].rc)
            fprintf(stderr, "json case %zu: rc %d\n", i, rc);
        CHECK(rc == js[i].rc && (rc != 0 || (strcmp(v.access_key, js[i].key) == 0 && v.expiration == js[i].exp)));
    }
}

static const char *const chain_vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED",
};

static void clear_env(const char *home)
{
    size_t i;

    for (i = 0; i < sizeof chain_vars / sizeof chain_vars[0]; i++)
        unsetenv(chain_vars[i]);
    setenv("HOME", home, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

/* The source a chain made now picks: its description, or "error: ...". */
static void pick(const char *key, char *out, size_t outsz)
{
    char err[ADS_ERRSZ];
    struct awscreds *c = awscreds_new("s3_access_key_id", key, key ? "EXPLICIT-SECRET" : NULL, NULL, "us-east-1", err);
    struct awscreds_value v;

    if (c == NULL || awscreds_get(c, &v, err) != 0 || awscreds_describe(c, out, outsz, err) != 0)
        snprintf(out, outsz, "error: %s", err);
    else if (strstr(out, "SECRET") != NULL)
        snprintf(out, outsz, "error: a secret in the description");
    awscreds_free(c);
}

static void test_order(const char *dir)
{
    char home[512], cred[600], conf[600], tok[600], out[600];

    snprintf(home, sizeof home, "%s/home", dir);
    snprintf(cred, sizeof cred, "%s/home/.aws", dir);
    mkdir(home, 0700);
    mkdir(cred, 0700);
    snprintf(cred, sizeof cred, "%s/home/.aws/credentials", dir);
    snprintf(conf, sizeof conf, "%s/home/.aws/config", dir);
    snprintf(tok, sizeof tok, "%s/token", dir);
    write_file(cred, "[default]\naws_access_key_id = AKPROFILE\naws_secret_access_key = PROFILE-SECRET\n");
    write_file(conf, "[profile dev]\naws_access_key_id = AKDEV\naws_secret_access_key = DEV-SECRET\n");
    write_file(tok, "eyJ.token\n");

    clear_env(home);
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENV-SECRET", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/x", 1);
    pick("AKEXPLICIT", out, sizeof out);
    CHECK(strcmp(out, "configuration (s3_access_key_id)") == 0);
    pick(NULL, out, sizeof out);
    CHECK(strcmp(out, "environment (AWS_ACCESS_KEY_ID)") == 0);
    unsetenv("AWS_ACCESS_KEY_ID");
    pick(NULL, out, sizeof out);
    CHECK(strncmp(out, "shared files (profile default in ", 33) == 0);
    setenv("AWS_PROFILE", "dev", 1);
    pick(NULL, out, sizeof out);
    CHECK(strncmp(out, "shared files (profile dev in ", 29) == 0 && strstr(out, "/.aws/config)") != NULL);
    setenv("AWS_PROFILE", "nobody", 1);
    /* No such profile: web identity, whose STS is down here. */
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/", 1);
    pick(NULL, out, sizeof out);
    CHECK(strncmp(out, "error: web identity: ", 21) == 0);
    unsetenv("AWS_ROLE_ARN");
    pick(NULL, out, sizeof out);
    CHECK(strstr(out, "AWS_ROLE_ARN is not") != NULL);
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
    pick(NULL, out, sizeof out);
    CHECK(strstr(out, "FULL_URI must be https") != NULL);
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    pick(NULL, out, sizeof out);
    CHECK(strncmp(out, "error: no AWS credentials", 25) == 0 && strstr(out, "AWS_EC2_METADATA_DISABLED") != NULL);
    /* Half a pair is an error, not a silent skip. */
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    pick(NULL, out, sizeof out);
    CHECK(strstr(out, "AWS_SECRET_ACCESS_KEY is not") != NULL);
    write_file(cred, "[default]\naws_access_key_id = AKPROFILE\n");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_PROFILE");
    pick(NULL, out, sizeof out);
    CHECK(strstr(out, "only one of") != NULL);
    clear_env(home);
    unlink(cred);
    unlink(conf);
    unlink(tok);
}

/* A container-credentials endpoint on loopback: each GET answers fresh
 * credentials "AK<n>"/"SK<n>"/"TK<n>" that expire in 6 s. */
static int srv_fd;
static volatile int srv_served;

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(srv_fd, NULL, NULL);
        char req[4096], body[512], reply[1024], exp[21];
        ssize_t n;
        int k, authorized;

        if (fd < 0)
            return NULL;
        n = read(fd, req, sizeof req - 1);
        req[n > 0 ? n : 0] = '\0';
        authorized = strstr(req, "\r\nAuthorization: tok-123\r\n") != NULL;
        k = __atomic_add_fetch(&srv_served, 1, __ATOMIC_SEQ_CST);
        ads_fmt_iso8601(time(NULL) + 6, exp);
        snprintf(body, sizeof body,
                 "{\"AccessKeyId\":\"AK%d\",\"SecretAccessKey\":\"SK%d\",\"Token\":\"TK%d\",\"Expiration\":\"%s\"}", k,
                 k, k, exp);
        snprintf(reply, sizeof reply, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n%s", authorized ? "200 OK" : "401 Unauthorized", strlen(body), body);
        if (write(fd, reply, strlen(reply)) < 0)
            perror("write");
        close(fd);
    }
}

struct worker {
    struct awscreds *c;
    int bad, gets;
};

static void *sign_loop(void *arg)
{
    struct worker *w = arg;
    double end = ads_now_ms() + 7000;
    struct awscreds_value *v = malloc(sizeof *v);

    while (ads_now_ms() < end) {
        char err[ADS_ERRSZ];
        /* Usable when asked for (a loaded machine may take a while to look). */
        time_t asked = time(NULL);
        if (awscreds_get(w->c, v, err) != 0) {
            fprintf(stderr, "get failed: %s\n", err);
            w->bad++;
        } else if (strcmp(v->access_key + 2, v->secret_key + 2) != 0 ||
                   strcmp(v->access_key + 2, v->session_token + 2) != 0 || !awscreds_usable(v->expiration, asked)) {
            fprintf(stderr, "stale or mixed copy: %s expires %ld, asked at %ld\n", v->access_key, (long)v->expiration,
                    (long)asked);
            w->bad++;
        }
        w->gets++;
        usleep(2000);
    }
    free(v);
    return NULL;
}

static void test_threads(const char *dir)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    pthread_t srv, th[6];
    struct worker w[6];
    char url[128], home[512], err[ADS_ERRSZ], desc[512];
    struct awscreds *c;
    int i, bad = 0, gets = 0;

    srv_fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(srv_fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(srv_fd, 16) == 0);
    getsockname(srv_fd, (struct sockaddr *)&a, &al);
    pthread_create(&srv, NULL, serve, NULL);
    snprintf(home, sizeof home, "%s/nohome", dir);
    clear_env(home);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/credentials/x", ntohs(a.sin_port));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    /* Wrong token: refused, and said so. */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
    c = awscreds_new("", NULL, NULL, NULL, "us-east-1", err);
    CHECK(c != NULL && awscreds_describe(c, desc, sizeof desc, err) != 0 && strstr(err, "HTTP 401") != NULL);
    awscreds_free(c);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok-123", 1);
    c = awscreds_new("", NULL, NULL, NULL, "us-east-1", err);
    for (i = 0; i < 6; i++) {
        w[i] = (struct worker){ c, 0, 0 };
        pthread_create(&th[i], NULL, sign_loop, &w[i]);
    }
    for (i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        bad += w[i].bad;
        gets += w[i].gets;
    }
    /* 6-s credentials refreshed at half their life, over 7 s: 3 fetches
     * (not one per get), and never a stale or mixed copy. */
    printf("threads: %d gets, %d bad, %ld fetches\n", gets, bad, awscreds_fetches(c));
    CHECK(bad == 0 && gets > 1000);
    CHECK(awscreds_fetches(c) >= 3 && awscreds_fetches(c) <= 5);
    CHECK(awscreds_describe(c, desc, sizeof desc, err) == 0 && strncmp(desc, "container credentials (http://127.0.0.1:", 40) == 0 &&
          strstr(desc, "expires ") != NULL && strstr(desc, "SK") == NULL && strstr(desc, "TK") == NULL);
    awscreds_free(c);
    shutdown(srv_fd, SHUT_RDWR);
    close(srv_fd);
    pthread_join(srv, NULL);
    clear_env(home);
}

/* The process's chains: one per set of explicit keys (a reload with new
 * keys gets new ones), and the s3_* keys are the AI services' only with
 * storage = s3 (with the local store they were its signing keys). */
static void test_shared(const char *dir)
{
    static const struct {
        const char *storage, *s3_key, *aws_key;
        const char *ai, *s3;    /* the sources' descriptions, or the start of an error */
    } cases[] = {
        { "s3", "AKS3", "", "configuration (s3_access_key_id)", "configuration (s3_access_key_id)" },
        { "s3", "AKS3", "AKAI", "configuration (aws_access_key_id)", "configuration (s3_access_key_id)" },
        { "local", "AKS3", "", "no AWS credentials", "configuration (s3_access_key_id)" },
        { "local", "", "AKAI", "configuration (aws_access_key_id)", "no AWS credentials" },
        { "s3", "", "", "no AWS credentials", "no AWS credentials" },
    };
    char home[512];
    size_t i;

    snprintf(home, sizeof home, "%s/nohome", dir);
    clear_env(home);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config cfg;
        char err[ADS_ERRSZ], ai[300], s3[300];
        struct awscreds *a, *b;

        setenv("ADSMITH_STORAGE", cases[i].storage, 1);
        setenv("ADSMITH_S3_ACCESS_KEY_ID", cases[i].s3_key, 1);
        setenv("ADSMITH_S3_SECRET_ACCESS_KEY", cases[i].s3_key[0] ? "s3-secret" : "", 1);
        setenv("ADSMITH_AWS_ACCESS_KEY_ID", cases[i].aws_key, 1);
        setenv("ADSMITH_AWS_SECRET_ACCESS_KEY", cases[i].aws_key[0] ? "ai-secret" : "", 1);
        setenv("ADSMITH_LOCAL_SIGNING_SECRET", "local-secret", 1);
        CHECK(cfg_load(&cfg, NULL, err) == 0);
        a = awscreds_ai(&cfg, err);
        b = awscreds_s3(&cfg, err);
        CHECK(a != NULL && b != NULL && a == awscreds_ai(&cfg, err) && b == awscreds_s3(&cfg, err));
        if (a == NULL || awscreds_describe(a, ai, sizeof ai, err) != 0)
            snprintf(ai, sizeof ai, "%s", err);
        if (b == NULL || awscreds_describe(b, s3, sizeof s3, err) != 0)
            snprintf(s3, sizeof s3, "%s", err);
        if (strncmp(ai, cases[i].ai, strlen(cases[i].ai)) != 0 || strncmp(s3, cases[i].s3, strlen(cases[i].s3)) != 0)
            fprintf(stderr, "shared case %zu: ai '%s' s3 '%s'\n", i, ai, s3);
        CHECK(strncmp(ai, cases[i].ai, strlen(cases[i].ai)) == 0 && strncmp(s3, cases[i].s3, strlen(cases[i].s3)) == 0);
        cfg_free(&cfg);
    }
    /* New keys after a reload: another chain, with the new keys. */
    {
        struct config cfg;
        char err[ADS_ERRSZ];
        struct awscreds *a, *b;
        struct awscreds_value v;

        setenv("ADSMITH_STORAGE", "s3", 1);
        setenv("ADSMITH_S3_ACCESS_KEY_ID", "AKOLD", 1);
        setenv("ADSMITH_S3_SECRET_ACCESS_KEY", "old", 1);
        CHECK(cfg_load(&cfg, NULL, err) == 0);
        a = awscreds_s3(&cfg, err);
        cfg_free(&cfg);
        setenv("ADSMITH_S3_ACCESS_KEY_ID", "AKNEW", 1);
        CHECK(cfg_load(&cfg, NULL, err) == 0);
        b = awscreds_s3(&cfg, err);
        CHECK(a != NULL && b != NULL && a != b && awscreds_get(b, &v, err) == 0 && strcmp(v.access_key, "AKNEW") == 0);
        cfg_free(&cfg);
    }
    unsetenv("ADSMITH_STORAGE");
    unsetenv("ADSMITH_S3_ACCESS_KEY_ID");
    unsetenv("ADSMITH_S3_SECRET_ACCESS_KEY");
    unsetenv("ADSMITH_AWS_ACCESS_KEY_ID");
    unsetenv("ADSMITH_AWS_SECRET_ACCESS_KEY");
    unsetenv("ADSMITH_LOCAL_SIGNING_SECRET");
}

int main(void)
{
    char dir[] = "/tmp/adsmith-awscreds-XXXXXX";

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (mkdtemp(dir) == NULL)
        return 1;
    test_parse_profile();
    test_times();
    test_replies();
    test_order(dir);
    test_threads(dir);
    test_shared(dir);
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    curl_global_cleanup();
    return unit_done("awscreds");
}
