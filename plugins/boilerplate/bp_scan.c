/*
 * bp_scan.c - builds the byte-class bitmaps of bp_scan.h: SSE2 compares on
 * 16 bytes at a time on x86-64, a per-byte table elsewhere and for the
 * text's last partial chunk.
 */
#include "autoconfig.h"

#include "bp_scan.h"

#include <stdlib.h>
#include <string.h>

/* BP_SCAN_NO_SIMD: the per-byte code only (to test it on x86) */
#if defined(__SSE2__) && !defined(BP_SCAN_NO_SIMD)
#define BP_SCAN_SSE2 1
#include <emmintrin.h>
#endif

#if !defined(BP_SCAN_SSE2)
/* The fields byte c is in (bit f: field f). */
static inline unsigned bp__cls(unsigned c)
{
    unsigned m = 0;
    if (c == '.' || c == '!' || c == '?' || c == '/' || c == '|' || c == ':' || c == 0xC2)
        m |= 1u << BP_SC_PUNCT;
    int upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
    if (upper || lower || (c >= '0' && c <= '9') || c == '_' || c >= 0x80)
        m |= 1u << BP_SC_CAND;
    if (upper || lower)
        m |= 1u << BP_SC_LETTER;
    if (upper)
        m |= 1u << BP_SC_UPPER;
    if (upper || lower || (c >= '0' && c <= '9'))
        m |= 1u << BP_SC_ALNUM;
    return m;
}

/* The fields of bytes t[0, n) (n <= 64) into out[0 .. NFIELDS). */
static void bp__chunk_tail(const unsigned char *t, size_t n, uint64_t *out)
{
    uint64_t f[BP_SC_NFIELDS] = {0};
    for (size_t k = 0; k < n; k++) {
        unsigned m = bp__cls(t[k]);
        for (int j = 0; j < BP_SC_NFIELDS; j++)
            f[j] |= (uint64_t)((m >> j) & 1) << k;
    }
    memcpy(out, f, sizeof f);
}

#endif

_Static_assert(BP_SC_NFIELDS == 5, "the vector code below stores each field by name");

#if defined(BP_SCAN_SSE2)
/* The fields of the 64 bytes at p into out[0 .. NFIELDS), 16 bytes at a
 * time: each 16-bit mask is stored straight into its quarter of the
 * field's word (x86 is little-endian). */
static inline void bp__chunk_sse2(const unsigned char *p, uint64_t *out)
{
    /* unsigned (v - lo) < n  <=>  signed (v + 0x80 - lo) < -128 + n */
    const __m128i aup = _mm_set1_epi8((char)(0x80 - 'A')), alow = _mm_set1_epi8((char)(0x80 - 'a'));
    const __m128i adig = _mm_set1_epi8((char)(0x80 - '0'));
    const __m128i lim26 = _mm_set1_epi8((char)(-128 + 26)), lim10 = _mm_set1_epi8((char)(-128 + 10));
    const __m128i bit5 = _mm_set1_epi8(0x20), under = _mm_set1_epi8('_');
    for (unsigned k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i up = _mm_cmplt_epi8(_mm_add_epi8(v, aup), lim26);
        __m128i let = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v, bit5), alow), lim26);
        __m128i dig = _mm_cmplt_epi8(_mm_add_epi8(v, adig), lim10);
        __m128i word = _mm_or_si128(_mm_or_si128(let, dig), _mm_cmpeq_epi8(v, under));
        __m128i pu = _mm_or_si128(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')),
                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('!'))),
                         _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('?')),
                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('/')))),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('|')),
                                      _mm_cmpeq_epi8(v, _mm_set1_epi8(':'))),
                         _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xC2))));
        uint16_t m[BP_SC_NFIELDS];
        m[BP_SC_PUNCT] = (uint16_t)_mm_movemask_epi8(pu);
        /* bytes >= 0x80 have their high bit set: or v itself in */
        m[BP_SC_CAND] = (uint16_t)_mm_movemask_epi8(_mm_or_si128(word, v));
        m[BP_SC_LETTER] = (uint16_t)_mm_movemask_epi8(let);
        m[BP_SC_UPPER] = (uint16_t)_mm_movemask_epi8(up);
        m[BP_SC_ALNUM] = (uint16_t)_mm_movemask_epi8(_mm_or_si128(let, dig));
        memcpy((char *)(out + BP_SC_PUNCT) + 2 * k, &m[BP_SC_PUNCT], 2);
        memcpy((char *)(out + BP_SC_CAND) + 2 * k, &m[BP_SC_CAND], 2);
        memcpy((char *)(out + BP_SC_LETTER) + 2 * k, &m[BP_SC_LETTER], 2);
        memcpy((char *)(out + BP_SC_UPPER) + 2 * k, &m[BP_SC_UPPER], 2);
        memcpy((char *)(out + BP_SC_ALNUM) + 2 * k, &m[BP_SC_ALNUM], 2);
    }
}
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(BP_SCAN_NO_SIMD)
#include <immintrin.h>
#define BP_HAVE_AVX2 1
/* The same as bp__chunk_sse2 with 32-byte AVX2 vectors (chosen at run
 * time when the CPU has them). */
__attribute__((target("avx2"))) static void bp__chunks_avx2(const unsigned char *p, size_t n,
                                                            uint64_t *out)
{
    const __m256i aup = _mm256_set1_epi8((char)(0x80 - 'A')), alow = _mm256_set1_epi8((char)(0x80 - 'a'));
    const __m256i adig = _mm256_set1_epi8((char)(0x80 - '0'));
    const __m256i lim26 = _mm256_set1_epi8((char)(-128 + 26)), lim10 = _mm256_set1_epi8((char)(-128 + 10));
    const __m256i bit5 = _mm256_set1_epi8(0x20), under = _mm256_set1_epi8('_');
    const __m256i nib = _mm256_set1_epi8(0x0F);
    /* by low nibble: . ! ? / | : and 0xC2; 0x00 (0xFF for nibble 0) where
     * there is none, a byte whose low nibble differs */
#define BP__PU1 (char)0xFF, 0x21, (char)0xC2, 0, 0, 0, 0, 0, 0, 0, 0x3A, 0, 0x7C, 0, 0x2E, 0x2F
#define BP__PU2 (char)0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3F
    const __m256i punct1 = _mm256_setr_epi8(BP__PU1, BP__PU1), punct2 = _mm256_setr_epi8(BP__PU2, BP__PU2);
#undef BP__PU1
#undef BP__PU2
    for (size_t c = 0; c < n; c++, p += 64, out += BP_SC_NFIELDS) {
        for (unsigned k = 0; k < 2; k++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * k));
            __m256i up = _mm256_cmpgt_epi8(lim26, _mm256_add_epi8(v, aup));
            __m256i let = _mm256_cmpgt_epi8(lim26, _mm256_add_epi8(_mm256_or_si256(v, bit5), alow));
            __m256i dig = _mm256_cmpgt_epi8(lim10, _mm256_add_epi8(v, adig));
            __m256i word = _mm256_or_si256(_mm256_or_si256(let, dig), _mm256_cmpeq_epi8(v, under));
            /* the punctuation bytes by their low nibble: each byte is
             * compared with the one (two for F: '/' and '?') punctuation
             * byte of its low nibble, or with a byte of another nibble */
            __m256i lo = _mm256_and_si256(v, nib);
            __m256i pu = _mm256_or_si256(_mm256_cmpeq_epi8(_mm256_shuffle_epi8(punct1, lo), v),
                                         _mm256_cmpeq_epi8(_mm256_shuffle_epi8(punct2, lo), v));
            uint32_t m[BP_SC_NFIELDS];
            m[BP_SC_PUNCT] = (uint32_t)_mm256_movemask_epi8(pu);
            m[BP_SC_CAND] = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(word, v));
            m[BP_SC_LETTER] = (uint32_t)_mm256_movemask_epi8(let);
            m[BP_SC_UPPER] = (uint32_t)_mm256_movemask_epi8(up);
            m[BP_SC_ALNUM] = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(let, dig));
            /* unrolled: one 32-bit store per field */
            memcpy((char *)(out + BP_SC_PUNCT) + 4 * k, &m[BP_SC_PUNCT], 4);
            memcpy((char *)(out + BP_SC_CAND) + 4 * k, &m[BP_SC_CAND], 4);
            memcpy((char *)(out + BP_SC_LETTER) + 4 * k, &m[BP_SC_LETTER], 4);
            memcpy((char *)(out + BP_SC_UPPER) + 4 * k, &m[BP_SC_UPPER], 4);
            memcpy((char *)(out + BP_SC_ALNUM) + 4 * k, &m[BP_SC_ALNUM], 4);
        }
    }
}
#endif

int bp_scan_build(bp_scan_t *sc, const char *t, size_t len)
{
    size_t nchunks = (len >> 6) + 2;
    size_t need = nchunks * BP_SC_NFIELDS;
    if (need > sc->cap) {
        uint64_t *w = realloc(sc->w, need * sizeof *w);
        if (w == NULL)
            return -1;
        sc->w = w;
        sc->cap = need;
    }
    sc->len = len;
    const unsigned char *u = (const unsigned char *)t;
    size_t c = 0, full = len >> 6;
#if defined(BP_HAVE_AVX2)
    if (__builtin_cpu_supports("avx2")) {
        bp__chunks_avx2(u, full, sc->w);
        c = full;
    }
#endif
    for (; c < full; c++) {
#if defined(BP_SCAN_SSE2)
        bp__chunk_sse2(u + 64 * c, sc->w + BP_SC_NFIELDS * c);
#else
        bp__chunk_tail(u + 64 * c, 64, sc->w + BP_SC_NFIELDS * c);
#endif
    }
#if defined(BP_SCAN_SSE2)
    /* the last partial chunk through the vector code, from a zeroed copy
     * (byte 0 is in no field) */
    {
        unsigned char tail[64] = {0};
        memcpy(tail, u + 64 * c, len - 64 * c);
        bp__chunk_sse2(tail, sc->w + BP_SC_NFIELDS * c);
    }
#else
    bp__chunk_tail(u + 64 * c, len - 64 * c, sc->w + BP_SC_NFIELDS * c);
#endif
    memset(sc->w + BP_SC_NFIELDS * (c + 1), 0, BP_SC_NFIELDS * sizeof *sc->w);
    return 0;
}

void bp_scan_split_gp(bp_scan_t *sc, const char *t, const uint8_t *gp, unsigned word_mask)
{
    const unsigned char *u = (const unsigned char *)t;
    size_t len = sc->len;
    for (const unsigned char *q = memchr(u, 0xE2, len); q != NULL && (size_t)(q - u) + 2 < len;
         q = memchr(q + 1, 0xE2, len - (size_t)(q + 1 - u))) {
        if (q[1] != 0x80 || (q[2] & 0xC0) != 0x80 || (gp[q[2] & 0x3F] & word_mask))
            continue;
        size_t i = (size_t)(q - u);
        uint64_t *w = &sc->w[BP_SC_NFIELDS * (i >> 6) + BP_SC_CAND];
        w[0] &= ~(UINT64_C(7) << (i & 63));
        if ((i & 63) > 61) /* the character ends in the next chunk */
            w[BP_SC_NFIELDS] &= ~(UINT64_C(7) >> (64 - (i & 63)));
        q += 2;
    }
}

void bp_scan_free(bp_scan_t *sc)
{
    free(sc->w);
    sc->w = NULL;
    sc->cap = 0;
    sc->len = 0;
}
