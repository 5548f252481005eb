/*
 * dftable.c - sliding-window shingle document frequency in a count-min
 * sketch, with a FIFO of contributions to subtract when they expire.
 */
#include "dftable.h"

#include <stdlib.h>

struct dd_df {
    uint16_t *row[2];
    uint32_t mask;
    /* FIFO of contributed hashes (ring) and of per-document counts */
    uint32_t *fifo;
    size_t fifo_cap, fifo_head, fifo_used;
    struct dd_dfdoc { uint32_t n; uint64_t cluster; } *docs;
    size_t docs_cap, docs_head, docs_used;
    /* cluster -> documents in the window (open addressing, key 0 = empty) */
    struct dd_dfcl { uint64_t cluster; uint32_t count; } *cl;
    size_t cl_mask, cl_count;
};

static inline size_t dd__clh(uint64_t k, size_t mask)
{
    k *= UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(k >> 29) & mask;
}

static struct dd_dfcl *dd__cl_find(const dd_df_t *df, uint64_t cluster)
{
    for (size_t i = dd__clh(cluster, df->cl_mask);; i = (i + 1) & df->cl_mask) {
        if (df->cl[i].cluster == cluster)
            return &df->cl[i];
        if (df->cl[i].cluster == 0)
            return NULL;
    }
}

static void dd__cl_del(dd_df_t *df, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & df->cl_mask;
        if (df->cl[j].cluster == 0)
            break;
        size_t home = dd__clh(df->cl[j].cluster, df->cl_mask);
        if (((j - home) & df->cl_mask) >= ((j - i) & df->cl_mask)) {
            df->cl[i] = df->cl[j];
            i = j;
        }
    }
    df->cl[i].cluster = 0;
    df->cl[i].count = 0;
    df->cl_count--;
}

unsigned dd_df_cluster(const dd_df_t *df, uint64_t cluster)
{
    const struct dd_dfcl *e = cluster != 0 ? dd__cl_find(df, cluster) : NULL;
    return e != NULL ? e->count : 0;
}

static inline uint32_t dd__slot(uint32_t h, int r, uint32_t mask)
{
    /* two independent slots from one 32-bit hash: remix it */
    uint32_t x = h * (r == 0 ? 0x9E3779B1u : 0x85EBCA77u);
    x ^= x >> 15;
    x *= r == 0 ? 0x2C1B3C6Du : 0x297A2D39u;
    x ^= x >> 12;
    return x & mask;
}

dd_df_t *dd_df_new(unsigned window, unsigned per_doc)
{
    dd_df_t *df = calloc(1, sizeof *df);
    if (df == NULL)
        return NULL;
    if (window == 0)
        window = 1;
    if (per_doc == 0)
        per_doc = 1;
    df->docs_cap = window;
    /* at most `window` clusters are live: keep the table under half full */
    size_t cm = 64;
    while (cm < 2 * (size_t)window + 2)
        cm *= 2;
    df->cl_mask = cm - 1;
    df->cl = calloc(cm, sizeof *df->cl);
    /* Room for an average of half the per-document maximum. */
    df->fifo_cap = (size_t)window * (per_doc / 2 + 1);
    if (df->fifo_cap < per_doc)
        df->fifo_cap = per_doc;
    /* Width: a power of two >= 2 x the hashes held, so a row's load stays
     * at or below one half. */
    size_t w = 1024;
    while (w < 2 * df->fifo_cap && w < (1u << 30))
        w *= 2;
    df->mask = (uint32_t)(w - 1);
    df->row[0] = calloc(w, sizeof(uint16_t));
    df->row[1] = calloc(w, sizeof(uint16_t));
    df->fifo = malloc(df->fifo_cap * sizeof *df->fifo);
    df->docs = malloc(df->docs_cap * sizeof *df->docs);
    if (df->row[0] == NULL || df->row[1] == NULL || df->fifo == NULL || df->docs == NULL ||
        df->cl == NULL) {
        dd_df_free(df);
        return NULL;
    }
    return df;
}

void dd_df_free(dd_df_t *df)
{
    if (df == NULL)
        return;
    free(df->row[0]);
    free(df->row[1]);
    free(df->fifo);
    free(df->docs);
    free(df->cl);
    free(df);
}

unsigned dd_df_get(const dd_df_t *df, uint32_t h)
{
    uint16_t a = df->row[0][dd__slot(h, 0, df->mask)];
    uint16_t b = df->row[1][dd__slot(h, 1, df->mask)];
    return a < b ? a : b;
}

static void dd__expire_one(dd_df_t *df)
{
    uint32_t n = df->docs[df->docs_head].n;
    uint64_t cluster = df->docs[df->docs_head].cluster;
    df->docs_head = (df->docs_head + 1) % df->docs_cap;
    if (cluster != 0) {
        struct dd_dfcl *e = dd__cl_find(df, cluster);
        if (e != NULL && --e->count == 0)
            dd__cl_del(df, (size_t)(e - df->cl));
    }
    df->docs_used--;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = df->fifo[df->fifo_head];
        df->fifo_head = (df->fifo_head + 1) % df->fifo_cap;
        for (int r = 0; r < 2; r++) {
            uint16_t *c = &df->row[r][dd__slot(h, r, df->mask)];
            if (*c > 0 && *c < UINT16_MAX)
                (*c)--;
        }
    }
    df->fifo_used -= n;
}

int dd_df_add(dd_df_t *df, const uint32_t *h, size_t n, uint64_t cluster)
{
    if (n > df->fifo_cap)
        return -1;
    while (df->docs_used > 0 && (df->docs_used == df->docs_cap || df->fifo_used + n > df->fifo_cap))
        dd__expire_one(df);
    if (cluster != 0) {
        struct dd_dfcl *e = dd__cl_find(df, cluster);
        if (e == NULL) {
            /* docs_used < docs_cap here, so the table has room */
            size_t i = dd__clh(cluster, df->cl_mask);
            while (df->cl[i].cluster != 0)
                i = (i + 1) & df->cl_mask;
            e = &df->cl[i];
            e->cluster = cluster;
            e->count = 0;
            df->cl_count++;
        }
        e->count++;
    }
    size_t tail = (df->fifo_head + df->fifo_used) % df->fifo_cap;
    for (size_t i = 0; i < n; i++) {
        df->fifo[tail] = h[i];
        tail = (tail + 1) % df->fifo_cap;
        for (int r = 0; r < 2; r++) {
            uint16_t *c = &df->row[r][dd__slot(h[i], r, df->mask)];
            if (*c < UINT16_MAX) /* saturated counters stay (never under-estimate) */
                (*c)++;
        }
    }
    df->fifo_used += n;
    df->docs[(df->docs_head + df->docs_used) % df->docs_cap] =
        (struct dd_dfdoc){(uint32_t)n, cluster};
    df->docs_used++;
    return 0;
}

size_t dd_df_bytes(const dd_df_t *df)
{
    return 2 * ((size_t)df->mask + 1) * sizeof(uint16_t) + df->fifo_cap * sizeof *df->fifo +
           df->docs_cap * sizeof *df->docs + (df->cl_mask + 1) * sizeof *df->cl;
}
