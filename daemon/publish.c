/*
 * publish.c - the output sockets: PUB "publish" (results by topic, and the
 * error topic) and the optional PUSH "deliver" (results load-balanced with
 * backpressure).
 *
 * PUB never blocks: a subscriber that falls behind its high-water mark loses
 * messages (that is PUB's contract).  The socket is an XPUB with
 * ZMQ_XPUB_NODROP, which turns "some subscriber is full" into EAGAIN: we
 * count the drop and send the message again in lossy mode, so the other
 * subscribers still get it and the slow one never stalls anything.  PUSH
 * blocks when no consumer can take more; results then wait in a backlog
 * that counts toward the in-flight bound, so a stuck consumer pauses intake
 * instead of growing memory.
 *
 * With the spool on, a document leaves the spool (tm_spool_retire) once its
 * result is handed to ZeroMQ: sent on deliver, or published when deliver is
 * off or not for this result; its error record or dead letter, likewise.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "server.h"

struct tm_backlog {
    tm_backlog_t *next;
    zmq_msg_t msg;
    uint64_t spool_key;
    size_t bytes;
};

static tm_ratelimit_t tm__pub_rl = TM_RATELIMIT_INIT(5, 10);

static void tm__free_buffer(void *data, void *hint)
{
    (void)hint;
    free(data);
}

static void tm__pub_send(tm_server_t *s, const char *topic, zmq_msg_t *body)
{
    if (s->s_publish == NULL)
        return;
    tm_zwatch_touch(&s->w_publish);
    size_t tl = strlen(topic);
    if (zmq_send(s->s_publish, topic, tl, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_send(body, s->s_publish, ZMQ_DONTWAIT) < 0)
            tm_log_limited(&tm__pub_rl, TM_LOG_WARN, "publish",
                           "msg=\"publish failed\" error=\"%s\"", zmq_strerror(errno));
        return;
    }
    if (errno != EAGAIN) {
        tm_log_limited(&tm__pub_rl, TM_LOG_WARN, "publish", "msg=\"publish failed\" error=\"%s\"",
                       zmq_strerror(errno));
        return;
    }
    /* A subscriber of this topic is at its high-water mark: it misses this
     * message; everybody else gets it, sent in lossy mode. */
    tm_metric_add(s->m.pub_dropped, 1);
    tm_log_limited(&tm__pub_rl, TM_LOG_WARN, "publish",
                   "msg=\"a slow subscriber is at publish_hwm and misses messages\" topic=%s",
                   topic);
    int off = 0, on = 1;
    zmq_setsockopt(s->s_publish, ZMQ_XPUB_NODROP, &off, sizeof off);
    if (zmq_send(s->s_publish, topic, tl, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_msg_send(body, s->s_publish, ZMQ_DONTWAIT);
    zmq_setsockopt(s->s_publish, ZMQ_XPUB_NODROP, &on, sizeof on);
}

/* XPUB hands us subscription messages (\x01topic, \x00topic): keep a count. */
static void tm__on_publish_readable(tm_zwatch_t *w, int events)
{
    tm_server_t *s = w->data;
    (void)events;
    for (int i = 0; i < 64; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s->s_publish, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        if (zmq_msg_size(&m) > 0) {
            const unsigned char *d = zmq_msg_data(&m);
            tm_metric_add(s->m.subscriptions, d[0] == 1 ? 1 : d[0] == 0 ? -1 : 0);
        }
        zmq_msg_close(&m);
    }
}

void tm_publish_dead(tm_server_t *s, uint64_t key, const char *record, size_t len)
{
    tm_metric_add(s->m.dead, 1);
    if (s->spool != NULL)
        tm_spool_dead(s->spool, key, record, len);
    char *copy = malloc(len);
    zmq_msg_t m;
    if (copy == NULL)
        return;
    memcpy(copy, record, len);
    if (zmq_msg_init_data(&m, copy, len, tm__free_buffer, NULL) != 0) {
        free(copy);
        return;
    }
    tm__pub_send(s, "dead", &m);
    zmq_msg_close(&m);
}

void tm_publish_error(tm_server_t *s, const char *id, const tm_err_t *err)
{
    size_t len = 0;
    char *body = tm_error_encode(id, "error", err, 0, &len);
    if (body == NULL)
        return;
    zmq_msg_t m;
    if (zmq_msg_init_data(&m, body, len, tm__free_buffer, NULL) != 0) {
        free(body);
        return;
    }
    tm__pub_send(s, "error", &m);
    zmq_msg_close(&m);
    tm_metric_add(s->m.errors_out, 1);
}

/* Try to hand msg to the PUSH output.  Returns 1 when sent. */
static int tm__deliver(tm_server_t *s, zmq_msg_t *msg)
{
    tm_zwatch_touch(&s->w_deliver);
    if (zmq_msg_send(msg, s->s_deliver, ZMQ_DONTWAIT) >= 0)
        return 1;
    if (errno != EAGAIN)
        tm_log_limited(&tm__pub_rl, TM_LOG_WARN, "publish", "msg=\"deliver failed\" error=\"%s\"",
                       zmq_strerror(errno));
    return 0;
}

static void tm__backlog_push(tm_server_t *s, zmq_msg_t *msg, uint64_t key)
{
    tm_backlog_t *b = malloc(sizeof *b);
    if (b == NULL) {
        tm_log(TM_LOG_ERROR, "publish", "msg=\"out of memory: result dropped from deliver\"");
        zmq_msg_close(msg);
        return;
    }
    zmq_msg_init(&b->msg);
    zmq_msg_move(&b->msg, msg);
    b->next = NULL;
    b->spool_key = key;
    b->bytes = zmq_msg_size(&b->msg);
    s->mem_in_flight += b->bytes;
    if (s->backlog_tail != NULL)
        s->backlog_tail->next = b;
    else
        s->backlog_head = b;
    s->backlog_tail = b;
    s->backlog_len++;
    s->in_flight++;
    tm_metric_set(s->m.backlog, (double)s->backlog_len);
    tm_zwatch_set_interest(&s->w_deliver, ZMQ_POLLOUT);
}

static void tm__on_deliver_writable(tm_zwatch_t *w, int events)
{
    tm_server_t *s = w->data;
    (void)events;
    while (s->backlog_head != NULL) {
        tm_backlog_t *b = s->backlog_head;
        if (!tm__deliver(s, &b->msg))
            break;
        s->backlog_head = b->next;
        if (s->backlog_head == NULL)
            s->backlog_tail = NULL;
        zmq_msg_close(&b->msg);
        tm_spool_retire(s->spool, b->spool_key);
        s->mem_in_flight -= b->bytes <= s->mem_in_flight ? b->bytes : s->mem_in_flight;
        free(b);
        s->backlog_len--;
        s->in_flight--;
        s->last_deliver_ns = tm_now_ns();
    }
    tm_metric_set(s->m.backlog, (double)s->backlog_len);
    if (s->backlog_head == NULL)
        tm_zwatch_set_interest(w, 0);
    tm_server_update_flow(s);
}

size_t tm_publish_discard_backlog(tm_server_t *s)
{
    size_t n = 0;
    while (s->backlog_head != NULL) {
        tm_backlog_t *b = s->backlog_head;
        s->backlog_head = b->next;
        zmq_msg_close(&b->msg);
        s->mem_in_flight -= b->bytes <= s->mem_in_flight ? b->bytes : s->mem_in_flight;
        free(b); /* its spool entry stays: replayed at the next start */
        n++;
    }
    s->backlog_tail = NULL;
    s->in_flight -= n;
    s->backlog_len = 0;
    return n;
}

static void tm__publish_result(tm_server_t *s, tm_job_t *job)
{
    if (job->route_flags & TM_ROUTE_DROP) {
        tm_metric_add(s->m.dropped_routes, 1);
        tm_spool_retire(s->spool, job->spool_key);
        return;
    }
    zmq_msg_t body;
    if (zmq_msg_init_data(&body, job->out, job->out_len, tm__free_buffer, NULL) != 0) {
        tm_log(TM_LOG_ERROR, "publish", "msg=\"cannot wrap result\" error=\"%s\"",
               zmq_strerror(errno));
        return;
    }
    job->out = NULL; /* ZeroMQ owns the buffer now, and frees it once sent */
    int deliver = s->s_deliver != NULL && !(job->route_flags & TM_ROUTE_PUBLISH_ONLY);
    if (deliver) {
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, &body); /* reference-counted, no byte copy */
        tm__pub_send(s, job->topic, &copy);
        zmq_msg_close(&copy);
        if (s->backlog_head != NULL || !tm__deliver(s, &body)) {
            tm__backlog_push(s, &body, job->spool_key); /* keep order behind older results */
        } else {
            tm_spool_retire(s->spool, job->spool_key);
            s->last_deliver_ns = tm_now_ns();
        }
    } else {
        tm__pub_send(s, job->topic, &body);
        tm_spool_retire(s->spool, job->spool_key);
    }
    zmq_msg_close(&body);
    tm_metric_add(s->m.results, 1);
}

void tm_publish_job(tm_server_t *s, tm_job_t *job)
{
    tm_server_job_gone(s, job);
    if (job->spool_failed) {
        /* Not stored, so not accepted: no ack was sent and no result goes
         * out; the client hears why. */
        /* Counted before the client hears of it: whoever reads /metrics
         * after the reply sees the rejection. */
        tm_server_note_reject(s, job->origin, job->id, &job->spool_err);
        if (job->origin == TM_ORIGIN_INGEST) {
            size_t len = 0;
            char *body = tm_error_encode(job->id, "rejected", &job->spool_err, 0, &len);
            if (body != NULL)
                tm_ingest_reply(s, job, body, len);
            free(body);
        } else {
            tm_publish_error(s, job->id, &job->spool_err);
        }
    } else if (job->outcome == TM_JOB_RESULT) {
        if (job->suspect)
            tm_spool_forget_suspect(s->spool, job->id);
        tm__publish_result(s, job);
    } else if (job->outcome == TM_JOB_DEAD) {
        tm_publish_dead(s, job->spool_key, job->out, job->out_len);
    } else if (job->origin == TM_ORIGIN_INGEST && !job->accepted) {
        tm_server_note_reject(s, job->origin, job->id, &job->err);
        size_t len = 0;
        char *body = tm_error_encode(job->id, "rejected", &job->err, 0, &len);
        if (body != NULL)
            tm_ingest_reply(s, job, body, len);
        free(body);
        tm_spool_retire(s->spool, job->spool_key);
    } else {
        /* A push document rejected, or an accepted one that failed later:
         * either way its error goes out on the error topic. */
        if (!job->accepted)
            tm_server_note_reject(s, job->origin, job->id, &job->err);
        else
            tm_log(TM_LOG_ERROR, "publish", "msg=\"accepted document failed\" code=%s",
                   job->err.code);
        tm_publish_error(s, job->id, &job->err);
        tm_spool_retire(s->spool, job->spool_key);
    }
    s->in_flight--;
    tm_job_free(&job);
}

int tm_publish_open(tm_server_t *s, tm_err_t *err)
{
    const tm_config_t *c = s->cfg;
    int rc;
    if (c->publish[0] != '\0') {
        rc = tm_server_bind(s, ZMQ_XPUB, "publish", c->publish, c->publish_hwm, &s->s_publish,
                            err);
        if (rc != TM_OK)
            return rc;
        int on = 1;
        zmq_setsockopt(s->s_publish, ZMQ_XPUB_NODROP, &on, sizeof on);
        if (tm_zwatch_start(&s->zl, &s->w_publish, s->s_publish, ZMQ_POLLIN,
                            tm__on_publish_readable, s) != 0)
            return tm_err_set(err, TM_EFATAL, "loop_failed", "cannot watch the publish socket");
    }
    if (c->deliver[0] != '\0') {
        rc = tm_server_bind(s, ZMQ_PUSH, "deliver", c->deliver, c->deliver_hwm, &s->s_deliver,
                            err);
        if (rc != TM_OK)
            return rc;
        if (tm_zwatch_start(&s->zl, &s->w_deliver, s->s_deliver, 0, tm__on_deliver_writable, s) !=
            0)
            return tm_err_set(err, TM_EFATAL, "loop_failed", "cannot watch the deliver socket");
    }
    return TM_OK;
}
