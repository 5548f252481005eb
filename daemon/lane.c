/*
 * lane.c - the ordered lane (see lane.h for the protocol).
 */
#include "autoconfig.h"

#include "lane.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

struct tm_lane {
    pthread_mutex_t lock;
    uint64_t next;   /* sequence number that may pass next */
    int draining;    /* someone is taking items through */
    size_t mask;
    void **slots;
};

tm_lane_t *tm_lane_new(size_t capacity)
{
    size_t cap = 16;
    while (cap < capacity)
        cap <<= 1;
    tm_lane_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->slots = calloc(cap, sizeof *l->slots);
    if (l->slots == NULL) {
        free(l);
        return NULL;
    }
    l->mask = cap - 1;
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void tm_lane_destroy(tm_lane_t **lp)
{
    tm_lane_t *l = *lp;
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l->slots);
    free(l);
    *lp = NULL;
}

/* Make room for seq.  In-flight limits keep the window small, but a skipped
 * number is released at once while it still waits here for the documents
 * before it, so the window can outgrow any fixed capacity: grow instead of
 * overwriting.  Every stored number lies in [next, next + capacity). */
static int tm__grow(tm_lane_t *l, uint64_t seq)
{
    size_t cap = l->mask + 1, ncap = cap;
    while (seq - l->next >= ncap)
        ncap <<= 1;
    void **ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t k = 0; k < cap; k++) {
        uint64_t s = l->next + k;
        ns[s & (ncap - 1)] = l->slots[s & l->mask];
    }
    free(l->slots);
    l->slots = ns;
    l->mask = ncap - 1;
    return 0;
}

int tm_lane_arrive(tm_lane_t *l, uint64_t seq, void *item)
{
    pthread_mutex_lock(&l->lock);
    while (seq - l->next > l->mask && tm__grow(l, seq) != 0) {
        /* Out of memory: wait for the lane to move rather than corrupt it. */
        pthread_mutex_unlock(&l->lock);
        sched_yield();
        pthread_mutex_lock(&l->lock);
    }
    l->slots[seq & l->mask] = item;
    int drain = !l->draining && seq == l->next;
    if (drain)
        l->draining = 1;
    pthread_mutex_unlock(&l->lock);
    return drain;
}

void *tm_lane_next(tm_lane_t *l)
{
    pthread_mutex_lock(&l->lock);
    void *item = l->slots[l->next & l->mask];
    if (item != NULL) {
        l->slots[l->next & l->mask] = NULL;
        l->next++;
    } else {
        l->draining = 0;
    }
    pthread_mutex_unlock(&l->lock);
    return item;
}

uint64_t tm_lane_position(tm_lane_t *l)
{
    pthread_mutex_lock(&l->lock);
    uint64_t n = l->next;
    pthread_mutex_unlock(&l->lock);
    return n;
}
