/*
 * batch.h - `textmill run`: JSONL documents on stdin, JSONL results on
 * stdout in input order, through the same pipeline and worker pool as the
 * daemon.
 */
#ifndef TM_BATCH_H
#define TM_BATCH_H

#include <stdio.h>

#include "codec.h"
#include "pipeline.h"
#include "workers.h"

typedef struct tm_batch_stats {
    unsigned long long lines;     /* non-blank input lines */
    unsigned long long results;   /* result lines written */
    unsigned long long errors;    /* error lines written */
    unsigned long long in_bytes;  /* input bytes (lines) */
    double seconds;               /* wall time */
} tm_batch_stats_t;

/* Run every line of `in` through the pipeline and write one line per input
 * line (blank lines are skipped) to `out`, in order.  A bad line becomes an
 * error object on its line.  Returns TM_OK, or a negative code for fatal
 * errors only (cannot read or write; out of memory). */
int tm_batch_run(FILE *in, FILE *out, tm_pipeline_t *p, tm_pool_t *pool, const tm_limits_t *lim,
                 size_t max_in_flight, tm_batch_stats_t *stats, tm_err_t *err);

#endif
