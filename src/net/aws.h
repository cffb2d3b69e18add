/*
 * aws: signed JSON calls to AWS services other than S3 (bedrock-runtime
 * today), as curl easy handles the caller runs itself, one at a time or
 * many at once in a curl multi; and the reading of AWS's JSON error answers
 * (x-amzn-ErrorType or __type, message) into what a caller should do next.
 *
 * struct aws_endpoint owns its strings (aws_endpoint_free). struct aws_call
 * owns its easy handle, header list, request body and reply buffer
 * (aws_call_free); the caller must remove the handle from any multi first.
 *
 * Thread-safe: calls on different threads share nothing (each owns its
 * handle; signing goes through sigv4's locked cache) once the program's
 * main has called curl_global_init.
 */
#ifndef ADS_AWS_H
#define ADS_AWS_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"
#include "cfg.h"

struct aws_endpoint {
    char *scheme;            /* "http" | "https" */
    char *host;              /* host[:port] */
    char *prefix;            /* path prefix of the endpoint, "" or "/x" */
    char *service;           /* SigV4 service name: "bedrock", ... */
    char *region;
    char *access_key, *secret_key, *session_token;
    long connect_ms, timeout_ms;
};

/* Splits "scheme://host[:port][/prefix]" into malloc'd parts (prefix "" or
 * "/x", no trailing '/'); name is the config key, for the message. */
int aws_split_url(const char *url, const char *name, char **scheme, char **host,
                  char **prefix, char *err);

/* An AI service's endpoint for this configuration: url when it is set,
 * else https://{host}.{region}.amazonaws.com, with the AI credentials
 * (cfg_ai_credentials), ai_connect_timeout_ms and timeout_ms a call. */
int aws_ai_endpoint(struct aws_endpoint *ep, const struct config *cfg, const char *service, const char *host,
                    const char *url, const char *region, long timeout_ms, char *err);
/* bedrock-runtime by bedrock_endpoint and bedrock_region. */
int aws_bedrock_endpoint(struct aws_endpoint *ep, const struct config *cfg, long timeout_ms, char *err);

/* url is "scheme://host[:port][/prefix]". 0, or -1 with a message. */
int aws_endpoint_init(struct aws_endpoint *ep, const char *url, const char *service,
                      const char *region, const char *access_key, const char *secret_key,
                      const char *session_token, long connect_ms, long timeout_ms, char *err);
void aws_endpoint_free(struct aws_endpoint *ep);

/* What a caller does with a finished call. */
enum aws_outcome {
    AWS_OK = 0,
    AWS_RETRY,               /* 5xx, timeouts, connection errors, 401/403/404: try later */
    AWS_THROTTLED,           /* 429 / ThrottlingException: slow down, try later */
    AWS_PERMANENT            /* 400 (validation, content filter): never succeeds */
};

struct aws_call {
    CURL *easy;
    struct curl_slist *headers;
    char *body;              /* request body */
    struct buf reply;        /* reply body, up to AWS_MAX_REPLY bytes */
    int too_large;
    char error_type[96];     /* x-amzn-ErrorType, without the ":url" tail */
    char request_id[80];     /* x-amzn-RequestId */
    void *user;              /* the caller's */
};

#define AWS_MAX_REPLY (48u * 1024 * 1024)

/* A POST of body (len bytes, copied) to the endpoint's prefix + raw_path
 * (already percent-encoded as on the wire), signed now. target is the
 * X-Amz-Target header or NULL. NULL with a message on failure. */
struct aws_call *aws_call_new(const struct aws_endpoint *ep, const char *raw_path,
                              const char *target, const char *content_type,
                              const char *body, size_t len, char *err);
void aws_call_free(struct aws_call *c);

/* After the transfer ended with cc: the outcome, and for anything but
 * AWS_OK a one-line description in msg (what, HTTP status, AWS error type
 * and message, request id; never a credential). what names the service. */
enum aws_outcome aws_call_outcome(struct aws_call *c, CURLcode cc, const char *what, char *msg);

/* Runs a call to the end on its own (the CLI, tests). */
enum aws_outcome aws_call_perform(struct aws_call *c, const char *what, char *msg);

/* A call run on its own, retried on AWS_RETRY and AWS_THROTTLED up to
 * retries times with full-jitter backoff (200 ms doubling), each attempt's
 * total timeout cut to what is left before deadline_ms (ads_now_ms clock).
 * On AWS_OK *out is the finished call (caller frees); otherwise NULL and
 * msg says why. */
enum aws_outcome aws_call_retried(struct aws_endpoint *ep, const char *raw_path, const char *target,
                                  const char *content_type, const char *body, size_t len,
                                  const char *what, double deadline_ms, int retries,
                                  struct aws_call **out, char *msg);

/* Appends bedrock-runtime's "/model/{model, URI-encoded}/{op}" to b (op
 * "invoke" or "converse"). */
void aws_bedrock_path(struct buf *b, const char *model, const char *op);

#endif
