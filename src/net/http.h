/*
 * http: one plain HTTP request (no AWS signing) run to the end with
 * libcurl: connect and total timeouts cut to what is left before a
 * deadline, the reply collected up to a size, and retries with full-jitter
 * backoff (200 ms doubling) on 429, 5xx and connection errors. Callers read
 * their service's own error shape from the reply.
 *
 * struct http_reply owns its body (http_reply_free).
 *
 * Thread-safe: each request has its own easy handle, once the program's
 * main has called curl_global_init.
 */
#ifndef ADS_HTTP_H
#define ADS_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"

struct http_reply {
    long status;
    struct buf body;
    int too_large;
};

enum { HTTP_OK = 0, HTTP_STATUS = 1, HTTP_FAILED = -1 };

/* A GET (body NULL) or POST of body to url on the caller's handle c, with
 * the caller's headers (may be NULL). HTTP_OK: a 2xx reply in out.
 * HTTP_STATUS: the last reply was not 2xx (status and body in out).
 * HTTP_FAILED: no reply (a transport error or no time left), with a
 * message in err starting with what. */
int http_request(CURL *c, const char *url, struct curl_slist *headers, const char *body, size_t max_reply,
                 double deadline_ms, long connect_ms, int retries, const char *what, struct http_reply *out,
                 char *err);
void http_reply_free(struct http_reply *r);

#endif
