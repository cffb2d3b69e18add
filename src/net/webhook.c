#include "webhook.h"
#include "buf.h"
#include "util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int webhook_sign(const char *secret, long t, const char *body, size_t len, char out[WEBHOOK_SIGSZ])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char hex[65];
    struct buf msg;
    int ok;

    buf_init(&msg);
    buf_printf(&msg, "%ld.", t);
    buf_add(&msg, body, len);
    ok = !msg.oom && HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg.data,
                          msg.len, mac, &maclen) != NULL && maclen == 32;
    buf_free(&msg);
    if (!ok)
        return -1;
    ads_hex(mac, maclen, hex);
    snprintf(out, WEBHOOK_SIGSZ, "t=%ld,v1=%s", t, hex);
    return 0;
}

/* One refused IPv4 range: address and prefix length, host byte order. */
struct range4 {
    uint32_t net;
    int bits;
    const char *why;
};

/* Most specific first: the metadata address sits inside link-local. */
static const struct range4 refused4[] = {
    { 0xA9FEA9FEu, 32, "metadata" },          /* 169.254.169.254 */
    { 0x00000000u, 8, "this network" },       /* 0.0.0.0/8 */
    { 0x0A000000u, 8, "private" },            /* 10/8 */
    { 0x64400000u, 10, "shared (CGNAT)" },    /* 100.64/10 */
    { 0x7F000000u, 8, "loopback" },           /* 127/8 */
    { 0xA9FE0000u, 16, "link-local" },        /* 169.254/16 */
    { 0xAC100000u, 12, "private" },           /* 172.16/12 */
    { 0xC0000000u, 24, "reserved" },          /* 192.0.0/24 protocol assignments */
    { 0xC0000200u, 24, "documentation" },     /* 192.0.2/24 */
    { 0xC0A80000u, 16, "private" },           /* 192.168/16 */
    { 0xC6120000u, 15, "benchmarking" },      /* 198.18/15 */
    { 0xC6336400u, 24, "documentation" },     /* 198.51.100/24 */
    { 0xCB007100u, 24, "documentation" },     /* 203.0.113/24 */
    { 0xE0000000u, 4, "multicast" },          /* 224/4 */
    { 0xF0000000u, 4, "reserved" },           /* 240/4, broadcast included */
};

static const char *refusal4(uint32_t a)
{
    size_t i;

    for (i = 0; i < sizeof refused4 / sizeof refused4[0]; i++) {
        uint32_t mask = refused4[i].bits == 0 ? 0 : 0xFFFFFFFFu << (32 - refused4[i].bits);
        if ((a & mask) == refused4[i].net)
            return refused4[i].why;
    }
    return NULL;
}

static uint32_t v4_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int prefix_is(const unsigned char *a, const unsigned char *p, int bits)
{
    int full = bits / 8, rest = bits % 8;

    if (memcmp(a, p, (size_t)full) != 0)
        return 0;
    return rest == 0 || ((a[full] ^ p[full]) & (0xFF << (8 - rest))) == 0;
}

static const char *refusal6(const unsigned char *a)
{
    static const unsigned char zero[16] = { 0 };
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
    static const unsigned char nat64[12] = { 0, 0x64, 0xFF, 0x9B };
    static const unsigned char ec2meta[16] = { 0xFD, 0, 0x0E, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 };
    static const unsigned char sixto4[2] = { 0x20, 0x02 };
    static const unsigned char doc[4] = { 0x20, 0x01, 0x0D, 0xB8 };
    static const unsigned char discard[8] = { 0x01, 0x00 };
    if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
        return a[15] == 0 ? "unspecified" : "loopback";
    /* IPv4 inside IPv6: the IPv4 address decides. */
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return refusal4(v4_at(a + 12));
    if (prefix_is(a, sixto4, 16))
        return refusal4(v4_at(a + 2));
    if (memcmp(a, zero, 12) == 0)
        return "reserved";                       /* IPv4-compatible, deprecated */
    if (memcmp(a, ec2meta, 16) == 0)
        return "metadata";
    if ((a[0] & 0xFE) == 0xFC)
        return "private";                        /* fc00::/7 unique local */
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80)
        return "link-local";                     /* fe80::/10 */
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0)
        return "site-local";                     /* fec0::/10, deprecated */
    if (a[0] == 0xFF)
        return "multicast";
    if (prefix_is(a, doc, 32))
        return "documentation";
    if (prefix_is(a, discard, 64))
        return "discard";
    return NULL;
}

const char *webhook_addr_refusal(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return refusal4(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return refusal6(in6->sin6_addr.s6_addr);
    }
    return "not an IP address";
}

const char *webhook_ip_refusal(const char *text)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, text, &a4) == 1)
        return refusal4(ntohl(a4.s_addr));
    if (inet_pton(AF_INET6, text, &a6) == 1)
        return refusal6(a6.s6_addr);
    return "not an IP address";
}

static int is_ip(const char *host)
{
    unsigned char tmp[16];

    return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

/* Fills t from a parsed handle; 0 or -1 with err. */
static int target_from(CURLU *u, struct webhook_target *t, char *err)
{
    char *scheme = NULL, *host = NULL, *port = NULL, *zone = NULL;
    size_t n;
    int rc = -1;

    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        ads_errf(err, "callback_url must be an http or https URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
        ads_errf(err, "callback_url has no host");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK) {
        ads_errf(err, "callback_url may not name an IPv6 zone");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        ads_errf(err, "callback_url has no usable port");
        goto out;
    }
    n = strlen(host);
    if (host[0] == '[' && n > 2 && host[n - 1] == ']')
        snprintf(t->host, sizeof t->host, "%.*s", (int)(n - 2), host + 1);
    else if (n < sizeof t->host)
        snprintf(t->host, sizeof t->host, "%s", host);
    else {
        ads_errf(err, "callback_url host is too long");
        goto out;
    }
    t->https = strcmp(scheme, "https") == 0;
    t->port = atoi(port);
    t->literal = is_ip(t->host);
    rc = t->port > 0 && t->port < 65536 ? 0 : -1;
    if (rc != 0)
        ads_errf(err, "callback_url has no usable port");
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(zone);
    return rc;
}

int webhook_url_parse(const char *url, int allow_private, struct webhook_target *t, char *err)
{
    CURLU *u;
    const char *p, *why;
    int rc;

    memset(t, 0, sizeof *t);
    if (strlen(url) > WEBHOOK_URL_MAX) {
        ads_errf(err, "callback_url is longer than %d bytes", WEBHOOK_URL_MAX);
        return -1;
    }
    for (p = url; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7F) {
            ads_errf(err, "callback_url may not contain spaces or control characters");
            return -1;
        }
    u = curl_url();
    if (u == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        ads_errf(err, "callback_url is not a valid absolute http or https URL");
        curl_url_cleanup(u);
        return -1;
    }
    rc = target_from(u, t, err);
    curl_url_cleanup(u);
    if (rc == 0 && t->literal && !allow_private && (why = webhook_ip_refusal(t->host)) != NULL) {
        ads_errf(err, "callback_url points to a %s address", why);
        return -1;
    }
    return rc;
}

int webhook_resolve(const struct webhook_target *t, int allow_private, char *out, size_t outsz,
                    char *err)
{
    struct addrinfo hints, *res = NULL, *ai;
    char port[8];
    struct buf b;
    int rc, n = 0;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = t->literal ? AI_NUMERICHOST : 0;
    snprintf(port, sizeof port, "%d", t->port);
    rc = getaddrinfo(t->host, port, &hints, &res);
    if (rc != 0) {
        ads_errf(err, "cannot resolve %.200s: %s", t->host, gai_strerror(rc));
        return WEBHOOK_RESOLVE_FAILED;
    }
    buf_init(&b);
    /* IPv6 hosts in a RESOLVE entry keep their brackets, as in a URL. */
    buf_printf(&b, strchr(t->host, ':') ? "[%s]:%d:" : "%s:%d:", t->host, t->port);
    rc = 0;
    for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN];
        const char *why = webhook_addr_refusal(ai->ai_addr);
        const void *a = ai->ai_family == AF_INET
                            ? (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr
                            : (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (why != NULL && !allow_private) {
            ads_errf(err, "refused: %.200s resolves to a %s address", t->host, why);
            rc = WEBHOOK_REFUSED;
            break;
        }
        if (inet_ntop(ai->ai_family, a, text, sizeof text) == NULL)
            continue;
        buf_printf(&b, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s", n++ ? "," : "", text);
    }
    freeaddrinfo(res);
    if (rc == 0 && n == 0) {
        ads_errf(err, "cannot resolve %.200s: no IP address", t->host);
        rc = WEBHOOK_RESOLVE_FAILED;
    }
    if (rc == 0 && (b.oom || b.len >= outsz)) {
        ads_errf(err, "%.200s has too many addresses", t->host);
        rc = WEBHOOK_RESOLVE_FAILED;
    }
    if (rc == 0)
        memcpy(out, b.data, b.len + 1);
    buf_free(&b);
    return rc;
}
