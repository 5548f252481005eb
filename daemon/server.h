/*
 * server.h - textmilld's running state, shared by the files that own its
 * parts: server.c (start-up, the worker-to-loop queue, signals, shutdown),
 * ingest.c (input sockets, acks), publish.c (output sockets).
 *
 * Threads: the loop thread owns every ZeroMQ socket and every field below
 * except the worker-to-loop queue (q_lock) and what the job code touches.
 */
#ifndef TM_SERVER_H
#define TM_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <uv.h>

#include "config.h"
#include "idset.h"
#include "job.h"
#include "metrics.h"
#include "pipeline.h"
#include "workers.h"
#include "zloop.h"

typedef struct tm_backlog tm_backlog_t; /* publish.c: results waiting for a PUSH peer */

typedef struct tm_server {
    uv_loop_t loop;
    tm_zloop_t zl;
    void *zctx;
    void *s_ingest, *s_push, *s_publish, *s_deliver; /* NULL when off */
    tm_zwatch_t w_ingest, w_push, w_deliver;
    uv_async_t wake;       /* workers -> loop */
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t grace;

    tm_config_t *cfg;      /* owned */
    tm_pipeline_t *pipeline;
    tm_pool_t *pool;
    tm_idset_t *ids;
    tm_metrics_t *metrics;
    tm_job_ctx_t jobctx;
    tm_limits_t limits;

    /* Worker -> loop: accepted documents' acks and finished jobs. */
    pthread_mutex_t q_lock;
    tm_job_t *ack_head, *ack_tail;
    tm_job_t *done_head, *done_tail;

    /* Loop-only state. */
    tm_task_t *batch_head, *batch_tail; /* jobs read this round, not yet queued */
    unsigned batch_len;
    tm_backlog_t *backlog_head, *backlog_tail;
    size_t backlog_len;
    size_t in_flight;      /* jobs submitted + results waiting in the backlog */
    int paused;            /* input not read: at the in-flight bound */
    int stopping;          /* SIGTERM/SIGINT seen */
    int closed;            /* loop handles closed */
    int wake_closed;       /* under q_lock: workers must not wake the loop */
    int loop_ready, handles_ready;
    uint64_t stop_started_ns;

    struct {
        tm_metric_t *received_ingest, *received_push;
        tm_metric_t *accepted, *results, *errors_out, *dropped_routes;
        tm_metric_t *acks_dropped, *in_flight, *paused, *backlog;
    } m;
} tm_server_t;

/* Build everything from the config (owned by the server from now on, also
 * on failure): plugins, workers, sockets.  On failure *out is NULL and err
 * says what failed. */
int tm_server_new(tm_config_t *cfg, const char *endpoints_file, tm_server_t **out, tm_err_t *err);
/* Run until SIGTERM/SIGINT and a drained pipeline.  Returns the exit code:
 * 0, or 1 when the shutdown grace period ended with documents in flight. */
int tm_server_run(tm_server_t *s);
void tm_server_destroy(tm_server_t **sp);

/* Count a rejected document under its error code and log it (rate
 * limited).  origin is TM_ORIGIN_INGEST or TM_ORIGIN_PUSH; id may be NULL. */
void tm_server_note_reject(tm_server_t *s, int origin, const char *id, const tm_err_t *err);

/* Called by ingest/publish when in_flight changes. */
void tm_server_update_flow(tm_server_t *s);

/* ---- ingest.c ---- */
int tm_ingest_open(tm_server_t *s, tm_err_t *err);
void tm_ingest_set_reading(tm_server_t *s, int reading);
/* Send an ingest reply frame to the job's ROUTER peer (ack or rejection). */
void tm_ingest_reply(tm_server_t *s, const tm_job_t *job, const char *body, size_t len);

/* ---- publish.c ---- */
int tm_publish_open(tm_server_t *s, tm_err_t *err);
/* Hand a finished job's outcome to the outputs and free the job. */
void tm_publish_job(tm_server_t *s, tm_job_t *job);
/* Publish an error record on the "error" topic. */
void tm_publish_error(tm_server_t *s, const char *id, const tm_err_t *err);
/* Drop everything waiting in the deliver backlog (final shutdown). */
size_t tm_publish_discard_backlog(tm_server_t *s);

/* Create, configure and bind a socket; on failure err names the socket and
 * endpoint.  Shared by ingest.c and publish.c. */
int tm_server_bind(tm_server_t *s, int type, const char *name, const char *endpoint, int hwm,
                   void **out, tm_err_t *err);

#endif
