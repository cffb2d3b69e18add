#include "metrics.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <json-c/json.h>

/* How long a recorder waits for a slot another thread or process is
 * claiming before probing on: a claimer killed mid-claim must not stall
 * everyone (its slot stays unusable, nothing worse). */
#define CLAIM_SPINS 100000

enum { SLOT_FREE = 0, SLOT_CLAIMING, SLOT_READY };

struct metrics *metrics_new(const struct metric_def *defs, int ndefs, int nseries, int shared, char *err)
{
    struct metrics *m = calloc(1, sizeof *m);
    size_t size = (size_t)nseries * sizeof(struct metric_series) + sizeof(atomic_long);
    void *mem;

    if (m == NULL || nseries <= 0) {
        free(m);
        ads_errf(err, "metrics: out of memory");
        return NULL;
    }
    if (shared) {
        mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            ads_errf(err, "metrics: shared memory: %s", strerror(errno));
            free(m);
            return NULL;
        }
        m->mapsize = size;     /* a fresh anonymous mapping is zero-filled */
    } else if ((mem = calloc(1, size)) == NULL) {
        ads_errf(err, "metrics: out of memory");
        free(m);
        return NULL;
    }
    m->defs = defs;
    m->ndefs = ndefs;
    m->series = mem;
    m->nseries = nseries;
    m->dropped = (atomic_long *)(void *)((char *)mem + (size_t)nseries * sizeof(struct metric_series));
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    if (m->mapsize > 0)
        munmap(m->series, m->mapsize);
    else
        free(m->series);
    free(m);
}

/* Appends c when it leaves room for the NUL; 0, or -1 when full. */
static int put(char *out, size_t outsz, size_t *len, char c)
{
    if (*len + 1 >= outsz)
        return -1;
    out[(*len)++] = c;
    return 0;
}

/* metrics_label for a value with nothing to escape (the usual case, on
 * every request): whole copies instead of a character at a time. */
static int label_plain(char *out, size_t outsz, size_t len, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), comma = len > 0;

    if (len + comma + nl + 2 + vl + 1 >= outsz)
        return -1;
    if (comma)
        out[len++] = ',';
    memcpy(out + len, name, nl);
    len += nl;
    out[len++] = '=';
    out[len++] = '"';
    memcpy(out + len, value, vl);
    len += vl;
    out[len++] = '"';
    out[len] = '\0';
    return 0;
}

int metrics_label(char *out, size_t outsz, const char *name, const char *value)
{
    size_t len = strlen(out), start = len;
    int bad = 0;
    const char *p;

    if (strpbrk(value, "\\\"\n") == NULL)
        return label_plain(out, outsz, len, name, value);

    if (len > 0)
        bad |= put(out, outsz, &len, ',');
    for (p = name; *p; p++)
        bad |= put(out, outsz, &len, *p);
    bad |= put(out, outsz, &len, '=');
    bad |= put(out, outsz, &len, '"');
    for (p = value; *p && !bad; p++) {
        if (*p == '\\' || *p == '"' || *p == '\n')
            bad |= put(out, outsz, &len, '\\');
        bad |= put(out, outsz, &len, *p == '\n' ? 'n' : *p);
    }
    bad |= put(out, outsz, &len, '"');
    out[bad ? start : len] = '\0';
    return bad ? -1 : 0;
}

static uint32_t hash(int family, const char *labels)
{
    uint32_t h = 2166136261u ^ (uint32_t)family;

    for (; *labels; labels++)
        h = (h ^ (unsigned char)*labels) * 16777619u;
    return h;
}

/* The ready slot of (family, labels), claimed now if it has none; NULL
 * when the table is full or the labels too long. */
static struct metric_series *find(struct metrics *m, int family, const char *labels)
{
    uint32_t h;
    int i;

    if (m == NULL || family < 0 || family >= m->ndefs)
        return NULL;
    if (strlen(labels) >= METRICS_LABELS_MAX) {
        atomic_fetch_add(m->dropped, 1);
        return NULL;
    }
    h = hash(family, labels);
    for (i = 0; i < m->nseries; i++) {
        struct metric_series *s = &m->series[(h + (uint32_t)i) % (uint32_t)m->nseries];
        int st = atomic_load_explicit(&s->state, memory_order_acquire), spins = 0;
        if (st == SLOT_FREE) {
            int expect = SLOT_FREE;
            if (atomic_compare_exchange_strong(&s->state, &expect, SLOT_CLAIMING)) {
                s->family = family;
                snprintf(s->labels, sizeof s->labels, "%s", labels);
                atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
                return s;
            }
            st = expect;
        }
        while (st == SLOT_CLAIMING && spins++ < CLAIM_SPINS)
            st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == SLOT_READY && s->family == family && strcmp(s->labels, labels) == 0)
            return s;
    }
    atomic_fetch_add(m->dropped, 1);
    return NULL;
}

static double scale_of(const struct metric_def *d)
{
    return d->scale > 0 ? d->scale : 1.0;
}

void metrics_add(struct metrics *m, int family, const char *labels, long long n)
{
    struct metric_series *s = find(m, family, labels);

    if (s != NULL)
        atomic_fetch_add_explicit(&s->v[0], n, memory_order_relaxed);
}

void metrics_set(struct metrics *m, int family, const char *labels, long long v)
{
    struct metric_series *s = find(m, family, labels);

    if (s != NULL)
        atomic_store_explicit(&s->v[0], v, memory_order_relaxed);
}

void metrics_observe(struct metrics *m, int family, const char *labels, double v)
{
    struct metric_series *s = find(m, family, labels);
    const struct metric_def *d;
    int b;

    if (s == NULL)
        return;
    d = &m->defs[family];
    if (d->type != METRIC_HISTOGRAM) {
        atomic_fetch_add_explicit(&s->v[0], llround(v * scale_of(d)), memory_order_relaxed);
        return;
    }
    for (b = 0; b < d->nbounds && v > d->bounds[b]; b++)
        ;
    atomic_fetch_add_explicit(&s->v[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->v[d->nbounds + 1], llround(v * scale_of(d)), memory_order_relaxed);
}

long long metrics_get(struct metrics *m, int family, const char *labels)
{
    struct metric_series *s = find(m, family, labels);

    return s != NULL ? atomic_load_explicit(&s->v[0], memory_order_relaxed) : 0;
}

/* HELP text: backslash and line feed escaped. */
static void add_help(struct buf *out, const char *help)
{
    for (; *help; help++) {
        if (*help == '\\')
            buf_adds(out, "\\\\");
        else if (*help == '\n')
            buf_adds(out, "\\n");
        else
            buf_addc(out, *help);
    }
}

static void add_value(struct buf *out, long long raw, double scale)
{
    if (scale == 1.0)
        buf_printf(out, " %lld\n", raw);
    else
        buf_printf(out, " %.9g\n", (double)raw / scale);
}

/* name{labels[,extra]} */
static void add_sample_name(struct buf *out, const char *name, const char *suffix, const char *labels,
                            const char *extra)
{
    buf_adds(out, name);
    buf_adds(out, suffix);
    if (labels[0] == '\0' && extra == NULL)
        return;
    buf_addc(out, '{');
    buf_adds(out, labels);
    if (extra != NULL) {
        if (labels[0] != '\0')
            buf_addc(out, ',');
        buf_adds(out, extra);
    }
    buf_addc(out, '}');
}

static void write_histogram(struct buf *out, const struct metric_def *d, struct metric_series *s)
{
    long long acc = 0;
    char le[48];
    int b;

    for (b = 0; b <= d->nbounds; b++) {
        acc += atomic_load_explicit(&s->v[b], memory_order_relaxed);
        if (b < d->nbounds)
            snprintf(le, sizeof le, "le=\"%.9g\"", d->bounds[b]);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        add_sample_name(out, d->name, "_bucket", s->labels, le);
        buf_printf(out, " %lld\n", acc);
    }
    add_sample_name(out, d->name, "_sum", s->labels, NULL);
    add_value(out, atomic_load_explicit(&s->v[d->nbounds + 1], memory_order_relaxed), scale_of(d));
    add_sample_name(out, d->name, "_count", s->labels, NULL);
    buf_printf(out, " %lld\n", acc);
}

static const char *type_name(enum metric_type t)
{
    return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

void metrics_write(struct buf *out, struct metrics *const *regs, int nregs)
{
    const struct metric_def *defs;
    int f, r, i;

    if (nregs <= 0)
        return;
    defs = regs[0]->defs;
    for (f = 0; f < regs[0]->ndefs; f++) {
        const struct metric_def *d = &defs[f];
        buf_printf(out, "# HELP %s ", d->name);
        add_help(out, d->help);
        buf_printf(out, "\n# TYPE %s %s\n", d->name, type_name(d->type));
        for (r = 0; r < nregs; r++)
            for (i = 0; i < regs[r]->nseries; i++) {
                struct metric_series *s = &regs[r]->series[i];
                if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY || s->family != f)
                    continue;
                if (d->type == METRIC_HISTOGRAM) {
                    write_histogram(out, d, s);
                    continue;
                }
                add_sample_name(out, d->name, "", s->labels, NULL);
                add_value(out, atomic_load_explicit(&s->v[0], memory_order_relaxed), scale_of(d));
            }
    }
}

static int nvalues(const struct metric_def *d)
{
    return d->type == METRIC_HISTOGRAM ? d->nbounds + 2 : 1;
}

char *metrics_snapshot(struct metrics *m)
{
    json_object *root = json_object_new_object(), *arr = json_object_new_array();
    char *text = NULL;
    int i, k;

    if (root == NULL || arr == NULL) {
        json_object_put(root);
        json_object_put(arr);
        return NULL;
    }
    json_object_object_add(root, "series", arr);
    for (i = 0; i < m->nseries; i++) {
        struct metric_series *s = &m->series[i];
        const struct metric_def *d;
        json_object *o, *v;
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
            continue;
        d = &m->defs[s->family];
        o = json_object_new_object();
        v = json_object_new_array();
        for (k = 0; k < nvalues(d); k++)
            json_object_array_add(v, json_object_new_int64(atomic_load_explicit(&s->v[k], memory_order_relaxed)));
        json_object_object_add(o, "m", json_object_new_string(d->name));
        json_object_object_add(o, "l", json_object_new_string(s->labels));
        json_object_object_add(o, "v", v);
        json_object_array_add(arr, o);
    }
    text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return text;
}

static int family_named(const struct metrics *m, const char *name)
{
    int f;

    for (f = 0; f < m->ndefs; f++)
        if (strcmp(m->defs[f].name, name) == 0)
            return f;
    return -1;
}

/* Adds one snapshot series; skipped when foreign or malformed. Labels come
 * from another process through the database: one holding a line feed or
 * an unbalanced quote could break the exposition, so only text that looks
 * rendered by metrics_label is taken. */
static void load_one(struct metrics *m, json_object *o, const char *prefix)
{
    json_object *jm, *jl, *jv;
    const char *labels;
    char all[METRICS_LABELS_MAX];
    struct metric_series *s;
    int f, k, quotes = 0;
    size_t i;

    if (!json_object_object_get_ex(o, "m", &jm) || !json_object_object_get_ex(o, "l", &jl) ||
        !json_object_object_get_ex(o, "v", &jv) || !json_object_is_type(jv, json_type_array))
        return;
    f = family_named(m, json_object_get_string(jm));
    labels = json_object_get_string(jl);
    if (f < 0 || labels == NULL || (int)json_object_array_length(jv) != nvalues(&m->defs[f]))
        return;
    for (i = 0; labels[i]; i++) {
        if (labels[i] == '\n' || labels[i] == '\r')
            return;
        if (labels[i] == '\\' && labels[i + 1] != '\0')
            i++;
        else if (labels[i] == '"')
            quotes++;
    }
    if (quotes % 2 != 0)
        return;
    if (snprintf(all, sizeof all, "%s%s%s", prefix, prefix[0] && labels[0] ? "," : "", labels) >= (int)sizeof all)
        return;
    s = find(m, f, all);
    for (k = 0; s != NULL && k < nvalues(&m->defs[f]); k++)
        atomic_fetch_add_explicit(&s->v[k], json_object_get_int64(json_object_array_get_idx(jv, (size_t)k)),
                                  memory_order_relaxed);
}

int metrics_load(struct metrics *m, const char *json, const char *prefix, char *err)
{
    json_object *root = json_tokener_parse(json), *arr;
    size_t i;

    if (root == NULL || !json_object_object_get_ex(root, "series", &arr) || !json_object_is_type(arr, json_type_array)) {
        json_object_put(root);
        ads_errf(err, "not a metrics snapshot");
        return -1;
    }
    for (i = 0; i < json_object_array_length(arr); i++)
        load_one(m, json_object_array_get_idx(arr, i), prefix);
    json_object_put(root);
    return 0;
}
