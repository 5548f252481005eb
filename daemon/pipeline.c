/*
 * pipeline.c - building a stage chain from config and running documents
 * through it: per-stage timing, errors and metrics, per-thread stage state,
 * and ordered lanes for stages with a process_ordered hook.
 */
#include "autoconfig.h"

#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crash.h"
#include "log.h"
#include "params.h"

const tm_param_t tm_pipeline_entry_params[] = {
    {.key = "stage", .type = TM_PARAM_STRING, .default_json = "null",
     .description = "plugin to load: <plugin_dir>/<stage>.so"},
    {.key = "path", .type = TM_PARAM_STRING, .default_json = "null",
     .description = "explicit path of the plugin .so (instead of stage)"},
    {.key = "name", .type = TM_PARAM_STRING, .default_json = "null",
     .description = "instance name in annotations and timings (default: the plugin's name)"},
    {.key = "enabled", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "false skips the entry without loading it"},
    {.key = "config", .type = TM_PARAM_JSON, .default_json = "{}",
     .description = "the stage's own keys (textmilld --describe-stage NAME)"},
    {0},
};

static atomic_uint_fast64_t tm__generations;

/* ---- host services other than document access ---- */

static void tm__host_log(const tm_host_t *host, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm_vlog(level, host->stage_name, fmt, ap);
    va_end(ap);
}

static tm_metric_t *tm__host_metric_new(const tm_host_t *host, int kind, const char *name,
                                        const char *help)
{
    const tm_stage_t *st = host->host_private;
    char full[160], labels[96];
    if (st == NULL || st->pipeline == NULL || st->pipeline->metrics == NULL || name == NULL)
        return NULL;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return NULL;
    snprintf(full, sizeof full, "textmill_stage_%s", name);
    snprintf(labels, sizeof labels, "stage=\"%s\"", st->name);
    return tm_metrics_register(st->pipeline->metrics, kind, full, help, labels, NULL, 0);
}

static void tm__fill_host(tm_stage_t *st, const tm_pipeline_opts_t *opts)
{
    tm_host_t *h = &st->host;
    memset(h, 0, sizeof *h);
    h->abi_major = TM_ABI_MAJOR;
    h->abi_minor = TM_ABI_MINOR;
    h->struct_size = (uint32_t)sizeof *h;
    h->stage_name = st->name;
    h->host_version = PACKAGE_VERSION;
    h->data_dir = st->data_dir;
    h->state_dir = opts->state_dir;
    h->workers = opts->workers;
    h->mode = opts->mode;
    h->log = tm__host_log;
    tm_doc_fill_host(h);
    h->metric_new = tm__host_metric_new;
    h->metric_add = tm_metric_add;
    h->metric_set = tm_metric_set;
    h->metric_observe = tm_metric_observe;
    h->host_private = st;
}

/* ---- building ---- */

static void tm__stage_fini(tm_pipeline_t *p, size_t i)
{
    tm_stage_t *st = &p->stages[i];
    if (st->plugin == NULL)
        return;
    for (unsigned w = 0; w < p->workers; w++) {
        size_t k = (size_t)w * p->n + i;
        if (p->tls_ready != NULL && p->tls_ready[k] == 1 && st->plugin->desc.thread_fini != NULL)
            st->plugin->desc.thread_fini(st->instance, p->tls[k]);
    }
    if (st->instance != NULL && st->plugin->desc.destroy != NULL)
        st->plugin->desc.destroy(st->instance);
    st->instance = NULL;
    tm_lane_destroy(&st->lane);
    tm_plugin_close(&st->plugin);
}

static void tm__pipeline_free(tm_pipeline_t *p)
{
    for (size_t i = p->n; i-- > 0;)
        tm__stage_fini(p, i);
    free(p->stages);
    free(p->tls);
    free(p->tls_ready);
    free(p);
}

static int tm__stage_build(tm_pipeline_t *p, size_t i, const cJSON *entry_user,
                           const tm_pipeline_opts_t *opts, tm_err_t *err)
{
    tm_stage_t *st = &p->stages[i];
    char where[96], path[4096];
    cJSON *entry = NULL, *conf = NULL;
    snprintf(where, sizeof where, "pipeline[%zu]", i);
    int rc = tm_params_apply(tm_pipeline_entry_params, entry_user, where, NULL, &entry, err);
    if (rc != TM_OK)
        return rc;
    const cJSON *jstage = cJSON_GetObjectItemCaseSensitive(entry, "stage");
    const cJSON *jpath = cJSON_GetObjectItemCaseSensitive(entry, "path");
    const cJSON *jname = cJSON_GetObjectItemCaseSensitive(entry, "name");
    if (cJSON_IsString(jpath)) {
        snprintf(path, sizeof path, "%s", jpath->valuestring);
    } else if (cJSON_IsString(jstage)) {
        rc = tm_plugin_find(opts->plugin_dir, jstage->valuestring, path, sizeof path, err);
        if (rc != TM_OK)
            goto out;
    } else {
        rc = tm_err_set(err, TM_EINVAL, "bad_config",
                        "%s: an entry needs \"stage\" (a plugin name) or \"path\"", where);
        goto out;
    }
    rc = tm_plugin_open(path, &st->plugin, err);
    if (rc != TM_OK)
        goto out;
    const tm_stage_desc_t *d = &st->plugin->desc;
    snprintf(st->name, sizeof st->name, "%s",
             cJSON_IsString(jname) ? jname->valuestring : d->name);
    for (size_t j = 0; j < i; j++) {
        if (strcmp(p->stages[j].name, st->name) == 0) {
            rc = tm_err_set(err, TM_EINVAL, "bad_config",
                            "%s: a stage named \"%s\" is already in the pipeline; give this "
                            "entry another \"name\"",
                            where, st->name);
            goto out;
        }
        if ((d->flags & TM_STAGE_REWRITES_TEXT) &&
            !(p->stages[j].plugin->desc.flags & TM_STAGE_REWRITES_TEXT)) {
            rc = tm_err_set(err, TM_EINVAL, "bad_config",
                            "%s: stage \"%s\" rewrites text, so it must come before annotating "
                            "stage \"%s\" (annotation offsets refer to the final text)",
                            where, st->name, p->stages[j].name);
            goto out;
        }
    }
    if (tm_path_join(st->data_dir, sizeof st->data_dir, opts->data_dir, d->name) != TM_OK) {
        rc = tm_err_set(err, TM_EINVAL, "bad_config", "%s: data_dir is too long", where);
        goto out;
    }
    st->pipeline = p;
    tm__fill_host(st, opts);

    char swhere[128];
    snprintf(swhere, sizeof swhere, "stage \"%s\"", st->name);
    rc = tm_params_apply(d->params, cJSON_GetObjectItemCaseSensitive(entry, "config"), swhere,
                         st->data_dir, &conf, err);
    if (rc != TM_OK)
        goto out;
    tm_err_t cerr = {{0}, {0}};
    rc = d->create(&st->host, conf, &st->instance, &cerr);
    if (rc != TM_OK) {
        st->instance = NULL;
        rc = tm_err_set(err, rc < 0 ? rc : TM_EINVAL, "create_failed",
                        "stage \"%s\" (%s): create failed: %s%s%s%s", st->name, path,
                        cerr.message[0] ? cerr.message : "no reason given",
                        cerr.code[0] ? " [" : "", cerr.code, cerr.code[0] ? "]" : "");
        goto out;
    }
    if (d->process_ordered != NULL) {
        st->lane = tm_lane_new(opts->max_in_flight > 0 ? opts->max_in_flight : 1024);
        if (st->lane == NULL) {
            rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "%s: out of memory", where);
            goto out;
        }
    }
    if (opts->metrics != NULL) {
        char labels[96];
        snprintf(labels, sizeof labels, "stage=\"%s\"", st->name);
        st->m_docs = tm_metrics_register(opts->metrics, TM_METRIC_COUNTER,
                                         "textmill_stage_documents_total",
                                         "Documents a stage has processed.", labels, NULL, 0);
        st->m_errors = tm_metrics_register(opts->metrics, TM_METRIC_COUNTER,
                                           "textmill_stage_errors_total",
                                           "Document errors a stage has reported.", labels, NULL,
                                           0);
        st->m_seconds = tm_metrics_register(opts->metrics, TM_METRIC_HISTOGRAM,
                                            "textmill_stage_seconds",
                                            "Time a stage spends on one document.", labels, NULL,
                                            0);
    }
    tm_log(TM_LOG_INFO, "pipeline",
           "msg=\"stage loaded\" index=%zu stage=%s plugin=%s version=%s abi=%u.%u path=%s", i,
           st->name, d->name, d->version != NULL ? d->version : "?", d->abi_major, d->abi_minor,
           path);
    rc = TM_OK;
out:
    cJSON_Delete(conf);
    cJSON_Delete(entry);
    return rc;
}

int tm_pipeline_new(const tm_pipeline_opts_t *opts, const cJSON *spec, tm_pipeline_t **out,
                    tm_err_t *err)
{
    *out = NULL;
    if (spec != NULL && !cJSON_IsNull(spec) && !cJSON_IsArray(spec))
        return tm_err_set(err, TM_EINVAL, "bad_config",
                          "\"pipeline\" must be an array of stage entries");
    /* Count enabled entries first, so the stage array never moves. */
    size_t n = 0;
    const cJSON *e;
    if (cJSON_IsArray(spec)) {
        cJSON_ArrayForEach(e, spec)
        {
            const cJSON *en = cJSON_GetObjectItemCaseSensitive(e, "enabled");
            if (!cJSON_IsFalse(en))
                n++;
        }
    }
    if (n > TM_MAX_STAGES)
        return tm_err_set(err, TM_EINVAL, "bad_config",
                          "the pipeline has %zu stages; at most %d are supported", n,
                          TM_MAX_STAGES);
    tm_pipeline_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    atomic_init(&p->refs, 1);
    p->generation = atomic_fetch_add(&tm__generations, 1) + 1;
    p->workers = opts->workers > 0 ? opts->workers : 1;
    p->metrics = opts->metrics;
    p->dead_letter = opts->dead_letter;
    p->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 1;
    p->cpu_time = opts->cpu_time;
    p->stages = calloc(n > 0 ? n : 1, sizeof *p->stages);
    p->tls = calloc((size_t)p->workers * (n > 0 ? n : 1), sizeof *p->tls);
    p->tls_ready = calloc((size_t)p->workers * (n > 0 ? n : 1), 1);
    if (p->stages == NULL || p->tls == NULL || p->tls_ready == NULL) {
        tm__pipeline_free(p);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    }
    size_t i = 0;
    if (cJSON_IsArray(spec)) {
        cJSON_ArrayForEach(e, spec)
        {
            if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "enabled")))
                continue;
            p->n = i + 1; /* so that a failure unloads this entry too */
            int rc = tm__stage_build(p, i, e, opts, err);
            if (rc != TM_OK) {
                tm__pipeline_free(p);
                return rc;
            }
            p->names[i] = p->stages[i].name;
            i++;
        }
    }
    p->n = i;
    *out = p;
    return TM_OK;
}

tm_pipeline_t *tm_pipeline_ref(tm_pipeline_t *p)
{
    atomic_fetch_add(&p->refs, 1);
    return p;
}

void tm_pipeline_unref(tm_pipeline_t **pp)
{
    tm_pipeline_t *p = *pp;
    *pp = NULL;
    if (p != NULL && atomic_fetch_sub(&p->refs, 1) == 1)
        tm__pipeline_free(p);
}

/* ---- running ---- */

static tm_ratelimit_t tm__stage_err_rl = TM_RATELIMIT_INIT(10, 20);

static void *tm__tls(tm_pipeline_t *p, size_t i, unsigned w)
{
    tm_stage_t *st = &p->stages[i];
    size_t k = (size_t)(w % p->workers) * p->n + i;
    if (p->tls_ready[k])
        return p->tls[k];
    p->tls_ready[k] = 1;
    if (st->plugin->desc.thread_init == NULL)
        return NULL;
    tm_err_t err = {{0}, {0}};
    int rc = st->plugin->desc.thread_init(st->instance, &p->tls[k], &err);
    if (rc != TM_OK) {
        p->tls_ready[k] = 2; /* failed: thread_fini must not see it */
        p->tls[k] = NULL;
        if (!atomic_exchange(&st->disabled, 1))
            atomic_fetch_add(&p->fatal, 1);
        char reason[600];
        tm_log(TM_LOG_ERROR, "pipeline",
               "msg=\"stage disabled: thread_init failed\" stage=%s worker=%u code=%s reason=%s",
               st->name, w, err.code, tm_log_quote(reason, sizeof reason, err.message));
    }
    return p->tls[k];
}

static void tm__call(tm_pipeline_t *p, size_t i, tm_doc_t *doc, unsigned w, int ordered)
{
    tm_stage_t *st = &p->stages[i];
    const tm_stage_desc_t *d = &st->plugin->desc;
    int (*hook)(void *, void *, tm_doc_t *, tm_err_t *) = ordered ? d->process_ordered : d->process;
    if (hook == NULL || doc->dead || atomic_load_explicit(&st->disabled, memory_order_relaxed))
        return;
    void *tls = tm__tls(p, i, w);
    if (atomic_load_explicit(&st->disabled, memory_order_relaxed))
        return;
    tm_err_t err;
    err.code[0] = err.message[0] = '\0';
    doc->cur_stage = (int)i;
    doc->cur_flags = d->flags;
    uint64_t t0 = tm_now_ns(), c0 = p->cpu_time ? tm_thread_cpu_ns() : 0;
    tm_crash_note(w, doc->spool_key, doc->id, st->name);
    int rc = hook(st->instance, tls, doc, &err);
    /* Under the dead_letter policy a failing stage gets more attempts. */
    unsigned attempts = 1;
    while (rc == TM_EDOC && p->dead_letter && attempts < p->max_attempts) {
        err.code[0] = err.message[0] = '\0';
        rc = hook(st->instance, tls, doc, &err);
        attempts++;
    }
    tm_crash_clear(w);
    uint64_t dt = tm_now_ns() - t0;
    if (p->cpu_time)
        atomic_fetch_add_explicit(&st->cpu_ns, tm_thread_cpu_ns() - c0, memory_order_relaxed);
    doc->cur_stage = -1;
    doc->cur_flags = 0;
    uint64_t us = doc->timing_us[i] + (dt + 500) / 1000;
    doc->timing_us[i] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    doc->ran_mask |= 1u << i;
    tm_metric_add(st->m_docs, ordered && d->process != NULL ? 0 : 1);
    tm_metric_observe(st->m_seconds, (double)dt / 1e9);
    if (rc == TM_OK)
        return;
    if (err.code[0] == '\0')
        snprintf(err.code, sizeof err.code, "%s", rc == TM_EFATAL ? "stage_fatal" : "stage_error");
    if (err.message[0] == '\0')
        snprintf(err.message, sizeof err.message, "stage %s failed on this document (rc=%d)",
                 st->name, rc);
    tm_metric_add(st->m_errors, 1);
    char qid[96], reason[600];
    if (rc == TM_EDOC && p->dead_letter) {
        doc->dead = 1;
        doc->dead_attempts = attempts;
        doc->dead_err = err;
        snprintf(doc->dead_stage, sizeof doc->dead_stage, "%s", st->name);
        tm_log_limited(&tm__stage_err_rl, TM_LOG_WARN, "pipeline",
                       "msg=\"stage failed on every attempt: dead-lettering the document\" "
                       "stage=%s id=%s attempts=%u code=%s reason=%s",
                       st->name, tm_log_quote(qid, sizeof qid, doc->id), attempts, err.code,
                       tm_log_quote(reason, sizeof reason, err.message));
        return;
    }
    tm_doc_add_error(doc, st->name, &err);
    if (rc == TM_EFATAL) {
        if (!atomic_exchange(&st->disabled, 1))
            atomic_fetch_add(&p->fatal, 1);
        tm_log(TM_LOG_ERROR, "pipeline",
               "msg=\"stage disabled after a fatal error\" stage=%s id=%s code=%s reason=%s",
               st->name, tm_log_quote(qid, sizeof qid, doc->id), err.code,
               tm_log_quote(reason, sizeof reason, err.message));
    } else {
        tm_log_limited(&tm__stage_err_rl, TM_LOG_WARN, "pipeline",
                       "msg=\"document error\" stage=%s id=%s code=%s reason=%s", st->name,
                       tm_log_quote(qid, sizeof qid, doc->id), err.code,
                       tm_log_quote(reason, sizeof reason, err.message));
    }
}

/* Take every document the lane releases through the ordered hook.  Our own
 * document (when there is one) continues inline; the others go back to the
 * pool to run their remaining stages in parallel. */
static void tm__drain(tm_pipeline_t *p, size_t i, tm_doc_t *own, unsigned w,
                      const tm_resume_t *rs)
{
    void *item;
    while ((item = tm_lane_next(p->stages[i].lane)) != NULL) {
        if (item == TM_LANE_SKIP)
            continue;
        tm_doc_t *d = item;
        tm__call(p, i, d, w, 1);
        if (d != own)
            rs->resume(rs->ctx, d, i + 1);
    }
}

int tm_pipeline_run(tm_pipeline_t *p, tm_doc_t *doc, size_t from, unsigned w,
                    const tm_resume_t *rs)
{
    for (size_t i = from; i < p->n; i++) {
        tm__call(p, i, doc, w, 0);
        if (p->stages[i].lane == NULL)
            continue;
        if (!tm_lane_arrive(p->stages[i].lane, doc->seq, doc))
            return 0;
        tm__drain(p, i, doc, w, rs);
    }
    return 1;
}

void tm_pipeline_skip(tm_pipeline_t *p, uint64_t seq, unsigned w, const tm_resume_t *rs)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->stages[i].lane != NULL && tm_lane_arrive(p->stages[i].lane, seq, TM_LANE_SKIP))
            tm__drain(p, i, NULL, w, rs);
}

int tm_pipeline_describe_stage(const char *plugin_dir, const char *name_or_path, FILE *out,
                               tm_err_t *err)
{
    char path[4096];
    tm_plugin_t *pl = NULL;
    int rc;
    if (strchr(name_or_path, '/') != NULL)
        snprintf(path, sizeof path, "%s", name_or_path);
    else if ((rc = tm_plugin_find(plugin_dir, name_or_path, path, sizeof path, err)) != TM_OK)
        return rc;
    if ((rc = tm_plugin_open(path, &pl, err)) != TM_OK)
        return rc;
    const tm_stage_desc_t *d = &pl->desc;
    fprintf(out, "stage %s %s (ABI %u.%u)\n  %s\n  file: %s\n", d->name,
            d->version != NULL ? d->version : "?", d->abi_major, d->abi_minor,
            d->description != NULL ? d->description : "", path);
    fprintf(out, "  flags:%s%s%s\n", (d->flags & TM_STAGE_REWRITES_TEXT) ? " rewrites-text" : "",
            d->process_ordered != NULL ? " ordered-lane" : "",
            d->flags == 0 && d->process_ordered == NULL ? " none" : "");
    fprintf(out, "\nconfig keys (relative paths are resolved against <data_dir>/%s):\n", d->name);
    tm_params_describe(out, d->params);
    tm_plugin_close(&pl);
    return TM_OK;
}
