/*
 * webhook_deliverer: makes the webhook attempts queued in webhook_deliveries
 * (webhookq.h), in a thread of its own beside adsmith-generator's job loop,
 * so a receiver that is slow or down never holds up a job.
 *
 * The thread has its own PostgreSQL connection (LISTEN adsmith_webhooks, a
 * sweep every poll_interval seconds and a timer for the next retry) and its
 * own curl multi handle: up to WEBHOOK_DELIVERER_SLOTS attempts run at
 * once. Each attempt builds the body at delivery time from the job's row
 * through the job kind's status function (the very JSON the GET route
 * answers), signs it (webhook.h), resolves and checks the callback's
 * address and pins the connection to it, POSTs with webhook_timeout_ms, no
 * redirects and no proxy, and records the outcome; a failure is retried
 * after webhook_backoff_ms * 2^(attempt-1) (jittered) until
 * webhook_max_attempts. A refused address, a bad URL or a job that no
 * longer exists is recorded as failed and not retried.
 *
 * Thread-safety: start and stop are called from one thread (the program's
 * main). The deliverer copies what it needs from cfg at start and shares
 * no memory with the caller afterwards; stop wakes the thread through a
 * pipe and joins it. It needs curl_global_init done before start.
 */
#ifndef ADS_WEBHOOK_DELIVERER_H
#define ADS_WEBHOOK_DELIVERER_H

#include "cfg.h"

#define WEBHOOK_DELIVERER_SLOTS 8

struct webhook_deliverer;

/* Starts the thread; NULL with err when it cannot. */
struct webhook_deliverer *webhook_deliverer_start(const struct config *cfg, char *err);

/* Stops it: attempts in flight are abandoned and given back to the queue
 * (they are made again later, by this or another generator). NULL is a
 * no-op. */
void webhook_deliverer_stop(struct webhook_deliverer *d);

#endif
