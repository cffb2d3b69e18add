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

/* Copies the message into out with every control character escaped
 * (\n, \r, \t, else \xHH; C1 controls as \u00HH), so a value from a
 * request can neither start a forged line nor drive a terminal. Always
 * terminates out; cuts at a whole escape. */
static void escape_into(char *out, size_t outsz, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;

    for (; *p != '\0'; p++) {
        char e[8];
        size_t n = 0, k;
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            e[n++] = '\\';
            e[n++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            e[n++] = '\\';
            e[n++] = 'x';
            e[n++] = hex[*p >> 4];
            e[n++] = hex[*p & 15];
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            /* U+0080-U+009F: CSI and friends for some terminals. */
            memcpy(e, "\\u00", 4);
            n = 4;
            e[n++] = hex[p[1] >> 4];
            e[n++] = hex[p[1] & 15];
            p++;
        } else {
            e[n++] = (char)*p;
        }
        if (o + n >= outsz)
            break;
        for (k = 0; k < n; k++)
            out[o++] = e[k];
    }
    out[o] = '\0';
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *tags[] = { "DEBUG", "INFO", "WARN", "ERROR" };
    char line[2048];
    char msg[2048];
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
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof line)
        escape_into(line + n, sizeof line - (size_t)n, msg);
    /* One write so lines from several workers do not interleave. */
    n = (int)strlen(line);
    if ((size_t)n < sizeof line - 1)
        line[n++] = '\n';
    else
        line[sizeof line - 2] = '\n', n = (int)sizeof line - 1;
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}
