/* Unit tests for daemon/zloop.c: ZeroMQ sockets driven by a libuv loop.
 * A message is never stranded (sent while the loop was quiet, while input
 * was paused, or as the reply to a send made outside a callback), and a
 * quiet loop does not re-read ZMQ_EVENTS of sockets whose state cannot
 * have changed (each read costs libzmq system calls). */
#include "unit.h"

#include <pthread.h>
#include <zmq.h>

#include "../../daemon/clock.h"
#include "../../daemon/zloop.h"

typedef struct {
    uv_loop_t loop;
    tm_zloop_t zl;
    tm_zwatch_t w;
    uv_timer_t tick;
    void *ctx, *pull, *push;
    int received;
} fixture_t;

/* Read everything there is: a callback must leave the socket at EAGAIN. */
static void on_readable(tm_zwatch_t *w, int events)
{
    fixture_t *f = w->data;
    assert_true(events & ZMQ_POLLIN);
    char buf[64];
    while (zmq_recv(w->sock, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        f->received++;
}

static void on_tick(uv_timer_t *t) { (void)t; }

/* Run the loop until *counter reaches want or ms pass; a 1 ms timer keeps
 * the loop iterating, as the daemon's timers and worker wake-ups do. */
static void run_until(fixture_t *f, const int *counter, int want, int ms)
{
    uint64_t end = tm_now_ns() + (uint64_t)ms * 1000000ull;
    while ((counter == NULL || *counter < want) && tm_now_ns() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static void send_n(void *sock, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(zmq_send(sock, "doc", 3, 0), 3);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(tm_zloop_init(&f->zl, &f->loop), 0);
    f->ctx = zmq_ctx_new();
    f->pull = zmq_socket(f->ctx, ZMQ_PULL);
    f->push = zmq_socket(f->ctx, ZMQ_PUSH);
    assert_int_equal(zmq_bind(f->pull, "inproc://zloop-test"), 0);
    assert_int_equal(zmq_connect(f->push, "inproc://zloop-test"), 0);
    assert_int_equal(tm_zwatch_start(&f->zl, &f->w, f->pull, ZMQ_POLLIN, on_readable, f), 0);
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, on_tick, 1, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    uv_timer_stop(&f->tick);
    uv_close((uv_handle_t *)&f->tick, NULL);
    tm_zwatch_stop(&f->w);
    tm_zloop_close(&f->zl);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    int linger = 0;
    zmq_setsockopt(f->push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(f->push);
    zmq_close(f->pull);
    zmq_ctx_term(f->ctx);
    free(f);
    return 0;
}

static void test_message_sent_after_loop_went_quiet_arrives(void **state)
{
    fixture_t *f = *state;
    send_n(f->push, 1);
    run_until(f, &f->received, 1, 2000);
    assert_int_equal(f->received, 1);
    run_until(f, NULL, 0, 30); /* quiet: every socket read to EAGAIN, fresh */
    send_n(f->push, 5);
    run_until(f, &f->received, 6, 2000);
    assert_int_equal(f->received, 6);
}

static void test_quiet_loop_reads_no_socket_events(void **state)
{
    fixture_t *f = *state;
    send_n(f->push, 1);
    run_until(f, &f->received, 1, 2000);
    run_until(f, NULL, 0, 20);
    unsigned long long reads = f->zl.event_reads, iterations = f->zl.wakeups;
    run_until(f, NULL, 0, 50); /* about 50 timer wake-ups, no traffic */
    assert_true(f->zl.wakeups > iterations + 10);
    assert_int_equal(f->zl.event_reads, reads);
    /* And it still notices the next message. */
    send_n(f->push, 1);
    run_until(f, &f->received, 2, 2000);
    assert_int_equal(f->received, 2);
    assert_true(f->zl.event_reads > reads);
}

static void test_paused_watch_reads_nothing_until_resumed(void **state)
{
    fixture_t *f = *state;
    tm_zwatch_set_interest(&f->w, 0);
    send_n(f->push, 3);
    run_until(f, NULL, 0, 50);
    assert_int_equal(f->received, 0);
    tm_zwatch_set_interest(&f->w, ZMQ_POLLIN);
    run_until(f, &f->received, 3, 2000);
    assert_int_equal(f->received, 3);
}

/* ---- a reply to a send made outside the watch's callback ---- */

typedef struct {
    void *ctx;
    int n;
} echo_t;

/* A ROUTER that returns every message to its sender, n times. */
static void *echo_main(void *arg)
{
    echo_t *e = arg;
    void *r = zmq_socket(e->ctx, ZMQ_ROUTER);
    int timeout = 5000;
    zmq_setsockopt(r, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_bind(r, "inproc://zloop-echo");
    for (int i = 0; i < e->n; i++) {
        char who[256], body[64];
        int wl = zmq_recv(r, who, sizeof who, 0);
        int bl = wl >= 0 ? zmq_recv(r, body, sizeof body, 0) : -1;
        if (bl < 0)
            break;
        zmq_send(r, who, (size_t)wl, ZMQ_SNDMORE);
        zmq_send(r, body, (size_t)bl, 0);
    }
    int linger = 0;
    zmq_setsockopt(r, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(r);
    return NULL;
}

typedef struct {
    fixture_t *f;
    tm_zwatch_t w;
    void *dealer;
    uv_timer_t sender;
    int sent, received;
} client_t;

static void on_reply(tm_zwatch_t *w, int events)
{
    client_t *c = w->data;
    (void)events;
    char buf[64];
    while (zmq_recv(w->sock, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        c->received++;
}

/* Sends from a timer, as the daemon sends acks and results from its
 * worker wake-up: outside the socket's callback, so it touches the watch. */
static void on_send_timer(uv_timer_t *t)
{
    client_t *c = t->data;
    if (c->sent == c->received && c->sent < 20) {
        assert_int_equal(zmq_send(c->dealer, "ping", 4, ZMQ_DONTWAIT), 4);
        tm_zwatch_touch(&c->w);
        c->sent++;
    }
}

static void test_reply_to_a_send_outside_the_callback_arrives(void **state)
{
    fixture_t *f = *state;
    echo_t e = {f->ctx, 20};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, echo_main, &e), 0);
    client_t c = {.f = f};
    c.dealer = zmq_socket(f->ctx, ZMQ_DEALER);
    for (int i = 0; i < 200 && zmq_connect(c.dealer, "inproc://zloop-echo") != 0; i++)
        run_until(f, NULL, 0, 5); /* until the echo thread has bound */
    assert_int_equal(tm_zwatch_start(&f->zl, &c.w, c.dealer, ZMQ_POLLIN, on_reply, &c), 0);
    uv_timer_init(&f->loop, &c.sender);
    c.sender.data = &c;
    uv_timer_start(&c.sender, on_send_timer, 1, 1);
    run_until(f, &c.received, 20, 5000);
    assert_int_equal(c.received, 20);
    uv_timer_stop(&c.sender);
    uv_close((uv_handle_t *)&c.sender, NULL);
    tm_zwatch_stop(&c.w);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    pthread_join(th, NULL);
    int linger = 0;
    zmq_setsockopt(c.dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(c.dealer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_message_sent_after_loop_went_quiet_arrives, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quiet_loop_reads_no_socket_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_watch_reads_nothing_until_resumed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reply_to_a_send_outside_the_callback_arrives, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
