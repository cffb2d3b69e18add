/*
 * aws: signed JSON calls to AWS services other than S3 (bedrock-runtime,
 * Rekognition), as outcalls (outcall.h) the caller runs blocking
 * (aws_call_retried) or in a curl multi; and the AWS JSON error reader,
 * the outcall classifier for these services.
 *
 * struct aws_endpoint owns its strings (aws_endpoint_free); it is only
 * read once set up, so threads may share one.
 *
 * Thread-safe: calls on different threads share nothing but the
 * credentials chain, which is locked (each owns its handle; signing goes
 * through sigv4's locked cache) once the program's
 * main has called curl_global_init.
 */
#ifndef ADS_AWS_H
#define ADS_AWS_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"
#include "cfg.h"
#include "outcall.h"

struct aws_endpoint {
    char *scheme;            /* "http" | "https" */
    char *host;              /* host[:port] */
    char *prefix;            /* path prefix of the endpoint, "" or "/x" */
    char *service;           /* SigV4 service name: "bedrock", ... */
    char *region;
    struct awscreds *creds;  /* the process's chain (awscreds.h), not owned */
    long connect_ms, timeout_ms;
};

/* Splits "scheme://host[:port][/prefix]" into malloc'd parts (prefix "" or
 * "/x", no trailing '/'); name is the config key, for the message. */
int aws_split_url(const char *url, const char *name, char **scheme, char **host,
                  char **prefix, char *err);

/* An AI service's endpoint for this configuration: url when it is set,
 * else https://{host}.{region}.amazonaws.com, with the AI credentials
 * (awscreds_ai: the provider chain), ai_connect_timeout_ms and timeout_ms a call. */
int aws_ai_endpoint(struct aws_endpoint *ep, const struct config *cfg, const char *service, const char *host,
                    const char *url, const char *region, long timeout_ms, char *err);
/* bedrock-runtime by bedrock_endpoint and bedrock_region. */
int aws_bedrock_endpoint(struct aws_endpoint *ep, const struct config *cfg, long timeout_ms, char *err);

/* url is "scheme://host[:port][/prefix]"; creds is borrowed and must
 * outlive the endpoint. 0, or -1 with a message. */
struct awscreds;
int aws_endpoint_init(struct aws_endpoint *ep, const char *url, const char *service,
                      const char *region, struct awscreds *creds, long connect_ms, long timeout_ms, char *err);
void aws_endpoint_free(struct aws_endpoint *ep);

#define AWS_MAX_REPLY (48u * 1024 * 1024)

/* A signed POST (with a consistent copy of the chain's current
 * credentials, refreshed when due) of body (len bytes, copied) to the endpoint's prefix +
 * raw_path (already percent-encoded as on the wire), as an outcall named
 * what: target is the X-Amz-Target header or NULL; the endpoint's connect
 * and total timeouts, the reply up to AWS_MAX_REPLY, AWS's classifier, no
 * retries. NULL with a message on failure. */
struct outcall *aws_call_new(const struct aws_endpoint *ep, const char *raw_path, const char *target,
                             const char *content_type, const char *body, size_t len, const char *what,
                             char *err);

/* Signs req (whose headers start with "host") with cr at amzdate and adds
 * its headers but host, the Authorization header and an empty Expect to c.
 * 0, or -1 when out of memory. */
struct sigv4_creds;
struct sigv4_request;
int aws_sign_call(struct outcall *c, const struct sigv4_creds *cr, const struct sigv4_request *req,
                  const char *amzdate);

/* The AWS JSON classifier (an outcall_classify): 2xx OK; 429 or a
 * throttling error type THROTTLED; 400 (validation, the content filter)
 * PERMANENT; anything else, curl errors included, RETRY. The message says
 * what, HTTP status, AWS error type (x-amzn-ErrorType or __type) and
 * message, request id; never a credential. */
enum outcall_class aws_classify(struct outcall *c, CURLcode cc, char *msg);

/* aws_call_new run on this thread, retried on RETRY and THROTTLED up to
 * retries times (outcall_policy_default), within deadline_ms. On
 * OUTCALL_OK *out is the finished call (outcall_free); otherwise NULL and
 * msg says why. Thread-safe for different endpoints or a shared const one. */
enum outcall_class aws_call_retried(const struct aws_endpoint *ep, const char *raw_path, const char *target,
                                    const char *content_type, const char *body, size_t len, const char *what,
                                    double deadline_ms, int retries, struct outcall **out, char *msg);

/* Appends bedrock-runtime's "/model/{model, URI-encoded}/{op}" to b (op
 * "invoke" or "converse"). */
void aws_bedrock_path(struct buf *b, const char *model, const char *op);

#endif
