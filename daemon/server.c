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
#include "crash.h"
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
        tm_ops_note_done(s);
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

static const char *const tm__pause_names[] = {"none", "in_flight", "output", "memory", "replay"};

void tm_server_update_flow(tm_server_t *s)
{
    if (s->replaying && !s->stopping)
        tm_server_replay_pump(s);
    int reason = TM_PAUSE_NONE;
    if (s->replaying)
        reason = TM_PAUSE_REPLAY;
    else if (s->in_flight >= s->cfg->max_in_flight)
        reason = s->backlog_len * 2 >= s->in_flight ? TM_PAUSE_OUTPUT : TM_PAUSE_IN_FLIGHT;
    else if ((s->mem_budget > 0 && s->mem_in_flight >= s->mem_budget) ||
             (s->rss_over && s->in_flight > 0))
        reason = TM_PAUSE_MEMORY;
    int full = reason != TM_PAUSE_NONE;
    if (!s->stopping && (full != s->paused || reason != s->pause_reason)) {
        if (full != s->paused)
            tm_ingest_set_reading(s, !full);
        s->paused = full;
        if (reason != s->pause_reason) {
            tm_metric_set(s->m.pause_reason[s->pause_reason], 0);
            tm_metric_set(s->m.pause_reason[reason], 1);
        }
        s->pause_reason = reason;
        tm_log(TM_LOG_DEBUG, "loop", "msg=\"%s\" reason=%s in_flight=%zu bytes=%zu",
               full ? "input paused" : "input resumed", tm__pause_names[reason], s->in_flight,
               s->mem_in_flight);
    }
    tm_metric_set(s->m.in_flight, (double)s->in_flight);
    tm_metric_set(s->m.paused, s->paused ? 1 : 0);
    tm_metric_set(s->m.mem_in_flight, (double)s->mem_in_flight);
    if (s->stopping)
        tm__maybe_finish_stop(s);
}

void tm_server_job_gone(tm_server_t *s, const tm_job_t *job)
{
    s->mem_in_flight -= job->mem_bytes <= s->mem_in_flight ? job->mem_bytes : s->mem_in_flight;
}

/* ---- start-up replay of the spool ---- */

static void tm__replay_dead(tm_server_t *s, const tm_spool_entry_t *e)
{
    cJSON *doc = cJSON_ParseWithLength(e->raw, e->raw_len);
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(doc, "id");
    tm_err_t err;
    tm_err_set(&err, TM_EDOC, TM_PROTO_E_POISON,
               "the daemon crashed %u times while this document was in stage \"%s\" (last "
               "signal %d); not run again",
               e->attempts, e->stage, e->last_signal);
    size_t len = 0;
    char *rec = tm_dead_encode(cJSON_IsString(jid) ? jid->valuestring : NULL, e->stage, "crashed",
                               &err, e->attempts, doc, &len);
    char qid[96];
    tm_log(TM_LOG_ERROR, "spool",
           "msg=\"poison document: dead-lettered instead of replayed\" key=%llu id=%s stage=%s "
           "crashes=%u signal=%d",
           (unsigned long long)e->key,
           tm_log_quote(qid, sizeof qid, cJSON_IsString(jid) ? jid->valuestring : "?"), e->stage,
           e->attempts, e->last_signal);
    if (rec != NULL)
        tm_publish_dead(s, e->key, rec, len);
    else
        tm_spool_retire(s->spool, e->key);
    free(rec);
    cJSON_Delete(doc);
    s->replay_dead++;
}

void tm_server_replay_pump(tm_server_t *s)
{
    while (s->replaying) {
        if (s->replay_suspect) {
            if (s->in_flight > s->backlog_len)
                return; /* a suspect runs alone (results waiting for deliver are done) */
            s->replay_suspect = 0;
        }
        if (s->in_flight >= s->cfg->max_in_flight ||
            (s->mem_budget > 0 && s->mem_in_flight >= s->mem_budget))
            return;
        tm_spool_entry_t e;
        int rc = tm_spool_replay_next(s->spool, s->replay_after, &e);
        if (rc <= 0) {
            s->replaying = 0;
            tm_log(TM_LOG_INFO, "spool", "msg=\"replay done\" replayed=%zu dead_lettered=%zu",
                   s->replayed, s->replay_dead);
            tm_ops_notify(s, NULL);
            break;
        }
        s->replay_after = e.key;
        if (e.attempts >= s->cfg->poison_max_crashes) {
            tm__replay_dead(s, &e);
            free(e.raw);
            continue;
        }
        tm_job_t *job = tm_job_new(&s->jobctx, s->pipeline, e.raw, e.raw_len);
        free(e.raw);
        if (job == NULL) {
            tm_log(TM_LOG_ERROR, "spool", "msg=\"out of memory replaying; the rest waits for the "
                   "next start\"");
            s->replaying = 0;
            break;
        }
        job->origin = TM_ORIGIN_REPLAY;
        job->redelivered = 1;
        job->spool_key = e.key;
        job->suspect = e.attempts > 0;
        s->in_flight++;
        s->mem_in_flight += job->mem_bytes;
        s->replayed++;
        tm_metric_add(s->m.redelivered, 1);
        tm_pool_submit(s->pool, &job->task);
        if (e.attempts > 0) {
            tm_log(TM_LOG_WARN, "spool",
                   "msg=\"replaying a document that was in a stage at a crash, alone\" key=%llu "
                   "crashes=%u stage=%s",
                   (unsigned long long)e.key, e.attempts, e.stage);
            s->replay_suspect = 1;
            return;
        }
    }
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
    if (s->s_publish != NULL)
        tm_zwatch_stop(&s->w_publish);
    tm_zloop_close(&s->zl);
    uv_timer_stop(&s->grace);
    uv_close((uv_handle_t *)&s->grace, NULL);
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->tick, NULL);
    uv_close((uv_handle_t *)&s->reload_done, NULL);
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
    if (s->in_flight > 0 || s->closed || s->reloading)
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
    if (s->replaying) {
        s->replaying = 0; /* the rest stays in the spool for the next start */
        tm_log(TM_LOG_INFO, "spool", "msg=\"replay interrupted by the stop; the rest is replayed "
               "at the next start\"");
    }
    tm_ops_notify(s, "STOPPING=1");
    tm_log(TM_LOG_INFO, "loop", "msg=\"stopping: input closed, finishing documents in flight\" "
           "signal=%s in_flight=%zu grace_ms=%u",
           signum == SIGTERM ? "SIGTERM" : "SIGINT", s->in_flight, s->cfg->shutdown_grace_ms);
    uv_timer_start(&s->grace, tm__on_grace_expired, s->cfg->shutdown_grace_ms, 0);
    tm__maybe_finish_stop(s);
}

static void tm__on_hup(uv_signal_t *h, int signum)
{
    (void)signum;
    tm_control_on_hup(h->data);
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
    if (s->curve_secret[0] != '\0' && tm_auth_curve_server(sock, s->curve_secret) != 0) {
        int e = errno;
        zmq_close(sock);
        return tm_err_set(err, TM_EFATAL, "socket_failed",
                          "cannot make the %s socket a CURVE server: %s (is libzmq built with "
                          "libsodium?)",
                          name, zmq_strerror(e));
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
    char http[64] = "";
    if (s->http != NULL)
        snprintf(http, sizeof http, "%.*s:%u", (int)strcspn(s->cfg->http, ":"), s->cfg->http,
                 s->http_port);
    cJSON_AddStringToObject(o, "http", http);
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
    for (int r = 0; r < 5; r++) {
        char labels[48];
        snprintf(labels, sizeof labels, "reason=\"%s\"", tm__pause_names[r]);
        s->m.pause_reason[r] = tm_metrics_register(
            m, TM_METRIC_GAUGE, "textmill_input_paused_reason",
            "1 for the reason input is paused now (none = reading).", labels, NULL, 0);
    }
    tm_metric_set(s->m.pause_reason[0], 1);
    s->m.pub_dropped = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_publish_dropped_total",
                                           "Messages on the PUB socket that at least one slow "
                                           "subscriber did not get (its high-water mark was "
                                           "reached).",
                                           NULL, NULL, 0);
    s->m.subscriptions = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_publish_subscriptions",
                                             "Topic subscriptions of connected PUB subscribers.",
                                             NULL, NULL, 0);
    s->m.dead = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_dead_letters_total",
                                    "Documents sent to the dead-letter output.", NULL, NULL, 0);
    s->m.redelivered = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_redelivered_total",
                                           "Documents replayed from the spool after a restart.",
                                           NULL, NULL, 0);
    s->m.reloads_ok = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_reloads_total",
                                          "Config reloads (SIGHUP), by result.",
                                          "result=\"success\"", NULL, 0);
    s->m.reloads_failed = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_reloads_total",
                                              "Config reloads (SIGHUP), by result.",
                                              "result=\"failure\"", NULL, 0);
    s->m.generation = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_pipeline_generation",
                                          "Generation of the pipeline taking new documents.",
                                          NULL, NULL, 0);
    s->m.loop_util = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_loop_utilisation",
                                         "Share of the last second the event loop was busy "
                                         "(0..1).",
                                         NULL, NULL, 0);
    s->m.rss = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_resident_memory_bytes",
                                   "Resident set size of the daemon.", NULL, NULL, 0);
    s->m.mem_in_flight = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_in_flight_bytes",
                                             "Bytes of documents and results held in flight.",
                                             NULL, NULL, 0);
    s->m.ready = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_ready",
                                     "1 when /readyz answers 200.", NULL, NULL, 0);
    char labels[160];
    snprintf(labels, sizeof labels, "version=\"%s\",abi=\"%d.%d\"", PACKAGE_VERSION,
             TM_ABI_MAJOR, TM_ABI_MINOR);
    s->m.build = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_build_info",
                                     "Version of textmilld and of its stage ABI.", labels, NULL, 0);
    tm_metric_set(s->m.build, 1);
}

void tm_server_pipeline_opts(const tm_server_t *s, const tm_config_t *cfg, tm_pipeline_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->plugin_dir = cfg->plugin_dir;
    o->data_dir = cfg->data_dir;
    o->state_dir = cfg->state_dir[0] != '\0' ? cfg->state_dir : NULL;
    o->workers = s->cfg->workers; /* the pool's size; not reloadable */
    o->mode = TM_HOST_DAEMON;
    o->max_in_flight = cfg->max_in_flight;
    o->metrics = s->metrics;
    o->dead_letter = cfg->stage_dead_letter;
    o->max_attempts = cfg->stage_max_attempts;
}

/* With memory_limit_mb, size the ZeroMQ queues so that they fit: a quarter
 * of the limit for the input queues, an eighth per output peer. */
static void tm__size_for_memory(tm_server_t *s)
{
    tm_config_t *c = s->cfg;
    if (c->memory_limit_mb == 0)
        return;
    size_t limit = c->memory_limit_mb << 20;
    s->rss_limit = limit;
    s->mem_budget = limit / 2;
    size_t in = limit / 4 / c->max_doc_bytes, out = limit / 8 / (2 * c->max_doc_bytes);
    int in_hwm = in < 16 ? 16 : in > (size_t)c->ingest_hwm ? c->ingest_hwm : (int)in;
    int pub_hwm = out < 16 ? 16 : out > (size_t)c->publish_hwm ? c->publish_hwm : (int)out;
    int del_hwm = out < 16 ? 16 : out > (size_t)c->deliver_hwm ? c->deliver_hwm : (int)out;
    tm_log(TM_LOG_INFO, "loop",
           "msg=\"memory limit: sizing queues to fit\" memory_limit_mb=%zu in_flight_bytes=%zu "
           "ingest_hwm=%d publish_hwm=%d deliver_hwm=%d",
           c->memory_limit_mb, s->mem_budget, in_hwm, pub_hwm, del_hwm);
    c->ingest_hwm = in_hwm;
    c->publish_hwm = pub_hwm;
    c->deliver_hwm = del_hwm;
}

int tm_server_new(tm_config_t *cfg, const char *config_path, const cJSON *overrides,
                  const char *endpoints_file, tm_server_t **out, tm_err_t *err)
{
    *out = NULL;
    tm_server_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        tm_config_free(&cfg);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    }
    s->cfg = cfg;
    snprintf(s->config_path, sizeof s->config_path, "%s", config_path != NULL ? config_path : "");
    s->overrides = overrides != NULL ? cJSON_Duplicate(overrides, 1) : NULL;
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_mutex_init(&s->ctl_lock, NULL);
    pthread_cond_init(&s->ctl_cond, NULL);
    pthread_mutex_init(&s->health_lock, NULL);
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
    tm__size_for_memory(s);

    tm_pipeline_opts_t popts;
    tm_server_pipeline_opts(s, cfg, &popts);
    if ((rc = tm_pipeline_new(&popts, cfg->pipeline, &s->pipeline, err)) != TM_OK)
        goto fail;
    tm_metric_set(s->m.generation, (double)s->pipeline->generation);
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

    if (cfg->state_dir[0] != '\0') {
        tm_spool_opts_t so = {
            .state_dir = cfg->state_dir, .enabled = cfg->spool, .fsync = cfg->spool_fsync,
            .fsync_interval_ms = cfg->spool_fsync_interval_ms, .batch_max = cfg->spool_batch_max,
            .map_bytes = cfg->spool_max_mb << 20, .retire_ms = cfg->spool_retire_ms,
            .max_crashes = cfg->poison_max_crashes, .workers = cfg->workers,
            .metrics = s->metrics};
        if ((rc = tm_spool_open(&so, tm_job_spooled, s, &s->spool, err)) != TM_OK)
            goto fail;
        if (tm_spool_enabled(s->spool))
            s->jobctx.spool = s->spool;
    } else if (cfg->spool) {
        tm_log(TM_LOG_WARN, "loop", "msg=\"no state_dir: the spool is off, documents in flight "
               "are lost if the process dies\"");
    }

    if (uv_loop_init(&s->loop) != 0) {
        rc = tm_err_set(err, TM_EFATAL, "loop_failed", "cannot initialise the event loop");
        goto fail;
    }
    s->loop_ready = 1;
    uv_loop_configure(&s->loop, UV_METRICS_IDLE_TIME);
    s->zctx = zmq_ctx_new();
    if (s->zctx == NULL || tm_zloop_init(&s->zl, &s->loop) != 0) {
        rc = tm_err_set(err, TM_EFATAL, "loop_failed", "cannot create the ZeroMQ context");
        goto fail;
    }
    uv_async_init(&s->loop, &s->wake, tm__on_wake);
    s->wake.data = s;
    uv_timer_init(&s->loop, &s->grace);
    s->grace.data = s;
    uv_timer_init(&s->loop, &s->tick);
    s->tick.data = s;
    uv_signal_init(&s->loop, &s->sig_term);
    uv_signal_init(&s->loop, &s->sig_int);
    uv_signal_init(&s->loop, &s->sig_hup);
    s->sig_term.data = s->sig_int.data = s->sig_hup.data = s;
    uv_signal_start(&s->sig_term, tm__on_stop_signal, SIGTERM);
    uv_signal_start(&s->sig_int, tm__on_stop_signal, SIGINT);
    uv_signal_start(&s->sig_hup, tm__on_hup, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    if ((rc = tm_control_start(s, err)) != TM_OK) /* inits reload_done */
        goto fail;
    s->handles_ready = 1;

    /* CurveZMQ: the ZAP handler must be up before the first socket binds. */
    if (cfg->curve_secret_key[0] != '\0') {
        char pub[41];
        if ((rc = tm_auth_load_cert(cfg->curve_secret_key, 1, pub, s->curve_secret, err)) !=
                TM_OK ||
            (rc = tm_auth_start(s->zctx, cfg->curve_allowed_keys, s->metrics, &s->auth, err)) !=
                TM_OK)
            goto fail;
        tm_log(TM_LOG_INFO, "auth", "msg=\"server key loaded\" public_key=%s", pub);
    }

    /* Outputs before inputs: nothing is accepted before it can leave. */
    if ((rc = tm_publish_open(s, err)) != TM_OK || (rc = tm_ingest_open(s, err)) != TM_OK)
        goto fail;
    if (s->s_ingest == NULL && s->s_push == NULL)
        tm_log(TM_LOG_WARN, "loop", "msg=\"both input sockets are off; nothing will arrive\"");
    if (cfg->http[0] != '\0' &&
        (rc = tm_http_start(cfg->http, tm_ops_http_handler, s, &s->http, &s->http_port, err)) !=
            TM_OK)
        goto fail;
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
    uint64_t depth = 0, bytes = 0;
    if (tm_spool_enabled(s->spool))
        tm_spool_depth(s->spool, &depth, &bytes);
    tm_log(TM_LOG_INFO, "loop",
           "msg=\"ready\" version=%s workers=%u stages=%zu max_in_flight=%zu spool=%s "
           "to_replay=%llu",
           PACKAGE_VERSION, tm_pool_size(s->pool), s->pipeline->n, s->cfg->max_in_flight,
           tm_spool_enabled(s->spool) ? "on" : "off", (unsigned long long)depth);
    if (depth > 0) {
        s->replaying = 1;
        tm_server_update_flow(s); /* pauses input and starts the replay */
    }
    tm_ops_start(s);
    tm_ops_notify(s, "READY=1");
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
    tm_http_stop(&s->http);
    if (s->handles_ready) {
        tm__close_loop_handles(s);
        uv_run(&s->loop, UV_RUN_DEFAULT); /* let the close callbacks run */
    }
    tm_control_stop(s);
    /* No new spool writes from here: queued ones fail back to the pool,
     * which rejects them; documents not finished stay in the spool. */
    tm_spool_stop(s->spool);
    /* Workers finish what they hold (after a grace timeout) into the queue. */
    tm_pool_destroy(&s->pool);
    size_t lost = 0;
    for (tm_job_t *j = s->done_head; j != NULL;) {
        tm_job_t *next = (tm_job_t *)j->task.next;
        if (j->outcome == TM_JOB_RESULT || j->accepted)
            lost++;
        tm_job_free(&j);
        j = next;
    }
    s->done_head = s->done_tail = NULL;
    s->ack_head = s->ack_tail = NULL;
    lost += tm_publish_discard_backlog(s);
    if (lost > 0)
        tm_log(TM_LOG_WARN, "loop", "msg=\"documents not published at exit\" count=%zu%s", lost,
               tm_spool_enabled(s->spool) ? " (kept in the spool: replayed at the next start)"
                                          : "");
    tm_spool_close(&s->spool);
    void **socks[] = {&s->s_ingest, &s->s_push, &s->s_publish, &s->s_deliver};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
        if (*socks[i] != NULL)
            zmq_close(*socks[i]);
        *socks[i] = NULL;
    }
    tm_auth_stop(&s->auth);
    if (s->zctx != NULL)
        zmq_ctx_term(s->zctx);
    if (s->loop_ready && uv_loop_close(&s->loop) != 0)
        tm_log(TM_LOG_WARN, "loop", "msg=\"event loop closed with handles still open\"");
    tm_pipeline_unref(&s->pipeline);
    tm_idset_destroy(&s->ids);
    tm_metrics_destroy(&s->metrics);
    tm_config_free(&s->cfg);
    tm_config_free(&s->reload_cfg);
    cJSON_Delete(s->overrides);
    pthread_mutex_destroy(&s->q_lock);
    pthread_mutex_destroy(&s->ctl_lock);
    pthread_cond_destroy(&s->ctl_cond);
    pthread_mutex_destroy(&s->health_lock);
    free(s);
    *sp = NULL;
}
