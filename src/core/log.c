#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by nature: one program, one log destination. */
static const char *log_prog = "adsmith";
static enum log_level log_min = LOG_INFO;

void log_init(const char *prog, enum log_level min)
{
    log_prog = prog;
    log_min = min;
}

int log_parse_level(const char *s)
{
    static const char *names[] = { "debug", "info", "warn", "error" };
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *tags[] = { "DEBUG", "INFO", "WARN", "ERROR" };
    char line[2048];
    char ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;
    int n;

    if (lvl < log_min)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof line, "%s.%03ldZ %s %s[%d] ", ts,
                 now.tv_nsec / 1000000, tags[lvl], log_prog, (int)getpid());
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* One write so lines from several workers do not interleave. */
    n = (int)strlen(line);
    if ((size_t)n < sizeof line - 1)
        line[n++] = '\n';
    else
        line[sizeof line - 2] = '\n', n = (int)sizeof line - 1;
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}
