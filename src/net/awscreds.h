/*
 * awscreds: AWS credentials found the way the AWS SDKs find them, for
 * every AWS caller (the AI services' signer in aws.c, the S3 store,
 * adsmithctl presign). The chain, first source that is configured wins:
 *
 *   1. the configuration's own keys (s3_* or aws_*, and their ADSMITH_*
 *      overrides), given to awscreds_new by the caller;
 *   2. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN];
 *   3. the shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials,
 *      "[NAME]" sections) then AWS_CONFIG_FILE (~/.aws/config,
 *      "[profile NAME]" or "[default]"), profile AWS_PROFILE or "default";
 *   4. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      [+ AWS_ROLE_SESSION_NAME] through STS AssumeRoleWithWebIdentity
 *      (AWS_ENDPOINT_URL_STS, else https://sts.{region}.amazonaws.com);
 *   5. ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *      on http://169.254.170.2, or AWS_CONTAINER_CREDENTIALS_FULL_URI with
 *      Authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
 *   6. EC2 instance metadata, IMDSv2 only (AWS_EC2_METADATA_SERVICE_ENDPOINT,
 *      default http://169.254.169.254; AWS_EC2_METADATA_DISABLED=true skips).
 *
 * A configured source that fails is an error: the chain does not fall
 * through to another identity. The environment is read once, when the
 * chain is made. Credentials with an Expiration are fetched again before
 * they expire (when less than min(5 min, half their lifetime) is left);
 * a failed refresh keeps the old ones until they expire (less a 2 s
 * margin for the request in flight) and is retried with a doubling
 * backoff (1 s to 60 s). Remote fetches are outcalls (outcall.h): IMDS
 * 1 s a try, the others 3 s, one retry. Refreshes block the caller that
 * finds them due (the others keep signing with the old credentials).
 *
 * Thread-safety: awscreds_get, awscreds_describe, awscreds_ai and
 * awscreds_s3 may be called from any number of threads at once: a mutex
 * guards the cached credentials, and a caller gets its own consistent
 * copy (key, secret, token of the same fetch). Only one thread fetches
 * at a time. curl_global_init must have run first. Chains made by
 * awscreds_ai / awscreds_s3 live until the process ends (shared by every
 * endpoint and store of the process); awscreds_new's belong to the caller
 * (awscreds_free, when no other thread uses it).
 *
 * Never a secret or a session token in a message or a description.
 */
#ifndef ADS_AWSCREDS_H
#define ADS_AWSCREDS_H

#include <stddef.h>
#include <time.h>

#include "cfg.h"

#define AWSCREDS_KEY_MAX 128
#define AWSCREDS_TOKEN_MAX 4096

struct awscreds_value {
    char access_key[AWSCREDS_KEY_MAX];
    char secret_key[AWSCREDS_KEY_MAX];
    char session_token[AWSCREDS_TOKEN_MAX];   /* "" when none */
    time_t expiration;                        /* 0: does not expire */
};

struct awscreds;

/* A chain whose first source is the explicit keys (key_name names their
 * setting for messages, e.g. "s3_access_key_id"; empty key: none), with
 * region for STS. Reads the environment now. NULL with a message. */
struct awscreds *awscreds_new(const char *key_name, const char *access_key, const char *secret_key,
                              const char *session_token, const char *region, char *err);
void awscreds_free(struct awscreds *c);

/* The process's chain for the AI services (aws_* keys, else the s3_* ones
 * when storage = s3) and for S3 (s3_* keys): one chain per distinct set of
 * explicit keys and region, shared by every caller that has the same (a
 * reloaded configuration with new keys gets a new chain). NULL with a
 * message. */
struct awscreds *awscreds_ai(const struct config *cfg, char *err);
struct awscreds *awscreds_s3(const struct config *cfg, char *err);

/* Current credentials into *v (fetched or refreshed first when due). 0, or
 * -1 with a message naming the source. */
int awscreds_get(struct awscreds *c, struct awscreds_value *v, char *err);

/* One line on where the credentials come from, e.g. "web identity (role
 * arn:..., expires 2026-11-25T23:40:00Z)" (resolving them first). 0, or -1
 * with a message. */
int awscreds_describe(struct awscreds *c, char *out, size_t outsz, char *err);

/* Fetches so far (for tests and the log). */
long awscreds_fetches(struct awscreds *c);

/* --- the pieces, for tests --- */

/* The profile's keys from a shared file's text: config_style 1 for the
 * config file ("[profile NAME]", "[default]"), 0 for the credentials file
 * ("[NAME]"). where names the file in messages. 1 found (both keys), 0 the
 * profile or its keys are absent, -1 a malformed file (message names
 * where:line). */
int awscreds_parse_profile(const char *text, size_t len, int config_style, const char *profile,
                           const char *where, struct awscreds_value *v, char *err);

/* When credentials obtained at `obtained` that expire at `expiration`
 * (0: never) should be fetched again; 0 for never. */
time_t awscreds_refresh_at(time_t obtained, time_t expiration);
/* 1 when credentials expiring at expiration may still sign at now. */
int awscreds_usable(time_t expiration, time_t now);
/* The backoff after the n-th failed refresh in a row (n >= 1), seconds. */
long awscreds_backoff(int n);
/* "2026-11-25T23:40:00Z" (fraction and "+00:00" allowed) into *t. 0 or -1. */
int awscreds_parse_time(const char *s, time_t *t);
/* Credentials from STS's AssumeRoleWithWebIdentity reply. 0 or -1. */
int awscreds_parse_sts(const char *xml, size_t len, struct awscreds_value *v, char *err);
/* Credentials from the container or instance endpoint's JSON. 0 or -1. */
int awscreds_parse_json(const char *json, struct awscreds_value *v, char *err);

#endif
