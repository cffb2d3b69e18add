#include "awscreds.h"
#include "buf.h"
#include "log.h"
#include "outcall.h"
#include "sigv4.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define FILE_MAX (64 * 1024)          /* a shared credentials/config file, a token file */
#define LINE_MAX_LEN 1024
#define REPLY_MAX (64 * 1024)
#define IMDS_MS 1000L
#define REMOTE_MS 3000L
#define SAFETY_S 2                    /* a request signed now may arrive this much later */
#define BACKOFF_CAP_S 60

enum source { SRC_NONE = 0, SRC_EXPLICIT, SRC_ENV, SRC_PROFILE, SRC_WEBID, SRC_ECS, SRC_IMDS };

/* The variables the chain reads, copied when the chain is made. */
enum env_var {
    E_KEY, E_SECRET, E_TOKEN, E_CRED_FILE, E_CONFIG_FILE, E_PROFILE, E_HOME,
    E_WEBID_FILE, E_ROLE_ARN, E_ROLE_SESSION, E_STS_URL, E_REGION, E_DEFAULT_REGION,
    E_ECS_REL, E_ECS_FULL, E_ECS_TOKEN, E_ECS_TOKEN_FILE, E_IMDS_URL, E_IMDS_DISABLED, E_COUNT
};
static const char *const env_names[E_COUNT] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE", "AWS_PROFILE", "HOME",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL_STS",
    "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED",
};

/* One resolution: the credentials and where they came from. */
struct found {
    struct awscreds_value v;
    enum source src;
    char detail[300];        /* profile name, role ARN, endpoint: never a secret */
};

struct awscreds {
    /* Set by awscreds_new, read-only afterwards. */
    char key_name[64];
    struct awscreds_value explicit_v;
    char region[64];
    char *env[E_COUNT];      /* NULL when unset or empty */
    /* Guarded by mu. */
    pthread_mutex_t mu;
    pthread_cond_t done;     /* a fetch ended */
    int fetching;
    int have;
    struct found cur;
    time_t refresh_at;       /* 0: never */
    time_t retry_at;         /* after a failed refresh: not before */
    int failures;
    long fetches;
    char last_err[ADS_ERRSZ]; /* why the last fetch failed */
};

static const char *env(const struct awscreds *c, enum env_var e)
{
    return c->env[e];
}

static int copy_str(char *dst, size_t dstsz, const char *src, const char *what, char *err)
{
    size_t n = strlen(src);

    if (n >= dstsz) {
        ads_errf(err, "%s is too long (%zu bytes, at most %zu)", what, n, dstsz - 1);
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

/* ---------- time ---------- */

int awscreds_parse_time(const char *s, time_t *t)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
    const char *p;
    time_t v;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
        return -1;
    p = s + n;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z' && p[1] == '\0') {
        /* UTC */
    } else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
               p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]) && p[6] == '\0') {
        oh = (p[1] - '0') * 10 + (p[2] - '0');
        om = (p[4] - '0') * 10 + (p[5] - '0');
        if (oh > 23 || om > 59)
            return -1;
        if (*p == '-') {
            oh = -oh;
            om = -om;
        }
    } else {
        return -1;
    }
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    v = timegm(&tm);
    if (v == (time_t)-1)
        return -1;
    *t = v - (time_t)(oh * 3600 + om * 60);
    return 0;
}

time_t awscreds_refresh_at(time_t obtained, time_t expiration)
{
    time_t life, margin;

    if (expiration == 0)
        return 0;
    life = expiration - obtained;
    if (life <= 0)
        return obtained;
    /* Five minutes ahead, as the SDKs do; short-lived credentials (a test
     * STS, a 15-minute role) at half their lifetime. */
    margin = life / 2 < 300 ? life / 2 : 300;
    return expiration - margin;
}

int awscreds_usable(time_t expiration, time_t now)
{
    return expiration == 0 || now < expiration - SAFETY_S;
}

long awscreds_backoff(int n)
{
    long s = 1;

    while (n-- > 1 && s < BACKOFF_CAP_S)
        s *= 2;
    return s < BACKOFF_CAP_S ? s : BACKOFF_CAP_S;
}

/* ---------- shared files ---------- */

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* 1 when the section header's name (trimmed, inside the brackets) is the
 * profile's. */
static int section_is(const char *name, int config_style, const char *profile)
{
    if (!config_style)
        return strcmp(name, profile) == 0;
    if (strcmp(profile, "default") == 0 && strcmp(name, "default") == 0)
        return 1;
    if (strncmp(name, "profile", 7) != 0 || (name[7] != ' ' && name[7] != '\t'))
        return 0;
    name += 7;
    while (*name == ' ' || *name == '\t')
        name++;
    return strcmp(name, profile) == 0;
}

int awscreds_parse_profile(const char *text, size_t len, int config_style, const char *profile,
                           const char *where, struct awscreds_value *v, char *err)
{
    char line[LINE_MAX_LEN + 2];
    size_t pos = 0;
    int lineno = 0, in_profile = 0, in_section = 0, have_key = 0, have_secret = 0;

    memset(v, 0, sizeof *v);
    if (len > FILE_MAX) {
        ads_errf(err, "%s: larger than %d bytes", where, FILE_MAX);
        return -1;
    }
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char *p, *eq, *key, *val, *close;

        lineno++;
        if (n > LINE_MAX_LEN) {
            ads_errf(err, "%s:%d: line longer than %d bytes", where, lineno, LINE_MAX_LEN);
            return -1;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl ? 1 : 0);
        if (memchr(line, '\0', n) != NULL && strlen(line) != n) {
            ads_errf(err, "%s:%d: NUL byte", where, lineno);
            return -1;
        }
        /* An indented line continues the previous key's value (the config
         * file's nested "s3 =" settings): not ours. */
        if ((line[0] == ' ' || line[0] == '\t') && *trim(line) != '\0') {
            if (!in_section) {
                ads_errf(err, "%s:%d: indented line outside a section", where, lineno);
                return -1;
            }
            continue;
        }
        p = trim(line);
        if (*p == '\0' || *p == '#' || *p == ';')
            continue;
        if (*p == '[') {
            close = strchr(p, ']');
            if (close == NULL || *trim(close + 1) != '\0') {
                ads_errf(err, "%s:%d: malformed section header", where, lineno);
                return -1;
            }
            *close = '\0';
            p = trim(p + 1);
            if (*p == '\0') {
                ads_errf(err, "%s:%d: empty section name", where, lineno);
                return -1;
            }
            in_section = 1;
            in_profile = section_is(p, config_style, profile);
            continue;
        }
        eq = strchr(p, '=');
        if (eq == NULL) {
            ads_errf(err, "%s:%d: expected [section] or key = value", where, lineno);
            return -1;
        }
        if (!in_section) {
            ads_errf(err, "%s:%d: key outside a section", where, lineno);
            return -1;
        }
        *eq = '\0';
        key = trim(p);
        val = trim(eq + 1);
        if (*key == '\0') {
            ads_errf(err, "%s:%d: empty key", where, lineno);
            return -1;
        }
        if (!in_profile)
            continue;
        if (strcasecmp(key, "aws_access_key_id") == 0) {
            if (copy_str(v->access_key, sizeof v->access_key, val, "aws_access_key_id", err) != 0)
                return -1;
            have_key = *val != '\0';
        } else if (strcasecmp(key, "aws_secret_access_key") == 0) {
            if (copy_str(v->secret_key, sizeof v->secret_key, val, "aws_secret_access_key", err) != 0)
                return -1;
            have_secret = *val != '\0';
        } else if (strcasecmp(key, "aws_session_token") == 0) {
            if (copy_str(v->session_token, sizeof v->session_token, val, "aws_session_token", err) != 0)
                return -1;
        }
    }
    if (have_key != have_secret) {
        ads_errf(err, "%s: profile %s has only one of aws_access_key_id and aws_secret_access_key", where, profile);
        return -1;
    }
    if (!have_key)
        memset(v, 0, sizeof *v);
    return have_key;
}

/* One shared file: 1 found, 0 absent (the file or the profile), -1 error. */
static int profile_file(const char *path, int config_style, const char *profile, struct awscreds_value *v,
                        char *err)
{
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    int rc;

    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    if (ads_read_file(path, FILE_MAX, &text, &len, err) != 0) {
        ads_errf(err, "cannot read %s (or larger than %d bytes)", path, FILE_MAX);
        return -1;
    }
    rc = awscreds_parse_profile(text, len, config_style, profile, path, v, err);
    free(text);
    return rc;
}

/* A shared file's path: the variable's value, else ~/.aws/NAME; "" when
 * neither is known. */
static void shared_path(const struct awscreds *c, enum env_var var, const char *name, char *path, size_t n)
{
    if (env(c, var))
        snprintf(path, n, "%s", env(c, var));
    else if (env(c, E_HOME))
        snprintf(path, n, "%s/.aws/%s", env(c, E_HOME), name);
    else
        path[0] = '\0';
}

static int from_profile(const struct awscreds *c, struct found *f, char *err)
{
    const char *profile = env(c, E_PROFILE) ? env(c, E_PROFILE) : "default";
    char path[1024];
    int rc;

    shared_path(c, E_CRED_FILE, "credentials", path, sizeof path);
    rc = path[0] ? profile_file(path, 0, profile, &f->v, err) : 0;
    if (rc == 0) {
        shared_path(c, E_CONFIG_FILE, "config", path, sizeof path);
        rc = path[0] ? profile_file(path, 1, profile, &f->v, err) : 0;
    }
    if (rc == 1) {
        f->src = SRC_PROFILE;
        snprintf(f->detail, sizeof f->detail, "profile %s in %s", profile, path);
    }
    return rc;
}

/* ---------- remote sources ---------- */

struct hdr {
    const char *name, *value;
};

/* A request through the outcall layer; *reply malloc'd on success (and,
 * when status is not NULL, on an HTTP error too, for its error body). */
static int fetch(const char *what, const char *method, const char *url, const struct hdr *h, size_t nh,
                 const char *body, long timeout_ms, char **reply, long *status, char *err)
{
    struct outcall *c = outcall_new(what, REPLY_MAX, err);
    enum outcall_class cls;
    size_t i;

    *reply = NULL;
    if (status)
        *status = 0;
    if (c == NULL)
        return -1;
    if (outcall_request(c, method, url, body, body ? strlen(body) : 0, err) != 0) {
        outcall_free(c);
        return -1;
    }
    for (i = 0; i < nh; i++) {
        if (outcall_header(c, h[i].name, h[i].value) != 0) {
            outcall_free(c);
            ads_errf(err, "out of memory");
            return -1;
        }
    }
    c->connect_ms = timeout_ms;
    c->timeout_ms = timeout_ms;
    c->policy = outcall_policy_default(1);
    /* Proxies are for the services, not for link-local metadata. */
    curl_easy_setopt(c->easy, CURLOPT_NOPROXY, "*");
    cls = outcall_run(c, err);
    if (status)
        *status = c->status;
    if (cls == OUTCALL_OK || (status != NULL && c->status >= 400)) {
        *reply = strdup(outcall_text(c));
        if (*reply == NULL) {
            outcall_free(c);
            ads_errf(err, "out of memory");
            return -1;
        }
    }
    outcall_free(c);
    return cls == OUTCALL_OK ? 0 : -1;
}

/* The text of the first <name>...</name> in [p, end), entities decoded,
 * into out. 0, or -1 when absent, malformed or too long. */
static int xml_text(const char *p, const char *end, const char *name, char *out, size_t outsz)
{
    char open[64], close[64];
    const char *s, *e;
    size_t o = 0, ol, cl;

    snprintf(open, sizeof open, "<%s>", name);
    snprintf(close, sizeof close, "</%s>", name);
    ol = strlen(open);
    cl = strlen(close);
    for (s = p; s + ol <= end && memcmp(s, open, ol) != 0; s++)
        ;
    if (s + ol > end)
        return -1;
    s += ol;
    for (e = s; e + cl <= end && memcmp(e, close, cl) != 0; e++)
        if (*e == '<')
            return -1;
    if (e + cl > end)
        return -1;
    while (s < e) {
        char ch = *s;
        size_t skip = 1;
        if (ch == '&') {
            static const struct { const char *ent; char ch; } ents[] = {
                { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
            };
            size_t i;
            for (i = 0; i < sizeof ents / sizeof ents[0]; i++) {
                size_t n = strlen(ents[i].ent);
                if ((size_t)(e - s) >= n && memcmp(s, ents[i].ent, n) == 0) {
                    ch = ents[i].ch;
                    skip = n;
                    break;
                }
            }
            if (i == sizeof ents / sizeof ents[0])
                return -1;
        }
        if (o + 1 >= outsz)
            return -1;
        out[o++] = ch;
        s += skip;
    }
    out[o] = '\0';
    return 0;
}

int awscreds_parse_sts(const char *xml, size_t len, struct awscreds_value *v, char *err)
{
    const char *end = xml + len, *res, *cred, *cend;
    char exp[64];

    memset(v, 0, sizeof *v);
    res = memmem(xml, len, "<AssumeRoleWithWebIdentityResult>", 33);
    cred = res ? memmem(res, (size_t)(end - res), "<Credentials>", 13) : NULL;
    cend = cred ? memmem(cred, (size_t)(end - cred), "</Credentials>", 14) : NULL;
    if (cend == NULL) {
        ads_errf(err, "STS reply has no AssumeRoleWithWebIdentityResult/Credentials");
        return -1;
    }
    if (xml_text(cred, cend, "AccessKeyId", v->access_key, sizeof v->access_key) != 0 ||
        xml_text(cred, cend, "SecretAccessKey", v->secret_key, sizeof v->secret_key) != 0 ||
        xml_text(cred, cend, "SessionToken", v->session_token, sizeof v->session_token) != 0 ||
        xml_text(cred, cend, "Expiration", exp, sizeof exp) != 0 || awscreds_parse_time(exp, &v->expiration) != 0 ||
        v->access_key[0] == '\0' || v->secret_key[0] == '\0') {
        memset(v, 0, sizeof *v);
        ads_errf(err, "STS reply: Credentials lack AccessKeyId, SecretAccessKey, SessionToken or Expiration");
        return -1;
    }
    return 0;
}

static int json_str(json_object *o, const char *name, char *out, size_t outsz, int required)
{
    json_object *x;

    out[0] = '\0';
    if (!json_object_object_get_ex(o, name, &x) || !json_object_is_type(x, json_type_string))
        return required ? -1 : 0;
    return copy_str(out, outsz, json_object_get_string(x), name, NULL);
}

int awscreds_parse_json(const char *json, struct awscreds_value *v, char *err)
{
    json_object *o = json_tokener_parse(json);
    char code[64], exp[64];
    int rc = -1;

    memset(v, 0, sizeof *v);
    if (o == NULL || !json_object_is_type(o, json_type_object)) {
        ads_errf(err, "credentials reply is not a JSON object");
        goto out;
    }
    if (json_str(o, "Code", code, sizeof code, 0) == 0 && code[0] != '\0' && strcmp(code, "Success") != 0) {
        ads_errf(err, "credentials reply: Code %.60s", code);
        goto out;
    }
    if (json_str(o, "AccessKeyId", v->access_key, sizeof v->access_key, 1) != 0 ||
        json_str(o, "SecretAccessKey", v->secret_key, sizeof v->secret_key, 1) != 0 ||
        json_str(o, "Token", v->session_token, sizeof v->session_token, 0) != 0 ||
        json_str(o, "Expiration", exp, sizeof exp, 0) != 0 || v->access_key[0] == '\0' ||
        v->secret_key[0] == '\0') {
        ads_errf(err, "credentials reply lacks AccessKeyId or SecretAccessKey");
        goto out;
    }
    if (exp[0] != '\0' && awscreds_parse_time(exp, &v->expiration) != 0) {
        ads_errf(err, "credentials reply: Expiration is not an ISO 8601 time");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        memset(v, 0, sizeof *v);
    json_object_put(o);
    return rc;
}

/* A token file's content, trimmed. malloc'd, or NULL with a message. */
static char *read_token(const char *path, const char *what, char *err)
{
    char *text = NULL;
    size_t len = 0;

    if (ads_read_file(path, FILE_MAX, &text, &len, err) != 0) {
        ads_errf(err, "%s: cannot read %s", what, path);
        return NULL;
    }
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        text[--len] = '\0';
    if (len == 0 || strlen(text) != len) {
        free(text);
        ads_errf(err, "%s: %s is empty or not text", what, path);
        return NULL;
    }
    return text;
}

static int from_web_identity(const struct awscreds *c, struct found *f, char *err)
{
    const char *arn = env(c, E_ROLE_ARN), *session = env(c, E_ROLE_SESSION);
    const char *region = c->region[0] ? c->region : env(c, E_REGION) ? env(c, E_REGION)
                                  : env(c, E_DEFAULT_REGION) ? env(c, E_DEFAULT_REGION) : "us-east-1";
    struct hdr h[] = { { "Content-Type", "application/x-www-form-urlencoded" }, { "Accept", "application/xml" } };
    char *token, *reply = NULL, sess[64], url[512];
    struct buf body;
    long status = 0;
    int rc = -1;

    if (arn == NULL) {
        ads_errf(err, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
        return -1;
    }
    if ((token = read_token(env(c, E_WEBID_FILE), "web identity", err)) == NULL)
        return -1;
    if (session == NULL) {
        snprintf(sess, sizeof sess, "adsmith-%ld", (long)time(NULL));
        session = sess;
    }
    if (env(c, E_STS_URL))
        snprintf(url, sizeof url, "%s", env(c, E_STS_URL));
    else
        snprintf(url, sizeof url, "https://sts.%s.amazonaws.com/", region);
    buf_init(&body);
    buf_adds(&body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=");
    sigv4_uri_encode(&body, arn, strlen(arn), 0);
    buf_adds(&body, "&RoleSessionName=");
    sigv4_uri_encode(&body, session, strlen(session), 0);
    buf_adds(&body, "&WebIdentityToken=");
    sigv4_uri_encode(&body, token, strlen(token), 0);
    free(token);
    if (body.oom) {
        ads_errf(err, "out of memory");
        goto out;
    }
    if (fetch("STS AssumeRoleWithWebIdentity", "POST", url, h, 2, body.data, REMOTE_MS, &reply, &status, err) != 0) {
        char code[96];
        if (reply != NULL && xml_text(reply, reply + strlen(reply), "Code", code, sizeof code) == 0)
            ads_errf(err, "web identity: STS AssumeRoleWithWebIdentity: HTTP %ld %s (role %.120s)", status, code,
                     arn);
        else if (strncmp(err, "web identity", 12) != 0) {
            char m[ADS_ERRSZ];
            snprintf(m, sizeof m, "%s", err);
            ads_errf(err, "web identity: %s", m);
        }
        goto out;
    }
    if (awscreds_parse_sts(reply, strlen(reply), &f->v, err) != 0)
        goto out;
    f->src = SRC_WEBID;
    snprintf(f->detail, sizeof f->detail, "role %s", arn);
    rc = 1;
out:
    buf_free(&body);
    free(reply);
    return rc;
}

/* An http FULL_URI must stay on this host or the container agents' link-local addresses. */
static int ecs_host_ok(const char *url)
{
    const char *h;
    size_t n;

    if (strncmp(url, "https://", 8) == 0)
        return 1;
    if (strncmp(url, "http://", 7) != 0)
        return 0;
    h = url + 7;
    n = strcspn(h, ":/");
    return (n == 9 && strncmp(h, "localhost", 9) == 0) || strncmp(h, "127.", 4) == 0 ||
           strncmp(h, "[::1]", 5) == 0 || (n == 13 && strncmp(h, "169.254.170.2", 13) == 0) ||
           (n == 14 && strncmp(h, "169.254.170.23", 14) == 0);
}

static int from_ecs(const struct awscreds *c, struct found *f, char *err)
{
    char url[1024], *reply = NULL, *auth = NULL;
    struct hdr h[2] = { { "Accept", "application/json" }, { NULL, NULL } };
    size_t nh = 1;
    int rc = -1;

    if (env(c, E_ECS_REL)) {
        snprintf(url, sizeof url, "http://169.254.170.2%s%s", env(c, E_ECS_REL)[0] == '/' ? "" : "/",
                 env(c, E_ECS_REL));
    } else {
        snprintf(url, sizeof url, "%s", env(c, E_ECS_FULL));
        if (!ecs_host_ok(url)) {
            ads_errf(err, "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http on "
                     "a loopback or the container agent's address");
            return -1;
        }
        if (env(c, E_ECS_TOKEN_FILE)) {
            if ((auth = read_token(env(c, E_ECS_TOKEN_FILE), "container credentials", err)) == NULL)
                return -1;
        } else if (env(c, E_ECS_TOKEN) && (auth = strdup(env(c, E_ECS_TOKEN))) == NULL) {
            ads_errf(err, "out of memory");
            return -1;
        }
        if (auth != NULL) {
            if (strpbrk(auth, "\r\n") != NULL) {
                ads_errf(err, "container credentials: the authorization token holds a line break");
                goto out;
            }
            h[nh++] = (struct hdr){ "Authorization", auth };
        }
    }
    if (fetch("container credentials", "GET", url, h, nh, NULL, REMOTE_MS, &reply, NULL, err) != 0)
        goto out;
    if (awscreds_parse_json(reply, &f->v, err) != 0)
        goto out;
    f->src = SRC_ECS;
    snprintf(f->detail, sizeof f->detail, "%.200s", env(c, E_ECS_REL) ? "169.254.170.2" : url);
    /* The detail names the endpoint without its query (it may carry ids). */
    f->detail[strcspn(f->detail, "?")] = '\0';
    rc = 1;
out:
    free(auth);
    free(reply);
    return rc;
}

static int from_imds(const struct awscreds *c, struct found *f, char *err)
{
    const char *base = env(c, E_IMDS_URL) ? env(c, E_IMDS_URL) : "http://169.254.169.254";
    size_t bl = strlen(base);
    char url[1024], role[256], *token = NULL, *reply = NULL;
    struct hdr ttl = { "X-aws-ec2-metadata-token-ttl-seconds", "21600" };
    struct hdr th;
    int rc = -1;

    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    snprintf(url, sizeof url, "%.*s/latest/api/token", (int)bl, base);
    if (fetch("instance metadata token", "PUT", url, &ttl, 1, NULL, IMDS_MS, &token, NULL, err) != 0)
        goto out;
    if (token[0] == '\0' || strpbrk(token, "\r\n") != NULL) {
        ads_errf(err, "instance metadata: the session token is empty or holds a line break");
        goto out;
    }
    th = (struct hdr){ "X-aws-ec2-metadata-token", token };
    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/", (int)bl, base);
    if (fetch("instance metadata role", "GET", url, &th, 1, NULL, IMDS_MS, &reply, NULL, err) != 0)
        goto out;
    snprintf(role, sizeof role, "%.*s", (int)strcspn(reply, "\r\n"), reply);
    free(reply);
    reply = NULL;
    if (role[0] == '\0' || !ads_all_chars(role, 1, 128, "+=,.@_-")) {
        ads_errf(err, "instance metadata: no usable IAM role name (is a role attached to the instance?)");
        goto out;
    }
    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/%s", (int)bl, base, role);
    if (fetch("instance metadata credentials", "GET", url, &th, 1, NULL, IMDS_MS, &reply, NULL, err) != 0)
        goto out;
    if (awscreds_parse_json(reply, &f->v, err) != 0)
        goto out;
    f->src = SRC_IMDS;
    snprintf(f->detail, sizeof f->detail, "IMDSv2, role %s", role);
    rc = 1;
out:
    free(token);
    free(reply);
    return rc;
}

/* ---------- the chain ---------- */

static int resolve(const struct awscreds *c, struct found *f, char *err)
{
    int rc;

    memset(f, 0, sizeof *f);
    if (c->explicit_v.access_key[0] != '\0') {
        f->v = c->explicit_v;
        f->src = SRC_EXPLICIT;
        snprintf(f->detail, sizeof f->detail, "%s", c->key_name);
        return 0;
    }
    if (env(c, E_KEY)) {
        if (!env(c, E_SECRET)) {
            ads_errf(err, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
            return -1;
        }
        if (copy_str(f->v.access_key, sizeof f->v.access_key, env(c, E_KEY), "AWS_ACCESS_KEY_ID", err) != 0 ||
            copy_str(f->v.secret_key, sizeof f->v.secret_key, env(c, E_SECRET), "AWS_SECRET_ACCESS_KEY", err) != 0 ||
            copy_str(f->v.session_token, sizeof f->v.session_token, env(c, E_TOKEN) ? env(c, E_TOKEN) : "",
                     "AWS_SESSION_TOKEN", err) != 0)
            return -1;
        f->src = SRC_ENV;
        return 0;
    }
    rc = from_profile(c, f, err);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (env(c, E_WEBID_FILE))
        return from_web_identity(c, f, err) > 0 ? 0 : -1;
    if (env(c, E_ECS_REL) || env(c, E_ECS_FULL))
        return from_ecs(c, f, err) > 0 ? 0 : -1;
    if (env(c, E_IMDS_DISABLED) && strcasecmp(env(c, E_IMDS_DISABLED), "true") == 0) {
        ads_errf(err, "no AWS credentials: none in the configuration, AWS_* variables, shared files, web "
                 "identity or container; instance metadata is disabled (AWS_EC2_METADATA_DISABLED)");
        return -1;
    }
    if (from_imds(c, f, err) > 0)
        return 0;
    {
        char m[ADS_ERRSZ];
        snprintf(m, sizeof m, "%s", err);
        ads_errf(err, "no AWS credentials: none in the configuration, AWS_* variables, shared files, web "
                 "identity or container, and instance metadata failed (%.100s)", m);
    }
    return -1;
}

struct awscreds *awscreds_new(const char *key_name, const char *access_key, const char *secret_key,
                              const char *session_token, const char *region, char *err)
{
    struct awscreds *c = calloc(1, sizeof *c);
    int i;

    if (c == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->done, NULL);
    snprintf(c->key_name, sizeof c->key_name, "%s", key_name ? key_name : "");
    snprintf(c->region, sizeof c->region, "%s", region ? region : "");
    if (access_key != NULL && access_key[0] != '\0') {
        if (secret_key == NULL || secret_key[0] == '\0') {
            ads_errf(err, "%s is set but its secret access key is not", c->key_name);
            awscreds_free(c);
            return NULL;
        }
        if (copy_str(c->explicit_v.access_key, AWSCREDS_KEY_MAX, access_key, c->key_name, err) != 0 ||
            copy_str(c->explicit_v.secret_key, AWSCREDS_KEY_MAX, secret_key, "the secret access key", err) != 0 ||
            copy_str(c->explicit_v.session_token, AWSCREDS_TOKEN_MAX, session_token ? session_token : "",
                     "the session token", err) != 0) {
            awscreds_free(c);
            return NULL;
        }
    }
    for (i = 0; i < E_COUNT; i++) {
        const char *v = getenv(env_names[i]);
        if (v != NULL && v[0] != '\0' && (c->env[i] = strdup(v)) == NULL) {
            awscreds_free(c);
            ads_errf(err, "out of memory");
            return NULL;
        }
    }
    return c;
}

void awscreds_free(struct awscreds *c)
{
    int i;

    if (c == NULL)
        return;
    for (i = 0; i < E_COUNT; i++)
        free(c->env[i]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->done);
    memset(c, 0, sizeof *c);
    free(c);
}

static const char *source_name(enum source s)
{
    switch (s) {
    case SRC_EXPLICIT: return "configuration";
    case SRC_ENV: return "environment (AWS_ACCESS_KEY_ID)";
    case SRC_PROFILE: return "shared files";
    case SRC_WEBID: return "web identity";
    case SRC_ECS: return "container credentials";
    case SRC_IMDS: return "instance metadata";
    default: return "none";
    }
}

/* Called with mu held: 1 when the cached credentials need no fetch now. */
static int fresh(const struct awscreds *c, time_t now)
{
    if (!c->have)
        return 0;
    if (c->refresh_at == 0 || now < c->refresh_at)
        return 1;
    /* Due, but a refresh failed lately: keep what we have while it lasts. */
    return now < c->retry_at && awscreds_usable(c->cur.v.expiration, now);
}

/* Fetches with mu released; installs the result, or counts the failure.
 * Called and returns with mu held, c->fetching set by the caller. */
static int refresh_locked(struct awscreds *c, char *err)
{
    struct found f;
    time_t now;
    int rc;

    pthread_mutex_unlock(&c->mu);
    rc = resolve(c, &f, err);
    pthread_mutex_lock(&c->mu);
    now = time(NULL);
    c->fetches++;
    if (rc == 0 && !awscreds_usable(f.v.expiration, now)) {
        ads_errf(err, "%s: the credentials fetched are already expired", source_name(f.src));
        rc = -1;
    }
    if (rc == 0) {
        c->cur = f;
        c->have = 1;
        c->refresh_at = awscreds_refresh_at(now, f.v.expiration);
        c->failures = 0;
        c->retry_at = 0;
        if (f.v.expiration != 0) {
            char when[21];
            ads_fmt_iso8601(f.v.expiration, when);
            log_info("aws credentials from %s (%s), expire %s", source_name(f.src), f.detail, when);
        }
    } else {
        c->failures++;
        c->retry_at = now + awscreds_backoff(c->failures);
        snprintf(c->last_err, sizeof c->last_err, "%s", err);
        if (c->have)
            log_warn("aws credentials refresh failed (%s); keeping the current ones, retry in %ld s", err,
                     awscreds_backoff(c->failures));
    }
    memset(&f, 0, sizeof f);
    return rc;
}

/* Makes c->cur current (or as good as it gets). mu held. */
static int ensure_locked(struct awscreds *c, char *err)
{
    for (;;) {
        time_t now = time(NULL);
        int rc;

        if (fresh(c, now))
            return 0;
        if (c->fetching) {
            /* Another thread fetches: sign with what we have while it is
             * good, else wait for the outcome. */
            if (c->have && awscreds_usable(c->cur.v.expiration, now))
                return 0;
            pthread_cond_wait(&c->done, &c->mu);
            continue;
        }
        if (c->have && now < c->retry_at) {
            if (awscreds_usable(c->cur.v.expiration, now))
                return 0;
            ads_errf(err, "aws credentials from %s expired and the refresh failed (%.120s); next try in %ld s",
                     source_name(c->cur.src), c->last_err, (long)(c->retry_at - now));
            return -1;
        }
        if (!c->have && c->failures > 0 && now < c->retry_at) {
            ads_errf(err, "%.180s (next try in %ld s)", c->last_err, (long)(c->retry_at - now));
            return -1;
        }
        c->fetching = 1;
        rc = refresh_locked(c, err);
        c->fetching = 0;
        pthread_cond_broadcast(&c->done);
        if (rc == 0)
            return 0;
        if (c->have && awscreds_usable(c->cur.v.expiration, time(NULL)))
            return 0;
        return -1;
    }
}

int awscreds_get(struct awscreds *c, struct awscreds_value *v, char *err)
{
    int rc;

    pthread_mutex_lock(&c->mu);
    rc = ensure_locked(c, err);
    if (rc == 0)
        *v = c->cur.v;
    pthread_mutex_unlock(&c->mu);
    if (rc != 0)
        memset(v, 0, sizeof *v);
    return rc;
}

int awscreds_describe(struct awscreds *c, char *out, size_t outsz, char *err)
{
    int rc;

    pthread_mutex_lock(&c->mu);
    rc = ensure_locked(c, err);
    if (rc == 0) {
        char when[21] = "";
        if (c->cur.v.expiration != 0)
            ads_fmt_iso8601(c->cur.v.expiration, when);
        snprintf(out, outsz, "%s%s%s%s%s%s", source_name(c->cur.src), c->cur.detail[0] || when[0] ? " (" : "",
                 c->cur.detail, c->cur.detail[0] && when[0] ? ", " : "", when[0] ? "expires " : "", when);
        if (c->cur.detail[0] || when[0])
            snprintf(out + strlen(out), outsz - strlen(out), ")");
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

long awscreds_fetches(struct awscreds *c)
{
    long n;

    pthread_mutex_lock(&c->mu);
    n = c->fetches;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* ---------- the process's chains ---------- */

/* The process's chains, one per set of explicit settings: a configuration
 * reloaded with other keys gets a chain of its own, while the chain of the
 * old keys lives on for whoever still holds it. Never freed (a handful per
 * process at most). */
#define SHARED_MAX 16
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct awscreds *shared_chains[SHARED_MAX];

static int same_settings(const struct awscreds *c, const char *key_name, const char *ak, const char *sk,
                         const char *tok, const char *region)
{
    return strcmp(c->key_name, key_name) == 0 && strcmp(c->explicit_v.access_key, ak ? ak : "") == 0 &&
           strcmp(c->explicit_v.secret_key, ak && *ak ? sk : "") == 0 &&
           strcmp(c->explicit_v.session_token, ak && *ak && tok ? tok : "") == 0 &&
           strcmp(c->region, region ? region : "") == 0;
}

static struct awscreds *shared(const char *key_name, const char *ak, const char *sk, const char *tok,
                               const char *region, char *err)
{
    struct awscreds *c = NULL;
    size_t i;

    pthread_mutex_lock(&shared_mu);
    for (i = 0; i < SHARED_MAX && shared_chains[i] != NULL && c == NULL; i++)
        if (same_settings(shared_chains[i], key_name, ak, sk, tok, region))
            c = shared_chains[i];
    if (c == NULL && (c = awscreds_new(key_name, ak, sk, tok, region, err)) != NULL && i < SHARED_MAX)
        shared_chains[i] = c;
    pthread_mutex_unlock(&shared_mu);
    return c;
}

struct awscreds *awscreds_ai(const struct config *cfg, char *err)
{
    if (cfg->aws_access_key_id[0] != '\0')
        return shared("aws_access_key_id", cfg->aws_access_key_id, cfg->aws_secret_access_key,
                      cfg->aws_session_token, cfg->bedrock_region, err);
    /* The s3_* keys are AWS credentials only for storage = s3; with the
     * local store they were its URL-signing keys (older configurations). */
    if (strcmp(cfg->storage, "s3") == 0 && cfg->s3_access_key_id[0] != '\0')
        return shared("s3_access_key_id", cfg->s3_access_key_id, cfg->s3_secret_access_key,
                      cfg->s3_session_token, cfg->bedrock_region, err);
    return shared("", NULL, NULL, NULL, cfg->bedrock_region, err);
}

struct awscreds *awscreds_s3(const struct config *cfg, char *err)
{
    return shared("s3_access_key_id", cfg->s3_access_key_id, cfg->s3_secret_access_key,
                  cfg->s3_session_token, cfg->s3_region, err);
}
