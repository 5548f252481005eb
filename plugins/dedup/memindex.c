/*
 * memindex.c - two open-addressing hash tables with linear probing and
 * backward-shift deletion (no tombstones, so lookups stay short after many
 * evictions).
 */
#include "autoconfig.h"

#include "memindex.h"

#include <stdlib.h>
#include <sys/mman.h>

/* Tables of 2 MB and more are mapped directly and marked for transparent
 * huge pages: every lookup is a random access, and with 4 KB pages each
 * one would also miss the TLB (a page walk per probe on a 100 MB table).
 * Zero-filled like calloc. */
#define DD_BIG_TABLE (UINT64_C(2) << 20)

void *dd_table_alloc(size_t bytes)
{
    if (bytes < DD_BIG_TABLE)
        return calloc(1, bytes);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: fine if refused */
#endif
    return p;
}

void dd_table_free(void *p, size_t bytes)
{
    if (p == NULL)
        return;
    if (bytes < DD_BIG_TABLE)
        free(p);
    else
        munmap(p, bytes);
}

/* Keys are hash values already; mix anyway so that sequential test keys
 * spread out too. */
static inline uint64_t dd__mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* ---- exact map: u64 hash -> u64 seq; key 0 marks an empty slot ---- */

typedef struct {
    uint64_t key, seq;
} dd_xslot_t;

struct dd_exactmap {
    dd_xslot_t *t;
    size_t mask, count;
};

static inline uint64_t dd__xkey(uint64_t h) { return h == 0 ? 1 : h; }

dd_exactmap_t *dd_exactmap_new(void)
{
    dd_exactmap_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->mask = 1023;
    m->t = dd_table_alloc((m->mask + 1) * sizeof *m->t);
    if (m->t == NULL) {
        free(m);
        return NULL;
    }
    return m;
}

void dd_exactmap_free(dd_exactmap_t *m)
{
    if (m == NULL)
        return;
    dd_table_free(m->t, (m->mask + 1) * sizeof *m->t);
    free(m);
}

uint64_t dd_exactmap_get(const dd_exactmap_t *m, uint64_t h)
{
    h = dd__xkey(h);
    for (size_t i = dd__mix64(h) & m->mask;; i = (i + 1) & m->mask) {
        if (m->t[i].key == 0)
            return 0;
        if (m->t[i].key == h)
            return m->t[i].seq;
    }
}

static int dd__xgrow(dd_exactmap_t *m)
{
    size_t nmask = m->mask * 2 + 1;
    dd_xslot_t *nt = dd_table_alloc((nmask + 1) * sizeof *nt);
    if (nt == NULL)
        return -1;
    for (size_t i = 0; i <= m->mask; i++) {
        if (m->t[i].key == 0)
            continue;
        size_t j = dd__mix64(m->t[i].key) & nmask;
        while (nt[j].key != 0)
            j = (j + 1) & nmask;
        nt[j] = m->t[i];
    }
    dd_table_free(m->t, (m->mask + 1) * sizeof *m->t);
    m->t = nt;
    m->mask = nmask;
    return 0;
}

int dd_exactmap_put(dd_exactmap_t *m, uint64_t h, uint64_t seq)
{
    if ((m->count + 1) * 4 > (m->mask + 1) * 3 && dd__xgrow(m) != 0)
        return -1;
    h = dd__xkey(h);
    size_t i = dd__mix64(h) & m->mask;
    while (m->t[i].key != 0 && m->t[i].key != h)
        i = (i + 1) & m->mask;
    if (m->t[i].key == 0)
        m->count++;
    m->t[i].key = h;
    m->t[i].seq = seq;
    return 0;
}

void dd_exactmap_del(dd_exactmap_t *m, uint64_t h, uint64_t seq)
{
    h = dd__xkey(h);
    size_t i = dd__mix64(h) & m->mask;
    while (m->t[i].key != h) {
        if (m->t[i].key == 0)
            return;
        i = (i + 1) & m->mask;
    }
    if (m->t[i].seq != seq)
        return;
    /* backward shift */
    size_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (m->t[j].key == 0)
            break;
        size_t home = dd__mix64(m->t[j].key) & m->mask;
        /* move j to i when its home is not within (i, j] cyclically */
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->t[i] = m->t[j];
            i = j;
        }
    }
    m->t[i].key = 0;
    m->t[i].seq = 0;
    m->count--;
}

size_t dd_exactmap_count(const dd_exactmap_t *m) { return m->count; }
size_t dd_exactmap_bytes(const dd_exactmap_t *m) { return (m->mask + 1) * sizeof *m->t; }

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* dd_anchors_hash eight at a time; the rest is left to the caller.  Runs
 * only after __builtin_cpu_supports("avx2"). */
__attribute__((target("avx2"))) static size_t dd__ahash8(const uint32_t *key, size_t n,
                                                         uint64_t *out)
{
    const __m256i z = _mm256_setzero_si256(), c = _mm256_set1_epi64x(0x9E3779B1);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i k = _mm256_loadu_si256((const __m256i *)(const void *)(key + i));
        k = _mm256_sub_epi32(k, _mm256_cmpeq_epi32(k, z)); /* 0 -> 1 */
        __m256i lo = _mm256_cvtepu32_epi64(_mm256_castsi256_si128(k));
        __m256i hi = _mm256_cvtepu32_epi64(_mm256_extracti128_si256(k, 1));
        _mm256_storeu_si256((__m256i *)(void *)(out + i),
                            _mm256_srli_epi64(_mm256_mul_epu32(lo, c), 32));
        _mm256_storeu_si256((__m256i *)(void *)(out + i + 4),
                            _mm256_srli_epi64(_mm256_mul_epu32(hi, c), 32));
    }
    return i;
}
#endif

void dd_anchors_hash_many(const uint32_t *key, size_t n, uint64_t *out)
{
    size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (n >= 8 && __builtin_cpu_supports("avx2"))
        i = dd__ahash8(key, n, out);
#endif
    for (; i < n; i++)
        out[i] = dd_anchors_hash(key[i]);
}

/* ---- anchors: multimap u32 key -> u32 seq_lo; key 0 marks empty ----
 * Two tables: keys up to `split` and keys above it.  A document's index
 * keys are its hashes below the anchor threshold (the split), and only a
 * short text, with fewer than anchor_min of those, adds larger ones; but
 * every sampled hash is probed.  The probes above the split go to the
 * small second table (or nowhere while it is empty) instead of walking
 * the big one's runs.  A key's postings are all in one table, so what a
 * key finds is the same. */

typedef struct {
    uint32_t key, seq;
} dd_aslot_t;

typedef struct dd_atab {
    dd_aslot_t *t;
    size_t mask, count;
} dd_atab_t;

struct dd_anchors {
    dd_atab_t lo, hi;
    uint32_t split;
};

static inline uint32_t dd__akey(uint32_t k) { return k == 0 ? 1 : k; }
static inline size_t dd__ahome(uint32_t k, size_t mask) { return (size_t)dd_anchors_hash(k) & mask; }

/* the table of key (already mapped by dd__akey) */
static inline dd_atab_t *dd__atab(dd_anchors_t *a, uint32_t key)
{
    return key > a->split ? &a->hi : &a->lo;
}
static inline const dd_atab_t *dd__atab_c(const dd_anchors_t *a, uint32_t key)
{
    return key > a->split ? &a->hi : &a->lo;
}

static int dd__atab_init(dd_atab_t *a)
{
    a->mask = 4095;
    a->count = 0;
    a->t = dd_table_alloc((a->mask + 1) * sizeof *a->t);
    return a->t == NULL ? -1 : 0;
}

dd_anchors_t *dd_anchors_new(uint32_t split)
{
    dd_anchors_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->split = split;
    if (dd__atab_init(&a->lo) != 0 || dd__atab_init(&a->hi) != 0) {
        dd_anchors_free(a);
        return NULL;
    }
    return a;
}

void dd_anchors_free(dd_anchors_t *a)
{
    if (a == NULL)
        return;
    if (a->lo.t != NULL)
        dd_table_free(a->lo.t, (a->lo.mask + 1) * sizeof *a->lo.t);
    if (a->hi.t != NULL)
        dd_table_free(a->hi.t, (a->hi.mask + 1) * sizeof *a->hi.t);
    free(a);
}

__attribute__((noinline, cold)) static int dd__agrow(dd_atab_t *a)
{
    size_t nmask = a->mask * 2 + 1;
    dd_aslot_t *nt = dd_table_alloc((nmask + 1) * sizeof *nt);
    if (nt == NULL)
        return -1;
    for (size_t i = 0; i <= a->mask; i++) {
        if (a->t[i].key == 0)
            continue;
        size_t j = dd__ahome(a->t[i].key, nmask);
        while (nt[j].key != 0)
            j = (j + 1) & nmask;
        nt[j] = a->t[i];
    }
    dd_table_free(a->t, (a->mask + 1) * sizeof *a->t);
    a->t = nt;
    a->mask = nmask;
    return 0;
}

int dd_anchors_add(dd_anchors_t *a, uint32_t key, uint32_t seq, unsigned max_postings)
{
    return dd_anchors_add_h(a, key, dd_anchors_hash(key), seq, max_postings);
}

int dd_anchors_add_h(dd_anchors_t *anc, uint32_t key, uint64_t hash, uint32_t seq,
                     unsigned max_postings)
{
    key = dd__akey(key);
    dd_atab_t *a = dd__atab(anc, key);
    if ((a->count + 1) * 4 > (a->mask + 1) * 3 && dd__agrow(a) != 0)
        return -1;
    size_t i = (size_t)hash & a->mask;
    unsigned have = 0;
    while (a->t[i].key != 0) {
        if (a->t[i].key == key) {
            if (a->t[i].seq == seq)
                return 0; /* already there */
            if (++have >= max_postings)
                return 0;
        }
        i = (i + 1) & a->mask;
    }
    a->t[i].key = key;
    a->t[i].seq = seq;
    a->count++;
    return 1;
}

void dd_anchors_del(dd_anchors_t *anc, uint32_t key, uint32_t seq)
{
    key = dd__akey(key);
    dd_atab_t *a = dd__atab(anc, key);
    size_t i = dd__ahome(key, a->mask);
    for (;;) {
        if (a->t[i].key == 0)
            return;
        if (a->t[i].key == key && a->t[i].seq == seq)
            break;
        i = (i + 1) & a->mask;
    }
    size_t j = i;
    for (;;) {
        j = (j + 1) & a->mask;
        if (a->t[j].key == 0)
            break;
        size_t home = dd__ahome(a->t[j].key, a->mask);
        if (((j - home) & a->mask) >= ((j - i) & a->mask)) {
            a->t[i] = a->t[j];
            i = j;
        }
    }
    a->t[i].key = 0;
    a->t[i].seq = 0;
    a->count--;
}

size_t dd_anchors_get(const dd_anchors_t *a, uint32_t key, void (*fn)(void *, uint32_t),
                      void *ctx)
{
    return dd_anchors_get_h(a, key, dd_anchors_hash(key), fn, ctx);
}

size_t dd_anchors_get_h(const dd_anchors_t *anc, uint32_t key, uint64_t hash,
                        void (*fn)(void *, uint32_t), void *ctx)
{
    key = dd__akey(key);
    const dd_atab_t *a = dd__atab_c(anc, key);
    size_t n = 0;
    for (size_t i = (size_t)hash & a->mask; a->t[i].key != 0; i = (i + 1) & a->mask) {
        if (a->t[i].key == key) {
            fn(ctx, a->t[i].seq);
            n++;
        }
    }
    return n;
}

/* Groups of probes: all slots of a group are requested first, so their
 * cache misses on a large index overlap. */
#define DD_ANCHOR_GROUP 64

int dd_anchors_add_many_h(dd_anchors_t *anc, const uint32_t *keys, const uint64_t *hash,
                          size_t n, uint32_t seq, unsigned max_postings)
{
    for (size_t k = 0; k < n; k++) {
        const uint32_t key = dd__akey(keys[k]);
        dd_atab_t *a = dd__atab(anc, key);
        if (__builtin_expect((a->count + 1) * 4 > (a->mask + 1) * 3, 0) && dd__agrow(a) != 0)
            return -1;
        dd_aslot_t *const t = a->t;
        const size_t mask = a->mask;
        size_t i = (size_t)hash[k] & mask;
        unsigned have = 0;
        int add = 1;
        while (t[i].key != 0) {
            if (t[i].key == key && (t[i].seq == seq || ++have >= max_postings)) {
                add = 0; /* already there, or the key has its postings */
                break;
            }
            i = (i + 1) & mask;
        }
        if (add) {
            t[i].key = key;
            t[i].seq = seq;
            a->count++;
        }
    }
    return 0;
}

void dd_anchors_get_many_h(const dd_anchors_t *a, const uint32_t *keys, const uint64_t *hash,
                           size_t n, void (*fn)(void *ctx, size_t i, uint32_t seq_lo),
                           void *ctx)
{
    const dd_aslot_t *const lt = a->lo.t, *const ht = a->hi.t;
    const size_t lmask = a->lo.mask, hmask = a->hi.mask;
    const uint32_t split = a->split;
    const int lo_any = a->lo.count > 0, hi_any = a->hi.count > 0;
    if (!lo_any && !hi_any)
        return;
    for (size_t g = 0; g < n; g += DD_ANCHOR_GROUP) {
        size_t e = n - g < DD_ANCHOR_GROUP ? n : g + DD_ANCHOR_GROUP;
        for (size_t i = g; i < e; i++)
            if (dd__akey(keys[i]) <= split)
                __builtin_prefetch(&lt[(size_t)hash[i] & lmask]);
        for (size_t i = g; i < e; i++) {
            const uint32_t key = dd__akey(keys[i]);
            const dd_aslot_t *t;
            size_t mask;
            if (key <= split) {
                if (!lo_any)
                    continue;
                t = lt;
                mask = lmask;
            } else {
                if (!hi_any)
                    continue;
                t = ht;
                mask = hmask;
            }
            for (size_t j = (size_t)hash[i] & mask; t[j].key != 0; j = (j + 1) & mask)
                if (t[j].key == key)
                    fn(ctx, i, t[j].seq);
        }
    }
}

/* keys[0..n) of one table t (keys already known to be on its side of the
 * split), in groups whose slots are requested first. */
static inline void dd__aprobe_run(const dd_atab_t *tab, const uint32_t *keys,
                                  const uint64_t *hash, size_t n,
                                  void (*fn)(void *ctx, size_t i, uint32_t seq_lo), void *ctx,
                                  size_t i0)
{
    const dd_aslot_t *const t = tab->t;
    const size_t mask = tab->mask;
    for (size_t g = 0; g < n; g += DD_ANCHOR_GROUP) {
        size_t e = n - g < DD_ANCHOR_GROUP ? n : g + DD_ANCHOR_GROUP;
        for (size_t i = g; i < e; i++)
            __builtin_prefetch(&t[(size_t)hash[i] & mask]);
        for (size_t i = g; i < e; i++) {
            const uint32_t key = dd__akey(keys[i]);
            for (size_t j = (size_t)hash[i] & mask; t[j].key != 0; j = (j + 1) & mask)
                if (t[j].key == key)
                    fn(ctx, i0 + i, t[j].seq);
        }
    }
}

void dd_anchors_get_sorted_h(const dd_anchors_t *a, const uint32_t *keys, const uint64_t *hash,
                             size_t n, void (*fn)(void *ctx, size_t i, uint32_t seq_lo),
                             void *ctx)
{
    /* ascending keys: the ones at or below the split (after dd__akey,
     * which keeps the order) are a prefix, found by binary search */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dd__akey(keys[mid]) <= a->split)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (a->lo.count > 0)
        dd__aprobe_run(&a->lo, keys, hash, lo, fn, ctx, 0);
    if (a->hi.count > 0)
        dd__aprobe_run(&a->hi, keys + lo, hash + lo, n - lo, fn, ctx, lo);
}

void dd_anchors_prefetch(const dd_anchors_t *a, uint32_t key)
{
    key = dd__akey(key);
    const dd_atab_t *t = dd__atab_c(a, key);
    __builtin_prefetch(&t->t[(size_t)dd_anchors_hash(key) & t->mask]);
}

size_t dd_anchors_count(const dd_anchors_t *a) { return a->lo.count + a->hi.count; }
size_t dd_anchors_bytes(const dd_anchors_t *a)
{
    return (a->lo.mask + 1) * sizeof *a->lo.t + (a->hi.mask + 1) * sizeof *a->hi.t;
}
