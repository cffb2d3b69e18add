/* Asynchronous campaigns: POST /api/campaigns (and Prefer: respond-async on
 * POST /api/campaign/tier-1) queues a validated brief and answers 202;
 * GET /api/campaigns/{product_id} is the job's state and, once completed,
 * tier-1's answer; GET /api/campaigns lists the caller's jobs newest first.
 * adsmith-campaigner runs the jobs; the SQL is in campaignq. */
#include "api_int.h"
#include "campaignq.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIST_DEFAULT 20
#define LIST_MAX 100

int api_prefers_async(const struct call *c)
{
    size_t i;

    for (i = 0; i < c->req->nheaders; i++) {
        const char *v = c->req->headers[i].value, *p;
        if (strcmp(c->req->headers[i].name, "prefer") != 0 || v == NULL)
            continue;
        /* Prefer is a list of preferences: "respond-async, wait=10". */
        for (p = v; *p != '\0'; p += strcspn(p, ",")) {
            size_t n;
            p += strspn(p, ", \t");
            n = strcspn(p, ",; \t");
            if (n == 13 && strncasecmp(p, "respond-async", 13) == 0)
                return 1;
        }
    }
    return 0;
}

static char *brief_text(const struct campaign_brief *b)
{
    json_object *o = json_object_new_object();
    char *t;

    json_object_object_add(o, "product_info", json_object_get(b->product));
    json_object_object_add(o, "target_markets", json_object_get(b->markets_obj));
    json_object_object_add(o, "campaign_objectives", json_object_get(b->objectives));
    t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return t;
}

void route_campaigns_post(struct call *c)
{
    struct campaign_brief b;
    struct campaignq_new job;
    char corr[37], pid[37], err[ADS_ERRSZ], url[600];
    const char *callback;
    char *text;
    json_object *o, *v;
    int rc;

    if (ads_uuid4(corr) != 0 || ads_uuid4(pid) != 0) {
        api_error(c, 500, "internal_error", NULL, "Internal error");
        return;
    }
    if (api_campaign_brief(c, corr, &b) != 0)
        return;
    /* The webhook target: the body's callback_url, else webhook_url. */
    if (api_callback_url(c, &callback) < 0 || (text = brief_text(&b)) == NULL) {
        if (c->resp->body == NULL)
            api_error(c, 500, "internal_error", NULL, "Internal error");
        api_campaign_brief_free(&b);
        return;
    }
    memset(&job, 0, sizeof job);
    job.product_id = pid;
    job.user_id = c->user;
    job.correlation_id = corr;
    job.name = json_object_object_get_ex(b.product, "name", &v) ? json_object_get_string(v) : "";
    job.brief = text;
    job.s3_bucket = b.bucket;
    job.s3_key = b.key;
    job.callback_url = callback;
    rc = campaignq_enqueue(c->ctx->db, &job, err);
    free(text);
    api_campaign_brief_free(&b);
    if (rc != DB_OK) {
        api_db_error(c, rc, "campaign enqueue", err);
        return;
    }
    log_info("campaign %s product %s user %s queued request %s", corr, pid, c->user,
             c->req->request_id ? c->req->request_id : "-");
    snprintf(url, sizeof url, "%s/api/campaigns/%s", c->ctx->cfg->public_base_url, pid);
    o = json_object_new_object();
    json_object_object_add(o, "success", json_object_new_boolean(1));
    json_object_object_add(o, "product_id", json_object_new_string(pid));
    json_object_object_add(o, "productId", json_object_new_string(pid));
    json_object_object_add(o, "correlation_id", json_object_new_string(corr));
    json_object_object_add(o, "status", json_object_new_string("pending"));
    json_object_object_add(o, "status_url", json_object_new_string(url));
    api_header(c, "Location", url);
    api_json(c, 202, o);
}

static void campaign_not_found(struct call *c, const char *id)
{
    json_object *extra = json_object_new_object();

    json_object_object_add(extra, "product_id", json_object_new_string(ads_is_uuid(id) ? id : ""));
    api_error(c, 404, "not_found", extra, "Campaign not found");
}

void route_campaigns_get(struct call *c)
{
    char err[ADS_ERRSZ];
    json_object *o = NULL;
    int rc = campaignq_status_json(c->ctx->db, c->scoped ? c->user : "", c->param, &o, err);

    if (rc < 0) {
        api_db_error(c, rc, "campaign status", err);
        return;
    }
    if (rc == 1) {
        campaign_not_found(c, c->param);
        return;
    }
    api_json(c, 200, o);
}

void route_campaigns_list(struct call *c)
{
    char err[ADS_ERRSZ], lim[16], cursor[128];
    long limit = LIST_DEFAULT;
    json_object *o = NULL;
    int rc;

    if (api_query_param(c->req->query, "limit", lim, sizeof lim) == 0 &&
        ads_parse_long(lim, 1, LIST_MAX, &limit) != 0) {
        api_error(c, 400, "invalid_request", NULL, "limit must be a whole number from 1 to %d", LIST_MAX);
        return;
    }
    if (api_query_param(c->req->query, "cursor", cursor, sizeof cursor) != 0)
        /* Absent, or too long to be one of ours: the latter is refused below. */
        snprintf(cursor, sizeof cursor, "%s", c->req->query != NULL && strstr(c->req->query, "cursor=") ? "!" : "");
    rc = campaignq_list_json(c->ctx->db, c->scoped ? c->user : "", limit, cursor, &o, err);
    if (rc < 0) {
        api_db_error(c, rc, "campaign list", err);
        return;
    }
    if (rc == 1) {
        api_error(c, 400, "invalid_request", NULL, "cursor is not a cursor this listing gave");
        return;
    }
    api_json(c, 200, o);
}
