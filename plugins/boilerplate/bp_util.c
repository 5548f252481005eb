/*
 * bp_util.c - buffers, the word-hash map and UTF-8 helpers (see bp_util.h).
 */
#include "autoconfig.h"

#include "bp_util.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

int bp_buf_reserve(bp_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int bp_buf_put(bp_buf_t *b, const char *s, size_t n)
{
    if (bp_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int bp_buf_putc(bp_buf_t *b, char c) { return bp_buf_put(b, &c, 1); }

void bp_buf_free(bp_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int bp_grow(void *pp, size_t *cap, size_t n, size_t elem)
{
    void **p = pp;
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* ---- map ---- */

static int bp__map_rehash(bp_map_t *m, size_t cap)
{
    bp_hslot_t *e = calloc(cap, sizeof *e);
    if (e == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->e[i].key == 0)
            continue;
        size_t j = (size_t)m->e[i].key & (cap - 1);
        while (e[j].key != 0)
            j = (j + 1) & (cap - 1);
        e[j] = m->e[i];
    }
    free(m->e);
    m->e = e;
    m->cap = cap;
    return 0;
}

int bp_map_put(bp_map_t *m, uint64_t key, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap && bp__map_rehash(m, m->cap ? m->cap * 2 : 64) != 0)
        return -1;
    size_t j = (size_t)key & (m->cap - 1);
    while (m->e[j].key != 0 && m->e[j].key != key)
        j = (j + 1) & (m->cap - 1);
    if (m->e[j].key == 0) {
        m->e[j].key = key;
        m->n++;
    }
    m->e[j].val = val;
    return 0;
}

void bp_map_clear(bp_map_t *m)
{
    if (m->cap)
        memset(m->e, 0, m->cap * sizeof *m->e);
    m->n = 0;
}

void bp_map_free(bp_map_t *m)
{
    free(m->e);
    memset(m, 0, sizeof *m);
}

/* ---- UTF-8 ---- */

int32_t bp_utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = *i;
    unsigned char c = u[k];
    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    int n;
    int32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        cp = c & 0x07;
    } else {
        *i = k + 1;
        return 0xFFFD;
    }
    if (k + (size_t)n >= len) {
        *i = k + 1;
        return 0xFFFD;
    }
    for (int j = 1; j <= n; j++) {
        unsigned char d = u[k + (size_t)j];
        if ((d & 0xC0) != 0x80) {
            *i = k + 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (d & 0x3F);
    }
    *i = k + (size_t)n + 1;
    return cp;
}

size_t bp_utf8_put(int32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

unsigned bp_cclass(int32_t cp)
{
    if (cp < 0x80) {
        unsigned char c = (unsigned char)cp;
        if (c >= 'a' && c <= 'z')
            return BP_CC_WORD | BP_CC_LOWER | BP_CC_LETTER;
        if (c >= 'A' && c <= 'Z')
            return BP_CC_WORD | BP_CC_UPPER | BP_CC_LETTER;
        if (c >= '0' && c <= '9')
            return BP_CC_WORD | BP_CC_DIGIT;
        if (c == '_')
            return BP_CC_WORD;
        if (bp_is_ascii_space(c))
            return BP_CC_SPACE;
        return 0;
    }
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
        return BP_CC_WORD | BP_CC_UPPER | BP_CC_LETTER;
    case UTF8PROC_CATEGORY_LL:
        return BP_CC_WORD | BP_CC_LOWER | BP_CC_LETTER;
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return BP_CC_WORD | BP_CC_LETTER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return BP_CC_WORD;
    case UTF8PROC_CATEGORY_ND:
        return BP_CC_WORD | BP_CC_DIGIT;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return BP_CC_SPACE;
    default:
        return 0;
    }
}

uint64_t bp_hash_bytes(const char *s, size_t len)
{
    uint64_t h = XXH3_64bits(s, len);
    return h ? h : 1;
}

uint64_t bp_hash_folded(const char *s, size_t len)
{
    char small[128 + 16]; /* + 16: bp_hash_word loads 16 bytes */
    size_t o = 0, i = 0;
    /* Long words are hashed through a truncated fold: they never match a
     * list entry anyway, they only need a stable hash. */
    while (i < len && o + 4 <= sizeof small) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            small[o++] = (char)bp_ascii_lower(c);
            i++;
        } else {
            int32_t cp = bp_utf8_next(s, len, &i);
            o += bp_utf8_put(utf8proc_tolower(cp), small + o);
        }
    }
    return bp_hash_word(small, o);
}
