/*
 * zloop.h - driving ZeroMQ sockets from a libuv loop.
 *
 * ZMQ_FD is not a data descriptor: it signals that the socket's state may
 * have changed, edge-triggered, and only ZMQ_EVENTS tells what is ready.
 * A socket can hold several queued messages after a single wake-up, and a
 * zmq_send or zmq_recv can make messages ready without the FD firing again.
 * So we never rely on the FD alone:
 *   - a uv_poll on ZMQ_FD wakes the loop;
 *   - a uv_check after every poll phase services each socket, re-reading
 *     ZMQ_EVENTS after each batch;
 *   - a uv_prepare before the loop would block re-reads ZMQ_EVENTS of every
 *     socket and, if anything wanted is ready, starts a uv_idle so the loop
 *     polls without blocking and the check runs again.
 * Only the loop thread touches the sockets.
 *
 * Reading ZMQ_EVENTS is not free: libzmq drains the socket's command
 * mailbox, and an empty mailbox costs a getpid() and a poll() system call.
 * Re-reading every socket in both phases of every iteration cost a worker
 * wake-up four such reads for ingest and publish alone.  So each watch
 * remembers whether its
 * state may have changed since ZMQ_EVENTS last reported nothing wanted
 * ("stale"): the FD firing, an interest change, our own callback, or a send
 * made elsewhere on the loop thread (which must call tm_zwatch_touch) make
 * it stale; a read that finds nothing wanted makes it fresh.  A fresh socket
 * is quiet until its FD fires: that read left the mailbox empty and asleep,
 * so the next command from another thread signals the FD.
 */
#ifndef TM_ZLOOP_H
#define TM_ZLOOP_H

#include <uv.h>

typedef struct tm_zloop tm_zloop_t;
typedef struct tm_zwatch tm_zwatch_t;

/* Called with the subset of ZMQ_POLLIN | ZMQ_POLLOUT that is both ready and
 * wanted.  Handle a bounded batch and return; the loop calls again while the
 * socket stays ready. */
typedef void (*tm_zwatch_cb)(tm_zwatch_t *w, int events);

struct tm_zwatch {
    void *sock;          /* borrowed ZeroMQ socket */
    int interest;        /* ZMQ_POLLIN | ZMQ_POLLOUT wanted now */
    tm_zwatch_cb cb;
    void *data;
    uv_poll_t poll;
    tm_zloop_t *zl;
    tm_zwatch_t *next;
    int active;
    int stale; /* ZMQ_EVENTS may have changed since it last showed nothing wanted */
};

struct tm_zloop {
    uv_loop_t *loop;
    uv_prepare_t prepare;
    uv_check_t check;
    uv_idle_t idle;
    tm_zwatch_t *head;
    unsigned long long wakeups;     /* service rounds, for metrics */
    unsigned long long event_reads; /* ZMQ_EVENTS reads (each may cost system calls) */
};

int tm_zloop_init(tm_zloop_t *zl, uv_loop_t *loop);
/* Stop and close the loop's own handles (watches must be stopped first). */
void tm_zloop_close(tm_zloop_t *zl);

/* Watch sock.  w must stay at a stable address until stopped and closed. */
int tm_zwatch_start(tm_zloop_t *zl, tm_zwatch_t *w, void *sock, int interest, tm_zwatch_cb cb,
                    void *data);
/* Change what the callback is wanted for (e.g. stop reading input while at
 * the in-flight bound).  Takes effect at the next service round. */
void tm_zwatch_set_interest(tm_zwatch_t *w, int interest);
/* Call after a send, receive or option change made on the watched socket
 * outside its callback: the socket's events must be read again before the
 * loop blocks. */
static inline void tm_zwatch_touch(tm_zwatch_t *w) { w->stale = 1; }
/* Stop watching and close the uv handle.  The socket is not closed. */
void tm_zwatch_stop(tm_zwatch_t *w);

/* ZMQ_EVENTS of a socket (0 on error). */
int tm_zsock_events(void *sock);

#endif
