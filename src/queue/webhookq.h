/*
 * webhookq: the webhook delivery queue kept in webhook_deliveries (one row
 * per attempt; sql/004_webhooks.sql).
 *
 * Rows are queued by the database itself (trigger adsmith_webhook_on_status
 * on each job table, NOTIFY adsmith_webhooks) when a job with a
 * callback_url reaches completed or failed. A claim takes due pending rows
 * with FOR UPDATE SKIP LOCKED and sets a lease (locked_until), so several
 * generators share the queue without making one attempt twice at once.
 * Recording an attempt's outcome and scheduling the next attempt (a new row,
 * attempt + 1, due after the backoff) is one statement.
 *
 * A struct webhookq_item owns its url (webhookq_item_clear). Functions use
 * only the struct db given: thread-safe as long as each thread has its own.
 */
#ifndef ADS_WEBHOOKQ_H
#define ADS_WEBHOOKQ_H

#include "db.h"
#include "lifecycle.h"

#define WEBHOOKQ_CHANNEL "adsmith_webhooks"

struct webhookq_item {
    long long id;
    char kind[33];
    char job_id[129];
    char user_id[129];
    char *url;
    int attempt;
};

/* The outcome of one attempt. */
struct webhookq_result {
    int delivered;           /* the receiver answered 2xx */
    long status_code;        /* 0: no answer */
    const char *error;       /* NULL when delivered */
    long duration_ms;
    int retry;               /* schedule attempt + 1 ... */
    long retry_ms;           /* ... this much later */
};

/* Claims up to max due attempts into items[] (*n: how many), leased for
 * lease_ms. */
int webhookq_claim(struct db *db, int max, long lease_ms, struct webhookq_item *items, int *n, char *err);

/* Records the outcome of attempt id (and queues the retry). 0, or 1 when
 * the row was not pending any more (its lease had expired and another
 * deliverer recorded it). */
int webhookq_record(struct db *db, long long id, const struct webhookq_result *res, char *err);

/* Gives a claimed attempt back without making it (shutdown). */
int webhookq_release(struct db *db, long long id, char *err);

/* Milliseconds until the next pending attempt is due (or its lease ends);
 * -1 when none is waiting. */
int webhookq_next_due(struct db *db, long *ms, char *err);

void webhookq_item_clear(struct webhookq_item *it);

/* Lifecycle (lifecycle.h): attempts made (delivered or failed) older than
 * secs; pending ones are never pruned. dry: counts them only. */
int webhookq_prune(struct db *db, long secs, int dry, struct lc_count *out, char *err);
/* Deletes the user's attempts but one being made now (out->left). */
int webhookq_delete_user(struct db *db, const char *user, struct lc_count *out, char *err);

#endif
