/*
 * bp_util.h - small building blocks shared by the boilerplate stage: a
 * growable byte buffer, growable arrays, an open-addressing hash map from
 * 64-bit word hashes to 32-bit values, and UTF-8 helpers (decoding, word
 * characters, case folding, word hashing with xxhash).
 */
#ifndef BP_UTIL_H
#define BP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- growable byte buffer ---- */
typedef struct bp_buf {
    char *p;
    size_t len, cap;
} bp_buf_t;

int bp_buf_reserve(bp_buf_t *b, size_t extra);
int bp_buf_put(bp_buf_t *b, const char *s, size_t n);
int bp_buf_putc(bp_buf_t *b, char c);
void bp_buf_free(bp_buf_t *b);

/* Grow an array *pp of *cap elements of size elem so that it holds n. */
int bp_grow(void *pp, size_t *cap, size_t n, size_t elem);

/* ---- u64 -> u32 hash map (key 0 is reserved: bp_hash never returns 0) ----
 * Open addressing, linear probing, key and value side by side so a lookup
 * touches one cache line. */
typedef struct bp_hslot {
    uint64_t key;
    uint32_t val;
} bp_hslot_t;
typedef struct bp_map {
    bp_hslot_t *e;
    size_t cap, n; /* cap is a power of two */
} bp_map_t;

int bp_map_put(bp_map_t *m, uint64_t key, uint32_t val);
/* Returns a pointer to the value, or NULL. */
static inline uint32_t *bp_map_get(const bp_map_t *m, uint64_t key)
{
    if (m->cap == 0)
        return NULL;
    size_t j = (size_t)key & (m->cap - 1);
    while (m->e[j].key != 0) {
        if (m->e[j].key == key)
            return &m->e[j].val;
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}
/* Empty the map, keeping its memory. */
void bp_map_clear(bp_map_t *m);
void bp_map_free(bp_map_t *m);

/* ---- UTF-8 ---- */
/* Decode one code point at s[*i] (len bytes in s), advance *i.  Invalid
 * bytes decode as U+FFFD and advance by one. */
int32_t bp_utf8_next(const char *s, size_t len, size_t *i);
/* Encode cp into out (4 bytes); returns the length. */
size_t bp_utf8_put(int32_t cp, char *out);

/* Character classes for code points. */
enum {
    BP_CC_SPACE = 1,  /* white space (incl. NBSP and Unicode Zs) */
    BP_CC_WORD = 2,   /* letter, digit, mark, underscore: part of a word */
    BP_CC_UPPER = 4,  /* upper- or title-case letter */
    BP_CC_LOWER = 8,  /* lower-case letter */
    BP_CC_DIGIT = 16, /* decimal digit */
    BP_CC_LETTER = 32,
};
unsigned bp_cclass(int32_t cp);

/* Hash of a word's case-folded UTF-8 (never 0): bp_hash_word of the fold. */
uint64_t bp_hash_folded(const char *s, size_t len);
/* xxhash of bytes (never 0). */
uint64_t bp_hash_bytes(const char *s, size_t len);

/* Hash of a folded word s[0..n) (never 0).  s must have at least 16
 * readable bytes (a word buffer).  Words of up to 16 bytes, nearly all
 * words, are one or two 64-bit loads and a multiply-xorshift finaliser
 * (folded word bytes are never 0, so the zero-padded word alone tells
 * words of up to 8 bytes apart, and the finaliser is a bijection: no two
 * such words share a hash); longer ones go to xxhash. */
static inline uint64_t bp_mix64(uint64_t h)
{
    h *= UINT64_C(0x9E3779B97F4A7C15);
    h ^= h >> 29;
    h *= UINT64_C(0xBF58476D1CE4E5B9);
    h ^= h >> 32;
    return h;
}
/* w: the word's bytes 0-7 (little-endian order, zero past the word, not
 * all zero).  One multiply by an odd constant and one xorshift: both are
 * bijections that keep 0 at 0, so no two such words share a hash and none
 * hashes to 0; the xorshift brings the product's high bits (which depend
 * on every byte) down to the low ones that index the word table. */
static inline uint64_t bp_hash_u64(uint64_t w)
{
    uint64_t h = w * UINT64_C(0x9E3779B97F4A7C15);
    return h ^ (h >> 32);
}
/* w1: bytes 0-7, w2: bytes 8-15 (zero past the word, not all zero). */
static inline uint64_t bp_hash_u128(uint64_t w1, uint64_t w2)
{
    uint64_t h = bp_mix64(w1 ^ bp_mix64(w2 + UINT64_C(0x632BE59BD9B4E019)));
    return h ? h : 1;
}

static inline uint64_t bp_load_le64(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint64_t bp_hash_word(const char *s, size_t n)
{
    if (n > 16 || n == 0)
        return bp_hash_bytes(s, n);
    if (n <= 8)
        return bp_hash_u64(bp_load_le64(s) & (~UINT64_C(0) >> (64 - 8 * n)));
    return bp_hash_u128(bp_load_le64(s), bp_load_le64(s + 8) & (~UINT64_C(0) >> (128 - 8 * n)));
}

/* ASCII helpers */
static inline int bp_is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static inline unsigned char bp_ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

#endif
