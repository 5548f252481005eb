/*
 * metrics.c - counters, gauges and histograms with atomic updates, rendered
 * in the Prometheus text format (version 0.0.4).
 */
#include "autoconfig.h"

#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TM_MAX_BUCKETS 24

struct tm_metric {
    struct tm_metric *next;
    int kind;
    char *name;
    char *help;
    char *labels;
    _Atomic uint64_t value;  /* double bits: counter/gauge value, histogram sum */
    size_t nbuckets;
    double bounds[TM_MAX_BUCKETS];
    _Atomic uint64_t counts[TM_MAX_BUCKETS + 1]; /* last: +Inf */
};

struct tm_metrics {
    pthread_mutex_t lock;
    tm_metric_t *head, *tail;
};

/* Seconds: 10 us .. 10 s, for stage and end-to-end latency. */
static const double tm__default_buckets[] = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                             0.001,   0.0025,   0.005,   0.01,   0.025,   0.05,
                                             0.1,     0.25,     0.5,     1,      2.5,     10};

static inline double tm__bits_to_d(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static inline uint64_t tm__d_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

tm_metrics_t *tm_metrics_new(void)
{
    tm_metrics_t *m = calloc(1, sizeof *m);
    if (m != NULL)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void tm_metrics_destroy(tm_metrics_t **mp)
{
    tm_metrics_t *m = *mp;
    if (m == NULL)
        return;
    while (m->head != NULL) {
        tm_metric_t *x = m->head;
        m->head = x->next;
        free(x->name);
        free(x->help);
        free(x->labels);
        free(x);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
    *mp = NULL;
}

static int tm__same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

tm_metric_t *tm_metrics_register(tm_metrics_t *m, int kind, const char *name, const char *help,
                                 const char *labels, const double *buckets, size_t nbuckets)
{
    if (m == NULL || name == NULL)
        return NULL;
    if (labels != NULL && labels[0] == '\0')
        labels = NULL;
    pthread_mutex_lock(&m->lock);
    tm_metric_t *x;
    for (x = m->head; x != NULL; x = x->next) {
        if (strcmp(x->name, name) == 0) {
            if (x->kind != kind) {
                pthread_mutex_unlock(&m->lock);
                return NULL;
            }
            if (tm__same(x->labels, labels)) {
                pthread_mutex_unlock(&m->lock);
                return x;
            }
        }
    }
    x = calloc(1, sizeof *x);
    if (x == NULL)
        goto oom;
    x->kind = kind;
    x->name = strdup(name);
    x->help = strdup(help != NULL ? help : name);
    x->labels = labels != NULL ? strdup(labels) : NULL;
    if (x->name == NULL || x->help == NULL || (labels != NULL && x->labels == NULL))
        goto oom;
    if (kind == TM_METRIC_HISTOGRAM) {
        if (buckets == NULL) {
            buckets = tm__default_buckets;
            nbuckets = sizeof tm__default_buckets / sizeof tm__default_buckets[0];
        }
        x->nbuckets = nbuckets < TM_MAX_BUCKETS ? nbuckets : TM_MAX_BUCKETS;
        memcpy(x->bounds, buckets, x->nbuckets * sizeof(double));
    }
    /* Keep registration order, so families render in a stable order. */
    if (m->tail != NULL)
        m->tail->next = x;
    else
        m->head = x;
    m->tail = x;
    pthread_mutex_unlock(&m->lock);
    return x;
oom:
    if (x != NULL) {
        free(x->name);
        free(x->help);
        free(x->labels);
        free(x);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

void tm_metric_add(tm_metric_t *x, double v)
{
    if (x == NULL || !isfinite(v))
        return;
    uint64_t old = atomic_load_explicit(&x->value, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&x->value, &old,
                                                  tm__d_to_bits(tm__bits_to_d(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void tm_metric_set(tm_metric_t *x, double v)
{
    if (x == NULL || !isfinite(v))
        return;
    atomic_store_explicit(&x->value, tm__d_to_bits(v), memory_order_relaxed);
}

void tm_metric_observe(tm_metric_t *x, double v)
{
    if (x == NULL || !isfinite(v))
        return;
    size_t i = 0;
    while (i < x->nbuckets && v > x->bounds[i])
        i++;
    atomic_fetch_add_explicit(&x->counts[i], 1, memory_order_relaxed);
    tm_metric_add(x, v);
}

double tm_metric_value(const tm_metric_t *x)
{
    return x != NULL ? tm__bits_to_d(atomic_load_explicit(&((tm_metric_t *)x)->value,
                                                          memory_order_relaxed))
                     : 0.0;
}

unsigned long long tm_metric_count(const tm_metric_t *x)
{
    unsigned long long n = 0;
    if (x == NULL)
        return 0;
    for (size_t i = 0; i <= x->nbuckets; i++)
        n += atomic_load_explicit(&((tm_metric_t *)x)->counts[i], memory_order_relaxed);
    return n;
}

/* A growable text buffer for rendering. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} tm__buf_t;

static void tm__bprintf(tm__buf_t *b, const char *fmt, ...) TM_PRINTF(2, 3);
static void tm__bprintf(tm__buf_t *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap * 2 + (size_t)n + 1;
        char *ns = realloc(b->s, ncap);
        if (ns == NULL) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
}

static const char *tm__kind_name(int kind)
{
    return kind == TM_METRIC_COUNTER ? "counter" : kind == TM_METRIC_GAUGE ? "gauge" : "histogram";
}

static void tm__fmt_num(char *out, size_t size, double v)
{
    if (isinf(v))
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, size, "%.0f", v);
    else
        snprintf(out, size, "%.9g", v);
}

int tm_metrics_render(tm_metrics_t *m, char **out, size_t *len)
{
    tm__buf_t b = {malloc(4096), 0, 4096, 0};
    if (b.s == NULL)
        return TM_ENOMEM;
    b.s[0] = '\0';
    pthread_mutex_lock(&m->lock);
    for (tm_metric_t *first = m->head; first != NULL; first = first->next) {
        /* Render each family once, at its first series. */
        int seen = 0;
        for (tm_metric_t *p = m->head; p != first; p = p->next)
            if (strcmp(p->name, first->name) == 0)
                seen = 1;
        if (seen)
            continue;
        tm__bprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", first->name, first->help, first->name,
                    tm__kind_name(first->kind));
        for (tm_metric_t *x = first; x != NULL; x = x->next) {
            if (strcmp(x->name, first->name) != 0)
                continue;
            char num[64];
            const char *lb = x->labels != NULL ? x->labels : "";
            if (x->kind != TM_METRIC_HISTOGRAM) {
                tm__fmt_num(num, sizeof num, tm_metric_value(x));
                if (x->labels != NULL)
                    tm__bprintf(&b, "%s{%s} %s\n", x->name, lb, num);
                else
                    tm__bprintf(&b, "%s %s\n", x->name, num);
                continue;
            }
            unsigned long long cum = 0;
            for (size_t i = 0; i <= x->nbuckets; i++) {
                char le[64];
                cum += atomic_load_explicit(&x->counts[i], memory_order_relaxed);
                tm__fmt_num(le, sizeof le, i < x->nbuckets ? x->bounds[i] : INFINITY);
                tm__bprintf(&b, "%s_bucket{%s%sle=\"%s\"} %llu\n", x->name, lb,
                            x->labels != NULL ? "," : "", le, cum);
            }
            tm__fmt_num(num, sizeof num, tm_metric_value(x));
            if (x->labels != NULL) {
                tm__bprintf(&b, "%s_sum{%s} %s\n", x->name, lb, num);
                tm__bprintf(&b, "%s_count{%s} %llu\n", x->name, lb, cum);
            } else {
                tm__bprintf(&b, "%s_sum %s\n", x->name, num);
                tm__bprintf(&b, "%s_count %llu\n", x->name, cum);
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (b.oom) {
        free(b.s);
        return TM_ENOMEM;
    }
    *out = b.s;
    *len = b.len;
    return TM_OK;
}
