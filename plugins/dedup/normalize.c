/*
 * normalize.c - one pass over the text producing the canonical text and
 * the token hashes (see normalize.h for the rules).
 *
 * ASCII needs no NFKC: lower-casing is all NFKC + case folding does to it.
 * Plain ASCII text (letters, digits, punctuation, single spaces) goes 16
 * bytes at a time through SSE2 compares, or 32 with AVX2 when the CPU has
 * it (dd__blocks, dd__blocks32: the span it copies is
 * exactly what the byte-by-byte rules would output, and it leaves their
 * state); everything else is handled byte by byte.  A token that contains
 * any other character is collected as
 * UTF-8 and run through utf8proc (decompose with compatibility mappings,
 * case folding, ignorables and optionally marks stripped; then canonical
 * composition), which is NFKC_Casefold without utf8proc_map's allocation.
 */
#include "autoconfig.h"

#include "normalize.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
/* The library's own header, inlined: a token hash is a few instructions,
 * not a call through the PLT (same values as libxxhash). */
#define XXH_INLINE_ALL
#include <xxhash.h>

int dd_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -1;
        n *= 2;
    }
    void *p = realloc(*buf, n * elem);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

void dd_scratch_free(dd_scratch_t *s)
{
    free(s->tok);
    free(s->canon);
    free(s->raw);
    free(s->cps);
    free(s->sh);
    free(s->html);
    free(s->dfr);
    memset(s, 0, sizeof *s);
}

void dd_scratch_trim(dd_scratch_t *s)
{
    /* Keep what a normal article needs; drop what a 4 MB one left. */
    const size_t keep = 1u << 16;
    if (s->tok_cap > keep) { free(s->tok); s->tok = NULL; s->tok_cap = 0; }
    if (s->canon_cap > keep * 8) { free(s->canon); s->canon = NULL; s->canon_cap = 0; }
    if (s->sh_cap > keep) { free(s->sh); s->sh = NULL; s->sh_cap = 0; }
    if (s->html_cap > keep * 8) { free(s->html); s->html = NULL; s->html_cap = 0; }
    if (s->raw_cap > keep) { free(s->raw); s->raw = NULL; s->raw_cap = 0; }
    if (s->cps_cap > keep) { free(s->cps); s->cps = NULL; s->cps_cap = 0; }
    if (s->dfr_cap > keep * 3) { free(s->dfr); s->dfr = NULL; s->dfr_cap = 0; }
}

/* ASCII classes. */
enum { C_SEP = 0, C_WORD = 1, C_PUNCT = 2, C_LT = 3, C_AMP = 4 };

static const unsigned char dd__ascii[128] = {
    /* controls are separators */
    [' '] = C_SEP,
    ['0'] = C_WORD, ['1'] = C_WORD, ['2'] = C_WORD, ['3'] = C_WORD, ['4'] = C_WORD,
    ['5'] = C_WORD, ['6'] = C_WORD, ['7'] = C_WORD, ['8'] = C_WORD, ['9'] = C_WORD,
    ['A'] = C_WORD, ['B'] = C_WORD, ['C'] = C_WORD, ['D'] = C_WORD, ['E'] = C_WORD,
    ['F'] = C_WORD, ['G'] = C_WORD, ['H'] = C_WORD, ['I'] = C_WORD, ['J'] = C_WORD,
    ['K'] = C_WORD, ['L'] = C_WORD, ['M'] = C_WORD, ['N'] = C_WORD, ['O'] = C_WORD,
    ['P'] = C_WORD, ['Q'] = C_WORD, ['R'] = C_WORD, ['S'] = C_WORD, ['T'] = C_WORD,
    ['U'] = C_WORD, ['V'] = C_WORD, ['W'] = C_WORD, ['X'] = C_WORD, ['Y'] = C_WORD,
    ['Z'] = C_WORD,
    ['a'] = C_WORD, ['b'] = C_WORD, ['c'] = C_WORD, ['d'] = C_WORD, ['e'] = C_WORD,
    ['f'] = C_WORD, ['g'] = C_WORD, ['h'] = C_WORD, ['i'] = C_WORD, ['j'] = C_WORD,
    ['k'] = C_WORD, ['l'] = C_WORD, ['m'] = C_WORD, ['n'] = C_WORD, ['o'] = C_WORD,
    ['p'] = C_WORD, ['q'] = C_WORD, ['r'] = C_WORD, ['s'] = C_WORD, ['t'] = C_WORD,
    ['u'] = C_WORD, ['v'] = C_WORD, ['w'] = C_WORD, ['x'] = C_WORD, ['y'] = C_WORD,
    ['z'] = C_WORD,
    ['!'] = C_PUNCT, ['"'] = C_PUNCT, ['#'] = C_PUNCT, ['$'] = C_PUNCT, ['%'] = C_PUNCT,
    ['&'] = C_AMP, ['\''] = C_PUNCT, ['('] = C_PUNCT, [')'] = C_PUNCT, ['*'] = C_PUNCT,
    ['+'] = C_PUNCT, [','] = C_PUNCT, ['-'] = C_PUNCT, ['.'] = C_PUNCT, ['/'] = C_PUNCT,
    [':'] = C_PUNCT, [';'] = C_PUNCT, ['<'] = C_LT, ['='] = C_PUNCT, ['>'] = C_PUNCT,
    ['?'] = C_PUNCT, ['@'] = C_PUNCT, ['['] = C_PUNCT, ['\\'] = C_PUNCT, [']'] = C_PUNCT,
    ['^'] = C_PUNCT, ['_'] = C_PUNCT, ['`'] = C_PUNCT, ['{'] = C_PUNCT, ['|'] = C_PUNCT,
    ['}'] = C_PUNCT, ['~'] = C_PUNCT,
};

/* ASCII letters and digits lower-cased; 0 for every other byte. */
static const unsigned char dd__word_lower[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g',
    ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n',
    ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u',
    ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z',
    ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g',
    ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n',
    ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u',
    ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

/* Inline elements: their tags vanish ("un<b>believ</b>able" is one word);
 * any other tag separates words. */
static const char *const dd__inline_tags[] = {
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i",
    "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
    "time", "tt", "u", "var", "wbr", "ins", "del", NULL,
};

typedef struct dd_norm {
    const dd_norm_opts_t *o;
    dd_scratch_t *s;
    int in_tok;          /* a token is open */
    int tok_uni;         /* ...and holds non-ASCII: it is in s->raw */
    size_t tok_start;    /* canon offset where an ASCII token began */
    int pending_space;   /* a separator was seen since the last output */
    int oom;
} dd_norm_t;

/* The block path's token offsets (dd_toks_t): slack after each array of
 * starts and ends for dd__flatten's unconditional stores, and the scratch
 * a call that may cut room tokens needs (s->dfr elements). */
#define DD_TOKS_SLACK 16
#define DD_TOKS_NEED(room) (5 * (room) + 2 * DD_TOKS_SLACK)

static inline int dd__canon_reserve(dd_norm_t *n, size_t extra)
{
    dd_scratch_t *s = n->s;
    if (s->canon_len + extra > s->canon_cap &&
        dd_grow((void **)&s->canon, &s->canon_cap, s->canon_len + extra, 1) != 0) {
        n->oom = 1;
        return -1;
    }
    return 0;
}

/* Output a pending space before visible output (never at the start). */
static inline void dd__flush_space(dd_norm_t *n)
{
    if (n->pending_space) {
        n->pending_space = 0;
        if (n->s->canon_len > 0 && dd__canon_reserve(n, 1) == 0)
            n->s->canon[n->s->canon_len++] = ' ';
    }
}

/* XXH3 of one token, inlined (tokens are short: its 1-16 byte cases). */
__attribute__((flatten)) static uint64_t dd__token_hash(const char *p, size_t len)
{
    return XXH3_64bits(p, len);
}

static inline void dd__push_token_hash(dd_norm_t *n, const char *p, size_t len)
{
    dd_scratch_t *s = n->s;
    if (len == 0)
        return;
    if (s->ntok == s->tok_cap &&
        dd_grow((void **)&s->tok, &s->tok_cap, s->ntok + 1, sizeof *s->tok) != 0) {
        n->oom = 1;
        return;
    }
    s->tok[s->ntok++] = dd__token_hash(p, len);
}

static utf8proc_option_t dd__uopts(const dd_norm_t *n)
{
    utf8proc_option_t o = UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                          UTF8PROC_IGNORE | UTF8PROC_STABLE;
    if (n->o->fold_diacritics)
        o |= UTF8PROC_STRIPMARK;
    return o;
}

/* NFKC_Casefold of s->raw, appended to canon; returns bytes appended. */
static size_t dd__uni_to_canon(dd_norm_t *n)
{
    dd_scratch_t *s = n->s;
    utf8proc_option_t opts = dd__uopts(n);
    /* Decomposition can grow a character up to 18 code points. */
    size_t need = s->raw_len * 18 + 4;
    if (dd_grow((void **)&s->cps, &s->cps_cap, need, sizeof *s->cps) != 0) {
        n->oom = 1;
        return 0;
    }
    utf8proc_ssize_t m = utf8proc_decompose((const utf8proc_uint8_t *)s->raw,
                                            (utf8proc_ssize_t)s->raw_len, s->cps,
                                            (utf8proc_ssize_t)s->cps_cap, opts);
    if (m < 0 || (size_t)m > s->cps_cap)
        return 0; /* cannot happen for valid UTF-8 and a large enough buffer */
    m = utf8proc_normalize_utf32(s->cps, m, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (m <= 0)
        return 0;
    if (dd__canon_reserve(n, (size_t)m * 4) != 0)
        return 0;
    size_t before = s->canon_len;
    for (utf8proc_ssize_t i = 0; i < m; i++)
        s->canon_len += (size_t)utf8proc_encode_char(
            s->cps[i], (utf8proc_uint8_t *)s->canon + s->canon_len);
    return s->canon_len - before;
}

static void dd__end_uni_token(dd_norm_t *n);

static inline void dd__end_token(dd_norm_t *n)
{
    dd_scratch_t *s = n->s;
    if (!n->in_tok)
        return;
    n->in_tok = 0;
    if (__builtin_expect(n->tok_uni, 0))
        dd__end_uni_token(n);
    else
        dd__push_token_hash(n, s->canon + n->tok_start, s->canon_len - n->tok_start);
}

static void dd__end_uni_token(dd_norm_t *n)
{
    dd_scratch_t *s = n->s;
    {
        n->tok_uni = 0;
        dd__flush_space(n);
        size_t start = s->canon_len;
        size_t got = dd__uni_to_canon(n);
        dd__push_token_hash(n, s->canon + start, got);
        s->raw_len = 0;
    }
}

static inline void dd__ascii_word(dd_norm_t *n, unsigned char c)
{
    dd_scratch_t *s = n->s;
    if (c >= 'A' && c <= 'Z')
        c = (unsigned char)(c + 32);
    if (n->tok_uni) {
        if (s->raw_len == s->raw_cap && dd_grow((void **)&s->raw, &s->raw_cap, s->raw_len + 1, 1)) {
            n->oom = 1;
            return;
        }
        s->raw[s->raw_len++] = (char)c;
        return;
    }
    if (!n->in_tok) {
        dd__flush_space(n);
        n->in_tok = 1;
        n->tok_start = s->canon_len;
    }
    if (dd__canon_reserve(n, 1) == 0)
        s->canon[s->canon_len++] = (char)c;
}

static void dd__uni_word(dd_norm_t *n, int32_t cp)
{
    dd_scratch_t *s = n->s;
    if (!n->tok_uni) {
        /* Move the ASCII part of the open token (if any) into raw. */
        size_t have = n->in_tok ? s->canon_len - n->tok_start : 0;
        if (dd_grow((void **)&s->raw, &s->raw_cap, have + 8, 1) != 0) {
            n->oom = 1;
            return;
        }
        if (n->in_tok) {
            memcpy(s->raw, s->canon + n->tok_start, have);
            s->canon_len = n->tok_start;
        } else {
            /* the pending space is output when the token ends */
        }
        s->raw_len = have;
        n->in_tok = 1;
        n->tok_uni = 1;
    }
    if (dd_grow((void **)&s->raw, &s->raw_cap, s->raw_len + 4, 1) != 0) {
        n->oom = 1;
        return;
    }
    s->raw_len += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)s->raw + s->raw_len);
}

static void dd__emit_cp(dd_norm_t *n, int32_t cp)
{
    if (dd__canon_reserve(n, 4) == 0)
        n->s->canon_len +=
            (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)n->s->canon + n->s->canon_len);
}

/* A punctuation or symbol character: ends the token, shows in canon. */
static void dd__punct(dd_norm_t *n, int32_t cp)
{
    dd__end_token(n);
    dd__flush_space(n);
    int32_t dec[24];
    int32_t out[4];
    utf8proc_ssize_t m = 1;
    dec[0] = cp;
    if (cp >= 0x80) {
        int bc = 0;
        m = utf8proc_decompose_char(cp, dec, 24, dd__uopts(n), &bc);
        if (m < 0 || m > 24) {
            m = 1;
            dec[0] = cp;
        }
    }
    for (utf8proc_ssize_t i = 0; i < m; i++) {
        int k = n->o->fold != NULL ? dd_fold_punct(n->o->fold, dec[i], out) : -1;
        if (k < 0)
            dd__emit_cp(n, dec[i]);
        else
            for (int j = 0; j < k; j++)
                dd__emit_cp(n, out[j]);
    }
}

static inline void dd__sep(dd_norm_t *n)
{
    dd__end_token(n);
    n->pending_space = 1;
}

/* Scripts written without spaces between words. */
static int dd__unspaced(int32_t cp)
{
    return (cp >= 0x0E00 && cp <= 0x0EFF) ||  /* Thai, Lao */
           (cp >= 0x1000 && cp <= 0x109F) ||  /* Myanmar */
           (cp >= 0x1780 && cp <= 0x17FF) ||  /* Khmer */
           (cp >= 0x2E80 && cp <= 0x2FDF) ||  /* CJK radicals */
           (cp >= 0x3040 && cp <= 0x30FF) ||  /* Hiragana, Katakana */
           (cp >= 0x3400 && cp <= 0x4DBF) ||  /* CJK extension A */
           (cp >= 0x4E00 && cp <= 0x9FFF) ||  /* CJK unified */
           (cp >= 0xF900 && cp <= 0xFAFF) ||  /* CJK compatibility */
           (cp >= 0xFF66 && cp <= 0xFF9F) ||  /* half-width kana */
           (cp >= 0x20000 && cp <= 0x3FFFF);  /* CJK extensions B+ */
}

static const dd_uni_entry_t *dd__uni_entry(const dd_norm_opts_t *o, int32_t cp)
{
    if (o->uni == NULL)
        return NULL;
    if (cp >= 0x80 && cp < 0x80 + DD_UNI_LAT1)
        return &o->uni[cp - 0x80];
    if (cp >= 0x2000 && cp < 0x2000 + DD_UNI_GENP)
        return &o->uni[DD_UNI_LAT1 + (cp - 0x2000)];
    return NULL;
}

static void dd__uni_full(dd_norm_t *n, int32_t cp);

/* Any non-ASCII code point (also those decoded from references). */
static void dd__uni(dd_norm_t *n, int32_t cp)
{
    const dd_uni_entry_t *e = dd__uni_entry(n->o, cp);
    if (e == NULL || e->kind == DD_UNI_FULL) {
        dd__uni_full(n, cp);
        return;
    }
    if (e->kind == DD_UNI_SEP) {
        dd__sep(n);
    } else if (e->kind == DD_UNI_PUNCT) {
        /* what dd__punct does */
        dd__end_token(n);
        dd__flush_space(n);
        if (dd__canon_reserve(n, e->len) == 0) {
            memcpy(n->s->canon + n->s->canon_len, e->out, e->len);
            n->s->canon_len += e->len;
        }
    }
    /* DD_UNI_IGNORE: nothing */
}

static void dd__uni_full(dd_norm_t *n, int32_t cp)
{
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    if (p->ignorable)
        return;
    switch (p->category) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        if (dd__unspaced(cp)) {
            dd__end_token(n);
            dd__uni_word(n, cp);
            dd__end_token(n);
        } else {
            dd__uni_word(n, cp);
        }
        return;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        /* A mark belongs to the token before it; a stray one is dropped
         * with the diacritics or kept as its own token. */
        if (n->in_tok || !n->o->fold_diacritics)
            dd__uni_word(n, cp);
        return;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
        dd__sep(n);
        return;
    case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
        /* Format characters that are not default-ignorable, private use
         * and unassigned: separators, not shown. */
        dd__sep(n);
        return;
    default:
        dd__punct(n, cp);
        return;
    }
}

static void dd__ascii_punct(dd_norm_t *n, unsigned char c)
{
    if (c == '`' && n->o->fold != NULL) {
        dd__punct(n, c);
        return;
    }
    dd__end_token(n);
    dd__flush_space(n);
    if (dd__canon_reserve(n, 1) == 0)
        n->s->canon[n->s->canon_len++] = (char)c;
}

static int dd__is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static int dd__is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int dd__is_xdigit(unsigned char c)
{
    return dd__is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* A character reference starting right after an '&' at t[i].  Returns the
 * index after it (past ';') with the code points, or 0 when there is none. */
static size_t dd__entity(const dd_norm_t *n, const unsigned char *t, size_t len, size_t i,
                         int32_t cp[2], int *ncp)
{
    size_t j = i;
    if (j < len && t[j] == '#') {
        j++;
        int hex = 0;
        if (j < len && (t[j] | 0x20) == 'x') {
            hex = 1;
            j++;
        }
        size_t d0 = j;
        uint32_t v = 0;
        while (j < len && j - d0 < 8 && (hex ? dd__is_xdigit(t[j]) : dd__is_digit(t[j]))) {
            unsigned dv = dd__is_digit(t[j]) ? (unsigned)(t[j] - '0') : (unsigned)((t[j] | 0x20) - 'a' + 10);
            v = v * (hex ? 16u : 10u) + dv;
            j++;
        }
        if (j == d0 || j >= len || t[j] != ';')
            return 0;
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        cp[0] = (int32_t)v;
        *ncp = 1;
        return j + 1;
    }
    size_t s0 = j;
    while (j < len && j - s0 < 32 && (dd__is_alpha(t[j]) || dd__is_digit(t[j])))
        j++;
    if (j == s0 || j >= len || t[j] != ';' || !dd__is_alpha(t[s0]) || n->o->fold == NULL)
        return 0;
    int k = dd_fold_entity(n->o->fold, (const char *)t + s0, j - s0, cp);
    if (k <= 0)
        return 0;
    *ncp = k;
    return j + 1;
}

/* A tag (or comment) starting at '<' t[i]: the index after it, 0 if none;
 * *inline_tag tells whether it is an inline element's. */
static size_t dd__tag(const unsigned char *t, size_t len, size_t i, int *inline_tag)
{
    size_t j = i + 1;
    *inline_tag = 0;
    if (j + 3 <= len && t[j] == '!' && t[j + 1] == '-' && t[j + 2] == '-') {
        /* comment: up to "-->", within 4 KB */
        size_t lim = len - i > 4096 ? i + 4096 : len;
        for (size_t k = j + 3; k + 2 < lim; k++)
            if (t[k] == '-' && t[k + 1] == '-' && t[k + 2] == '>')
                return k + 3;
        return 0;
    }
    if (j < len && t[j] == '/')
        j++;
    size_t n0 = j;
    if (j >= len || !dd__is_alpha(t[j]))
        return 0;
    while (j < len && (dd__is_alpha(t[j]) || dd__is_digit(t[j]) || t[j] == '-' || t[j] == ':'))
        j++;
    size_t nlen = j - n0;
    if (j >= len)
        return 0;
    if (!(t[j] == '>' || t[j] == '/' || t[j] == ' ' || t[j] == '\t' || t[j] == '\n' ||
          t[j] == '\r'))
        return 0;
    /* attributes: up to '>' within 1 KB, no '<' on the way */
    size_t lim = len - j > 1024 ? j + 1024 : len;
    size_t k = j;
    while (k < lim && t[k] != '>' && t[k] != '<')
        k++;
    if (k >= lim || t[k] != '>')
        return 0;
    for (const char *const *tg = dd__inline_tags; *tg != NULL; tg++) {
        size_t tl = strlen(*tg);
        if (tl == nlen) {
            size_t q = 0;
            while (q < tl && (t[n0 + q] | 0x20) == (unsigned char)(*tg)[q])
                q++;
            if (q == tl) {
                *inline_tag = 1;
                break;
            }
        }
    }
    return k + 1;
}

/* Decode one UTF-8 sequence (the host guarantees valid UTF-8; anything
 * else becomes U+FFFD, one byte at a time). */
static size_t dd__utf8(const unsigned char *t, size_t len, size_t i, int32_t *cp)
{
    utf8proc_ssize_t r = utf8proc_iterate(t + i, (utf8proc_ssize_t)(len - i), cp);
    if (r <= 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return (size_t)r;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#define DD_HAVE_BLOCKS 1

/* Bytes the block path copies as they are (lower-cased): ASCII letters,
 * digits and punctuation other than '&' and '<' (references and tags) and
 * '`' (folded); 2 for letters and digits. */
static const unsigned char dd__fastvis[256] = {
    ['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['\''] = 1, ['('] = 1,
    [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1,
    ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2, ['5'] = 2, ['6'] = 2,
    ['7'] = 2, ['8'] = 2, ['9'] = 2, [':'] = 1, [';'] = 1, ['='] = 1, ['>'] = 1,
    ['?'] = 1, ['@'] = 1,
    ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2, ['G'] = 2,
    ['H'] = 2, ['I'] = 2, ['J'] = 2, ['K'] = 2, ['L'] = 2, ['M'] = 2, ['N'] = 2,
    ['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2, ['S'] = 2, ['T'] = 2, ['U'] = 2,
    ['V'] = 2, ['W'] = 2, ['X'] = 2, ['Y'] = 2, ['Z'] = 2,
    ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1,
    ['a'] = 2, ['b'] = 2, ['c'] = 2, ['d'] = 2, ['e'] = 2, ['f'] = 2, ['g'] = 2,
    ['h'] = 2, ['i'] = 2, ['j'] = 2, ['k'] = 2, ['l'] = 2, ['m'] = 2, ['n'] = 2,
    ['o'] = 2, ['p'] = 2, ['q'] = 2, ['r'] = 2, ['s'] = 2, ['t'] = 2, ['u'] = 2,
    ['v'] = 2, ['w'] = 2, ['x'] = 2, ['y'] = 2, ['z'] = 2,
    ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
};

/* Blocks of 16 bytes of plain ASCII text, starting at a visible byte t[*pi]
 * (dd__fastvis) outside a non-ASCII token.  A block is classified with
 * SSE2 compares: letters and digits (W), visible bytes (V, see
 * dd__fastvis) and spaces.  The span [*pi, e) that the byte-by-byte
 * machine would copy unchanged (lower-cased) is the visible bytes and the
 * single spaces between two of them; it is stored 16 bytes at a time, and
 * its tokens (runs of W) are hashed from the bit masks.  The state it
 * leaves (open token, its start in canon) is what the byte-by-byte path
 * leaves, so that path takes over at e: a double space, a line break, a
 * reference, a tag, a non-ASCII character, or the last 16 bytes. */
/* Entry into the block path at t[i]: what the byte-by-byte path does
 * before a visible byte, and room for the rest. */
static int dd__blocks_enter(dd_norm_t *n, const unsigned char *t, size_t len, size_t i)
{
    dd_scratch_t *s = n->s;
    if (dd__fastvis[t[i]] == 1) {
        dd__end_token(n); /* punctuation ends an open token */
        dd__flush_space(n);
    } else if (!n->in_tok) {
        dd__flush_space(n);
        n->in_tok = 1;
        n->tok_start = s->canon_len;
    }
    /* Room for the whole rest (canon grows by at most one byte per input
     * byte here, plus one 16- or 32-byte store past the end) and for its tokens
     * (at most one per two bytes). */
    if (n->oom || dd__canon_reserve(n, len - i + 32) != 0 ||
        dd_grow((void **)&s->tok, &s->tok_cap, s->ntok + (len - i) / 2 + 2, sizeof *s->tok) != 0 ||
        dd_grow((void **)&s->dfr, &s->dfr_cap, DD_TOKS_NEED((len - i) / 2 + 2), sizeof *s->dfr) != 0) {
        n->oom = 1;
        return -1;
    }
    return 0;
}

/* The tokens one block of the span closes, shared by the 16-byte and the
 * 32-byte paths.  W: the block's letters and digits, already cut to the
 * span's m (its first cnt bytes, cnt >= 1); carry: a token open from the
 * previous block (it started at *ts) continues into this one.  Hashes each
 * token that ends inside the block into tok[nt...], leaves *ts at the start
 * of the one left open, and returns the new count.  Always inlined, so each
 * path keeps its own code. */
/* XXH3_64bits of a token of len >= 1 bytes (the block path never has an
 * empty one), with the length dispatch in the order of token lengths in
 * text (1-8 bytes most often): XXH3's own short-input functions, so the
 * values are XXH3_64bits' (test_dedup's model uses XXH3_64bits). */
static inline __attribute__((always_inline)) uint64_t dd__tok_xxh3(const unsigned char *p,
                                                                   size_t len)
{
    if (len <= 8)
        return len >= 4 ? XXH3_len_4to8_64b(p, len, XXH3_kSecret, 0)
                        : XXH3_len_1to3_64b(p, len, XXH3_kSecret, 0);
    if (len <= 16)
        return XXH3_len_9to16_64b(p, len, XXH3_kSecret, 0);
    return XXH3_64bits(p, len);
}

/* Trailing zeros of x != 0.  tzcnt written out: compilers put a
 * dependency-breaking xor before each tzcnt for some CPUs, one more
 * instruction per token; on CPUs without BMI1 the same bytes run as bsf,
 * which gives the same result for x != 0. */
static inline __attribute__((always_inline)) unsigned dd__ctz(uint32_t x)
{
#if defined(__x86_64__) && defined(__GNUC__)
    uint32_t r;
    __asm__("tzcnt %1, %0" : "=r"(r) : "rm"(x) : "cc");
    return r;
#else
    return (unsigned)__builtin_ctz(x);
#endif
}

/* The block path's tokens: per block, the bit masks of token starts and
 * (exclusive) ends are written out as offsets, eight at a time without a
 * loop (simdjson's bit flattening: unconditional stores, the count moves by
 * the popcount; a block with more than eight is rare), so cutting tokens
 * costs no mispredicted loop exit per block.  Token k of the call is then
 * [so[k], eo[k]) (offsets from base), and the tokens are hashed after the
 * loop by length class (1-3, 4-8, 9-16 bytes: XXH3's three short-input
 * formulas): a pass puts each token's index in the list of its class
 * (one store through the class's end, the class from a table: no branch),
 * then each list is hashed without a data-dependent branch.  In text the classes
 * follow each other in no order a branch predictor can learn.  Longer
 * tokens (rare) are hashed in the first pass. */
typedef struct dd_toks {
    uint32_t *so, *eo; /* starts and ends, room + DD_TOKS_SLACK each */
    uint32_t *l[3];    /* token indexes per class, room each */
    size_t ns, ne;
    size_t base;       /* canon offset the offsets count from */
} dd_toks_t;

static inline __attribute__((always_inline)) void dd__toks_init(dd_toks_t *tk, uint32_t *buf,
                                                                size_t room, size_t base)
{
    tk->so = buf;
    tk->eo = buf + room + DD_TOKS_SLACK;
    tk->l[0] = tk->eo + room + DD_TOKS_SLACK;
    tk->l[1] = tk->l[0] + room;
    tk->l[2] = tk->l[1] + room;
    tk->ns = tk->ne = 0;
    tk->base = base;
}

/* Appends off + the position of each set bit of bits to dst[*pn...]. */
static inline __attribute__((always_inline)) void dd__flatten(uint32_t *dst, size_t *pn,
                                                              uint32_t off, uint32_t bits)
{
    size_t n = *pn;
    unsigned cnt = (unsigned)__builtin_popcount(bits);
    /* bits == 0 gives garbage past the count, never read; unrolled (GCC
     * keeps the loop otherwise) */
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        dst[n + (size_t)j] = off + dd__ctz(bits);
        bits &= bits - 1;
    }
    if (__builtin_expect(cnt > 8, 0)) {
        for (int j = 8; j < 16; j++) {
            dst[n + (size_t)j] = off + dd__ctz(bits);
            bits &= bits - 1;
        }
        for (size_t j = 16; bits != 0; j++) {
            dst[n + j] = off + dd__ctz(bits);
            bits &= bits - 1;
        }
    }
    *pn = n + cnt;
}

/* The hashes of the call's ne finished tokens, into tok[0...]. */
static inline __attribute__((always_inline)) void dd__toks_hash(const unsigned char *out,
                                                                dd_toks_t *tk, uint64_t *tok)
{
    const unsigned char *o = out + tk->base;
    const uint32_t *so = tk->so, *eo = tk->eo;
    uint32_t *l0 = tk->l[0], *l1 = tk->l[1], *l2 = tk->l[2];
    /* class of a length 1-16; the lists are consecutive in one array, so
     * a token's index goes to l0[end[class]++] */
    static const uint8_t cls[17] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2};
    size_t end[3] = {0, (size_t)(l1 - l0), (size_t)(l2 - l0)};
    for (size_t k = 0; k < tk->ne; k++) {
        uint32_t len = eo[k] - so[k];
        if (__builtin_expect(len > 16, 0)) {
            tok[k] = XXH3_64bits(o + so[k], len);
            continue;
        }
        l0[end[cls[len]]++] = (uint32_t)k;
    }
    size_t c0 = end[0], c1 = end[1] - (size_t)(l1 - l0), c2 = end[2] - (size_t)(l2 - l0);
    for (size_t j = 0; j < c0; j++) {
        uint32_t k = l0[j];
        tok[k] = XXH3_len_1to3_64b(o + so[k], eo[k] - so[k], XXH3_kSecret, 0);
    }
    for (size_t j = 0; j < c1; j++) {
        uint32_t k = l1[j];
        tok[k] = XXH3_len_4to8_64b(o + so[k], eo[k] - so[k], XXH3_kSecret, 0);
    }
    for (size_t j = 0; j < c2; j++) {
        uint32_t k = l2[j];
        tok[k] = XXH3_len_9to16_64b(o + so[k], eo[k] - so[k], XXH3_kSecret, 0);
    }
}

/* One block of the span: W its letters and digits, already cut to the
 * span's m (its first cnt bytes, cnt >= 1); carry: a token open from the
 * previous block continues into this one; ol: the block's canon offset.
 * A token ends where a letter/digit is followed by another byte of the
 * span (one on the span's last byte stays open: what follows decides). */
static inline __attribute__((always_inline)) void dd__block_tokens(dd_toks_t *tk, size_t ol,
                                                                   uint32_t W, uint32_t m,
                                                                   unsigned carry)
{
    uint32_t prev = (W << 1) | carry; /* the byte before is a letter/digit */
    uint32_t off = (uint32_t)(ol - tk->base);
    dd__flatten(tk->so, &tk->ns, off, W & ~prev);
    dd__flatten(tk->eo, &tk->ne, off, ~W & prev & m);
}

/* Flattened: XXH3 is inlined for every token. */
__attribute__((flatten)) static void dd__blocks(dd_norm_t *n, const unsigned char *t, size_t len,
                                                size_t *pi)
{
    dd_scratch_t *s = n->s;
    size_t i = *pi;
    unsigned char *out = (unsigned char *)s->canon;
    uint64_t *tok = s->tok;
    size_t nt = s->ntok, ol = s->canon_len;
    dd_toks_t tk;
    unsigned carry = n->in_tok && dd__fastvis[t[i]] == 2; /* a token continues into the block */
    dd__toks_init(&tk, s->dfr, (len - i) / 2 + 2, carry ? n->tok_start : ol);
    tk.so[0] = 0; /* the carried token's start, when there is one */
    tk.ns = carry;
    const __m128i c20 = _mm_set1_epi8(0x20), c40 = _mm_set1_epi8(0x40),
                  c5b = _mm_set1_epi8(0x5B), c60 = _mm_set1_epi8(0x60),
                  c7b = _mm_set1_epi8(0x7B), c2f = _mm_set1_epi8(0x2F),
                  c3a = _mm_set1_epi8(0x3A), c7f = _mm_set1_epi8(0x7F),
                  camp = _mm_set1_epi8('&'), clt = _mm_set1_epi8('<'),
                  cbq = _mm_set1_epi8('`');
    while (i + 17 <= len) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
        /* signed compares: bytes >= 0x80 are negative, in no class */
        __m128i up = _mm_and_si128(_mm_cmpgt_epi8(x, c40), _mm_cmplt_epi8(x, c5b));
        __m128i lo = _mm_and_si128(_mm_cmpgt_epi8(x, c60), _mm_cmplt_epi8(x, c7b));
        __m128i dg = _mm_and_si128(_mm_cmpgt_epi8(x, c2f), _mm_cmplt_epi8(x, c3a));
        __m128i pr = _mm_and_si128(_mm_cmpgt_epi8(x, c20), _mm_cmplt_epi8(x, c7f));
        __m128i ex = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, camp), _mm_cmpeq_epi8(x, clt)),
                                  _mm_cmpeq_epi8(x, cbq));
        unsigned W = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(up, lo), dg));
        unsigned V = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(ex, pr));
        unsigned S = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, c20));
        unsigned Vn = (V >> 1) | (dd__fastvis[t[i + 16]] != 0 ? 0x8000u : 0u); /* next visible */
        unsigned stop = ~(V | (S & Vn)) & 0xFFFFu;
        if (stop & 1u)
            break; /* the span ended with the previous block */
        _mm_storeu_si128((__m128i *)(void *)(out + ol), _mm_or_si128(x, _mm_and_si128(up, c20)));
        unsigned cnt = dd__ctz(stop | 0x10000u); /* 16 when stop is 0 */
        unsigned m = cnt == 16 ? 0xFFFFu : (1u << cnt) - 1u;
        W &= m;
        dd__block_tokens(&tk, ol, W, m, carry);
        carry = (W >> (cnt - 1)) & 1u;
        ol += cnt;
        i += cnt;
        if (cnt < 16)
            break;
    }
    dd__toks_hash(out, &tk, tok + nt);
    s->canon_len = ol;
    s->ntok = nt + tk.ne;
    if (carry)
        n->tok_start = tk.base + tk.so[tk.ns - 1];
    n->in_tok = (int)carry;
    *pi = i;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
#define DD_HAVE_BLOCKS32 1
#include <immintrin.h>

/* dd__blocks with 32-byte blocks (AVX2), for CPUs that have it: the same
 * rules, masks of 32 bits; it stops where dd__blocks would, and leaves the
 * same state.  Runs only after __builtin_cpu_supports("avx2"), "bmi", "bmi2"
 * and "popcnt" (every AVX2 CPU has them; blsr, shlx and rorx shorten the token
 * loop and the inlined XXH3). */
__attribute__((target("avx2,bmi,bmi2,popcnt"), flatten)) static void dd__blocks32(dd_norm_t *n,
                                                                   const unsigned char *t,
                                                                   size_t len, size_t *pi)
{
    dd_scratch_t *s = n->s;
    size_t i = *pi;
    unsigned char *out = (unsigned char *)s->canon;
    uint64_t *tok = s->tok;
    size_t nt = s->ntok, ol = s->canon_len;
    dd_toks_t tk;
    uint32_t carry = n->in_tok && dd__fastvis[t[i]] == 2;
    dd__toks_init(&tk, s->dfr, (len - i) / 2 + 2, carry ? n->tok_start : ol);
    tk.so[0] = 0; /* the carried token's start, when there is one */
    tk.ns = carry;
    const dd_uni_entry_t *uni = n->o->uni;
    /* The constants are read from memory in the loop (operands of the
     * compares): the call to XXH3's long-input path in it clobbers every
     * vector register, and GCC would otherwise build each one again from
     * immediates per block. */
    static const uint8_t kc[9][32] __attribute__((aligned(32))) = {
#define DD_K32(v) {v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, \
                   v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v}
        DD_K32(0x20), DD_K32(0x60), DD_K32(0x7B), DD_K32(0x2F), DD_K32(0x3A),
        DD_K32(0x7F), DD_K32('&'), DD_K32('<'), DD_K32('`'),
#undef DD_K32
    };
    const uint8_t(*kp)[32] = kc;
    __asm__("" : "+r"(kp)); /* opaque: loaded, not rebuilt from immediates */
#define DD_K(j) _mm256_load_si256((const __m256i *)(const void *)kp[j])
    while (i + 33 <= len) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(t + i));
        /* letters: x | 0x20 in 'a'..'z' (upper case ones differ by 0x20) */
        __m256i xl = _mm256_or_si256(x, DD_K(0));
        __m256i lt = _mm256_and_si256(_mm256_cmpgt_epi8(xl, DD_K(1)), _mm256_cmpgt_epi8(DD_K(2), xl));
        __m256i dg = _mm256_and_si256(_mm256_cmpgt_epi8(x, DD_K(3)), _mm256_cmpgt_epi8(DD_K(4), x));
        __m256i pr = _mm256_and_si256(_mm256_cmpgt_epi8(x, DD_K(0)), _mm256_cmpgt_epi8(DD_K(5), x));
        __m256i ex = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(x, DD_K(6)), _mm256_cmpeq_epi8(x, DD_K(7))),
            _mm256_cmpeq_epi8(x, DD_K(8)));
        uint32_t W = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(lt, dg));
        uint32_t V = (uint32_t)_mm256_movemask_epi8(_mm256_andnot_si256(ex, pr));
        uint32_t S = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, DD_K(0)));
        uint32_t Vn = (V >> 1) | (dd__fastvis[t[i + 32]] != 0 ? 0x80000000u : 0u);
        uint32_t stop = ~(V | (S & Vn));
        if (stop & 1u)
            break;
        /* lower-cased: letters get 0x20 (lower-case ones have it) */
        _mm256_storeu_si256((__m256i *)(void *)(out + ol),
                            _mm256_or_si256(x, _mm256_and_si256(lt, DD_K(0))));
        unsigned cnt = dd__ctz(stop); /* tzcnt: 32 when stop is 0 (BMI) */
        uint32_t m = cnt == 32 ? 0xFFFFFFFFu : (UINT32_C(1) << cnt) - 1u;
        W &= m;
        dd__block_tokens(&tk, ol, W, m, carry);
        carry = (W >> (cnt - 1)) & 1u;
        ol += cnt;
        i += cnt;
        if (cnt < 32) {
            /* What stopped the span, when the byte-by-byte path would come
             * straight back here, is done here too (the same output and
             * state): a run of separators (line breaks, spaces, controls)
             * followed by a visible byte, which ends the open token and
             * gives one space; and General Punctuation the start-up table
             * folds into at most as many bytes (curly quotes, dashes), which
             * ends the open token and is copied as folded. */
            int more = 0;
            for (;;) {
                unsigned char c = t[i];
                if (c <= 0x20 || c == 0x7F) {
                    size_t q = i + 1;
                    while (q < len && (t[q] <= 0x20 || t[q] == 0x7F))
                        q++;
                    if (q + 33 > len || dd__fastvis[t[q]] == 0)
                        break;
                    tk.eo[tk.ne] = (uint32_t)(ol - tk.base); /* ends the open token */
                    tk.ne += carry;
                    carry = 0;
                    out[ol++] = ' ';
                    i = q;
                    more = 1;
                    break;
                }
                if (c != 0xE2 || uni == NULL || i + 2 >= len || (t[i + 1] & 0xFE) != 0x80 ||
                    (t[i + 2] & 0xC0) != 0x80)
                    break;
                const dd_uni_entry_t *e =
                    &uni[DD_UNI_LAT1 + ((t[i + 1] & 0x3F) << 6 | (t[i + 2] & 0x3F))];
                if (e->kind != DD_UNI_PUNCT || e->len > 3)
                    break;
                tk.eo[tk.ne] = (uint32_t)(ol - tk.base);
                tk.ne += carry;
                carry = 0;
                memcpy(out + ol, e->out, 3); /* room: 32 bytes past the end */
                ol += e->len;
                i += 3;
                if (i + 33 > len)
                    break;
                if (dd__fastvis[t[i]] != 0) {
                    more = 1;
                    break;
                }
            }
            if (!more)
                break;
        }
    }
#undef DD_K
    dd__toks_hash(out, &tk, tok + nt);
    s->canon_len = ol;
    s->ntok = nt + tk.ne;
    if (carry)
        n->tok_start = tk.base + tk.so[tk.ns - 1];
    n->in_tok = (int)carry;
    *pi = i;
}
#endif
#endif

int dd_normalize(const dd_norm_opts_t *o, const char *text, size_t len, dd_scratch_t *s)
{
    dd_norm_t n = {.o = o, .s = s};
    const unsigned char *t = (const unsigned char *)text;
    s->ntok = 0;
    s->canon_len = 0;
    s->raw_len = 0;
    if (dd_grow((void **)&s->canon, &s->canon_cap, len + 16, 1) != 0)
        return -1;
#ifdef DD_HAVE_BLOCKS32
    const int avx2 = !o->sse2_only && len >= 64 && __builtin_cpu_supports("avx2") &&
                     __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                     __builtin_cpu_supports("popcnt");
#endif
    size_t i = 0;
    while (i < len && !n.oom) {
        unsigned char c = t[i];
        if (c < 0x80) {
#ifdef DD_HAVE_BLOCKS
            /* (its token offsets are 32-bit: texts under 1 GB) */
            if (dd__fastvis[c] != 0 && !n.tok_uni && i + 17 <= len && len < ((size_t)1 << 30)) {
                if (dd__blocks_enter(&n, t, len, i) != 0)
                    break;
#ifdef DD_HAVE_BLOCKS32
                if (avx2 && i + 33 <= len) {
                    dd__blocks32(&n, t, len, &i);
                    continue;
                }
#endif
                dd__blocks(&n, t, len, &i);
                continue;
            }
#endif
            switch (dd__ascii[c]) {
            case C_WORD:
                if (!n.tok_uni) {
                    /* The common case: a run of ASCII letters and digits,
                     * lower-cased straight into canon. */
                    if (!n.in_tok) {
                        dd__flush_space(&n);
                        n.in_tok = 1;
                        n.tok_start = s->canon_len;
                    }
                    if (dd__canon_reserve(&n, len - i) != 0)
                        continue; /* n.oom ends the loop */
                    /* Canon grows by at most one byte per input byte on
                     * this path, so the reservation covers every word and
                     * single space until the run of plain words ends. */
                    unsigned char *out = (unsigned char *)s->canon;
                    size_t ol = s->canon_len;
                    unsigned char w;
                    for (;;) {
                        while (i < len && (w = dd__word_lower[t[i]]) != 0) {
                            out[ol++] = w;
                            i++;
                        }
                        /* "word word": end this token and start the next
                         * here (what the separator case and the next word
                         * would do, without the round trip) */
                        if (i + 1 < len && t[i] == ' ' && dd__word_lower[t[i + 1]] != 0) {
                            dd__push_token_hash(&n, s->canon + n.tok_start, ol - n.tok_start);
                            if (n.oom)
                                break;
                            out[ol++] = ' ';
                            i++;
                            n.tok_start = ol;
                            continue;
                        }
                        break;
                    }
                    s->canon_len = ol;
                    continue;
                }
                dd__ascii_word(&n, c);
                i++;
                continue;
            case C_SEP:
                dd__sep(&n);
                i++;
                while (i < len && t[i] == ' ')
                    i++;
                continue;
            case C_PUNCT:
                dd__ascii_punct(&n, c);
                i++;
                continue;
            case C_LT:
                if (o->strip_markup) {
                    int inl = 0;
                    size_t e = dd__tag(t, len, i, &inl);
                    if (e != 0) {
                        if (!inl)
                            dd__sep(&n);
                        i = e;
                        continue;
                    }
                }
                dd__ascii_punct(&n, c);
                i++;
                continue;
            case C_AMP:
            default:
                if (o->strip_markup) {
                    int32_t cp[2];
                    int ncp = 0;
                    size_t e = dd__entity(&n, t, len, i + 1, cp, &ncp);
                    /* "&amp;#8217;" (escaped twice): decode the inner one */
                    for (int guard = 0; e != 0 && ncp == 1 && cp[0] == '&' && guard < 4; guard++) {
                        int32_t cp2[2];
                        int n2 = 0;
                        size_t e2 = dd__entity(&n, t, len, e, cp2, &n2);
                        if (e2 == 0)
                            break;
                        e = e2;
                        cp[0] = cp2[0];
                        cp[1] = cp2[1];
                        ncp = n2;
                    }
                    if (e != 0) {
                        for (int k = 0; k < ncp; k++) {
                            if (cp[k] < 0x80) {
                                unsigned char a = (unsigned char)cp[k];
                                if (dd__ascii[a] == C_WORD)
                                    dd__ascii_word(&n, a);
                                else if (dd__ascii[a] == C_SEP)
                                    dd__sep(&n);
                                else
                                    dd__ascii_punct(&n, a);
                            } else {
                                dd__uni(&n, cp[k]);
                            }
                        }
                        i = e;
                        continue;
                    }
                }
                dd__ascii_punct(&n, c);
                i++;
                continue;
            }
        }
        int32_t cp;
        if (c == 0xE2 && i + 2 < len && (t[i + 1] & 0xFE) == 0x80 && (t[i + 2] & 0xC0) == 0x80) {
            /* U+2000..U+207F, General Punctuation: decoded here */
            cp = 0x2000 | (int32_t)(t[i + 1] & 0x3F) << 6 | (int32_t)(t[i + 2] & 0x3F);
            i += 3;
        } else if (c == 0xC2 && i + 1 < len && (t[i + 1] & 0xC0) == 0x80) {
            cp = t[i + 1]; /* U+0080..U+00BF */
            i += 2;
        } else {
            i += dd__utf8(t, len, i, &cp);
        }
        dd__uni(&n, cp);
    }
    dd__end_token(&n);
    return n.oom ? -1 : 0;
}

/* ---- the table of common characters ---- */

static void dd__prepare_one(const dd_norm_opts_t *o, int32_t cp, dd_scratch_t *s,
                            dd_uni_entry_t *e)
{
    memset(e, 0, sizeof *e);
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    if (p->ignorable) {
        e->kind = DD_UNI_IGNORE;
        return;
    }
    switch (p->category) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        e->kind = DD_UNI_FULL; /* word characters: tokens */
        return;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
        e->kind = DD_UNI_SEP;
        return;
    default:
        break;
    }
    /* punctuation and symbols: what the full path writes into canon */
    dd_norm_t n = {.o = o, .s = s};
    s->canon_len = 0;
    s->ntok = 0;
    dd__punct(&n, cp);
    if (n.oom || s->canon_len > sizeof e->out || s->ntok != 0) {
        e->kind = DD_UNI_FULL;
        return;
    }
    e->kind = DD_UNI_PUNCT;
    e->len = (uint8_t)s->canon_len;
    memcpy(e->out, s->canon, s->canon_len);
}

int dd_norm_prepare(dd_norm_opts_t *o)
{
    o->uni = NULL;
    dd_uni_entry_t *t = calloc(DD_UNI_LAT1 + DD_UNI_GENP, sizeof *t);
    if (t == NULL)
        return -1;
    dd_norm_opts_t base = *o; /* uni NULL: the full path */
    dd_scratch_t s = {0};
    for (int32_t k = 0; k < DD_UNI_LAT1; k++)
        dd__prepare_one(&base, 0x80 + k, &s, &t[k]);
    for (int32_t k = 0; k < DD_UNI_GENP; k++)
        dd__prepare_one(&base, 0x2000 + k, &s, &t[DD_UNI_LAT1 + k]);
    dd_scratch_free(&s);
    o->uni = t;
    return 0;
}

void dd_norm_release(dd_norm_opts_t *o)
{
    free(o->uni);
    o->uni = NULL;
}
