#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "unit.h"
#include "util.h"

/* FIPS 180-2 test vectors; the million 'a' one is long enough that a
 * digest shared between threads is caught mid-update. */
static const struct sha_case {
    const char *text;
    size_t repeat;
    const char *hex;
} sha_cases[] = {
    { "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    { "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};
#define SHA_CASES (sizeof sha_cases / sizeof sha_cases[0])
#define SHA_THREADS 8
#define SHA_ROUNDS 50

struct sha_worker {
    pthread_t t;
    size_t first;       /* the case this thread starts with */
    char *inputs[SHA_CASES];
    int wrong;          /* digests that did not match */
};

/* Hashes every case in turn, starting at its own, SHA_ROUNDS times; the
 * threads run at once, so they hash different inputs at the same moment. */
static void *sha_worker_run(void *arg)
{
    struct sha_worker *w = arg;
    char hex[65];
    size_t i, c;

    for (i = 0; i < SHA_ROUNDS * SHA_CASES; i++) {
        c = (w->first + i) % SHA_CASES;
        ads_sha256_hex(w->inputs[c], sha_cases[c].repeat * strlen(sha_cases[c].text), hex);
        if (strcmp(hex, sha_cases[c].hex) != 0)
            w->wrong++;
    }
    return NULL;
}

static char *sha_input(const struct sha_case *c)
{
    size_t len = strlen(c->text), i;
    char *p = malloc(len * c->repeat + 1);

    if (p == NULL)
        return NULL;
    for (i = 0; i < c->repeat; i++)
        memcpy(p + i * len, c->text, len);
    p[len * c->repeat] = '\0';
    return p;
}

static void test_sha256_threads(void)
{
    struct sha_worker w[SHA_THREADS];
    char *inputs[SHA_CASES];
    char hex[65];
    size_t i, c;
    int started[SHA_THREADS];

    for (c = 0; c < SHA_CASES; c++) {
        inputs[c] = sha_input(&sha_cases[c]);
        CHECK(inputs[c] != NULL);
        if (inputs[c] == NULL)
            return;
        ads_sha256_hex(inputs[c], strlen(inputs[c]), hex);
        CHECK(strcmp(hex, sha_cases[c].hex) == 0);
    }
    for (i = 0; i < SHA_THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].first = i % SHA_CASES;
        memcpy(w[i].inputs, inputs, sizeof inputs);
        started[i] = pthread_create(&w[i].t, NULL, sha_worker_run, &w[i]) == 0;
        CHECK(started[i]);
    }
    for (i = 0; i < SHA_THREADS; i++) {
        if (started[i])
            pthread_join(w[i].t, NULL);
        CHECK(w[i].wrong == 0);
    }
    for (c = 0; c < SHA_CASES; c++)
        free(inputs[c]);
}

/* metrics_allow: which addresses a list lets in, and which lists load. */
static void test_addr_list(void)
{
    static const struct { const char *list, *addr; int in; } cases[] = {
        { "127.0.0.0/8 ::1", "127.0.0.1", 1 },
        { "127.0.0.0/8 ::1", "127.9.8.7", 1 },
        { "127.0.0.0/8 ::1", "::1", 1 },
        { "127.0.0.0/8 ::1", "10.0.0.1", 0 },
        { "10.1.2.3", "10.1.2.3", 1 },
        { "10.1.2.3", "10.1.2.4", 0 },
        { "10.0.0.0/8, 192.168.4.0/22", "192.168.7.255", 1 },
        { "10.0.0.0/8, 192.168.4.0/22", "192.168.8.0", 0 },
        { "2001:db8::/32", "2001:db8:ffff::1", 1 },
        { "2001:db8::/32", "2001:db9::1", 0 },
        { "0.0.0.0/0", "203.0.113.9", 1 },
        { "0.0.0.0/0", "::1", 0 },           /* families never mix */
        { "", "127.0.0.1", 0 },
        { "10.0.0.0/8", NULL, 0 },
        { "10.0.0.0/8", "10.0.0.0/8", 0 },   /* an address, not a network, is asked about */
        { "10.0.0.0/8", "not-an-address", 0 },
    };
    static const struct { const char *list; int valid; } lists[] = {
        { "", 1 }, { "10.0.0.1", 1 }, { " 10.0.0.0/8 ,, ::1 ", 1 }, { "2001:db8::/128", 1 },
        { "10.0.0.0/33", 0 }, { "10.0.0.0/", 0 }, { "host.example", 0 }, { "10.0.0.1;deny", 0 },
        { "10.0.0.1 }", 0 }, { "::1/129", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int in = ads_addr_in_list(cases[i].list, cases[i].addr);
        if (in != cases[i].in)
            fprintf(stderr, "addr case %zu: %s in [%s] = %d\n", i, cases[i].addr ? cases[i].addr : "(null)",
                    cases[i].list, in);
        CHECK(in == cases[i].in);
    }
    for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        int valid = ads_addr_list_valid(lists[i].list) == 0;
        if (valid != lists[i].valid)
            fprintf(stderr, "list case %zu: [%s] valid = %d\n", i, lists[i].list, valid);
        CHECK(valid == lists[i].valid);
    }
}

int main(void)
{
    char id[37], id2[37], out[64];
    time_t t;
    struct buf b;

    CHECK(ads_uuid4(id) == 0 && ads_is_uuid(id));
    CHECK(ads_uuid4(id2) == 0 && strcmp(id, id2) != 0);
    CHECK(id[14] == '4');
    CHECK(!ads_is_uuid("not-a-uuid"));
    CHECK(!ads_is_uuid("0123456789012345678901234567890123456"));

    ads_fmt_compact(0, out);
    CHECK(strcmp(out, "19700101_000000") == 0);
    CHECK(ads_parse_amzdate("20130524T000000Z", &t) == 0 && t == 1369353600);
    CHECK(ads_parse_amzdate("20130524T000000", &t) != 0);
    CHECK(ads_parse_amzdate("2013052XT000000Z", &t) != 0);

    CHECK(ads_reduce_chars("jo.hn@ex ample/../x", out, sizeof out, "_-") == 12 && strcmp(out, "johnexamplex") == 0);
    ads_reduce_chars("a/b..c d_e-f", out, sizeof out, "_-");
    CHECK(strcmp(out, "abcd_e-f") == 0);
    CHECK(ads_all_chars("abc_-9", 1, 64, "_-"));
    CHECK(!ads_all_chars("abc/", 1, 64, "_-"));
    CHECK(!ads_all_chars("", 1, 64, "_-"));

    CHECK(ads_utf8_len("h\xc3\xa9llo") == 5);
    CHECK(ads_utf8_len("\xff") == -1);
    CHECK(ads_utf8_len("\xc3") == -1);

    buf_init(&b);
    buf_printf(&b, "%s-%d", "x", 42);
    buf_adds(&b, "!");
    CHECK(b.len == 5 && strcmp(b.data, "x-42!") == 0);
    buf_free(&b);

    test_sha256_threads();
    test_addr_list();
    return unit_done("util");
}
