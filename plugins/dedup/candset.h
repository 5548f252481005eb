/*
 * candset.h - scoring candidate documents by the keys they share with the
 * query (each key weighted, rarer keys weigh more) and picking the best
 * few (highest score first, then the earliest).  Reused per document.
 */
#ifndef DD_CANDSET_H
#define DD_CANDSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct dd_hit {
    uint64_t seq;
    float score;
} dd_hit_t;

typedef struct dd_candset {
    dd_hit_t *t;     /* open addressing on seq; seq 0 = empty */
    size_t mask, count;
    dd_hit_t *top;   /* result of dd_candset_top */
    size_t top_cap;
    uint32_t *used;  /* the occupied slots, in filling order (count of them) */
} dd_candset_t;

void dd_candset_reset(dd_candset_t *c);
/* Add w to seq's score (seq >= 1).  -1 when out of memory. */
int dd_candset_hit(dd_candset_t *c, uint64_t seq, float w);
/* The k best into c->top; returns how many. */
size_t dd_candset_top(dd_candset_t *c, size_t k);
void dd_candset_free(dd_candset_t *c);

#endif
