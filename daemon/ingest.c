/*
 * ingest.c - the input sockets: ROUTER "ingest" (acknowledged) and PULL
 * "push" (fire-and-forget).
 *
 * The loop thread only checks framing and size, copies the message into a
 * job and hands it to the workers; parsing and validation run there, and the
 * ack comes back through the worker-to-loop queue.  At the in-flight bound
 * we stop reading, so ZeroMQ's high-water marks push back on producers.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "codec.h"
#include "log.h"
#include "server.h"

#define TM_INGEST_BATCH 128 /* messages per service call */
#define TM_MAX_PARTS 4      /* frames we keep; more are counted and dropped */

static tm_ratelimit_t tm__reply_rl = TM_RATELIMIT_INIT(10, 20);

void tm_ingest_reply(tm_server_t *s, const tm_job_t *job, const char *body, size_t len)
{
    if (s->s_ingest == NULL)
        return;
    tm_zwatch_touch(&s->w_ingest);
    int rc = zmq_send(s->s_ingest, job->route_id, job->route_id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0 && job->req_delimiter)
        rc = zmq_send(s->s_ingest, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0)
        rc = zmq_send(s->s_ingest, body, len, ZMQ_DONTWAIT);
    if (rc < 0) {
        /* The peer is gone (EHOSTUNREACH) or not reading its acks (EAGAIN
         * at its high-water mark): the document itself is unaffected. */
        tm_metric_add(s->m.acks_dropped, 1);
        tm_log_limited(&tm__reply_rl, TM_LOG_DEBUG, "ingest",
                       "msg=\"reply dropped\" reason=\"%s\"", zmq_strerror(errno));
    }
}

/* Reject on the loop thread, before a job exists (framing and size). */
static void tm__reject_frames(tm_server_t *s, int origin, const zmq_msg_t *rid, int delim,
                              const char *code, const char *fmt, ...) TM_PRINTF(6, 7);
static void tm__reject_frames(tm_server_t *s, int origin, const zmq_msg_t *rid, int delim,
                              const char *code, const char *fmt, ...)
{
    tm_err_t err;
    va_list ap;
    snprintf(err.code, sizeof err.code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof err.message, fmt, ap);
    va_end(ap);
    tm_server_note_reject(s, origin, NULL, &err);
    if (origin == TM_ORIGIN_PUSH) {
        tm_publish_error(s, NULL, &err);
        return;
    }
    size_t len = 0;
    char *body = tm_error_encode(NULL, "rejected", &err, 0, &len);
    if (body == NULL)
        return;
    tm_job_t fake;
    fake.route_id_len = zmq_msg_size((zmq_msg_t *)rid);
    if (fake.route_id_len > sizeof fake.route_id)
        fake.route_id_len = sizeof fake.route_id;
    memcpy(fake.route_id, zmq_msg_data((zmq_msg_t *)rid), fake.route_id_len);
    fake.req_delimiter = delim;
    tm_ingest_reply(s, &fake, body, len);
    free(body);
}

static void tm__submit(tm_server_t *s, int origin, const zmq_msg_t *rid, int delim,
                       zmq_msg_t *body)
{
    size_t len = zmq_msg_size(body);
    if (len > s->limits.max_doc_bytes) {
        tm__reject_frames(s, origin, rid, delim, TM_PROTO_E_TOO_LARGE,
                          "document is %zu bytes, more than max_doc_bytes (%zu)", len,
                          s->limits.max_doc_bytes);
        return;
    }
    if (len == 0) {
        tm__reject_frames(s, origin, rid, delim, TM_PROTO_E_EMPTY_FRAME,
                          "the document frame is empty");
        return;
    }
    tm_job_t *job = tm_job_new(&s->jobctx, s->pipeline, zmq_msg_data(body), len);
    if (job == NULL) {
        tm__reject_frames(s, origin, rid, delim, TM_PROTO_E_INTERNAL,
                          "out of memory while accepting the document");
        return;
    }
    job->origin = origin;
    if (rid != NULL) {
        job->route_id_len = zmq_msg_size((zmq_msg_t *)rid);
        if (job->route_id_len > sizeof job->route_id)
            job->route_id_len = sizeof job->route_id;
        memcpy(job->route_id, zmq_msg_data((zmq_msg_t *)rid), job->route_id_len);
    }
    job->req_delimiter = delim;
    s->in_flight++;
    s->mem_in_flight += job->mem_bytes;
    /* Queued with the rest of this round's batch: one lock and one wake-up
     * per idle worker, instead of one per message. */
    job->task.next = NULL;
    if (s->batch_tail != NULL)
        s->batch_tail->next = &job->task;
    else
        s->batch_head = &job->task;
    s->batch_tail = &job->task;
    s->batch_len++;
}

static void tm__flush_batch(tm_server_t *s)
{
    tm_pool_submit_list(s->pool, s->batch_head, s->batch_tail, s->batch_len);
    s->batch_head = s->batch_tail = NULL;
    s->batch_len = 0;
}

/* Read one whole multipart message: the first TM_MAX_PARTS frames into
 * parts, the rest counted in *extra.  Returns the number kept, 0 when no
 * message is waiting. */
static int tm__recv_message(void *sock, zmq_msg_t *parts, size_t *extra)
{
    int n = 0;
    *extra = 0;
    zmq_msg_init(&parts[0]);
    if (zmq_msg_recv(&parts[0], sock, ZMQ_DONTWAIT) < 0) {
        if (errno != EAGAIN)
            tm_log(TM_LOG_WARN, "ingest", "msg=\"receive failed\" error=\"%s\"",
                   zmq_strerror(errno));
        zmq_msg_close(&parts[0]);
        return 0;
    }
    n = 1;
    /* ZeroMQ delivers multipart messages atomically: the remaining frames
     * are already here. */
    while (zmq_msg_more(&parts[n - 1])) {
        if (n < TM_MAX_PARTS) {
            zmq_msg_init(&parts[n]);
            if (zmq_msg_recv(&parts[n], sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&parts[n]);
                break;
            }
            n++;
        } else {
            zmq_msg_t skip;
            zmq_msg_init(&skip);
            int rc = zmq_msg_recv(&skip, sock, ZMQ_DONTWAIT);
            int more = rc >= 0 && zmq_msg_more(&skip);
            zmq_msg_close(&skip);
            (*extra)++;
            if (!more)
                break;
        }
    }
    return n;
}

static void tm__handle_ingest(tm_server_t *s, zmq_msg_t *parts, int n, size_t extra)
{
    tm_metric_add(s->m.received_ingest, 1);
    if (n < 2)
        return; /* ROUTER always prefixes the peer identity; nothing to answer */
    const zmq_msg_t *rid = &parts[0];
    size_t frames = (size_t)(n - 1) + extra; /* after the identity */
    int delim = 0;
    int body = 1;
    if (zmq_msg_size(&parts[1]) == 0 && frames >= 2) {
        /* A REQ socket (or a DEALER emulating one): empty delimiter frame. */
        delim = 1;
        body = 2;
        frames--;
    }
    if (frames > 1) {
        tm__reject_frames(s, TM_ORIGIN_INGEST, rid, delim, TM_PROTO_E_BAD_FRAMES,
                          "expected one frame holding one document, got %zu frames", frames);
        return;
    }
    tm__submit(s, TM_ORIGIN_INGEST, rid, delim, &parts[body]);
}

static void tm__handle_push(tm_server_t *s, zmq_msg_t *parts, int n, size_t extra)
{
    tm_metric_add(s->m.received_push, 1);
    size_t frames = (size_t)n + extra;
    if (frames > 1) {
        tm__reject_frames(s, TM_ORIGIN_PUSH, NULL, 0, TM_PROTO_E_BAD_FRAMES,
                          "expected one frame holding one document, got %zu frames", frames);
        return;
    }
    tm__submit(s, TM_ORIGIN_PUSH, NULL, 0, &parts[0]);
}

static void tm__on_input(tm_zwatch_t *w, int events)
{
    tm_server_t *s = w->data;
    int is_ingest = w == &s->w_ingest;
    (void)events;
    for (int i = 0; i < TM_INGEST_BATCH && !s->paused && !s->stopping; i++) {
        zmq_msg_t parts[TM_MAX_PARTS];
        size_t extra = 0;
        int n = tm__recv_message(w->sock, parts, &extra);
        if (n == 0)
            break;
        if (is_ingest)
            tm__handle_ingest(s, parts, n, extra);
        else
            tm__handle_push(s, parts, n, extra);
        for (int k = 0; k < n; k++)
            zmq_msg_close(&parts[k]);
        tm_server_update_flow(s);
    }
    tm__flush_batch(s);
}

void tm_ingest_set_reading(tm_server_t *s, int reading)
{
    if (s->s_ingest != NULL)
        tm_zwatch_set_interest(&s->w_ingest, reading ? ZMQ_POLLIN : 0);
    if (s->s_push != NULL)
        tm_zwatch_set_interest(&s->w_push, reading ? ZMQ_POLLIN : 0);
}

int tm_ingest_open(tm_server_t *s, tm_err_t *err)
{
    const tm_config_t *c = s->cfg;
    int rc;
    if (c->ingest[0] != '\0') {
        rc = tm_server_bind(s, ZMQ_ROUTER, "ingest", c->ingest, c->ingest_hwm, &s->s_ingest, err);
        if (rc != TM_OK)
            return rc;
        int one = 1;
        /* Report unroutable replies instead of dropping them silently. */
        zmq_setsockopt(s->s_ingest, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
        if (tm_zwatch_start(&s->zl, &s->w_ingest, s->s_ingest, ZMQ_POLLIN, tm__on_input, s) != 0)
            return tm_err_set(err, TM_EFATAL, "loop_failed", "cannot watch the ingest socket");
    }
    if (c->push[0] != '\0') {
        rc = tm_server_bind(s, ZMQ_PULL, "push", c->push, c->ingest_hwm, &s->s_push, err);
        if (rc != TM_OK)
            return rc;
        if (tm_zwatch_start(&s->zl, &s->w_push, s->s_push, ZMQ_POLLIN, tm__on_input, s) != 0)
            return tm_err_set(err, TM_EFATAL, "loop_failed", "cannot watch the push socket");
    }
    return TM_OK;
}
