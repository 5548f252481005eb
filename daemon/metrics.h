/*
 * metrics.h - a small thread-safe metrics registry (counters, gauges,
 * histograms) rendered in the Prometheus text exposition format.
 *
 * Updates are lock-free atomics, so workers can count on the hot path;
 * registration and rendering take a mutex.  Series that share a name form
 * one family and are rendered together under one HELP/TYPE header.
 */
#ifndef TM_METRICS_H
#define TM_METRICS_H

#include <stddef.h>
#include <textmill/stage.h>

typedef struct tm_metrics tm_metrics_t;

tm_metrics_t *tm_metrics_new(void);
void tm_metrics_destroy(tm_metrics_t **mp);

/* Register a series.  labels is the text inside {}, e.g. "stage=\"dedup\""
 * or NULL.  Registering the same name and labels twice returns the existing
 * series.  buckets (ascending, for histograms; NULL for the default latency
 * buckets) are copied.  Returns NULL when out of memory or when the name is
 * already registered with another kind. */
tm_metric_t *tm_metrics_register(tm_metrics_t *m, int kind, const char *name, const char *help,
                                 const char *labels, const double *buckets, size_t nbuckets);

void tm_metric_add(tm_metric_t *metric, double value);
void tm_metric_set(tm_metric_t *metric, double value);
void tm_metric_observe(tm_metric_t *metric, double value);
double tm_metric_value(const tm_metric_t *metric);
/* Number of observations of a histogram. */
unsigned long long tm_metric_count(const tm_metric_t *metric);

/* Render every series.  *out is malloc'd, owned by the caller. */
int tm_metrics_render(tm_metrics_t *m, char **out, size_t *len);

#endif
