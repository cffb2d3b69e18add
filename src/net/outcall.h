/*
 * outcall: the one way adsmith calls a remote service over HTTP (AWS JSON
 * APIs, S3, YouTube, chat completions). A call is a curl easy handle with
 * its request (method, URL, headers, body), an absolute deadline, a retry
 * policy (attempts, full-jitter backoff between base and cap, which
 * outcomes are worth another attempt), a reply body kept up to a cap (a
 * capped struct buf), and a classifier that turns the finished transfer
 * into what the caller does next (OK / RETRY / THROTTLED / PERMANENT) with
 * a one-line message. Classifiers are plugins: the plain-HTTP one here, the
 * AWS JSON error reader in aws.c, the S3 XML error reader in store_s3.c;
 * a service with its own error shape wraps one of them.
 *
 * Two ways to run a call:
 *  - blocking (pipeline stage threads, the CLI): outcall_run runs every
 *    attempt to the end, sleeping the backoff in between;
 *  - in a curl multi event loop (the generator): outcall_begin, add
 *    c->easy to the multi, and when the multi reports it done,
 *    outcall_end with its CURLcode; outcall_next_try says when (absolute
 *    ads_now_ms time) the loop should begin it again, or 0 for never.
 * Both use the same begin/end/next_try steps, so a call behaves the same.
 *
 * Each attempt's total timeout is timeout_ms cut to what is left before
 * the deadline (deadline_ms 0: none), its connect timeout likewise. No
 * attempt starts, and no retry is scheduled, past the deadline.
 *
 * Ownership: struct outcall owns its header list, its copied body, its
 * reply and, unless borrowed (outcall_init with an easy handle), its easy
 * handle. outcall_free releases them; the caller must first remove the
 * handle from any multi. Thread-safety: a call belongs to one thread at a
 * time; different calls run on different threads concurrently (nothing
 * here is shared; curl_global_init must have run before threads start).
 */
#ifndef ADS_OUTCALL_H
#define ADS_OUTCALL_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"

/* What a caller does with a finished call. */
enum outcall_class {
    OUTCALL_OK = 0,
    OUTCALL_RETRY,           /* 5xx, timeouts, connection errors: may work later */
    OUTCALL_THROTTLED,       /* 429 / throttling: slow down, try later */
    OUTCALL_PERMANENT        /* the request itself is refused: never succeeds */
};

struct outcall;

/* Reads a finished attempt (c->status set; cc is curl's result) into a
 * class and, for anything but OUTCALL_OK, a message naming c->what. */
typedef enum outcall_class (*outcall_classify)(struct outcall *c, CURLcode cc, char *msg);

#define OUTCALL_RETRY_ON(cls) (1u << (cls))

struct outcall_policy {
    int retries;             /* attempts after the first */
    long base_ms, cap_ms;    /* backoff: uniform in [0, min(cap, base * 2^attempt)) */
    unsigned retry_on;       /* OUTCALL_RETRY_ON(OUTCALL_RETRY) | ... */
};

/* AWS's and the plain HTTP helpers' policy so far: 200 ms doubling, on
 * RETRY and THROTTLED. */
struct outcall_policy outcall_policy_default(int retries);

struct outcall {
    CURL *easy;
    int own_easy;
    char what[64];           /* the service and operation, for messages */
    struct curl_slist *headers;
    const char *method;      /* "GET" "HEAD" "POST" "PUT" "DELETE" (static strings) */
    char *body;              /* request body (owned copy), body_len bytes */
    size_t body_len, body_pos;
    struct buf reply;        /* reply body, up to the cap */
    long status;             /* HTTP status of the last attempt; 0: none */
    /* Response headers the classifiers and callers read. */
    char content_type[64];
    long long content_length;
    time_t last_modified;
    char error_type[96];     /* x-amzn-ErrorType, without the ":url" tail */
    char request_id[80];     /* x-amzn-RequestId / x-amz-request-id */
    /* Limits and policy. */
    double deadline_ms;      /* absolute, ads_now_ms clock; 0: none */
    long connect_ms, timeout_ms;
    struct outcall_policy policy;
    outcall_classify classify;
    int attempt;             /* attempts begun */
    void *user;              /* the caller's */
};

/* A call named what, its reply kept up to max_reply bytes. easy NULL: a
 * handle of its own; else the caller's handle, reset and borrowed (kept
 * for its connection cache). Defaults: no deadline, no retries, the plain
 * HTTP classifier. 0, or -1 with a message. */
int outcall_init(struct outcall *c, CURL *easy, const char *what, size_t max_reply, char *err);
/* As outcall_init, on the heap; NULL with a message. */
struct outcall *outcall_new(const char *what, size_t max_reply, char *err);
void outcall_free(struct outcall *c);     /* for outcall_new's */
void outcall_clear(struct outcall *c);    /* for outcall_init's */

/* The request: method (a static string), url, and a body (copied; NULL
 * for none). 0, or -1 with a message. */
int outcall_request(struct outcall *c, const char *method, const char *url, const void *body, size_t len,
                    char *err);
/* Adds "name: value" (value "" sends "name:", which drops curl's own). */
int outcall_header(struct outcall *c, const char *name, const char *value);

/* Sets up the next attempt on c->easy. 0, or -1 with "what: out of time"
 * when the deadline has passed. */
int outcall_begin(struct outcall *c, char *msg);
/* Reads the attempt that ended with cc. */
enum outcall_class outcall_end(struct outcall *c, CURLcode cc, char *msg);
/* When to begin the next attempt after an attempt classed cls (absolute
 * ads_now_ms time, the backoff drawn now), or 0: no more attempts. */
double outcall_next_try(const struct outcall *c, enum outcall_class cls);

/* Runs the call to the end on this thread, retrying as its policy says. */
enum outcall_class outcall_run(struct outcall *c, char *msg);

/* The plain classifier: curl errors RETRY ("what: curl's message", or the
 * reply cap), 2xx OK, 429 THROTTLED, 5xx RETRY, other statuses PERMANENT
 * ("what: HTTP n"). */
enum outcall_class outcall_classify_http(struct outcall *c, CURLcode cc, char *msg);

/* c's reply as a NUL-terminated string ("" when empty). */
const char *outcall_text(const struct outcall *c);

#endif
