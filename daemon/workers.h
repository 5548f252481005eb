/*
 * workers.h - the dedicated worker pool that runs the stage chain.
 *
 * A fixed set of threads takes tasks from one FIFO queue.  Tasks are
 * intrusive (tm_task_t is embedded in the caller's struct), so submitting
 * never allocates and never fails.  The queue itself is unbounded; callers
 * bound the work they submit (textmilld by max_in_flight).  We do not use
 * libuv's shared uv_queue_work pool: it is shared with file-system and DNS
 * work and sized by an environment variable, not by our config.
 */
#ifndef TM_WORKERS_H
#define TM_WORKERS_H

#include <textmill/stage.h>

typedef struct tm_task tm_task_t;
struct tm_task {
    tm_task_t *next;
    /* Runs on a worker; `worker` is that thread's index in [0, size). */
    void (*run)(tm_task_t *task, unsigned worker);
};

typedef struct tm_pool tm_pool_t;

/* Start n threads (n >= 1).  name is used for thread names ("tm-work-0"). */
int tm_pool_new(unsigned n, tm_pool_t **out, tm_err_t *err);

/* Queue a task.  Thread-safe.  The task must stay alive until it has run. */
void tm_pool_submit(tm_pool_t *pool, tm_task_t *task);

/* Queue a task ahead of the others (a document coming back from an ordered
 * lane is older than anything queued, so it goes first). */
void tm_pool_submit_front(tm_pool_t *pool, tm_task_t *task);

/* Queue a chain of n tasks linked through ->next (head..tail) with one lock
 * and at most one wake-up per idle worker. */
void tm_pool_submit_list(tm_pool_t *pool, tm_task_t *head, tm_task_t *tail, unsigned n);

unsigned tm_pool_size(const tm_pool_t *pool);

/* Run every queued task, stop the threads and free the pool.  Sets *pp to
 * NULL.  Must not be called from a worker. */
void tm_pool_destroy(tm_pool_t **pp);

/* Number of CPUs available to this process (sched_getaffinity), >= 1. */
unsigned tm_cpu_count(void);

#endif
