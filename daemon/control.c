/*
 * control.c - hot reload on SIGHUP, and the control thread that does the
 * slow parts of it away from the event loop.
 *
 * Like Fluent Bit's hot reload, a reload builds a complete new pipeline
 * generation next to the running one:
 *   1. the control thread re-reads the config file (with the same
 *      command-line overrides) and validates it;
 *   2. it loads the plugins again - a .so replaced on disk is loaded fresh
 *      (loader.c) - and creates new stage instances;
 *   3. on success the loop swaps the generation in for new documents;
 *      documents already accepted finish in the generation they entered;
 *   4. the old generation is handed back to the control thread, which frees
 *      it once its last document is out (its reference count is ours alone).
 * An invalid config or a stage that fails to start leaves everything as it
 * was, and the log says why.  A SIGHUP that arrives while a reload runs is
 * coalesced: one more reload follows, whatever the number of signals.
 *
 * Reloadable: the pipeline and stage configs, log_level, max_in_flight,
 * shutdown_grace_ms, ready_stall_ms, the stage failure policy and the
 * CurveZMQ allow-list.  Sockets, workers, limits, the spool
 * and memory settings need a restart; a reload that changes them says so.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "server.h"

/* Keys a reload cannot change (the running values stay). */
static const char *const tm__restart_keys[] = {
    "ingest", "push", "publish", "deliver", "workers", "max_doc_bytes", "max_meta_depth",
    "state_dir", "spool", "spool_fsync", "spool_fsync_interval_ms", "spool_batch_max",
    "spool_max_mb", "spool_retire_ms", "memory_limit_mb", "http", "curve_secret_key",
    "ingest_hwm", "publish_hwm", "deliver_hwm", "allow_root", "poison_max_crashes", NULL};

static void tm__do_reload(tm_server_t *s)
{
    tm_err_t err = {{0}, {0}};
    tm_config_t *nc = NULL;
    tm_pipeline_t *np = NULL;
    tm_keyset_t *keys = NULL;
    uint64_t t0 = tm_now_ns();
    int rc = tm_config_load(s->config_path[0] ? s->config_path : NULL, s->overrides, &nc, &err);
    if (rc == TM_OK) {
        tm_pipeline_opts_t o;
        tm_server_pipeline_opts(s, nc, &o);
        rc = tm_pipeline_new(&o, nc->pipeline, &np, &err);
    }
    if (rc == TM_OK && s->auth != NULL && nc->curve_allowed_keys[0] != '\0')
        rc = tm_keyset_load(nc->curve_allowed_keys, &keys, &err);
    if (rc != TM_OK) {
        tm_pipeline_unref(&np);
        tm_config_free(&nc);
    }
    tm_log(TM_LOG_DEBUG, "reload", "msg=\"new generation built\" ok=%d seconds=%.3f",
           rc == TM_OK, (double)(tm_now_ns() - t0) / 1e9);
    pthread_mutex_lock(&s->ctl_lock);
    s->reload_rc = rc;
    s->reload_err = err;
    s->reload_pipeline = np;
    s->reload_cfg = nc;
    s->reload_keys = keys;
    pthread_mutex_unlock(&s->ctl_lock);
    pthread_mutex_lock(&s->q_lock);
    if (!s->wake_closed)
        uv_async_send(&s->reload_done);
    pthread_mutex_unlock(&s->q_lock);
}

static void *tm__ctl_main(void *arg)
{
    tm_server_t *s = arg;
    pthread_setname_np(pthread_self(), "tm-control");
    pthread_mutex_lock(&s->ctl_lock);
    for (;;) {
        /* Free old generations whose last document is out. */
        for (size_t i = 0; i < s->ctl_nretiring;) {
            tm_pipeline_t *p = s->ctl_retiring[i];
            if (atomic_load(&p->refs) == 1) {
                s->ctl_retiring[i] = s->ctl_retiring[--s->ctl_nretiring];
                uint64_t gen = p->generation;
                pthread_mutex_unlock(&s->ctl_lock);
                tm_pipeline_unref(&p);
                tm_log(TM_LOG_INFO, "reload", "msg=\"old pipeline drained and freed\" "
                       "generation=%llu", (unsigned long long)gen);
                pthread_mutex_lock(&s->ctl_lock);
                continue;
            }
            i++;
        }
        if (s->ctl_stop)
            break;
        if (s->ctl_reload) {
            s->ctl_reload = 0;
            pthread_mutex_unlock(&s->ctl_lock);
            tm__do_reload(s);
            pthread_mutex_lock(&s->ctl_lock);
            continue;
        }
        if (s->ctl_nretiring > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->ctl_cond, &s->ctl_lock, &ts);
        } else {
            pthread_cond_wait(&s->ctl_cond, &s->ctl_lock);
        }
    }
    /* Stopping: drop our references; the last document frees the rest. */
    while (s->ctl_nretiring > 0)
        tm_pipeline_unref(&s->ctl_retiring[--s->ctl_nretiring]);
    pthread_mutex_unlock(&s->ctl_lock);
    return NULL;
}

static void tm__start_reload(tm_server_t *s)
{
    s->reloading = 1;
    tm_ops_notify(s, "RELOADING=1");
    tm_log(TM_LOG_INFO, "reload", "msg=\"reloading\" config=%s",
           s->config_path[0] ? s->config_path : "(built-in defaults)");
    pthread_mutex_lock(&s->ctl_lock);
    s->ctl_reload = 1;
    pthread_cond_signal(&s->ctl_cond);
    pthread_mutex_unlock(&s->ctl_lock);
}

void tm_control_on_hup(tm_server_t *s)
{
    if (s->stopping) {
        tm_log(TM_LOG_INFO, "reload", "msg=\"SIGHUP ignored: stopping\"");
        return;
    }
    if (s->reloading) {
        if (!s->reload_pending)
            tm_log(TM_LOG_INFO, "reload", "msg=\"SIGHUP during a reload: coalesced into one more "
                   "reload after it\"");
        s->reload_pending = 1;
        return;
    }
    tm__start_reload(s);
}

void tm_control_retire_pipeline(tm_server_t *s, tm_pipeline_t *old)
{
    pthread_mutex_lock(&s->ctl_lock);
    if (s->ctl_nretiring < sizeof s->ctl_retiring / sizeof s->ctl_retiring[0]) {
        s->ctl_retiring[s->ctl_nretiring++] = old;
        old = NULL;
    }
    pthread_cond_signal(&s->ctl_cond);
    pthread_mutex_unlock(&s->ctl_lock);
    /* More than 64 generations draining at once: let the last job free it. */
    tm_pipeline_unref(&old);
}

static void tm__apply(tm_server_t *s, tm_config_t *nc)
{
    tm_config_t *c = s->cfg;
    char changed[512] = "";
    size_t n = 0;
    for (size_t i = 0; tm__restart_keys[i] != NULL; i++) {
        const char *k = tm__restart_keys[i];
        if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(c->root, k),
                           cJSON_GetObjectItemCaseSensitive(nc->root, k), 1))
            n += (size_t)snprintf(changed + n, n < sizeof changed ? sizeof changed - n : 0, "%s%s",
                                  n ? "," : "", k);
    }
    if (n > 0)
        tm_log(TM_LOG_WARN, "reload",
               "msg=\"these keys changed but need a restart; the running values stay\" keys=%s",
               changed);
    if (nc->log_level != c->log_level)
        tm_log_set_level(nc->log_level);
    c->log_level = nc->log_level;
    c->max_in_flight = nc->max_in_flight;
    c->shutdown_grace_ms = nc->shutdown_grace_ms;
    c->ready_stall_ms = nc->ready_stall_ms;
    c->stage_dead_letter = nc->stage_dead_letter;
    c->stage_max_attempts = nc->stage_max_attempts;
}

static void tm__on_reload_done(uv_async_t *h)
{
    tm_server_t *s = h->data;
    pthread_mutex_lock(&s->ctl_lock);
    int rc = s->reload_rc;
    tm_err_t err = s->reload_err;
    tm_pipeline_t *np = s->reload_pipeline;
    tm_config_t *nc = s->reload_cfg;
    tm_keyset_t *keys = s->reload_keys;
    s->reload_pipeline = NULL;
    s->reload_cfg = NULL;
    s->reload_keys = NULL;
    pthread_mutex_unlock(&s->ctl_lock);
    if (!s->reloading)
        return;
    if (rc != TM_OK) {
        char reason[600];
        tm_metric_add(s->m.reloads_failed, 1);
        tm_log(TM_LOG_ERROR, "reload",
               "msg=\"reload failed: keeping the running config and pipeline\" code=%s reason=%s",
               err.code, tm_log_quote(reason, sizeof reason, err.message));
    } else {
        tm__apply(s, nc);
        tm_pipeline_t *old = s->pipeline;
        s->pipeline = np;
        tm_control_retire_pipeline(s, old);
        if (keys != NULL && s->auth != NULL) {
            tm_log(TM_LOG_INFO, "reload", "msg=\"allow-list reloaded\" keys=%zu",
                   tm_keyset_count(keys));
            tm_auth_set_keys(s->auth, keys);
            keys = NULL;
        }
        s->reloads_done++;
        tm_metric_add(s->m.reloads_ok, 1);
        tm_metric_set(s->m.generation, (double)np->generation);
        tm_log(TM_LOG_INFO, "reload", "msg=\"reloaded\" generation=%llu stages=%zu",
               (unsigned long long)np->generation, np->n);
    }
    tm_keyset_destroy(&keys);
    tm_config_free(&nc);
    s->reloading = 0;
    tm_ops_notify(s, "READY=1");
    if (s->reload_pending && !s->stopping) {
        s->reload_pending = 0;
        tm__start_reload(s);
    }
    tm_server_update_flow(s);
}

int tm_control_start(tm_server_t *s, tm_err_t *err)
{
    uv_async_init(&s->loop, &s->reload_done, tm__on_reload_done);
    s->reload_done.data = s;
    if (pthread_create(&s->ctl_thread, NULL, tm__ctl_main, s) != 0)
        return tm_err_set(err, TM_EFATAL, "thread_failed", "cannot start the control thread");
    s->ctl_started = 1;
    return TM_OK;
}

void tm_control_stop(tm_server_t *s)
{
    if (!s->ctl_started)
        return;
    pthread_mutex_lock(&s->ctl_lock);
    s->ctl_stop = 1;
    pthread_cond_signal(&s->ctl_cond);
    pthread_mutex_unlock(&s->ctl_lock);
    pthread_join(s->ctl_thread, NULL);
    s->ctl_started = 0;
    tm_pipeline_unref(&s->reload_pipeline);
    tm_keyset_destroy(&s->reload_keys);
}
