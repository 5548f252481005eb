/*
 * verify.c - comparing two samples: the new document's, held as a hash
 * set (dd_xset_t, built once per document), with each candidate's sorted
 * sample in one pass over the candidate's entries.
 *
 * Decision: the new document x is a near duplicate of the earlier y when
 *     Jaccard >= jaccard, sharing at least min_content/2 content shingles
 *  or x's containment in y (shared / x's content) >= containment and x has
 *     at least min_content content shingles (estimated: sampled count x
 *     sampling rate),
 * so a copy cut to its first paragraphs (low Jaccard, high containment) is
 * caught, while a one-line text is not called a copy of a long article.
 *  or y's containment in x >= extension (a later, longer version of y: an
 *     updated story, a full text after a brief) with at least half the
 *     Jaccard threshold.
 * The second way is stricter on purpose: a new text that merely includes
 * an earlier short one (a round-up quoting a brief, or a short page that
 * is mostly the same site's page chrome as the new one) is no copy of it.
 */
#include "autoconfig.h"

#include "verify.h"

#include "sketch.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The bucket of h among nb (a power of two): the top log2(nb) bits of
 * h * 0x9E3779B1, taken with a multiply instead of a variable shift (which
 * needs the one shift-count register in the compare loop). */
static inline uint32_t dd__xh(uint32_t h, uint64_t nb)
{
    return (uint32_t)(((uint64_t)(h * 0x9E3779B1u) * nb) >> 32);
}

int dd_xset_build(dd_xset_t *s, const dd_sample_t *x, const uint16_t *xdf)
{
    /* about one entry per bucket: a bucket (4 lanes) overflows with
     * probability < 0.4% */
    size_t nb = 16;
    while (nb < (size_t)x->n)
        nb *= 2;
    if (nb > s->cap) {
        free(s->key);
        free(s->pos);
        free(s->occ);
        free(s->cont);
        free(s->cbits);
        s->key = aligned_alloc(16, nb * 4 * sizeof *s->key);
        s->pos = malloc(nb * sizeof *s->pos); /* n <= nb entries */
        s->occ = malloc(nb);
        s->cont = malloc(nb);
        s->cbits = malloc(nb / 8); /* n <= nb bits; nb >= 16 */
        if (s->key == NULL || s->pos == NULL || s->occ == NULL || s->cont == NULL ||
            s->cbits == NULL) {
            free(s->key);
            free(s->pos);
            free(s->occ);
            free(s->cont);
            free(s->cbits);
            memset(s, 0, sizeof *s);
            return -1;
        }
        s->cap = nb;
    }
    s->cont_lim = 0;
    s->cbits_lim = 0;
    s->mask = (uint32_t)(nb - 1);
    s->n = x->n;
    s->memo_lim[0] = s->memo_lim[1] = UINT32_MAX;
    s->memo_next = 0;
    s->filled = 0; /* dd__xset_fill, when a candidate first needs the set */
    (void)xdf;
    return 0;
}

/* The buckets of s (dd_xset_build made room) with x's entries. */
static void dd__xset_fill(dd_xset_t *s, const dd_sample_t *x)
{
    s->filled = 1;
    memset(s->occ, 0, (size_t)s->mask + 1);
    /* locals: the byte stores to occ could otherwise alias *s and *x */
    uint8_t *const occ = s->occ;
    uint32_t *const key = s->key, *const pos = s->pos;
    const uint32_t *const xh = x->h, n = x->n, mask = s->mask;
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t h = xh[i];
        uint32_t bk = dd__xh(h, (uint64_t)mask + 1);
        unsigned o = occ[bk];
        while (__builtin_expect((o & 0xF) == 0xF, 0)) {
            occ[bk] = (uint8_t)(o | 0x10);
            bk = (bk + 1) & mask;
            o = occ[bk];
        }
        unsigned lane = (unsigned)__builtin_ctz(~o & 0xF);
        occ[bk] = (uint8_t)(o | (1u << lane));
        key[bk * 4 + lane] = h;
        pos[i] = bk * 4 + lane;
    }
}

/* s->cont for limit lim (>= 1) from x's frequencies xdf. */
static void dd__xset_content(dd_xset_t *s, const uint16_t *xdf, unsigned lim)
{
    uint8_t *const cont = s->cont; /* locals: the byte stores could alias *s */
    const uint32_t *const pos = s->pos;
    const uint32_t n = s->n;
    const size_t nb = (size_t)s->mask + 1;
    s->cont_lim = lim;
    if (dd_count_below(xdf, n, lim) == n) {
        /* all content (the usual case): every occupied lane */
        const uint8_t *const occ = s->occ;
#if defined(__SSE2__)
        const __m128i lanes = _mm_set1_epi8(0x0F);
        for (size_t b = 0; b < nb; b += 16) /* nb: a multiple of 16 */
            _mm_storeu_si128((__m128i *)(void *)(cont + b),
                             _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)(occ + b)),
                                           lanes));
#else
        for (size_t b = 0; b < nb; b++)
            cont[b] = occ[b] & 0x0F;
#endif
        return;
    }
    memset(cont, 0, nb);
    for (uint32_t i = 0; i < n; i++)
        cont[pos[i] >> 2] |= (uint8_t)((xdf[i] < lim) << (pos[i] & 3));
}

void dd_xset_free(dd_xset_t *s)
{
    free(s->key);
    free(s->pos);
    free(s->occ);
    free(s->cont);
    free(s->cbits);
    memset(s, 0, sizeof *s);
}

/* Lanes of the bucket at k (4 keys) holding h, as a bit mask (occupancy
 * not applied). */
static inline unsigned dd__xmatch(const uint32_t *k, uint32_t h)
{
#if defined(__SSE2__)
    __m128i v = _mm_load_si128((const __m128i *)(const void *)k);
    return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(v, _mm_set1_epi32((int)h))));
#else
    return (unsigned)(k[0] == h) | (unsigned)(k[1] == h) << 1 | (unsigned)(k[2] == h) << 2 |
           (unsigned)(k[3] == h) << 3;
#endif
}

size_t dd_count_below(const uint16_t *v, size_t n, unsigned lim)
{
    if (lim == 0)
        return 0;
    if (lim > UINT16_MAX)
        return n;
    size_t c = 0, i = 0;
#if defined(__SSE2__)
    /* v < lim  <=>  v saturating-minus (lim - 1) is 0; eight lanes at a
     * time, counted in 16-bit lanes (-1 per hit) flushed every 4096
     * blocks, before a lane could wrap */
    const __m128i l1 = _mm_set1_epi16((short)(lim - 1)), z = _mm_setzero_si128();
    while (i + 8 <= n) {
        __m128i acc = z;
        size_t e = n - i >= 8 * 4096 ? i + 8 * 4096 : i + ((n - i) & ~(size_t)7);
        for (; i < e; i += 8) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + i));
            acc = _mm_add_epi16(acc, _mm_cmpeq_epi16(_mm_subs_epu16(x, l1), z));
        }
        /* -acc per lane, summed */
        __m128i s = _mm_madd_epi16(_mm_sub_epi16(z, acc), _mm_set1_epi16(1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
        c += (uint32_t)_mm_cvtsi128_si32(s);
    }
#endif
    for (; i < n; i++)
        c += v[i] < lim;
    return c;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
#define DD_ISECT_AVX2 1
#include <immintrin.h>

/* Bit k set when lane k of x equals some lane of y: x compared with y in
 * all eight rotations (four within each 128-bit half, times the halves
 * swapped), no data-dependent branch. */
__attribute__((target("avx2"), always_inline)) static inline unsigned dd__match8(__m256i x, __m256i y)
{
    const __m256i ys = _mm256_permute2x128_si256(y, y, 0x01); /* halves swapped */
    __m256i m = _mm256_cmpeq_epi32(x, y);
    m = _mm256_or_si256(m, _mm256_cmpeq_epi32(x, _mm256_shuffle_epi32(y, 0x39)));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi32(x, _mm256_shuffle_epi32(y, 0x4E)));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi32(x, _mm256_shuffle_epi32(y, 0x93)));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi32(x, ys));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi32(x, _mm256_shuffle_epi32(ys, 0x39)));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi32(x, _mm256_shuffle_epi32(ys, 0x4E)));
    m = _mm256_or_si256(m, _mm256_cmpeq_epi32(x, _mm256_shuffle_epi32(ys, 0x93)));
    return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(m));
}

/* Entries common to a[0..na) and b[0..nb) (b: 4-byte little-endian values
 * as stored, maybe unaligned), both ascending and distinct, into *all, and
 * those of them whose a-side bit is set in abits (bit i of abits[i / 8]:
 * a[i] is content) as the result: a merge of blocks of eight, each block
 * of a compared with its block of b in all eight rotations (vector
 * compares, no data-dependent branch), then the block with the smaller
 * last value (or both) moves on; the last entries one by one.  A pair is
 * counted in the one step that holds both.  Runs only after
 * __builtin_cpu_supports("avx2") and ("popcnt"). */
__attribute__((target("avx2,popcnt"), noinline)) static unsigned
dd__isect_avx2(const uint32_t *a, uint32_t na, const uint8_t *abits, const unsigned char *b,
               uint32_t nb, unsigned *all)
{
    unsigned c = 0, call = 0;
    uint32_t i = 0, j = 0;
    while (i + 8 <= na && j + 8 <= nb) {
        const __m256i va = _mm256_loadu_si256((const __m256i *)(const void *)(a + i));
        const __m256i vb = _mm256_loadu_si256((const __m256i *)(const void *)(b + (size_t)j * 4));
        const unsigned mm = dd__match8(va, vb);
        call += (unsigned)__builtin_popcount(mm);
        c += (unsigned)__builtin_popcount(mm & abits[i >> 3]); /* i: a multiple of 8 */
        uint32_t amax = a[i + 7], bmax;
        memcpy(&bmax, b + (size_t)(j + 7) * 4, 4);
        /* which side moves on is a coin toss: flags, not a branch (GCC
         * would otherwise jump on it) */
        uint32_t ai = amax <= bmax, bj = bmax <= amax;
        __asm__("" : "+r"(ai), "+r"(bj));
        i += ai << 3;
        j += bj << 3;
    }
    while (i < na && j < nb) {
        uint32_t av = a[i], bv;
        memcpy(&bv, b + (size_t)j * 4, 4);
        const unsigned eq = av == bv;
        call += eq;
        c += eq & (unsigned)(abits[i >> 3] >> (i & 7));
        i += av <= bv;
        j += bv <= av;
    }
    *all = call;
    return c;
}

/* The entries of b[0..nb) (as in dd__isect_avx2) that are not in
 * a[0..na), in order, into out; returns how many.  The same merge of
 * blocks of eight, each block of b compared with its block of a in all
 * eight rotations; a block of b is written out (its entries no step
 * matched) when it moves on. */
__attribute__((target("avx2"), noinline)) static unsigned dd__bonly_avx2(const uint32_t *a, uint32_t na,
                                                               const unsigned char *b,
                                                               uint32_t nb, uint32_t *out)
{
    unsigned n = 0, bm = 0; /* bm: lanes of b's current block matched so far */
    uint32_t i = 0, j = 0;
    while (i + 8 <= na && j + 8 <= nb) {
        const __m256i va = _mm256_loadu_si256((const __m256i *)(const void *)(a + i));
        const __m256i vb = _mm256_loadu_si256((const __m256i *)(const void *)(b + (size_t)j * 4));
        bm |= dd__match8(vb, va);
        uint32_t amax = a[i + 7], bmax;
        memcpy(&bmax, b + (size_t)(j + 7) * 4, 4);
        i += (uint32_t)(amax <= bmax) << 3;
        if (bmax <= amax) {
            for (unsigned k = 0; k < 8; k++) {
                memcpy(&out[n], b + (size_t)(j + k) * 4, 4);
                n += !(bm >> k & 1u);
            }
            bm = 0;
            j += 8;
        }
    }
    /* the rest of b one by one (the first eight maybe matched already) */
    const uint32_t j0 = j;
    for (; j < nb; j++) {
        uint32_t bv;
        memcpy(&bv, b + (size_t)j * 4, 4);
        while (i < na && a[i] < bv)
            i++;
        const int matched = (j - j0 < 8 && (bm >> (j - j0) & 1u)) || (i < na && a[i] == bv);
        out[n] = bv;
        n += !matched;
    }
    return n;
}

/* s->cbits for limit lim (>= 1): bit i set when xdf[i] < lim; sixteen
 * entries per step (as dd_count_below). */
__attribute__((target("avx2"), noinline)) static void dd__xset_cbits(dd_xset_t *s, const uint16_t *xdf,
                                                           unsigned lim)
{
    uint8_t *const cb = s->cbits;
    const uint32_t n = s->n;
    s->cbits_lim = lim;
    if (lim > UINT16_MAX) {
        memset(cb, 0xFF, ((size_t)n + 7) / 8);
        return;
    }
    const __m128i l1 = _mm_set1_epi16((short)(lim - 1)), z = _mm_setzero_si128();
    uint32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(xdf + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(xdf + i + 8));
        a = _mm_cmpeq_epi16(_mm_subs_epu16(a, l1), z);
        b = _mm_cmpeq_epi16(_mm_subs_epu16(b, l1), z);
        const uint16_t bits = (uint16_t)_mm_movemask_epi8(_mm_packs_epi16(a, b));
        memcpy(cb + i / 8, &bits, 2);
    }
    if (i < n) {
        memset(cb + i / 8, 0, ((size_t)n + 7) / 8 - i / 8);
        for (; i < n; i++)
            cb[i >> 3] |= (uint8_t)((xdf[i] < lim) << (i & 7));
    }
}
#endif

/* x's content entries among its first xe (those <= tau). */
static unsigned dd__count_x(dd_xset_t *xs, const uint16_t *xdf, uint32_t xe, unsigned lim)
{
    if (lim == 0)
        return xe;
    int whole = xe == xs->n;
    if (whole)
        for (int k = 0; k < 2; k++)
            if (xs->memo_lim[k] == lim)
                return xs->memo_nx[k];
    unsigned nx = (unsigned)dd_count_below(xdf, xe, lim);
    if (whole) {
        xs->memo_lim[xs->memo_next] = lim;
        xs->memo_nx[xs->memo_next] = nx;
        xs->memo_next ^= 1;
    }
    return nx;
}

/* y's entries yh[0..ye) looked up in the set xs (filled on first use):
 * returns the shared ones that are content for lim (0: every one), and
 * y's own ones into scratch (*nyonly of them). */
static unsigned dd__set_pass(dd_xset_t *xs, const dd_sample_t *x, const uint16_t *xdf,
                             unsigned lim, const unsigned char *yh, uint32_t ye,
                             uint32_t *scratch, unsigned *nyonly_out)
{
    unsigned ni = 0, nyonly = 0;
    const unsigned lim1 = lim == 0 ? UINT32_MAX : lim;
    if (!xs->filled)
        dd__xset_fill(xs, x);
    if (xs->cont_lim != lim1)
        dd__xset_content(xs, xdf, lim1);
    const uint8_t *occ = xs->occ, *cont = xs->cont;
    const uint32_t *key = xs->key;
    const uint32_t mask = xs->mask;
    const uint64_t nb = (uint64_t)mask + 1;
    for (uint32_t j = 0; j < ye; j++) {
        uint32_t b;
        memcpy(&b, yh + (size_t)j * 4, 4);
        uint32_t bk = dd__xh(b, nb);
        unsigned o = occ[bk];
        unsigned m = dd__xmatch(key + (size_t)bk * 4, b) & o;
        if (__builtin_expect((o & 0x10) != 0, 0)) {
            /* the bucket spilled over: look on */
            while (m == 0 && (o & 0x10)) {
                bk = (bk + 1) & mask;
                o = occ[bk];
                m = dd__xmatch(key + (size_t)bk * 4, b) & o;
            }
        }
        /* shared, and content by x's frequency (one lane at most) */
        ni += (m & cont[bk]) != 0;
        scratch[nyonly] = b;
        nyonly += m == 0;
    }
    *nyonly_out = nyonly;
    return ni;
}

void dd_compare(const dd_verify_cfg_t *c, const dd_sample_t *x, dd_xset_t *xs,
                const uint16_t *xdf, const dd_record_t *y, const dd_df_t *df, unsigned limit,
                uint32_t *scratch, uint16_t *scratch_df, dd_cmp_t *out)
{
    uint32_t tau = x->tau < y->tau ? x->tau : y->tau;
    unsigned nx = 0, ny = 0, ni = 0, nyonly = 0;
    const unsigned lim = limit;
    /* Both samples hold every hash <= tau of their texts: compare on that
     * range.  x's content shingles there: */
    uint32_t xe = x->n;
    if (tau < x->tau) {
        uint32_t lo = 0, hi = x->n; /* first entry > tau */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (x->h[mid] <= tau)
                lo = mid + 1;
            else
                hi = mid;
        }
        xe = lo;
    }
    nx = dd__count_x(xs, xdf, xe, lim);
    const unsigned char *yh = (const unsigned char *)y->h;
    /* y's entries <= tau: the first ye (ascending) */
    uint32_t ye = y->n;
    if (tau < y->tau) {
        uint32_t lo = 0, hi = y->n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            uint32_t v;
            memcpy(&v, yh + (size_t)mid * 4, 4);
            if (v <= tau)
                lo = mid + 1;
            else
                hi = mid;
        }
        ye = lo;
    }
    /* Shared entries (content unless x's frequency says boilerplate): ni;
     * y's own entries: nyonly, in scratch when collected. */
    int collected;
#ifdef DD_ISECT_AVX2
    const int merge = !xs->no_isect && __builtin_cpu_supports("avx2") &&
                      __builtin_cpu_supports("popcnt");
#else
    const int merge = 0;
#endif
    if (merge) {
#ifdef DD_ISECT_AVX2
        /* The two sorted lists merged: the intersection, counted where
         * x's entry is content; y's own entries are the rest of ye, and
         * collected (by a second merge) only when the work cap below needs
         * their frequencies. */
        const unsigned lim1 = lim == 0 ? UINT32_MAX : lim;
        if (xs->cbits_lim != lim1)
            dd__xset_cbits(xs, xdf, lim1);
        unsigned nall = 0;
        ni = dd__isect_avx2(x->h, xe, xs->cbits, yh, ye, &nall);
        nyonly = ye - nall;
        collected = 0;
#endif
    } else {
        ni = dd__set_pass(xs, x, xdf, lim, yh, ye, scratch, &nyonly);
        collected = 1;
    }
    ny = ni;
    /* Work cap: the discount can only lower ny (y's shingles found only in
     * y, left out when they are boilerplate), and with it raise Jaccard up
     * to ni/nx = cx at most.  When neither containment passes nor cx reaches
     * the lowest Jaccard any rule needs (half the threshold, `extends`),
     * no discount can make y pass: skip y's document-frequency lookups
     * (one cache miss each) and count all of its shingles, so a far
     * candidate costs one pass over its sample.  Only its reported
     * Jaccard (a "nearest" for tuning) is then the undiscounted one. */
    double cx = nx > 0 ? (double)ni / nx : 0.0;
    double scale0 = 4294967296.0 / ((double)tau + 1.0);
    int may_copy = cx >= c->containment && (double)nx * scale0 >= (double)c->min_content;
    if (df == NULL || lim == 0 || (!may_copy && cx < c->jaccard / 2)) {
        ny += nyonly;
    } else {
#ifdef DD_ISECT_AVX2
        if (!collected)
            nyonly = dd__bonly_avx2(x->h, xe, yh, ye, scratch);
#endif
        (void)collected;
        dd_df_get_many(df, scratch, nyonly, scratch_df);
        for (unsigned k = 0; k < nyonly; k++)
            ny += scratch_df[k] < lim;
    }
    out->nx = nx;
    out->ny = ny;
    out->ni = ni;
    unsigned uni = nx + ny - ni;
    out->jaccard = uni > 0 ? (double)ni / uni : 0.0;
    out->cx = nx > 0 ? (double)ni / nx : 0.0;
    out->cy = ny > 0 ? (double)ni / ny : 0.0;
    /* Content in shingles: sample counts scaled by the sampling rate of the
     * compared range. */
    double scale = 4294967296.0 / ((double)tau + 1.0);
    out->small = (double)nx * scale;
    int copy = out->cx >= c->containment && out->small >= (double)c->min_content;
    int extends = out->cy >= c->extension && (double)ny * scale >= (double)c->min_content &&
                  out->jaccard >= c->jaccard / 2;
    /* Resemblance alone needs some shared content too: two texts of a
     * handful of shingles (one repeated word, a two-line stub) resemble
     * each other by chance. */
    int resembles = out->jaccard >= c->jaccard && (double)ni * scale * 2.0 >= (double)c->min_content;
    out->pass = ni > 0 && (resembles || copy || extends);
}
