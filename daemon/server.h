/*
 * server.h - textmilld's running state, shared by the files that own its
 * parts: server.c (start-up, the worker-to-loop queue, signals, shutdown),
 * ingest.c (input sockets, acks), publish.c (output sockets).
 *
 * Threads: the loop thread owns every ZeroMQ socket and every field below
 * except the worker-to-loop queue (q_lock), what the job code touches, the
 * control thread's fields (ctl_lock: reloads, freeing old pipelines) and the
 * health snapshot read by the HTTP thread (health_lock).
 *
 * control.c owns reload (SIGHUP) and the control thread; ops.c the periodic
 * tick (memory, readiness, watchdog, loop utilisation), sd_notify and the
 * HTTP answers.
 */
#ifndef TM_SERVER_H
#define TM_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <uv.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "idset.h"
#include "job.h"
#include "metrics.h"
#include "pipeline.h"
#include "spool.h"
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
    uv_timer_t tick;       /* ops.c: every 250 ms */
    uv_async_t reload_done; /* control thread -> loop */
    tm_zwatch_t w_publish; /* XPUB: subscription messages */

    tm_config_t *cfg;      /* owned */
    char config_path[4096]; /* "" = built-in defaults; re-read on SIGHUP */
    cJSON *overrides;      /* command-line keys, re-applied on reload; owned */
    tm_spool_t *spool;     /* NULL without state_dir */
    tm_auth_t *auth;       /* NULL without curve keys */
    char curve_secret[41];
    tm_http_t *http;
    unsigned http_port;
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

    /* Start-up replay of the spool (loop thread). */
    int replaying;
    uint64_t replay_after;
    int replay_suspect;    /* a suspect is running alone; wait for it */
    size_t replayed, replay_dead;

    /* Memory (loop thread). */
    size_t mem_budget;     /* bytes of documents/results in flight; 0 = none */
    size_t mem_in_flight;
    size_t rss_limit;      /* bytes; 0 = none */
    int rss_over;
    int pause_reason;      /* enum tm_pause_reason, 0 = reading */

    /* Reload (control.c). */
    int reloading, reload_pending;
    unsigned reloads_done;
    pthread_t ctl_thread;
    int ctl_started;
    pthread_mutex_t ctl_lock;
    pthread_cond_t ctl_cond;
    int ctl_reload, ctl_stop;
    tm_pipeline_t *ctl_retiring[64];
    size_t ctl_nretiring;
    /* results of a reload, handed to the loop */
    int reload_rc;
    tm_err_t reload_err;
    tm_pipeline_t *reload_pipeline;
    tm_config_t *reload_cfg;
    tm_keyset_t *reload_keys;

    /* Progress and health (ops.c). */
    uint64_t done_total, last_done_ns, last_deliver_ns, last_idle_ns, last_tick_ns;
    uint64_t idle_prev_ns, tick_prev_ns;
    uint64_t watchdog_usec, last_watchdog_ns;
    pthread_mutex_t health_lock;
    uint64_t heartbeat_ns; /* under health_lock */
    int ready;             /* under health_lock */
    char not_ready[160];   /* under health_lock: why not */

    struct {
        tm_metric_t *received_ingest, *received_push;
        tm_metric_t *accepted, *results, *errors_out, *dropped_routes;
        tm_metric_t *acks_dropped, *in_flight, *paused, *backlog;
        tm_metric_t *pause_reason[5], *pub_dropped, *dead, *redelivered, *reloads_ok,
            *reloads_failed, *generation, *loop_util, *rss, *mem_in_flight, *ready, *build,
            *subscriptions;
    } m;
} tm_server_t;

enum tm_pause_reason {
    TM_PAUSE_NONE = 0,
    TM_PAUSE_IN_FLIGHT, /* max_in_flight documents accepted and not yet out */
    TM_PAUSE_OUTPUT,    /* ... most of them results waiting for a deliver consumer */
    TM_PAUSE_MEMORY,    /* memory budget or RSS limit */
    TM_PAUSE_REPLAY,    /* replaying the spool after a restart */
};

/* Build everything from the config (owned by the server from now on, also
 * on failure): plugins, workers, sockets.  On failure *out is NULL and err
 * says what failed. */
int tm_server_new(tm_config_t *cfg, const char *config_path, const cJSON *overrides,
                  const char *endpoints_file, tm_server_t **out, tm_err_t *err);
/* Run until SIGTERM/SIGINT and a drained pipeline.  Returns the exit code:
 * 0, or 1 when the shutdown grace period ended with documents in flight. */
int tm_server_run(tm_server_t *s);
void tm_server_destroy(tm_server_t **sp);

/* Count a rejected document under its error code and log it (rate
 * limited).  origin is TM_ORIGIN_INGEST or TM_ORIGIN_PUSH; id may be NULL. */
void tm_server_note_reject(tm_server_t *s, int origin, const char *id, const tm_err_t *err);

/* Called by ingest/publish when in_flight changes. */
void tm_server_update_flow(tm_server_t *s);

/* Pipeline options from a config (shared by start-up and reload). */
void tm_server_pipeline_opts(const tm_server_t *s, const tm_config_t *cfg, tm_pipeline_opts_t *o);

/* A finished job left the daemon (or was dropped): release its budget. */
void tm_server_job_gone(tm_server_t *s, const tm_job_t *job);

/* Pump the start-up replay (loop thread); called from update_flow. */
void tm_server_replay_pump(tm_server_t *s);

/* ---- control.c ---- */
int tm_control_start(tm_server_t *s, tm_err_t *err);
void tm_control_stop(tm_server_t *s);
void tm_control_on_hup(tm_server_t *s);
void tm_control_retire_pipeline(tm_server_t *s, tm_pipeline_t *old);

/* ---- ops.c ---- */
void tm_ops_start(tm_server_t *s);
void tm_ops_notify(tm_server_t *s, const char *state);
int tm_ops_http_handler(void *ctx, const char *path, char **body, size_t *len, const char **ctype);
void tm_ops_note_done(tm_server_t *s);

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
/* Publish a dead-letter record on the "dead" topic and record it in the
 * state directory (removing key from the spool). */
void tm_publish_dead(tm_server_t *s, uint64_t key, const char *record, size_t len);
/* Drop everything waiting in the deliver backlog (final shutdown). */
size_t tm_publish_discard_backlog(tm_server_t *s);

/* Create, configure and bind a socket; on failure err names the socket and
 * endpoint.  Shared by ingest.c and publish.c. */
int tm_server_bind(tm_server_t *s, int type, const char *name, const char *endpoint, int hwm,
                   void **out, tm_err_t *err);

#endif
