/*
 * bp_scan.h - byte-class bitmaps of a whole text, built in one pass (16
 * bytes at a time with SSE2 where available): for every byte, whether it is
 * one of the punctuation bytes the block scans look at, whether it may be
 * part of a word (an ASCII word character or any byte >= 0x80), whether it
 * is an ASCII letter, an ASCII capital, an ASCII letter or digit.  The plain-text path's line
 * splitter, block surface features and tokenizer then jump from one
 * interesting byte to the next instead of testing every byte.
 */
#ifndef BP_SCAN_H
#define BP_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum {
    BP_SC_PUNCT = 0,  /* . ! ? / | : and 0xC2 (NBSP, ©, «, ») */
    BP_SC_CAND = 1,   /* [A-Za-z0-9_] or a byte >= 0x80 */
    BP_SC_LETTER = 2, /* [A-Za-z] */
    BP_SC_UPPER = 3,  /* [A-Z] */
    BP_SC_ALNUM = 4,  /* [A-Za-z0-9] */
    BP_SC_NFIELDS = 5
};

typedef struct bp_scan {
    /* chunk c (bytes 64c .. 64c+63) holds its NFIELDS words at
     * w[NFIELDS * c + field]; bits past the text are 0, and two chunks
     * past the end are allocated so bp_scan_bits may read ahead */
    uint64_t *w;
    size_t cap;  /* words allocated */
    size_t len;  /* the text's length */
} bp_scan_t;

/* Build the bitmaps of t[0, len).  Returns 0 or -1 (no memory). */
int bp_scan_build(bp_scan_t *sc, const char *t, size_t len);
void bp_scan_free(bp_scan_t *sc);

/* Clear the BP_SC_CAND bits of the characters U+2000-U+203F (E2 80 xx:
 * curly quotes, dashes, ellipsis, bullets) whose class in gp[xx & 0x3F]
 * (bp_cclass of U+2000 + (xx & 0x3F)) has no bit of word_mask: they end a
 * word as an ASCII space does, so bp_tokenize_text takes the words around
 * them on its ASCII paths (same tokens: an E2 byte is never inside
 * another character).  t: the text the bitmaps were built from. */
void bp_scan_split_gp(bp_scan_t *sc, const char *t, const uint8_t *gp, unsigned word_mask);

/* 64 bits of field f starting at byte i (bit k: byte i + k); i <= len. */
static inline uint64_t bp_scan_bits(const bp_scan_t *sc, int f, size_t i)
{
    const uint64_t *p = sc->w + BP_SC_NFIELDS * (i >> 6) + f;
    unsigned s = (unsigned)(i & 63);
    /* (x << 1) << (63 - s): no shift by 64 when s == 0 */
    return (p[0] >> s) | ((p[BP_SC_NFIELDS] << 1) << (63 - s));
}

/* Is bit f of byte i set? */
static inline int bp_scan_bit(const bp_scan_t *sc, int f, size_t i)
{
    return (int)((sc->w[BP_SC_NFIELDS * (i >> 6) + f] >> (i & 63)) & 1);
}

/* The first byte >= i (and < end) with bit f set, or a value >= end. */
static inline size_t bp_scan_next(const bp_scan_t *sc, int f, size_t i, size_t end)
{
    while (i < end) {
        uint64_t m = bp_scan_bits(sc, f, i);
        if (m != 0)
            return i + (size_t)__builtin_ctzll(m);
        i += 64;
    }
    return end;
}


/* The bytes with bit f set in [i, end), in order, one 64-bit word of the
 * field at a time (cheaper than bp_scan_next per byte):
 *     bp_scan_iter_t it;
 *     for (size_t j = bp_scan_iter_init(&it, sc, f, i, end); j < end; j = bp_scan_iter_next(&it))
 * The values are those of bp_scan_next(sc, f, i, end) and then
 * bp_scan_next(sc, f, j + 1, end) after each j; end when none is left. */
typedef struct bp_scan_iter {
    const uint64_t *w; /* field f's word of the current chunk */
    uint64_t m;        /* its bits not returned yet */
    size_t base;       /* the current chunk's first byte */
    size_t end;
} bp_scan_iter_t;

static inline size_t bp_scan_iter_next(bp_scan_iter_t *it)
{
    while (it->m == 0) {
        it->base += 64;
        if (it->base >= it->end)
            return it->end;
        it->w += BP_SC_NFIELDS;
        it->m = *it->w;
    }
    size_t j = it->base + (size_t)__builtin_ctzll(it->m);
    it->m &= it->m - 1;
    return j < it->end ? j : it->end;
}

static inline size_t bp_scan_iter_init(bp_scan_iter_t *it, const bp_scan_t *sc, int f, size_t i, size_t end)
{
    it->end = end;
    if (i >= end) {
        it->m = 0;
        it->base = end;
        it->w = NULL;
        return end;
    }
    it->base = i & ~(size_t)63;
    it->w = sc->w + BP_SC_NFIELDS * (i >> 6) + f;
    it->m = *it->w & (~UINT64_C(0) << (i & 63));
    return bp_scan_iter_next(it);
}

#endif
