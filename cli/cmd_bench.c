/*
 * cmd_bench.c - `textmill bench`: load a running textmilld over its real
 * sockets and measure throughput, latency percentiles and lost documents.
 *
 * Closed loop (--window W): keep W documents between send and result.
 * Open loop (--rate R): send on a fixed schedule and measure latency from
 * the scheduled time, so a stalled daemon cannot hide its stalls by slowing
 * the sender down (no coordinated omission).
 * Every document gets a fresh id; --salt also prefixes its text with the id,
 * so that no cache keyed by content can help.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <cjson/cJSON.h>

#include "../daemon/clock.h"
#include "cli.h"

typedef struct {
    char **tails;   /* per corpus doc: the JSON after {"id":"..","text":" */
    size_t *tail_len;
    size_t n;
    double mean_bytes;
} tm__corpus_t;

typedef struct {
    uint64_t *t0;      /* send (or scheduled) time per document */
    uint64_t *t1;      /* when its result came: the latency is t1 - t0 */
    uint32_t *size;    /* bytes sent */
    uint8_t *state;    /* 0 pending, 1 result, 2 rejected, 3 error */
    size_t cap;
} tm__track_t;

static void tm__usage(FILE *out)
{
    fprintf(out,
            "Usage: textmill bench [OPTIONS] CORPUS.jsonl\n"
            "Sends documents from CORPUS (cycling through it) to a running textmilld and reads\n"
            "the results from its publish socket.  Prints docs/s, MB/s (input text), latency\n"
            "p50/p90/p99/p999/max and lost documents.\n"
            "\n"
            "  -i, --ingest EP        ingest endpoint (default %s)\n"
            "  -p, --publish EP       publish endpoint (default %s)\n"
            "  -W, --window N         closed loop with N documents in flight (default 64)\n"
            "  -R, --rate R           open loop at R documents/s instead\n"
            "  -n, --count N          documents to send (default 20000)\n"
            "  -d, --duration S       or send for S seconds\n"
            "  -s, --salt             prefix each text with its id (defeats caches)\n"
            "      --drain-timeout MS wait this long for the last results (default 10000)\n"
            "      --pid PID          report this process's RSS and CPU per document (the daemon's),\n"
            "                         in total and by thread (loop, zmq_io, workers, other)\n"
            "      --json             print one JSON object instead of text\n"
            "      --latency-log FILE write one line per result: its number, when it was sent (ms\n"
            "                         since the start) and its latency (ms), to find stalls in time\n",
            TM_DEFAULT_INGEST, TM_DEFAULT_PUBLISH);
}

static int tm__load_corpus(const char *path, tm__corpus_t *c)
{
    size_t len = 0;
    char *buf = tm_cli_read_file(path, &len);
    if (buf == NULL) {
        fprintf(stderr, "textmill bench: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1024;
    c->tails = malloc(cap * sizeof *c->tails);
    c->tail_len = malloc(cap * sizeof *c->tail_len);
    c->n = 0;
    double total = 0;
    for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        cJSON *d = cJSON_Parse(line);
        cJSON *text = cJSON_GetObjectItemCaseSensitive(d, "text");
        if (!cJSON_IsString(text) || text->valuestring[0] == '\0') {
            cJSON_Delete(d);
            continue;
        }
        /* Rebuild with "text" first and without "id", then keep what
         * follows {"text":" so the id can be put in front. */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", text->valuestring);
        cJSON *it;
        cJSON_ArrayForEach(it, d)
        {
            if (strcmp(it->string, "id") != 0 && strcmp(it->string, "text") != 0 &&
                strncmp(it->string, "gold", 4) != 0)
                cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
        }
        char *json = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        cJSON_Delete(d);
        if (json == NULL)
            continue;
        if (c->n == cap) {
            cap *= 2;
            c->tails = realloc(c->tails, cap * sizeof *c->tails);
            c->tail_len = realloc(c->tail_len, cap * sizeof *c->tail_len);
        }
        c->tails[c->n] = strdup(json + strlen("{\"text\":\""));
        c->tail_len[c->n] = strlen(c->tails[c->n]);
        total += (double)c->tail_len[c->n];
        c->n++;
        free(json);
    }
    free(buf);
    if (c->n == 0) {
        fprintf(stderr, "textmill bench: %s holds no documents with a \"text\"\n", path);
        return -1;
    }
    c->mean_bytes = total / (double)c->n;
    return 0;
}

static int tm__track_grow(tm__track_t *t, size_t need)
{
    if (need < t->cap)
        return 0;
    size_t ncap = t->cap ? t->cap * 2 : 65536;
    while (ncap <= need)
        ncap *= 2;
    uint64_t *t0 = realloc(t->t0, ncap * sizeof *t0);
    if (t0 != NULL)
        t->t0 = t0;
    uint64_t *t1 = realloc(t->t1, ncap * sizeof *t1);
    if (t1 != NULL)
        t->t1 = t1;
    uint32_t *sz = realloc(t->size, ncap * sizeof *sz);
    if (sz != NULL)
        t->size = sz;
    uint8_t *st = realloc(t->state, ncap);
    if (st != NULL)
        t->state = st;
    if (t0 == NULL || t1 == NULL || sz == NULL || st == NULL)
        return -1; /* what did grow stays owned by t */
    memset(st + t->cap, 0, ncap - t->cap);
    t->cap = ncap;
    return 0;
}

/* Build and send document number k. */
static int tm__send_doc(void *sock, const tm__corpus_t *c, const char *run, uint64_t k, int salt,
                        char **buf, size_t *bufcap, size_t *sent_len)
{
    const char *tail = c->tails[k % c->n];
    size_t tl = c->tail_len[k % c->n];
    char id[64];
    int idl = snprintf(id, sizeof id, "%s-%llu", run, (unsigned long long)k);
    size_t need = tl + 2 * (size_t)idl + 32;
    if (need > *bufcap) {
        *bufcap = need * 2;
        *buf = realloc(*buf, *bufcap);
        if (*buf == NULL)
            return -1;
    }
    int n = salt ? snprintf(*buf, *bufcap, "{\"id\":\"%s\",\"text\":\"%s ", id, id)
                 : snprintf(*buf, *bufcap, "{\"id\":\"%s\",\"text\":\"", id);
    memcpy(*buf + n, tail, tl);
    *sent_len = (size_t)n + tl;
    return zmq_send(sock, *buf, *sent_len, 0) < 0 ? -1 : 0;
}

/* The document number in an id "RUN-K", or -1 when it is not ours. */
static long long tm__parse_id(const char *body, size_t len, const char *run)
{
    static const char pre[] = "{\"id\":\"";
    size_t rl = strlen(run);
    if (len < sizeof pre - 1 + rl + 2 || memcmp(body, pre, sizeof pre - 1) != 0)
        return -1;
    const char *p = body + sizeof pre - 1;
    if (memcmp(p, run, rl) != 0 || p[rl] != '-')
        return -1;
    p += rl + 1;
    long long k = 0;
    const char *end = body + len;
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    while (p < end && *p >= '0' && *p <= '9')
        k = k * 10 + (*p++ - '0');
    return (p < end && *p == '"') ? k : -1;
}

/* --latency-log: "number sent_ms latency_ms" per result, in send order, so
 * a stall shows as a run of high latencies at one point in time. */
static int tm__write_latency_log(const char *path, const tm__track_t *tr, uint64_t sent,
                                 uint64_t t_start)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "textmill bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* The start on CLOCK_MONOTONIC lines the log up with the daemon's. */
    fprintf(f, "# number sent_ms latency_ms; sent_ms counts from %.3f ms on CLOCK_MONOTONIC\n",
            (double)t_start / 1e6);
    for (uint64_t k = 0; k < sent; k++)
        if (tr->state[k] == 1)
            fprintf(f, "%llu %.3f %.3f\n", (unsigned long long)k,
                    (double)(tr->t0[k] - t_start) / 1e6, (double)(tr->t1[k] - tr->t0[k]) / 1e6);
    if (fclose(f) != 0) {
        fprintf(stderr, "textmill bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int tm__cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double tm__pct(const uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)ceil(q * (double)n);
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1e6; /* ms */
}

/* CPU seconds (user + system) in a /proc stat file (/proc/PID/stat: the
 * whole process; /proc/PID/task/TID/stat: one thread), or -1 when it
 * cannot be read.  Fields 14 and 15, counted after the command name, which
 * may itself hold spaces and parentheses; the name goes to comm (at most
 * commsize - 1 bytes, NUL-terminated) when comm is not NULL. */
static double tm__stat_cpu_s(const char *path, char *comm, size_t commsize)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *open = strchr(line, '('), *close = strrchr(line, ')');
    unsigned long long ut, st;
    long hz = sysconf(_SC_CLK_TCK);
    if (open == NULL || close == NULL || close < open || hz <= 0 ||
        sscanf(close + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    if (comm != NULL) {
        size_t cl = (size_t)(close - open - 1);
        if (cl >= commsize)
            cl = commsize - 1;
        memcpy(comm, open + 1, cl);
        comm[cl] = '\0';
    }
    return (double)(ut + st) / (double)hz;
}

/* CPU seconds (user + system, all threads) the process PID has used, or -1
 * when /proc does not tell. */
static double tm__proc_cpu_s(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    return tm__stat_cpu_s(path, NULL, 0);
}

/* The daemon's CPU by thread role: where a document's cost goes. */
enum { TM__T_LOOP, TM__T_IO, TM__T_WORKERS, TM__T_OTHER, TM__T_N };
static const char *const tm__thread_roles[TM__T_N] = {"loop", "zmq_io", "workers", "other"};

/* CPU seconds of each thread role of process PID, from /proc/PID/task:
 * the main thread runs the event loop, "tm-work-N" are the stage workers,
 * "ZMQbg/IO/N" are libzmq's I/O threads, the rest (control, spool writer,
 * libzmq's reaper) are "other".  Returns -1 when /proc does not tell. */
static int tm__thread_cpu_s(long pid, double out[TM__T_N])
{
    char path[64];
    for (int i = 0; i < TM__T_N; i++)
        out[i] = 0;
    if (sysconf(_SC_CLK_TCK) <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char fpath[64], comm[16];
        long tid = atol(e->d_name);
        snprintf(fpath, sizeof fpath, "/proc/%ld/task/%ld/stat", pid, tid);
        double cpu = tm__stat_cpu_s(fpath, comm, sizeof comm);
        if (cpu < 0)
            continue; /* the thread just exited */
        int role = tid == pid                            ? TM__T_LOOP
                   : strncmp(comm, "tm-work", 7) == 0    ? TM__T_WORKERS
                   : strncmp(comm, "ZMQbg/IO", 8) == 0   ? TM__T_IO
                                                         : TM__T_OTHER;
        out[role] += cpu;
    }
    closedir(d);
    return 0;
}

/* CPU seconds this process (the bench client, its ZeroMQ I/O thread
 * included) has used. */
static double tm__self_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void tm__rss(long pid, double *rss_mb, double *hwm_mb)
{
    char path[64], line[256];
    *rss_mb = *hwm_mb = -1;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        long kb;
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            *rss_mb = (double)kb / 1024.0;
        else if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            *hwm_mb = (double)kb / 1024.0;
    }
    fclose(f);
}

int tm_cmd_bench(int argc, char **argv)
{
    enum { OPT_DRAIN = 256, OPT_PID, OPT_JSON, OPT_LATLOG };
    static const struct option longopts[] = {
        {"ingest", required_argument, NULL, 'i'},   {"publish", required_argument, NULL, 'p'},
        {"window", required_argument, NULL, 'W'},   {"rate", required_argument, NULL, 'R'},
        {"count", required_argument, NULL, 'n'},    {"duration", required_argument, NULL, 'd'},
        {"salt", no_argument, NULL, 's'},           {"drain-timeout", required_argument, NULL, OPT_DRAIN},
        {"pid", required_argument, NULL, OPT_PID},  {"json", no_argument, NULL, OPT_JSON},
        {"latency-log", required_argument, NULL, OPT_LATLOG},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *ingest = TM_DEFAULT_INGEST, *publish = TM_DEFAULT_PUBLISH, *latlog = NULL;
    long window = 64, count = 20000, pid = 0;
    double rate = 0, duration = 0;
    int salt = 0, json = 0, drain_ms = 10000, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "i:p:W:R:n:d:sh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i': ingest = optarg; break;
        case 'p': publish = optarg; break;
        case 'W': window = atol(optarg); break;
        case 'R': rate = atof(optarg); break;
        case 'n': count = atol(optarg); break;
        case 'd': duration = atof(optarg); count = -1; break;
        case 's': salt = 1; break;
        case OPT_DRAIN: drain_ms = atoi(optarg); break;
        case OPT_PID: pid = atol(optarg); break;
        case OPT_JSON: json = 1; break;
        case OPT_LATLOG: latlog = optarg; break;
        case 'h': tm__usage(stdout); return 0;
        default: tm__usage(stderr); return 64;
        }
    }
    if (optind + 1 != argc || window < 1 || rate < 0 || (count < 1 && duration <= 0)) {
        tm__usage(stderr);
        return 64;
    }
    tm__corpus_t corpus;
    if (tm__load_corpus(argv[optind], &corpus) != 0)
        return 1;

    char run[32];
    snprintf(run, sizeof run, "bench%lx%x", (unsigned long)time(NULL) & 0xfffff, (unsigned)getpid());
    void *ctx = zmq_ctx_new();
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    int zero = 0, linger = 0;
    zmq_setsockopt(dealer, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(dealer, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    int status = 0;
    char *buf = NULL;
    size_t bufcap = 0, sent_len = 0;
    tm__track_t tr = {0};
    uint64_t *lat = NULL;
    if (zmq_connect(dealer, ingest) != 0 || zmq_connect(sub, publish) != 0) {
        fprintf(stderr, "textmill bench: cannot connect: %s\n", zmq_strerror(errno));
        status = 1;
        goto out;
    }

    /* A SUB socket misses what is published before its subscription has
     * reached the daemon: send probes until one comes back. */
    char probe_run[48];
    snprintf(probe_run, sizeof probe_run, "%sprobe", run);
    int joined = 0;
    for (int attempt = 0; attempt < 50 && !joined; attempt++) {
        if (tm__send_doc(dealer, &corpus, probe_run, (uint64_t)attempt, 1, &buf, &bufcap,
                         &sent_len) != 0)
            break;
        uint64_t until = tm_now_ns() + 100000000ull;
        while (!joined && tm_now_ns() < until) {
            zmq_pollitem_t items[2] = {{dealer, 0, ZMQ_POLLIN, 0}, {sub, 0, ZMQ_POLLIN, 0}};
            if (zmq_poll(items, 2, 20) <= 0)
                continue;
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (items[0].revents & ZMQ_POLLIN)
                zmq_msg_recv(&m, dealer, ZMQ_DONTWAIT);
            if (items[1].revents & ZMQ_POLLIN) {
                while (zmq_msg_recv(&m, sub, ZMQ_DONTWAIT) >= 0) {
                    if (!zmq_msg_more(&m) &&
                        tm__parse_id(zmq_msg_data(&m), zmq_msg_size(&m), probe_run) >= 0)
                        joined = 1;
                    if (!zmq_msg_more(&m))
                        break;
                }
            }
            zmq_msg_close(&m);
        }
    }
    if (!joined) {
        fprintf(stderr, "textmill bench: no result from %s within 5 s (is textmilld running, "
                        "with ingest %s?)\n",
                publish, ingest);
        status = 1;
        goto out;
    }
    /* Let late probe results and acks pass before measuring. */
    for (uint64_t until = tm_now_ns() + 200000000ull; tm_now_ns() < until;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sub, ZMQ_DONTWAIT) < 0 && zmq_msg_recv(&m, dealer, ZMQ_DONTWAIT) < 0) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        zmq_msg_close(&m);
    }

    uint64_t sent = 0, results = 0, rejected = 0, errors = 0, done_bytes = 0;
    /* CPU per document for both ends: on a small machine the client and
     * the daemon share the cores, so the sum bounds the throughput. */
    double cpu_self0 = tm__self_cpu_s(), cpu_pid0 = pid > 0 ? tm__proc_cpu_s(pid) : -1;
    double thr0[TM__T_N], thr1[TM__T_N];
    int have_thr = pid > 0 && tm__thread_cpu_s(pid, thr0) == 0;
    uint64_t t_start = tm_now_ns(), t_last = t_start;
    uint64_t t_end_send = duration > 0 ? t_start + (uint64_t)(duration * 1e9) : UINT64_MAX;
    uint64_t interval = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
    int sending = 1;
    uint64_t drain_deadline = 0;
    for (;;) {
        uint64_t now = tm_now_ns();
        if (sending && ((count > 0 && sent >= (uint64_t)count) || now >= t_end_send)) {
            sending = 0;
            drain_deadline = now + (uint64_t)drain_ms * 1000000ull;
        }
        uint64_t completed = results + rejected + errors;
        if (!sending && (completed >= sent || now >= drain_deadline))
            break;
        /* Send what the loop discipline allows. */
        while (sending) {
            uint64_t due = rate > 0 ? t_start + sent * interval : now;
            if (rate > 0 ? due > now : sent - (results + rejected + errors) >= (uint64_t)window)
                break;
            if ((count > 0 && sent >= (uint64_t)count) || now >= t_end_send)
                break;
            if (tm__track_grow(&tr, sent) != 0 ||
                tm__send_doc(dealer, &corpus, run, sent, salt, &buf, &bufcap, &sent_len) != 0) {
                fprintf(stderr, "textmill bench: send failed: %s\n", zmq_strerror(errno));
                status = 1;
                goto out;
            }
            tr.t0[sent] = rate > 0 ? due : tm_now_ns();
            tr.size[sent] = (uint32_t)sent_len;
            tr.state[sent] = 0;
            sent++;
            if (rate > 0)
                now = tm_now_ns();
        }
        long timeout_ms = 100;
        if (sending && rate > 0) {
            uint64_t due = t_start + sent * interval;
            now = tm_now_ns();
            timeout_ms = due > now ? (long)((due - now) / 1000000ull) : 0;
            if (due > now && timeout_ms == 0) {
                /* Less than a millisecond to go, below zmq_poll's
                 * resolution: sleep it off rather than spin, which would
                 * take a core from the daemon on a small machine.  Results
                 * that arrive meanwhile are stamped late, never early. */
                struct timespec ts = {0, (long)(due - now)};
                nanosleep(&ts, NULL);
            }
        }
        zmq_pollitem_t items[2] = {{dealer, 0, ZMQ_POLLIN, 0}, {sub, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll(items, 2, timeout_ms);
        if (rc < 0 && errno != EINTR) {
            status = 1;
            break;
        }
        /* Acks: only rejections matter here. */
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, dealer, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            const char *d = zmq_msg_data(&m);
            size_t l = zmq_msg_size(&m);
            if (l > 30 && memmem(d, l, "\"rejected\"", 10) != NULL) {
                long long k = tm__parse_id(d, l, run);
                if (k >= 0 && (uint64_t)k < sent && tr.state[k] == 0) {
                    tr.state[k] = 2;
                    rejected++;
                }
            }
            zmq_msg_close(&m);
        }
        for (;;) {
            zmq_msg_t topic, body;
            zmq_msg_init(&topic);
            if (zmq_msg_recv(&topic, sub, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&topic);
                break;
            }
            zmq_msg_init(&body);
            if (zmq_msg_more(&topic) && zmq_msg_recv(&body, sub, 0) >= 0) {
                long long k = tm__parse_id(zmq_msg_data(&body), zmq_msg_size(&body), run);
                if (k >= 0 && (uint64_t)k < sent && tr.state[k] == 0) {
                    int is_error = zmq_msg_size(&topic) == 5 &&
                                   memcmp(zmq_msg_data(&topic), "error", 5) == 0;
                    uint64_t t = tm_now_ns();
                    tr.state[k] = is_error ? 3 : 1;
                    if (is_error) {
                        errors++;
                    } else {
                        results++;
                        done_bytes += tr.size[k];
                        tr.t1[k] = t;
                        t_last = t;
                    }
                }
            }
            zmq_msg_close(&topic);
            zmq_msg_close(&body);
        }
    }

    double cpu_self1 = tm__self_cpu_s(), cpu_pid1 = pid > 0 ? tm__proc_cpu_s(pid) : -1;
    have_thr = have_thr && tm__thread_cpu_s(pid, thr1) == 0;
    uint64_t finished = results + rejected + errors;
    double client_us = finished > 0 && cpu_self0 >= 0 && cpu_self1 >= 0
                           ? (cpu_self1 - cpu_self0) * 1e6 / (double)finished
                           : -1;
    double daemon_us = finished > 0 && cpu_pid0 >= 0 && cpu_pid1 >= 0
                           ? (cpu_pid1 - cpu_pid0) * 1e6 / (double)finished
                           : -1;
    double thr_us[TM__T_N];
    for (int i = 0; i < TM__T_N; i++)
        thr_us[i] = have_thr && finished > 0 ? (thr1[i] - thr0[i]) * 1e6 / (double)finished : -1;
    if (latlog != NULL && tm__write_latency_log(latlog, &tr, sent, t_start) != 0)
        status = 1;
    lat = malloc((results > 0 ? results : 1) * sizeof *lat);
    size_t nl = 0;
    for (uint64_t k = 0; k < sent && lat != NULL; k++)
        if (tr.state[k] == 1)
            lat[nl++] = tr.t1[k] - tr.t0[k];
    if (lat != NULL)
        qsort(lat, nl, sizeof *lat, tm__cmp_u64);
    double secs = (double)(t_last - t_start) / 1e9;
    double dps = secs > 0 ? (double)results / secs : 0;
    double mbps = secs > 0 ? (double)done_bytes / 1e6 / secs : 0;
    uint64_t lost = sent - results - rejected - errors;
    double rss = -1, hwm = -1;
    if (pid > 0)
        tm__rss(pid, &rss, &hwm);
    double p50 = tm__pct(lat, nl, 0.50), p90 = tm__pct(lat, nl, 0.90), p99 = tm__pct(lat, nl, 0.99),
           p999 = tm__pct(lat, nl, 0.999), pmax = nl ? (double)lat[nl - 1] / 1e6 : 0;
    if (json) {
        printf("{\"mode\":\"%s\",\"window\":%ld,\"rate\":%.0f,\"salt\":%s,\"sent\":%llu,"
               "\"results\":%llu,\"rejected\":%llu,\"errors\":%llu,\"lost\":%llu,"
               "\"seconds\":%.3f,\"docs_per_s\":%.0f,\"mb_per_s\":%.2f,\"mean_doc_bytes\":%.0f,"
               "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
               "\"rss_mb\":%.1f,\"peak_rss_mb\":%.1f,\"daemon_cpu_us_per_doc\":%.1f,"
               "\"client_cpu_us_per_doc\":%.1f,\"daemon_threads_cpu_us_per_doc\":{\"%s\":%.1f,"
               "\"%s\":%.1f,\"%s\":%.1f,\"%s\":%.1f}}\n",
               rate > 0 ? "open" : "closed", rate > 0 ? 0 : window, rate, salt ? "true" : "false",
               (unsigned long long)sent, (unsigned long long)results, (unsigned long long)rejected,
               (unsigned long long)errors, (unsigned long long)lost, secs, dps, mbps,
               corpus.mean_bytes, p50, p90, p99, p999, pmax, rss, hwm, daemon_us, client_us,
               tm__thread_roles[0], thr_us[0], tm__thread_roles[1], thr_us[1], tm__thread_roles[2],
               thr_us[2], tm__thread_roles[3], thr_us[3]);
    } else {
        if (rate > 0)
            printf("textmill bench: open loop at %.0f docs/s, %s%s\n", rate, argv[optind],
                   salt ? " (salted)" : "");
        else
            printf("textmill bench: closed loop, window %ld, %s%s\n", window, argv[optind],
                   salt ? " (salted)" : "");
        printf("  sent %llu  results %llu  rejected %llu  errors %llu  lost %llu\n",
               (unsigned long long)sent, (unsigned long long)results, (unsigned long long)rejected,
               (unsigned long long)errors, (unsigned long long)lost);
        printf("  throughput %.0f docs/s  %.1f MB/s  over %.3f s (mean document %.0f bytes)\n", dps,
               mbps, secs, corpus.mean_bytes);
        printf("  latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p999 %.3f  max %.3f\n", p50, p90, p99,
               p999, pmax);
        if (rss >= 0)
            printf("  daemon RSS %.1f MB (peak %.1f MB)\n", rss, hwm);
        if (daemon_us >= 0)
            printf("  CPU per document: daemon %.1f us, this client %.1f us\n", daemon_us,
                   client_us);
        if (have_thr)
            printf("  daemon CPU per document by thread: loop %.1f us, zmq_io %.1f us, workers "
                   "%.1f us, other %.1f us\n",
                   thr_us[TM__T_LOOP], thr_us[TM__T_IO], thr_us[TM__T_WORKERS],
                   thr_us[TM__T_OTHER]);
        else if (client_us >= 0)
            printf("  CPU per document: this client %.1f us\n", client_us);
    }
    if (lost > 0)
        status = 2;
out:
    free(lat);
    free(tr.t0);
    free(tr.t1);
    free(tr.size);
    free(tr.state);
    free(buf);
    for (size_t i = 0; i < corpus.n; i++)
        free(corpus.tails[i]);
    free(corpus.tails);
    free(corpus.tail_len);
    zmq_close(dealer);
    zmq_close(sub);
    zmq_ctx_term(ctx);
    return status;
}
