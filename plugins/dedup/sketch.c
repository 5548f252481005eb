/*
 * sketch.c - shingling, the exact hash, the consistent sample, and the
 * record codec.
 */
#include "autoconfig.h"

#include "sketch.h"

#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "texthash.h"

/* inlined (same values as libxxhash): one hash per shingle */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* The 4-word shingle hash written out (dd__shingle_hashes): needs a
 * 128-bit multiply and a little-endian host; elsewhere XXH3_64bits. */
#if defined(__SIZEOF_INT128__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DD_SHINGLE4_DIRECT 1
#else
#define DD_SHINGLE4_DIRECT 0
#endif

#if DD_SHINGLE4_DIRECT
/* XXH3's 128-bit multiply folded to 64 bits (XXH_mult128to64 ^ high). */
static inline uint64_t dd__mulfold(uint64_t a, uint64_t b)
{
#if defined(__x86_64__) && defined(__GNUC__)
    /* GCC moves an __int128 product through the stack; mulq does not */
    uint64_t lo, hi;
    __asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b) : "cc");
    return lo ^ hi;
#else
    unsigned __int128 p = (unsigned __int128)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#endif
}
#endif

static void dd__insertion_sort(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Bucket sort for article-sized inputs (up to 2048 values), repeats
 * dropped; returns the new count.  The values are hashes, spread evenly,
 * so one scatter pass by their top bits leaves about one value per bucket
 * and the final insertion has almost nothing to move.  No data-dependent
 * branch in the scatter: a comparison sort mispredicts about half of its
 * n log n branches here.
 * Worst case (values crowded into one bucket) is the insertion sort's
 * n^2 on at most 2048 values. */
#define DD_BUCKET_MAX_BITS 11
static size_t dd__bucket_sort_unique(uint32_t *a, size_t n, uint32_t *tmp, uint32_t mx)
{
    unsigned lb = 0;
    while (((size_t)1 << lb) < n && lb < DD_BUCKET_MAX_BITS)
        lb++;
    uint32_t cnt[(1u << DD_BUCKET_MAX_BITS) + 1];
    size_t nb = (size_t)1 << lb;
    /* bucket of v: v * nb / (mx + 1), as a multiply and a fixed shift
     * (monotonic, and < nb for every v <= mx; v * mul < nb * 2^32 fits) */
    const uint64_t mul = ((uint64_t)nb << 32) / ((uint64_t)mx + 1);
    memset(cnt, 0, (nb + 1) * sizeof cnt[0]);
    for (size_t i = 0; i < n; i++)
        cnt[((a[i] * mul) >> 32) + 1]++;
#if defined(__SSE2__)
    /* running sums of cnt[1..nb], four at a time (nb >= 64, a multiple
     * of four) */
    __m128i run = _mm_setzero_si128();
    for (size_t b = 1; b <= nb; b += 4) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(cnt + b));
        x = _mm_add_epi32(x, _mm_slli_si128(x, 4));
        x = _mm_add_epi32(x, _mm_slli_si128(x, 8));
        x = _mm_add_epi32(x, run);
        _mm_storeu_si128((__m128i *)(void *)(cnt + b), x);
        run = _mm_shuffle_epi32(x, 0xFF);
    }
#else
    for (size_t b = 0; b < nb; b++)
        cnt[b + 1] += cnt[b];
#endif
    for (size_t i = 0; i < n; i++)
        tmp[cnt[(a[i] * mul) >> 32]++] = a[i];
    /* Back into a by insertion, dropping repeats on the way: the values
     * come in bucket order, so almost every one goes at the end (last:
     * a[m - 1]). */
    size_t m = 1;
    uint32_t last = a[0] = tmp[0];
    for (size_t i = 1; i < n; i++) {
        uint32_t v = tmp[i];
        if (__builtin_expect(last < v, 1)) {
            a[m++] = last = v;
            continue;
        }
        /* Shift the larger ones up while looking (one short loop, not a
         * search and then a call to memmove); a repeat, found at the end
         * of the search, moves them back. */
        size_t j = m;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        if (j > 0 && a[j - 1] == v) {
            for (size_t k = j; k < m; k++)
                a[k] = a[k + 1];
            continue;
        }
        a[j] = v;
        m++;
    }
    return m;
}

size_t dd_sort_unique(uint32_t *a, size_t n, uint32_t *tmp)
{
    uint32_t mx = 0;
    if (n > 32 && n <= ((size_t)1 << DD_BUCKET_MAX_BITS))
        for (size_t i = 0; i < n; i++)
            mx = a[i] > mx ? a[i] : mx;
    return dd_sort_unique_max(a, n, tmp, mx);
}

/* Sort, then drop repeats: bucket sort for article-sized inputs, LSD
 * radix (8 bits per pass, linear) for long texts. */
size_t dd_sort_unique_max(uint32_t *a, size_t n, uint32_t *tmp, uint32_t mx)
{
    if (n < 2)
        return n;
    if (n <= 32) {
        dd__insertion_sort(a, n);
    } else if (n <= ((size_t)1 << DD_BUCKET_MAX_BITS)) {
        return dd__bucket_sort_unique(a, n, tmp, mx);
    } else {
        uint32_t *src = a, *dst = tmp;
        for (unsigned shift = 0; shift < 32; shift += 8) {
            size_t cnt[257] = {0};
            for (size_t i = 0; i < n; i++)
                cnt[((src[i] >> shift) & 0xFF) + 1]++;
            for (int b = 0; b < 256; b++)
                cnt[b + 1] += cnt[b];
            for (size_t i = 0; i < n; i++)
                dst[cnt[(src[i] >> shift) & 0xFF]++] = src[i];
            uint32_t *t = src;
            src = dst;
            dst = t;
        }
        /* four passes: the result is back in a */
    }
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (a[i] != a[m - 1])
            a[m++] = a[i];
    return m;
}

#if DD_SHINGLE4_DIRECT
/* The top 32 bits of XXH3_64bits over the 32 bytes of four token hashes
 * (seed 0, the default secret), written out: XXH3_len_17to128_64b with
 * its two 16-byte mixes, on the token hashes as they are in memory
 * (little-endian, what XXH3 reads), without the library's length dispatch
 * and with its multiply kept in registers.  XXH3's last step (acc ^= acc
 * >> 32) leaves the top 32 bits as they are, so it is left out. */
static inline __attribute__((always_inline)) uint32_t dd__shingle4(uint64_t a, uint64_t b,
                                                                   uint64_t c, uint64_t d)
{
    uint64_t acc = 32 * XXH_PRIME64_1 +
                   dd__mulfold(a ^ XXH_readLE64(XXH3_kSecret), b ^ XXH_readLE64(XXH3_kSecret + 8)) +
                   dd__mulfold(c ^ XXH_readLE64(XXH3_kSecret + 16),
                               d ^ XXH_readLE64(XXH3_kSecret + 24));
    acc ^= acc >> 37;
    acc *= UINT64_C(0x165667919E3779F9);
    return (uint32_t)(acc >> 32);
}
#endif

#if DD_SHINGLE4_DIRECT && defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
#define DD_SHINGLE4_AVX2 1
#include <immintrin.h>

/* dd__mulfold on four lanes: the 128-bit product of 64-bit a and b from
 * four 32x32-bit products (vpmuludq), its halves xored.  mid cannot
 * overflow: (2^32-1)^2 + 2 (2^32-1) < 2^64. */
__attribute__((target("avx2"))) static inline __m256i dd__mulfold4(__m256i a, __m256i b)
{
    const __m256i ah = _mm256_srli_epi64(a, 32), bh = _mm256_srli_epi64(b, 32);
    const __m256i p00 = _mm256_mul_epu32(a, b), p01 = _mm256_mul_epu32(a, bh),
                  p10 = _mm256_mul_epu32(ah, b), p11 = _mm256_mul_epu32(ah, bh);
    const __m256i mid =
        _mm256_add_epi64(_mm256_add_epi64(p10, _mm256_srli_epi64(p00, 32)),
                         _mm256_blend_epi32(p01, _mm256_setzero_si256(), 0xAA));
    const __m256i lo = _mm256_blend_epi32(p00, _mm256_slli_epi64(mid, 32), 0xAA);
    const __m256i hi = _mm256_add_epi64(_mm256_add_epi64(p11, _mm256_srli_epi64(mid, 32)),
                                        _mm256_srli_epi64(p01, 32));
    return _mm256_xor_si256(lo, hi);
}

/* dd__shingle_hashes for 4-word shingles, four shingles at a time with
 * AVX2 (the same arithmetic as dd__shingle4, each 64-bit multiply from
 * 32-bit ones; of the avalanche's multiply only the top 32 bits, which is
 * all the hash keeps); the sampled ones are packed with a shuffle per four.
 * Runs only after __builtin_cpu_supports("avx2"). */
__attribute__((target("avx2"), noinline)) static size_t dd__shingle4_avx2(const uint64_t *tok, size_t n,
                                                                uint32_t tau, uint32_t *all,
                                                                uint32_t *smp)
{
    /* byte shuffles packing the lanes of a 4-bit mask to the front */
    static const uint8_t pack[16][16] __attribute__((aligned(16))) = {
#define L(k) 4 * (k), 4 * (k) + 1, 4 * (k) + 2, 4 * (k) + 3
        {0},                         {L(0)},
        {L(1)},                      {L(0), L(1)},
        {L(2)},                      {L(0), L(2)},
        {L(1), L(2)},                {L(0), L(1), L(2)},
        {L(3)},                      {L(0), L(3)},
        {L(1), L(3)},                {L(0), L(1), L(3)},
        {L(2), L(3)},                {L(0), L(2), L(3)},
        {L(1), L(2), L(3)},          {L(0), L(1), L(2), L(3)},
#undef L
    };
    const __m256i k0 = _mm256_set1_epi64x((long long)XXH_readLE64(XXH3_kSecret)),
                  k1 = _mm256_set1_epi64x((long long)XXH_readLE64(XXH3_kSecret + 8)),
                  k2 = _mm256_set1_epi64x((long long)XXH_readLE64(XXH3_kSecret + 16)),
                  k3 = _mm256_set1_epi64x((long long)XXH_readLE64(XXH3_kSecret + 24)),
                  c0 = _mm256_set1_epi64x((long long)(32 * XXH_PRIME64_1)),
                  plo = _mm256_set1_epi64x(0x9E3779F9LL), phi = _mm256_set1_epi64x(0x16566791LL),
                  even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    const __m128i vtau = _mm_set1_epi32((int)tau);
    size_t m = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256i t0 = _mm256_loadu_si256((const __m256i *)(const void *)(tok + i)),
                      t1 = _mm256_loadu_si256((const __m256i *)(const void *)(tok + i + 1)),
                      t2 = _mm256_loadu_si256((const __m256i *)(const void *)(tok + i + 2)),
                      t3 = _mm256_loadu_si256((const __m256i *)(const void *)(tok + i + 3));
        __m256i acc = _mm256_add_epi64(
            _mm256_add_epi64(c0, dd__mulfold4(_mm256_xor_si256(t0, k0), _mm256_xor_si256(t1, k1))),
            dd__mulfold4(_mm256_xor_si256(t2, k2), _mm256_xor_si256(t3, k3)));
        acc = _mm256_xor_si256(acc, _mm256_srli_epi64(acc, 37));
        /* bits 32-63 of acc * 0x165667919E3779F9, in each lane's low half */
        const __m256i p = _mm256_mul_epu32(acc, plo);
        const __m256i h64 = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_srli_epi64(p, 32),
                             _mm256_mul_epu32(_mm256_srli_epi64(acc, 32), plo)),
            _mm256_mul_epu32(acc, phi));
        const __m128i h = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(h64, even));
        if (all != NULL)
            _mm_storeu_si128((__m128i *)(void *)(all + i), h);
        /* h <= tau (unsigned): max(h, tau) == tau */
        const unsigned sel = (unsigned)_mm_movemask_ps(
            _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_max_epu32(h, vtau), vtau)));
        _mm_storeu_si128((__m128i *)(void *)(smp + m),
                         _mm_shuffle_epi8(h, _mm_load_si128((const __m128i *)(const void *)pack[sel])));
        m += (size_t)__builtin_popcount(sel);
    }
    for (; i < n; i++) {
        uint32_t h = dd__shingle4(tok[i], tok[i + 1], tok[i + 2], tok[i + 3]);
        if (all != NULL)
            all[i] = h;
        smp[m] = h;
        m += h <= tau;
    }
    return m;
}
#endif

/* Hash every shingle (span token hashes) to 32 bits: the ones <= tau into
 * smp, returning how many, and when all is not NULL every one into all[i]
 * (only a short text needs them all: dd_sketch_build asks again then).
 * Flattened so that XXH3 is inlined, and for the default 4-word shingles
 * with its length a constant (32 bytes: one straight-line path of XXH3's
 * 17-128 byte case). */
__attribute__((flatten)) static size_t dd__shingle_hashes(const uint64_t *tok, size_t n,
                                                            size_t span, uint32_t tau,
                                                            uint32_t *all, uint32_t *smp)
{
    size_t m = 0;
#if DD_SHINGLE4_DIRECT
    if (span == 4) {
#ifdef DD_SHINGLE4_AVX2
        if (__builtin_cpu_supports("avx2"))
            return dd__shingle4_avx2(tok, n, tau, all, smp);
#endif
        /* dd__shingle4 (test_dedup compares it with XXH3_64bits). */
#define DD_SH4(ta, tb, tc, td)                                                            \
    do {                                                                                  \
        uint32_t h_ = dd__shingle4(ta, tb, tc, td);                                       \
        smp[m] = h_;                                                                      \
        m += h_ <= tau;                                                                   \
    } while (0)
        if (all != NULL) {
            for (size_t i = 0; i < n; i++) {
                uint32_t h = dd__shingle4(tok[i], tok[i + 1], tok[i + 2], tok[i + 3]);
                all[i] = h;
                smp[m] = h;
                m += h <= tau;
            }
            return m;
        }
        /* Unrolled by four, a shingle's four token hashes rotating
         * through four registers: one load per shingle. */
        size_t i = 0;
        if (n >= 4) {
            uint64_t a = tok[0], b = tok[1], c = tok[2], d;
            for (; i + 4 <= n; i += 4) {
                d = tok[i + 3];
                DD_SH4(a, b, c, d);
                a = tok[i + 4];
                DD_SH4(b, c, d, a);
                b = tok[i + 5];
                DD_SH4(c, d, a, b);
                c = tok[i + 6]; /* i + 6 < n + 3 tokens */
                DD_SH4(d, a, b, c);
            }
        }
        for (; i < n; i++)
            DD_SH4(tok[i], tok[i + 1], tok[i + 2], tok[i + 3]);
#undef DD_SH4
        return m;
    }
#endif
    if (all == NULL) {
        for (size_t i = 0; i < n; i++) {
            uint32_t h = (uint32_t)(XXH3_64bits(tok + i, span * sizeof *tok) >> 32);
            smp[m] = h;
            m += h <= tau;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            uint32_t h = (uint32_t)(XXH3_64bits(tok + i, span * sizeof *tok) >> 32);
            all[i] = h;
            smp[m] = h;
            m += h <= tau;
        }
    }
    return m;
}

uint64_t dd_text_hash(const void *p, size_t len)
{
#ifdef DD_XXH3_AVX2
    /* short texts take XXH3's scalar paths either way */
    if (len > 240 && __builtin_cpu_supports("avx2"))
        return dd_xxh3_avx2(p, len);
#endif
    return XXH3_64bits(p, len);
}

int dd_sketch_build(const dd_sketch_cfg_t *c, dd_scratch_t *s, const char *raw, size_t raw_len,
                    dd_sketch_t *sk)
{
    memset(sk, 0, sizeof *sk);
    sk->exact = dd_text_hash(s->canon, s->canon_len);
    sk->raw = dd_text_hash(raw, raw_len);
    sk->n_tokens = s->ntok > UINT32_MAX ? UINT32_MAX : (uint32_t)s->ntok;
    if (s->ntok == 0) {
        sk->empty = 1;
        sk->s.tau = UINT32_MAX;
        return 0;
    }
    size_t k = c->shingle_size;
    size_t n = s->ntok >= k ? s->ntok - k + 1 : 1;
    size_t span = s->ntok >= k ? k : s->ntok;
    /* sh: [0,n) all hashes, [n,2n) the sampled ones, [2n,3n) sort temp */
    if (dd_grow((void **)&s->sh, &s->sh_cap, 3 * n, sizeof *s->sh) != 0)
        return -1;
    uint32_t *all = s->sh, *smp = s->sh + n, *tmp = s->sh + 2 * n;
    uint32_t tau = dd_rate_tau(c->sample_rate);
    size_t m = dd__shingle_hashes(s->tok, n, span, tau, NULL, smp);
    m = dd_sort_unique_max(smp, m, tmp, tau); /* the sampled ones are <= tau */
    uint32_t *src = smp;
    size_t have = m;
    if (m < c->sample_min && tau != UINT32_MAX) {
        /* A short text: take the sample_min smallest of all its shingles
         * (hashed again, this time keeping every one). */
        dd__shingle_hashes(s->tok, n, span, tau, all, smp);
        have = dd_sort_unique(all, n, smp);
        src = all;
        if (have > c->sample_min) {
            tau = all[c->sample_min - 1];
            have = c->sample_min;
        } else {
            tau = UINT32_MAX; /* the whole set */
        }
    }
    if (have > c->sample_max) {
        tau = src[c->sample_max - 1];
        have = c->sample_max;
    }
    sk->s.h = src; /* in the scratch */
    sk->s.n = (uint32_t)have;
    sk->s.tau = tau;
    sk->n_shingles = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
    return 0;
}

/* ---- records ----
 * Layout, little-endian:
 *   u32 magic "DDR1" | u32 status | u64 seq | i64 time_ms | u64 exact | u64 raw
 *   | u64 cluster_seq | u32 tau | u32 n | u32 id_len | u32 cluster_len
 *   | n x u32 hash | n x u8 flags | id | cluster | u32 XXH32 of all before
 * cluster_len 0 means "the document's own id" (it started its cluster). */

#define DD_REC_MAGIC 0x31524444u /* "DDR1" */
#define DD_REC_HEAD 64

static void dd__put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static void dd__put64(unsigned char *p, uint64_t v)
{
    dd__put32(p, (uint32_t)v);
    dd__put32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t dd__get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t dd__get64(const unsigned char *p)
{
    return (uint64_t)dd__get32(p) | (uint64_t)dd__get32(p + 4) << 32;
}

static uint32_t dd__cluster_len(const dd_record_t *r)
{
    if (r->cluster == NULL || (r->cluster_len == r->id_len && r->id != NULL &&
                               memcmp(r->cluster, r->id, r->id_len) == 0))
        return 0;
    return r->cluster_len;
}

size_t dd_record_size(const dd_record_t *r)
{
    return DD_REC_HEAD + (size_t)r->n * 5 + r->id_len + dd__cluster_len(r) + 4;
}

void dd_record_encode(const dd_record_t *r, void *buf)
{
    unsigned char *p = buf;
    uint32_t clen = dd__cluster_len(r);
    dd__put32(p, DD_REC_MAGIC);
    dd__put32(p + 4, r->status);
    dd__put64(p + 8, r->seq);
    dd__put64(p + 16, (uint64_t)r->time_ms);
    dd__put64(p + 24, r->exact);
    dd__put64(p + 32, r->raw);
    dd__put64(p + 40, r->cluster_seq);
    dd__put32(p + 48, r->tau);
    dd__put32(p + 52, r->n);
    dd__put32(p + 56, r->id_len);
    dd__put32(p + 60, clen);
    unsigned char *q = p + DD_REC_HEAD;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (r->n > 0)
        memcpy(q, r->h, (size_t)r->n * 4); /* already little-endian */
    q += (size_t)r->n * 4;
#else
    for (uint32_t i = 0; i < r->n; i++, q += 4)
        dd__put32(q, dd_rec_hash(r, i));
#endif
    if (r->n > 0)
        memcpy(q, r->flags, r->n);
    q += r->n;
    if (r->id_len > 0)
        memcpy(q, r->id, r->id_len);
    q += r->id_len;
    if (clen > 0)
        memcpy(q, r->cluster, clen);
    q += clen;
    dd__put32(q, XXH32(p, (size_t)(q - p), 0));
}

int dd_record_decode(const void *buf, size_t len, dd_record_t *r, int full)
{
    const unsigned char *p = buf;
    if (len < DD_REC_HEAD + 4 || dd__get32(p) != DD_REC_MAGIC)
        return -1;
    uint32_t n = dd__get32(p + 52), id_len = dd__get32(p + 56), clen = dd__get32(p + 60);
    uint64_t need = (uint64_t)DD_REC_HEAD + (uint64_t)n * 5 + id_len + clen + 4;
    if (need != len)
        return -1;
    if (full && dd__get32(p + len - 4) != XXH32(p, len - 4, 0))
        return -1;
    memset(r, 0, sizeof *r);
    r->status = dd__get32(p + 4);
    r->seq = dd__get64(p + 8);
    r->time_ms = (int64_t)dd__get64(p + 16);
    r->exact = dd__get64(p + 24);
    r->raw = dd__get64(p + 32);
    r->cluster_seq = dd__get64(p + 40);
    r->tau = dd__get32(p + 48);
    r->n = n;
    r->h = (const uint32_t *)(const void *)(p + DD_REC_HEAD);
    r->flags = p + DD_REC_HEAD + (size_t)n * 4;
    r->id = (const char *)p + DD_REC_HEAD + (size_t)n * 5;
    r->id_len = id_len;
    if (clen > 0) {
        r->cluster = r->id + id_len;
        r->cluster_len = clen;
    } else {
        r->cluster = r->id;
        r->cluster_len = id_len;
    }
    /* the sample must be strictly ascending (verification merges on it) */
    for (uint32_t i = 1; full && i < n; i++)
        if (dd_rec_hash(r, i) <= dd_rec_hash(r, i - 1))
            return -1;
    return 0;
}
