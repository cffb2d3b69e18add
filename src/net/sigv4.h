/*
 * sigv4: AWS Signature Version 4, pure computation (no I/O).
 *
 * A request is described by decoded parts: the path as the object name reads
 * ("/bucket/my key.png"), query parameters as name/value pairs, headers as
 * given. The signer canonicalises per the specification: S3 encodes each path
 * segment once and does not normalise; other services normalise the path and
 * encode it twice. Query parameters are sorted by encoded name then value,
 * header names lower-cased and sorted, values trimmed with inner space runs
 * folded. The derived signing key is cached per (secret, date, region,
 * service) in a small per-process cache, behind a mutex: threads may sign
 * at once.
 *
 * Every returned string is malloc'd and owned by the caller.
 */
#ifndef ADS_SIGV4_H
#define ADS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct sigv4_creds {
    const char *access_key;
    const char *secret_key;
    const char *session_token;   /* NULL or "" when none */
    const char *region;
    const char *service;         /* "s3", "bedrock", ... */
};

struct sigv4_pair {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method;
    const char *path;            /* decoded, starts with '/' */
    /* Optional: the path exactly as on the wire (already encoded). When set
     * it is used instead of path: S3 signs it as it is, other services
     * normalise it and encode it once more. */
    const char *raw_path;
    const struct sigv4_pair *query;    /* decoded */
    size_t nquery;
    const struct sigv4_pair *headers;  /* must include host */
    size_t nheaders;
    const char *payload_hash;    /* hex SHA-256 or "UNSIGNED-PAYLOAD" */
};

#define SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"

/* URI-encodes s[0..n) per SigV4 into b: unreserved A-Za-z0-9-._~ stay; '/'
 * stays when keep_slash. */
void sigv4_uri_encode(struct buf *b, const char *s, size_t n, int keep_slash);
/* Percent-decodes s[0..n) into b; '+' stays '+'. -1 on a bad escape. */
int sigv4_uri_decode(struct buf *b, const char *s, size_t n);

/* The canonical request; *signed_headers receives "host;x-amz-date" etc.
 * Both malloc'd. 0 or -1 (out of memory). */
int sigv4_canonical_request(const struct sigv4_request *req, const char *service,
                            char **creq, char **signed_headers);
/* The string to sign for a canonical request at amzdate. malloc'd. */
char *sigv4_string_to_sign(const char *amzdate, const char *region,
                           const char *service, const char *creq);
/* Hex signature of a string to sign (65 bytes). */
void sigv4_signature(const struct sigv4_creds *c, const char *amzdate,
                     const char *sts, char sig[65]);

/* Header signing: returns the Authorization header value; the caller must
 * have put x-amz-date (and x-amz-security-token / x-amz-content-sha256 where
 * wanted) in req->headers already. */
char *sigv4_authorization(const struct sigv4_creds *c, const struct sigv4_request *req,
                          const char *amzdate);

/* Presigning: returns the full encoded query string (existing parameters
 * plus X-Amz-*, signature last). The request's headers are the signed ones
 * (at least host). expires is in seconds (1..604800). */
char *sigv4_presign_query(const struct sigv4_creds *c, const struct sigv4_request *req,
                          time_t now, long expires);

/* Verifies a presigned request as received. raw_path and raw_query are as
 * on the wire (percent-encoded); headers are the request's headers; the
 * signer must have signed host and every header in required (NULL-terminated
 * list of lower-case names). On success 0 and *expires_at is set. On failure
 * -1 with a message for the client (never the expected signature). */
int sigv4_verify_presigned(const struct sigv4_creds *c, const char *method,
                           const char *raw_path, const char *raw_query,
                           const struct sigv4_pair *headers, size_t nheaders,
                           const char *const *required, time_t now, char *err);

#endif
