/*
 * job.h - one document's trip through the workers: parse and validate the
 * raw message, run the stage chain (possibly across several workers when an
 * ordered lane hands it on), encode the result.
 *
 * The same job code serves textmilld (messages from ZeroMQ) and
 * `textmill run` (lines from stdin); they differ only in their sink, which
 * receives the outcome on the worker thread.
 */
#ifndef TM_JOB_H
#define TM_JOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "idset.h"
#include "pipeline.h"
#include "spool.h"
#include "workers.h"

typedef struct tm_job tm_job_t;

typedef struct tm_job_sink {
    /* Optional.  The document passed validation and was accepted (job->id
     * is set).  textmilld sends the ingest ack from here. */
    void (*accepted)(void *ctx, tm_job_t *job);
    /* Required.  The job is done: job->outcome says how.  The sink now owns
     * the job and frees it with tm_job_free(). */
    void (*finished)(void *ctx, tm_job_t *job);
    void *ctx;
} tm_job_sink_t;

/* Shared by all jobs of one producer. */
typedef struct tm_job_ctx {
    tm_pool_t *pool;
    tm_limits_t limits;
    tm_idset_t *inflight; /* optional: reject ids already in flight */
    tm_job_sink_t sink;
    tm_spool_t *spool;    /* optional: write accepted documents here before the ack */
    char id_prefix[32];   /* for documents that come without an id */
    atomic_uint_fast64_t id_counter;
} tm_job_ctx_t;

enum tm_job_outcome {
    TM_JOB_PENDING = 0,
    TM_JOB_RESULT,    /* out holds the encoded result */
    TM_JOB_REJECTED,  /* err holds the reason; id may be NULL */
    TM_JOB_DEAD,      /* out holds the dead-letter record (a stage failed repeatedly) */
};

enum tm_job_origin {
    TM_ORIGIN_NONE = 0,
    TM_ORIGIN_INGEST, /* ROUTER: reply with an ack */
    TM_ORIGIN_PUSH,   /* PULL: errors go to the error topic */
    TM_ORIGIN_BATCH,  /* a line of textmill run */
    TM_ORIGIN_REPLAY, /* replayed from the spool at start-up: nobody to ack */
};

/* A spooled job finishes twice: its stages (on a worker) and its group
 * commit (on the spool's writer thread), in either order, because the
 * stages run while the commit waits for the disk.  Whichever comes second
 * hands the job to the sink: a result never leaves before its document is
 * durable, and the ack goes out from the commit. */
enum tm_job_done_bits {
    TM_JOB_COMMITTED = 1u, /* stored (or never needed storing) */
    TM_JOB_FINISHED = 2u,  /* stages done, outcome set */
};

struct tm_job {
    tm_task_t task;          /* first member: the pool runs it */
    tm_job_ctx_t *ctx;       /* borrowed */
    tm_pipeline_t *pipeline; /* a reference, dropped when the job finishes */
    uint64_t seq;
    char *raw;               /* owned until parsed; raw[raw_len] == '\0' */
    size_t raw_len;
    tm_doc_t *doc;           /* owned while running */
    size_t next_stage;

    /* Where it came from (filled by the producer, read by the sink). */
    int origin;
    unsigned char route_id[256]; /* ROUTER peer identity */
    size_t route_id_len;
    int req_delimiter;           /* the peer is a REQ socket: echo the empty frame */
    long line;                   /* batch: 1-based input line */
    uint64_t line_index;         /* batch: 0-based position among submitted lines */
    uint64_t t_recv_ns;

    /* The outcome. */
    int outcome;
    char *id;                /* owned; NULL when unknown */
    tm_err_t err;
    char *out;               /* owned, malloc'd: encoded result */
    size_t out_len;
    char topic[40];
    unsigned route_flags;
    int redelivered;
    int accepted;            /* passed validation (the ack was sent) */
    int parsed;              /* the raw message was parsed (doc set) */
    atomic_uint done_bits;   /* enum tm_job_done_bits */
    uint64_t spool_key;      /* 0 = not in the spool */
    int spool_failed;        /* the spool could not store it: reject, no result */
    int suspect;             /* was in a stage at a crash: forget that if it succeeds */
    tm_err_t spool_err;      /* why (written by the writer thread) */
    size_t mem_bytes;        /* what it counts toward the memory budget */

    /* Loop-side bookkeeping (textmilld). */
    char *ack;               /* owned: encoded ingest ack */
    size_t ack_len;
    tm_job_t *ack_next;      /* in the loop's ack queue */
};

/* A job for one raw message (copied, NUL-terminated), numbered with the
 * pipeline's next arrival number.  Takes a pipeline reference. */
tm_job_t *tm_job_new(tm_job_ctx_t *ctx, tm_pipeline_t *p, const void *raw, size_t len);

/* Hand the job to the pool. */
void tm_job_submit(tm_job_t *job);

void tm_job_free(tm_job_t **jp);

/* The spool's done callback (tm_spool_done_fn) for jobs: sends the ack
 * (stored) or marks the job rejected (not stored), and hands the job on if
 * its stages are already done. */
void tm_job_spooled(void *ctx, void *item, uint64_t key, int ok, const char *why);

#endif
