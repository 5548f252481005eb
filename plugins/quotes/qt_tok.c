/*
 * qt_tok.c - the tokenizer and sentence splitter, and the per-document
 * scratch space.
 *
 * Tokens are words (letters, digits, marks; with inner apostrophes as in
 * "it's", inner hyphens, dotted abbreviations "U.S.", digit groups "1,000"),
 * numbers, single punctuation characters, quote marks (with their flanking:
 * whitespace before / after) and paragraph breaks (every run of line breaks).
 * Each word carries its lexicon classes.  Unicode letters and spaces are
 * classified with utf8proc; everything runs in one pass over the bytes.
 *
 * Sentences are split after . ! ? ... (not after an abbreviation's period)
 * when the next token starts like a sentence, and never inside a quotation:
 * a quotation belongs to the sentence that contains its opening mark.
 */
#include "qt.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

int qt_vec_grow(void **p, size_t *cap, size_t need, size_t elsz)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elsz)
            return -1;
        nc *= 2;
    }
    void *np = realloc(*p, nc * elsz);
    if (np == NULL)
        return -1;
    *p = np;
    *cap = nc;
    return 0;
}

void qt_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    const char *b = base;
    size_t i = 1;
    while (i < n && cmp(b + (i - 1) * size, b + i * size) <= 0)
        i++;
    if (i < n)
        qsort(base, n, size, cmp);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void qt_sort_u64(uint64_t *a, size_t n)
{
    size_t i = 1;
    while (i < n && a[i - 1] <= a[i])
        i++;
    if (i >= n)
        return;
    if (n > 32) {
        qsort(a, n, sizeof *a, cmp_u64);
        return;
    }
    /* a few keys (a document's quotations, speakers): insertion, from the
     * first one out of order */
    for (; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

void qt_doc_reset(qt_doc_t *d, const char *t, size_t n, const qt_lex_t *lx, const qt_cfg_t *cfg)
{
    d->t = t;
    d->n = n;
    d->lx = lx;
    d->cfg = cfg;
    d->n_tok = d->n_q = d->n_ent = d->n_men = d->n_sstart = d->n_pstart = 0;
    d->n_tmp = d->n_tmp2 = d->n_buf = d->n_js = d->n_keys = d->n_runs = d->n_emap = d->n_marks = 0;
    d->n_cues = d->n_caps = d->n_pers = d->n_sev = d->n_names = 0;
    d->nquotes_marked = 0;
    d->oom = 0;
}

void qt_doc_free(qt_doc_t *d)
{
    free(d->tok);
    free(d->q);
    free(d->ent);
    free(d->men);
    free(d->sstart);
    free(d->pstart);
    free(d->tmp);
    free(d->tmp2);
    free(d->keys);
    free(d->runs);
    free(d->marks);
    free(d->emap);
    free(d->buf);
    free(d->js);
    free(d->cues);
    free(d->caps);
    free(d->pers);
    free(d->sev);
    free(d->names);
    memset(d, 0, sizeof *d);
}

/* Decode one UTF-8 sequence (the input is valid UTF-8; be defensive anyway). */
static QT_INLINE size_t dec(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0 && n >= 2) {
        *cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        return 2;
    }
    if ((c & 0xF0) == 0xE0 && n >= 3) {
        *cp = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        return 3;
    }
    if ((c & 0xF8) == 0xF0 && n >= 4) {
        *cp = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
        return 4;
    }
    *cp = 0xFFFD;
    return 1;
}

/* The code point ending right before position i (i > 0). */
static uint32_t prev_cp(const unsigned char *t, size_t i)
{
    size_t j = i - 1;
    int k = 0;
    while (j > 0 && (t[j] & 0xC0) == 0x80 && k < 3) {
        j--;
        k++;
    }
    uint32_t cp;
    dec(t + j, i - j, &cp);
    return cp;
}

static QT_INLINE int is_space_cp(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\f' || cp == '\v' || cp == 0xA0 ||
           (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F || cp == 0x3000 ||
           cp == 0xFEFF || cp == 0x2028 || cp == 0x2029;
}

static QT_INLINE int qm_code(uint32_t cp)
{
    switch (cp) {
    case '"': return QM_DQ;
    case 0x201C: return QM_LDQ;
    case 0x201D: return QM_RDQ;
    case 0x201E: return QM_LOWDQ;
    case 0x201F: return QM_REVDQ;
    case 0xAB: return QM_LGUIL;
    case 0xBB: return QM_RGUIL;
    case '\'': return QM_SQ;
    case 0x2018: return QM_LSQ;
    case 0x201B: return QM_LSQ;
    case 0x2019: return QM_RSQ;
    case 0x201A: return QM_LOWSQ;
    case 0x2039: return QM_LSGUIL;
    case 0x203A: return QM_RSGUIL;
    case 0x300C: return QM_CJK_L;
    case 0x300D: return QM_CJK_R;
    default: return 0;
    }
}

/* 1 letter, 2 digit, 3 mark; 0 otherwise. */
static QT_INLINE int wclass(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
            return 1;
        if (cp >= '0' && cp <= '9')
            return 2;
        return 0;
    }
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return 1;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 2;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return 3;
    default:
        return 0;
    }
}

static int is_upper_cp(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z';
    int c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT;
}

static int is_apos_at(const unsigned char *t, size_t n, size_t i, size_t *len)
{
    if (i < n && t[i] == '\'') {
        *len = 1;
        return 1;
    }
    if (i + 2 < n && t[i] == 0xE2 && t[i + 1] == 0x80 && t[i + 2] == 0x99) {
        *len = 3;
        return 1;
    }
    return 0;
}

static inline int push_tok(qt_doc_t *d, const qt_tok_t *tk) { return QT_PUSH(d, tok, *tk); }

/* ASCII classes: 1 letter, 2 digit. */
static const uint8_t ascii_cls[128] = {
    ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2, ['5'] = 2, ['6'] = 2, ['7'] = 2,
    ['8'] = 2, ['9'] = 2,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* Byte flags for the word scanner: W_ALNUM an ASCII letter or digit,
 * W_UP an upper-case one, W_LOW a lower-case one.  Bytes >= 0x80 are 0. */
enum { W_ALNUM = 1, W_UP = 2, W_LOW = 4 };
#define WU (W_ALNUM | W_UP)
#define WL (W_ALNUM | W_LOW)
static const uint8_t wtab[256] = {
    ['0'] = W_ALNUM, ['1'] = W_ALNUM, ['2'] = W_ALNUM, ['3'] = W_ALNUM, ['4'] = W_ALNUM,
    ['5'] = W_ALNUM, ['6'] = W_ALNUM, ['7'] = W_ALNUM, ['8'] = W_ALNUM, ['9'] = W_ALNUM,
    ['A'] = WU, ['B'] = WU, ['C'] = WU, ['D'] = WU, ['E'] = WU, ['F'] = WU, ['G'] = WU,
    ['H'] = WU, ['I'] = WU, ['J'] = WU, ['K'] = WU, ['L'] = WU, ['M'] = WU, ['N'] = WU,
    ['O'] = WU, ['P'] = WU, ['Q'] = WU, ['R'] = WU, ['S'] = WU, ['T'] = WU, ['U'] = WU,
    ['V'] = WU, ['W'] = WU, ['X'] = WU, ['Y'] = WU, ['Z'] = WU,
    ['a'] = WL, ['b'] = WL, ['c'] = WL, ['d'] = WL, ['e'] = WL, ['f'] = WL, ['g'] = WL,
    ['h'] = WL, ['i'] = WL, ['j'] = WL, ['k'] = WL, ['l'] = WL, ['m'] = WL, ['n'] = WL,
    ['o'] = WL, ['p'] = WL, ['q'] = WL, ['r'] = WL, ['s'] = WL, ['t'] = WL, ['u'] = WL,
    ['v'] = WL, ['w'] = WL, ['x'] = WL, ['y'] = WL, ['z'] = WL,
};
#undef WU
#undef WL

/* tk's classes and extra bits (tk->lex, tk->extra) from the lexicon entry
 * of its key tk->h; returns the classes. */
static QT_INLINE uint32_t tok_lex(const qt_lex_t *lx, qt_tok_t *tk)
{
    const uint64_t lc = qt_lex_classes(lx, tk->h);
    tk->lex = (uint32_t)lc;
    tk->extra = (uint16_t)(lc >> 32);
    return (uint32_t)lc;
}

/* Scan a word starting at i; returns its end.  *fold is set when the word
 * needs folding before hashing (upper case, typographic apostrophe). */
static inline size_t scan_word(const unsigned char *t, size_t n, size_t i, qt_tok_t *tk, int *fold)
{
    size_t st = i;
    int seg = 0, dotted = 0, first = 1, digits_first = 0, upper_start = 0, curly = 0;
    unsigned acc = 0;
    uint32_t last_cp = 0;
    while (i < n) {
        /* a run of ASCII letters and digits */
        size_t j = i;
        while (j < n) {
            unsigned f = wtab[t[j]];
            if (!f)
                break;
            acc |= f;
            j++;
        }
        if (j > i) {
            if (first) {
                first = 0;
                digits_first = !(wtab[t[i]] & (W_UP | W_LOW));
                if (wtab[t[i]] & W_UP) {
                    tk->flags |= TF_CAP;
                    upper_start = 1;
                }
            }
            seg += (int)(j - i);
            last_cp = t[j - 1];
            i = j;
            if (i >= n)
                break;
            unsigned nx = t[i];
            if (nx < 0x80 && nx != '\'' && nx != '-' && nx != '.' && nx != ',' && nx != '&')
                break; /* fast exit: only these can continue a word */
        }
        uint32_t cp;
        size_t l = dec(t + i, n - i, &cp);
        int wc = cp < 0x80 ? ascii_cls[cp] : wclass(cp);
        if (wc) {
            /* a non-ASCII letter, digit or mark */
            int up = wc == 1 && is_upper_cp(cp);
            if (first) {
                first = 0;
                digits_first = wc == 2;
                if (up) {
                    tk->flags |= TF_CAP;
                    upper_start = 1;
                }
            }
            if (wc == 1 && !up)
                acc |= W_LOW;
            if (wc == 1)
                seg++;
            last_cp = cp;
            i += l;
            continue;
        }
        /* inner connectors */
        size_t al;
        if (is_apos_at(t, n, i, &al) && i + al < n && last_cp != 0) {
            uint32_t nc;
            dec(t + i + al, n - i - al, &nc);
            if (wclass(nc) == 1 && wclass(last_cp) != 0) {
                if (al > 1)
                    curly = 1;
                i += al;
                seg = 0;
                continue;
            }
        }
        if ((cp == '-' || cp == 0x2011) && i + l < n && last_cp != 0 && wclass(last_cp)) {
            uint32_t nc;
            dec(t + i + l, n - i - l, &nc);
            if (wclass(nc) == 1 || wclass(nc) == 2) {
                i += l;
                seg = 0;
                continue;
            }
        }
        if (cp == '.' && i + 1 < n && seg == 1 && wclass(last_cp) == 1) {
            uint32_t nc;
            dec(t + i + 1, n - i - 1, &nc);
            if (wclass(nc) == 1) {
                /* U.S / H.R / e.g */
                i += 1;
                seg = 0;
                dotted = 1;
                continue;
            }
        }
        if ((cp == ',' || cp == '.') && digits_first && wclass(last_cp) == 2 && i + 1 < n &&
            t[i + 1] >= '0' && t[i + 1] <= '9') {
            i += 1;
            continue;
        }
        if (cp == '&' && i + 1 < n && last_cp < 0x80 && last_cp >= 'A' && last_cp <= 'Z' &&
            t[i + 1] >= 'A' && t[i + 1] <= 'Z') {
            i += 1;
            continue;
        }
        break;
    }
    if (dotted && seg == 1 && i < n && t[i] == '.') {
        i++; /* final period of U.S. */
        tk->flags |= TF_DOTTED;
    }
    tk->kind = digits_first ? TK_NUM : TK_WORD;
    if (upper_start && !(acc & W_LOW)) {
        /* all caps (two letters or more): count the letters */
        int letters = 0;
        for (size_t k = st; k < i && letters < 2; k++)
            letters += (wtab[t[k]] & W_UP) != 0 || t[k] >= 0xC0;
        if (letters >= 2)
            tk->flags |= TF_UPPER;
    }
    tk->s = (uint32_t)st;
    tk->e = (uint32_t)i;
    tk->ce = (uint32_t)i;
    /* possessive / contraction 's */
    size_t w = i - st;
    if (w > 2 && t[i - 1] == 's' && t[i - 2] == '\'')
        tk->ce = (uint32_t)(i - 2), tk->flags |= TF_POSS;
    else if (w > 4 && t[i - 1] == 's' && t[i - 2] == 0x99 && t[i - 3] == 0x80 && t[i - 4] == 0xE2)
        tk->ce = (uint32_t)(i - 4), tk->flags |= TF_POSS, curly = 1;
    *fold = (acc & W_UP) || curly;
    return i;
}

static void lookup(qt_doc_t *d, qt_tok_t *tk, int fold)
{
    const char *w = d->t + tk->s;
    size_t n = tk->ce - tk->s;
    char buf[QT_MAX_WORD];
    if (fold) {
        /* lower-case ASCII, typographic apostrophes to "'" (as qt_hash_word) */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)w[i];
            if (k >= sizeof buf) {
                tk->h = 0;
                return;
            }
            if (c == 0xE2 && i + 2 < n && (unsigned char)w[i + 1] == 0x80 &&
                ((unsigned char)w[i + 2] == 0x99 || (unsigned char)w[i + 2] == 0x98)) {
                buf[k++] = '\'';
                i += 2;
                continue;
            }
            buf[k++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
        w = buf;
        n = k;
    } else if (n > QT_MAX_WORD) {
        tk->h = 0;
        return;
    }
    tk->h = qt_hash_lowered(w, n); /* (never 0) */
    (void)tok_lex(d->lx, tk);
}

/* The common case of scan_word + lookup in one pass: a run of ASCII letters
 * and digits ended by a byte that cannot continue a word (space, most
 * punctuation, end of text).  The lower-cased copy for the hash is made while
 * scanning.  Returns 0 (nothing consumed) when the word needs the full
 * scanner: a non-ASCII byte, an apostrophe, hyphen or "&" after it, a period
 * after a single letter or a number, a comma after a number. */
/* What the byte after a run of ASCII letters and digits means for
 * fast_word: NX_SLOW the full scanner must look (a non-ASCII byte, an
 * apostrophe, hyphen or "&"), NX_COMMA / NX_DOT it must after a number (and
 * after a single letter, for the period), NX_E2 it must unless e2_ends()
 * (a lead byte 0xE2). */
enum { NX_SLOW = 1, NX_COMMA = 2, NX_DOT = 4, NX_E2 = 8 };
#define NX8(b) [b] = NX_SLOW, [b + 1] = NX_SLOW, [b + 2] = NX_SLOW, [b + 3] = NX_SLOW, \
                [b + 4] = NX_SLOW, [b + 5] = NX_SLOW, [b + 6] = NX_SLOW, [b + 7] = NX_SLOW
#define NX64(b) NX8(b), NX8(b + 8), NX8(b + 16), NX8(b + 24), NX8(b + 32), NX8(b + 40), \
                NX8(b + 48), NX8(b + 56)
static const uint8_t nxtab[256] = {
    ['\''] = NX_SLOW, ['-'] = NX_SLOW, ['&'] = NX_SLOW, [','] = NX_COMMA, ['.'] = NX_DOT,
    NX64(0x80), NX8(0xC0), NX8(0xC8), NX8(0xD0), NX8(0xD8),
    [0xE0] = NX_SLOW, [0xE1] = NX_SLOW, [0xE2] = NX_E2, [0xE3] = NX_SLOW, [0xE4] = NX_SLOW,
    [0xE5] = NX_SLOW, [0xE6] = NX_SLOW, [0xE7] = NX_SLOW, NX8(0xE8), NX8(0xF0), NX8(0xF8),
};
#undef NX8
#undef NX64

/* p[0] is 0xE2, after a run of ASCII letters and digits (the text's NUL
 * ends the reads): does the character there end the word for scan_word, as
 * a space would, so that the word needs no full scan?  scan_word goes on
 * only over a letter, digit or mark, a non-breaking hyphen (U+2011), or an
 * apostrophe (U+2019) before a letter.  Yes: U+2013 and U+2014 (dashes),
 * U+201C and U+201D (double quote marks), U+2026 (ellipsis), and U+2019
 * before an ASCII byte that is no letter ("the players’ union", a closing
 * single quote); a non-ASCII byte after it may start a letter: no. */
static QT_INLINE int e2_ends(const unsigned char *p)
{
    if (p[1] != 0x80)
        return 0;
    const unsigned c = p[2], k = c - 0x93u;
    if (c == 0x99) /* (p[3] is readable: p[2] is not the NUL) */
        return p[3] < 0x80 && (unsigned)((p[3] | 0x20) - 'a') >= 26u;
    return k < 20 &&
           ((1u << 0 | 1u << 1 | 1u << (0x9C - 0x93) | 1u << (0x9D - 0x93) | 1u << (0xA6 - 0x93)) >> k & 1u);
}

#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define QT_SSE2_WORDS 1
/* The first w bytes of a uint64_t (w = 0..8). */
static const uint64_t keep_tab[9] = {
    0, 0xffull, 0xffffull, 0xffffffull, 0xffffffffull, 0xffffffffffull, 0xffffffffffffull,
    0xffffffffffffffull, ~0ull,
};

/* Bit k set when byte k of v is an ASCII letter or digit (wtab's W_ALNUM);
 * *low gets the bytes lower-cased by setting bit 0x20 (exact for letters
 * and digits).  Signed compares: a byte b is in [lo, lo + len) when
 * b + (0x80 - lo), wrapped, is below -0x80 + len. */
static QT_INLINE unsigned alnum_mask16(__m128i v, __m128i *low)
{
    __m128i lc = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i let = _mm_cmpgt_epi8(_mm_set1_epi8((char)(-0x80 + 26)),
                                 _mm_add_epi8(lc, _mm_set1_epi8((char)(0x80 - 'a'))));
    __m128i dig = _mm_cmpgt_epi8(_mm_set1_epi8((char)(-0x80 + 10)),
                                 _mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0'))));
    *low = lc;
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(let, dig));
}
#endif

/* (word_lane below does the same for a run of words, sixteen bytes at a
 * time; fast_word takes the words it leaves: longer ones, the text's last
 * sixteen bytes, a full token array) */
static QT_INLINE int fast_word(qt_doc_t *restrict d, const unsigned char *t, size_t n, size_t *pi,
                            qt_tok_t *restrict tk)
{
    size_t st = *pi, j = st;
    /* the text is NUL-terminated (doc_text) and wtab['\0'] is 0: no bound
     * check */
    while (wtab[t[j]] != 0)
        j++;
    /* the letters' case is looked at only where it matters (a capitalised
     * word's TF_UPPER) */
    unsigned first = wtab[t[st]];
    int digits_first = !(first & (W_UP | W_LOW));
    size_t w = j - st;
    /* t[n] is NUL, which continues nothing: no bound check */
    unsigned nx = nxtab[t[j]];
    if (nx != 0 && ((nx & NX_SLOW) || ((nx & NX_E2) && !e2_ends(t + j)) ||
                    ((nx & NX_COMMA) && digits_first) || ((nx & NX_DOT) && (digits_first || w == 1))))
        return 0;
    tk->kind = digits_first ? TK_NUM : TK_WORD;
    if (first & W_UP) {
        /* a word: listed for collect_runs (d->oom on failure) */
        (void)QT_PUSH(d, caps, (int32_t)d->n_tok);
        tk->flags |= TF_CAP;
        /* all caps: no lower-case letter, two upper-case ones or more (a
         * capitalised word usually stops at its second letter) */
        unsigned ups = 0;
        size_t k = st;
        for (; k < j; k++) {
            unsigned f = wtab[t[k]];
            if (f & W_LOW)
                break;
            ups += (f & W_UP) != 0;
        }
        if (k == j && ups >= 2)
            tk->flags |= TF_UPPER;
    }
    tk->s = (uint32_t)st;
    tk->e = tk->ce = (uint32_t)j;
    *pi = j;
    if (w <= 8) {
        /* qt_hash_lowered's key: the word's bytes in a zeroed uint64_t,
         * lower-cased by setting bit 0x20 (exact for ASCII letters and
         * digits); one eight-byte load when it stays within the text and
         * its NUL */
        uint64_t x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        uint64_t keep = ~0ull >> (64 - 8 * w); /* the first w bytes; 1 <= w <= 8 */
        if (st + 8 <= n + 1) {
            memcpy(&x, t + st, 8);
            x &= keep;
        } else {
            memcpy(&x, t + st, w);
        }
        x |= 0x2020202020202020ull & keep; /* digits have bit 0x20 set already */
#else
        unsigned char kb[8] = {0};
        for (size_t k = 0; k < w; k++)
            kb[k] = (unsigned char)(t[st + k] | 0x20);
        memcpy(&x, kb, 8);
#endif
        tk->h = x; /* (not 0: w >= 1 bytes with bit 0x20 set) */
    } else {
        if (w > QT_MAX_WORD) {
            tk->h = 0;
            return 1;
        }
        /* hash the lower-cased copy (the word itself when it has no
         * upper-case letter); for ASCII letters and digits that is setting
         * bit 0x20 of every byte (digits have it already) */
        char buf[QT_MAX_WORD];
        size_t k = 0;
        for (; k + 8 <= w; k += 8) {
            uint64_t x;
            memcpy(&x, t + st + k, 8);
            x |= 0x2020202020202020ull;
            memcpy(buf + k, &x, 8);
        }
        for (; k < w; k++)
            buf[k] = (char)(t[st + k] | 0x20);
        tk->h = qt_hash_lowered(buf, w); /* (never 0) */
    }
    const uint32_t cls = tok_lex(d->lx, tk);
    if (cls & (LX_CUE | LX_PHRASE))
        (void)QT_PUSH(d, cues, (int32_t)d->n_tok);
    if ((cls & LX_PERSON) && tk->kind == TK_WORD)
        (void)QT_PUSH(d, pers, (int32_t)d->n_tok);
    return 1;
}

/* A punctuation token (code point cp of l bytes at i) into tk; returns its
 * end.  "..." is one ellipsis, "--" one dash; a period right after a word
 * that takes one (or a single capital) is an abbreviation's. */
static QT_INLINE size_t punct_tok(qt_doc_t *d, const unsigned char *t, size_t n, size_t i,
                               uint32_t cp, size_t l, unsigned spb, qt_tok_t *tk)
{
    tk->kind = TK_PUNCT;
    tk->cp = cp;
    tk->s = (uint32_t)i;
    size_t e = i + l;
    if (cp == '.' && e + 1 < n && t[e] == '.' && t[e + 1] == '.') {
        while (e < n && t[e] == '.')
            e++;
        tk->cp = 0x2026;
    } else if (cp == '-' && e < n && t[e] == '-') {
        while (e < n && t[e] == '-')
            e++;
        tk->cp = 0x2014;
    }
    tk->e = (uint32_t)e;
    tk->ce = tk->e;
    /* abbreviation period: right after a word, no space */
    if (cp == '.' && d->n_tok > 0 && !spb) {
        const qt_tok_t *pw = &d->tok[d->n_tok - 1];
        if (pw->kind == TK_WORD && pw->e == i &&
            ((pw->lex & LX_ABBR) || (pw->ce - pw->s == 1 && (pw->flags & TF_CAP))))
            tk->flags |= TF_ABBR;
    }
    /* a possible sentence end, for qt_sentences (d->oom on failure) */
    if (tk->cp == '.' || tk->cp == '!' || tk->cp == '?' || tk->cp == 0x2026)
        (void)QT_PUSH(d, sev, (int32_t)d->n_tok);
    return e;
}

/* ASCII punctuation that is a token by itself: everything printable but
 * letters, digits, the space and the quote-mark characters " ' ` (which,
 * like control characters and non-ASCII, take the general path). */
static const uint8_t ptab[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['('] = 1, [')'] = 1, ['*'] = 1,
    ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1,
    ['='] = 1, ['>'] = 1, ['?'] = 1, ['@'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1,
    ['_'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1,
};

/* The next token slot, zeroed but for its defaults (no quote, paragraph
 * para, flags nfl); not yet counted in d->n_tok.  NULL when out of memory. */
static QT_INLINE qt_tok_t *new_tok(qt_doc_t *d, uint32_t para, unsigned nfl)
{
    if (d->n_tok == d->cap_tok &&
        qt_vec_grow((void **)&d->tok, &d->cap_tok, d->n_tok + 1, sizeof *d->tok) != 0)
        return NULL;
    qt_tok_t *tk = &d->tok[d->n_tok];
    memset(tk, 0, sizeof *tk);
    tk->q = -1;
    tk->para = para;
    tk->flags = (uint16_t)nfl;
    return tk;
}

#ifdef QT_SSE2_WORDS
/* The common run: plain ASCII words (letters and digits, up to fifteen
 * bytes), each followed by one space or by a byte that ends it for good.
 * The same tokens, flags, keys and lists as new_tok + fast_word +
 * token_listed, with the token count, array and room in registers.  Stops
 * (before the word) at anything else: a longer word, a word fast_word would
 * hand to the full scanner, the end of the room, the last 16 bytes of the
 * text.  Called only at a letter or digit (t[*pi]).  Returns the tokens made;
 * *pi and *pnfl move on past them. */
static size_t word_lane(qt_doc_t *restrict d, const unsigned char *t, size_t n, size_t *pi,
                        uint32_t para, unsigned *pnfl)
{
    qt_tok_t *const tok = d->tok;
    const qt_lex_t *const lx = d->lx;
    const size_t n0 = d->n_tok, cap = d->cap_tok;
    size_t nt = n0, i = *pi;
    unsigned nfl = *pnfl;
    /* one bound for both limits: a word starts at most at lim (its sixteen
     * bytes within the text and its NUL), and every word but the last moves
     * i on by two bytes or more (a letter or digit, then a space), so words
     * starting at or before i + 2 * room - 1 fit in the room left */
    const size_t room = cap - n0;
    if (room == 0 || n + 1 < 16 || i > n + 1 - 16)
        return 0;
    /* room in d->cues and d->pers for every word the lane may make: each
     * word's index is written at the list's end and counted only when it
     * belongs there (no branch on its classes, which come from the
     * lexicon's load, late) */
    if ((d->cap_cues < d->n_cues + room &&
         qt_vec_grow((void **)&d->cues, &d->cap_cues, d->n_cues + room, sizeof *d->cues) != 0) ||
        (d->cap_pers < d->n_pers + room &&
         qt_vec_grow((void **)&d->pers, &d->cap_pers, d->n_pers + room, sizeof *d->pers) != 0))
        return 0; /* (the byte loop's QT_PUSH reports it) */
    int32_t *const cues = d->cues, *const pers = d->pers;
    size_t ncues = d->n_cues, npers = d->n_pers;
    size_t lim = n + 1 - 16;
    if ((lim - i) / 2 >= room)
        lim = i + 2 * room - 1;
    while (i <= lim) {
        const size_t st = i;
        __m128i low;
        unsigned m = alnum_mask16(_mm_loadu_si128((const __m128i *)(const void *)(t + st)), &low);
        unsigned stop = ~m & 0xffffu;
        /* bit 0 is set: the lane is entered at a letter or digit (wtab, the
         * same bytes as alnum_mask16) and goes on only to one */
        if (stop == 0) /* a long word */
            break;
        const size_t j = st + (unsigned)__builtin_ctz(stop), w = j - st;
        const unsigned first = wtab[t[st]];
        const int digits_first = !(first & (W_UP | W_LOW));
        const unsigned nb = t[j]; /* a space, as a rule */
        if (nb != ' ') {
            const unsigned nx = nxtab[nb];
            if (nx != 0 && ((nx & (NX_SLOW | NX_E2)) || ((nx & NX_COMMA) && digits_first) ||
                            ((nx & NX_DOT) && (digits_first || w == 1))))
                break;
        }
        qt_tok_t *restrict tk = &tok[nt];
        *tk = (qt_tok_t){.s = (uint32_t)st, .e = (uint32_t)j, .ce = (uint32_t)j, .q = -1,
                         .para = para, .flags = (uint16_t)nfl,
                         .kind = digits_first ? TK_NUM : TK_WORD};
        if (first & W_UP) {
            (void)QT_PUSH(d, caps, (int32_t)nt);
            /* TF_UPPER: no lower-case letter and two upper-case ones in the
             * word's w bytes (the masks of the block, reloaded here) */
            const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + st));
            const unsigned wm = (1u << w) - 1u;
            const unsigned up = wm & (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(
                                         _mm_set1_epi8((char)(-0x80 + 26)),
                                         _mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - 'A')))));
            const unsigned lo = wm & (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(
                                         _mm_set1_epi8((char)(-0x80 + 26)),
                                         _mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - 'a')))));
            tk->flags = (uint16_t)(nfl | TF_CAP | (lo == 0 && (up & (up - 1u)) != 0 ? TF_UPPER : 0));
        }
        uint64_t h;
        if (w <= 8) {
            h = (uint64_t)_mm_cvtsi128_si64(low) & keep_tab[w];
        } else {
            char buf[16];
            _mm_storeu_si128((__m128i *)(void *)buf, low);
            h = qt_hash_lowered(buf, w);
        }
        tk->h = h;
        const uint32_t cls = tok_lex(lx, tk);
        cues[ncues] = (int32_t)nt;
        ncues += (cls & (LX_CUE | LX_PHRASE)) != 0;
        pers[npers] = (int32_t)nt;
        npers += ((cls & LX_PERSON) != 0) & !digits_first;
        nt++;
        if (nb == ' ') {
            tk->flags |= TF_SPA;
            i = j + 1;
            nfl = TF_SPB;
            if (!wtab[t[i]])
                break;
        } else {
            i = j;
            nfl = 0;
            break;
        }
    }
    d->n_tok = nt;
    d->n_cues = ncues;
    d->n_pers = npers;
    *pi = i;
    *pnfl = nfl;
    return nt - n0;
}
#endif

/* A word of ASCII letters and digits (a letter first) with one inner
 * apostrophe, straight or typographic, before more of them: "Trump’s",
 * "don't", "we’re".  What scan_word + lookup make of it (a trailing "'s" is
 * a possessive outside the core; the key folds the apostrophe), without
 * their general loop; 0 (nothing done) for anything else, and for a word
 * the full scanner might extend (a non-ASCII byte, an apostrophe, hyphen or
 * "&" after it, or a period before a letter). */
static int apos_word(qt_doc_t *d, const unsigned char *t, size_t *pi, qt_tok_t *tk)
{
    const size_t st = *pi;
    const unsigned first = wtab[t[st]];
    if (!(first & (W_UP | W_LOW)))
        return 0;
    /* t[n] is NUL, which continues nothing: no bound checks */
    size_t j = st;
    unsigned acc = 0;
    while (wtab[t[j]] != 0)
        acc |= wtab[t[j++]];
    size_t al = t[j] == '\'' ? 1 : (t[j] == 0xE2 && t[j + 1] == 0x80 && t[j + 2] == 0x99) ? 3 : 0;
    if (al == 0 || !(wtab[t[j + al]] & (W_UP | W_LOW)))
        return 0;
    size_t e = j + al;
    while (wtab[t[e]] != 0)
        acc |= wtab[t[e++]];
    const unsigned b = t[e];
    if (b >= 0x80 || b == '\'' || b == '-' || b == '&' ||
        (b == '.' && (t[e + 1] >= 0x80 || ascii_cls[t[e + 1]] == 1)))
        return 0;
    tk->kind = TK_WORD;
    if (first & W_UP) {
        tk->flags |= TF_CAP;
        if (!(acc & W_LOW)) {
            /* scan_word's all-caps rule: two capitals (or lead bytes) */
            int letters = 0;
            for (size_t k = st; k < e && letters < 2; k++)
                letters += (wtab[t[k]] & W_UP) != 0 || t[k] >= 0xC0;
            if (letters >= 2)
                tk->flags |= TF_UPPER;
        }
    }
    const size_t la = j - st, lb = e - j - al;
    const int poss = lb == 1 && t[e - 1] == 's';
    tk->s = (uint32_t)st;
    tk->e = tk->ce = (uint32_t)e;
    if (poss) {
        tk->ce = (uint32_t)j;
        tk->flags |= TF_POSS;
    }
    *pi = e;
    const size_t kn = poss ? la : la + 1 + lb;
    if (kn > QT_MAX_WORD) {
        tk->h = 0;
        return 1;
    }
    char buf[QT_MAX_WORD];
    for (size_t k = 0; k < la; k++)
        buf[k] = (char)(t[st + k] | 0x20); /* exact for ASCII letters and digits */
    if (!poss) {
        buf[la] = '\'';
        for (size_t k = 0; k < lb; k++)
            buf[la + 1 + k] = (char)(t[j + al + k] | 0x20);
    }
    tk->h = qt_hash_lowered(buf, kn); /* (never 0) */
    (void)tok_lex(d->lx, tk);
    return 1;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int qt_tokenize(qt_doc_t *d)
{
    const unsigned char *t = (const unsigned char *)d->t;
    size_t n = d->n, i = 0;
    uint32_t para = 0;
    /* the flags of the next token: TF_SPB after whitespace (or at the
     * start), TF_PSTART after a paragraph break (or at the start) */
    unsigned nfl = TF_SPB | TF_PSTART;
    if (d->lx->tab == NULL) /* never packed (qt_lex_classes reads the table) */
        return -1;
    if (qt_vec_grow((void **)&d->tok, &d->cap_tok, n / 4 + 16, sizeof *d->tok) != 0)
        return -1;
    while (i < n) {
        unsigned c = t[i];
        qt_tok_t *tk;
        if (wtab[c]) {
            /* an ASCII letter or digit (most tokens): no space, quote mark
             * or code point to look at */
#ifdef QT_SSE2_WORDS
            if (word_lane(d, t, n, &i, para, &nfl) != 0)
                continue;
#endif
            if ((tk = new_tok(d, para, nfl)) == NULL)
                return -1;
            if (fast_word(d, t, n, &i, tk))
                goto token_listed; /* fast_word listed it in d->cues / d->caps */
            if (apos_word(d, t, &i, tk))
                goto token_done;
            int fold;
            i = scan_word(t, n, i, tk, &fold);
            lookup(d, tk, fold);
            goto token_done;
        }
        if (ptab[c]) {
            if ((tk = new_tok(d, para, nfl)) == NULL)
                return -1;
            i = punct_tok(d, t, n, i, c, 1, nfl & TF_SPB, tk);
            goto token_listed; /* no classes, not a word: in neither list */
        }
        if (c == ' ') {
            if (d->n_tok > 0)
                d->tok[d->n_tok - 1].flags |= TF_SPA;
            i++;
            nfl |= TF_SPB;
            continue;
        }
        if (c == '\n') {
            if (d->n_tok > 0 && d->tok[d->n_tok - 1].kind != TK_PARA) {
                qt_tok_t pt = {0};
                pt.kind = TK_PARA;
                pt.s = (uint32_t)i;
                pt.e = (uint32_t)i + 1;
                pt.ce = pt.e;
                pt.q = -1;
                pt.para = para;
                d->tok[d->n_tok - 1].flags |= TF_SPA;
                if (QT_PUSH(d, sev, (int32_t)d->n_tok) != 0 || push_tok(d, &pt) != 0)
                    return -1;
                para++;
                nfl |= TF_PSTART;
            }
            i++;
            nfl |= TF_SPB;
            continue;
        }
        uint32_t cp;
        size_t l;
        if (c < 0x80) {
            cp = c;
            l = 1;
            if (c == '\t' || c == '\r' || c == '\f' || c == '\v') {
                if (d->n_tok > 0)
                    d->tok[d->n_tok - 1].flags |= TF_SPA;
                i++;
                nfl |= TF_SPB;
                continue;
            }
        } else {
            l = dec(t + i, n - i, &cp);
        }
        if (cp >= 0x80 && is_space_cp(cp)) {
            if (d->n_tok > 0)
                d->tok[d->n_tok - 1].flags |= TF_SPA;
            i += l;
            nfl |= TF_SPB;
            continue;
        }
        /* the new token, written in place */
        if ((tk = new_tok(d, para, nfl)) == NULL)
            return -1;
        int qc = (cp < 0x80 && cp != '"' && cp != '\'') ? 0 : qm_code(cp);
        /* '90s, ’em: an apostrophe starting a word */
        if ((qc == QM_SQ || qc == QM_RSQ || qc == QM_LSQ) && i + l + 1 < n && t[i + l] >= '0' &&
            t[i + l] <= '9' && t[i + l + 1] >= '0' && t[i + l + 1] <= '9') {
            int fold;
            size_t e = scan_word(t, n, i + l, tk, &fold);
            lookup(d, tk, fold);
            tk->s = (uint32_t)i;
            tk->kind = TK_NUM;
            i = e;
        } else if (cp < 0x80 && ascii_cls[cp] != 0 && fast_word(d, t, n, &i, tk)) {
            /* a plain ASCII word or number, hashed while it was scanned */
        } else if (cp < 0x80 ? ascii_cls[cp] != 0 : wclass(cp) != 0) {
            int fold;
            i = scan_word(t, n, i, tk, &fold);
            lookup(d, tk, fold);
        } else if (qc || (cp == '`' && i + 1 < n && t[i + 1] == '`')) {
            size_t ml = l;
            if (qc == QM_SQ && i + 1 < n && t[i + 1] == '\'' && !(i + 2 < n && t[i + 2] == '\'')) {
                qc = QM_APOS2;
                ml = 2;
            } else if (cp == '`') {
                qc = QM_GRAVE2;
                ml = 2;
            }
            tk->kind = TK_QMARK;
            tk->cp = cp;
            tk->s = (uint32_t)i;
            tk->e = (uint32_t)(i + ml);
            tk->ce = tk->e;
            uint32_t pc = i > 0 ? prev_cp(t, i) : ' ';
            uint32_t nc = ' ';
            if (i + ml < n)
                dec(t + i + ml, n - i - ml, &nc);
            int pspace = i == 0 || is_space_cp(pc) || pc == '\n';
            int nspace = i + ml >= n || is_space_cp(nc) || nc == '\n';
            int popen = pc == '(' || pc == '[' || pc == '{' || pc == 0x2014 || pc == 0x2013 ||
                        pc == '-' || pc == '/' || qm_code(pc) != 0 || pc == ':';
            int npunct = nc == '.' || nc == ',' || nc == ';' || nc == ':' || nc == '!' ||
                         nc == '?' || nc == ')' || nc == ']' || nc == 0x2014 || nc == 0x2013 ||
                         nc == 0x2026 || nc == '-' || qm_code(nc) != 0;
            uint8_t fl = 0;
            if ((pspace || popen) && !nspace)
                fl |= QM_LEFT;
            if (!pspace && (nspace || npunct))
                fl |= QM_RIGHT;
            tk->qm = (uint8_t)(qc | fl);
            i += ml;
            if (QT_PUSH(d, marks, (int32_t)d->n_tok) != 0)
                return -1;
        } else {
            i = punct_tok(d, t, n, i, cp, l, nfl & TF_SPB, tk);
        }
    token_done:
        if ((tk->lex & (LX_CUE | LX_PHRASE)) && QT_PUSH(d, cues, (int32_t)d->n_tok) != 0)
            return -1;
        if (tk->kind == TK_WORD && (tk->flags & TF_DOTTED) && QT_PUSH(d, sev, (int32_t)d->n_tok) != 0)
            return -1;
        if (tk->kind == TK_WORD && (tk->lex & LX_PERSON) && QT_PUSH(d, pers, (int32_t)d->n_tok) != 0)
            return -1;
        if (tk->kind == TK_WORD && (tk->flags & (TF_CAP | TF_UPPER)) &&
            QT_PUSH(d, caps, (int32_t)d->n_tok) != 0)
            return -1;
    token_listed:
        nfl = 0;
        d->n_tok++;
        if (t[i] == ' ') { /* the usual single space, as the ' ' case above (t[n] is NUL) */
            tk->flags |= TF_SPA;
            i++;
            nfl |= TF_SPB;
        }
    }
    if (d->n_tok > 0)
        d->tok[d->n_tok - 1].flags |= TF_SPA;
    /* multi-word phrases (their first words are in d->cues: LX_PHRASE) */
    for (size_t ci = 0; ci < d->n_cues; ci++) {
        size_t k = (size_t)d->cues[ci];
        qt_tok_t *tk = &d->tok[k];
        if (!(tk->lex & LX_PHRASE))
            continue;
        size_t best = 0, bestn = 0;
        const qt_lexent_t *le = qt_lex_get(d->lx, tk->h);
        for (size_t p = le != NULL ? le->phr : 0; p != 0; p = d->lx->phr[p - 1].next) {
            const qt_phrase_t *ph = &d->lx->phr[p - 1];
            if (ph->n <= bestn || k + ph->n > d->n_tok)
                continue;
            size_t m = 1;
            while (m < ph->n && d->tok[k + m].kind == TK_WORD && d->tok[k + m].h == ph->h[m] &&
                   !(d->tok[k + m].flags & TF_POSS))
                m++;
            if (m == ph->n) {
                best = p;
                bestn = ph->n;
            }
        }
        tk->phrase = (uint8_t)best;
        if (best) {
            /* a phrase acting as a reporting verb lends its classes to its
             * first word ("pointed out" is a cue at "pointed") */
            const qt_phrase_t *ph = &d->lx->phr[best - 1];
            if (tk->kind == TK_WORD && (ph->cls & LX_PERSON) && !(tk->lex & LX_PERSON) &&
                QT_PUSH(d, pers, (int32_t)k) != 0)
                return -1;
            tk->lex |= ph->cls;
            tk->extra |= ph->extra;
        }
    }
    if (d->n_pers > 1) /* a phrase's LX_PERSON was appended out of order */
        qt_sort(d->pers, d->n_pers, sizeof *d->pers, cmp_i32);
    /* room for qt_sentences' four-token stores past the last token */
    if (qt_vec_grow((void **)&d->tok, &d->cap_tok, d->n_tok + 3, sizeof *d->tok) != 0)
        return -1;
    return 0;
}

int qt_tok_eq_bytes(const qt_doc_t *d, int32_t i, const char *w)
{
    if (i < 0 || (size_t)i >= d->n_tok || d->tok[i].kind != TK_WORD)
        return 0;
    const qt_tok_t *tk = &d->tok[i];
    size_t n = strlen(w);
    if (tk->ce - tk->s != n)
        return 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)d->t[tk->s + k];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (c != (unsigned char)w[k])
            return 0;
    }
    return 1;
}

int32_t qt_find_phrase_at(const qt_doc_t *d, int32_t i, uint16_t extra_mask, int32_t *end)
{
    if (i < 0 || (size_t)i >= d->n_tok || d->tok[i].phrase == 0)
        return -1;
    const qt_phrase_t *ph = &d->lx->phr[d->tok[i].phrase - 1];
    if (extra_mask && !(ph->extra & extra_mask))
        return -1;
    if (end != NULL)
        *end = i + ph->n - 1;
    return d->tok[i].phrase - 1;
}

/* Does token j start a new sentence after a full stop? */
static int starts_sentence(const qt_doc_t *d, size_t j)
{
    if (j >= d->n_tok)
        return 1;
    const qt_tok_t *tk = &d->tok[j];
    if (tk->kind == TK_PARA)
        return 1;
    if (tk->kind == TK_QMARK)
        return (tk->qm & QM_LEFT) != 0;
    if (tk->kind == TK_NUM)
        return 1;
    if (tk->kind == TK_WORD)
        return (tk->flags & TF_CAP) != 0;
    if (tk->kind == TK_PUNCT)
        return tk->cp == '(' || tk->cp == '[' || tk->cp == 0x2014 || tk->cp == 0x2022 ||
               tk->cp == '*';
    return 0;
}

/* After an abbreviation, only a capitalised function word starts a sentence. */
static int starts_sentence_strong(const qt_doc_t *d, size_t j)
{
    if (j >= d->n_tok)
        return 1;
    const qt_tok_t *tk = &d->tok[j];
    if (tk->kind == TK_PARA)
        return 1;
    return tk->kind == TK_WORD && (tk->flags & TF_CAP) &&
           (tk->lex & (LX_DET | LX_PRON | LX_CONJ | LX_FUNC | LX_PREP | LX_WH)) &&
           !(tk->lex & (LX_TITLE | LX_ROLE));
}

/* Marks the tokens of title-case paragraphs (headlines written "France Asked
 * Trump And Putin To Stay Away"): capitalised function words and verb forms
 * there are not parts of names.  A paragraph is title case when at least two
 * function words or verb forms past its sentence starts are capitalised and
 * at most one word in eight outside quotations is lower case.  Returns
 * whether it marked the paragraph. */
static int title_case_para(qt_doc_t *d, size_t from, size_t to)
{
    size_t words = 0, lower = 0;
    for (size_t i = from; i < to; i++) {
        const qt_tok_t *tk = &d->tok[i];
        if (tk->kind != TK_WORD || tk->q >= 0)
            continue;
        words++;
        if (!(tk->flags & (TF_CAP | TF_UPPER)) && d->t[tk->s] >= 'a' && d->t[tk->s] <= 'z')
            lower++;
    }
    if (lower * 8 > words)
        return 0;
    for (size_t i = from; i < to; i++)
        d->tok[i].flags |= TF_TCASE;
    return 1;
}

/* The capitalised word tk (token i): TF_NAMEY and a d->names entry when
 * qt_namey_rule says it can be part of a name (d->oom on failure). */
static QT_INLINE void namey_cap(qt_doc_t *d, qt_tok_t *tk, int32_t i)
{
    /* qt_namey_rule's answer without the call for most: no inside a
     * quotation, yes for a capitalised word in no list */
    if (tk->flags & TF_INQ)
        return;
    if (tk->lex == 0 ? tk->kind == TK_WORD && (tk->flags & (TF_CAP | TF_UPPER))
                     : qt_namey_rule(d, i)) {
        tk->flags |= TF_NAMEY;
        (void)QT_PUSH(d, names, i);
    }
}

/* One pass over the capitalised words (d->caps, in order), once every
 * TF_SSTART is set: the title-case paragraphs (the capitalised function
 * words counted per paragraph; only a paragraph with two of them has its
 * words counted) and each word's TF_NAMEY.  qt_namey_rule reads the word's
 * own TF_TCASE, which the paragraph's second capitalised function word may
 * set after its earlier capitalised words were judged: those are judged
 * again then (their answers are the last entries of d->names). */
static void caps_pass(qt_doc_t *d)
{
    const uint32_t fn = LX_DET | LX_PREP | LX_CONJ | LX_AUX | LX_PRON | LX_CUE;
    uint32_t para = UINT32_MAX;
    size_t capfn = 0;
    for (size_t ci = 0; ci < d->n_caps; ci++) {
        const int32_t i = d->caps[ci];
        qt_tok_t *tk = &d->tok[i];
        if (!(tk->q >= 0 || !(tk->lex & fn) || (tk->flags & TF_SSTART))) {
            if (tk->para != para) {
                para = tk->para;
                capfn = 0;
            }
            if (++capfn == 2 && para < d->n_pstart) {
                const size_t from = (size_t)d->pstart[para];
                const size_t to = para + 1 < d->n_pstart ? (size_t)d->pstart[para + 1] : d->n_tok;
                if (title_case_para(d, from, to)) {
                    /* the paragraph's words judged so far, again */
                    while (d->n_names > 0 && (size_t)d->names[d->n_names - 1] >= from) {
                        d->tok[d->names[d->n_names - 1]].flags &= (uint16_t)~TF_NAMEY;
                        d->n_names--;
                    }
                    size_t cj = ci;
                    while (cj > 0 && (size_t)d->caps[cj - 1] >= from)
                        cj--;
                    for (; cj < ci; cj++)
                        namey_cap(d, &d->tok[d->caps[cj]], d->caps[cj]);
                }
            }
        }
        namey_cap(d, tk, i);
    }
}

/* Token i starts a sentence (d->oom on failure). */
static QT_INLINE void start_sentence(qt_doc_t *d, size_t i)
{
    if (QT_PUSH(d, sstart, (int32_t)i) == 0)
        d->tok[i].flags |= TF_SSTART;
}

/* The sentence splitter.  Only the tokens the tokenizer listed in d->sev
 * (paragraph breaks, . ! ? and ellipsis, dotted words) and the quote marks
 * (d->marks: a quotation's closing mark may end its sentence) can end a
 * sentence, so only they are visited, in token order (the two lists are
 * sorted and disjoint); when one ends its sentence, the next token starts
 * one unless it is a paragraph break (which is itself visited and does the
 * same).  Each token's sentence index is then filled in from the starts. */
void qt_sentences(qt_doc_t *d)
{
    d->n_sstart = 0;
    d->n_pstart = 0;
    d->n_names = 0;
    /* the token array does not move here (only sstart / pstart grow) */
    qt_tok_t *const tok = d->tok;
    const size_t n_tok = d->n_tok;
    if (n_tok > 0) {
        /* token 0 starts paragraph 0 (and the tokenizer's index is 0 there) */
        while (d->n_pstart <= tok[0].para)
            if (QT_PUSH(d, pstart, 0) != 0)
                return;
        if (tok[0].kind != TK_PARA) /* (the tokenizer never writes one first) */
            start_sentence(d, 0);
    }
    const int32_t *ev = d->sev, *mk = d->marks;
    size_t a = 0, b = 0, na = d->n_sev, nb = d->n_marks;
    while (a < na || b < nb) {
        size_t i;
        if (b >= nb || (a < na && ev[a] < mk[b]))
            i = (size_t)ev[a++];
        else
            i = (size_t)mk[b++];
        qt_tok_t *tk = &tok[i];
        int pending = 0;
        if (tk->kind == TK_PARA) {
            pending = 1;
            /* the next token starts a paragraph */
            if (i + 1 < n_tok)
                while (d->n_pstart <= tok[i + 1].para)
                    if (QT_PUSH(d, pstart, (int32_t)(i + 1)) != 0)
                        return;
        } else if (tk->q >= 0) {
            const qt_quote_t *q = &d->q[tk->q];
            /* "... probably not." He left. */
            if ((int32_t)i == q->close && q->ce > q->cs && (q->flags & QF_ENDS_STOP) &&
                starts_sentence(d, i + 1))
                pending = 1;
        } else if (tk->kind == TK_WORD) {
            if ((tk->flags & TF_DOTTED) && starts_sentence_strong(d, i + 1))
                pending = 1;
        } else if (tk->kind == TK_PUNCT) {
            if (tk_stop(d, (int32_t)i)) {
                size_t j = i + 1;
                while (j < n_tok && tok[j].kind == TK_PUNCT &&
                       (tok[j].cp == ')' || tok[j].cp == ']' || tk_stop(d, (int32_t)j)))
                    j++;
                if (starts_sentence(d, j))
                    pending = 1;
            } else if (tk->cp == '.' && (tk->flags & TF_ABBR) && i > 0 &&
                       !(tok[i - 1].lex & LX_TITLE) && starts_sentence_strong(d, i + 1)) {
                pending = 1;
            }
        }
        if (pending && i + 1 < n_tok && tok[i + 1].kind != TK_PARA)
            start_sentence(d, i + 1);
    }
    if (d->oom)
        return;
    /* each token's sentence: a paragraph break belongs to the sentence
     * before it */
    /* four stores per loop test, the last group running up to three
     * tokens into the next sentence, which then writes them again (the
     * last sentence into the array's room past n_tok: qt_tokenize leaves
     * three slots) */
    for (size_t s = 0; s < d->n_sstart; s++) {
        size_t from = (size_t)d->sstart[s];
        size_t to = s + 1 < d->n_sstart ? (size_t)d->sstart[s + 1] : n_tok;
        for (size_t k = from; k < to; k += 4) {
            tok[k].sent = (uint32_t)s;
            tok[k + 1].sent = (uint32_t)s;
            tok[k + 2].sent = (uint32_t)s;
            tok[k + 3].sent = (uint32_t)s;
        }
    }
    if (d->n_sstart == 0)
        (void)QT_PUSH(d, sstart, 0);
    /* the title-case paragraphs and TF_NAMEY: only capitalised words
     * (d->caps) can be names */
    caps_pass(d);
}
