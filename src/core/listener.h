/*
 * listener: a database connection that LISTENs on one channel and comes
 * back by itself, for the background processes that wait on a queue (the
 * generator, the campaigner, the webhook deliverer). listener_ready, called
 * before the connection is used, reconnects with exponential backoff
 * (250 ms doubling to 30 s) and LISTENs again on every new connection;
 * listener_lost drops a connection its owner found broken.
 *
 * struct listener borrows its db and channel. Each owner (a thread) has its
 * own; none of this is shared between threads.
 */
#ifndef ADS_LISTENER_H
#define ADS_LISTENER_H

#include "db.h"

struct listener {
    struct db *db;
    const char *channel;         /* static: a queue module's channel name */
    const char *what;            /* for the log: "jobs", "campaigns", "webhooks" */
    unsigned long gen;           /* db_generation LISTENed on; 0: not listening */
    double retry_at;             /* ads_now_ms() of the next attempt */
    long backoff_ms;
};

enum { LISTENER_DOWN = 0, LISTENER_UP = 1, LISTENER_FRESH = 2 };

void listener_init(struct listener *l, struct db *db, const char *channel, const char *what);

/* LISTENER_UP when connected and listening; LISTENER_FRESH when it has just
 * (re)connected, so notifications may have been missed and the queue wants
 * a look; LISTENER_DOWN when not (the next try is at l->retry_at). */
int listener_ready(struct listener *l, double now);

/* The owner found the connection broken (err: libpq's message): dropped,
 * to be made again by listener_ready. */
void listener_lost(struct listener *l, const char *err);

/* 1 while listening on the current connection. */
int listener_up(const struct listener *l);

#endif
