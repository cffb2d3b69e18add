/*
 * config: the one configuration file ("key = value" lines, '#' comments),
 * path from -c FILE or ADSMITH_CONFIG. Every key can be overridden from the
 * environment as ADSMITH_<KEY>. Regions fall back to AWS_REGION; AWS
 * credentials left empty here are found by the provider chain (awscreds.h:
 * AWS_* variables, shared files, web identity, container, instance).
 * Booleans accept what PostgreSQL accepts (cfg_parse_bool) and are stored
 * as "yes" or "no".
 * An unknown key or a bad value is an error naming the file and line.
 *
 * A struct config owns all its strings; cfg_free releases them.
 *
 * cfg_load and cfg_free are not for concurrent use; a loaded struct config
 * is only read afterwards and may be shared by threads.
 */
#ifndef ADS_CFG_H
#define ADS_CFG_H

#include <stdio.h>

struct config {
    char *database_url;
    char *listen;
    long workers;
    char *campaign_listen;    /* the campaign pool's socket; "" in the file = campaign.sock beside listen */
    long campaign_workers;    /* campaigns (POST /api/campaign/tier-1) running at once */
    long campaign_queue;      /* campaigns that may wait for one of them */
    long campaign_queue_timeout_ms; /* the longest such a wait: then 503 unavailable */
    char *auth;               /* "api_key" | "none" */
    long auth_cache_ttl;      /* seconds a worker trusts a key it has seen */
    char *storage;            /* "local" | "s3" */
    char *storage_root;
    char *public_base_url;
    char *uploads_bucket;
    char *assets_bucket;
    long upload_expires;
    long max_pending_uploads; /* upload slots a user may hold unused and unexpired */
    char *s3_access_key_id;
    char *s3_secret_access_key;
    char *s3_session_token;
    char *s3_region;
    char *s3_endpoint;        /* "" = https://s3.{region}.amazonaws.com */
    char *s3_path_style;      /* boolean: "yes" | "no" */
    long s3_connect_timeout_ms;
    long s3_timeout_ms;
    long s3_retries;
    char *assets_public_url;  /* "" = the object's own URL */
    char *text_provider;      /* "builtin" | "bedrock" */
    char *text_model;         /* model id, inference-profile id or ARN */
    long text_max_tokens;
    long agent_max_turns;     /* tier 1 Converse turns; 0: tier 1 off */
    char *openai_base_url;    /* text_provider = openai: ".../v1" */
    char *openai_api_key;
    char *openai_model;
    char *price_input_per_mtok;  /* USD per million tokens, a decimal number */
    char *price_output_per_mtok;
    char *vision_provider;    /* "builtin" | "rekognition" */
    char *rekognition_endpoint; /* "" = https://rekognition.{region}.amazonaws.com */
    char *rekognition_region; /* "" = bedrock_region */
    long rekognition_min_confidence;
    long rekognition_max_labels;
    char *video_provider;     /* "none" | "youtube" */
    char *youtube_endpoint;
    char *youtube_api_key;
    long ai_timeout_ms;       /* one campaign-stage provider, retries included */
    long campaign_deadline_ms; /* a whole POST /api/campaign/tier-1 */
    char *image_provider;     /* "builtin" | "bedrock" */
    char *image_model;        /* Bedrock model id for images */
    char *image_quality;      /* "standard" | "premium" */
    long image_timeout_ms;    /* one image call, total */
    long ai_connect_timeout_ms;
    char *bedrock_region;
    char *bedrock_endpoint;   /* "" = https://bedrock-runtime.{region}.amazonaws.com */
    char *aws_access_key_id;  /* AI services' credentials; "" = the s3_* ones with storage = s3, else the chain */
    char *aws_secret_access_key;
    char *aws_session_token;
    char *log_level;
    char *data_dir;           /* market knowledge base and other shipped data */
    long max_image_pixels;
    char *decode_helper;      /* the decoding sandbox's program (adsmith-imgdec) */
    long decode_max_cpu_ms;   /* CPU time of one decode; 5x this of wall clock */
    long decode_max_memory_mb; /* address space of the decoding process */
    long poll_interval;       /* generator sweep, seconds */
    long job_lease;           /* seconds */
    long max_attempts;
    long retry_backoff_ms;    /* base of the exponential retry backoff */
    long generator_concurrency; /* jobs in flight per generator */
    long shutdown_grace;      /* seconds to finish jobs in hand on SIGTERM */
    char *webhook_url;        /* callback for jobs that name none; "" = none */
    char *webhook_secret;     /* HMAC key of X-Adsmith-Signature */
    char *webhook_allow_private; /* boolean "yes" | "no": callbacks to private addresses */
    long webhook_timeout_ms;  /* one delivery attempt */
    long webhook_max_attempts;
    long webhook_backoff_ms;  /* base of the jittered exponential backoff between attempts */
    long campaign_concurrency; /* campaigns run at once per campaigner */
    /* Retention (adsmithctl prune): durations, read with cfg_duration. */
    char *retain_uploads_unused; /* upload slots no product or campaign job uses */
    char *retain_products;    /* products rows */
    char *retain_images;      /* completed image jobs and their images */
    char *retain_finished_jobs; /* failed image jobs, finished campaign jobs, webhook attempts made */
    /* Metrics (GET /metrics). */
    long metrics_interval;    /* seconds between a background process's snapshots */
    char *metrics_allow;      /* addresses/CIDRs besides loopback that may scrape */
    /* The local store's upload-URL signing keys (storage = local); empty
     * secret: the s3_* keys of older configurations, with a warning. */
    char *local_signing_key_id;
    char *local_signing_secret;
};

/* Fills cfg with defaults, then the file (path may be NULL: defaults and the
 * environment only), then the environment. 0 on success. */
int cfg_load(struct config *cfg, const char *path, char *err);
void cfg_free(struct config *cfg);
/* Writes every key and its effective value (secrets masked) to f. */
void cfg_dump(const struct config *cfg, FILE *f);
/* A PostgreSQL boolean (on/off, true/false, yes/no, 1/0, any case, unique
 * prefixes) into *out (1 or 0). 0, or -1 when it is none. */
int cfg_parse_bool(const char *s, int *out);
/* When one AI provider's work must end: ai_timeout_ms from now, or the
 * caller's deadline when that comes first (ads_now_ms clock). */
double cfg_ai_deadline(const struct config *cfg, double deadline_ms);
/* A duration value: "forever", or one or more <number><unit> groups
 * ("30d", "12h", "90min", "1d 12h"; spaces allowed between groups and
 * before a unit), units s|sec|second(s), min|minute(s), h|hour(s),
 * d|day(s), w|week(s); from 1 second to 100 years. *secs gets the seconds,
 * or -1 for forever. 0, or -1 when text is not a duration. */
#define CFG_FOREVER (-1L)
int cfg_duration(const char *text, long *secs);
/* Resolves the path: explicit, else $ADSMITH_CONFIG, else NULL. */
const char *cfg_path(const char *explicit_path);

#endif
