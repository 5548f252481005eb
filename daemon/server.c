/*
 * server.c - textmilld's life cycle: start-up in dependency order, the
 * queue that brings acks and finished documents from the workers back to the
 * loop thread, the in-flight bound, signals and graceful shutdown.
 */
#include "autoconfig.h"

#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "log.h"

/* ---- worker -> loop ---- */

static void tm__sink_accepted(void *ctx, tm_job_t *job)
{
    tm_server_t *s = ctx;
    if (job->origin != TM_ORIGIN_INGEST)
        return;
    job->ack = tm_ack_encode(job->id, &job->ack_len);
    if (job->ack == NULL)
        return;
    pthread_mutex_lock(&s->q_lock);
    job->ack_next = NULL;
    if (s->ack_tail != NULL)
        s->ack_tail->ack_next = job;
    else
        s->ack_head = job;
    s->ack_tail = job;
    int wake = !s->wake_closed;
    pthread_mutex_unlock(&s->q_lock);
    if (wake)
        uv_async_send(&s->wake);
}

static void tm__sink_finished(void *ctx, tm_job_t *job)
{
    tm_server_t *s = ctx;
    pthread_mutex_lock(&s->q_lock);
    job->task.next = NULL;
    if (s->done_tail != NULL)
        s->done_tail->task.next = &job->task;
    else
        s->done_head = job;
    s->done_tail = job;
    int wake = !s->wake_closed;
    pthread_mutex_unlock(&s->q_lock);
    if (wake)
        uv_async_send(&s->wake);
}

static void tm__maybe_finish_stop(tm_server_t *s);

static void tm__on_wake(uv_async_t *h)
{
    tm_server_t *s = h->data;
    pthread_mutex_lock(&s->q_lock);
    tm_job_t *acks = s->ack_head, *done = s->done_head;
    s->ack_head = s->ack_tail = NULL;
    s->done_head = s->done_tail = NULL;
    pthread_mutex_unlock(&s->q_lock);
    /* Acks first: a job's ack is always queued before the job finishes, and
     * the job (which holds the ack) may be freed below. */
    for (tm_job_t *j = acks; j != NULL; j = j->ack_next) {
        tm_ingest_reply(s, j, j->ack, j->ack_len);
        tm_metric_add(s->m.accepted, 1);
    }
    while (done != NULL) {
        tm_job_t *j = done;
        done = (tm_job_t *)j->task.next;
        tm_publish_job(s, j);
    }
    tm_server_update_flow(s);
}

/* ---- flow control ---- */

static tm_ratelimit_t tm__reject_rl = TM_RATELIMIT_INIT(10, 20);

void tm_server_note_reject(tm_server_t *s, int origin, const char *id, const tm_err_t *err)
{
    char labels[80], qid[96], reason[600];
    tm_log_limited(&tm__reject_rl, TM_LOG_WARN, "ingest",
                   "msg=\"document rejected\" socket=%s id=%s code=%s reason=%s",
                   origin == TM_ORIGIN_INGEST ? "ingest" : "push",
                   id != NULL ? tm_log_quote(qid, sizeof qid, id) : "null", err->code,
                   tm_log_quote(reason, sizeof reason, err->message));
    snprintf(labels, sizeof labels, "code=\"%s\"", err->code);
    tm_metric_add(tm_metrics_register(s->metrics, TM_METRIC_COUNTER,
                                      "textmill_documents_rejected_total",
                                      "Documents rejected at intake, by error code.", labels, NULL,
                                      0),
                  1);
}

void tm_server_update_flow(tm_server_t *s)
{
    int full = s->in_flight >= s->cfg->max_in_flight;
    if (!s->stopping && full != s->paused) {
        s->paused = full;
        tm_ingest_set_reading(s, !full);
        tm_log(TM_LOG_DEBUG, "loop", "msg=\"%s\" in_flight=%zu", full ? "input paused" : "input resumed",
               s->in_flight);
    }
    tm_metric_set(s->m.in_flight, (double)s->in_flight);
    tm_metric_set(s->m.paused, s->paused ? 1 : 0);
    if (s->stopping)
        tm__maybe_finish_stop(s);
}

/* ---- shutdown ---- */

static void tm__close_loop_handles(tm_server_t *s)
{
    if (s->closed)
        return;
    s->closed = 1;
    if (s->s_ingest != NULL)
        tm_zwatch_stop(&s->w_ingest);
    if (s->s_push != NULL)
        tm_zwatch_stop(&s->w_push);
    if (s->s_deliver != NULL)
        tm_zwatch_stop(&s->w_deliver);
    tm_zloop_close(&s->zl);
    uv_timer_stop(&s->grace);
    uv_close((uv_handle_t *)&s->grace, NULL);
    uv_close((uv_handle_t *)&s->sig_term, NULL);
    uv_close((uv_handle_t *)&s->sig_int, NULL);
    uv_close((uv_handle_t *)&s->sig_hup, NULL);
    /* Workers still running after a grace timeout must not touch the
     * closed async handle. */
    pthread_mutex_lock(&s->q_lock);
    s->wake_closed = 1;
    pthread_mutex_unlock(&s->q_lock);
    uv_close((uv_handle_t *)&s->wake, NULL);
}

static void tm__maybe_finish_stop(tm_server_t *s)
{
    if (s->in_flight > 0 || s->closed)
        return;
    tm_log(TM_LOG_INFO, "loop", "msg=\"drained, stopping\" seconds=%.3f",
           (double)(tm_now_ns() - s->stop_started_ns) / 1e9);
    tm__close_loop_handles(s);
}

static void tm__on_grace_expired(uv_timer_t *t)
{
    tm_server_t *s = t->data;
    tm_log(TM_LOG_WARN, "loop",
           "msg=\"shutdown grace period over with documents still in flight\" in_flight=%zu "
           "deliver_backlog=%zu grace_ms=%u",
           s->in_flight, s->backlog_len, s->cfg->shutdown_grace_ms);
    tm__close_loop_handles(s);
}

static void tm__on_stop_signal(uv_signal_t *h, int signum)
{
    tm_server_t *s = h->data;
    if (s->stopping) {
        tm_log(TM_LOG_INFO, "loop", "msg=\"already stopping\" signal=%d in_flight=%zu", signum,
               s->in_flight);
        return;
    }
    s->stopping = 1;
    s->stop_started_ns = tm_now_ns();
    tm_ingest_set_reading(s, 0);
    tm_log(TM_LOG_INFO, "loop", "msg=\"stopping: input closed, finishing documents in flight\" "
           "signal=%s in_flight=%zu grace_ms=%u",
           signum == SIGTERM ? "SIGTERM" : "SIGINT", s->in_flight, s->cfg->shutdown_grace_ms);
    uv_timer_start(&s->grace, tm__on_grace_expired, s->cfg->shutdown_grace_ms, 0);
    tm__maybe_finish_stop(s);
}

static void tm__on_hup(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    tm_log(TM_LOG_WARN, "loop",
           "msg=\"SIGHUP ignored: this build has no hot reload; restart to apply config changes\"");
}

/* ---- start-up ---- */

int tm_server_bind(tm_server_t *s, int type, const char *name, const char *endpoint, int hwm,
                   void **out, tm_err_t *err)
{
    void *sock = zmq_socket(s->zctx, type);
    if (sock == NULL)
        return tm_err_set(err, TM_EFATAL, "socket_failed", "cannot create the %s socket: %s", name,
                          zmq_strerror(errno));
    int linger = 2000; /* let results already queued reach subscribers at exit */
    int maxmsg = -1;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (type == ZMQ_ROUTER || type == ZMQ_PULL) {
        zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
        /* Replies (acks) to one peer may queue well beyond its window. */
        int sndhwm = 100000;
        zmq_setsockopt(sock, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
        /* Messages far beyond max_doc_bytes cost memory before we can reject
         * them; ZeroMQ drops the peer for those instead. */
        int64_t cap = (int64_t)s->cfg->max_doc_bytes * 4 + 65536;
        zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &cap, sizeof cap);
    } else {
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    }
    if (zmq_bind(sock, endpoint) != 0) {
        int e = errno;
        zmq_close(sock);
        return tm_err_set(err, TM_EFATAL, "bind_failed", "cannot bind the %s socket to %s: %s",
                          name, endpoint, zmq_strerror(e));
    }
    char last[512] = "";
    size_t len = sizeof last;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, last, &len);
    tm_log(TM_LOG_INFO, "loop", "msg=\"socket bound\" socket=%s endpoint=%s", name, last);
    *out = sock;
    return TM_OK;
}

static int tm__write_endpoints(tm_server_t *s, const char *path, tm_err_t *err)
{
    struct {
        const char *name;
        void *sock;
    } socks[] = {{"ingest", s->s_ingest},
                 {"push", s->s_push},
                 {"publish", s->s_publish},
                 {"deliver", s->s_deliver}};
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
        char last[512] = "";
        size_t len = sizeof last;
        if (socks[i].sock != NULL)
            zmq_getsockopt(socks[i].sock, ZMQ_LAST_ENDPOINT, last, &len);
        cJSON_AddStringToObject(o, socks[i].name, last);
    }
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    /* Write a temporary file and rename it, so a reader never sees half. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int ok = f != NULL && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    free(text);
    if (!ok || rename(tmp, path) != 0)
        return tm_err_set(err, TM_EIO, "endpoints_file", "cannot write endpoints file %s: %s",
                          path, strerror(errno));
    return TM_OK;
}

static void tm__register_metrics(tm_server_t *s)
{
    tm_metrics_t *m = s->metrics;
    s->m.received_ingest = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_messages_received_total",
                                               "Messages read from an input socket.",
                                               "socket=\"ingest\"", NULL, 0);
    s->m.received_push = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_messages_received_total",
                                             "Messages read from an input socket.",
                                             "socket=\"push\"", NULL, 0);
    s->m.accepted = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_documents_accepted_total",
                                        "Documents acknowledged as accepted on ingest.", NULL, NULL, 0);
    s->m.results = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_results_total",
                                       "Results handed to the outputs.", NULL, NULL, 0);
    s->m.errors_out = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_error_records_total",
                                          "Error records published on the error topic.", NULL,
                                          NULL, 0);
    s->m.dropped_routes = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_results_dropped_total",
                                              "Results a stage asked not to publish.", NULL, NULL, 0);
    s->m.acks_dropped = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_replies_dropped_total",
                                            "Ingest replies that could not be sent.", NULL, NULL, 0);
    s->m.in_flight = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_in_flight",
                                         "Documents accepted and not yet handed to the outputs.",
                                         NULL, NULL, 0);
    s->m.paused = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_input_paused",
                                      "1 while input is not read (in-flight bound reached).", NULL,
                                      NULL, 0);
    s->m.backlog = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_deliver_backlog",
                                       "Results waiting for a PUSH consumer.", NULL, NULL, 0);
}

int tm_server_new(tm_config_t *cfg, const char *endpoints_file, tm_server_t **out, tm_err_t *err)
{
    *out = NULL;
    tm_server_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        tm_config_free(&cfg);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    }
    s->cfg = cfg;
    pthread_mutex_init(&s->q_lock, NULL);
    s->limits.max_doc_bytes = cfg->max_doc_bytes;
    s->limits.max_meta_depth = cfg->max_meta_depth;
    int rc = TM_OK;
    s->metrics = tm_metrics_new();
    s->ids = tm_idset_new();
    if (s->metrics == NULL || s->ids == NULL) {
        rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
        goto fail;
    }
    tm__register_metrics(s);

    tm_pipeline_opts_t popts = {
        .plugin_dir = cfg->plugin_dir,
        .data_dir = cfg->data_dir,
        .state_dir = cfg->state_dir[0] != '\0' ? cfg->state_dir : NULL,
        .workers = cfg->workers,
        .mode = TM_HOST_DAEMON,
        .max_in_flight = cfg->max_in_flight,
        .metrics = s->metrics,
    };
    if ((rc = tm_pipeline_new(&popts, cfg->pipeline, &s->pipeline, err)) != TM_OK)
        goto fail;
    if ((rc = tm_pool_new(cfg->workers, &s->pool, err)) != TM_OK)
        goto fail;
    s->jobctx.pool = s->pool;
    s->jobctx.limits = s->limits;
    s->jobctx.inflight = s->ids;
    s->jobctx.sink.accepted = tm__sink_accepted;
    s->jobctx.sink.finished = tm__sink_finished;
    s->jobctx.sink.ctx = s;
    /* Ids for documents sent without one: unique per daemon start. */
    snprintf(s->jobctx.id_prefix, sizeof s->jobctx.id_prefix, "tm-%lx-%x",
             (unsigned long)time(NULL), (unsigned)getpid());

    if (uv_loop_init(&s->loop) != 0) {
        rc = tm_err_set(err, TM_EFATAL, "loop_failed", "cannot initialise the event loop");
        goto fail;
    }
    s->loop_ready = 1;
    s->zctx = zmq_ctx_new();
    if (s->zctx == NULL || tm_zloop_init(&s->zl, &s->loop) != 0) {
        rc = tm_err_set(err, TM_EFATAL, "loop_failed", "cannot create the ZeroMQ context");
        goto fail;
    }
    uv_async_init(&s->loop, &s->wake, tm__on_wake);
    s->wake.data = s;
    uv_timer_init(&s->loop, &s->grace);
    s->grace.data = s;
    uv_signal_init(&s->loop, &s->sig_term);
    uv_signal_init(&s->loop, &s->sig_int);
    uv_signal_init(&s->loop, &s->sig_hup);
    s->sig_term.data = s->sig_int.data = s->sig_hup.data = s;
    uv_signal_start(&s->sig_term, tm__on_stop_signal, SIGTERM);
    uv_signal_start(&s->sig_int, tm__on_stop_signal, SIGINT);
    uv_signal_start(&s->sig_hup, tm__on_hup, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    s->handles_ready = 1;

    /* Outputs before inputs: nothing is accepted before it can leave. */
    if ((rc = tm_publish_open(s, err)) != TM_OK || (rc = tm_ingest_open(s, err)) != TM_OK)
        goto fail;
    if (s->s_ingest == NULL && s->s_push == NULL)
        tm_log(TM_LOG_WARN, "loop", "msg=\"both input sockets are off; nothing will arrive\"");
    if (endpoints_file != NULL && (rc = tm__write_endpoints(s, endpoints_file, err)) != TM_OK)
        goto fail;
    *out = s;
    return TM_OK;
fail:
    tm_server_destroy(&s);
    return rc;
}

int tm_server_run(tm_server_t *s)
{
    tm_log(TM_LOG_INFO, "loop", "msg=\"ready\" version=%s workers=%u stages=%zu max_in_flight=%zu",
           PACKAGE_VERSION, tm_pool_size(s->pool), s->pipeline->n, s->cfg->max_in_flight);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    /* Non-zero when the grace period ran out with documents unpublished, so
     * that a supervisor notices the loss. */
    return s->in_flight > 0 ? 1 : 0;
}

void tm_server_destroy(tm_server_t **sp)
{
    tm_server_t *s = *sp;
    if (s == NULL)
        return;
    if (s->handles_ready) {
        tm__close_loop_handles(s);
        uv_run(&s->loop, UV_RUN_DEFAULT); /* let the close callbacks run */
    }
    /* Workers finish what they hold (after a grace timeout) into the queue. */
    tm_pool_destroy(&s->pool);
    size_t lost = 0;
    for (tm_job_t *j = s->done_head; j != NULL;) {
        tm_job_t *next = (tm_job_t *)j->task.next;
        tm_job_free(&j);
        lost++;
        j = next;
    }
    s->done_head = s->done_tail = NULL;
    s->ack_head = s->ack_tail = NULL;
    lost += tm_publish_discard_backlog(s);
    if (lost > 0)
        tm_log(TM_LOG_WARN, "loop", "msg=\"documents not published at exit\" count=%zu", lost);
    void **socks[] = {&s->s_ingest, &s->s_push, &s->s_publish, &s->s_deliver};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
        if (*socks[i] != NULL)
            zmq_close(*socks[i]);
        *socks[i] = NULL;
    }
    if (s->zctx != NULL)
        zmq_ctx_term(s->zctx);
    if (s->loop_ready && uv_loop_close(&s->loop) != 0)
        tm_log(TM_LOG_WARN, "loop", "msg=\"event loop closed with handles still open\"");
    tm_pipeline_unref(&s->pipeline);
    tm_idset_destroy(&s->ids);
    tm_metrics_destroy(&s->metrics);
    tm_config_free(&s->cfg);
    pthread_mutex_destroy(&s->q_lock);
    free(s);
    *sp = NULL;
}
