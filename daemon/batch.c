/*
 * batch.c - the batch runner behind `textmill run`.
 *
 * This thread reads lines and submits them as jobs (at most max_in_flight at
 * once); workers finish them in any order into a reorder ring; a writer
 * thread prints them in input order.  Documents are numbered in line order,
 * so ordered stages (dedup) see the file's order and two runs over one file
 * give the same answer whatever the number of workers.
 *
 * Hand-offs come in runs, not one per document: each futex wake-up and
 * context switch costs microseconds on a VM, and per document they took an
 * eighth of the run's CPU.  The writer wakes when a run of results is ready
 * (or 2 ms after the first of them, or at the end of the input); the reader,
 * once the ring is full, waits until a quarter of it is free again.
 */
#include "autoconfig.h"

#include "batch.h"

#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "job.h"
#include "log.h"

typedef struct tm__batch {
    pthread_mutex_t lock;
    pthread_cond_t can_submit; /* reader waits for room */
    pthread_cond_t can_write;  /* writer waits for the next result */
    tm_job_t **ring;
    size_t mask;
    uint64_t next_write;       /* job index the writer prints next */
    uint64_t submitted;        /* jobs handed to the pool */
    int eof;                   /* reader is done */
    int write_failed;
    int reader_waiting;        /* the reader waits for room */
    uint64_t run;              /* results the writer waits for at once */
    FILE *out;
    tm_batch_stats_t *stats;
    tm_job_ctx_t ctx;
} tm__batch_t;

/* Workers finish jobs here, in any order.  The ring is indexed by the
 * job's position in the input (line order), not by its lane number. */
static void tm__batch_finished(void *ctx, tm_job_t *job)
{
    tm__batch_t *b = ctx;
    pthread_mutex_lock(&b->lock);
    uint64_t idx = (uint64_t)job->line_index;
    b->ring[idx & b->mask] = job;
    /* The writer waits for the next result, then for the end of its run. */
    if (idx == b->next_write || idx == b->next_write + b->run - 1)
        pthread_cond_signal(&b->can_write);
    pthread_mutex_unlock(&b->lock);
}

static int tm__write_job(tm__batch_t *b, tm_job_t *job)
{
    int ok;
    if (job->outcome == TM_JOB_RESULT) {
        ok = fwrite(job->out, 1, job->out_len, b->out) == job->out_len && fputc('\n', b->out) != EOF;
        b->stats->results++;
    } else {
        size_t len = 0;
        char *line = tm_error_encode(job->id, "error", &job->err, job->line, &len);
        ok = line != NULL && fwrite(line, 1, len, b->out) == len && fputc('\n', b->out) != EOF;
        free(line);
        b->stats->errors++;
        char qid[96];
        tm_log(TM_LOG_DEBUG, "batch", "msg=\"document rejected\" line=%ld id=%s code=%s", job->line,
               tm_log_quote(qid, sizeof qid, job->id != NULL ? job->id : ""), job->err.code);
    }
    return ok;
}

/* Under b->lock: wait until the writer has something to do.  Returns with
 * the next result in the ring (a run of them is ready, the input has ended,
 * or the first of them has waited 2 ms), or with nothing left at all. */
static void tm__writer_wait(tm__batch_t *b)
{
    for (;;) {
        if (b->ring[b->next_write & b->mask] == NULL) {
            if (b->eof && b->next_write == b->submitted)
                return;
            pthread_cond_wait(&b->can_write, &b->lock);
            continue;
        }
        uint64_t last = b->next_write + b->run - 1;
        if (b->ring[last & b->mask] != NULL || (b->eof && last >= b->submitted))
            return;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&b->can_write, &b->lock, &ts) == ETIMEDOUT)
            return;
    }
}

static void *tm__writer_main(void *arg)
{
    tm__batch_t *b = arg;
    tm_job_t *run[64];
    pthread_mutex_lock(&b->lock);
    for (;;) {
        tm__writer_wait(b);
        size_t n = 0;
        tm_job_t *job;
        while (n < sizeof run / sizeof run[0] && (job = b->ring[b->next_write & b->mask]) != NULL) {
            b->ring[b->next_write & b->mask] = NULL;
            b->next_write++;
            run[n++] = job;
        }
        if (n == 0)
            break; /* the input has ended and every result is out */
        size_t cap = b->mask + 1;
        if (b->reader_waiting && b->submitted - b->next_write <= cap - cap / 4)
            pthread_cond_signal(&b->can_submit);
        int failed = b->write_failed;
        pthread_mutex_unlock(&b->lock);
        for (size_t i = 0; i < n; i++) {
            if (!failed && !tm__write_job(b, run[i]))
                failed = errno != 0 ? errno : EIO;
            tm_job_free(&run[i]);
        }
        pthread_mutex_lock(&b->lock);
        if (failed && !b->write_failed) {
            b->write_failed = failed;
            pthread_cond_signal(&b->can_submit);
        }
    }
    int failed = b->write_failed;
    pthread_mutex_unlock(&b->lock);
    if (!failed && fflush(b->out) != 0) {
        pthread_mutex_lock(&b->lock);
        b->write_failed = errno != 0 ? errno : EIO;
        pthread_mutex_unlock(&b->lock);
    }
    return NULL;
}

int tm_batch_run(FILE *in, FILE *out, tm_pipeline_t *p, tm_pool_t *pool, const tm_limits_t *lim,
                 size_t max_in_flight, tm_batch_stats_t *stats, tm_err_t *err)
{
    tm__batch_t b;
    memset(&b, 0, sizeof b);
    memset(stats, 0, sizeof *stats);
    size_t cap = 16;
    while (cap < max_in_flight)
        cap <<= 1;
    b.ring = calloc(cap, sizeof *b.ring);
    if (b.ring == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    b.mask = cap - 1;
    b.run = cap / 4 < 32 ? cap / 4 : 32;
    b.out = out;
    b.stats = stats;
    b.ctx.pool = pool;
    b.ctx.limits = *lim;
    b.ctx.sink.finished = tm__batch_finished;
    b.ctx.sink.ctx = &b;
    snprintf(b.ctx.id_prefix, sizeof b.ctx.id_prefix, "line");
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.can_submit, NULL);
    pthread_cond_init(&b.can_write, NULL);

    pthread_t writer;
    int rc = pthread_create(&writer, NULL, tm__writer_main, &b);
    if (rc != 0) {
        free(b.ring);
        return tm_err_set(err, TM_EFATAL, "thread_failed", "cannot start the writer thread: %s",
                          strerror(rc));
    }
    uint64_t t0 = tm_now_ns();
    char *line = NULL;
    size_t linecap = 0;
    long lineno = 0;
    ssize_t n;
    int status = TM_OK;
    errno = 0;
    while ((n = getline(&line, &linecap, in)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        pthread_mutex_lock(&b.lock);
        while (b.submitted - b.next_write >= cap && !b.write_failed) {
            b.reader_waiting = 1;
            pthread_cond_wait(&b.can_submit, &b.lock);
        }
        b.reader_waiting = 0;
        int failed = b.write_failed;
        pthread_mutex_unlock(&b.lock);
        if (failed)
            break;
        tm_job_t *job = tm_job_new(&b.ctx, p, line, len);
        if (job == NULL) {
            status = tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory at line %ld",
                                lineno);
            break;
        }
        job->origin = TM_ORIGIN_BATCH;
        job->line = lineno;
        job->line_index = b.submitted;
        stats->lines++;
        stats->in_bytes += len;
        pthread_mutex_lock(&b.lock);
        b.submitted++;
        pthread_mutex_unlock(&b.lock);
        tm_job_submit(job);
        errno = 0;
    }
    if (status == TM_OK && ferror(in))
        status = tm_err_set(err, TM_EIO, "read_failed", "reading input failed at line %ld: %s",
                            lineno + 1, strerror(errno != 0 ? errno : EIO));
    free(line);
    pthread_mutex_lock(&b.lock);
    b.eof = 1;
    pthread_cond_signal(&b.can_write);
    pthread_mutex_unlock(&b.lock);
    pthread_join(writer, NULL);
    stats->seconds = (double)(tm_now_ns() - t0) / 1e9;
    if (status == TM_OK && b.write_failed)
        status = tm_err_set(err, TM_EIO, "write_failed", "writing results failed: %s",
                            strerror(b.write_failed));
    pthread_cond_destroy(&b.can_submit);
    pthread_cond_destroy(&b.can_write);
    pthread_mutex_destroy(&b.lock);
    free(b.ring);
    return status;
}
