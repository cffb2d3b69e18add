/*
 * wakeup: how a background process's event loop learns that it must stop
 * or look again. wakeup_install (once, in main, before any thread starts)
 * makes a non-blocking self-pipe, sends SIGTERM and SIGINT to a handler
 * that sets the stop flag and pokes the pipe, and ignores SIGPIPE. The loop
 * polls wakeup_fd() beside its other descriptors and calls wakeup_drain()
 * when it is readable.
 *
 * wakeup_poke and wakeup_stopping are async-signal-safe and thread-safe
 * (a worker thread pokes the loop when it finishes a task); the rest are
 * for the loop's own thread.
 */
#ifndef ADS_WAKEUP_H
#define ADS_WAKEUP_H

int wakeup_install(char *err);
int wakeup_fd(void);
void wakeup_drain(void);
void wakeup_poke(void);
/* 1 once SIGTERM or SIGINT has arrived. */
int wakeup_stopping(void);

#endif
