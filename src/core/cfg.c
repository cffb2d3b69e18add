#include "cfg.h"
#include "util.h"
#include "log.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef ADS_DATADIR
#define ADS_DATADIR "/usr/local/share/adsmith"
#endif
#ifndef ADS_PKGLIBEXECDIR
#define ADS_PKGLIBEXECDIR "/usr/local/libexec/adsmith"
#endif

enum kind { K_STR, K_INT, K_BOOL };  /* K_BOOL: stored as "yes" or "no" */

struct key {
    const char *name;
    enum kind kind;
    size_t off;
    const char *def;
    long min, max;
    const char *choices;      /* '|'-separated, or NULL for free text */
    const char *aws_env;      /* fallback variable (AWS_*, YOUTUBE_API_KEY), or NULL */
    int secret;
};

#define S(f) offsetof(struct config, f)
static const struct key keys[] = {
    { "database_url", K_STR, S(database_url), "postgresql:///adsmith", 0, 0, NULL, NULL, 1 },
    { "listen", K_STR, S(listen), "/run/adsmith/api.sock", 0, 0, NULL, NULL, 0 },
    { "workers", K_INT, S(workers), "4", 1, 256, NULL, NULL, 0 },
    { "campaign_listen", K_STR, S(campaign_listen), "", 0, 0, NULL, NULL, 0 },
    { "campaign_workers", K_INT, S(campaign_workers), "16", 1, 256, NULL, NULL, 0 },
    { "campaign_queue", K_INT, S(campaign_queue), "4", 0, 255, NULL, NULL, 0 },
    { "campaign_queue_timeout_ms", K_INT, S(campaign_queue_timeout_ms), "5000", 100, 60000, NULL, NULL, 0 },
    { "auth", K_STR, S(auth), "api_key", 0, 0, "api_key|none", NULL, 0 },
    { "auth_cache_ttl", K_INT, S(auth_cache_ttl), "5", 0, 300, NULL, NULL, 0 },
    { "storage", K_STR, S(storage), "local", 0, 0, "local|s3", NULL, 0 },
    { "storage_root", K_STR, S(storage_root), "/var/lib/adsmith/storage", 0, 0, NULL, NULL, 0 },
    { "public_base_url", K_STR, S(public_base_url), "http://127.0.0.1:8080", 0, 0, NULL, NULL, 0 },
    { "uploads_bucket", K_STR, S(uploads_bucket), "adsmith-uploads", 0, 0, NULL, NULL, 0 },
    { "assets_bucket", K_STR, S(assets_bucket), "adsmith-assets", 0, 0, NULL, NULL, 0 },
    { "upload_expires", K_INT, S(upload_expires), "3600", 60, 604800, NULL, NULL, 0 },
    { "max_pending_uploads", K_INT, S(max_pending_uploads), "100", 1, 100000, NULL, NULL, 0 },
    { "s3_access_key_id", K_STR, S(s3_access_key_id), "", 0, 0, NULL, NULL, 0 },
    { "s3_secret_access_key", K_STR, S(s3_secret_access_key), "", 0, 0, NULL, NULL, 1 },
    { "s3_session_token", K_STR, S(s3_session_token), "", 0, 0, NULL, NULL, 1 },
    { "s3_region", K_STR, S(s3_region), "us-east-1", 0, 0, NULL, "AWS_REGION", 0 },
    { "s3_endpoint", K_STR, S(s3_endpoint), "", 0, 0, NULL, NULL, 0 },
    { "s3_path_style", K_BOOL, S(s3_path_style), "no", 0, 0, NULL, NULL, 0 },
    { "s3_connect_timeout_ms", K_INT, S(s3_connect_timeout_ms), "3000", 100, 60000, NULL, NULL, 0 },
    { "s3_timeout_ms", K_INT, S(s3_timeout_ms), "30000", 500, 600000, NULL, NULL, 0 },
    { "s3_retries", K_INT, S(s3_retries), "3", 0, 10, NULL, NULL, 0 },
    { "assets_public_url", K_STR, S(assets_public_url), "", 0, 0, NULL, NULL, 0 },
    { "text_provider", K_STR, S(text_provider), "builtin", 0, 0, "builtin|bedrock|openai", NULL, 0 },
    { "openai_base_url", K_STR, S(openai_base_url), "http://127.0.0.1:8000/v1", 0, 0, NULL, NULL, 0 },
    { "openai_api_key", K_STR, S(openai_api_key), "", 0, 0, NULL, "OPENAI_API_KEY", 1 },
    { "openai_model", K_STR, S(openai_model), "", 0, 0, NULL, NULL, 0 },
    { "text_model", K_STR, S(text_model), "amazon.nova-pro-v1:0", 0, 0, NULL, NULL, 0 },
    { "text_max_tokens", K_INT, S(text_max_tokens), "4096", 256, 10000, NULL, NULL, 0 },
    { "agent_max_turns", K_INT, S(agent_max_turns), "6", 0, 20, NULL, NULL, 0 },
    { "price_input_per_mtok", K_STR, S(price_input_per_mtok), "0.80", 0, 0, NULL, NULL, 0 },
    { "price_output_per_mtok", K_STR, S(price_output_per_mtok), "3.20", 0, 0, NULL, NULL, 0 },
    { "vision_provider", K_STR, S(vision_provider), "builtin", 0, 0, "builtin|rekognition", NULL, 0 },
    { "rekognition_endpoint", K_STR, S(rekognition_endpoint), "", 0, 0, NULL, NULL, 0 },
    { "rekognition_region", K_STR, S(rekognition_region), "", 0, 0, NULL, NULL, 0 },
    { "rekognition_min_confidence", K_INT, S(rekognition_min_confidence), "75", 0, 100, NULL, NULL, 0 },
    { "rekognition_max_labels", K_INT, S(rekognition_max_labels), "50", 1, 1000, NULL, NULL, 0 },
    { "video_provider", K_STR, S(video_provider), "none", 0, 0, "none|youtube", NULL, 0 },
    { "youtube_endpoint", K_STR, S(youtube_endpoint), "https://www.googleapis.com", 0, 0, NULL, NULL, 0 },
    { "youtube_api_key", K_STR, S(youtube_api_key), "", 0, 0, NULL, "YOUTUBE_API_KEY", 1 },
    { "ai_timeout_ms", K_INT, S(ai_timeout_ms), "15000", 500, 600000, NULL, NULL, 0 },
    { "campaign_deadline_ms", K_INT, S(campaign_deadline_ms), "60000", 1000, 60000, NULL, NULL, 0 },
    { "image_provider", K_STR, S(image_provider), "builtin", 0, 0, "builtin|bedrock", NULL, 0 },
    { "image_model", K_STR, S(image_model), "amazon.nova-canvas-v1:0", 0, 0, NULL, NULL, 0 },
    { "image_quality", K_STR, S(image_quality), "standard", 0, 0, "standard|premium", NULL, 0 },
    { "image_timeout_ms", K_INT, S(image_timeout_ms), "60000", 1000, 600000, NULL, NULL, 0 },
    { "ai_connect_timeout_ms", K_INT, S(ai_connect_timeout_ms), "3000", 100, 60000, NULL, NULL, 0 },
    { "bedrock_region", K_STR, S(bedrock_region), "us-east-1", 0, 0, NULL, "AWS_REGION", 0 },
    { "bedrock_endpoint", K_STR, S(bedrock_endpoint), "", 0, 0, NULL, NULL, 0 },
    { "aws_access_key_id", K_STR, S(aws_access_key_id), "", 0, 0, NULL, NULL, 0 },
    { "aws_secret_access_key", K_STR, S(aws_secret_access_key), "", 0, 0, NULL, NULL, 1 },
    { "aws_session_token", K_STR, S(aws_session_token), "", 0, 0, NULL, NULL, 1 },
    { "log_level", K_STR, S(log_level), "info", 0, 0, "debug|info|warn|error", NULL, 0 },
    { "data_dir", K_STR, S(data_dir), ADS_DATADIR, 0, 0, NULL, NULL, 0 },
    { "max_image_pixels", K_INT, S(max_image_pixels), "40000000", 1024, 200000000, NULL, NULL, 0 },
    { "decode_helper", K_STR, S(decode_helper), ADS_PKGLIBEXECDIR "/adsmith-imgdec", 0, 0, NULL, NULL, 0 },
    { "decode_max_cpu_ms", K_INT, S(decode_max_cpu_ms), "2000", 100, 60000, NULL, NULL, 0 },
    { "decode_max_memory_mb", K_INT, S(decode_max_memory_mb), "128", 64, 4096, NULL, NULL, 0 },
    { "poll_interval", K_INT, S(poll_interval), "5", 1, 3600, NULL, NULL, 0 },
    { "job_lease", K_INT, S(job_lease), "300", 5, 86400, NULL, NULL, 0 },
    { "max_attempts", K_INT, S(max_attempts), "3", 1, 100, NULL, NULL, 0 },
    { "retry_backoff_ms", K_INT, S(retry_backoff_ms), "2000", 10, 3600000, NULL, NULL, 0 },
    { "generator_concurrency", K_INT, S(generator_concurrency), "16", 1, 1024, NULL, NULL, 0 },
    { "shutdown_grace", K_INT, S(shutdown_grace), "30", 0, 3600, NULL, NULL, 0 },
    { "webhook_url", K_STR, S(webhook_url), "", 0, 0, NULL, NULL, 0 },
    { "webhook_secret", K_STR, S(webhook_secret), "", 0, 0, NULL, NULL, 1 },
    { "webhook_allow_private", K_BOOL, S(webhook_allow_private), "no", 0, 0, NULL, NULL, 0 },
    { "webhook_timeout_ms", K_INT, S(webhook_timeout_ms), "5000", 100, 60000, NULL, NULL, 0 },
    { "webhook_max_attempts", K_INT, S(webhook_max_attempts), "5", 1, 20, NULL, NULL, 0 },
    { "webhook_backoff_ms", K_INT, S(webhook_backoff_ms), "10000", 10, 3600000, NULL, NULL, 0 },
    { "campaign_concurrency", K_INT, S(campaign_concurrency), "64", 1, 1024, NULL, NULL, 0 },
    /* Durations: text checked by cfg_duration when set. */
    { "retain_uploads_unused", K_STR, S(retain_uploads_unused), "30d", 0, 0, NULL, NULL, 0 },
    { "retain_products", K_STR, S(retain_products), "forever", 0, 0, NULL, NULL, 0 },
    { "retain_images", K_STR, S(retain_images), "forever", 0, 0, NULL, NULL, 0 },
    { "retain_finished_jobs", K_STR, S(retain_finished_jobs), "30d", 0, 0, NULL, NULL, 0 },
    { "metrics_interval", K_INT, S(metrics_interval), "5", 1, 300, NULL, NULL, 0 },
    { "metrics_allow", K_STR, S(metrics_allow), "", 0, 0, NULL, NULL, 0 },
    /* The local store's URL-signing keys (not AWS credentials). */
    { "local_signing_key_id", K_STR, S(local_signing_key_id), "adsmith-local", 0, 0, NULL, NULL, 0 },
    { "local_signing_secret", K_STR, S(local_signing_secret), "", 0, 0, NULL, NULL, 1 },
};
#undef S
#define NKEYS (sizeof keys / sizeof keys[0])

/* Durations ---------------------------------------------------------- */

#define DURATION_MAX (100L * 365 * 86400)

static const struct {
    const char *name;
    long secs;
} duration_units[] = {
    { "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
    { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
    { "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
    { "d", 86400 }, { "day", 86400 }, { "days", 86400 },
    { "w", 604800 }, { "week", 604800 }, { "weeks", 604800 },
};

/* The seconds of the unit spelled p[0..n), or 0. */
static long duration_unit(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++)
        if (strlen(duration_units[i].name) == n && strncmp(duration_units[i].name, p, n) == 0)
            return duration_units[i].secs;
    return 0;
}

int cfg_duration(const char *text, long *secs)
{
    const char *p = text;
    long total = 0;
    int groups = 0;

    if (text == NULL)
        return -1;
    if (strcmp(text, "forever") == 0) {
        *secs = CFG_FOREVER;
        return 0;
    }
    for (;;) {
        long n = 0, unit;
        size_t len = 0;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9') {
            n = n * 10 + (*p++ - '0');
            if (n > DURATION_MAX)
                return -1;
        }
        while (*p == ' ')
            p++;
        while (p[len] >= 'a' && p[len] <= 'z')
            len++;
        if ((unit = duration_unit(p, len)) == 0 || n > (DURATION_MAX - total) / unit)
            return -1;
        total += n * unit;
        p += len;
        groups++;
    }
    if (groups == 0 || total < 1)
        return -1;
    *secs = total;
    return 0;
}

/* 1 when k is one of the duration keys (their names begin "retain_"). */
static int is_duration(const struct key *k)
{
    return strncmp(k->name, "retain_", 7) == 0;
}

static const struct key *find_key(const char *name)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static int in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *p = choices;

    while (p != NULL && *p != '\0') {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* PostgreSQL's booleans: on/off, true/false, yes/no, 1/0, any case, and
 * the unique prefixes of the words (t, tr, f, y, n, of, ...; "o" is
 * ambiguous). */
int cfg_parse_bool(const char *s, int *out)
{
    static const struct { const char *word; size_t min; int value; } words[] = {
        { "true", 1, 1 }, { "false", 1, 0 }, { "yes", 1, 1 }, { "no", 1, 0 }, { "on", 2, 1 }, { "off", 2, 0 },
    };
    size_t n = strlen(s), i;

    if (strcmp(s, "1") == 0 || strcmp(s, "0") == 0) {
        *out = s[0] == '1';
        return 0;
    }
    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (n >= words[i].min && n <= strlen(words[i].word) && strncasecmp(s, words[i].word, n) == 0) {
            *out = words[i].value;
            return 0;
        }
    }
    return -1;
}

/* Sets one key from text; where says where the text came from. */
static int set_key(struct config *cfg, const struct key *k, const char *v,
                   const char *where, char *err)
{
    char *base = (char *)cfg;
    int b;

    if (k->kind == K_INT) {
        long n;
        if (ads_parse_long(v, k->min, k->max, &n) != 0) {
            ads_errf(err, "%s: %s must be an integer from %ld to %ld", where, k->name, k->min, k->max);
            return -1;
        }
        *(long *)(base + k->off) = n;
        return 0;
    }
    if (k->kind == K_BOOL) {
        if (cfg_parse_bool(v, &b) != 0) {
            ads_errf(err, "%s: %s must be a boolean: on/off, true/false, yes/no or 1/0", where, k->name);
            return -1;
        }
        v = b ? "yes" : "no";
    }
    if (k->choices != NULL && !in_choices(k->choices, v)) {
        ads_errf(err, "%s: %s must be one of %s", where, k->name, k->choices);
        return -1;
    }
    if (is_duration(k)) {
        long secs;
        if (cfg_duration(v, &secs) != 0) {
            ads_errf(err, "%s: %s must be a duration (30d, 12h, 90min, 1d 12h) or forever", where, k->name);
            return -1;
        }
    }
    char **slot = (char **)(base + k->off);
    char *copy = strdup(v);
    if (copy == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int load_file(struct config *cfg, const char *path, char *err)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0;

    if (f == NULL) {
        ads_errf(err, "cannot open config %s", path);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        char where[512];
        char *p, *eq, *name, *val;
        const struct key *k;

        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (strchr(line, '\n') == NULL && !feof(f)) {
            ads_errf(err, "%s: line too long", where);
            fclose(f);
            return -1;
        }
        p = trim(line);
        if (*p == '\0' || *p == '#')
            continue;
        eq = strchr(p, '=');
        if (eq == NULL) {
            ads_errf(err, "%s: expected key = value", where);
            fclose(f);
            return -1;
        }
        *eq = '\0';
        name = trim(p);
        val = trim(eq + 1);
        k = find_key(name);
        if (k == NULL) {
            ads_errf(err, "%s: unknown key '%.64s'", where, name);
            fclose(f);
            return -1;
        }
        if (set_key(cfg, k, val, where, err) != 0) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static int load_env(struct config *cfg, char *err)
{
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        char var[64], where[80];
        const char *v;
        size_t j;

        snprintf(var, sizeof var, "ADSMITH_%s", keys[i].name);
        for (j = 8; var[j] != '\0'; j++)
            var[j] = (char)toupper((unsigned char)var[j]);
        v = getenv(var);
        snprintf(where, sizeof where, "environment %s", var);
        if (v != NULL && set_key(cfg, &keys[i], v, where, err) != 0)
            return -1;
    }
    return 0;
}

static int is_region(const struct key *k)
{
    size_t n = strlen(k->name);

    return n > 7 && strcmp(k->name + n - 7, "_region") == 0;
}

/* AWS_REGION, YOUTUBE_API_KEY and OPENAI_API_KEY fill what the file and
 * ADSMITH_* left empty (AWS credentials are the provider chain's:
 * awscreds.h). */
static int load_aws_env(struct config *cfg, char *err)
{
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        const char *v;
        char **slot;

        if (keys[i].aws_env == NULL)
            continue;
        slot = (char **)((char *)cfg + keys[i].off);
        v = getenv(keys[i].aws_env);
        if (v == NULL || *v == '\0')
            continue;
        /* A region has a default, so "left empty" means "still the default". */
        if (strcmp(*slot, is_region(&keys[i]) ? keys[i].def : "") != 0)
            continue;
        if (set_key(cfg, &keys[i], v, keys[i].aws_env, err) != 0)
            return -1;
    }
    return 0;
}

/* A price: digits with at most one '.', e.g. "0.80". */
static int is_price(const char *s)
{
    int dots = 0, digits = 0;

    for (; *s != '\0'; s++) {
        if (*s == '.')
            dots++;
        else if (*s >= '0' && *s <= '9')
            digits++;
        else
            return 0;
    }
    return digits > 0 && dots <= 1;
}

double cfg_ai_deadline(const struct config *cfg, double deadline_ms)
{
    double own = ads_now_ms() + (double)cfg->ai_timeout_ms;

    return deadline_ms < own ? deadline_ms : own;
}

const char *cfg_path(const char *explicit_path)
{
    const char *p;

    if (explicit_path != NULL)
        return explicit_path;
    p = getenv("ADSMITH_CONFIG");
    return (p != NULL && *p != '\0') ? p : NULL;
}

/* campaign_listen left empty: campaign.sock in listen's directory. A TCP
 * listen has no directory, so the campaign pool's address must be given. */
static int resolve_campaign_listen(struct config *cfg, const char *path, char *err)
{
    const char *slash;
    char *v;
    int n;

    if (cfg->campaign_listen[0] != '\0')
        return 0;
    slash = strrchr(cfg->listen, '/');
    if (cfg->listen[0] != '/' || slash == NULL) {
        ads_errf(err, "%s: listen is not a unix socket path: set campaign_listen too", path ? path : "config");
        return -1;
    }
    n = (int)(slash - cfg->listen);
    v = malloc((size_t)n + sizeof "/campaign.sock");
    if (v == NULL) {
        ads_errf(err, "out of memory");
        return -1;
    }
    sprintf(v, "%.*s/campaign.sock", n, cfg->listen);
    free(cfg->campaign_listen);
    cfg->campaign_listen = v;
    return 0;
}

int cfg_load(struct config *cfg, const char *path, char *err)
{
    size_t i;

    memset(cfg, 0, sizeof *cfg);
    for (i = 0; i < NKEYS; i++)
        if (set_key(cfg, &keys[i], keys[i].def, "default", err) != 0)
            return -1;
    if (path != NULL && load_file(cfg, path, err) != 0)
        return -1;
    if (load_env(cfg, err) != 0 || load_aws_env(cfg, err) != 0)
        return -1;
    if (strncmp(cfg->public_base_url, "http://", 7) != 0 &&
        strncmp(cfg->public_base_url, "https://", 8) != 0) {
        ads_errf(err, "%s: public_base_url must start with http:// or https://", path ? path : "config");
        return -1;
    }
    if (strcmp(cfg->text_provider, "openai") == 0 &&
        (cfg->openai_model[0] == '\0' || (strncmp(cfg->openai_base_url, "http://", 7) != 0 &&
                                         strncmp(cfg->openai_base_url, "https://", 8) != 0))) {
        ads_errf(err, "%s: text_provider = openai needs openai_model and an http(s) openai_base_url",
                 path ? path : "config");
        return -1;
    }
    if (!is_price(cfg->price_input_per_mtok) || !is_price(cfg->price_output_per_mtok)) {
        ads_errf(err, "%s: price_input_per_mtok and price_output_per_mtok must be decimal numbers of USD",
                 path ? path : "config");
        return -1;
    }
    if (cfg->webhook_url[0] != '\0' && strncmp(cfg->webhook_url, "http://", 7) != 0 &&
        strncmp(cfg->webhook_url, "https://", 8) != 0) {
        ads_errf(err, "%s: webhook_url must start with http:// or https://", path ? path : "config");
        return -1;
    }
    if (!ads_all_chars(cfg->uploads_bucket, 3, 63, "-.") || !ads_all_chars(cfg->assets_bucket, 3, 63, "-.")) {
        ads_errf(err, "%s: bucket names must be 3-63 of [A-Za-z0-9.-]", path ? path : "config");
        return -1;
    }
    if (resolve_campaign_listen(cfg, path, err) != 0)
        return -1;
    if (cfg->campaign_workers + cfg->campaign_queue > 256) {
        ads_errf(err, "%s: campaign_workers + campaign_queue must be at most 256", path ? path : "config");
        return -1;
    }
    if (strcmp(cfg->campaign_listen, cfg->listen) == 0) {
        ads_errf(err, "%s: campaign_listen must differ from listen", path ? path : "config");
        return -1;
    }
    if (ads_addr_list_valid(cfg->metrics_allow) != 0) {
        ads_errf(err, "%s: metrics_allow must list IPv4/IPv6 addresses or CIDRs (a.b.c.d/n), separated by "
                 "spaces or commas", path ? path : "config");
        return -1;
    }
    return 0;
}

void cfg_free(struct config *cfg)
{
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        if (keys[i].kind != K_INT) {
            char **slot = (char **)((char *)cfg + keys[i].off);
            free(*slot);
            *slot = NULL;
        }
    }
}

void cfg_dump(const struct config *cfg, FILE *f)
{
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        const char *base = (const char *)cfg;
        if (keys[i].kind == K_INT) {
            fprintf(f, "%s = %ld\n", keys[i].name, *(const long *)(base + keys[i].off));
        } else {
            const char *v = *(char *const *)(base + keys[i].off);
            if (keys[i].secret && v[0] != '\0')
                v = "(set, hidden)";
            fprintf(f, "%s = %s\n", keys[i].name, v);
        }
    }
}
