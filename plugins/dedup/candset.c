/*
 * candset.c - a small hash table of (seq, score) and a partial selection
 * of the best entries.
 */
#include "autoconfig.h"

#include "candset.h"

#include <stdlib.h>
#include <string.h>

static inline size_t dd__h(uint64_t s, size_t mask)
{
    s *= UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(s >> 32) & mask;
}

void dd_candset_reset(dd_candset_t *c)
{
    if (c->t != NULL && c->count > 0) {
        /* large tables left by a huge query are freed; otherwise only the
         * slots this query filled are cleared (not the whole table) */
        if (c->mask > 4095) {
            free(c->t);
            free(c->used);
            c->t = NULL;
            c->used = NULL;
            c->mask = 0;
        } else {
            for (size_t k = 0; k < c->count; k++)
                c->t[c->used[k]] = (dd_hit_t){0, 0.0f};
        }
    }
    c->count = 0;
}

static int dd__grow(dd_candset_t *c)
{
    size_t nmask = c->mask ? c->mask * 2 + 1 : 255;
    dd_hit_t *nt = calloc(nmask + 1, sizeof *nt);
    /* at most half full: room for (nmask + 1) / 2 slot numbers */
    uint32_t *nu = malloc((nmask + 1) / 2 * sizeof *nu);
    if (nt == NULL || nu == NULL || nmask > UINT32_MAX) {
        free(nt);
        free(nu);
        return -1;
    }
    for (size_t k = 0; k < c->count; k++) {
        const dd_hit_t *h = &c->t[c->used[k]];
        size_t j = dd__h(h->seq, nmask);
        while (nt[j].seq != 0)
            j = (j + 1) & nmask;
        nt[j] = *h;
        nu[k] = (uint32_t)j;
    }
    free(c->t);
    free(c->used);
    c->t = nt;
    c->used = nu;
    c->mask = nmask;
    return 0;
}

int dd_candset_hit(dd_candset_t *c, uint64_t seq, float w)
{
    if ((c->t == NULL || (c->count + 1) * 2 > c->mask + 1) && dd__grow(c) != 0)
        return -1;
    size_t i = dd__h(seq, c->mask);
    while (c->t[i].seq != 0 && c->t[i].seq != seq)
        i = (i + 1) & c->mask;
    if (c->t[i].seq == 0) {
        c->t[i].seq = seq;
        c->used[c->count++] = (uint32_t)i;
    }
    c->t[i].score += w;
    return 0;
}

static int dd__better(const dd_hit_t *a, const dd_hit_t *b)
{
    return a->score > b->score || (a->score == b->score && a->seq < b->seq);
}

size_t dd_candset_top(dd_candset_t *c, size_t k)
{
    if (k == 0 || c->count == 0)
        return 0;
    if (k > c->top_cap) {
        dd_hit_t *nt = realloc(c->top, k * sizeof *nt);
        if (nt == NULL)
            return 0;
        c->top = nt;
        c->top_cap = k;
    }
    size_t n = 0;
    /* the order of the scan does not matter: better() is a total order */
    for (size_t u = 0; u < c->count; u++) {
        dd_hit_t h = c->t[c->used[u]];
        if (n == k && !dd__better(&h, &c->top[n - 1]))
            continue;
        size_t j = n < k ? n++ : n - 1;
        while (j > 0 && dd__better(&h, &c->top[j - 1])) {
            c->top[j] = c->top[j - 1];
            j--;
        }
        c->top[j] = h;
    }
    return n;
}

void dd_candset_free(dd_candset_t *c)
{
    free(c->t);
    free(c->top);
    free(c->used);
    memset(c, 0, sizeof *c);
}
