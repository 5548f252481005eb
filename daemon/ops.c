/*
 * ops.c - what an operator and systemd see: a tick every 250 ms on the loop
 * (heartbeat, loop utilisation, resident memory and the memory guard,
 * readiness, the systemd watchdog), sd_notify states, and the answers of
 * the HTTP endpoint (/metrics, /healthz, /readyz).
 *
 * Readiness is more than "the process is up" (the complaint about health
 * checks that say OK while the pipeline is stuck): /readyz fails while
 * stopping, when a stage was disabled by a fatal error, when documents are
 * in the stages and none finished for ready_stall_ms, or when results wait
 * for a deliver consumer and none was taken for ready_stall_ms.  An idle
 * daemon is ready.
 *
 * The watchdog ping (WatchdogSec= in the unit) proves the loop runs and the
 * workers progress: it is withheld while documents are in the stages and
 * none finished for the whole watchdog period, so systemd kills a daemon
 * with a stage stuck in an endless loop (SIGABRT, which the crash handler
 * records: the document is blamed like a crash).
 */
#include "autoconfig.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "server.h"

#define TM_TICK_MS 250

static size_t tm__rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, rss = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

void tm_ops_note_done(tm_server_t *s)
{
    s->done_total++;
    s->last_done_ns = tm_now_ns();
}

void tm_ops_notify(tm_server_t *s, const char *state)
{
    char msg[400];
    uint64_t depth = 0, bytes = 0;
    if (tm_spool_enabled(s->spool))
        tm_spool_depth(s->spool, &depth, &bytes);
    snprintf(msg, sizeof msg,
             "%s%sSTATUS=%s: in flight %zu, done %llu, spool %llu, generation %llu%s%s",
             state != NULL ? state : "", state != NULL ? "\n" : "",
             s->stopping ? "stopping" : s->reloading ? "reloading" : s->replaying ? "replaying"
                                                                                   : "running",
             s->in_flight, (unsigned long long)s->done_total, (unsigned long long)depth,
             (unsigned long long)(s->pipeline != NULL ? s->pipeline->generation : 0),
             s->paused ? ", input paused" : "", "");
    sd_notify(0, msg);
}

static void tm__readiness(tm_server_t *s, uint64_t now)
{
    char why[160] = "";
    size_t running = s->in_flight > s->backlog_len ? s->in_flight - s->backlog_len : 0;
    uint64_t stall = (uint64_t)s->cfg->ready_stall_ms * 1000000u;
    if (running == 0)
        s->last_done_ns = now; /* idle counts as progress */
    if (s->backlog_len == 0)
        s->last_deliver_ns = now;
    if (s->stopping)
        snprintf(why, sizeof why, "stopping");
    else if (s->pipeline != NULL && atomic_load(&s->pipeline->fatal) > 0)
        snprintf(why, sizeof why, "%d stage(s) disabled after a fatal error (see the log)",
                 atomic_load(&s->pipeline->fatal));
    else if (running > 0 && now - s->last_done_ns > stall)
        snprintf(why, sizeof why, "stalled: %zu document(s) in the stages, none finished for %llu ms",
                 running, (unsigned long long)((now - s->last_done_ns) / 1000000u));
    else if (s->backlog_len > 0 && now - s->last_deliver_ns > stall)
        snprintf(why, sizeof why,
                 "deliver output stuck: %zu result(s) waiting, none taken for %llu ms (no PUSH "
                 "consumer?)",
                 s->backlog_len, (unsigned long long)((now - s->last_deliver_ns) / 1000000u));
    pthread_mutex_lock(&s->health_lock);
    s->heartbeat_ns = now;
    s->ready = why[0] == '\0';
    snprintf(s->not_ready, sizeof s->not_ready, "%s", why);
    pthread_mutex_unlock(&s->health_lock);
    tm_metric_set(s->m.ready, why[0] == '\0' ? 1 : 0);
}

static void tm__memory(tm_server_t *s)
{
    size_t rss = tm__rss_bytes();
    tm_metric_set(s->m.rss, (double)rss);
    if (s->rss_limit == 0)
        return;
    if (!s->rss_over && rss > s->rss_limit / 10 * 9) {
        s->rss_over = 1;
        malloc_trim(0); /* give freed arenas back before judging again */
        tm_log(TM_LOG_WARN, "loop", "msg=\"resident memory above 90%% of memory_limit_mb: input "
               "paused\" rss_mb=%zu limit_mb=%zu", rss >> 20, s->rss_limit >> 20);
    } else if (s->rss_over && rss < s->rss_limit / 10 * 8) {
        s->rss_over = 0;
        tm_log(TM_LOG_INFO, "loop", "msg=\"resident memory back under 80%% of the limit\" "
               "rss_mb=%zu", rss >> 20);
    } else if (s->rss_over) {
        malloc_trim(0);
    }
}

static void tm__on_tick(uv_timer_t *t)
{
    tm_server_t *s = t->data;
    uint64_t now = tm_now_ns();
    /* Loop utilisation over the last second. */
    if (now - s->tick_prev_ns >= 1000000000u) {
        uint64_t idle = uv_metrics_idle_time(&s->loop);
        double wall = (double)(now - s->tick_prev_ns);
        double busy = 1.0 - (double)(idle - s->idle_prev_ns) / wall;
        tm_metric_set(s->m.loop_util, busy < 0 ? 0 : busy > 1 ? 1 : busy);
        s->idle_prev_ns = idle;
        s->tick_prev_ns = now;
        tm_ops_notify(s, NULL);
    }
    tm__memory(s);
    tm__readiness(s, now);
    if (s->watchdog_usec > 0 && now - s->last_watchdog_ns >= s->watchdog_usec * 1000u / 2) {
        size_t running = s->in_flight > s->backlog_len ? s->in_flight - s->backlog_len : 0;
        if (running == 0 || now - s->last_done_ns < s->watchdog_usec * 1000u) {
            sd_notify(0, "WATCHDOG=1");
            s->last_watchdog_ns = now;
        } else {
            tm_log(TM_LOG_ERROR, "loop", "msg=\"workers made no progress: withholding the "
                   "watchdog ping\" running=%zu", running);
        }
    }
    tm_server_update_flow(s);
}

void tm_ops_start(tm_server_t *s)
{
    uint64_t now = tm_now_ns();
    s->last_done_ns = s->last_deliver_ns = s->tick_prev_ns = now;
    s->idle_prev_ns = uv_metrics_idle_time(&s->loop);
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) {
        s->watchdog_usec = usec;
        tm_log(TM_LOG_INFO, "loop", "msg=\"systemd watchdog on\" period_ms=%llu",
               (unsigned long long)(usec / 1000));
    }
    tm__readiness(s, now);
    uv_timer_start(&s->tick, tm__on_tick, TM_TICK_MS, TM_TICK_MS);
}

int tm_ops_http_handler(void *ctx, const char *path, char **body, size_t *len, const char **ctype)
{
    tm_server_t *s = ctx;
    char buf[256];
    int status;
    if (strcmp(path, "/metrics") == 0) {
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        if (tm_metrics_render(s->metrics, body, len) != TM_OK) {
            *body = NULL;
            return 500;
        }
        return 200;
    }
    pthread_mutex_lock(&s->health_lock);
    uint64_t hb = s->heartbeat_ns;
    int ready = s->ready;
    char why[160];
    snprintf(why, sizeof why, "%s", s->not_ready);
    pthread_mutex_unlock(&s->health_lock);
    uint64_t age_ms = (tm_now_ns() - hb) / 1000000u;
    int n;
    if (strcmp(path, "/healthz") == 0) {
        /* The loop's tick runs every 250 ms: 2 s without one is a hang. */
        status = age_ms < 2000 ? 200 : 503;
        n = snprintf(buf, sizeof buf, status == 200 ? "ok\n" : "event loop stalled for %llu ms\n",
                     (unsigned long long)age_ms);
    } else if (strcmp(path, "/readyz") == 0) {
        if (age_ms >= 2000) {
            ready = 0;
            snprintf(why, sizeof why, "event loop stalled for %llu ms", (unsigned long long)age_ms);
        }
        status = ready ? 200 : 503;
        n = snprintf(buf, sizeof buf, ready ? "ready\n" : "not ready: %s\n", why);
    } else {
        status = 404;
        n = snprintf(buf, sizeof buf, "not found; try /metrics, /healthz or /readyz\n");
    }
    *body = strdup(buf);
    *len = *body != NULL ? (size_t)n : 0;
    return status;
}
