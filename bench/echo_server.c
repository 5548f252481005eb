/*
 * echo_server.c - the transport ceiling for textmill's benchmark.
 *
 * A bare ZeroMQ server speaking textmill's protocol without doing any work:
 * ROUTER in, one ack per document, the document bytes published unchanged
 * on PUB as "result.unique".  It finds the id the way `textmill bench` does
 * (the message starts with {"id":"...").  Whatever textmilld does on top of
 * this is the cost of parsing, validating, running stages and encoding.
 *
 *   echo_server INGEST_EP PUBLISH_EP     (e.g. tcp://127.0.0.1:17810 tcp://127.0.0.1:17820)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: echo_server INGEST_EP PUBLISH_EP\n");
        return 64;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    void *ctx = zmq_ctx_new();
    void *in = zmq_socket(ctx, ZMQ_ROUTER), *out = zmq_socket(ctx, ZMQ_PUB);
    int hwm = 100000;
    zmq_setsockopt(in, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(out, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_bind(in, argv[1]) != 0 || zmq_bind(out, argv[2]) != 0) {
        fprintf(stderr, "echo_server: bind: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    while (!stop) {
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&rid, in, 0) < 0 || zmq_msg_recv(&body, in, 0) < 0) {
            zmq_msg_close(&rid);
            zmq_msg_close(&body);
            continue;
        }
        const char *d = zmq_msg_data(&body);
        size_t n = zmq_msg_size(&body), idlen = 0;
        if (n > 7 && memcmp(d, "{\"id\":\"", 7) == 0) {
            const char *q = memchr(d + 7, '"', n - 7);
            idlen = q != NULL ? (size_t)(q - d - 7) : 0;
        }
        char ack[512];
        int al = snprintf(ack, sizeof ack, "{\"id\":\"%.*s\",\"status\":\"accepted\"}",
                          (int)(idlen < 400 ? idlen : 400), d + 7);
        zmq_msg_send(&rid, in, ZMQ_SNDMORE);
        zmq_send(in, ack, (size_t)al, 0);
        zmq_send(out, "result.unique", 13, ZMQ_SNDMORE);
        zmq_msg_send(&body, out, 0);
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
    }
    zmq_close(in);
    zmq_close(out);
    zmq_ctx_term(ctx);
    return 0;
}
