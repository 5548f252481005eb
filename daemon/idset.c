/*
 * idset.c - a mutex-protected open-addressing hash set of strings (linear
 * probing, backward-shift deletion so no tombstones accumulate), hashed with
 * XXH3.
 */
#include "autoconfig.h"

#include "idset.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct {
    uint64_t hash;
    char *key; /* owned; NULL = empty */
} tm__slot_t;

struct tm_idset {
    pthread_mutex_t lock;
    tm__slot_t *slots;
    size_t cap; /* power of two */
    size_t count;
};

tm_idset_t *tm_idset_new(void)
{
    tm_idset_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cap = 1024;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (s->slots == NULL) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void tm_idset_destroy(tm_idset_t **sp)
{
    tm_idset_t *s = *sp;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].key);
    free(s->slots);
    pthread_mutex_destroy(&s->lock);
    free(s);
    *sp = NULL;
}

static size_t tm__find(const tm_idset_t *s, uint64_t h, const char *id)
{
    size_t i = (size_t)h & (s->cap - 1);
    while (s->slots[i].key != NULL) {
        if (s->slots[i].hash == h && strcmp(s->slots[i].key, id) == 0)
            return i;
        i = (i + 1) & (s->cap - 1);
    }
    return i; /* empty slot where id would go */
}

static int tm__grow(tm_idset_t *s)
{
    size_t ncap = s->cap * 2;
    tm__slot_t *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i].key == NULL)
            continue;
        size_t j = (size_t)s->slots[i].hash & (ncap - 1);
        while (ns[j].key != NULL)
            j = (j + 1) & (ncap - 1);
        ns[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = ns;
    s->cap = ncap;
    return 0;
}

int tm_idset_add(tm_idset_t *s, const char *id)
{
    uint64_t h = XXH3_64bits(id, strlen(id));
    int rc = 1;
    pthread_mutex_lock(&s->lock);
    if ((s->count + 1) * 2 > s->cap && tm__grow(s) != 0) {
        rc = -1;
        goto out;
    }
    size_t i = tm__find(s, h, id);
    if (s->slots[i].key != NULL) {
        rc = 0;
        goto out;
    }
    s->slots[i].key = strdup(id);
    if (s->slots[i].key == NULL) {
        rc = -1;
        goto out;
    }
    s->slots[i].hash = h;
    s->count++;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int tm_idset_remove(tm_idset_t *s, const char *id)
{
    uint64_t h = XXH3_64bits(id, strlen(id));
    pthread_mutex_lock(&s->lock);
    size_t i = tm__find(s, h, id);
    if (s->slots[i].key == NULL) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    free(s->slots[i].key);
    s->slots[i].key = NULL;
    s->count--;
    /* Backward-shift: move later members of the probe run into the hole. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & (s->cap - 1);
        if (s->slots[j].key == NULL)
            break;
        size_t home = (size_t)s->slots[j].hash & (s->cap - 1);
        /* Move j into hole unless its home lies cyclically in (hole, j]. */
        int in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            s->slots[hole] = s->slots[j];
            s->slots[j].key = NULL;
            hole = j;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return 1;
}

size_t tm_idset_count(tm_idset_t *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}
