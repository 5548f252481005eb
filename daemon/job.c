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
    job->parsed = 0;
    atomic_init(&job->done_bits, TM_JOB_COMMITTED);
    job->spool_key = 0;
    job->spool_failed = 0;
    job->suspect = 0;
    job->spool_err.code[0] = job->spool_err.message[0] = '\0';
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
    tm_job_ctx_t *c = job->ctx;
    /* Second of the two events (see tm_job_done_bits) hands it on. */
    if (atomic_fetch_or(&job->done_bits, TM_JOB_FINISHED) & TM_JOB_COMMITTED)
        c->sink.finished(c->sink.ctx, job);
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

    if (!job->parsed) {
        job->parsed = 1;
        if (tm__job_parse(job) != TM_OK) {
            tm__reject_now(job, worker);
            return;
        }
        job->accepted = 1;
        char stage[64];
        int sig = 0;
        unsigned crashes = tm_spool_suspect(c->spool, job->doc->id, stage, sizeof stage, &sig);
        if (crashes > 0 && crashes >= tm_spool_max_crashes(c->spool)) {
            /* Sent again after crashing the daemon that often: do not run
             * it, dead-letter it (the stages skip a dead document). */
            tm_doc_t *d = job->doc;
            d->dead = 1;
            d->dead_reason = "crashed";
            d->dead_attempts = crashes;
            snprintf(d->dead_stage, sizeof d->dead_stage, "%s", stage);
            tm_err_set(&d->dead_err, TM_EDOC, TM_PROTO_E_POISON,
                       "the daemon crashed %u times while this document was in stage \"%s\" "
                       "(last signal %d); not run again",
                       crashes, stage, sig);
            free(job->raw);
            job->raw = NULL;
        } else if (crashes > 0) {
            job->suspect = 1;
        }
        if (job->raw != NULL) {
            /* Durable before the ack: the spool stores the raw message in
             * its next group commit while the stages run here; the ack is
             * sent from the commit, and the job leaves only after both. */
            char *raw = job->raw;
            job->raw = NULL;
            atomic_store(&job->done_bits, 0);
            job->spool_key = tm_spool_append(c->spool, job, raw, job->raw_len);
            job->doc->spool_key = job->spool_key;
        } else if (c->sink.accepted != NULL) {
            c->sink.accepted(c->sink.ctx, job);
        }
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
    tm_job_ctx_t *c = job->ctx;
    (void)ctx;
    (void)key;
    if (ok) {
        if (c->sink.accepted != NULL)
            c->sink.accepted(c->sink.ctx, job);
    } else {
        job->spool_failed = 1;
        tm_err_set(&job->spool_err, TM_EIO, TM_PROTO_E_INTERNAL, "not accepted: %s",
                   why != NULL ? why : "the spool failed");
    }
    if (atomic_fetch_or(&job->done_bits, TM_JOB_COMMITTED) & TM_JOB_FINISHED)
        c->sink.finished(c->sink.ctx, job);
}
