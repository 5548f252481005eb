/*
 * zloop.c - ZeroMQ sockets on a libuv loop (see zloop.h for the scheme).
 */
#include "autoconfig.h"

#include "zloop.h"

#include <zmq.h>

#include "log.h"

/* Batches per socket per service round: enough to drain bursts, small enough
 * that one busy socket cannot starve the others or the worker results. */
#define TM_ZLOOP_ROUNDS 16

int tm_zsock_events(void *sock)
{
    int ev = 0;
    size_t len = sizeof ev;
    if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &len) != 0)
        return 0;
    return ev;
}

/* What is both wanted and ready; reads ZMQ_EVENTS only when stale. */
static int tm__wanted_ready(tm_zwatch_t *w)
{
    if (!w->active || !w->stale)
        return 0;
    /* Read even when nothing is wanted (input paused): the FD stays
     * readable until the read consumes its signal, and uv_poll is
     * level-triggered, so an unconsumed signal would wake the loop again
     * and again until input resumes. */
    w->zl->event_reads++;
    int ready = tm_zsock_events(w->sock) & w->interest;
    if (ready == 0)
        w->stale = 0;
    return ready;
}

/* Returns 1 when the socket is still ready for something wanted. */
static int tm__service(tm_zwatch_t *w)
{
    for (int round = 0; round < TM_ZLOOP_ROUNDS; round++) {
        int ready = tm__wanted_ready(w);
        if (ready == 0)
            return 0;
        w->cb(w, ready);
        w->stale = 1;
    }
    return tm__wanted_ready(w) != 0;
}

static void tm__check_cb(uv_check_t *h)
{
    tm_zloop_t *zl = h->data;
    zl->wakeups++;
    for (tm_zwatch_t *w = zl->head; w != NULL; w = w->next)
        tm__service(w);
}

static void tm__idle_cb(uv_idle_t *h)
{
    /* Nothing to do: an active idle handle only keeps the poll phase from
     * blocking, so that the check handle runs again soon. */
    (void)h;
}

static void tm__prepare_cb(uv_prepare_t *h)
{
    tm_zloop_t *zl = h->data;
    int pending = 0;
    for (tm_zwatch_t *w = zl->head; w != NULL && !pending; w = w->next)
        if (tm__wanted_ready(w) != 0)
            pending = 1;
    if (pending)
        uv_idle_start(&zl->idle, tm__idle_cb);
    else
        uv_idle_stop(&zl->idle);
}

static void tm__poll_cb(uv_poll_t *h, int status, int events)
{
    tm_zwatch_t *w = h->data;
    (void)events;
    if (status < 0) {
        tm_log(TM_LOG_ERROR, "loop", "msg=\"poll error on a ZeroMQ socket\" error=\"%s\"",
               uv_strerror(status));
        return;
    }
    w->stale = 1;
    tm__service(w);
}

int tm_zloop_init(tm_zloop_t *zl, uv_loop_t *loop)
{
    zl->loop = loop;
    zl->head = NULL;
    zl->wakeups = 0;
    zl->event_reads = 0;
    int rc = uv_prepare_init(loop, &zl->prepare);
    if (rc == 0)
        rc = uv_check_init(loop, &zl->check);
    if (rc == 0)
        rc = uv_idle_init(loop, &zl->idle);
    if (rc != 0)
        return rc;
    zl->prepare.data = zl->check.data = zl->idle.data = zl;
    uv_prepare_start(&zl->prepare, tm__prepare_cb);
    uv_check_start(&zl->check, tm__check_cb);
    /* The check and prepare handles must not keep the loop alive alone. */
    uv_unref((uv_handle_t *)&zl->prepare);
    uv_unref((uv_handle_t *)&zl->check);
    return 0;
}

void tm_zloop_close(tm_zloop_t *zl)
{
    uv_prepare_stop(&zl->prepare);
    uv_check_stop(&zl->check);
    uv_idle_stop(&zl->idle);
    uv_close((uv_handle_t *)&zl->prepare, NULL);
    uv_close((uv_handle_t *)&zl->check, NULL);
    uv_close((uv_handle_t *)&zl->idle, NULL);
}

int tm_zwatch_start(tm_zloop_t *zl, tm_zwatch_t *w, void *sock, int interest, tm_zwatch_cb cb,
                    void *data)
{
    int fd = -1;
    size_t len = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
        return UV_EINVAL;
    w->sock = sock;
    w->interest = interest;
    w->cb = cb;
    w->data = data;
    w->zl = zl;
    int rc = uv_poll_init(zl->loop, &w->poll, fd);
    if (rc != 0)
        return rc;
    w->poll.data = w;
    rc = uv_poll_start(&w->poll, UV_READABLE, tm__poll_cb);
    if (rc != 0) {
        uv_close((uv_handle_t *)&w->poll, NULL);
        return rc;
    }
    w->active = 1;
    w->stale = 1;
    w->next = zl->head;
    zl->head = w;
    return 0;
}

void tm_zwatch_set_interest(tm_zwatch_t *w, int interest)
{
    w->interest = interest;
    w->stale = 1;
}

void tm_zwatch_stop(tm_zwatch_t *w)
{
    if (!w->active)
        return;
    w->active = 0;
    for (tm_zwatch_t **pp = &w->zl->head; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, NULL);
}
