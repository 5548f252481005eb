/*
 * testhost.c - a single-threaded host for running one stage in tests.
 */
#include "autoconfig.h"

#include "testhost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/log.h"
#include "../../daemon/params.h"

struct tm_testhost {
    tm_host_t host;
    const tm_stage_desc_t *desc;
    void *instance;
    void *tls;
    int tls_ready;
    char data_dir[4096];
    char state_dir[4096];
};

static void tm__th_log(const tm_host_t *host, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm_vlog(level, host->stage_name, fmt, ap);
    va_end(ap);
}

static tm_metric_t *tm__th_metric_new(const tm_host_t *h, int kind, const char *name,
                                      const char *help)
{
    (void)h;
    (void)kind;
    (void)name;
    (void)help;
    return NULL; /* the update functions accept NULL */
}

static void tm__th_metric_nop(tm_metric_t *m, double v)
{
    (void)m;
    (void)v;
}

tm_testhost_t *tm_testhost_open(const tm_stage_desc_t *desc, const char *config_json,
                                const char *data_dir, const char *state_dir, tm_err_t *err)
{
    tm_testhost_t *th = calloc(1, sizeof *th);
    if (th == NULL)
        return NULL;
    th->desc = desc;
    snprintf(th->data_dir, sizeof th->data_dir, "%s", data_dir != NULL ? data_dir : ".");
    if (state_dir != NULL)
        snprintf(th->state_dir, sizeof th->state_dir, "%s", state_dir);
    tm_host_t *h = &th->host;
    h->abi_major = TM_ABI_MAJOR;
    h->abi_minor = TM_ABI_MINOR;
    h->struct_size = (uint32_t)sizeof *h;
    h->stage_name = desc->name;
    h->host_version = "test";
    h->data_dir = th->data_dir;
    h->state_dir = state_dir != NULL ? th->state_dir : NULL;
    h->workers = 1;
    h->mode = TM_HOST_BATCH;
    h->log = tm__th_log;
    tm_doc_fill_host(h);
    h->metric_new = tm__th_metric_new;
    h->metric_add = tm__th_metric_nop;
    h->metric_set = tm__th_metric_nop;
    h->metric_observe = tm__th_metric_nop;

    cJSON *user = config_json != NULL ? cJSON_Parse(config_json) : NULL;
    if (config_json != NULL && user == NULL) {
        tm_err_set(err, TM_EINVAL, "bad_config", "test config is not JSON: %s", config_json);
        free(th);
        return NULL;
    }
    cJSON *conf = NULL;
    int rc = tm_params_check_table(desc->params, desc->name, err);
    if (rc == TM_OK)
        rc = tm_params_apply(desc->params, user, desc->name, th->data_dir, &conf, err);
    cJSON_Delete(user);
    if (rc == TM_OK)
        rc = desc->create(h, conf, &th->instance, err);
    cJSON_Delete(conf);
    if (rc != TM_OK) {
        free(th);
        return NULL;
    }
    if (desc->thread_init != NULL) {
        if (desc->thread_init(th->instance, &th->tls, err) != TM_OK) {
            if (desc->destroy != NULL)
                desc->destroy(th->instance);
            free(th);
            return NULL;
        }
        th->tls_ready = 1;
    }
    return th;
}

void tm_testhost_close(tm_testhost_t **thp)
{
    tm_testhost_t *th = *thp;
    if (th == NULL)
        return;
    if (th->tls_ready && th->desc->thread_fini != NULL)
        th->desc->thread_fini(th->instance, th->tls);
    if (th->desc->destroy != NULL)
        th->desc->destroy(th->instance);
    free(th);
    *thp = NULL;
}

tm_doc_t *tm_testhost_doc(const char *id, const char *text, size_t len, const char *content_type)
{
    tm_doc_t *doc = tm_doc_new();
    if (doc == NULL)
        return NULL;
    if (len == (size_t)-1)
        len = strlen(text);
    doc->id = strdup(id != NULL ? id : "test-doc");
    doc->text = malloc(len + 1);
    if (doc->id == NULL || doc->text == NULL) {
        tm_doc_destroy(&doc);
        return NULL;
    }
    memcpy(doc->text, text, len);
    doc->text[len] = '\0';
    doc->text_len = doc->input_len = len;
    if (content_type != NULL && strcmp(content_type, TM_CT_HTML) == 0)
        doc->content_type = TM_CT_HTML;
    else if (content_type != NULL && strcmp(content_type, TM_CT_MARKDOWN) == 0)
        doc->content_type = TM_CT_MARKDOWN;
    return doc;
}

int tm_testhost_run(tm_testhost_t *th, tm_doc_t *doc, tm_err_t *err)
{
    int rc = TM_OK;
    doc->cur_stage = 0;
    doc->cur_flags = th->desc->flags;
    if (th->desc->process != NULL)
        rc = th->desc->process(th->instance, th->tls, doc, err);
    if ((rc == TM_OK || rc == TM_EDOC) && th->desc->process_ordered != NULL) {
        int rc2 = th->desc->process_ordered(th->instance, th->tls, doc, err);
        if (rc == TM_OK)
            rc = rc2;
    }
    doc->cur_stage = -1;
    doc->cur_flags = 0;
    return rc;
}

const cJSON *tm_testhost_annotation(const tm_doc_t *doc, const char *key)
{
    const cJSON *v =
        doc->annotations != NULL ? cJSON_GetObjectItemCaseSensitive(doc->annotations, key) : NULL;
    return v != NULL && cJSON_IsRaw(v) && v->child != NULL ? v->child : v;
}

const tm_host_t *tm_testhost_host(const tm_testhost_t *th) { return &th->host; }
