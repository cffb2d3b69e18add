/* log: a value from a request cannot forge a line or reach a terminal raw.
 * stderr goes to a temp file; each case logs one message and reads back
 * the line written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

/* Logs "market %s" with value and returns what follows "market " on the
 * (single) line written, without its newline; lines gets the line count. */
static void logged(const char *value, char *out, size_t outsz, int *lines)
{
    char buf[4096], *p;
    FILE *f = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n, i;

    fflush(stderr);
    dup2(fileno(f), STDERR_FILENO);
    log_error("market %s", value);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (*lines = 0, i = 0; i < n; i++)
        *lines += buf[i] == '\n';
    p = strstr(buf, "market ");
    snprintf(out, outsz, "%s", p ? p + 7 : "");
    if ((p = strchr(out, '\n')) != NULL)
        *p = '\0';
}

static const struct { const char *in, *want; } cases[] = {
    { "Germany", "Germany" },
    { "Germany\n2026-01-01T00:00:00.000Z ERROR adsmith-api[1] forged", "Germany\\n2026-01-01T00:00:00.000Z ERROR adsmith-api[1] forged" },
    { "a\r\nb", "a\\r\\nb" },
    { "tab\there", "tab\\there" },
    { "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m" },
    { "bell\x07 del\x7f", "bell\\x07 del\\x7f" },
    { "csi\xc2\x9b" "2J", "csi\\u009b2J" },
    { "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac" },
    { "back\\slash", "back\\slash" },
};

int main(void)
{
    char out[4096], *big;
    size_t i;
    int lines;

    log_init("test_log", LOG_DEBUG);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        logged(cases[i].in, out, sizeof out, &lines);
        CHECK(lines == 1);
        CHECK(strcmp(out, cases[i].want) == 0);
        if (strcmp(out, cases[i].want) != 0)
            fprintf(stderr, "case %zu: got [%s]\n", i, out);
    }
    /* A long value full of newlines is cut, still one line. */
    big = malloc(3000);
    memset(big, '\n', 2999);
    big[2999] = '\0';
    logged(big, out, sizeof out, &lines);
    CHECK(lines == 1 && strncmp(out, "\\n\\n\\n", 6) == 0 && strchr(out, '\n') == NULL);
    free(big);
    return unit_done("log");
}
