/*
 * bp_lex.c - tokenizer, data-file loaders and the phrase-pattern matcher
 * (file formats: see bp_lex.h).
 */
#include "autoconfig.h"

#include "bp_lex.h"

#include <errno.h>
#include <utf8proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef BP_PROFILE
unsigned long bp_prof_tries[4096];
#endif

/* ------------------------------------------------------------------------ */
/* Tokenizer                                                                */
/* ------------------------------------------------------------------------ */

/* ASCII class table: 1 = word char, 2 = upper, 4 = lower, 8 = digit. */
static const unsigned char bp__ascii[128] = {
    ['0'] = 9, ['1'] = 9, ['2'] = 9, ['3'] = 9, ['4'] = 9, ['5'] = 9, ['6'] = 9, ['7'] = 9,
    ['8'] = 9, ['9'] = 9, ['_'] = 1,
    ['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3, ['G'] = 3, ['H'] = 3,
    ['I'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3, ['M'] = 3, ['N'] = 3, ['O'] = 3, ['P'] = 3,
    ['Q'] = 3, ['R'] = 3, ['S'] = 3, ['T'] = 3, ['U'] = 3, ['V'] = 3, ['W'] = 3, ['X'] = 3,
    ['Y'] = 3, ['Z'] = 3,
    ['a'] = 5, ['b'] = 5, ['c'] = 5, ['d'] = 5, ['e'] = 5, ['f'] = 5, ['g'] = 5, ['h'] = 5,
    ['i'] = 5, ['j'] = 5, ['k'] = 5, ['l'] = 5, ['m'] = 5, ['n'] = 5, ['o'] = 5, ['p'] = 5,
    ['q'] = 5, ['r'] = 5, ['s'] = 5, ['t'] = 5, ['u'] = 5, ['v'] = 5, ['w'] = 5, ['x'] = 5,
    ['y'] = 5, ['z'] = 5,
};

/* The high bit of each byte of w that is an ASCII letter: for a byte
 * L <= 0x7f (case folded), L in 'a'..'z' <=> L + 0x1f has the high bit set
 * and L + 0x05 has not (no carries between bytes). */
static inline uint64_t bp__letters(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
    uint64_t l = (w | ones * 0x20) & ~highs;
    return (l + ones * 0x1F) & ~(l + ones * 0x05) & ~w & highs;
}

int bp_tokenize(const char *s, size_t start, size_t end, bp_toks_t *t)
{
    return bp_tokenize_in(s, start, end, end, NULL, t);
}

/* A 2-byte UTF-8 character at s[i] (i + 1 < end): its index in the
 * lex->u2 tables, or -1. */
static inline int bp__u2(const char *s, size_t i, size_t end)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0xC2 || c > 0xDF || i + 1 >= end)
        return -1;
    unsigned char d = (unsigned char)s[i + 1];
    if ((d & 0xC0) != 0x80)
        return -1;
    return (int)((((unsigned)c & 0x1F) << 6 | (d & 0x3F)) - 0x80);
}

#define BP_FOLD 96 /* bytes of a word's fold that are hashed */

/* The general word loop: the word that starts at s[i] (a word character),
 * any characters, folded into a small buffer while scanning.  Appends its
 * token and returns the index after it, or SIZE_MAX (no memory). */
static size_t bp__word_general(const char *s, size_t i, size_t end, const bp_lex_t *lex,
                               bp_toks_t *t)
{
    unsigned char c;
    /* a word: fold into a small buffer while scanning */
    size_t w0 = i;
    char fold[BP_FOLD + 16]; /* + 16: bp_hash_word loads 16 bytes */
    size_t fo = 0;
    unsigned nletters = 0, nupper = 0, ndigits = 0, nchars = 0;
    int first_upper = -1;
    while (i < end) {
        c = (unsigned char)s[i];
        unsigned cls;
        int32_t cp;
        size_t j = i;
        /* ASCII fast path: most words of most pages */
        if (c < 0x80 && fo < BP_FOLD) {
            unsigned a = bp__ascii[c];
            if (!(a & 1))
                break;
            fold[fo++] = (char)(c | ((a & 2) << 4)); /* 'A' | 0x20 = 'a' */
            nchars++;
            i++;
            if (a & 6) {
                nletters++;
                nupper += (a >> 1) & 1;
                if (first_upper < 0)
                    first_upper = (a & 2) ? 1 : 0;
            } else if (a & 8) {
                ndigits++;
            }
            continue;
        }
        if (c < 0x80) {
            unsigned a = bp__ascii[c];
            if (!(a & 1))
                break;
            cls = (a & 2) ? (BP_CC_UPPER | BP_CC_LETTER) : (a & 4) ? (BP_CC_LOWER | BP_CC_LETTER)
                  : (a & 8)                               ? BP_CC_DIGIT
                                                          : 0;
            cp = c;
            j = i + 1;
            if (fo < BP_FOLD)
                fold[fo++] = (char)bp_ascii_lower(c);
        } else if (lex != NULL && bp__u2(s, i, end) >= 0) {
            /* 2-byte characters from the tables */
            int k = bp__u2(s, i, end);
            cls = lex->u2cls[k];
            if (!(cls & BP_CC_WORD))
                break;
            j = i + 2;
            if (fo + 4 <= BP_FOLD)
                fo += bp_utf8_put(lex->u2low[k], fold + fo);
        } else {
            cp = bp_utf8_next(s, end, &j);
            unsigned cc = bp_cclass(cp);
            if (!(cc & BP_CC_WORD))
                break;
            cls = cc;
            if (fo + 4 <= BP_FOLD) {
                int32_t lc = (cc & BP_CC_UPPER) ? utf8proc_tolower(cp) : cp;
                fo += bp_utf8_put(lc, fold + fo);
            }
        }
        if (cls & BP_CC_LETTER) {
            nletters++;
            if (cls & BP_CC_UPPER)
                nupper++;
            if (first_upper < 0)
                first_upper = (cls & BP_CC_UPPER) ? 1 : (cls & BP_CC_LOWER) ? 0 : 2;
        }
        if (cls & BP_CC_DIGIT)
            ndigits++;
        nchars++;
        i = j;
    }
    if (t->n >= t->cap && bp_grow(&t->v, &t->cap, t->n + 1, sizeof *t->v) != 0)
        return SIZE_MAX;
    bp_tok_t *tk = &t->v[t->n++];
    tk->start = (uint32_t)w0;
    tk->end = (uint32_t)i;
    tk->h = bp_hash_word(fold, fo);
    uint32_t f = 0;
    if (first_upper == 1)
        f |= BP_TF_UPPER;
    else if (first_upper == 0)
        f |= BP_TF_LOWER;
    if (nletters >= 2 && nupper == nletters)
        f |= BP_TF_CAPS;
    if (ndigits == nchars)
        f |= BP_TF_DIGIT;
    if (nletters)
        f |= BP_TF_ALPHA;
    tk->flags = f;
    tk->wi = UINT32_MAX;
    return i;
}

int bp_tokenize_in(const char *s, size_t start, size_t end, size_t limit, const bp_lex_t *lex,
                   bp_toks_t *t)
{
    size_t i = start;
    while (i < end) {
        unsigned char c = (unsigned char)s[i];
        /* skip non-word characters */
        if (c < 0x80) {
            if (!(bp__ascii[c] & 1)) {
                i++;
                continue;
            }
        } else if (lex != NULL && bp__u2(s, i, end) >= 0) {
            if (!(lex->u2cls[bp__u2(s, i, end)] & BP_CC_WORD)) {
                i += 2;
                continue;
            }
        } else {
            size_t j = i;
            int32_t cp = bp_utf8_next(s, end, &j);
            if (!(bp_cclass(cp) & BP_CC_WORD)) {
                i = j;
                continue;
            }
        }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Fast path: a word of 1-16 ASCII letters that ends at a non-word
         * ASCII byte or at the end, found 8 bytes at a time (nearly all
         * words of most pages; the bytes up to limit may be read).  It
         * makes the same token as the general loop below. */
        if (limit - i >= 8) {
            const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
            uint64_t w1, w2 = 0, letter1, letter2 = 0;
            memcpy(&w1, s + i, 8);
            letter1 = bp__letters(w1);
            size_t n = letter1 == highs ? 8 : (size_t)(__builtin_ctzll(~letter1 & highs) >> 3);
            size_t avail = end - i, step = 0;
            int two = 0;
            if (n == 8 && avail > 8 && limit - i >= 16) {
                memcpy(&w2, s + i + 8, 8);
                letter2 = bp__letters(w2);
                n = 8 + (letter2 == highs ? 8 : (size_t)(__builtin_ctzll(~letter2 & highs) >> 3));
                two = 1;
            }
            if (n >= avail) {
                if (avail <= 8 || (two && avail <= 16))
                    step = n = avail; /* the letters run to the end */
            } else if (n >= 1 && n < 16) {
                unsigned char nc = (unsigned char)s[i + n];
                if (nc < 0x80 && !(bp__ascii[nc] & 1))
                    step = n + 1; /* and the byte after the word is no word character */
            }
            if (step) {
                uint64_t m1 = n >= 8 ? ~UINT64_C(0) : ~UINT64_C(0) >> (64 - 8 * n);
                uint64_t up1 = letter1 & ~(w1 << 2) & m1; /* capitals: bit 0x20 clear */
                uint64_t h, caps;
                if (n <= 8) {
                    h = bp_hash_u64((w1 | ones * 0x20) & m1);
                    caps = up1 == (highs & m1);
                } else {
                    uint64_t m2 = ~UINT64_C(0) >> (128 - 8 * n);
                    uint64_t up2 = letter2 & ~(w2 << 2) & m2;
                    h = bp_hash_u128(w1 | ones * 0x20, (w2 | ones * 0x20) & m2);
                    caps = up1 == highs && up2 == (highs & m2);
                }
                if (t->n >= t->cap && bp_grow(&t->v, &t->cap, t->n + 1, sizeof *t->v) != 0)
                    return -1;
                bp_tok_t *tk = &t->v[t->n++];
                tk->start = (uint32_t)i;
                tk->end = (uint32_t)(i + n);
                tk->h = h;
                uint32_t f = BP_TF_ALPHA | ((up1 & 0x80) ? BP_TF_UPPER : BP_TF_LOWER);
                if (n >= 2 && caps)
                    f |= BP_TF_CAPS;
                tk->flags = f;
                tk->wi = UINT32_MAX;
                i += step;
                continue;
            }
        }
#endif
        i = bp__word_general(s, i, end, lex, t);
        if (i == SIZE_MAX)
            return -1;
    }
    return 0;
}

/* The low n bits (n = 0-16). */
static const uint64_t bp__lowbits[17] = {0x0,   0x1,   0x3,    0x7,    0xF,    0x1F,
                                         0x3F,  0x7F,  0xFF,   0x1FF,  0x3FF,  0x7FF,
                                         0xFFF, 0x1FFF, 0x3FFF, 0x7FFF, 0xFFFF};

/* Byte masks of a word of n (0-16) bytes: its bytes 0-7 and 8-15. */
static const uint64_t bp__wmask[17][2] = {
#define BP__WM(n)                                                                            \
    /* (8n) % 64: 8n below 8 bytes, 8(n - 8) between 8 and 16 */                           \
    {(n) >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << ((8 * (n)) % 64)) - 1,                        \
     (n) <= 8 ? 0 : (n) >= 16 ? ~UINT64_C(0) : (UINT64_C(1) << ((8 * (n)) % 64)) - 1}
    BP__WM(0),  BP__WM(1),  BP__WM(2),  BP__WM(3),  BP__WM(4),  BP__WM(5),
    BP__WM(6),  BP__WM(7),  BP__WM(8),  BP__WM(9),  BP__WM(10), BP__WM(11),
    BP__WM(12), BP__WM(13), BP__WM(14), BP__WM(15), BP__WM(16),
#undef BP__WM
};

/* The tokenizer's view of the word table (bp__tokenize_text). */
typedef struct bp__wt {
    const bp_wslot_t *tab; /* lex->wtab */
    const uint64_t *filt;  /* lex->wfilt */
    uint64_t fmask;        /* lex->wfilt_mask */
    unsigned shift;        /* lex->wtab_shift */
} bp__wt_t;

/* An empty slot: where unknown words look. */
static const bp_wslot_t bp__noslot = {0, UINT32_MAX, 0};

/* The rest of a look-up in lex->wtab (bp__wi) whose first slot j holds
 * another word: linear probing, out of line. */
__attribute__((noinline)) static const bp_wslot_t *bp__wi_probe(const bp_wslot_t *e, unsigned shift,
                                                               uint64_t h, size_t j)
{
    size_t mask = ~(size_t)0 >> shift;
    for (j = (j + 1) & mask;; j = (j + 1) & mask) {
        uint64_t k = e[j].key;
        if (k == h || k == 0)
            return &e[j]; /* an empty slot's value is UINT32_MAX */
    }
}

/* The slot of the word hash h in the word table, or an empty one (its
 * val: the word's index, or UINT32_MAX; langs: its languages).  A word
 * whose bit in the filter is clear is unknown: it reads bp__noslot (in
 * cache) instead of its slot, chosen with no branch; a known word (or 1
 * in 40 unknown ones) reads its slot, which the sparse table nearly
 * always makes the first, holding h or empty; an empty slot's value is
 * UINT32_MAX.  So the one branch is taken only on a collision, and the
 * table's lines are touched only by known words. */
static inline const bp_wslot_t *bp__wslot(bp__wt_t wt, uint64_t h)
{
    uint64_t fi = h & wt.fmask;
    uint64_t in = (wt.filt[fi >> 6] >> (fi & 63)) & 1;
    size_t j = (size_t)(h >> wt.shift);
    uintptr_t z = (uintptr_t)&bp__noslot;
    const bp_wslot_t *e = (const bp_wslot_t *)(z + (((uintptr_t)(wt.tab + j) - z) & (uintptr_t)-in));
    uint64_t k = e->key, x = k ^ h;
    /* min(k ^ h, k) is 0 when and only when k == h or k == 0: one test
     * (a conditional move, no branch each) */
    if (__builtin_expect((x < k ? x : k) != 0, 0))
        return bp__wi_probe(wt.tab, wt.shift, h, j);
    return e;
}

/* The index of the word hash h in the word table, or UINT32_MAX. */
static inline uint32_t bp__wi(bp__wt_t wt, uint64_t h)
{
    return bp__wslot(wt, h)->val;
}

/* The token bp_tokenize_in makes of a word of n (1-16) ASCII letters at
 * s[p] (16 bytes readable there); f: its flags (BP_TF_ALPHA, BP_TF_UPPER
 * or BP_TF_LOWER by the first letter, BP_TF_CAPS); its wi looked up in
 * the word table (wt).  Returns the word's languages (0 when unknown). */
static inline uint32_t bp__letters_tok(bp_tok_t *tk, const char *s, size_t p, size_t n, uint32_t f,
                                       bp__wt_t wt)
{
    const uint64_t lower = UINT64_C(0x2020202020202020);
    uint64_t w1 = (bp_load_le64(s + p) | lower) & bp__wmask[n][0];
    uint64_t h = n <= 8 ? bp_hash_u64(w1)
                        : bp_hash_u128(w1, (bp_load_le64(s + p + 8) | lower) & bp__wmask[n][1]);
    tk->start = (uint32_t)p;
    tk->end = (uint32_t)(p + n);
    tk->h = h;
    tk->flags = f;
    const bp_wslot_t *e = bp__wslot(wt, h);
    tk->wi = e->val;
    return e->langs;
}

/* The flags of a word of n ASCII letters whose first ncap letters are
 * capitals (ncap >= n: all). */
static inline uint32_t bp__letters_flags(size_t n, size_t ncap)
{
    if (ncap == 0)
        return BP_TF_ALPHA | BP_TF_LOWER;
    return BP_TF_ALPHA | BP_TF_UPPER | (ncap >= n && n >= 2 ? BP_TF_CAPS : 0);
}

/* The flags the general loop gives a word of n (1-16) ASCII letters and
 * digits; lm, um: bit i set when its byte i is a letter, a capital. */
static inline uint32_t bp__alnum_flags(size_t n, uint64_t lm, uint64_t um)
{
    uint64_t mask = (UINT64_C(1) << n) - 1;
    lm &= mask;
    um &= mask;
    if (lm == 0)
        return BP_TF_DIGIT;
    uint32_t f = BP_TF_ALPHA | ((lm & -lm & um) ? BP_TF_UPPER : BP_TF_LOWER);
    if ((lm & (lm - 1)) != 0 && um == lm)
        f |= BP_TF_CAPS;
    return f;
}

/* The general tokenizer on one run of word-candidate bytes s[p, e) (it
 * ends at an ASCII non-word byte or at the end of the text, where e is
 * clamped to len), each new token's word index looked up in slots; out of
 * the hot loop. */
__attribute__((noinline)) static int bp__run_general(const char *s, size_t p, size_t e, size_t len,
                                                   const bp_lex_t *lex, bp_toks_t *t,
                                                   bp__wt_t wt)
{
    if (e > len)
        e = len;
    const size_t n0 = t->n;
    /* a character of U+2000-U+203F that is no word character (’ “ ” — …)
     * ends a word and is skipped, as the general loop does after decoding
     * it: split the run there (E2 is never a continuation byte, so the
     * general loop reaches it at a character boundary) */
    const unsigned char *u = (const unsigned char *)s;
    size_t a = p;
    for (const unsigned char *q = memchr(u + p, 0xE2, e - p); q != NULL && (size_t)(q - u) + 2 < e;
         q = memchr(q + 1, 0xE2, e - (size_t)(q + 1 - u))) {
        if (q[1] != 0x80 || (q[2] & 0xC0) != 0x80 || (lex->u3gp[q[2] & 0x3F] & BP_CC_WORD))
            continue;
        size_t qi = (size_t)(q - u);
        if (qi > a && bp_tokenize_in(s, a, qi, len, lex, t) != 0)
            return -1;
        a = qi + 3;
        q += 2;
    }
    if (a < e && bp_tokenize_in(s, a, e, len, lex, t) != 0)
        return -1;
    for (size_t j = n0; j < t->n; j++)
        t->v[j].wi = bp__wi(wt, t->v[j].h);
    return t->cap - t->n < 32 ? bp_grow(&t->v, &t->cap, t->n + 32, sizeof *t->v) : 0;
}

/* Eight 16-bit lanes. */
typedef uint16_t bp__v8 __attribute__((vector_size(16)));

/* The language lanes of languages lg (bit l: language l < 16): lane l of
 * languages 0-7 (lo) and 8-15 (hi) is 1 when bit l is set (a lane's bit,
 * compared, gives -1: the lanes are subtracted). */
static inline void bp__lang_lanes(uint32_t lg, bp__v8 *lo, bp__v8 *hi)
{
    const bp__v8 blo = {1, 2, 4, 8, 16, 32, 64, 128};
    const bp__v8 bhi = {256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
    bp__v8 m = (bp__v8){0} + (uint16_t)lg;
    *lo = (bp__v8)((m & blo) == blo);
    *hi = (bp__v8)((m & bhi) == bhi);
}

/* Count one word of languages lg into lo, hi (its lanes subtracted, see
 * bp__lang_lanes; an unknown word, lg 0, adds zeros). */
static inline void bp__lang_count(uint32_t lg, bp__v8 *lo, bp__v8 *hi)
{
    bp__v8 a, b;
    bp__lang_lanes(lg, &a, &b);
    *lo -= a;
    *hi -= b;
}

/* Word wi's languages (lex->wlangs is shifted by one: 0 for UINT32_MAX). */
static inline uint32_t bp__word_langs(const bp_lex_t *lex, uint32_t wi)
{
    return lex->wlangs[(uint32_t)(wi + 1)];
}

/* Add the language lanes of the known words among toks[from, to) into
 * lo, hi (lex->langq == 4); bp__tokenize_text takes those after the
 * first BP_LANG_TOKENS out again at the end. */
static inline void bp__lang_add(const bp_lex_t *lex, const bp_tok_t *toks, size_t from, size_t to,
                                bp__v8 *lo, bp__v8 *hi)
{
    for (size_t j = from; j < to; j++)
        bp__lang_count(bp__word_langs(lex, toks[j].wi), lo, hi);
}

/* bp_tokenize_text; with count, also bp_tokenize_text_langs (a constant:
 * the compiler makes two copies, the hot loop of the first one does not
 * count). */
static inline __attribute__((always_inline)) int bp__tokenize_text(const char *s, const bp_scan_t *sc,
                                                                 const bp_lex_t *lex, bp_toks_t *t,
                                                                 uint64_t *lang4, const int count)
{
    /* an empty word table (before bp_lex_index): an empty filter */
    static const uint64_t nofilt[1] = {0};
    /* the language counts, 16-bit lanes taken modulo 2^16 each: those of
     * languages 0-7 and 8-15 (bp__lang_lanes) */
    bp__v8 llo = {0}, lhi = {0};
    bp__wt_t wt = {lex->wtab, nofilt, 63, 63};
    if (lex->wtab != NULL) {
        wt.filt = lex->wfilt;
        wt.fmask = lex->wfilt_mask;
        wt.shift = lex->wtab_shift;
    }
    size_t len = sc->len;
    size_t nchunks = (len + 63) >> 6;
    uint64_t prev_top = 0; /* the last byte of the previous chunk may be in a word */
    /* a chunk starts at most 32 runs: room for 32 tokens is made per chunk */
    for (size_t c = 0; c < nchunks; c++) {
        const uint64_t *w = sc->w + BP_SC_NFIELDS * c;
        uint64_t C = w[BP_SC_CAND];
        /* the first byte of each run of word-candidate bytes */
        uint64_t S = C & ~((C << 1) | prev_top);
        prev_top = C >> 63;
        if (S == 0)
            continue;
        if (t->cap - t->n < 32 && bp_grow(&t->v, &t->cap, t->n + 32, sizeof *t->v) != 0)
            return -1;
        size_t base = 64 * c;
        const uint64_t top = UINT64_C(1) << 63;
        /* the last run reaches the next chunk when byte 63 is in one: it
         * starts at the highest bit of S and is taken after the others */
        unsigned kx = 64;
        if (C & top) {
            kx = 63u - (unsigned)__builtin_clzll(S);
            S &= ~(UINT64_C(1) << kx);
        }
        /* with bit 63 set, every count below stops there (only the
         * crossing run, left out of S, would reach it) */
        uint64_t notC = ~C | top, notL = ~w[BP_SC_LETTER] | top, notU = ~w[BP_SC_UPPER];
        /* the hot loop reads 16 bytes from a word's start: near the end,
         * the bytes after len - 16 count as no letters in notL, so the
         * words starting there leave the hot loop (only it reads notL) */
        if (base + 64 + 16 > len)
            notL |= len - base >= 16 ? ~UINT64_C(0) << (len - base - 16) << 1 : ~UINT64_C(0);
        while (S != 0) {
            bp_tok_t *out = t->v + t->n;
            unsigned k;
            /* the hot loop: words of 1-16 ASCII letters (the first byte
             * that is no letter is the first that is no candidate) */
            for (;;) {
                k = (unsigned)__builtin_ctzll(S);
                size_t n = (size_t)__builtin_ctzll(notC >> k);
                if (n > 16 || (size_t)__builtin_ctzll(notL >> k) != n)
                    break;
                size_t p = base + k;
                /* the flags with no branch on the case of the first
                 * letter (unpredictable): BP_TF_LOWER (16) or BP_TF_UPPER
                 * (1); BP_TF_CAPS only when the first two letters are
                 * capitals (rare; then n >= 2) */
                uint64_t uk = ~notU >> k;
                uint32_t f = BP_TF_ALPHA | ((uint32_t)BP_TF_LOWER >> (4 * (uint32_t)(uk & 1)));
                if (__builtin_expect((uk & 3) == 3, 0) && (size_t)__builtin_ctzll((notU >> k) | top) >= n)
                    f |= BP_TF_CAPS;
                uint32_t lg = bp__letters_tok(out, s, p, n, f, wt);
                if (count)
                    bp__lang_count(lg, &llo, &lhi);
                out++;
                S &= S - 1;
                if (S == 0)
                    break;
            }
            t->n = (size_t)(out - t->v);
            if (S == 0)
                break;
            S &= S - 1;
            size_t n = (size_t)__builtin_ctzll(notC >> k);
            size_t p = base + k, e = p + n, n0 = t->n;
            /* letters and digits ("2019", "G20", "mp3"): the flags from
             * the letter and capital masks */
            if (n <= 16 && len - p >= 16 && (size_t)__builtin_ctzll((~w[BP_SC_ALNUM] >> k) | top) >= n) {
                bp__letters_tok(&t->v[t->n++], s, p, n, bp__alnum_flags(n, w[BP_SC_LETTER] >> k, ~notU >> k),
                                wt);
            } else {
                /* digits, '_', non-ASCII characters, long words, the last
                 * bytes of the text: the general tokenizer on the run */
                if (bp__run_general(s, p, e, len, lex, t, wt) != 0)
                    return -1;
            }
            if (count)
                bp__lang_add(lex, t->v, n0, t->n, &llo, &lhi);
        }
        if (kx < 64) {
            /* the run reaching the next chunk: its r bytes here, then the
             * next chunk's (two chunks past the end are allocated, their
             * bits 0) */
            unsigned k = kx;
            const uint64_t *wn = w + BP_SC_NFIELDS;
            size_t r = 64 - k, p = base + k, n0 = t->n;
            uint64_t cn = ~wn[BP_SC_CAND];
            size_t n = r + (cn != 0 ? (size_t)__builtin_ctzll(cn) : 64);
            if (n > 64)
                n = 64; /* 64: a run of 64 bytes or more */
            size_t e = p + n;
            if (n <= 16 && len - p >= 16 && (~w[BP_SC_LETTER] >> k) == 0 &&
                (~wn[BP_SC_LETTER] & bp__lowbits[n - r]) == 0) {
                uint64_t u = notU >> k, un = ~wn[BP_SC_UPPER];
                size_t ncap = u != 0 ? (size_t)__builtin_ctzll(u) : r + (un != 0 ? (size_t)__builtin_ctzll(un) : 64);
                bp_tok_t *tk = &t->v[t->n++];
                uint32_t lg = bp__letters_tok(tk, s, p, n, bp__letters_flags(n, ncap), wt);
                if (count)
                    bp__lang_count(lg, &llo, &lhi);
                continue;
            } else {
                /* a run of 64 bytes or more: find its end */
                for (size_t q = p + 64; n == 64; q += 64) {
                    uint64_t x = q < len ? ~bp_scan_bits(sc, BP_SC_CAND, q) : 1;
                    if (x != 0) {
                        e = q + (size_t)__builtin_ctzll(x);
                        n = 0;
                    }
                }
                if (bp__run_general(s, p, e, len, lex, t, wt) != 0)
                    return -1;
            }
            if (count)
                bp__lang_add(lex, t->v, n0, t->n, &llo, &lhi);
        }
    }
    if (count) {
        /* every known word was added: take those after the first
         * BP_LANG_TOKENS out again (exact: each lane is taken modulo
         * 2^16, and what is left, a count of at most BP_LANG_TOKENS
         * words, is below 2^16) */
        for (size_t j = BP_LANG_TOKENS; j < t->n; j++) {
            bp__v8 a, b;
            bp__lang_lanes(bp__word_langs(lex, t->v[j].wi), &a, &b);
            llo += a;
            lhi += b;
        }
        uint64_t acc[4];
        memcpy(acc, &llo, sizeof llo);
        memcpy(acc + 2, &lhi, sizeof lhi);
        for (int l = 0; l < 4; l++)
            lang4[l] += acc[l];
    }
    return 0;
}

int bp_tokenize_text(const char *s, const bp_scan_t *sc, const bp_lex_t *lex, bp_toks_t *t)
{
    return bp__tokenize_text(s, sc, lex, t, NULL, 0);
}

int bp_tokenize_text_langs(const char *s, const bp_scan_t *sc, const bp_lex_t *lex, bp_toks_t *t,
                           uint64_t *lang4)
{
    if (lex->wlangs == NULL) /* (langq != 4, or no bp_lex_index) */
        return bp__tokenize_text(s, sc, lex, t, NULL, 0);
    return bp__tokenize_text(s, sc, lex, t, lang4, 1);
}

/* ------------------------------------------------------------------------ */
/* Word table                                                               */
/* ------------------------------------------------------------------------ */

static bp_winfo_t *bp__word(bp_lex_t *lex, uint64_t h)
{
    uint32_t *v = bp_map_get(&lex->words, h);
    if (v != NULL)
        return &lex->winfo[*v];
    if (bp_grow(&lex->winfo, &lex->capwinfo, lex->nwinfo + 1, sizeof *lex->winfo) != 0)
        return NULL;
    if (bp_map_put(&lex->words, h, (uint32_t)lex->nwinfo) != 0)
        return NULL;
    bp_winfo_t *w = &lex->winfo[lex->nwinfo++];
    memset(w, 0, sizeof *w);
    w->pat_head = UINT32_MAX;
    w->fhead = UINT32_MAX;
    return w;
}

int bp_lex_kind_find(const bp_lex_t *lex, const char *name)
{
    for (int i = 0; i < lex->nkinds; i++)
        if (strcmp(lex->kinds[i], name) == 0)
            return i;
    return -1;
}

int bp_lex_kind(bp_lex_t *lex, const char *name)
{
    int k = bp_lex_kind_find(lex, name);
    if (k >= 0)
        return k;
    if (lex->nkinds >= 32)
        return -1;
    char **kinds = realloc(lex->kinds, (size_t)(lex->nkinds + 1) * sizeof *kinds);
    if (kinds == NULL)
        return -1;
    lex->kinds = kinds;
    kinds[lex->nkinds] = strdup(name);
    if (kinds[lex->nkinds] == NULL)
        return -1;
    return lex->nkinds++;
}

/* Read a whole file; NULL with err on failure. */
static char *bp__slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Language code from a file name "stopwords.<code>.txt" (or the base name). */
static void bp__lang_of(const char *path, char *out, size_t outlen)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strchr(b, '.');
    const char *code = dot ? dot + 1 : b;
    size_t n = strcspn(code, ".");
    if (n == 0 || n >= outlen) {
        code = b;
        n = strcspn(b, ".");
    }
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, code, n);
    out[n] = '\0';
}

/* Iterate the lines of buf: returns the next line (NUL-terminated in place),
 * trimmed, or NULL at the end. */
static char *bp__next_line(char **cur, int *lineno)
{
    char *p = *cur;
    if (p == NULL || *p == '\0')
        return NULL;
    char *nl = strchr(p, '\n');
    if (nl) {
        *nl = '\0';
        *cur = nl + 1;
    } else {
        *cur = p + strlen(p);
    }
    (*lineno)++;
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        p[--n] = '\0';
    return p;
}

int bp_lex_load_stopwords(bp_lex_t *lex, const char *path, char *err, size_t errlen)
{
    char code[12];
    bp__lang_of(path, code, sizeof code);
    int li = -1;
    for (int i = 0; i < lex->nlangs; i++)
        if (strcmp(lex->langs[i], code) == 0)
            li = i;
    if (li < 0) {
        if (lex->nlangs >= BP_MAX_LANGS) {
            snprintf(err, errlen, "%s: too many stop-word languages (at most %d)", path,
                     BP_MAX_LANGS);
            return -1;
        }
        li = lex->nlangs++;
        snprintf(lex->langs[li], sizeof lex->langs[li], "%s", code);
    }
    size_t len;
    char *buf = bp__slurp(path, &len, err, errlen);
    if (buf == NULL)
        return -1;
    char *cur = buf, *line;
    int lineno = 0;
    while ((line = bp__next_line(&cur, &lineno)) != NULL) {
        if (*line == '\0' || *line == '#')
            continue;
        bp_winfo_t *w = bp__word(lex, bp_hash_folded(line, strlen(line)));
        if (w == NULL) {
            free(buf);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        w->langs |= 1u << li;
    }
    free(buf);
    return 0;
}

int bp_lex_load_agencies(bp_lex_t *lex, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *buf = bp__slurp(path, &len, err, errlen);
    if (buf == NULL)
        return -1;
    char *cur = buf, *line;
    int lineno = 0;
    while ((line = bp__next_line(&cur, &lineno)) != NULL) {
        if (*line == '\0' || *line == '#')
            continue;
        /* The key is the name's words, folded and joined by one space. */
        bp_toks_t t = {0};
        size_t keylen = strcspn(line, "=");
        if (bp_tokenize(line, 0, keylen, &t) != 0) {
            free(t.v);
            free(buf);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        uint64_t key = 0x9E3779B97F4A7C15ull;
        for (size_t i = 0; i < t.n; i++)
            key = (key ^ t.v[i].h) * 0x100000001B3ull;
        if (key == 0)
            key = 1;
        free(t.v);
        if (bp_grow(&lex->agency_names, &lex->capagency, lex->nagency + 1,
                    sizeof *lex->agency_names) != 0 ||
            (lex->agency_names[lex->nagency] = strdup(line)) == NULL ||
            bp_map_put(&lex->agencies, key, (uint32_t)lex->nagency) != 0) {
            free(buf);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        lex->nagency++;
    }
    free(buf);
    return 0;
}

/* Parse "mode,opt,opt=N" (modifies s).  Returns 0 or -1. */
static int bp__parse_head(char *s, uint8_t *mode, uint32_t *opts, uint16_t *minw, uint16_t *maxw,
                          int *is_cue, int *is_month)
{
    *mode = 0;
    *opts = 0;
    *minw = *maxw = 0;
    *is_cue = *is_month = 0;
    char *save = NULL;
    int first = 1;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t n = strlen(tok);
        while (n && tok[n - 1] == ' ')
            tok[--n] = '\0';
        if (first) {
            first = 0;
            if (strcmp(tok, "line") == 0)
                *mode = BP_PM_LINE;
            else if (strcmp(tok, "prefix") == 0)
                *mode = BP_PM_PREFIX;
            else if (strcmp(tok, "suffix") == 0)
                *mode = BP_PM_SUFFIX;
            else if (strcmp(tok, "contains") == 0)
                *mode = BP_PM_CONTAINS;
            else if (strcmp(tok, "cue") == 0)
                *is_cue = 1;
            else if (strcmp(tok, "month") == 0)
                *is_month = 1;
            else
                return -1;
            continue;
        }
        if (strcmp(tok, "headline") == 0)
            *opts |= BP_PO_HEADLINE;
        else if (strcmp(tok, "sentence") == 0)
            *opts |= BP_PO_SENTENCE;
        else if (strcmp(tok, "caps") == 0)
            *opts |= BP_PO_CAPS;
        else if (strcmp(tok, "block") == 0)
            *opts |= BP_PO_BLOCK;
        else if (strcmp(tok, "teaser") == 0)
            *opts |= BP_PO_TEASER;
        else if (strcmp(tok, "soft") == 0)
            *opts |= BP_PO_SOFT;
        else if (strncmp(tok, "max=", 4) == 0)
            *maxw = (uint16_t)atoi(tok + 4);
        else if (strncmp(tok, "min=", 4) == 0)
            *minw = (uint16_t)atoi(tok + 4);
        else
            return -1;
    }
    return *mode || *is_cue || *is_month ? 0 : -1;
}

static int bp__add_ent(bp_lex_t *lex, uint64_t h, uint32_t pat)
{
    bp_winfo_t *w = bp__word(lex, h);
    if (w == NULL || bp_grow(&lex->ents, &lex->capents, lex->nents + 1, sizeof *lex->ents) != 0)
        return -1;
    lex->ents[lex->nents].pat = pat;
    lex->ents[lex->nents].next = w->pat_head;
    lex->ents[lex->nents].maxw = UINT32_MAX;
    lex->ents[lex->nents].anchored = 0;
    w->pat_head = (uint32_t)lex->nents++;
    return 0;
}

static int bp__push_ptok(bp_lex_t *lex, const bp_ptok_t *pt)
{
    if (bp_grow(&lex->ptoks, &lex->capptoks, lex->nptoks + 1, sizeof *lex->ptoks) != 0)
        return -1;
    lex->ptoks[lex->nptoks++] = *pt;
    return 0;
}

/* Words of a literal (a pattern word or one alternative), tokenised like a
 * text so that "e-mail" or "don't" give the same words. */
static int bp__words_of(const char *w, size_t n, bp_toks_t *t)
{
    t->n = 0;
    return bp_tokenize(w, 0, n, t);
}

/* First-word index: every word a match can start with; 1 when the pattern
 * can start anywhere (first token not a literal). */
static uint64_t bp__bigram(uint64_t a, uint64_t b)
{
    uint64_t k = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    return k ? k : 1;
}

/* First words of the pattern token k (a literal or a required
 * alternative): fills w (up to max); returns the count, or -1. */
static int bp__firsts(const bp_lex_t *lex, const bp_pattern_t *p, uint32_t k, uint64_t *w, int max)
{
    if (k >= p->ntok)
        return -1;
    const bp_ptok_t *t = &lex->ptoks[p->tok0 + k];
    if (t->type == BP_PT_LIT) {
        w[0] = t->h;
        return 1;
    }
    if (t->type != BP_PT_ALT || t->optional || (int)t->nalt > max)
        return -1;
    for (uint32_t a = 0; a < t->nalt; a++)
        w[a] = lex->althash[lex->alts[t->alt0 + a].h0];
    return (int)t->nalt;
}

static int bp__add_bigram(bp_lex_t *lex, uint64_t a, uint64_t b, uint32_t pi)
{
    bp_winfo_t *w = bp__word(lex, a);
    if (w == NULL || bp_grow(&lex->ents, &lex->capents, lex->nents + 1, sizeof *lex->ents) != 0)
        return -1;
    uint8_t pm = lex->pats[pi].mode;
    w->bigram |= pm == BP_PM_LINE || pm == BP_PM_PREFIX ? 1 : 2;
    if (pm != BP_PM_LINE && pm != BP_PM_PREFIX) {
        /* bp__pat_bound of an unanchored pattern */
        uint32_t bound = lex->pats[pi].maxw ? lex->pats[pi].maxw : UINT32_MAX;
        if (bound > w->fmaxw)
            w->fmaxw = bound;
    }
    uint64_t key = bp__bigram(a, b);
    uint32_t *hd = bp_map_get(&lex->bigrams, key);
    bp_ent_t *e = &lex->ents[lex->nents];
    e->pat = pi;
    e->next = hd ? *hd : UINT32_MAX;
    e->maxw = UINT32_MAX;
    e->anchored = 0;
    return bp_map_put(&lex->bigrams, key, (uint32_t)lex->nents++);
}

/* Index a pattern by its first two words when they are fixed enough
 * (a literal or required alternatives, at most 64 pairs): a common first
 * word ("the", "is") then costs one probe, not a try per pattern.
 * Returns 1 when indexed, 0 when not possible, -1 on no memory. */
static int bp__index_pairs(bp_lex_t *lex, uint32_t pi)
{
    const bp_pattern_t *p = &lex->pats[pi];
    const bp_ptok_t *t0 = &lex->ptoks[p->tok0];
    uint64_t sec[64];
    int nsec = bp__firsts(lex, p, 1, sec, 64);
    int pairs = 0;
    if (t0->type == BP_PT_LIT) {
        if (nsec < 0)
            return 0;
        for (int j = 0; j < nsec; j++)
            if (bp__add_bigram(lex, t0->h, sec[j], pi) != 0)
                return -1;
        return 1;
    }
    if (t0->type != BP_PT_ALT || t0->optional)
        return 0;
    /* every single-word alternative needs the next token's words */
    for (uint32_t a = 0; a < t0->nalt; a++) {
        const bp_alt_t *al = &lex->alts[t0->alt0 + a];
        if (al->nh == 1 && nsec < 0)
            return 0;
        pairs += al->nh >= 2 ? 1 : nsec;
    }
    if (pairs > 256)
        return 0;
    for (uint32_t a = 0; a < t0->nalt; a++) {
        const bp_alt_t *al = &lex->alts[t0->alt0 + a];
        uint64_t w0 = lex->althash[al->h0];
        if (al->nh >= 2) {
            if (bp__add_bigram(lex, w0, lex->althash[al->h0 + 1], pi) != 0)
                return -1;
        } else {
            for (int j = 0; j < nsec; j++)
                if (bp__add_bigram(lex, w0, sec[j], pi) != 0)
                    return -1;
        }
    }
    return 1;
}

static int bp__index_first(bp_lex_t *lex, uint32_t pi, uint32_t k)
{
    if (k == 0) {
        int r = bp__index_pairs(lex, pi);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
    const bp_pattern_t *p = &lex->pats[pi];
    if (k >= p->ntok)
        return 1;
    const bp_ptok_t *f = &lex->ptoks[p->tok0 + k];
    if (f->type == BP_PT_LIT)
        return bp__add_ent(lex, f->h, pi) != 0 ? -1 : 0;
    if (f->type == BP_PT_ALT) {
        for (uint32_t a = 0; a < f->nalt; a++) {
            const bp_alt_t *al = &lex->alts[f->alt0 + a];
            if (al->nh && bp__add_ent(lex, lex->althash[al->h0], pi) != 0)
                return -1;
        }
        return f->optional ? bp__index_first(lex, pi, k + 1) : 0;
    }
    return 1;
}

/* Compile one pattern (body is modified). */
static int bp__add_pattern(bp_lex_t *lex, int kind, uint8_t mode, uint32_t opts, uint16_t minw,
                           uint16_t maxw, char *body, const char *src, char *err, size_t errlen)
{
    uint32_t tok0 = (uint32_t)lex->nptoks;
    bp_toks_t t = {0};
    char *q = body;
    for (;;) {
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '\0')
            break;
        bp_ptok_t pt = {0};
        if (*q == '{') {
            char *close = strchr(q, '}');
            if (close == NULL) {
                snprintf(err, errlen, "%s: unclosed {alternatives}", src);
                free(t.v);
                return -1;
            }
            pt.type = BP_PT_ALT;
            pt.alt0 = (uint32_t)lex->nalts;
            char *a = q + 1;
            for (;;) {
                char *bar = a;
                while (bar < close && *bar != '|')
                    bar++;
                if (bp__words_of(a, (size_t)(bar - a), &t) != 0)
                    goto oom;
                if (t.n == 0) {
                    pt.optional = 1;
                } else {
                    if (bp_grow(&lex->alts, &lex->capalts, lex->nalts + 1, sizeof *lex->alts) != 0 ||
                        bp_grow(&lex->althash, &lex->capalthash, lex->nalthash + t.n,
                                sizeof *lex->althash) != 0)
                        goto oom;
                    bp_alt_t *al = &lex->alts[lex->nalts++];
                    al->h0 = (uint32_t)lex->nalthash;
                    al->nh = (uint32_t)t.n;
                    for (size_t i = 0; i < t.n; i++)
                        lex->althash[lex->nalthash++] = t.v[i].h;
                    pt.nalt++;
                }
                if (bar >= close)
                    break;
                a = bar + 1;
            }
            if (pt.nalt == 0) {
                snprintf(err, errlen, "%s: empty {alternatives}", src);
                free(t.v);
                return -1;
            }
            if (bp__push_ptok(lex, &pt) != 0)
                goto oom;
            q = close + 1;
            continue;
        }
        char *w = q;
        while (*q && *q != ' ' && *q != '\t' && *q != '{')
            q++;
        size_t wl = (size_t)(q - w);
        if (wl == 1 && (*w == '*' || *w == '#' || *w == '$' || *w == ':')) {
            pt.type = *w == '*' ? BP_PT_ANY : *w == '#' ? BP_PT_NUM : *w == '$' ? BP_PT_CAPTURE
                                                                              : BP_PT_COLON;
            if (bp__push_ptok(lex, &pt) != 0)
                goto oom;
            continue;
        }
        if (bp__words_of(w, wl, &t) != 0)
            goto oom;
        for (size_t i = 0; i < t.n; i++) {
            bp_ptok_t lt = {.type = BP_PT_LIT, .h = t.v[i].h};
            if (bp__push_ptok(lex, &lt) != 0)
                goto oom;
        }
    }
    free(t.v);
    t.v = NULL;
    uint32_t ntok = (uint32_t)lex->nptoks - tok0;
    if (ntok == 0 || ntok > 48) {
        snprintf(err, errlen, "%s: a pattern needs 1 to 48 words", src);
        return -1;
    }
    if (bp_grow(&lex->pats, &lex->cappats, lex->npats + 1, sizeof *lex->pats) != 0)
        goto oom;
    uint32_t pi = (uint32_t)lex->npats;
    bp_pattern_t *p = &lex->pats[lex->npats++];
    p->kind = kind;
    p->mode = mode;
    p->opts = opts;
    p->minw = minw;
    p->maxw = maxw;
    p->tok0 = tok0;
    p->ntok = ntok;
    p->src = strdup(src);
    if (p->src == NULL)
        goto oom;
    int r = bp__index_first(lex, pi, 0);
    if (r < 0)
        goto oom;
    if (r == 1) {
        if (bp_grow(&lex->wild, &lex->capwild, lex->nwild + 1, sizeof *lex->wild) != 0)
            goto oom;
        lex->wild[lex->nwild].pat = pi;
        lex->wild[lex->nwild].next = UINT32_MAX;
        lex->wild[lex->nwild].maxw = UINT32_MAX;
        lex->wild[lex->nwild].anchored = 0;
        lex->nwild++;
    }
    return 0;
oom:
    free(t.v);
    snprintf(err, errlen, "%s: out of memory", src);
    return -1;
}

int bp_lex_load_phrases(bp_lex_t *lex, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *buf = bp__slurp(path, &len, err, errlen);
    if (buf == NULL)
        return -1;
    char *cur = buf, *line;
    int lineno = 0, kind = 0, have_section = 0, meta_month = 0;
    int rc = 0;
    while ((line = bp__next_line(&cur, &lineno)) != NULL) {
        char src[512];
        snprintf(src, sizeof src, "%s:%d", path, lineno);
        if (*line == '\0' || *line == '#')
            continue;
        if (*line == '[') {
            size_t n = strlen(line);
            if (n < 3 || line[n - 1] != ']') {
                snprintf(err, errlen, "%s: bad section header \"%s\" (want [kind])", src, line);
                rc = -1;
                break;
            }
            line[n - 1] = '\0';
            const char *name = line + 1;
            have_section = 1;
            meta_month = 0;
            if (strcmp(name, "@byline") == 0) {
                kind = BP_META_BYLINE;
            } else if (strcmp(name, "@syndication") == 0) {
                kind = BP_META_SYNDICATION;
            } else if (strcmp(name, "@month") == 0) {
                kind = -100;
                meta_month = 1;
            } else {
                for (const char *c = name; *c; c++)
                    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
                        snprintf(err, errlen, "%s: kind \"%s\" must be [a-z0-9_]+", src, name);
                        free(buf);
                        return -1;
                    }
                kind = bp_lex_kind(lex, name);
                if (kind < 0) {
                    snprintf(err, errlen, "%s: too many kinds (at most 32)", src);
                    rc = -1;
                    break;
                }
            }
            continue;
        }
        char *colon = strchr(line, ':');
        if (colon == NULL) {
            snprintf(err, errlen, "%s: expected \"mode: pattern\", got \"%.60s\"", src, line);
            rc = -1;
            break;
        }
        if (!have_section) {
            snprintf(err, errlen, "%s: pattern before any [kind] section", src);
            rc = -1;
            break;
        }
        *colon = '\0';
        char *body = colon + 1;
        uint8_t mode;
        uint32_t opts;
        uint16_t minw, maxw;
        int is_cue, is_month;
        if (bp__parse_head(line, &mode, &opts, &minw, &maxw, &is_cue, &is_month) != 0) {
            snprintf(err, errlen,
                     "%s: unknown mode or option in \"%s\" (modes: line, prefix, suffix, contains, "
                     "cue; options: max=N, min=N, headline, sentence, caps, block, teaser, soft)",
                     src, line);
            rc = -1;
            break;
        }
        if (is_month) {
            if (!meta_month) {
                snprintf(err, errlen, "%s: \"month:\" belongs in the [@month] section", src);
                rc = -1;
                break;
            }
            char *save = NULL;
            char *num = strtok_r(body, " \t", &save);
            int m = num ? atoi(num) : 0;
            if (m < 1 || m > 12) {
                snprintf(err, errlen, "%s: \"month:\" needs a month number 1-12 first", src);
                rc = -1;
                break;
            }
            for (char *w = strtok_r(NULL, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                bp_winfo_t *wi = bp__word(lex, bp_hash_folded(w, strlen(w)));
                if (wi == NULL)
                    goto oom;
                wi->month = (uint8_t)m;
            }
            continue;
        }
        if (meta_month) {
            snprintf(err, errlen, "%s: only \"month:\" lines belong in [@month]", src);
            rc = -1;
            break;
        }
        if (is_cue) {
            if (kind < 0 || kind >= 32) {
                snprintf(err, errlen, "%s: \"cue:\" needs a boilerplate [kind] section", src);
                rc = -1;
                break;
            }
            char *save = NULL;
            for (char *w = strtok_r(body, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                bp_winfo_t *wi = bp__word(lex, bp_hash_folded(w, strlen(w)));
                if (wi == NULL)
                    goto oom;
                wi->cue_kinds |= 1u << kind;
            }
            continue;
        }
        if (bp__add_pattern(lex, kind, mode, opts, minw, maxw, body, src, err, errlen) != 0) {
            rc = -1;
            break;
        }
    }
    free(buf);
    return rc;
oom:
    free(buf);
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
}

void bp_lex_free(bp_lex_t *lex)
{
#ifdef BP_PROFILE
    for (size_t i = 0; i < lex->npats && i < 4096; i++)
        if (bp_prof_tries[i] > 2000)
            fprintf(stderr, "tries %8lu %s\n", bp_prof_tries[i], lex->pats[i].src);
#endif
    bp_map_free(&lex->words);
    free(lex->wtab);
    free(lex->wfilt);
    free(lex->wlangs);
    free(lex->winfo);
    free(lex->nfloat_n);
    free(lex->langlanes);
    free(lex->wlc);
    for (int i = 0; i < lex->nkinds; i++)
        free(lex->kinds[i]);
    free(lex->kinds);
    for (size_t i = 0; i < lex->npats; i++)
        free(lex->pats[i].src);
    free(lex->pats);
    free(lex->ptoks);
    free(lex->alts);
    free(lex->althash);
    free(lex->ents);
    bp_map_free(&lex->bigrams);
    free(lex->wild);
    free(lex->wfloat);
    bp_map_free(&lex->agencies);
    for (size_t i = 0; i < lex->nagency; i++)
        free(lex->agency_names[i]);
    free(lex->agency_names);
    memset(lex, 0, sizeof *lex);
}

/* ------------------------------------------------------------------------ */
/* Matcher                                                                  */
/* ------------------------------------------------------------------------ */

#define BP_ANY_MAX 6
#define BP_CAPTURE_MAX 8

static int bp__connector(const bp_lex_t *lex, uint64_t h)
{
    for (int i = 0; i < BP_NCONN; i++)
        if (lex->conn[i] == h)
            return 1;
    return 0;
}

void bp_lex_init(bp_lex_t *lex)
{
    static const char *const w[BP_NCONN] = {"of", "the", "de", "for", "and", "du", "des", "la"};
    memset(lex, 0, sizeof *lex);
    for (int32_t cp = 0x80; cp < 0x800; cp++) {
        unsigned cc = bp_cclass(cp);
        lex->u2cls[cp - 0x80] = (uint8_t)cc;
        lex->u2low[cp - 0x80] = (uint16_t)((cc & BP_CC_UPPER) ? utf8proc_tolower(cp) : cp);
    }
    for (int32_t cp = 0x2000; cp < 0x2040; cp++)
        lex->u3gp[cp - 0x2000] = (uint8_t)bp_cclass(cp);
    for (int i = 0; i < BP_NCONN; i++)
        lex->conn[i] = bp_hash_folded(w[i], strlen(w[i]));
}

void bp_lex_lookup(const bp_lex_t *lex, bp_tok_t *toks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t *v = bp_map_get(&lex->words, toks[i].h);
        toks[i].wi = v != NULL ? *v : UINT32_MAX;
    }
}

static int bp__capword(const bp_tok_t *t)
{
    return (t->flags & (BP_TF_UPPER | BP_TF_CAPS | BP_TF_DIGIT)) != 0;
}

/* Match pattern tokens [pi, pn) against toks [ti, n).  Returns the end
 * token index or -1.  Recursion depth is bounded by the pattern length. */
static long bp__match_at(const bp_lex_t *lex, const bp_pattern_t *p, uint32_t pi,
                         const bp_tok_t *toks, size_t n, size_t ti, int32_t *cap0, int32_t *cap1,
                         const bp_blockinfo_t *bi)
{
    if (pi == p->ntok)
        return (long)ti;
    const bp_ptok_t *pt = &lex->ptoks[p->tok0 + pi];
    switch (pt->type) {
    case BP_PT_LIT:
        if (ti >= n || toks[ti].h != pt->h)
            return -1;
        if ((p->opts & BP_PO_CAPS) && !(toks[ti].flags & (BP_TF_CAPS | BP_TF_DIGIT)) &&
            !((toks[ti].flags & BP_TF_UPPER) && toks[ti].end - toks[ti].start == 1))
            return -1;
        return bp__match_at(lex, p, pi + 1, toks, n, ti + 1, cap0, cap1, bi);
    case BP_PT_NUM:
        if (ti >= n || !(toks[ti].flags & BP_TF_DIGIT))
            return -1;
        return bp__match_at(lex, p, pi + 1, toks, n, ti + 1, cap0, cap1, bi);
    case BP_PT_ALT:
        /* longest alternative first */
        for (uint32_t a = 0; a < pt->nalt; a++) {
            const bp_alt_t *al = &lex->alts[pt->alt0 + a];
            if (ti + al->nh > n)
                continue;
            uint32_t k = 0;
            while (k < al->nh && lex->althash[al->h0 + k] == toks[ti + k].h)
                k++;
            if (k < al->nh)
                continue;
            long r = bp__match_at(lex, p, pi + 1, toks, n, ti + al->nh, cap0, cap1, bi);
            if (r >= 0)
                return r;
        }
        if (pt->optional)
            return bp__match_at(lex, p, pi + 1, toks, n, ti, cap0, cap1, bi);
        return -1;
    case BP_PT_ANY:
        /* a trailing "*" of a line or suffix pattern runs to the block's
         * end (the shortest skip would never satisfy the end check) */
        if (pi + 1 == p->ntok && (p->mode == BP_PM_LINE || p->mode == BP_PM_SUFFIX))
            return n >= ti && n - ti <= BP_ANY_MAX ? (long)n : -1;
        for (size_t k = 0; k <= BP_ANY_MAX && ti + k <= n; k++) {
            long r = bp__match_at(lex, p, pi + 1, toks, n, ti + k, cap0, cap1, bi);
            if (r >= 0)
                return r;
        }
        return -1;
    case BP_PT_COLON: {
        /* the previous word is followed by a colon */
        if (ti == 0 || bi == NULL || bi->text == NULL)
            return -1;
        uint32_t k = toks[ti - 1].end;
        while (k < bi->end && bi->text[k] == ' ')
            k++;
        if (k >= bi->end || bi->text[k] != ':')
            return -1;
        return bp__match_at(lex, p, pi + 1, toks, n, ti, cap0, cap1, bi);
    }
    case BP_PT_CAPTURE: {
        /* A name: capitalised words, with lower-case connectors inside. */
        size_t k = ti;
        while (k < n && k - ti < BP_CAPTURE_MAX) {
            if (bp__capword(&toks[k])) {
                k++;
                continue;
            }
            if (k > ti && k + 1 < n && bp__connector(lex, toks[k].h) && bp__capword(&toks[k + 1])) {
                k++;
                continue;
            }
            break;
        }
        /* Longest name first, shrinking until the rest matches. */
        for (size_t e = k; e > ti; e--) {
            long r = bp__match_at(lex, p, pi + 1, toks, n, e, cap0, cap1, bi);
            if (r >= 0) {
                *cap0 = (int32_t)ti;
                *cap1 = (int32_t)e;
                return r;
            }
        }
        return -1;
    }
    }
    return -1;
}

static int bp__opts_ok(const bp_pattern_t *p, size_t n, const bp_blockinfo_t *bi)
{
    if (p->maxw && n > p->maxw)
        return 0;
    if (p->minw && n < p->minw)
        return 0;
    if ((p->opts & BP_PO_HEADLINE) && bi != NULL && bi->ends_sentence)
        return 0;
    if ((p->opts & BP_PO_SENTENCE) && bi != NULL && !bi->ends_sentence)
        return 0;
    return 1;
}

static int bp__try(const bp_lex_t *lex, uint32_t pi, const bp_tok_t *toks, size_t n, size_t ti,
                   const bp_blockinfo_t *bi, int which, bp_match_t *best)
{
#ifdef BP_PROFILE
    if (pi < 4096)
        bp_prof_tries[pi]++;
#endif
    const bp_pattern_t *p = &lex->pats[pi];
    if (which == 0 ? p->kind < 0 : p->kind != which)
        return 0;
    if (ti > 0 && (p->mode == BP_PM_LINE || p->mode == BP_PM_PREFIX))
        return 0;
    if (!bp__opts_ok(p, n, bi))
        return 0;
    int32_t c0 = -1, c1 = -1;
    long e = bp__match_at(lex, p, 0, toks, n, ti, &c0, &c1, bi);
    if (e < 0)
        return 0;
    if ((p->mode == BP_PM_LINE || p->mode == BP_PM_SUFFIX) && (size_t)e != n)
        return 0;
    uint32_t len = (uint32_t)e - (uint32_t)ti;
    if (best->pat < 0 || len > best->t1 - best->t0) {
        best->pat = (int)pi;
        best->t0 = (uint32_t)ti;
        best->t1 = (uint32_t)e;
        best->cap0 = c0;
        best->cap1 = c1;
    }
    return 1;
}

/* The longest block a pattern can match (UINT32_MAX: no bound). */
static uint32_t bp__pat_bound(const bp_lex_t *lex, const bp_pattern_t *p)
{
    if (p->maxw)
        return p->maxw;
    if (p->mode != BP_PM_LINE)
        return UINT32_MAX;
    uint32_t len = 0;
    for (uint32_t k = 0; k < p->ntok; k++) {
        const bp_ptok_t *t = &lex->ptoks[p->tok0 + k];
        switch (t->type) {
        case BP_PT_ANY: len += BP_ANY_MAX; break;
        case BP_PT_CAPTURE: len += 8; break;
        case BP_PT_COLON: break;
        case BP_PT_ALT: {
            uint32_t mx = 0;
            for (uint32_t a = 0; a < t->nalt; a++)
                if (lex->alts[t->alt0 + a].nh > mx)
                    mx = lex->alts[t->alt0 + a].nh;
            len += mx;
            break;
        }
        default: len += 1; break;
        }
    }
    return len;
}

static int bp__cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int bp_lex_index(bp_lex_t *lex)
{
    /* the word table: 8 slots or more per word */
    unsigned bits = 4;
    while (bits < 40 && ((size_t)1 << bits) < 8 * lex->words.n)
        bits++;
    size_t cap = (size_t)1 << bits;
    free(lex->wtab);
    lex->wtab = malloc(cap * sizeof *lex->wtab);
    if (lex->wtab == NULL)
        return -1;
    lex->wtab_shift = 64 - bits;
    for (size_t j = 0; j < cap; j++) {
        lex->wtab[j].key = 0;
        lex->wtab[j].val = UINT32_MAX;
        lex->wtab[j].langs = 0;
    }
    for (size_t i = 0; i < lex->words.cap; i++) {
        uint64_t k = lex->words.e[i].key;
        if (k == 0)
            continue;
        size_t j = (size_t)(k >> lex->wtab_shift);
        while (lex->wtab[j].key != 0)
            j = (j + 1) & (cap - 1);
        lex->wtab[j].key = k;
        lex->wtab[j].val = lex->words.e[i].val;
        lex->wtab[j].langs = 0;
    }
    /* the filter: 4 bits per slot, a key's bit by its low bits (the slot
     * is by the high ones) */
    free(lex->wfilt);
    lex->wfilt_mask = 4 * cap - 1;
    lex->wfilt = calloc(4 * cap / 64, sizeof *lex->wfilt);
    if (lex->wfilt == NULL)
        return -1;
    for (size_t i = 0; i < lex->words.cap; i++) {
        uint64_t k = lex->words.e[i].key;
        if (k != 0)
            lex->wfilt[(k & lex->wfilt_mask) >> 6] |= UINT64_C(1) << (k & 63);
    }
    /* each word's languages (the lanes of langlanes that are not 0) a
     * word further on, wlangs[0] zero, and in its slot */
    free(lex->wlangs);
    lex->wlangs = NULL;
    if (lex->langq == 4) {
        size_t nw = 0; /* every value in words */
        for (size_t i = 0; i < lex->words.cap; i++)
            if (lex->words.e[i].key != 0 && lex->words.e[i].val >= nw)
                nw = (size_t)lex->words.e[i].val + 1;
        lex->wlangs = calloc(nw + 1, sizeof *lex->wlangs);
        if (lex->wlangs == NULL)
            return -1;
        for (size_t i = 0; i < nw && lex->langlanes != NULL; i++)
            for (unsigned l = 0; l < 16; l++)
                if ((lex->langlanes[4 * i + l / 4] >> (16 * (l % 4))) & 0xFFFF)
                    lex->wlangs[i + 1] |= (uint16_t)(1u << l);
        for (size_t j = 0; j < cap; j++)
            if (lex->wtab[j].key != 0)
                lex->wtab[j].langs = lex->wlangs[(size_t)lex->wtab[j].val + 1];
    }
    return 0;
}

int bp_lex_finish(bp_lex_t *lex)
{
    lex->anchor_maxw = 0;
    lex->float_maxw = 0;
    lex->wild_maxw = lex->wfloat_maxw = 0;
    free(lex->wfloat);
    lex->wfloat = NULL;
    lex->nwfloat = 0;
    if (lex->nwild > 0 && (lex->wfloat = malloc(lex->nwild * sizeof *lex->wfloat)) == NULL)
        return -1;
    for (size_t i = 0; i < lex->nwild; i++) {
        const bp_pattern_t *p = &lex->pats[lex->wild[i].pat];
        uint32_t mw = bp__pat_bound(lex, p);
        lex->wild[i].maxw = mw;
        lex->wild[i].anchored = p->mode == BP_PM_LINE || p->mode == BP_PM_PREFIX;
        if (mw > lex->wild_maxw)
            lex->wild_maxw = mw;
        if (!lex->wild[i].anchored) {
            lex->wfloat[lex->nwfloat++] = (uint32_t)i;
            if (mw > lex->wfloat_maxw)
                lex->wfloat_maxw = mw;
        }
    }
    for (size_t i = 0; i < lex->nents; i++) {
        /* bigram entries and unigram entries share the array */
        const bp_pattern_t *p = &lex->pats[lex->ents[i].pat];
        lex->ents[i].maxw = bp__pat_bound(lex, p);
        lex->ents[i].anchored = p->mode == BP_PM_LINE || p->mode == BP_PM_PREFIX;
    }
    /* the unanchored sub-chains, in chain order */
    for (size_t i = 0; i < lex->nwinfo; i++) {
        uint32_t *link = &lex->winfo[i].fhead;
        for (uint32_t e = lex->winfo[i].pat_head; e != UINT32_MAX; e = lex->ents[e].next)
            if (!lex->ents[e].anchored) {
                *link = e;
                link = &lex->ents[e].fnext;
                if (lex->ents[e].maxw > lex->winfo[i].fmaxw)
                    lex->winfo[i].fmaxw = lex->ents[e].maxw;
            }
        *link = UINT32_MAX;
        lex->winfo[i].floats = lex->winfo[i].fhead != UINT32_MAX || (lex->winfo[i].bigram & 2);
    }
    /* renumber the words: those with floats first, longest fmaxw first
     * (the order of equals and of the rest kept), and the word table's
     * values with them */
    if (lex->nwinfo > 0) {
        uint32_t *perm = malloc(lex->nwinfo * sizeof *perm);
        bp_winfo_t *nw = malloc(lex->nwinfo * sizeof *nw);
        uint64_t *order = malloc(lex->nwinfo * sizeof *order);
        if (perm == NULL || nw == NULL || order == NULL) {
            free(perm);
            free(nw);
            free(order);
            return -1;
        }
        size_t nf = 0;
        for (size_t i = 0; i < lex->nwinfo; i++)
            if (lex->winfo[i].floats) /* sort key: ~fmaxw, then the index */
                order[nf++] = (uint64_t)(UINT32_MAX - lex->winfo[i].fmaxw) << 32 | i;
        qsort(order, nf, sizeof *order, bp__cmp_u64);
        uint32_t k = 0;
        for (size_t j = 0; j < nf; j++) {
            size_t i = (uint32_t)order[j];
            perm[i] = k;
            nw[k++] = lex->winfo[i];
        }
        free(order);
        for (size_t i = 0; i < lex->nwinfo; i++)
            if (!lex->winfo[i].floats) {
                perm[i] = k;
                nw[k++] = lex->winfo[i];
            }
        lex->nfloatw = 0;
        while (lex->nfloatw < k && nw[lex->nfloatw].floats)
            lex->nfloatw++;
        memcpy(lex->winfo, nw, lex->nwinfo * sizeof *nw);
        for (size_t j = 0; j < lex->words.cap; j++)
            if (lex->words.e[j].key != 0)
                lex->words.e[j].val = perm[lex->words.e[j].val];
        free(perm);
        free(nw);
    }
    free(lex->langlanes);
    lex->langq = lex->nlangs <= 16 ? 4 : 8;
    lex->langlanes = calloc(lex->nwinfo * lex->langq + 1, sizeof *lex->langlanes);
    if (lex->langlanes == NULL)
        return -1;
    free(lex->wlc);
    lex->wlc = malloc((lex->nwinfo + 1) * sizeof *lex->wlc);
    if (lex->wlc == NULL)
        return -1;
    for (size_t i = 0; i < lex->nwinfo; i++)
        lex->wlc[i + 1] = lex->winfo[i].langs | (uint64_t)lex->winfo[i].cue_kinds << 32;
    lex->wlc[0] = 0;
    for (size_t i = 0; i < lex->nwinfo; i++)
        for (uint32_t m = lex->winfo[i].langs; m; m &= m - 1) {
            unsigned l = (unsigned)__builtin_ctz(m);
            lex->langlanes[lex->langq * i + l / 4] |= UINT64_C(1) << (16 * (l % 4));
        }
    memset(lex->bgfilter, 0, sizeof lex->bgfilter);
    for (size_t j = 0; j < lex->bigrams.cap; j++) {
        uint64_t k = lex->bigrams.e[j].key;
        if (k != 0)
            lex->bgfilter[(k >> 46) & 63] |= UINT64_C(1) << ((k >> 40) & 63);
    }
    memset(lex->meta_floats, 0, sizeof lex->meta_floats);
    for (size_t i = 0; i < lex->npats; i++) {
        const bp_pattern_t *p = &lex->pats[i];
        uint32_t b = bp__pat_bound(lex, p);
        if (p->kind < 0 && -p->kind < 4 && p->mode != BP_PM_LINE && p->mode != BP_PM_PREFIX)
            lex->meta_floats[-p->kind] = 1;
        if (p->mode == BP_PM_LINE || p->mode == BP_PM_PREFIX) {
            if (b > lex->anchor_maxw)
                lex->anchor_maxw = b;
        } else if (b > lex->float_maxw) {
            lex->float_maxw = b;
        }
    }
    /* the float words that can start a match in a block of n tokens */
    free(lex->nfloat_n);
    lex->nfloat_nmax = lex->float_maxw < 4096 ? lex->float_maxw : 4096;
    lex->nfloat_n = malloc((lex->nfloat_nmax + 1) * sizeof *lex->nfloat_n);
    if (lex->nfloat_n == NULL)
        return -1;
    for (uint32_t n = 0, k = lex->nfloatw; n <= lex->nfloat_nmax; n++) {
        while (k > 0 && lex->winfo[k - 1].fmaxw < n)
            k--;
        lex->nfloat_n[n] = k;
    }
    return bp_lex_index(lex);
}

/* The patterns of the bigram whose key is bk (its chain), at toks[ti]. */
__attribute__((noinline)) static void bp__bigram_chain(const bp_lex_t *lex, uint64_t bk, const bp_tok_t *toks,
                                                     size_t n, size_t ti, const bp_blockinfo_t *bi,
                                                     int which, bp_match_t *m)
{
    uint32_t *hd = bp_map_get(&lex->bigrams, bk);
    for (uint32_t e = hd ? *hd : UINT32_MAX; e != UINT32_MAX; e = lex->ents[e].next) {
        const bp_ent_t *en = &lex->ents[e];
        if ((ti > 0 && en->anchored) || n > en->maxw)
            continue;
        bp__try(lex, en->pat, toks, n, ti, bi, which, m);
    }
}

/* The patterns indexed by the bigram toks[ti], toks[ti + 1] (ti + 1 < n):
 * the filter rules out most pairs inline, the rest walk the chain. */
static inline void bp__try_bigram(const bp_lex_t *lex, const bp_tok_t *toks, size_t n, size_t ti,
                                  const bp_blockinfo_t *bi, int which, bp_match_t *m)
{
    uint64_t bk = bp__bigram(toks[ti].h, toks[ti + 1].h);
    if ((lex->bgfilter[(bk >> 46) & 63] >> ((bk >> 40) & 63)) & 1)
        bp__bigram_chain(lex, bk, toks, n, ti, bi, which, m);
}

/* The unanchored entries of token ti's word (toks[ti].wi < nfw), and
 * its bigram's: bp_lex_match on a later token. */
static inline void bp__match_float(const bp_lex_t *lex, const bp_tok_t *toks, size_t n, size_t ti,
                                   const bp_blockinfo_t *bi, int which, bp_match_t *m)
{
    const bp_winfo_t *w = &lex->winfo[toks[ti].wi];
    for (uint32_t e = w->fhead; e != UINT32_MAX; e = lex->ents[e].fnext) {
        const bp_ent_t *en = &lex->ents[e];
        if (n > en->maxw)
            continue;
        bp__try(lex, en->pat, toks, n, ti, bi, which, m);
    }
    if ((w->bigram & 2) && ti + 1 < n)
        bp__try_bigram(lex, toks, n, ti, bi, which, m);
}

int bp_lex_match(const bp_lex_t *lex, const bp_tok_t *toks, size_t n, const bp_blockinfo_t *bi,
                 int which, bp_match_t *m)
{
    m->pat = -1;
    m->t0 = m->t1 = 0;
    m->cap0 = m->cap1 = -1;
    /* long blocks skip the scan: no pattern can match them */
    size_t lim = n <= lex->float_maxw ? n : (n <= lex->anchor_maxw ? 1 : 0);
    /* a metadata kind whose patterns are all line/prefix ones (bylines)
     * can only match at the first token */
    if (which < 0 && -which < 4 && !lex->meta_floats[-which] && lim > 1)
        lim = 1;
    if (lim == 0)
        return 0;
    /* the first token: every entry of its word, of its bigram, and every
     * pattern that can start anywhere */
    uint32_t wi = toks[0].wi;
    if (wi != UINT32_MAX) {
        const bp_winfo_t *w = &lex->winfo[wi];
        for (uint32_t e = w->pat_head; e != UINT32_MAX; e = lex->ents[e].next) {
            const bp_ent_t *en = &lex->ents[e];
            if (n > en->maxw)
                continue;
            bp__try(lex, en->pat, toks, n, 0, bi, which, m);
        }
        if (w->bigram && n > 1)
            bp__try_bigram(lex, toks, n, 0, bi, which, m);
    }
    if (n <= lex->wild_maxw)
        for (size_t k = 0; k < lex->nwild; k++) {
            const bp_ent_t *en = &lex->wild[k];
            if (n > en->maxw)
                continue;
            bp__try(lex, en->pat, toks, n, 0, bi, which, m);
        }
    /* the later tokens: only unanchored entries can match there; their
     * sub-chain makes the same tries in the same order */
    int wild = n <= lex->wfloat_maxw && lex->nwfloat > 0;
    /* the words that can start an unanchored match in a block this long
     * (the others' entries would all fail their maxw test) */
    const uint32_t nfw = lex->nfloat_n[n < lex->nfloat_nmax ? n : lex->nfloat_nmax];
    if (!wild) {
        /* only the words below nfw can start a match: their positions as
         * the bits of a mask (built with no branch per token), taken in
         * order, 64 tokens at a time */
        for (size_t t0 = 1; t0 < lim; t0 += 64) {
            size_t cnt = lim - t0 < 64 ? lim - t0 : 64;
            uint64_t mask = 0;
            /* (from the last token down: a compare and an add with
             * carry each) */
            for (size_t j = cnt; j-- > 0;)
                mask = 2 * mask + (toks[t0 + j].wi < nfw);
            for (; mask != 0; mask &= mask - 1) {
                size_t ti = t0 + (size_t)__builtin_ctzll(mask);
                bp__match_float(lex, toks, n, ti, bi, which, m);
            }
        }
        return m->pat >= 0;
    }
    for (size_t ti = 1; ti < lim; ti++) {
        if (toks[ti].wi < nfw)
            bp__match_float(lex, toks, n, ti, bi, which, m);
        for (size_t k = 0; k < lex->nwfloat; k++) {
            const bp_ent_t *en = &lex->wild[lex->wfloat[k]];
            if (n > en->maxw)
                continue;
            bp__try(lex, en->pat, toks, n, ti, bi, which, m);
        }
    }
    return m->pat >= 0;
}

int bp_lex_match_teaser(const bp_lex_t *lex, const bp_tok_t *toks, size_t n, const bp_blockinfo_t *bi,
                        bp_match_t *m)
{
    m->pat = -1;
    m->t0 = m->t1 = 0;
    m->cap0 = m->cap1 = -1;
    if (n == 0 || toks[0].wi == UINT32_MAX)
        return 0;
    const bp_winfo_t *w = &lex->winfo[toks[0].wi];
    /* the first word's unigram entries, then its bigram entries */
    uint32_t heads[2] = {w->pat_head, UINT32_MAX};
    if (w->bigram && n > 1) {
        uint32_t *hd = bp_map_get(&lex->bigrams, bp__bigram(toks[0].h, toks[1].h));
        if (hd != NULL)
            heads[1] = *hd;
    }
    for (int h = 0; h < 2; h++) {
        for (uint32_t e = heads[h]; e != UINT32_MAX; e = lex->ents[e].next) {
            const bp_pattern_t *p = &lex->pats[lex->ents[e].pat];
            if (p->mode != BP_PM_PREFIX || !(p->opts & BP_PO_TEASER) || p->kind < 0)
                continue;
            int32_t c0 = -1, c1 = -1;
            long r = bp__match_at(lex, p, 0, toks, n, 0, &c0, &c1, bi);
            if (r > 0 && (m->pat < 0 || (uint32_t)r > m->t1)) {
                m->pat = (int)lex->ents[e].pat;
                m->t1 = (uint32_t)r;
            }
        }
    }
    for (size_t k = 0; k < lex->nwild; k++) {
        const bp_pattern_t *p = &lex->pats[lex->wild[k].pat];
        if (p->mode != BP_PM_PREFIX || !(p->opts & BP_PO_TEASER) || p->kind < 0)
            continue;
        int32_t c0 = -1, c1 = -1;
        long r = bp__match_at(lex, p, 0, toks, n, 0, &c0, &c1, bi);
        if (r > 0 && (m->pat < 0 || (uint32_t)r > m->t1)) {
            m->pat = (int)lex->wild[k].pat;
            m->t1 = (uint32_t)r;
        }
    }
    return m->pat >= 0;
}
