/* Unit tests for daemon/workers.c (also run under ThreadSanitizer): every
 * task runs exactly once on a valid worker whatever the submitting thread,
 * submit_front jumps the queue, destroy drains what is queued. */
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "../../daemon/workers.h"

typedef struct {
    tm_task_t task;
    atomic_int *runs;
    unsigned nworkers;
    atomic_int bad_worker;
    int order;
    atomic_int *clock;
} item_t;

static void run_item(tm_task_t *t, unsigned worker)
{
    item_t *it = (item_t *)t;
    if (worker >= it->nworkers)
        atomic_store(&it->bad_worker, 1);
    it->order = atomic_fetch_add(it->clock, 1);
    atomic_fetch_add(it->runs, 1);
}

typedef struct {
    tm_pool_t *pool;
    item_t *items;
    int n;
} submitter_t;

static void *submit_all(void *arg)
{
    submitter_t *s = arg;
    for (int i = 0; i < s->n; i++) {
        if (i % 7 == 0) {
            tm_pool_submit_list(s->pool, &s->items[i].task, &s->items[i].task, 1);
        } else {
            tm_pool_submit(s->pool, &s->items[i].task);
        }
    }
    return NULL;
}

static void test_many_submitters(void **state)
{
    (void)state;
    enum { THREADS = 4, PER = 5000 };
    tm_pool_t *pool = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_pool_new(3, &pool, &err), TM_OK);
    assert_int_equal(tm_pool_size(pool), 3);
    static item_t items[THREADS][PER];
    atomic_int runs = 0, clock = 0;
    pthread_t th[THREADS];
    submitter_t sub[THREADS];
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER; i++) {
            items[t][i].task.run = run_item;
            items[t][i].runs = &runs;
            items[t][i].clock = &clock;
            items[t][i].nworkers = 3;
            atomic_init(&items[t][i].bad_worker, 0);
        }
        sub[t] = (submitter_t){pool, items[t], PER};
        pthread_create(&th[t], NULL, submit_all, &sub[t]);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    tm_pool_destroy(&pool); /* runs everything still queued */
    assert_null(pool);
    assert_int_equal(atomic_load(&runs), THREADS * PER);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER; i++)
            assert_int_equal(atomic_load(&items[t][i].bad_worker), 0);
}

static atomic_int blocker_started, blocker_release;

static void block_run(tm_task_t *t, unsigned worker)
{
    (void)worker;
    item_t *it = (item_t *)t;
    atomic_store(&blocker_started, 1);
    /* Holds the only worker until the test has queued the others (10 s at most). */
    for (int i = 0; i < 10000 && !atomic_load(&blocker_release); i++)
        usleep(1000);
    it->order = atomic_fetch_add(it->clock, 1);
}

static void test_submit_front_goes_first(void **state)
{
    (void)state;
    tm_pool_t *pool = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_pool_new(1, &pool, &err), TM_OK);
    atomic_int runs = 0, clock = 0;
    item_t blocker = {.task.run = block_run, .clock = &clock};
    item_t a = {.task.run = run_item, .runs = &runs, .clock = &clock, .nworkers = 1};
    item_t b = a, front = a;
    atomic_store(&blocker_started, 0);
    atomic_store(&blocker_release, 0);
    tm_pool_submit(pool, &blocker.task);
    /* Queue the rest only once the worker holds the blocker (a fixed sleep
     * was not enough on a loaded machine), which it keeps until released. */
    for (int i = 0; i < 10000 && !atomic_load(&blocker_started); i++)
        usleep(1000);
    assert_int_equal(atomic_load(&blocker_started), 1);
    tm_pool_submit(pool, &a.task);
    tm_pool_submit(pool, &b.task);
    tm_pool_submit_front(pool, &front.task);
    atomic_store(&blocker_release, 1);
    tm_pool_destroy(&pool);
    assert_int_equal(blocker.order, 0);
    assert_int_equal(front.order, 1);
    assert_int_equal(a.order, 2);
    assert_int_equal(b.order, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_submitters),
        cmocka_unit_test(test_submit_front_goes_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
