/*
 * api: the HTTP API of the contract (../shared/api-contract.md), independent
 * of the transport. adsmith-api fills a struct api_request from FastCGI
 * parameters and writes the struct api_response back; tests can drive it
 * the same way.
 *
 * The request's strings are borrowed for the call. The response body is
 * malloc'd by api_handle and freed by api_response_free.
 */
#ifndef ADS_API_H
#define ADS_API_H

#include <stddef.h>

#include "cfg.h"
#include "db.h"
#include "store.h"
#include "kb.h"
#include "sigv4.h"

#define API_MAX_JSON_BODY (64 * 1024)

struct api_request {
    const char *method;
    const char *path;            /* raw, without the query string */
    const char *query;           /* raw, may be "" */
    const char *content_type;    /* may be NULL */
    const char *authorization;   /* may be NULL */
    const char *x_api_key;       /* may be NULL */
    const char *request_id;      /* X-Request-ID from nginx, may be NULL */
    const char *remote_addr;     /* the client's address as nginx saw it, may be NULL */
    const struct sigv4_pair *headers;  /* all request headers, lower-case names */
    size_t nheaders;
    long content_length;         /* -1 when absent */
    const char *body;
    size_t body_len;
};

struct api_response {
    int status;
    char *body;
    char headers[512];           /* extra "Name: value\r\n" lines */
    const char *content_type;    /* static; NULL: application/json */
    const char *route;           /* static: the route pattern that matched; NULL: none */
};

struct auth_cache;

struct api_ctx {
    const struct config *cfg;
    struct db *db;
    struct store *store;
    const struct kb *kb;
    struct auth_cache *auth_cache;   /* may be NULL */
};

/* The largest body the route at path may carry (JSON routes 64 KiB, object
 * uploads 10 MiB), so the transport knows how much to read. */
size_t api_body_limit(const char *path);

void api_handle(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp);
void api_response_free(struct api_response *resp);

#endif
