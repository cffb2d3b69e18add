/*
 * metrics: a registry of counters, gauges and histograms with fixed
 * buckets, and its Prometheus text exposition (format 0.0.4).
 *
 * A registry is a fixed table of series slots, each naming its family (an
 * index into the caller's table of struct metric_def) and its labels, kept
 * already rendered and escaped (`route="/api/x",status="200"`). Slots are
 * claimed on first use, lock-free; values are C11 atomic integers, so
 * recording is a hash of the labels, a probe and atomic adds: no lock, no
 * allocation, no system call.
 *
 * Storage is process-local (calloc) or a shared anonymous mapping
 * (metrics_new with shared = 1): made by a master before it forks, the same
 * counters are then seen and updated by every child (the API's workers).
 *
 * Values are integers: counters and gauges hold value * scale (scale 1e6
 * for a cost in USD), histograms count observations per bucket and keep
 * their sum * scale (1e9: seconds summed in nanoseconds). Rendering divides.
 *
 * Thread-safety: metrics_add, metrics_set, metrics_observe and
 * metrics_write / metrics_snapshot are safe from any thread and any process
 * sharing the mapping, at the same time. metrics_new and metrics_free are
 * not (one owner, before and after everyone else). A scrape may see one
 * series a few increments apart from another; each histogram is written
 * cumulative with +Inf equal to _count by construction.
 *
 * Ownership: the registry borrows defs (static tables); metrics_free
 * releases the registry (a shared mapping is unmapped in this process only).
 */
#ifndef ADS_METRICS_H
#define ADS_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "buf.h"

#define METRICS_MAX_BOUNDS 14      /* finite bucket bounds of a histogram */
#define METRICS_LABELS_MAX 240     /* rendered labels of one series, NUL included */

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_def {
    const char *name;              /* adsmith_..._total, _seconds, ... */
    const char *help;
    enum metric_type type;
    const double *bounds;          /* histograms: ascending upper bounds, +Inf implied */
    int nbounds;                   /* <= METRICS_MAX_BOUNDS */
    double scale;                  /* stored integer = value * scale (0 means 1) */
};

/* One series. v: counter or gauge in v[0]; a histogram's per-bucket counts
 * in v[0..nbounds] (v[nbounds] is +Inf) and its scaled sum in v[nbounds+1]. */
struct metric_series {
    atomic_int state;              /* 0 free, 1 being claimed, 2 ready */
    int family;
    char labels[METRICS_LABELS_MAX];
    atomic_llong v[METRICS_MAX_BOUNDS + 2];
};

struct metrics {
    const struct metric_def *defs;
    int ndefs;
    struct metric_series *series;  /* nseries slots, local or shared */
    int nseries;
    atomic_long *dropped;          /* records refused: table full, labels too long */
    size_t mapsize;                /* > 0: series and dropped live in a shared mapping */
};

/* A registry for defs with room for nseries series; shared: in a
 * MAP_SHARED anonymous mapping that children forked afterwards share.
 * NULL with a message. */
struct metrics *metrics_new(const struct metric_def *defs, int ndefs, int nseries, int shared, char *err);
void metrics_free(struct metrics *m);

/* Appends name="value" (value escaped: \\, \", \n) to the labels in out
 * (outsz bytes), with a comma when out is not empty. 0, or -1 when it
 * does not fit (out unchanged). */
int metrics_label(char *out, size_t outsz, const char *name, const char *value);

/* Recording. labels: rendered by metrics_label ("" for none). A record that
 * cannot be placed (table full) is counted in *m->dropped and lost. */
void metrics_add(struct metrics *m, int family, const char *labels, long long n);
void metrics_set(struct metrics *m, int family, const char *labels, long long v);
/* A histogram observation, or a counter/gauge add of v * scale. */
void metrics_observe(struct metrics *m, int family, const char *labels, double v);

/* The value of a counter or gauge series (raw, scaled), 0 when absent. */
long long metrics_get(struct metrics *m, int family, const char *labels);

/* Writes every family of the registries (which share one defs table) in
 * defs order: HELP and TYPE once, then the series of each registry. */
void metrics_write(struct buf *out, struct metrics *const *regs, int nregs);

/* The registry's series as JSON text (malloc'd): {"series":[{"m": name,
 * "l": labels, "v": [raw values]}]}; NULL when out of memory. */
char *metrics_snapshot(struct metrics *m);
/* Adds a snapshot's series into m, each with prefix (rendered labels, may
 * be "") put before its own labels. Families unknown to m's defs, or of
 * another shape (bucket count), are skipped. 0, or -1 with a message when
 * the text is not a snapshot. */
int metrics_load(struct metrics *m, const char *json, const char *prefix, char *err);

#endif
