/* webhook: the signature against vectors computed independently, and the
 * address policy as tables of addresses and URLs. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "util.h"
#include "webhook.h"
#include "unit.h"

/* Expected values from Python:
 *   hmac.new(secret.encode(), (str(t) + "." + body).encode(), hashlib.sha256).hexdigest() */
static void test_sign(void)
{
    static const struct {
        const char *secret;
        long t;
        const char *body;
        const char *want;
    } cases[] = {
        { "whsec_test", 1700000000, "{\"request_id\":\"r1\",\"status\":\"completed\"}",
          "t=1700000000,v1=b72cfb40e62f299fc7c1351c1eb7c0b902645f5aa28228fd94aedeec9f5dd7f2" },
        { "k", 0, "", "t=0,v1=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7" },
        { "s3cr3t", 1764100000, "{}",
          "t=1764100000,v1=b30ba6c372ee3daf5819b2461b581f6b4560d9f2ca4df5f4d44d2f030f11acdd" },
    };
    char sig[WEBHOOK_SIGSZ];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(webhook_sign(cases[i].secret, cases[i].t, cases[i].body, strlen(cases[i].body), sig) == 0);
        CHECK(strcmp(sig, cases[i].want) == 0);
        if (strcmp(sig, cases[i].want) != 0)
            fprintf(stderr, "  case %zu: got %s\n", i, sig);
    }
    /* The body is signed byte for byte: one more byte, another signature. */
    CHECK(webhook_sign("k", 0, "{}", 1, sig) == 0);
    CHECK(strcmp(sig, "t=0,v1=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7") != 0);
}

static void test_addresses(void)
{
    static const struct {
        const char *ip;
        const char *why;          /* NULL: allowed */
    } cases[] = {
        { "8.8.8.8", NULL },
        { "93.184.216.34", NULL },
        { "1.1.1.1", NULL },
        { "172.32.0.1", NULL },           /* just past 172.16/12 */
        { "100.128.0.1", NULL },          /* just past 100.64/10 */
        { "2606:4700:4700::1111", NULL },
        { "2001:4860:4860::8888", NULL },
        { "127.0.0.1", "loopback" },
        { "127.255.255.254", "loopback" },
        { "10.1.2.3", "private" },
        { "172.16.0.1", "private" },
        { "172.31.255.255", "private" },
        { "192.168.1.1", "private" },
        { "169.254.169.254", "metadata" },
        { "169.254.1.1", "link-local" },
        { "0.0.0.0", "this network" },
        { "0.1.2.3", "this network" },
        { "100.64.0.1", "shared (CGNAT)" },
        { "100.127.255.255", "shared (CGNAT)" },
        { "224.0.0.1", "multicast" },
        { "239.255.255.250", "multicast" },
        { "255.255.255.255", "reserved" },
        { "240.0.0.1", "reserved" },
        { "192.0.2.1", "documentation" },
        { "198.18.0.1", "benchmarking" },
        { "::1", "loopback" },
        { "::", "unspecified" },
        { "fc00::1", "private" },
        { "fd12:3456::1", "private" },
        { "fd00:ec2::254", "metadata" },
        { "fe80::1", "link-local" },
        { "febf::1", "link-local" },
        { "fec0::1", "site-local" },
        { "ff02::1", "multicast" },
        { "::ffff:127.0.0.1", "loopback" },
        { "::ffff:10.0.0.1", "private" },
        { "::ffff:169.254.169.254", "metadata" },
        { "::ffff:8.8.8.8", NULL },
        { "64:ff9b::a9fe:a9fe", "metadata" },   /* NAT64 of 169.254.169.254 */
        { "2002:c0a8:0101::1", "private" },     /* 6to4 of 192.168.1.1 */
        { "2002:0808:0808::1", NULL },          /* 6to4 of 8.8.8.8 */
        { "::127.0.0.1", "reserved" },          /* IPv4-compatible */
        { "2001:db8::1", "documentation" },
        { "localhost", "not an IP address" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = webhook_ip_refusal(cases[i].ip);
        int ok = cases[i].why == NULL ? got == NULL : got != NULL && strcmp(got, cases[i].why) == 0;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  %s: got %s\n", cases[i].ip, got ? got : "(allowed)");
    }
}

/* The socket-address form agrees with the text form (the check curl's
 * connection goes through). */
static void test_sockaddr(void)
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr other;

    memset(&in4, 0, sizeof in4);
    in4.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &in4.sin_addr);
    CHECK(strcmp(webhook_addr_refusal((struct sockaddr *)&in4), "loopback") == 0);
    inet_pton(AF_INET, "8.8.4.4", &in4.sin_addr);
    CHECK(webhook_addr_refusal((struct sockaddr *)&in4) == NULL);
    memset(&in6, 0, sizeof in6);
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.168.0.1", &in6.sin6_addr);
    CHECK(strcmp(webhook_addr_refusal((struct sockaddr *)&in6), "private") == 0);
    memset(&other, 0, sizeof other);
    other.sa_family = AF_UNIX;
    CHECK(webhook_addr_refusal(&other) != NULL);
}

static void test_urls(void)
{
    static const struct {
        const char *url;
        int allow_private;
        int ok;
        const char *host;         /* when ok */
        int port;
    } cases[] = {
        { "https://hooks.example.com/adsmith", 0, 1, "hooks.example.com", 443 },
        { "http://hooks.example.com:8080/x?y=1", 0, 1, "hooks.example.com", 8080 },
        { "https://8.8.8.8/hook", 0, 1, "8.8.8.8", 443 },
        { "http://[2606:4700:4700::1111]:81/", 0, 1, "2606:4700:4700::1111", 81 },
        /* Names are not resolved at submit: only a literal is judged. */
        { "http://localhost/hook", 0, 1, "localhost", 80 },
        { "http://127.0.0.1:9000/hook", 1, 1, "127.0.0.1", 9000 },
        { "http://127.0.0.1:9000/hook", 0, 0, NULL, 0 },
        { "http://[::1]/hook", 0, 0, NULL, 0 },
        { "http://[::ffff:169.254.169.254]/", 0, 0, NULL, 0 },
        { "http://169.254.169.254/latest/meta-data/", 0, 0, NULL, 0 },
        { "http://10.0.0.5/", 0, 0, NULL, 0 },
        { "ftp://example.com/hook", 1, 0, NULL, 0 },
        { "file:///etc/passwd", 1, 0, NULL, 0 },
        { "gopher://example.com/", 1, 0, NULL, 0 },
        { "javascript:alert(1)", 1, 0, NULL, 0 },
        { "example.com/hook", 1, 0, NULL, 0 },
        { "//example.com/hook", 1, 0, NULL, 0 },
        { "http://", 1, 0, NULL, 0 },
        { "http://exa mple.com/", 1, 0, NULL, 0 },
        { "http://example.com/\r\nX-Injected: 1", 1, 0, NULL, 0 },
        { "http://example.com:99999/", 1, 0, NULL, 0 },
        { "", 1, 0, NULL, 0 },
    };
    struct webhook_target t;
    char err[ADS_ERRSZ];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = webhook_url_parse(cases[i].url, cases[i].allow_private, &t, err);
        CHECK((rc == 0) == cases[i].ok);
        if ((rc == 0) != cases[i].ok)
            fprintf(stderr, "  %s: rc %d %s\n", cases[i].url, rc, rc ? err : "");
        if (rc == 0 && cases[i].ok) {
            CHECK(strcmp(t.host, cases[i].host) == 0);
            CHECK(t.port == cases[i].port);
        }
        if (rc != 0)
            CHECK(strstr(err, "callback_url") != NULL);    /* the message names the field */
    }
    {
        char big[WEBHOOK_URL_MAX + 64];
        memset(big, 'a', sizeof big);
        memcpy(big, "https://x.example/", 18);
        big[sizeof big - 1] = '\0';
        CHECK(webhook_url_parse(big, 0, &t, err) != 0);
    }
}

/* At delivery: every address is checked and the pin lists the ones
 * checked. Literal hosts keep the test off the network. */
static void test_resolve(void)
{
    struct webhook_target t;
    char err[ADS_ERRSZ], pin[WEBHOOK_RESOLVE_MAX];

    CHECK(webhook_url_parse("http://127.0.0.1:8080/h", 1, &t, err) == 0);
    CHECK(webhook_resolve(&t, 0, pin, sizeof pin, err) == WEBHOOK_REFUSED);
    CHECK(strstr(err, "loopback") != NULL);
    CHECK(webhook_resolve(&t, 1, pin, sizeof pin, err) == 0);
    CHECK(strcmp(pin, "127.0.0.1:8080:127.0.0.1") == 0);
    CHECK(webhook_url_parse("http://[::1]:81/", 1, &t, err) == 0);
    CHECK(webhook_resolve(&t, 1, pin, sizeof pin, err) == 0);
    CHECK(strcmp(pin, "[::1]:81:[::1]") == 0);
    CHECK(webhook_url_parse("https://93.184.216.34/", 0, &t, err) == 0);
    CHECK(webhook_resolve(&t, 0, pin, sizeof pin, err) == 0);
    CHECK(strcmp(pin, "93.184.216.34:443:93.184.216.34") == 0);
}

int main(void)
{
    test_sign();
    test_addresses();
    test_sockaddr();
    test_urls();
    test_resolve();
    return unit_done("test_webhook");
}
