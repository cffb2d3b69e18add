#include <config.h>

#include "webhook_deliverer.h"
#include "campaignq.h"
#include "db.h"
#include "jobq.h"
#include "listener.h"
#include "log.h"
#include "util.h"
#include "webhook.h"
#include "webhookq.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

/* A claim outlives the attempt's own timeout by this much (DNS, signing). */
#define LEASE_MARGIN_MS 15000
/* A receiver's answer is read and dropped; a longer one ends the attempt. */
#define MAX_REPLY 65536
/* The soonest the queue is looked at again after a claim found nothing. */
#define MIN_RECHECK_MS 50

/* What a job kind's status JSON is built by: the same function as its GET
 * route (0 found, 1 not found, <0 DB error). */
typedef int (*status_json_fn)(struct db *db, const char *user, const char *id, json_object **out,
                              char *err);

static const struct {
    const char *kind;
    status_json_fn status_json;
} kinds[] = {
    { "image", jobq_status_json },
    { "campaign", campaignq_status_json },
};

struct slot {
    int busy;
    struct webhookq_item item;
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    char host[256];
    double started;
    size_t reply_len;
    int allow_private;
    char refused[ADS_ERRSZ];     /* set when the socket address was refused */
    char errbuf[CURL_ERROR_SIZE];
};

struct webhook_deliverer {
    pthread_t thread;
    int wake[2];                 /* main -> thread: any byte means stop */
    struct db *db;
    CURLM *multi;
    char *secret;
    int allow_private;
    long timeout_ms, max_attempts, backoff_ms, sweep_ms;
    struct slot slots[WEBHOOK_DELIVERER_SLOTS];
    int busy;
    struct listener lsn;         /* the connection and its LISTEN */
    double next_sweep, next_due;
    int more;
    int warned_unsigned;
};

static void db_lost(struct webhook_deliverer *d, const char *err)
{
    listener_lost(&d->lsn, err);
}

/* Makes sure we are connected and LISTENing on this connection. */
static int db_ready(struct webhook_deliverer *d, double now)
{
    int rc = listener_ready(&d->lsn, now);

    if (rc == LISTENER_FRESH)
        d->more = 1;                 /* notifications may have been missed */
    return rc != LISTENER_DOWN;
}

static void slot_free(struct webhook_deliverer *d, struct slot *s)
{
    if (s->easy != NULL) {
        curl_multi_remove_handle(d->multi, s->easy);
        curl_easy_cleanup(s->easy);
    }
    curl_slist_free_all(s->headers);
    curl_slist_free_all(s->resolve);
    webhookq_item_clear(&s->item);
    memset(s, 0, sizeof *s);
    d->busy--;
}

/* Records the outcome of the slot's attempt and frees the slot. */
static void finish(struct webhook_deliverer *d, struct slot *s, long code, const char *error, int retryable)
{
    struct webhookq_result res;
    char err[ADS_ERRSZ];
    int rc;

    memset(&res, 0, sizeof res);
    res.delivered = error == NULL;
    res.status_code = code;
    res.error = error;
    res.duration_ms = (long)(ads_now_ms() - s->started);
    res.retry = retryable && s->item.attempt < d->max_attempts;
    res.retry_ms = res.retry ? jobq_backoff_ms(d->backoff_ms, s->item.attempt) : 0;
    if (error == NULL)
        log_info("webhook %s %s delivered to %s (HTTP %ld, attempt %d, %ld ms)", s->item.kind,
                 s->item.job_id, s->host, code, s->item.attempt, res.duration_ms);
    else if (res.retry)
        log_warn("webhook %s %s to %s: attempt %d failed: %s; next in %ld ms", s->item.kind,
                 s->item.job_id, s->host, s->item.attempt, error, res.retry_ms);
    else
        log_warn("webhook %s %s to %s: attempt %d failed: %s; giving up", s->item.kind, s->item.job_id,
                 s->host, s->item.attempt, error);
    rc = webhookq_record(d->db, s->item.id, &res, err);
    if (rc == DB_UNAVAILABLE)
        db_lost(d, err);
    else if (rc < 0)
        log_error("webhook %s %s: attempt not recorded: %s", s->item.kind, s->item.job_id, err);
    if (res.retry && rc == DB_OK && (d->next_due <= 0 || ads_now_ms() + (double)res.retry_ms < d->next_due))
        d->next_due = ads_now_ms() + (double)res.retry_ms;
    slot_free(d, s);
}

/* Refuses a connection to an address the policy forbids, whatever DNS
 * said before: this is the address curl is about to connect to. */
static curl_socket_t open_checked(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct slot *s = clientp;
    const char *why;

    (void)purpose;
    if (!s->allow_private && (why = webhook_addr_refusal(&addr->addr)) != NULL) {
        snprintf(s->refused, sizeof s->refused, "refused: connection to a %s address", why);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t drop_reply(char *p, size_t size, size_t n, void *userdata)
{
    struct slot *s = userdata;

    (void)p;
    s->reply_len += size * n;
    return s->reply_len > MAX_REPLY ? 0 : size * n;
}

/* Sets up the POST; 0, or -1 with err. */
static int prepare(struct webhook_deliverer *d, struct slot *s, const char *body, size_t len, char *err)
{
    char sig[WEBHOOK_SIGSZ], hdr[160];
    CURL *e = curl_easy_init();

    if (e == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    s->easy = e;
    s->headers = curl_slist_append(s->headers, "Content-Type: application/json");
    s->headers = curl_slist_append(s->headers, "Expect:");
    s->headers = curl_slist_append(s->headers, "User-Agent: adsmith-webhook/" PACKAGE_VERSION);
    snprintf(hdr, sizeof hdr, "X-Adsmith-Delivery: %lld", s->item.id);
    s->headers = curl_slist_append(s->headers, hdr);
    snprintf(hdr, sizeof hdr, "X-Adsmith-Job-Kind: %s", s->item.kind);
    s->headers = curl_slist_append(s->headers, hdr);
    if (d->secret[0] != '\0') {
        if (webhook_sign(d->secret, (long)time(NULL), body, len, sig) != 0) {
            ads_errf(err, "cannot sign the body");
            return -1;
        }
        snprintf(hdr, sizeof hdr, WEBHOOK_SIG_HEADER ": %s", sig);
        s->headers = curl_slist_append(s->headers, hdr);
    } else if (!d->warned_unsigned) {
        d->warned_unsigned = 1;
        log_warn("webhook_secret is not set: webhooks are sent unsigned");
    }
    if (s->headers == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    curl_easy_setopt(e, CURLOPT_URL, s->item.url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, d->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, d->timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, drop_reply);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)s);
    if (s->resolve != NULL)
        curl_easy_setopt(e, CURLOPT_RESOLVE, s->resolve);
    return 0;
}

static status_json_fn kind_fn(const char *kind)
{
    size_t i;

    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].status_json;
    return NULL;
}

/* Begins the attempt in slot s (busy, item set): body, address, POST. */
static void begin(struct webhook_deliverer *d, struct slot *s)
{
    status_json_fn fn = kind_fn(s->item.kind);
    struct webhook_target t;
    char err[ADS_ERRSZ + 16], msg[ADS_ERRSZ], pin[WEBHOOK_RESOLVE_MAX];
    json_object *o = NULL;
    const char *body;
    size_t len;
    int rc;

    s->started = ads_now_ms();
    s->allow_private = d->allow_private;
    snprintf(s->host, sizeof s->host, "?");
    if (webhook_url_parse(s->item.url, d->allow_private, &t, msg) != 0) {
        snprintf(err, sizeof err, "refused: %s", msg);
        finish(d, s, 0, err, 0);
        return;
    }
    snprintf(s->host, sizeof s->host, "%s", t.host);
    if (fn == NULL) {
        finish(d, s, 0, "unknown job kind", 0);
        return;
    }
    rc = fn(d->db, s->item.user_id, s->item.job_id, &o, err);
    if (rc < 0) {                 /* the lease expires and the attempt is made later */
        if (rc == DB_UNAVAILABLE)
            db_lost(d, err);
        else
            log_error("webhook %s %s: %s", s->item.kind, s->item.job_id, err);
        slot_free(d, s);
        return;
    }
    if (rc == 1) {
        finish(d, s, 0, "the job no longer exists", 0);
        return;
    }
    if (!t.literal) {
        rc = webhook_resolve(&t, d->allow_private, pin, sizeof pin, err);
        if (rc != 0) {
            json_object_put(o);
            finish(d, s, 0, err, rc == WEBHOOK_RESOLVE_FAILED);
            return;
        }
        s->resolve = curl_slist_append(NULL, pin);
    }
    body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    len = strlen(body);
    rc = prepare(d, s, body, len, err);
    json_object_put(o);
    if (rc != 0 || curl_multi_add_handle(d->multi, s->easy) != CURLM_OK) {
        if (rc == 0)
            ads_errf(err, "could not start the request");
        curl_easy_cleanup(s->easy);   /* not in the multi */
        s->easy = NULL;
        finish(d, s, 0, err, 1);
    }
}

/* An attempt's request ended. */
static void done(struct webhook_deliverer *d, struct slot *s, CURLcode cc)
{
    long code = 0;
    char msg[ADS_ERRSZ];

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    if (s->refused[0] != '\0') {
        finish(d, s, 0, s->refused, 0);
        return;
    }
    if (cc == CURLE_OK && code >= 200 && code < 300) {
        finish(d, s, code, NULL, 0);
        return;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(msg, sizeof msg, "timed out after %ld ms", d->timeout_ms);
    else if (cc != CURLE_OK)
        snprintf(msg, sizeof msg, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
    else
        snprintf(msg, sizeof msg, "receiver answered HTTP %ld", code);
    finish(d, s, code, msg, 1);
}

static void claim(struct webhook_deliverer *d, double now)
{
    struct webhookq_item items[WEBHOOK_DELIVERER_SLOTS];
    int room = WEBHOOK_DELIVERER_SLOTS - d->busy, n = 0, i, j = 0;
    char err[ADS_ERRSZ];
    long ms = -1;
    int rc;

    if (room <= 0)
        return;
    rc = webhookq_claim(d->db, room, d->timeout_ms + LEASE_MARGIN_MS, items, &n, err);
    if (rc == DB_UNAVAILABLE) {
        db_lost(d, err);
        return;
    }
    if (rc != DB_OK) {
        log_error("webhooks: claim failed: %s", err);
        d->more = 0;
        return;
    }
    for (i = 0; i < n; i++) {
        while (d->slots[j].busy)
            j++;
        d->slots[j].busy = 1;
        d->slots[j].item = items[i];
        d->busy++;
        begin(d, &d->slots[j]);
    }
    d->more = n == room;
    /* Due now yet nothing claimed means another deliverer is taking it:
     * look again shortly rather than at once. */
    if (n < room) {
        d->next_due = 0;
        if (webhookq_next_due(d->db, &ms, err) == DB_OK && ms >= 0)
            d->next_due = now + (double)(ms > MIN_RECHECK_MS ? ms : MIN_RECHECK_MS);
    }
}

/* Waits for a request, a notification, the stop byte or the next timer.
 * 1 when it is time to stop. */
static int wait_events(struct webhook_deliverer *d, double now, int up)
{
    struct curl_waitfd fds[2];
    unsigned nfds = 0;
    double until = up ? d->next_sweep : d->lsn.retry_at;
    int running = 0, queued = 0, stop = 0;
    PGconn *c = db_conn(d->db);
    CURLMsg *m;

    if (up && d->next_due > 0 && d->next_due < until)
        until = d->next_due;
    if (up && d->more && d->busy < WEBHOOK_DELIVERER_SLOTS)
        until = now;
    fds[nfds].fd = d->wake[0];
    fds[nfds].events = CURL_WAIT_POLLIN;
    fds[nfds++].revents = 0;
    if (up && c != NULL && PQsocket(c) >= 0) {
        fds[nfds].fd = PQsocket(c);
        fds[nfds].events = CURL_WAIT_POLLIN;
        fds[nfds++].revents = 0;
    }
    curl_multi_poll(d->multi, fds, nfds, until > now ? (int)(until - now) + 1 : 0, NULL);
    if (fds[0].revents != 0) {
        char b;
        stop = read(d->wake[0], &b, 1) > 0;
    }
    curl_multi_perform(d->multi, &running);
    while ((m = curl_multi_info_read(d->multi, &queued)) != NULL) {
        struct slot *s = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (s != NULL)
            done(d, s, m->data.result);
    }
    if (nfds == 2 && d->lsn.gen != 0) {
        PGnotify *n;
        if (!PQconsumeInput(c)) {
            db_lost(d, PQerrorMessage(c));
            return stop;
        }
        while ((n = PQnotifies(c)) != NULL) {
            d->more = 1;
            PQfreemem(n);
        }
    }
    return stop;
}

static void *run(void *arg)
{
    struct webhook_deliverer *d = arg;
    char err[ADS_ERRSZ];
    int i;

    for (;;) {
        double now = ads_now_ms();
        int up = db_ready(d, now);
        if (up && (now >= d->next_sweep || (d->next_due > 0 && now >= d->next_due))) {
            d->more = 1;
            d->next_due = 0;
            if (now >= d->next_sweep)
                d->next_sweep = now + (double)d->sweep_ms;
        }
        if (up && d->more)
            claim(d, now);
        if (wait_events(d, now, up && d->lsn.gen != 0))
            break;
    }
    for (i = 0; i < WEBHOOK_DELIVERER_SLOTS; i++) {
        struct slot *s = &d->slots[i];
        if (!s->busy)
            continue;
        if (webhookq_release(d->db, s->item.id, err) != DB_OK)
            log_warn("webhook %s %s: not given back (%s); its claim will expire", s->item.kind,
                     s->item.job_id, err);
        slot_free(d, s);
    }
    return NULL;
}

static void destroy(struct webhook_deliverer *d)
{
    if (d->multi != NULL)
        curl_multi_cleanup(d->multi);
    db_close(d->db);
    if (d->wake[0] >= 0)
        close(d->wake[0]);
    if (d->wake[1] >= 0)
        close(d->wake[1]);
    free(d->secret);
    free(d);
}

struct webhook_deliverer *webhook_deliverer_start(const struct config *cfg, char *err)
{
    struct webhook_deliverer *d = calloc(1, sizeof *d);

    if (d == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    d->wake[0] = d->wake[1] = -1;
    d->secret = strdup(cfg->webhook_secret);
    d->allow_private = strcmp(cfg->webhook_allow_private, "yes") == 0;
    d->timeout_ms = cfg->webhook_timeout_ms;
    d->max_attempts = cfg->webhook_max_attempts;
    d->backoff_ms = cfg->webhook_backoff_ms;
    d->sweep_ms = cfg->poll_interval * 1000;
    d->multi = curl_multi_init();
    if (d->secret == NULL || d->multi == NULL || pipe(d->wake) != 0 ||
        fcntl(d->wake[0], F_SETFL, O_NONBLOCK) != 0) {
        ads_errf(err, "cannot set up the webhook deliverer");
        destroy(d);
        return NULL;
    }
    if ((d->db = db_open(cfg->database_url, err)) == NULL) {
        destroy(d);
        return NULL;
    }
    listener_init(&d->lsn, d->db, WEBHOOKQ_CHANNEL, "webhooks");
    curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, (long)WEBHOOK_DELIVERER_SLOTS);
    if (pthread_create(&d->thread, NULL, run, d) != 0) {
        ads_errf(err, "cannot start the webhook thread");
        destroy(d);
        return NULL;
    }
    return d;
}

void webhook_deliverer_stop(struct webhook_deliverer *d)
{
    if (d == NULL)
        return;
    if (write(d->wake[1], "x", 1) != 1)
        log_error("webhooks: cannot wake the deliverer to stop it");
    pthread_join(d->thread, NULL);
    destroy(d);
}
