/*
 * workers.c - fixed-size thread pool with one mutex-protected FIFO.
 *
 * One queue for all workers keeps the load balanced without work stealing;
 * at our task sizes (tens of microseconds per document) the lock is not the
 * bottleneck, and a waiting worker is only signalled when one is idle.
 */
#include "autoconfig.h"

#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tm_worker {
    tm_pool_t *pool;
    unsigned index;
    pthread_t thread;
} tm_worker_t;

struct tm_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tm_task_t *head, *tail;
    unsigned idle;
    int stopping;
    unsigned n;
    tm_worker_t *workers;
};

unsigned tm_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return (unsigned)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static void *tm__worker_main(void *arg)
{
    tm_worker_t *w = arg;
    tm_pool_t *pool = w->pool;
    char name[16];
    snprintf(name, sizeof name, "tm-work-%u", w->index);
    pthread_setname_np(pthread_self(), name);

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->head == NULL && !pool->stopping) {
            pool->idle++;
            pthread_cond_wait(&pool->cond, &pool->lock);
            pool->idle--;
        }
        tm_task_t *t = pool->head;
        if (t == NULL)
            break; /* stopping and drained */
        pool->head = t->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pthread_mutex_unlock(&pool->lock);
        t->next = NULL;
        t->run(t, w->index);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int tm_pool_new(unsigned n, tm_pool_t **out, tm_err_t *err)
{
    *out = NULL;
    if (n == 0)
        n = 1;
    tm_pool_t *pool = calloc(1, sizeof *pool);
    tm_worker_t *ws = calloc(n, sizeof *ws);
    if (pool == NULL || ws == NULL) {
        free(pool);
        free(ws);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "worker pool: out of memory");
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->cond, NULL);
    pool->workers = ws;
    for (unsigned i = 0; i < n; i++) {
        ws[i].pool = pool;
        ws[i].index = i;
        int rc = pthread_create(&ws[i].thread, NULL, tm__worker_main, &ws[i]);
        if (rc != 0) {
            pool->n = i;
            tm_pool_destroy(&pool);
            return tm_err_set(err, TM_EFATAL, "thread_failed",
                              "worker pool: cannot start thread %u of %u: %s", i, n, strerror(rc));
        }
        pool->n = i + 1;
    }
    *out = pool;
    return TM_OK;
}

static void tm__submit(tm_pool_t *pool, tm_task_t *t, int front)
{
    pthread_mutex_lock(&pool->lock);
    if (front) {
        t->next = pool->head;
        pool->head = t;
        if (pool->tail == NULL)
            pool->tail = t;
    } else {
        t->next = NULL;
        if (pool->tail != NULL)
            pool->tail->next = t;
        else
            pool->head = t;
        pool->tail = t;
    }
    int wake = pool->idle > 0;
    pthread_mutex_unlock(&pool->lock);
    if (wake)
        pthread_cond_signal(&pool->cond);
}

void tm_pool_submit(tm_pool_t *pool, tm_task_t *t) { tm__submit(pool, t, 0); }

void tm_pool_submit_list(tm_pool_t *pool, tm_task_t *head, tm_task_t *tail, unsigned n)
{
    if (head == NULL)
        return;
    tail->next = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->tail != NULL)
        pool->tail->next = head;
    else
        pool->head = head;
    pool->tail = tail;
    unsigned wake = pool->idle < n ? pool->idle : n;
    pthread_mutex_unlock(&pool->lock);
    if (wake >= pool->n)
        pthread_cond_broadcast(&pool->cond);
    else
        while (wake-- > 0)
            pthread_cond_signal(&pool->cond);
}

void tm_pool_submit_front(tm_pool_t *pool, tm_task_t *t) { tm__submit(pool, t, 1); }

unsigned tm_pool_size(const tm_pool_t *pool) { return pool->n; }

void tm_pool_destroy(tm_pool_t **pp)
{
    tm_pool_t *pool = *pp;
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->n; i++)
        pthread_join(pool->workers[i].thread, NULL);
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
    *pp = NULL;
}
