/*
 * pipeline.h - the stage chain: loads the plugins a config names, builds
 * their instances with validated config, and runs documents through them.
 *
 * A pipeline is one generation of loaded stages.  It is reference counted so
 * that a new generation can take new documents (hot reload) while documents
 * of the old one finish; each document runs entirely in the generation it
 * entered.
 */
#ifndef TM_PIPELINE_H
#define TM_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <textmill/stage.h>

#include "doc.h"
#include "lane.h"
#include "loader.h"
#include "metrics.h"

typedef struct tm_pipeline_opts {
    const char *plugin_dir;  /* where <stage>.so files are looked up */
    const char *data_dir;    /* stage data: <data_dir>/<plugin name>/ */
    const char *state_dir;   /* writable state, or NULL */
    unsigned workers;        /* worker threads that will run it */
    unsigned mode;           /* enum tm_host_mode */
    size_t max_in_flight;    /* initial size of ordered lanes */
    tm_metrics_t *metrics;   /* may be NULL */
    int dead_letter;         /* stage_failure_policy dead_letter */
    unsigned max_attempts;   /* of a failing stage under that policy (>= 1) */
    int cpu_time;            /* also count each stage's thread CPU time (costs
                                a syscall per call: textmill run --stats only) */
} tm_pipeline_opts_t;

typedef struct tm_stage {
    char name[64];             /* instance name: annotations, timing, errors */
    tm_plugin_t *plugin;       /* owned */
    void *instance;
    tm_host_t host;            /* handed to the plugin; stable address */
    char data_dir[4096];
    tm_lane_t *lane;           /* when the stage has process_ordered */
    atomic_int disabled;       /* set after TM_EFATAL */
    tm_metric_t *m_docs, *m_errors, *m_seconds;
    atomic_uint_fast64_t cpu_ns; /* thread CPU time in calls, when cpu_time */
    struct tm_pipeline *pipeline;
} tm_stage_t;

typedef struct tm_pipeline {
    atomic_int refs;
    uint64_t generation;
    size_t n;
    tm_stage_t *stages;        /* n entries */
    const char *names[TM_MAX_STAGES];
    unsigned workers;
    void **tls;                /* [worker * n + stage], made lazily by each worker */
    unsigned char *tls_ready;  /* same layout */
    atomic_uint_fast64_t next_seq; /* arrival numbering for ordered lanes */
    atomic_int fatal;          /* stages disabled by TM_EFATAL */
    tm_metrics_t *metrics;
    int dead_letter;
    unsigned max_attempts;
    int cpu_time;
} tm_pipeline_t;

/* How a pipeline hands back a document that an ordered lane released. */
typedef struct tm_resume {
    void (*resume)(void *ctx, tm_doc_t *doc, size_t next_stage);
    void *ctx;
} tm_resume_t;

/* Build a pipeline from the config's "pipeline" array (borrowed).  On
 * failure nothing is left loaded and err names the entry, file and reason. */
int tm_pipeline_new(const tm_pipeline_opts_t *opts, const cJSON *spec, tm_pipeline_t **out,
                    tm_err_t *err);

tm_pipeline_t *tm_pipeline_ref(tm_pipeline_t *p);
/* Drop a reference; the last one destroys the stages.  Sets *pp to NULL. */
void tm_pipeline_unref(tm_pipeline_t **pp);

/* Next arrival number; call once per document at intake, in arrival order. */
static inline uint64_t tm_pipeline_take_seq(tm_pipeline_t *p)
{
    return atomic_fetch_add(&p->next_seq, 1);
}

/* Run stages [from, n) on doc (doc->seq set).  Returns 1 when the document
 * went through every stage, 0 when an ordered lane kept it; the lane then
 * hands it back through rs->resume later, on some worker. */
int tm_pipeline_run(tm_pipeline_t *p, tm_doc_t *doc, size_t from, unsigned worker,
                    const tm_resume_t *rs);

/* Let a sequence number that has no document (rejected at intake) pass
 * every ordered lane. */
void tm_pipeline_skip(tm_pipeline_t *p, uint64_t seq, unsigned worker, const tm_resume_t *rs);

/* The entry-table of a pipeline array element, for --help-config. */
extern const tm_param_t tm_pipeline_entry_params[];

/* Load a plugin by stage name or path and print its parameter table
 * (textmilld --describe-stage). */
int tm_pipeline_describe_stage(const char *plugin_dir, const char *name_or_path, FILE *out,
                               tm_err_t *err);

#endif
