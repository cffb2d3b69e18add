/*
 * log: one line per event on stderr (journald or the quickstart's log file
 * captures it): "LEVEL prog[pid] message". The caller never passes secrets.
 * Control characters in the message (a newline or an escape sequence in a
 * value from a request) are written escaped, as \n, \r, \t or \xHH (C1
 * controls as \u00HH): one event is always one line. Thread-safe (one
 * write per line); log_init is called once at start.
 */
#ifndef ADS_LOG_H
#define ADS_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(const char *prog, enum log_level min);
/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int log_parse_level(const char *s);
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
