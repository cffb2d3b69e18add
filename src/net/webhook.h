/*
 * webhook: the rules of an outgoing webhook, as functions without state.
 *
 * Signature: like Stripe's. The header X-Adsmith-Signature carries
 * "t=UNIX,v1=HEX" where HEX is the lowercase hex HMAC-SHA256, keyed with
 * webhook_secret, of the text "UNIX.BODY". A receiver recomputes it over the
 * raw body it got and refuses a t too far from its clock (replays).
 *
 * Address policy (SSRF): a callback may only be http or https, and is only
 * ever connected to at a public unicast address. Loopback, private (RFC
 * 1918, fc00::/7), link-local, cloud metadata, CGNAT, "this network",
 * multicast, reserved and documentation ranges are refused, also when
 * wrapped in IPv6 (IPv4-mapped, NAT64, 6to4), unless the caller allows
 * private addresses (tests, a receiver on the same host).
 *
 * At submit, webhook_url_parse checks the URL's form without resolving it;
 * at delivery, webhook_resolve resolves the host, checks every address and
 * gives a CURLOPT_RESOLVE entry that pins the connection to the addresses
 * checked, so a DNS answer that changes in between (rebinding) is not
 * followed. webhook_addr_refusal is also the check to run on the socket
 * address curl is about to connect to.
 *
 * Every function here is thread-safe (no shared state; webhook_resolve uses
 * getaddrinfo, which is).
 */
#ifndef ADS_WEBHOOK_H
#define ADS_WEBHOOK_H

#include <stddef.h>
#include <sys/socket.h>

#define WEBHOOK_SIG_HEADER "X-Adsmith-Signature"
/* "t=" + up to 20 digits + ",v1=" + 64 hex + NUL */
#define WEBHOOK_SIGSZ 96
#define WEBHOOK_URL_MAX 2048
/* A CURLOPT_RESOLVE entry: host, port and up to a few dozen addresses. */
#define WEBHOOK_RESOLVE_MAX 2048

/* The signature header value for body sent at unix time t. 0, or -1 when
 * the HMAC could not be computed. */
int webhook_sign(const char *secret, long t, const char *body, size_t len, char out[WEBHOOK_SIGSZ]);

/* NULL when sa (AF_INET or AF_INET6) is a public unicast address, else a
 * short reason ("loopback", "private", "link-local", "metadata", ...). */
const char *webhook_addr_refusal(const struct sockaddr *sa);

/* The same for an address written as text (no brackets); "not an IP
 * address" when text is not one. */
const char *webhook_ip_refusal(const char *text);

struct webhook_target {
    int https;
    char host[256];          /* without IPv6 brackets */
    int port;
    int literal;             /* host is an IP address */
};

/* Parses a callback URL: http or https, a host, at most WEBHOOK_URL_MAX
 * bytes, no control characters. A literal address is checked against the
 * policy unless allow_private; a name is not resolved. 0, or -1 with err. */
int webhook_url_parse(const char *url, int allow_private, struct webhook_target *t, char *err);

enum { WEBHOOK_RESOLVE_FAILED = -1, WEBHOOK_REFUSED = -2 };

/* Resolves t's host and checks every address (unless allow_private), then
 * writes "host:port:addr,addr" for CURLOPT_RESOLVE into out. 0;
 * WEBHOOK_RESOLVE_FAILED (worth retrying later) or WEBHOOK_REFUSED (never
 * worth it) with err. */
int webhook_resolve(const struct webhook_target *t, int allow_private, char *out, size_t outsz,
                    char *err);

#endif
