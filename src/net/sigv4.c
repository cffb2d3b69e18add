#include "sigv4.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

void sigv4_uri_encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t i;

    size_t run = 0;

    /* Unreserved runs are copied whole; only escapes go byte by byte. */
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            run++;
            continue;
        }
        if (run > 0)
            buf_add(b, s + i - run, run);
        run = 0;
        {
            char esc[3] = { '%', hexd[c >> 4], hexd[c & 15] };
            buf_add(b, esc, 3);
        }
    }
    if (run > 0)
        buf_add(b, s + n - run, run);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int sigv4_uri_decode(struct buf *b, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            buf_addc(b, s[i]);
            continue;
        }
        if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0)
            return -1;
        buf_addc(b, (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2])));
        i += 2;
    }
    return 0;
}

/* Removes "." and ".." segments and empty runs, as non-S3 services expect. */
static void normalize_path(struct buf *out, const char *path)
{
    const char *p = path;
    size_t starts[256];
    size_t depth = 0;
    size_t plen = strlen(path);
    int trailing = plen > 1 && path[plen - 1] == '/';

    buf_addc(out, '/');
    while (*p != '\0') {
        const char *seg, *end;
        size_t len;
        while (*p == '/')
            p++;
        seg = p;
        end = strchr(seg, '/');
        len = end ? (size_t)(end - seg) : strlen(seg);
        p = seg + len;
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (depth > 0)
                out->len = starts[--depth];
            continue;
        }
        if (depth < 256)
            starts[depth++] = out->len;
        if (out->len > 1)
            buf_addc(out, '/');
        buf_add(out, seg, len);
    }
    if (trailing && out->len > 1)
        buf_addc(out, '/');
    if (out->data != NULL)
        out->data[out->len] = '\0';
}

static void canonical_uri(struct buf *b, const char *path, const char *raw_path, const char *service)
{
    if (raw_path != NULL) {
        struct buf norm;
        if (strcmp(service, "s3") == 0) {
            buf_adds(b, raw_path[0] ? raw_path : "/");
            return;
        }
        buf_init(&norm);
        normalize_path(&norm, raw_path);
        sigv4_uri_encode(b, norm.data ? norm.data : "/", norm.len ? norm.len : 1, 1);
        buf_free(&norm);
        return;
    }
    if (strcmp(service, "s3") == 0) {
        sigv4_uri_encode(b, path, strlen(path), 1);
        return;
    }
    struct buf norm, once;
    buf_init(&norm);
    buf_init(&once);
    normalize_path(&norm, path);
    sigv4_uri_encode(&once, norm.data ? norm.data : "/", norm.len ? norm.len : 1, 1);
    sigv4_uri_encode(b, once.data ? once.data : "/", once.len, 1);
    buf_free(&norm);
    buf_free(&once);
}

struct enc_pair {
    char *name;
    char *value;
};

static int cmp_enc_pair(const void *a, const void *b)
{
    const struct enc_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static char *encode_str(const char *s)
{
    struct buf b;

    buf_init(&b);
    sigv4_uri_encode(&b, s, strlen(s), 0);
    return buf_steal(&b);
}

static int canonical_query(struct buf *b, const struct sigv4_pair *q, size_t n)
{
    struct enc_pair *v;
    size_t i;
    int rc = 0;

    if (n == 0)
        return 0;
    v = calloc(n, sizeof *v);
    if (v == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        v[i].name = encode_str(q[i].name);
        v[i].value = encode_str(q[i].value ? q[i].value : "");
        if (v[i].name == NULL || v[i].value == NULL)
            rc = -1;
    }
    if (rc == 0) {
        qsort(v, n, sizeof *v, cmp_enc_pair);
        for (i = 0; i < n; i++) {
            if (i > 0)
                buf_addc(b, '&');
            buf_adds(b, v[i].name);
            buf_addc(b, '=');
            buf_adds(b, v[i].value);
        }
    }
    for (i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
    return rc;
}

struct hdr {
    char name[128];
    const char *value;
    size_t order;
};

static int cmp_hdr(const void *a, const void *b)
{
    const struct hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Appends a header value trimmed, with inner runs of spaces folded to one. */
static void add_trimmed(struct buf *b, const char *v)
{
    int pending_space = 0;

    while (*v == ' ' || *v == '\t')
        v++;
    for (; *v != '\0'; v++) {
        if (*v == ' ' || *v == '\t') {
            pending_space = 1;
            continue;
        }
        if (pending_space)
            buf_addc(b, ' ');
        pending_space = 0;
        buf_addc(b, *v);
    }
}

/* Sorts the request's headers by lower-case name (stable for repeats) and
 * writes the signed-header list into sh and, when lines is not NULL, the
 * canonical header lines ("name:value\n" each, repeats joined by ','). */
static int canonical_headers(const struct sigv4_request *req, struct buf *lines, struct buf *sh)
{
    struct hdr *h;
    size_t i;

    h = calloc(req->nheaders ? req->nheaders : 1, sizeof *h);
    if (h == NULL)
        return -1;
    for (i = 0; i < req->nheaders; i++) {
        size_t j;
        for (j = 0; req->headers[i].name[j] != '\0' && j + 1 < sizeof h[i].name; j++)
            h[i].name[j] = (char)tolower((unsigned char)req->headers[i].name[j]);
        h[i].value = req->headers[i].value;
        h[i].order = i;
    }
    qsort(h, req->nheaders, sizeof *h, cmp_hdr);
    for (i = 0; i < req->nheaders; i++) {
        int same = (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0);
        if (!same) {
            if (sh->len > 0)
                buf_addc(sh, ';');
            buf_adds(sh, h[i].name);
        }
        if (lines == NULL)
            continue;
        if (same) {
            buf_addc(lines, ',');
        } else {
            if (i > 0)
                buf_addc(lines, '\n');
            buf_adds(lines, h[i].name);
            buf_addc(lines, ':');
        }
        add_trimmed(lines, h[i].value);
    }
    free(h);
    return 0;
}

int sigv4_canonical_request(const struct sigv4_request *req, const char *service,
                            char **creq, char **signed_headers)
{
    struct buf b, sh;

    buf_init(&b);
    buf_init(&sh);
    buf_adds(&b, req->method);
    buf_addc(&b, '\n');
    canonical_uri(&b, req->path, req->raw_path, service);
    buf_addc(&b, '\n');
    if (canonical_query(&b, req->query, req->nquery) != 0)
        b.oom = 1;
    buf_addc(&b, '\n');
    if (canonical_headers(req, &b, &sh) != 0)
        b.oom = 1;
    buf_adds(&b, "\n\n");
    buf_adds(&b, sh.data ? sh.data : "");
    buf_addc(&b, '\n');
    buf_adds(&b, req->payload_hash);
    *creq = buf_steal(&b);
    *signed_headers = buf_steal(&sh);
    if (*creq == NULL || *signed_headers == NULL) {
        free(*creq);
        free(*signed_headers);
        return -1;
    }
    return 0;
}

char *sigv4_string_to_sign(const char *amzdate, const char *region,
                           const char *service, const char *creq)
{
    struct buf b;
    char hash[65];

    ads_sha256_hex(creq, strlen(creq), hash);
    /* Plain appends: this is the hot path of every signature. */
    buf_init(&b);
    buf_adds(&b, "AWS4-HMAC-SHA256\n");
    buf_adds(&b, amzdate);
    buf_addc(&b, '\n');
    buf_add(&b, amzdate, 8);
    buf_addc(&b, '/');
    buf_adds(&b, region);
    buf_addc(&b, '/');
    buf_adds(&b, service);
    buf_adds(&b, "/aws4_request\n");
    buf_adds(&b, hash);
    return buf_steal(&b);
}

static void hmac(const unsigned char *key, size_t keylen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;

    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* The derived signing key, cached per (secret, date, region, service), kept
 * as HMAC-SHA256 inner and outer digest states already fed the padded key:
 * a signature is then two short digests, with no key schedule or algorithm
 * look-up per call. One process signs for a handful of services at most. */
struct key_cache_entry {
    char secret[129];
    char date[9];
    char region[32];
    char service[32];
    EVP_MD_CTX *inner, *outer;
    int used;
};
static struct key_cache_entry key_cache[8];
static unsigned key_cache_next;
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_MD *hmac_md;

static int hmac_states(const unsigned char key[32], EVP_MD_CTX **inner, EVP_MD_CTX **outer)
{
    unsigned char pad[64];
    int i;

    if (hmac_md == NULL && (hmac_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
        return -1;
    if (*inner == NULL)
        *inner = EVP_MD_CTX_new();
    if (*outer == NULL)
        *outer = EVP_MD_CTX_new();
    if (*inner == NULL || *outer == NULL)
        return -1;
    memset(pad, 0x36, sizeof pad);
    for (i = 0; i < 32; i++)
        pad[i] ^= key[i];
    if (EVP_DigestInit_ex(*inner, hmac_md, NULL) != 1 || EVP_DigestUpdate(*inner, pad, sizeof pad) != 1)
        return -1;
    memset(pad, 0x5c, sizeof pad);
    for (i = 0; i < 32; i++)
        pad[i] ^= key[i];
    if (EVP_DigestInit_ex(*outer, hmac_md, NULL) != 1 || EVP_DigestUpdate(*outer, pad, sizeof pad) != 1)
        return -1;
    OPENSSL_cleanse(pad, sizeof pad);
    return 0;
}

static void derive_key(const struct sigv4_creds *c, const char *date8, unsigned char out[32])
{
    unsigned char k1[32], k2[32], k3[32];
    char kdate[512];

    snprintf(kdate, sizeof kdate, "AWS4%s", c->secret_key);
    hmac((unsigned char *)kdate, strlen(kdate), date8, k1);
    OPENSSL_cleanse(kdate, sizeof kdate);
    hmac(k1, 32, c->region, k2);
    hmac(k2, 32, c->service, k3);
    hmac(k3, 32, "aws4_request", out);
}

static struct key_cache_entry *signing_entry(const struct sigv4_creds *c, const char *date8)
{
    struct key_cache_entry *e;
    unsigned char key[32];
    size_t i;

    for (i = 0; i < 8; i++) {
        e = &key_cache[i];
        if (e->used && strcmp(e->date, date8) == 0 && strcmp(e->secret, c->secret_key) == 0 &&
            strcmp(e->region, c->region) == 0 && strcmp(e->service, c->service) == 0)
            return e;
    }
    if (strlen(c->secret_key) >= sizeof e->secret || strlen(c->region) >= 32 || strlen(c->service) >= 32)
        return NULL;
    e = &key_cache[key_cache_next++ % 8];
    derive_key(c, date8, key);
    if (hmac_states(key, &e->inner, &e->outer) != 0) {
        e->used = 0;
        return NULL;
    }
    OPENSSL_cleanse(key, sizeof key);
    snprintf(e->secret, sizeof e->secret, "%s", c->secret_key);
    snprintf(e->date, sizeof e->date, "%s", date8);
    snprintf(e->region, sizeof e->region, "%s", c->region);
    snprintf(e->service, sizeof e->service, "%s", c->service);
    e->used = 1;
    return e;
}

/* HMAC from the cached states: copy, feed, finish. */
static int hmac_from(const struct key_cache_entry *e, const char *msg, unsigned char out[32])
{
    static EVP_MD_CTX *work;
    unsigned char inner[32];
    unsigned int len = 0;

    if (work == NULL && (work = EVP_MD_CTX_new()) == NULL)
        return -1;
    if (EVP_MD_CTX_copy_ex(work, e->inner) != 1 || EVP_DigestUpdate(work, msg, strlen(msg)) != 1 ||
        EVP_DigestFinal_ex(work, inner, &len) != 1)
        return -1;
    if (EVP_MD_CTX_copy_ex(work, e->outer) != 1 || EVP_DigestUpdate(work, inner, sizeof inner) != 1 ||
        EVP_DigestFinal_ex(work, out, &len) != 1)
        return -1;
    return 0;
}

void sigv4_signature(const struct sigv4_creds *c, const char *amzdate,
                     const char *sts, char sig[65])
{
    unsigned char key[32], mac[32];
    struct key_cache_entry *e;
    char date8[9];

    int ok;

    memcpy(date8, amzdate, 8);
    date8[8] = '\0';
    /* The campaign's stage threads may sign at once: the cache and its
     * work context are one per process. */
    pthread_mutex_lock(&key_cache_lock);
    e = signing_entry(c, date8);
    ok = e != NULL && hmac_from(e, sts, mac) == 0;
    pthread_mutex_unlock(&key_cache_lock);
    if (!ok) {
        derive_key(c, date8, key);
        hmac(key, 32, sts, mac);
        OPENSSL_cleanse(key, sizeof key);
    }
    ads_hex(mac, 32, sig);
}

char *sigv4_authorization(const struct sigv4_creds *c, const struct sigv4_request *req,
                          const char *amzdate)
{
    char *creq, *sh, *sts;
    char sig[65];
    struct buf b;

    if (sigv4_canonical_request(req, c->service, &creq, &sh) != 0)
        return NULL;
    sts = sigv4_string_to_sign(amzdate, c->region, c->service, creq);
    free(creq);
    if (sts == NULL) {
        free(sh);
        return NULL;
    }
    sigv4_signature(c, amzdate, sts, sig);
    free(sts);
    buf_init(&b);
    buf_adds(&b, "AWS4-HMAC-SHA256 Credential=");
    buf_adds(&b, c->access_key);
    buf_addc(&b, '/');
    buf_add(&b, amzdate, 8);
    buf_addc(&b, '/');
    buf_adds(&b, c->region);
    buf_addc(&b, '/');
    buf_adds(&b, c->service);
    buf_adds(&b, "/aws4_request, SignedHeaders=");
    buf_adds(&b, sh);
    buf_adds(&b, ", Signature=");
    buf_adds(&b, sig);
    free(sh);
    return buf_steal(&b);
}

/* Lower-cased, sorted, ';'-joined names of the request's headers. */
static char *signed_header_list(const struct sigv4_request *req)
{
    struct buf sh;

    buf_init(&sh);
    if (canonical_headers(req, NULL, &sh) != 0) {
        buf_free(&sh);
        return NULL;
    }
    return buf_steal(&sh);
}

char *sigv4_presign_query(const struct sigv4_creds *c, const struct sigv4_request *req,
                          time_t now, long expires)
{
    struct sigv4_request r = *req;
    struct sigv4_pair *q;
    char amzdate[17], expstr[24], cred[512], sig[65];
    char *sh, *creq = NULL, *sh2 = NULL, *sts;
    size_t n = 0, i;
    struct buf out;
    int has_token = c->session_token != NULL && c->session_token[0] != '\0';

    ads_fmt_amzdate(now, amzdate);
    snprintf(expstr, sizeof expstr, "%ld", expires);
    snprintf(cred, sizeof cred, "%s/%.8s/%s/%s/aws4_request", c->access_key, amzdate, c->region, c->service);
    sh = signed_header_list(req);
    q = calloc(req->nquery + 7, sizeof *q);
    if (sh == NULL || q == NULL) {
        free(sh);
        free(q);
        return NULL;
    }
    for (i = 0; i < req->nquery; i++)
        q[n++] = req->query[i];
    q[n++] = (struct sigv4_pair){ "X-Amz-Algorithm", "AWS4-HMAC-SHA256" };
    q[n++] = (struct sigv4_pair){ "X-Amz-Credential", cred };
    q[n++] = (struct sigv4_pair){ "X-Amz-Date", amzdate };
    q[n++] = (struct sigv4_pair){ "X-Amz-Expires", expstr };
    if (has_token)
        q[n++] = (struct sigv4_pair){ "X-Amz-Security-Token", c->session_token };
    q[n++] = (struct sigv4_pair){ "X-Amz-SignedHeaders", sh };
    r.query = q;
    r.nquery = n;
    if (r.payload_hash == NULL)
        r.payload_hash = SIGV4_UNSIGNED;
    if (sigv4_canonical_request(&r, c->service, &creq, &sh2) != 0) {
        free(sh);
        free(q);
        return NULL;
    }
    sts = sigv4_string_to_sign(amzdate, c->region, c->service, creq);
    free(creq);
    free(sh2);
    if (sts == NULL) {
        free(sh);
        free(q);
        return NULL;
    }
    sigv4_signature(c, amzdate, sts, sig);
    free(sts);
    buf_init(&out);
    if (canonical_query(&out, q, n) != 0)
        out.oom = 1;
    buf_printf(&out, "&X-Amz-Signature=%s", sig);
    free(sh);
    free(q);
    return buf_steal(&out);
}

/* Splits a raw query string into decoded pairs stored in one arena. */
struct raw_query {
    struct sigv4_pair pairs[32];
    size_t n;
    struct buf arena[64];
};

static int parse_query(struct raw_query *rq, const char *raw, char *err)
{
    const char *p = raw;

    rq->n = 0;
    while (p != NULL && *p != '\0') {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;
        struct buf *nb, *vb;

        if (len > 0) {
            if (rq->n >= 32) {
                ads_errf(err, "too many query parameters");
                return -1;
            }
            nb = &rq->arena[2 * rq->n];
            vb = &rq->arena[2 * rq->n + 1];
            buf_init(nb);
            buf_init(vb);
            if (sigv4_uri_decode(nb, p, nlen) != 0 ||
                (eq && sigv4_uri_decode(vb, eq + 1, len - nlen - 1) != 0)) {
                rq->n++;
                ads_errf(err, "malformed query string");
                return -1;
            }
            buf_add(nb, "", 0);
            buf_add(vb, "", 0);
            rq->n++;
            if (nb->oom || vb->oom) {
                ads_errf(err, "out of memory");
                return -1;
            }
            rq->pairs[rq->n - 1].name = nb->data;
            rq->pairs[rq->n - 1].value = vb->data;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static void free_query(struct raw_query *rq)
{
    size_t i;

    for (i = 0; i < 2 * rq->n; i++)
        buf_free(&rq->arena[i]);
    rq->n = 0;
}

static const char *query_get(const struct raw_query *rq, const char *name)
{
    size_t i;

    for (i = 0; i < rq->n; i++)
        if (strcmp(rq->pairs[i].name, name) == 0)
            return rq->pairs[i].value;
    return NULL;
}

static const char *header_get(const struct sigv4_pair *h, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static int list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;

    while (p != NULL) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = semi ? semi + 1 : NULL;
    }
    return 0;
}

/* Checks the credential scope "AKID/DATE/REGION/SERVICE/aws4_request". */
static int check_credential(const struct sigv4_creds *c, const char *cred, const char *amzdate, char *err)
{
    char expect[512];

    snprintf(expect, sizeof expect, "%s/%.8s/%s/%s/aws4_request", c->access_key, amzdate, c->region, c->service);
    if (strcmp(cred, expect) != 0) {
        ads_errf(err, "credential scope does not match this store");
        return -1;
    }
    return 0;
}

static int verify_fields(const struct sigv4_creds *c, const struct raw_query *rq, time_t now, char *err)
{
    const char *alg = query_get(rq, "X-Amz-Algorithm");
    const char *cred = query_get(rq, "X-Amz-Credential");
    const char *date = query_get(rq, "X-Amz-Date");
    const char *exp = query_get(rq, "X-Amz-Expires");
    time_t t;
    long secs;

    if (alg == NULL || cred == NULL || date == NULL || exp == NULL ||
        query_get(rq, "X-Amz-SignedHeaders") == NULL || query_get(rq, "X-Amz-Signature") == NULL) {
        ads_errf(err, "missing presigned URL parameters");
        return -1;
    }
    if (strcmp(alg, "AWS4-HMAC-SHA256") != 0) {
        ads_errf(err, "unsupported signing algorithm");
        return -1;
    }
    if (ads_parse_amzdate(date, &t) != 0 || ads_parse_long(exp, 1, 604800, &secs) != 0) {
        ads_errf(err, "malformed X-Amz-Date or X-Amz-Expires");
        return -1;
    }
    if (check_credential(c, cred, date, err) != 0)
        return -1;
    if (now > t + secs) {
        ads_errf(err, "request has expired");
        return -1;
    }
    if (t > now + 900) {
        ads_errf(err, "request date is in the future");
        return -1;
    }
    return 0;
}

int sigv4_verify_presigned(const struct sigv4_creds *c, const char *method,
                           const char *raw_path, const char *raw_query,
                           const struct sigv4_pair *headers, size_t nheaders,
                           const char *const *required, time_t now, char *err)
{
    struct raw_query rq;
    struct sigv4_pair hdrs[32], q[32];
    struct sigv4_request r;
    struct buf path;
    const char *sh, *given;
    char *creq = NULL, *shout = NULL, *sts;
    char sig[65];
    size_t i, nh = 0, nq = 0;
    int rc = -1;

    memset(&rq, 0, sizeof rq);
    memset(&r, 0, sizeof r);
    buf_init(&path);
    if (parse_query(&rq, raw_query, err) != 0 || verify_fields(c, &rq, now, err) != 0)
        goto out;
    sh = query_get(&rq, "X-Amz-SignedHeaders");
    if (!list_has(sh, "host")) {
        ads_errf(err, "the host header must be signed");
        goto out;
    }
    for (i = 0; required != NULL && required[i] != NULL; i++) {
        if (!list_has(sh, required[i])) {
            ads_errf(err, "the %s header must be signed", required[i]);
            goto out;
        }
    }
    /* Rebuild the signed headers from what the client actually sent. */
    for (const char *p = sh; p != NULL && nh < 32;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        char name[128];
        const char *v;
        if (len == 0 || len >= sizeof name) {
            ads_errf(err, "malformed X-Amz-SignedHeaders");
            goto out;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        v = header_get(headers, nheaders, name);
        if (v == NULL) {
            ads_errf(err, "signed header %s is missing from the request", name);
            goto out;
        }
        hdrs[nh].name = p;        /* canonicaliser lower-cases and stops at ';' below */
        hdrs[nh].value = v;
        nh++;
        p = semi ? semi + 1 : NULL;
    }
    for (i = 0; i < rq.n; i++)
        if (strcmp(rq.pairs[i].name, "X-Amz-Signature") != 0)
            q[nq++] = rq.pairs[i];
    if (sigv4_uri_decode(&path, raw_path, strlen(raw_path)) != 0) {
        ads_errf(err, "malformed path");
        goto out;
    }
    buf_add(&path, "", 0);
    /* Header names point into sh; copy them so each ends at its ';'. */
    {
        char names[32][128];
        for (i = 0; i < nh; i++) {
            const char *semi = strchr(hdrs[i].name, ';');
            size_t len = semi ? (size_t)(semi - hdrs[i].name) : strlen(hdrs[i].name);
            memcpy(names[i], hdrs[i].name, len);
            names[i][len] = '\0';
            hdrs[i].name = names[i];
        }
        r.method = method;
        r.path = path.data;
        r.query = q;
        r.nquery = nq;
        r.headers = hdrs;
        r.nheaders = nh;
        r.payload_hash = SIGV4_UNSIGNED;
        if (sigv4_canonical_request(&r, c->service, &creq, &shout) != 0) {
            ads_errf(err, "out of memory");
            goto out;
        }
    }

    sts = sigv4_string_to_sign(query_get(&rq, "X-Amz-Date"), c->region, c->service, creq);
    if (sts == NULL) {
        ads_errf(err, "out of memory");
        goto out;
    }
    sigv4_signature(c, query_get(&rq, "X-Amz-Date"), sts, sig);
    free(sts);
    given = query_get(&rq, "X-Amz-Signature");
    if (strlen(given) != 64 || CRYPTO_memcmp(given, sig, 64) != 0) {
        ads_errf(err, "signature does not match");
        goto out;
    }
    rc = 0;
out:
    free(creq);
    free(shout);
    buf_free(&path);
    free_query(&rq);
    return rc;
}
