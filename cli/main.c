/*
 * main.c - `textmill`: the client and batch tool.  Dispatches to one
 * subcommand per file (cmd_*.c).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <textmill/stage.h>

#include "cli.h"

#include <zmq.h>

#include "../daemon/alloc.h"
#include "../daemon/auth.h"

char *tm_cli_read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = buf == NULL || ferror(f);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (bad) {
        free(buf);
        errno = saved != 0 ? saved : EIO;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int tm_cli_curve(void *sock, const char *server_cert, const char *client_cert, const char *cmd)
{
    if (server_cert == NULL && client_cert == NULL)
        return 0;
    if (server_cert == NULL || client_cert == NULL) {
        fprintf(stderr, "textmill %s: CurveZMQ needs both --curve-server and --curve-key\n", cmd);
        return -1;
    }
    char spub[41], ssec[41], cpub[41], csec[41];
    tm_err_t err = {{0}, {0}};
    if (tm_auth_load_cert(server_cert, 0, spub, ssec, &err) != TM_OK ||
        tm_auth_load_cert(client_cert, 1, cpub, csec, &err) != TM_OK) {
        fprintf(stderr, "textmill %s: %s\n", cmd, err.message);
        return -1;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, spub, 40) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cpub, 40) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, csec, 40) != 0) {
        fprintf(stderr, "textmill %s: cannot set the CURVE keys: %s\n", cmd, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static void tm__usage(FILE *out)
{
    fprintf(out, "Usage: textmill COMMAND [OPTIONS]\n"
                 "\n"
                 "Commands:\n"
                 "  run     JSONL documents on stdin -> JSONL results on stdout (no daemon)\n"
                 "  send    send files or stdin to a running textmilld; prints the acks\n"
                 "  tail    print results and errors published by textmilld\n"
                 "  bench   load a running textmilld and measure throughput and latency\n"
                 "  keygen  make a CurveZMQ key pair (server or client certificate)\n"
                 "\n"
                 "`textmill COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        tm__usage(stderr);
        return 64;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return tm_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "send") == 0)
        return tm_cmd_send(argc - 1, argv + 1);
    if (strcmp(cmd, "tail") == 0)
        return tm_cmd_tail(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return tm_cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return tm_cmd_keygen(argc - 1, argv + 1);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        char an[48];
        printf("textmill %s (stage ABI %d.%d, %s)\n", PACKAGE_VERSION, TM_ABI_MAJOR, TM_ABI_MINOR,
               tm_allocator_name(an, sizeof an));
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        tm__usage(stdout);
        return 0;
    }
    fprintf(stderr, "textmill: unknown command \"%s\"\n\n", cmd);
    tm__usage(stderr);
    return 64;
}
