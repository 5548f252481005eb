/*
 * cmd_tail.c - `textmill tail`: subscribe to textmilld's publish socket and
 * print what comes out.
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include <cjson/cJSON.h>

#include "cli.h"

static volatile sig_atomic_t tm__stop;

static void tm__on_signal(int sig)
{
    (void)sig;
    tm__stop = 1;
}

static void tm__usage(FILE *out)
{
    fprintf(out,
            "Usage: textmill tail [OPTIONS]\n"
            "Prints results and error records published by textmilld.\n"
            "  -e, --endpoint EP   publish endpoint (default %s)\n"
            "  -T, --topic T       subscribe to topics starting with T (repeatable; default all:\n"
            "                      \"result\" = every result, \"result.near_duplicate\", \"error\")\n"
            "  -r, --raw           one line per message: the JSON as published\n"
            "                      (default: a header line with the topic, then indented JSON)\n"
            "  -n, --count N       exit after N messages\n"
            "  -t, --timeout MS    exit after MS without a message\n"
            "      --curve-server F  the daemon's public certificate (CurveZMQ)\n"
            "      --curve-key F     this client's secret certificate (textmill keygen)\n",
            TM_DEFAULT_PUBLISH);
}

int tm_cmd_tail(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"topic", required_argument, NULL, 'T'},
        {"raw", no_argument, NULL, 'r'},            {"count", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},  {"help", no_argument, NULL, 'h'},
        {"curve-server", required_argument, NULL, 'S'}, {"curve-key", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = TM_DEFAULT_PUBLISH, *curve_server = NULL, *curve_key = NULL;
    const char *topics[32];
    int ntopics = 0, raw = 0, timeout_ms = -1, opt;
    long count = -1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "e:T:rn:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'e': endpoint = optarg; break;
        case 'T':
            if (ntopics < 32)
                topics[ntopics++] = optarg;
            break;
        case 'r': raw = 1; break;
        case 'n': count = atol(optarg); break;
        case 't': timeout_ms = atoi(optarg); break;
        case 'S': curve_server = optarg; break;
        case 'K': curve_key = optarg; break;
        case 'h': tm__usage(stdout); return 0;
        default: tm__usage(stderr); return 64;
        }
    }
    signal(SIGINT, tm__on_signal);
    signal(SIGTERM, tm__on_signal);
    void *ctx = zmq_ctx_new();
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    int hwm = 0;
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (ntopics == 0)
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    for (int i = 0; i < ntopics; i++)
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i]));
    int status = 0;
    if (tm_cli_curve(sub, curve_server, curve_key, "tail") != 0) {
        status = 1;
        goto out;
    }
    if (zmq_connect(sub, endpoint) != 0) {
        fprintf(stderr, "textmill tail: cannot connect to %s: %s\n", endpoint, zmq_strerror(errno));
        status = 1;
        goto out;
    }
    long seen = 0;
    while (!tm__stop && (count < 0 || seen < count)) {
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&topic, sub, 0) < 0 || !zmq_msg_more(&topic) ||
            zmq_msg_recv(&body, sub, 0) < 0) {
            zmq_msg_close(&topic);
            zmq_msg_close(&body);
            continue;
        }
        seen++;
        if (raw) {
            fwrite(zmq_msg_data(&body), 1, zmq_msg_size(&body), stdout);
            fputc('\n', stdout);
        } else {
            printf("== %.*s\n", (int)zmq_msg_size(&topic), (const char *)zmq_msg_data(&topic));
            /* cJSON may read one byte past the given length: parse a copy. */
            size_t blen = zmq_msg_size(&body);
            char *copy = malloc(blen + 1);
            cJSON *j = NULL;
            if (copy != NULL) {
                memcpy(copy, zmq_msg_data(&body), blen);
                copy[blen] = '\0';
                j = cJSON_ParseWithLength(copy, blen);
                free(copy);
            }
            char *pretty = j != NULL ? cJSON_Print(j) : NULL;
            if (pretty != NULL)
                printf("%s\n", pretty);
            else
                printf("%.*s\n", (int)zmq_msg_size(&body), (const char *)zmq_msg_data(&body));
            cJSON_free(pretty);
            cJSON_Delete(j);
        }
        fflush(stdout);
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
    }
out:
    zmq_close(sub);
    zmq_ctx_term(ctx);
    return status;
}
