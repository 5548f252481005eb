/*
 * job.c - parse, run and encode one document on the worker pool.
 */
#include "autoconfig.h"

#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static void tm__job_run(tm_task_t *task, unsigned worker);

static void tm__resume(void *ctx, tm_doc_t *doc, size_t next_stage)
{
    tm_job_ctx_t *c = ctx;
    tm_job_t *job = doc->owner;
    job->next_stage = next_stage;
    tm_pool_submit_front(c->pool, &job->task);
}

tm_job_t *tm_job_new(tm_job_ctx_t *ctx, tm_pipeline_t *p, const void *raw, size_t len)
{
    tm_job_t *job = malloc(sizeof *job);
    if (job == NULL)
        return NULL;
    memset(job, 0, offsetof(tm_job_t, route_id));
    job->route_id_len = 0;
    job->req_delimiter = 0;
    job->line = 0;
    job->t_recv_ns = tm_now_ns();
    job->outcome = TM_JOB_PENDING;
    job->id = NULL;
    job->err.code[0] = job->err.message[0] = '\0';
    job->out = NULL;
    job->out_len = 0;
    job->topic[0] = '\0';
    job->route_flags = 0;
    job->redelivered = 0;
    job->accepted = 0;
    job->phase = TM_PHASE_NEW;
    job->spool_key = 0;
    /* Its weight in the memory budget: the raw message, the parsed
     * document and the encoded result are each about this size. */
    job->mem_bytes = 3 * len;
    job->ack = NULL;
    job->ack_len = 0;
    job->ack_next = NULL;
    job->raw = malloc(len + 1);
    if (job->raw == NULL) {
        free(job);
        return NULL;
    }
    if (len > 0)
        memcpy(job->raw, raw, len);
    job->raw[len] = '\0';
    job->raw_len = len;
    job->task.run = tm__job_run;
    job->ctx = ctx;
    job->pipeline = tm_pipeline_ref(p);
    job->seq = tm_pipeline_take_seq(p);
    return job;
}

void tm_job_free(tm_job_t **jp)
{
    tm_job_t *job = *jp;
    if (job == NULL)
        return;
    free(job->raw);
    tm_doc_destroy(&job->doc);
    free(job->id);
    free(job->out);
    free(job->ack);
    if (job->pipeline != NULL)
        tm_pipeline_unref(&job->pipeline);
    free(job);
    *jp = NULL;
}

void tm_job_submit(tm_job_t *job) { tm_pool_submit(job->ctx->pool, &job->task); }

static void tm__finish(tm_job_t *job)
{
    tm_pipeline_unref(&job->pipeline);
    job->ctx->sink.finished(job->ctx->sink.ctx, job);
}

static void tm__reject_now(tm_job_t *job, unsigned worker)
{
    tm_resume_t rs = {tm__resume, job->ctx};
    free(job->raw);
    job->raw = NULL;
    job->outcome = TM_JOB_REJECTED;
    tm_pipeline_skip(job->pipeline, job->seq, worker, &rs);
    tm__finish(job);
}

static int tm__job_parse(tm_job_t *job)
{
    tm_job_ctx_t *c = job->ctx;
    tm_doc_t *doc = NULL;
    char *id = NULL;
    int rc = tm_doc_parse(job->raw, job->raw_len, &c->limits, &doc, &id, &job->err);
    /* The raw message is kept only when the spool still has to store it. */
    if (rc != TM_OK || !tm_spool_enabled(c->spool) || job->spool_key != 0) {
        free(job->raw);
        job->raw = NULL;
    }
    job->id = id;
    if (rc != TM_OK)
        return rc;
    if (doc->id == NULL) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s-%llu", c->id_prefix,
                 (unsigned long long)atomic_fetch_add(&c->id_counter, 1));
        doc->id = strdup(buf);
        job->id = strdup(buf);
        doc->id_assigned = 1;
        if (doc->id == NULL || job->id == NULL) {
            tm_doc_destroy(&doc);
            return tm_err_set(&job->err, TM_ENOMEM, TM_PROTO_E_INTERNAL, "out of memory");
        }
    }
    if (c->inflight != NULL) {
        int added = tm_idset_add(c->inflight, doc->id);
        if (added <= 0) {
            tm_doc_destroy(&doc);
            if (added < 0)
                return tm_err_set(&job->err, TM_ENOMEM, TM_PROTO_E_INTERNAL, "out of memory");
            return tm_err_set(&job->err, TM_EINVAL, TM_PROTO_E_DUPLICATE_ID,
                              "a document with this id is still in flight");
        }
    }
    doc->seq = job->seq;
    doc->owner = job;
    doc->redelivered = job->redelivered;
    doc->spool_key = job->spool_key;
    doc->t_start_ns = job->t_recv_ns;
    job->doc = doc;
    return TM_OK;
}

static void tm__job_run(tm_task_t *task, unsigned worker)
{
    tm_job_t *job = (tm_job_t *)task;
    tm_job_ctx_t *c = job->ctx;
    tm_resume_t rs = {tm__resume, c};

    if (job->phase == TM_PHASE_NEW) {
        if (tm__job_parse(job) != TM_OK) {
            tm__reject_now(job, worker);
            return;
        }
        if (job->raw != NULL) {
            /* Durable first: the ack waits for the group commit. */
            char *raw = job->raw;
            job->raw = NULL;
            job->phase = TM_PHASE_SPOOLING;
            tm_spool_append(c->spool, job, raw, job->raw_len);
            return;
        }
        job->phase = TM_PHASE_RUNNING;
        job->accepted = 1;
        if (c->sink.accepted != NULL)
            c->sink.accepted(c->sink.ctx, job);
        job->next_stage = 0;
    } else if (job->phase == TM_PHASE_SPOOL_FAILED) {
        if (c->inflight != NULL && job->doc != NULL)
            tm_idset_remove(c->inflight, job->doc->id);
        tm_doc_destroy(&job->doc);
        tm__reject_now(job, worker);
        return;
    } else if (job->phase == TM_PHASE_SPOOLING) {
        job->phase = TM_PHASE_RUNNING;
        job->doc->spool_key = job->spool_key;
        job->accepted = 1;
        if (c->sink.accepted != NULL)
            c->sink.accepted(c->sink.ctx, job);
        job->next_stage = 0;
    }
    if (!tm_pipeline_run(job->pipeline, job->doc, job->next_stage, worker, &rs))
        return; /* parked in an ordered lane; it comes back through tm__resume */

    tm_doc_t *doc = job->doc;
    uint64_t total_us = (tm_now_ns() - doc->t_start_ns + 500) / 1000;
    if (doc->dead)
        job->out = tm_dead_encode_doc(doc, &job->out_len);
    else
        job->out = tm_result_encode(doc, job->pipeline->names, job->pipeline->n, total_us,
                                    &job->out_len);
    if (job->out == NULL) {
        job->outcome = TM_JOB_REJECTED;
        tm_err_set(&job->err, TM_ENOMEM, TM_PROTO_E_INTERNAL,
                   "out of memory while encoding the result");
    } else {
        job->outcome = doc->dead ? TM_JOB_DEAD : TM_JOB_RESULT;
    }
    memcpy(job->topic, doc->topic, sizeof job->topic);
    job->route_flags = doc->route_flags;
    if (c->inflight != NULL)
        tm_idset_remove(c->inflight, doc->id);
    tm_doc_destroy(&job->doc);
    tm__finish(job);
}

void tm_job_spooled(void *ctx, void *item, uint64_t key, int ok, const char *why)
{
    tm_job_t *job = item;
    (void)ctx;
    if (ok) {
        job->spool_key = key;
    } else {
        job->phase = TM_PHASE_SPOOL_FAILED;
        tm_err_set(&job->err, TM_EIO, TM_PROTO_E_INTERNAL, "not accepted: %s",
                   why != NULL ? why : "the spool failed");
    }
    /* Back to a worker, at the front: it is older than anything queued. */
    tm_pool_submit_front(job->ctx->pool, &job->task);
}
