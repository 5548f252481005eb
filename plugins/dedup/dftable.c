/*
 * dftable.c - sliding-window shingle document frequency in a count-min
 * sketch, with a FIFO of contributions to subtract when they expire.
 */
#include "autoconfig.h"

#include "dftable.h"
#include "memindex.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define DD_DF_AVX2 1 /* dd_df_slots: eight at a time when the CPU has AVX2 */
#include <immintrin.h>
#endif

struct dd_df {
    uint16_t *t;       /* lines of 32 counters (64 bytes) */
    uint32_t lines_mask;
    /* FIFO of contributed counters (ring: counter a's index, counter b's
     * lane in the same line) and of per-document counts */
    uint32_t *fifo;
    uint8_t *fifo_b;
    size_t fifo_cap, fifo_head, fifo_used;
    struct dd_dfdoc { uint32_t n; uint64_t cluster; } *docs;
    size_t docs_cap, docs_head, docs_used;
    /* cluster -> documents in the window (open addressing, key 0 = empty) */
    struct dd_dfcl { uint64_t cluster; uint32_t count; } *cl;
    size_t cl_mask, cl_count;
    int avx2; /* dd_df_slots may use AVX2 */
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

/* Blocked count-min: both counters of a hash lie in one 64-byte line, so
 * a lookup costs one cache miss instead of two. */
#define DD_LINE 32

static inline uint32_t dd__line_no(const dd_df_t *df, uint32_t h)
{
    uint32_t x = h * 0x9E3779B1u;
    x ^= x >> 16;
    return x & df->lines_mask;
}

static inline void dd__pos(uint32_t h, unsigned *a, unsigned *b)
{
    uint32_t x = h * 0x85EBCA77u;
    x ^= x >> 13;
    *a = x & (DD_LINE - 1);
    /* (x >> 5) % 31 as one multiply: exact for every value below 2^27
     * (checked exhaustively); the compiler's general sequence is longer */
    uint32_t v = x >> 5, q = (uint32_t)(((uint64_t)v * 138547333u) >> 32);
    *b = (*a + 1 + (v - q * (DD_LINE - 1))) & (DD_LINE - 1); /* != *a */
}

/* h's counters as a slot: counter a's index in t (lines * 32 < 2^32) in
 * the low half, counter b's (in the same line) in the high half. */
static inline dd_dfslot_t dd__slot(const dd_df_t *df, uint32_t h)
{
    unsigned a, b;
    dd__pos(h, &a, &b);
    uint32_t base = dd__line_no(df, h) * DD_LINE;
    return (uint64_t)(base | b) << 32 | (base | a);
}

static inline uint32_t dd__slot_a(dd_dfslot_t s) { return (uint32_t)s; }
static inline uint32_t dd__slot_b(dd_dfslot_t s) { return (uint32_t)(s >> 32); }

static inline unsigned dd__get_slot(const dd_df_t *df, dd_dfslot_t s)
{
    unsigned x = df->t[dd__slot_a(s)], y = df->t[dd__slot_b(s)];
    return x < y ? x : y;
}

static inline unsigned dd__get(const dd_df_t *df, uint32_t h)
{
    return dd__get_slot(df, dd__slot(df, h));
}

static inline void dd__bump1(uint16_t *c, int up)
{
    unsigned v = *c;
    if (up)
        *c = (uint16_t)(v + (v < UINT16_MAX));
    else /* saturated counters stay (never under-estimate) */
        *c = (uint16_t)(v - (v > 0 && v < UINT16_MAX));
}

static inline void dd__bump(dd_df_t *df, uint32_t a, uint32_t b, int up)
{
    dd__bump1(&df->t[a], up);
    dd__bump1(&df->t[b], up);
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
#ifdef DD_DF_AVX2
    df->avx2 = __builtin_cpu_supports("avx2");
#endif
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
    /* Width: a power of two >= 3 x the hashes held (each adds 2 counts),
     * so at most 2/3 of a count per counter on average. */
    size_t w = 1024;
    while (w < 3 * df->fifo_cap && w < (1u << 30))
        w *= 2;
    df->lines_mask = (uint32_t)(w / DD_LINE - 1);
    df->t = dd_table_alloc(w * sizeof(uint16_t)); /* page-aligned when big */
    df->fifo = malloc(df->fifo_cap * sizeof *df->fifo);
    df->fifo_b = malloc(df->fifo_cap);
    df->docs = malloc(df->docs_cap * sizeof *df->docs);
    if (df->t == NULL || df->fifo == NULL || df->fifo_b == NULL || df->docs == NULL ||
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
    dd_table_free(df->t, ((size_t)df->lines_mask + 1) * DD_LINE * sizeof(uint16_t));
    free(df->fifo);
    free(df->fifo_b);
    free(df->docs);
    free(df->cl);
    free(df);
}

unsigned dd_df_get(const dd_df_t *df, uint32_t h) { return dd__get(df, h); }

/* Lookups go in groups: all of a group's lines are requested first, so
 * their cache misses overlap instead of costing one memory latency each. */
#define DD_GROUP 64


dd_dfslot_t dd_df_slot(const dd_df_t *df, uint32_t h) { return dd__slot(df, h); }

#ifdef DD_DF_AVX2
/* dd__slot of h[0..n & ~7) with AVX2, eight at a time: the same integer
 * arithmetic (32-bit lanes; the multiply-high of dd__pos from two 64-bit
 * products).  Runs only after __builtin_cpu_supports("avx2"). */
__attribute__((target("avx2"))) static size_t dd__slots8(const dd_df_t *df, const uint32_t *h,
                                                          size_t n, dd_dfslot_t *slot)
{
    const __m256i k1 = _mm256_set1_epi32((int)0x85EBCA77u), k2 = _mm256_set1_epi32((int)0x9E3779B1u),
                  kq = _mm256_set1_epi32(138547333), m31 = _mm256_set1_epi32(DD_LINE - 1),
                  one = _mm256_set1_epi32(1),
                  lmask = _mm256_set1_epi32((int)df->lines_mask);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i hv = _mm256_loadu_si256((const __m256i *)(const void *)(h + i));
        /* dd__pos */
        __m256i x = _mm256_mullo_epi32(hv, k1);
        x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 13));
        __m256i a = _mm256_and_si256(x, m31);
        __m256i v = _mm256_srli_epi32(x, 5);
        __m256i pe = _mm256_srli_epi64(_mm256_mul_epu32(v, kq), 32);
        __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(v, 32), kq);
        __m256i q = _mm256_blend_epi32(pe, po, 0xAA);
        __m256i r = _mm256_sub_epi32(v, _mm256_sub_epi32(_mm256_slli_epi32(q, 5), q));
        __m256i b = _mm256_and_si256(_mm256_add_epi32(_mm256_add_epi32(a, one), r), m31);
        /* dd__line_no */
        __m256i l = _mm256_mullo_epi32(hv, k2);
        l = _mm256_and_si256(_mm256_xor_si256(l, _mm256_srli_epi32(l, 16)), lmask);
        __m256i base = _mm256_slli_epi32(l, 5);
        __m256i ai = _mm256_or_si256(base, a), bi = _mm256_or_si256(base, b);
        /* (a | b << 32) per hash, in order */
        __m256i lo = _mm256_unpacklo_epi32(ai, bi), hi = _mm256_unpackhi_epi32(ai, bi);
        _mm256_storeu_si256((__m256i *)(void *)(slot + i), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(void *)(slot + i + 4),
                            _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    return i;
}
#endif

void dd_df_slots(const dd_df_t *df, const uint32_t *h, size_t n, dd_dfslot_t *slot)
{
    size_t i = 0;
#ifdef DD_DF_AVX2
    if (df->avx2) {
        i = dd__slots8(df, h, n, slot);
        for (size_t k = 0; k < i; k++)
            __builtin_prefetch(df->t + dd__slot_a(slot[k]));
    }
#endif
    for (; i < n; i++) {
        slot[i] = dd__slot(df, h[i]);
        __builtin_prefetch(df->t + dd__slot_a(slot[i]));
    }
}

void dd_df_get_many(const dd_df_t *df, const uint32_t *h, size_t n, uint16_t *out)
{
    dd_dfslot_t slot[DD_GROUP];
    for (size_t g = 0; g < n; g += DD_GROUP) {
        size_t e = n - g < DD_GROUP ? n - g : DD_GROUP;
        dd_df_slots(df, h + g, e, slot); /* requests each line */
        for (size_t i = 0; i < e; i++) {
            unsigned v = dd__get_slot(df, slot[i]);
            out[g + i] = (uint16_t)(v < UINT16_MAX ? v : UINT16_MAX);
        }
    }
}

void dd_df_get_slots(const dd_df_t *df, const dd_dfslot_t *slot, size_t n, uint16_t *out)
{
    for (size_t g = 0; g < n; g += DD_GROUP) {
        size_t e = n - g < DD_GROUP ? n : g + DD_GROUP;
        for (size_t i = g; i < e; i++)
            __builtin_prefetch(df->t + dd__slot_a(slot[i]));
        for (size_t i = g; i < e; i++) {
            unsigned v = dd__get_slot(df, slot[i]);
            out[i] = (uint16_t)(v < UINT16_MAX ? v : UINT16_MAX);
        }
    }
}

static void dd__expire_one(dd_df_t *df)
{
    uint32_t n = df->docs[df->docs_head].n;
    uint64_t cluster = df->docs[df->docs_head].cluster;
    if (++df->docs_head == df->docs_cap)
        df->docs_head = 0;
    if (cluster != 0) {
        struct dd_dfcl *e = dd__cl_find(df, cluster);
        if (e != NULL && --e->count == 0)
            dd__cl_del(df, (size_t)(e - df->cl));
    }
    df->docs_used--;
    size_t head = df->fifo_head;
    for (uint32_t i = 0; i < n; i += DD_GROUP) {
        uint32_t e = n - i < DD_GROUP ? n : i + DD_GROUP;
        size_t p = head;
        for (uint32_t k = i; k < e; k++) {
            __builtin_prefetch(df->t + df->fifo[p]);
            if (++p == df->fifo_cap)
                p = 0;
        }
        for (uint32_t k = i; k < e; k++) {
            uint32_t a = df->fifo[head];
            dd__bump(df, a, (a & ~(uint32_t)(DD_LINE - 1)) | df->fifo_b[head], 0);
            if (++head == df->fifo_cap)
                head = 0;
        }
    }
    df->fifo_head = head;
    df->fifo_used -= n;
}

/* Make room for n contributions and count the document in its cluster;
 * returns the FIFO position for them, or SIZE_MAX when n is too large. */
static size_t dd__add_begin(dd_df_t *df, size_t n, uint64_t cluster)
{
    if (n > df->fifo_cap)
        return SIZE_MAX;
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
    size_t tail = df->fifo_head + df->fifo_used;
    if (tail >= df->fifo_cap)
        tail -= df->fifo_cap;
    return tail;
}

static void dd__add_end(dd_df_t *df, size_t n, uint64_t cluster)
{
    df->fifo_used += n;
    df->docs[(df->docs_head + df->docs_used) % df->docs_cap] =
        (struct dd_dfdoc){(uint32_t)n, cluster};
    df->docs_used++;
}

int dd_df_add_slots(dd_df_t *df, const dd_dfslot_t *slot, size_t n, uint64_t cluster)
{
    size_t tail = dd__add_begin(df, n, cluster);
    if (tail == SIZE_MAX)
        return -1;
    /* no prefetching: the lane read these lines (dd_df_get_slots) just
     * before.  The table and FIFO pointers in locals: the stores through
     * them could otherwise alias *df, and be reloaded per entry. */
    uint16_t *const t = df->t;
    uint32_t *const fifo = df->fifo;
    uint8_t *const fifo_b = df->fifo_b;
    const size_t cap = df->fifo_cap;
    for (size_t i = 0; i < n;) {
        /* up to the FIFO's end, then on from its start */
        size_t e = cap - tail < n - i ? i + (cap - tail) : n;
        for (; i < e; i++, tail++) {
            const uint32_t a = dd__slot_a(slot[i]), b = dd__slot_b(slot[i]);
            fifo[tail] = a;
            fifo_b[tail] = (uint8_t)(b & (DD_LINE - 1));
            /* saturating increments as a compare with the counter in
             * memory and a (predicted) branch: a counter is full rarely */
            if (__builtin_expect(t[a] != UINT16_MAX, 1))
                t[a]++;
            if (__builtin_expect(t[b] != UINT16_MAX, 1))
                t[b]++;
        }
        if (tail == cap)
            tail = 0;
    }
    dd__add_end(df, n, cluster);
    return 0;
}

int dd_df_add(dd_df_t *df, const uint32_t *h, size_t n, uint64_t cluster)
{
    size_t tail = dd__add_begin(df, n, cluster);
    if (tail == SIZE_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        dd_dfslot_t sl = dd__slot(df, h[i]);
        df->fifo[tail] = dd__slot_a(sl);
        df->fifo_b[tail] = (uint8_t)(dd__slot_b(sl) & (DD_LINE - 1));
        if (++tail == df->fifo_cap)
            tail = 0;
        dd__bump(df, dd__slot_a(sl), dd__slot_b(sl), 1);
    }
    dd__add_end(df, n, cluster);
    return 0;
}

size_t dd_df_bytes(const dd_df_t *df)
{
    return ((size_t)df->lines_mask + 1) * DD_LINE * sizeof(uint16_t) +
           df->fifo_cap * (sizeof *df->fifo + 1) +
           df->docs_cap * sizeof *df->docs + (df->cl_mask + 1) * sizeof *df->cl;
}
