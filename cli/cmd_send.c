/*
 * cmd_send.c - `textmill send`: send documents to textmilld's ingest socket
 * (or its push socket) and print the acks.
 *
 * A .jsonl/.ndjson file (or stdin) is sent line by line as it is; a .json
 * file is one document; any other file becomes {"id": <file name>,
 * "text": <contents>} with a content type guessed from its extension.
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include <cjson/cJSON.h>

#include "../daemon/clock.h"
#include "cli.h"

typedef struct {
    void *sock;
    int push;
    long window;
    long outstanding;
    long sent, accepted, rejected;
    int timeout_ms;
    int quiet;
} tm__sender_t;

static void tm__usage(FILE *out)
{
    fprintf(out,
            "Usage: textmill send [OPTIONS] [FILE...]\n"
            "Sends documents to textmilld and prints one ack per document (JSON lines).\n"
            "With no FILE, or FILE \"-\", reads JSONL from stdin.\n"
            "  .jsonl/.ndjson  one document per line, sent as is\n"
            "  .json           one document\n"
            "  anything else   {\"id\": FILE name, \"text\": contents}; .html/.htm are text/html,\n"
            "                  .md/.markdown text/markdown, the rest text/plain\n"
            "\n"
            "  -e, --endpoint EP   ingest endpoint (default %s)\n"
            "      --push EP       send fire-and-forget to this PULL endpoint instead (no acks)\n"
            "  -W, --window N      documents awaiting an ack at once (default 256)\n"
            "  -t, --timeout MS    give up waiting for an ack after MS (default 10000)\n"
            "  -q, --quiet         print only a summary\n"
            "      --curve-server F  the daemon's public certificate (CurveZMQ)\n"
            "      --curve-key F     this client's secret certificate (textmill keygen)\n"
            "Exit status: 0 all accepted; 2 some rejected; 1 failure or timeout.\n",
            TM_DEFAULT_INGEST);
}

/* Read acks until at most `until` are outstanding.  Returns -1 on timeout. */
static int tm__await(tm__sender_t *s, long until)
{
    while (s->outstanding > until) {
        zmq_pollitem_t it = {s->sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, s->timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "textmill send: no ack within %d ms (%ld outstanding); is textmilld "
                            "running and listening there?\n",
                    s->timeout_ms, s->outstanding);
            return -1;
        }
        char buf[8192];
        int len = zmq_recv(s->sock, buf, sizeof buf - 1, ZMQ_DONTWAIT);
        if (len < 0)
            continue;
        if (len > (int)sizeof buf - 1)
            len = (int)sizeof buf - 1;
        buf[len] = '\0';
        s->outstanding--;
        if (strstr(buf, "\"status\":\"accepted\"") != NULL)
            s->accepted++;
        else
            s->rejected++;
        if (!s->quiet)
            printf("%s\n", buf);
    }
    return 0;
}

static int tm__send_one(tm__sender_t *s, const char *data, size_t len)
{
    if (!s->push && tm__await(s, s->window - 1) != 0)
        return -1;
    if (zmq_send(s->sock, data, len, 0) < 0) {
        fprintf(stderr, "textmill send: send failed: %s\n", zmq_strerror(errno));
        return -1;
    }
    s->sent++;
    if (!s->push)
        s->outstanding++;
    return 0;
}

static int tm__send_lines(tm__sender_t *s, char *buf, size_t len)
{
    char *p = buf, *end = buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        size_t m = n;
        while (m > 0 && p[m - 1] == '\r')
            m--;
        if (m > 0 && tm__send_one(s, p, m) != 0)
            return -1;
        p += n + 1;
    }
    return 0;
}

static int tm__has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int tm__send_file(tm__sender_t *s, const char *path)
{
    size_t len = 0;
    char *buf = tm_cli_read_file(path, &len);
    if (buf == NULL) {
        fprintf(stderr, "textmill send: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc;
    if (strcmp(path, "-") == 0 || tm__has_suffix(path, ".jsonl") || tm__has_suffix(path, ".ndjson")) {
        rc = tm__send_lines(s, buf, len);
    } else if (tm__has_suffix(path, ".json")) {
        rc = tm__send_one(s, buf, len);
    } else {
        const char *base = strrchr(path, '/');
        base = base != NULL ? base + 1 : path;
        const char *ct = "text/plain";
        if (tm__has_suffix(path, ".html") || tm__has_suffix(path, ".htm"))
            ct = "text/html";
        else if (tm__has_suffix(path, ".md") || tm__has_suffix(path, ".markdown"))
            ct = "text/markdown";
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "id", base);
        cJSON_AddStringToObject(doc, "text", buf);
        cJSON_AddStringToObject(doc, "content_type", ct);
        char *json = cJSON_PrintUnformatted(doc);
        cJSON_Delete(doc);
        if (json == NULL || strlen(buf) != len) {
            fprintf(stderr, "textmill send: %s: %s\n", path,
                    json == NULL ? "out of memory" : "file contains NUL bytes; not a text file");
            free(json);
            free(buf);
            return -1;
        }
        rc = tm__send_one(s, json, strlen(json));
        free(json);
    }
    free(buf);
    return rc;
}

int tm_cmd_send(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"push", required_argument, NULL, 'p'},
        {"window", required_argument, NULL, 'W'},   {"timeout", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {"curve-server", required_argument, NULL, 'S'}, {"curve-key", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = TM_DEFAULT_INGEST, *push = NULL, *curve_server = NULL,
               *curve_key = NULL;
    tm__sender_t s;
    memset(&s, 0, sizeof s);
    s.window = 256;
    s.timeout_ms = 10000;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "e:W:t:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'e': endpoint = optarg; break;
        case 'p': push = optarg; break;
        case 'W': s.window = atol(optarg); break;
        case 't': s.timeout_ms = atoi(optarg); break;
        case 'q': s.quiet = 1; break;
        case 'S': curve_server = optarg; break;
        case 'K': curve_key = optarg; break;
        case 'h': tm__usage(stdout); return 0;
        default: tm__usage(stderr); return 64;
        }
    }
    if (s.window < 1 || s.timeout_ms < 1) {
        tm__usage(stderr);
        return 64;
    }
    void *ctx = zmq_ctx_new();
    s.push = push != NULL;
    s.sock = zmq_socket(ctx, s.push ? ZMQ_PUSH : ZMQ_DEALER);
    int linger = 5000;
    zmq_setsockopt(s.sock, ZMQ_LINGER, &linger, sizeof linger);
    int status = 0;
    if (tm_cli_curve(s.sock, curve_server, curve_key, "send") != 0) {
        status = 1;
        goto out;
    }
    if (zmq_connect(s.sock, s.push ? push : endpoint) != 0) {
        fprintf(stderr, "textmill send: cannot connect to %s: %s\n", s.push ? push : endpoint,
                zmq_strerror(errno));
        status = 1;
        goto out;
    }
    if (optind == argc) {
        if (tm__send_file(&s, "-") != 0)
            status = 1;
    }
    for (int i = optind; i < argc && status == 0; i++)
        if (tm__send_file(&s, argv[i]) != 0)
            status = 1;
    if (!s.push && tm__await(&s, 0) != 0)
        status = 1;
    fprintf(stderr, "textmill send: %ld sent", s.sent);
    if (!s.push)
        fprintf(stderr, ", %ld accepted, %ld rejected", s.accepted, s.rejected);
    fputc('\n', stderr);
    if (status == 0 && s.rejected > 0)
        status = 2;
out:
    zmq_close(s.sock);
    zmq_ctx_term(ctx);
    return status;
}
