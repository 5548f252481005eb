/*
 * bp_text.c - the plain-text (and Markdown) path: split the text into
 * blocks (lines, and sentences glued together without a space), compute
 * jusText/trafilatura-style features per block (length, stop-word density,
 * sentence punctuation, capitalisation, link density, phrase patterns, cue
 * words), classify each block, find the main body as the maximum-weight run
 * of blocks, keep the header lines just before it, and cut the rest.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_doc.h"

enum bp_cls { C_GOOD = 1, C_NEAR, C_SHORT, C_BAD, C_BOILER, C_EMPTY };

enum bp_bflags {
    BF_SENT_END = 1,     /* ends like a sentence (. ! ? …) */
    BF_COLON_END = 2,    /* ends with a colon */
    BF_URL = 4,          /* holds a URL */
    BF_MD_HEADING = 8,   /* "# Heading" */
    BF_DATE = 16,        /* a date line */
    BF_BYLINE = 32,      /* "By Jane Doe" */
    BF_PIPES = 64,       /* "A | B | C" */
    BF_BULLET = 128,     /* "- item", "• item" */
    BF_QUOTE_START = 256,/* starts with a quotation mark */
    BF_DUP = 512,        /* same text as an earlier kept block */
    BF_SLASH = 1024,     /* "Name / Agency" */
    BF_COPY = 2048,      /* holds a copyright sign */
    BF_URL_ONLY = 4096,  /* nothing but a URL */
    BF_ARROW = 8192,     /* starts with a link arrow: "» ", "› ", "→ ", ">> " */
    BF_TABLE = 16384,    /* a row of a numeric table (or its heading) */
    BF_COLON_LABELS = 32768, /* two or more "Label: value" pairs (a fact box) */
    BF_POST_SIG = 65536, /* "— Name (@handle) November 4, 2019": an embedded post's signature */
    BF_ENUM = 131072,    /* "2. Heading", "3) Heading": a numbered item */
    BF_PRICE = 262144,   /* holds a price: "$200", "£23.99", "€30" */
};

typedef struct bp_block {
    uint32_t cs, ce;   /* content bytes, trimmed */
    uint32_t tok0, ntok;
    uint32_t nalpha, nstop, nupper, ncaps, ndigit, ncue;
    uint32_t link_bytes, nbytes;
    uint32_t nsent;    /* sentence boundaries inside the block */
    uint32_t flags;
    uint32_t pat_opts;
    int kind;          /* boilerplate kind, -1 = none */
    int cue_kind;      /* kind whose cue words the block holds most, -1 */
    int cap0, cap1;    /* captured name tokens of a metadata/reprint match */
    int pat_kind;      /* kind from a pattern (before propagation) */
    int pat;           /* the matching pattern, or -1 */
    uint8_t cls;
    uint8_t keep;
    uint8_t glued;     /* continues the previous block on the same line */
    uint8_t header;    /* kept as header (title, byline, date) */
    uint8_t list;      /* an item of a list introduced by "...:" in the body */
    float w;
    uint32_t sp_tok;   /* teaser split: first token of the prose (0 = none) */
    uint32_t sp_end, sp_rest; /* ... the teaser's end, the prose's start */
} bp_block_t;

/* ---- block segmentation ---- */

static int bp__add_block(bp_scratch_t *s, size_t *nb, uint32_t cs, uint32_t ce, int glued)
{
    if (*nb >= s->capblocks && bp_grow(&s->blocks, &s->capblocks, *nb + 1, sizeof(bp_block_t)) != 0)
        return -1;
    bp_block_t *b = &((bp_block_t *)s->blocks)[(*nb)++];
    memset(b, 0, sizeof *b);
    b->cs = cs;
    b->ce = ce;
    b->glued = (uint8_t)glued;
    b->kind = b->cue_kind = b->pat_kind = b->pat = -1;
    b->cap0 = b->cap1 = -1;
    return 0;
}

static int bp__is_upper_at(const char *t, size_t i, size_t end)
{
    unsigned char c = (unsigned char)t[i];
    if (c < 0x80)
        return c >= 'A' && c <= 'Z';
    size_t j = i;
    return (bp_cclass(bp_utf8_next(t, end, &j)) & BP_CC_UPPER) != 0;
}

/* Bytes the per-block scans look at: 1 = sentence end, 2 = other. */
static const unsigned char bp__punct[256] = {
    ['.'] = 1, ['!'] = 1, ['?'] = 1, ['/'] = 2, ['|'] = 2, [0xC2] = 2, [':'] = 4,
};

/* Split one line [cs, ce) at glue points: "difference.Vladimir" (a sentence
 * end directly followed by an upper-case letter, after a lower-case word). */
static int bp__split_line(bp_scratch_t *s, size_t *nb, const char *t, uint32_t cs, uint32_t ce)
{
    uint32_t start = cs;
    int glued = 0;
    const bp_scan_t *sc = &s->scan;
    /* only the bytes of bp__punct can be glue points */
    bp_scan_iter_t it;
    for (uint32_t i = (uint32_t)bp_scan_iter_init(&it, sc, BP_SC_PUNCT, cs + 2, ce); i + 1 < ce;
         i = (uint32_t)bp_scan_iter_next(&it)) {
        unsigned char c = (unsigned char)t[i];
        if (!(bp__punct[c] & 1))
            continue;
        unsigned char a = (unsigned char)t[i - 1], b = (unsigned char)t[i - 2];
        if (!(a >= 'a' && a <= 'z') || !(b >= 'a' && b <= 'z'))
            continue;
        if (!bp__is_upper_at(t, i + 1, ce))
            continue;
        /* "www.Example" and file names are not glue: need a space before
         * in the left part and a lower-case letter after in the right part */
        uint32_t k = i + 2;
        while (k < ce && k < i + 6 && (unsigned char)t[k] >= 0x80)
            k++;
        if (k >= ce || !(((unsigned char)t[k] >= 'a' && (unsigned char)t[k] <= 'z') ||
                         (unsigned char)t[k] >= 0x80))
            continue;
        if (memchr(t + start, ' ', i - start) == NULL)
            continue;
        if (bp__add_block(s, nb, start, i + 1, glued) != 0)
            return -1;
        glued = 1;
        start = i + 1;
    }
    return bp__add_block(s, nb, start, ce, glued);
}

static int bp__segment(bp_scratch_t *s, size_t *nb, const char *t, size_t len)
{
    size_t i = 0;
    *nb = 0;
    while (i < len) {
        const char *nl = memchr(t + i, '\n', len - i);
        size_t le = nl ? (size_t)(nl - t) : len;
        size_t cs = i, ce = le;
        while (cs < ce && bp_is_ascii_space((unsigned char)t[cs]))
            cs++;
        while (ce > cs && bp_is_ascii_space((unsigned char)t[ce - 1]))
            ce--;
        /* NBSP-only lines are blank too */
        while (cs + 1 < ce && (unsigned char)t[cs] == 0xC2 && (unsigned char)t[cs + 1] == 0xA0)
            cs += 2;
        if (ce > cs && bp__split_line(s, nb, t, (uint32_t)cs, (uint32_t)ce) != 0)
            return -1;
        i = le + 1;
    }
    return 0;
}

/* ---- features ---- */

/* Is the byte at t[i] the end of a UTF-8 closing quote or bracket? Returns
 * the sequence's length (0 when not). */
static size_t bp__closer_len(const char *t, size_t cs, size_t i)
{
    unsigned char c = (unsigned char)t[i];
    if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '*' || c == '_')
        return 1;
    if (i >= cs + 2 && (unsigned char)t[i - 2] == 0xE2 && (unsigned char)t[i - 1] == 0x80 &&
        (c == 0x9D || c == 0x99))
        return 3; /* ” ’ */
    if (i >= cs + 1 && (unsigned char)t[i - 1] == 0xC2 && c == 0xBB)
        return 2; /* » */
    return 0;
}

/* Does t[k, e) hold "://"?  Only at a ':' of the punctuation bitmap. */
static int bp__has_scheme(const char *t, const bp_scan_t *sc, size_t k, size_t e)
{
    bp_scan_iter_t it;
    for (size_t i = bp_scan_iter_init(&it, sc, BP_SC_PUNCT, k, e); i + 3 <= e; i = bp_scan_iter_next(&it))
        if (t[i] == ':' && t[i + 1] == '/' && t[i + 2] == '/')
            return 1;
    return 0;
}

/* sc: the text's bitmaps, or NULL (the HTML path's teasers) */
static void bp__ending(const char *t, bp_block_t *b, const bp_scan_t *sc)
{
    size_t i = b->ce;
    size_t guard = 0;
    int url_end = 0;
    /* a sentence may end with a link after it ("Tickets: http://...",
     * "... as reported. www.example.com"): judge the text before it (a
     * colon there introduces the link, not a list) */
    /* (a space among the last 8 bytes makes the last word too short: the
     * 8 bytes are tested at once) */
    uint64_t sp8 = 0;
    if (i >= b->cs + 8) {
        uint64_t x = bp_load_le64(t + i - 8) ^ UINT64_C(0x2020202020202020);
        sp8 = (x - UINT64_C(0x0101010101010101)) & ~x & UINT64_C(0x8080808080808080);
    }
    if (sp8 == 0) {
        size_t k = i;
        while (k > b->cs && t[k - 1] != ' ')
            k--;
        if (k > b->cs && i - k >= 8 &&
            ((sc != NULL ? bp__has_scheme(t, sc, k, i) : memmem(t + k, i - k, "://", 3) != NULL) ||
             memcmp(t + k, "www.", 4) == 0)) {
            while (k > b->cs && t[k - 1] == ' ')
                k--;
            i = k;
            url_end = 1;
        }
    }
    while (i > b->cs && guard++ < 8) {
        size_t n = bp__closer_len(t, b->cs, i - 1);
        if (n == 0)
            break;
        i -= n;
    }
    if (i <= b->cs)
        return;
    unsigned char c = (unsigned char)t[i - 1];
    if (c == '.' || c == '!' || c == '?')
        b->flags |= BF_SENT_END;
    else if (c == ':')
        b->flags |= url_end ? BF_SENT_END : BF_COLON_END;
    else if (i >= b->cs + 3 && (unsigned char)t[i - 3] == 0xE2 && (unsigned char)t[i - 2] == 0x80 &&
             c == 0xA6)
        b->flags |= BF_SENT_END; /* … */
    else if (i >= b->cs + 3 && (unsigned char)t[i - 3] == 0xE3 && (unsigned char)t[i - 2] == 0x80 &&
             c == 0x82)
        b->flags |= BF_SENT_END; /* 。 */
}

static void bp__surface(const char *t, bp_block_t *b, const bp_scan_t *sc)
{
    const unsigned char *u = (const unsigned char *)t;
    uint32_t cs = b->cs, ce = b->ce;
    b->nbytes = ce - cs;
    unsigned char c0 = u[cs];
    if (c0 == '#')
        b->flags |= BF_MD_HEADING;
    if (c0 >= '1' && c0 <= '9') {
        uint32_t k = cs + 1;
        if (k < ce && u[k] >= '0' && u[k] <= '9')
            k++;
        if (k + 2 < ce && (u[k] == '.' || u[k] == ')') && u[k + 1] == ' ' &&
            ((u[k + 2] >= 'A' && u[k + 2] <= 'Z') || u[k + 2] == '"' || u[k + 2] == 0xE2))
            b->flags |= BF_ENUM;
    }
    if ((c0 == '-' || c0 == '*' || c0 == '+') && cs + 1 < ce && u[cs + 1] == ' ')
        b->flags |= BF_BULLET;
    if (ce - cs >= 3 && c0 == 0xE2 && u[cs + 1] == 0x80 && u[cs + 2] == 0xA2)
        b->flags |= BF_BULLET; /* • */
    if (c0 == '"' || (ce - cs >= 3 && c0 == 0xE2 && u[cs + 1] == 0x80 &&
                      (u[cs + 2] == 0x9C || u[cs + 2] == 0x98)))
        b->flags |= BF_QUOTE_START;
    /* a link arrow before a headline: » › → ▶ ► >> */
    if ((ce - cs >= 3 && c0 == 0xC2 && u[cs + 1] == 0xBB && u[cs + 2] == ' ') ||
        (ce - cs >= 4 && c0 == 0xE2 && u[cs + 3] == ' ' &&
         ((u[cs + 1] == 0x80 && u[cs + 2] == 0xBA) || (u[cs + 1] == 0x86 && u[cs + 2] == 0x92) ||
          (u[cs + 1] == 0x96 && (u[cs + 2] == 0xB6 || u[cs + 2] == 0xBA)))) ||
        (ce - cs >= 3 && c0 == '>' && u[cs + 1] == '>' && u[cs + 2] == ' '))
        b->flags |= BF_ARROW;
    unsigned pipes = 0, labels = 0;
    bp_scan_iter_t it;
    for (uint32_t i = (uint32_t)bp_scan_iter_init(&it, sc, BP_SC_PUNCT, cs, ce); i < ce;
         i = (uint32_t)bp_scan_iter_next(&it)) {
        unsigned char c = u[i];
        if ((c == '.' || c == '!' || c == '?') && i + 2 < ce && u[i + 1] == ' ' &&
            ((u[i + 2] >= 'A' && u[i + 2] <= 'Z') || u[i + 2] == '"' || u[i + 2] == 0xE2) &&
            i > cs && u[i - 1] >= 'a' && u[i - 1] <= 'z')
            b->nsent++;
        else if (c == '/' && i > cs && i + 1 < ce && u[i - 1] == ' ' && u[i + 1] == ' ')
            b->flags |= BF_SLASH;
        else if (c == 0xC2 && i + 1 < ce && u[i + 1] == 0xA9)
            b->flags |= BF_COPY;
        else if (c == '|')
            pipes++;
        else if (c == ':' && i + 2 < ce && u[i + 1] == '/' && u[i + 2] == '/')
            b->flags |= BF_URL; /* "://" */
        else if (c == ':' && i > cs && i + 1 < ce && u[i + 1] == ' ' &&
                 ((u[i - 1] | 0x20) >= 'a' && (u[i - 1] | 0x20) <= 'z'))
            labels++;
        if (c == '.' && i >= cs + 3 && u[i - 1] == 'w' && u[i - 2] == 'w' && u[i - 3] == 'w')
            b->flags |= BF_URL; /* "www." */
    }
    /* a product line ending in its price ("Sonos Move for $400"): a
     * currency sign and a number that runs to the block's end */
    if (ce - cs <= 160) {
        uint32_t e = ce;
        while (e > cs && ((u[e - 1] >= '0' && u[e - 1] <= '9') || u[e - 1] == '.' || u[e - 1] == ','))
            e--;
        if (e < ce && u[e] >= '0' && u[e] <= '9' &&
            ((e >= cs + 1 && u[e - 1] == '$') ||
             (e >= cs + 2 && u[e - 2] == 0xC2 && u[e - 1] == 0xA3) ||
             (e >= cs + 3 && u[e - 3] == 0xE2 && u[e - 2] == 0x82 && u[e - 1] == 0xAC)))
            b->flags |= BF_PRICE;
    }
    unsigned spaces = (b->flags & BF_URL) && memchr(u + cs, ' ', ce - cs) != NULL;
    if (pipes >= 2)
        b->flags |= BF_PIPES;
    if (labels >= 2)
        b->flags |= BF_COLON_LABELS;
    if ((b->flags & BF_URL) && spaces == 0)
        b->flags |= BF_URL_ONLY;
}

/* ---- the algorithm ---- */

typedef struct bp_tctx {
    const bp_conf_t *c;
    bp_scratch_t *s;
    const char *t;
    size_t len;
    int markdown;
    int lang;          /* language index, -1 unknown */
    bp_block_t *b;
    size_t nb;
} bp_tctx_t;

/* ---- teasers: "(RELATED: Headline) The article goes on ..." ---- */

static int bp__open_quote_at(const char *t, uint32_t i, uint32_t lo)
{
    unsigned char c = (unsigned char)t[i];
    if (c == '"' || c == '\'' || c == '(')
        return 1;
    if (i >= lo + 2 && (unsigned char)t[i - 2] == 0xE2 && (unsigned char)t[i - 1] == 0x80 &&
        (c == 0x9C || c == 0x98))
        return 3; /* “ ‘ */
    if (i >= lo + 1 && (unsigned char)t[i - 1] == 0xC2 && c == 0xAB)
        return 2; /* « */
    return 0;
}

/* A token that is written like part of a title: capitalised, all caps, a
 * number, or a word with a capital inside ("iPhone"). */
static int bp__titleword(const char *t, const bp_tok_t *k)
{
    if (k->flags & (BP_TF_UPPER | BP_TF_CAPS | BP_TF_DIGIT))
        return 1;
    for (uint32_t i = k->start + 1; i < k->end; i++)
        if (t[i] >= 'A' && t[i] <= 'Z')
            return 1;
    return 0;
}

/* Does the text [cs, ce) (tokens tk[0..n)) start with a labelled teaser of
 * another story ("(RELATED: Headline [VIDEO])", "SEE ALSO: Headline",
 * "More: Headline") followed by the article's own prose?  Then return the
 * index of the prose's first token and fill *tend (the teaser's end) and
 * *rest (the prose's first byte).  Without prose after it the whole line
 * is a teaser (the ordinary pattern match removes it): 0. */
uint32_t bp_teaser_split(const bp_conf_t *c, const char *t, uint32_t cs, uint32_t ce,
                         const bp_tok_t *tk, uint32_t n, int lang, uint32_t *tendp,
                         uint32_t *restp)
{
    if (n < 8)
        return 0;
    int bracket = t[cs] == '(' || t[cs] == '[';
    uint32_t look = ce - cs < 48 ? ce - cs : 48;
    if (!bracket && memchr(t + cs, ':', look) == NULL)
        return 0;
    const bp_lex_t *lex = &c->lex;
    bp_blockinfo_t bi = {t, cs, ce, 0};
    bp_match_t m;
    if (!bp_lex_match_teaser(lex, tk, n, &bi, &m) || m.t1 >= n)
        return 0;
    uint32_t lab_end = tk[m.t1 - 1].end;
    uint32_t k = 0, tend = 0, rest = 0;
    if (bracket) {
        /* the teaser runs to the bracket that closes the opening one */
        char open = t[cs], close = open == '(' ? ')' : ']';
        int depth = 1;
        uint32_t q = cs + 1;
        for (; q < ce; q++) {
            if (t[q] == open)
                depth++;
            else if (t[q] == close && --depth == 0)
                break;
        }
        if (q >= ce || q < lab_end)
            return 0;
        tend = q + 1;
        for (k = m.t1; k < n && tk[k].start < tend; k++)
            ;
        if (k >= n)
            return 0;
        rest = tend;
        while (rest < ce && (t[rest] == ' ' || t[rest] == '-'))
            rest++;
    } else {
        /* "LABEL: Title Case Headline The article's sentence ...": the
         * headline ends before the last capitalised word ahead of the
         * first lower-case content word */
        if (!bp__titleword(t, &tk[m.t1]))
            return 0;
        uint32_t j = m.t1, cap = 0;
        for (; j < n; j++) {
            int stop = tk[j].wi != UINT32_MAX && lex->winfo[tk[j].wi].langs != 0;
            if (bp__titleword(t, &tk[j])) {
                if (tk[j].flags & (BP_TF_UPPER | BP_TF_CAPS))
                    cap = j;
            } else if (!stop) {
                break;
            }
        }
        if (j >= n || cap < m.t1 + 2)
            return 0;
        k = cap;
        rest = tk[k].start;
        for (int g = 0; g < 3 && rest > lab_end; g++) {
            int ql = bp__open_quote_at(t, rest - 1, lab_end);
            if (ql == 0)
                break;
            rest -= (uint32_t)ql;
        }
        tend = rest;
    }
    while (tend > cs && t[tend - 1] == ' ')
        tend--;
    /* the rest is a sentence of prose */
    if (n - k < 6 || rest >= ce || tend <= cs)
        return 0;
    bp_block_t r = {.cs = rest, .ce = ce};
    bp__ending(t, &r, NULL);
    if (!(r.flags & BF_SENT_END))
        return 0;
    if (lang >= 0) {
        uint32_t stop = 0, alpha = 0;
        for (uint32_t i = k; i < n; i++) {
            alpha += (tk[i].flags & BP_TF_ALPHA) != 0;
            stop += tk[i].wi != UINT32_MAX && (lex->winfo[tk[i].wi].langs & (1u << lang));
        }
        if (stop < c->min_stop_density * alpha)
            return 0;
    }
    *tendp = tend;
    *restp = rest;
    return k;
}

static void bp__teaser(const bp_tctx_t *x, bp_block_t *b)
{
    b->sp_tok = bp_teaser_split(x->c, x->t, b->cs, b->ce, x->s->toks.v + b->tok0, b->ntok, x->lang,
                                &b->sp_end, &b->sp_rest);
}

/* Split the blocks bp__teaser marked in two: the teaser, then the prose
 * (glued, so it is joined to what comes before it on output). */
static int bp__split_teasers(bp_tctx_t *x)
{
    size_t extra = 0;
    for (size_t i = 0; i < x->nb; i++) {
        bp__teaser(x, &x->b[i]);
        extra += x->b[i].sp_tok != 0;
    }
    if (extra == 0)
        return 0;
    bp_scratch_t *s = x->s;
    if (bp_grow(&s->blocks, &s->capblocks, x->nb + extra, sizeof(bp_block_t)) != 0)
        return -1;
    bp_block_t *b = s->blocks;
    size_t d = x->nb + extra;
    for (size_t i = x->nb; i-- > 0;) {
        bp_block_t o = b[i];
        if (o.sp_tok) {
            bp_block_t r = o;
            r.cs = o.sp_rest;
            r.tok0 = o.tok0 + o.sp_tok;
            r.ntok = o.ntok - o.sp_tok;
            r.glued = 1;
            r.sp_tok = 0;
            b[--d] = r;
            o.ce = o.sp_end;
            o.ntok = o.sp_tok;
            o.sp_tok = 0;
        }
        b[--d] = o;
    }
    x->b = b;
    x->nb += extra;
    return 0;
}

/* Stop-word hits per language in toks[0, lim) (lim: at most 4000) into
 * cnt[BP_MAX_LANGS]. */
static void bp__lang_counts(const bp_lex_t *lex, const bp_tok_t *toks, size_t lim, unsigned *cnt)
{
    for (size_t i = 0; i < lim; i++) {
        if (toks[i].wi == UINT32_MAX)
            continue;
        uint32_t m = lex->winfo[toks[i].wi].langs;
        while (m) {
            int l = __builtin_ctz(m);
            cnt[l]++;
            m &= m - 1;
        }
    }
}

_Static_assert(BP_LANG_TOKENS < 65536, "the language counts are 16-bit lanes");

/* The text's language from the hint, else from cnt (stop-word hits per
 * language in the first lim tokens), or -1. */
static int bp__detect_lang(const bp_lex_t *lex, const unsigned *cnt, size_t lim, const char *hint)
{
    if (hint != NULL) {
        for (int i = 0; i < lex->nlangs; i++)
            if (strncmp(lex->langs[i], hint, 2) == 0)
                return i;
    }
    int best = -1;
    unsigned bc = 0;
    for (int l = 0; l < lex->nlangs; l++)
        if (cnt[l] > bc) {
            bc = cnt[l];
            best = l;
        }
    /* too few hits to trust (or a language without a list) */
    if (best >= 0 && (bc * 20 < (unsigned)lim || bc < 3))
        return -1;
    return best;
}

static void bp__features(bp_tctx_t *x, bp_block_t *b)
{
    const bp_lex_t *lex = &x->c->lex;
    const bp_tok_t *tk = x->s->toks.v + b->tok0;
    unsigned cue[32];
    uint32_t cuemask = 0, nstop = 0;
    uint32_t langbit = x->lang >= 0 ? 1u << x->lang : 0;
    const uint64_t *wlc = lex->wlc;
    /* the counts of letter words (BP_TF_ALPHA), of those with a capital
     * first (BP_TF_UPPER) or all capitals (BP_TF_CAPS), and of numbers
     * (BP_TF_DIGIT), in the 32-bit lanes of a vector: one look-up by
     * flags & 15 and one addition per token, no chain of increments
     * through memory (a block has fewer than 2^32 tokens) */
    typedef uint32_t bp__v4 __attribute__((vector_size(16)));
    static const bp__v4 bp__fv[16] = {
#define BP__FV(f) {((f) & 8) != 0, ((f) & 9) == 9, ((f) & 10) == 10, ((f) & 4) != 0}
        BP__FV(0), BP__FV(1), BP__FV(2),  BP__FV(3),  BP__FV(4),  BP__FV(5),  BP__FV(6),  BP__FV(7),
        BP__FV(8), BP__FV(9), BP__FV(10), BP__FV(11), BP__FV(12), BP__FV(13), BP__FV(14), BP__FV(15),
#undef BP__FV
    };
    bp__v4 fv = {0, 0, 0, 0};
    for (uint32_t i = 0; i < b->ntok; i++) {
        fv += bp__fv[tk[i].flags & 15];
        /* (an unknown word, wi + 1 == 0, reads zeros: no branch) */
        uint64_t lc = wlc[(uint32_t)(tk[i].wi + 1)];
        nstop += ((uint32_t)lc & langbit) != 0;
        uint32_t m = (uint32_t)(lc >> 32);
        if (m) {
            uint32_t fresh = m & ~cuemask;
            cuemask |= m;
            while (m) {
                int k = __builtin_ctz(m);
                cue[k] = (fresh >> k & 1) ? 1 : cue[k] + 1;
                m &= m - 1;
            }
        }
    }
    /* (BP_TF_UPPER 1, CAPS 2, DIGIT 4, ALPHA 8; upper and caps count
     * only with ALPHA) */
    b->nalpha += fv[0];
    b->nupper += fv[1];
    b->ncaps += fv[2];
    b->ndigit += fv[3];
    b->nstop += nstop;
    /* the kind with most cue words, the first of equals */
    unsigned bc = 0;
    for (uint32_t m = cuemask; m; m &= m - 1) {
        int k = __builtin_ctz(m);
        if (cue[k] > bc) {
            bc = cue[k];
            b->cue_kind = k;
        }
    }
    b->ncue = bc;
    bp__ending(x->t, b, &x->s->scan);
    bp__surface(x->t, b, &x->s->scan);
    if (x->markdown) {
        size_t lb = 0, nl = 0;
        bp_md_link_stats(x->t + b->cs, b->ce - b->cs, &lb, &nl);
        b->link_bytes = (uint32_t)lb;
    }
}

/* Effective length in words: for scripts without spaces, bytes / 6. */
static double bp__words(const bp_tctx_t *x, const bp_block_t *b)
{
    double w = b->nalpha;
    if (x->lang < 0) {
        double alt = (double)b->nbytes / 6.0;
        if (alt > w)
            w = alt;
    }
    return w;
}

static void bp__classify(bp_tctx_t *x, bp_block_t *b)
{
    const bp_conf_t *c = x->c;
    const bp_lex_t *lex = &c->lex;
    const bp_tok_t *tk = x->s->toks.v + b->tok0;
    double words = bp__words(x, b);
    double sd = b->nalpha ? (double)b->nstop / b->nalpha : 0;
    int sent = (b->flags & BF_SENT_END) != 0;
    int lang_ok = x->lang >= 0;
    double link = b->nbytes ? (double)b->link_bytes / b->nbytes : 0;

    /* metadata lines */
    if (b->ntok <= 14) {
        char iso[32];
        if (bp_meta_date(lex, x->t, tk, b->ntok, iso, sizeof iso))
            b->flags |= BF_DATE;
        bp_match_t m;
        bp_blockinfo_t bi = {x->t, b->cs, b->ce, sent};
        if (b->ntok <= 10 && bp_lex_match(lex, tk, b->ntok, &bi, BP_META_BYLINE, &m)) {
            b->flags |= BF_BYLINE;
            b->cap0 = m.cap0;
            b->cap1 = m.cap1;
        }
    }

    /* boilerplate phrases */
    bp_match_t m;
    bp_blockinfo_t bi = {x->t, b->cs, b->ce, sent};
    if (b->ntok > 0 && bp_lex_match(lex, tk, b->ntok, &bi, 0, &m)) {
        const bp_pattern_t *p = &lex->pats[m.pat];
        int prose = words >= 25 && sent && (!lang_ok || sd >= c->min_stop_density);
        if (!((p->opts & BP_PO_SOFT) && prose)) {
            b->kind = b->pat_kind = p->kind;
            b->pat = m.pat;
            b->pat_opts = p->opts;
            if (m.cap0 >= 0) {
                b->cap0 = m.cap0;
                b->cap1 = m.cap1;
            }
            b->cls = C_BOILER;
            b->w = (float)(-(4.0 + words));
            return;
        }
    }

    if (b->ntok == 0) {
        b->cls = C_EMPTY;
        b->w = 0;
        return;
    }
    /* structural furniture: a bare URL, "Name / Agency" credits, (c) lines */
    int sk = -1;
    if (b->flags & BF_URL_ONLY)
        sk = c->k.source_url;
    else if (x->markdown && x->t[b->cs] == '!' && b->cs + 1 < b->ce && x->t[b->cs + 1] == '[' &&
             b->link_bytes * 10 >= b->nbytes * 9)
        sk = c->k.photo_credit; /* a Markdown image on its own line */
    else if ((b->flags & BF_SLASH) && b->ntok <= 8 && !sent)
        sk = c->k.photo_credit;
    else if ((b->flags & BF_COPY) && b->ntok <= 30)
        sk = c->k.copyright;
    if (sk >= 0) {
        b->kind = b->pat_kind = sk;
        b->cls = C_BOILER;
        b->w = (float)(-(4.0 + words));
        return;
    }
    int sentish = sent || ((b->flags & BF_COLON_END) && words >= 8) || b->nsent >= 2;
    int digits = b->ntok && b->ndigit * 10 > b->ntok * 3;
    if (link >= 0.6 && b->nbytes > 0) {
        b->cls = C_BAD;
        b->kind = words >= 4 ? c->k.related_link : c->k.navigation;
    } else if (words >= c->min_good_words && (lang_ok ? sd >= c->min_stop_density : 1) &&
               sentish && link < 0.35 && !digits && !(b->flags & BF_PIPES)) {
        b->cls = C_GOOD;
    } else if (words >= 5 && (sentish || (b->flags & BF_QUOTE_START)) && !digits &&
               (lang_ok ? sd >= c->min_stop_density * 0.5 : 1)) {
        b->cls = C_NEAR;
    } else if (sent && words >= 2 && b->nstop >= 1) {
        b->cls = C_NEAR; /* "We may." */
    } else if (words <= 4 || (b->flags & BF_PIPES) ||
               (b->nalpha && b->nupper * 10 >= b->nalpha * 8 && sd < 0.15 && words <= 12)) {
        b->cls = C_BAD;
    } else {
        b->cls = C_SHORT;
    }
    switch (b->cls) {
    case C_GOOD:
        b->w = (float)(words - 6.0);
        break;
    case C_NEAR:
        b->w = (float)(words * 0.25);
        break;
    case C_SHORT:
        b->w = (words >= 5 && (!lang_ok || sd >= 0.3)) ? 0.5f : -2.0f;
        break;
    default:
        b->w = (float)(-(2.0 + 0.5 * words));
        break;
    }
    if ((b->flags & (BF_DATE | BF_BYLINE)) && b->cls != C_GOOD)
        b->w = -1.0f;
    /* the signature line under an embedded post (a quoted tweet) belongs
     * to the quotation */
    if ((b->flags & BF_DATE) && b->ntok <= 14 && b->cls != C_GOOD) {
        const unsigned char *u = (const unsigned char *)x->t + b->cs;
        size_t n = b->ce - b->cs;
        int dash = (n > 3 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x94 || u[2] == 0x93)) ||
                   (n > 2 && u[0] == '-' && u[1] == ' ');
        if (dash && memmem(u, n, "(@", 2) != NULL) {
            b->flags |= BF_POST_SIG;
            b->cls = C_NEAR;
            b->w = 0.5f;
        }
    }
}

/* Cue-word blocks next to a pattern-matched block of the same kind take
 * that kind; so does a block sandwiched between two of them. */
static void bp__propagate(bp_tctx_t *x)
{
    bp_block_t *b = x->b;
    size_t nb = x->nb;
    for (int pass = 0; pass < 2; pass++) {
        int changed = 0;
        for (size_t d = 0; d < 2; d++) {
            for (size_t k = 0; k < nb; k++) {
                size_t i = d == 0 ? k : nb - 1 - k;
                size_t j = d == 0 ? i + 1 : i - 1;
                if (d == 0 ? i + 1 >= nb : i == 0)
                    continue;
                if (b[i].cls != C_BOILER || b[j].cls == C_BOILER)
                    continue;
                int kind = b[i].kind;
                int dens = b[j].nalpha && b[j].ncue * 100 >= b[j].nalpha * 5;
                if (b[j].cue_kind == kind && b[j].ncue >= 1 && (b[j].ncue >= 2 || b[j].nalpha <= 12) &&
                    dens) {
                    b[j].cls = C_BOILER;
                    b[j].kind = kind;
                    b[j].w = (float)(-(4.0 + b[j].nalpha));
                    changed = 1;
                }
            }
        }
        for (size_t i = 1; i + 1 < nb; i++) {
            if (b[i].cls != C_BOILER && b[i - 1].cls == C_BOILER && b[i + 1].cls == C_BOILER &&
                b[i - 1].kind == b[i + 1].kind && b[i - 1].kind >= 0 &&
                b[i - 1].pat_kind != x->c->k.related_link &&
                /* an article paragraph between two captions stays */
                (b[i].cls != C_GOOD || (b[i].cue_kind == b[i - 1].kind && b[i].ncue >= 1))) {
                b[i].cls = C_BOILER;
                b[i].kind = b[i - 1].kind;
                b[i].w = (float)(-(4.0 + b[i].nalpha));
                changed = 1;
            }
        }
        if (!changed)
            break;
    }
    /* "block" patterns ("Related", "Share this") take the following
     * non-prose blocks along. */
    for (size_t i = 0; i < nb; i++) {
        if (b[i].cls != C_BOILER || !(b[i].pat_opts & BP_PO_BLOCK))
            continue;
        int kind = b[i].kind;
        size_t j = i + 1;
        for (; j < nb && j < i + 40; j++) {
            if (b[j].cls == C_GOOD)
                break;
            if (b[j].cls == C_BOILER) {
                if (b[j].kind == kind)
                    continue;
                break;
            }
            /* a long block of ordinary prose ends the list, with or
             * without a full stop */
            if ((b[j].cls == C_NEAR || b[j].cls == C_SHORT) && bp__words(x, &b[j]) >= 15 &&
                (x->lang < 0 || b[j].nstop >= x->c->min_stop_density * b[j].nalpha))
                break;
            b[j].cls = C_BOILER;
            b[j].kind = kind;
            b[j].w = (float)(-(2.0 + b[j].nalpha));
        }
        i = j - 1;
    }
}

/* Mark blocks [from, to] as boilerplate of kind, weighted as a phrase match
 * is, except those whose class is in keep (a mask of 1 << class). */
static void bp__mark(bp_block_t *b, size_t from, size_t to, int kind, unsigned keep)
{
    for (size_t k = from; k <= to; k++) {
        if (keep & (1u << b[k].cls))
            continue;
        b[k].cls = C_BOILER;
        b[k].kind = kind;
        b[k].w = (float)(-(2.0 + b[k].nalpha));
    }
}

/* Cards of other stories: the same "Read more" line recurring every few
 * blocks (headline, byline, summary, "Read more") three or more times.
 * Every block of those cards, the first one's too, is a related link. */
#define BP_CARD_MAX_PERIOD 5
#define BP_CARD_MIN 3
static void bp__cards(bp_tctx_t *x)
{
    bp_block_t *b = x->b;
    size_t nb = x->nb;
    size_t i = 0;
    int read_more = x->c->k.read_more;
    while (i < nb) {
        if (b[i].cls != C_BOILER || b[i].pat < 0 || x->c->lex.pats[b[i].pat].mode != BP_PM_LINE ||
            (b[i].pat_kind != read_more && b[i].pat_kind != x->c->k.related_link)) {
            i++;
            continue;
        }
        int pat = b[i].pat;
        size_t first = i, last = i, n = 1, period = 0;
        for (size_t j = i + 1; j < nb && j <= last + BP_CARD_MAX_PERIOD; j++) {
            if (b[j].pat != pat)
                continue;
            if (j - last > period)
                period = j - last;
            last = j;
            n++;
        }
        /* a card holds no long prose */
        int longp = 0;
        for (size_t k = first; k <= last && !longp; k++)
            longp = b[k].cls == C_GOOD && bp__words(x, &b[k]) > 40;
        if (n >= BP_CARD_MIN && period >= 2 && !longp) {
            size_t s0 = first >= period - 1 ? first - (period - 1) : 0;
            bp__mark(b, s0, last, x->c->k.related_link, 1u << C_BOILER);
        }
        i = last + 1;
    }
}

/* Teasers of other stories behind link arrows: three or more headlines
 * starting with "»" (or "›", "→", ">>") at most three blocks apart, each
 * with its blurb, are related links, blurbs included. */
#define BP_ARROW_MIN 3
#define BP_ARROW_GAP 3
static void bp__arrow_cards(bp_tctx_t *x)
{
    bp_block_t *b = x->b;
    size_t nb = x->nb;
    size_t i = 0;
    while (i < nb) {
        if (!(b[i].flags & BF_ARROW) || b[i].ntok > 16) {
            i++;
            continue;
        }
        size_t first = i, last = i, n = 1;
        for (size_t j = i + 1; j < nb && j <= last + BP_ARROW_GAP; j++) {
            if ((b[j].flags & BF_ARROW) && b[j].ntok <= 16) {
                last = j;
                n++;
            }
        }
        if (n >= BP_ARROW_MIN) {
            /* the last headline's blurb */
            size_t end = last;
            if (last + 1 < nb && !(b[last + 1].flags & BF_ARROW) && b[last + 1].cls != C_BOILER &&
                bp__words(x, &b[last + 1]) <= 60)
                end = last + 1;
            bp__mark(b, first, end, x->c->k.related_link, 1u << C_BOILER | 1u << C_EMPTY);
            i = end + 1;
        } else {
            i = last + 1;
        }
    }
}

/* A row of a numeric table: mostly numbers ("3 Kevin Harvick 5033 4 6 15
 * 26", "Chelsea 12 8 2 2 26"). */
static int bp__numrow(const bp_block_t *b)
{
    return b->cls != C_BOILER && b->cls != C_GOOD && b->ntok >= 4 && b->ntok <= 30 &&
           b->ndigit >= 3 && b->ndigit * 2 >= b->ntok;
}

/* Tables of numbers (standings, results, statistics) are content:
 * BP_MIN_ROWS or more numeric rows in a row, with the heading line just
 * above them, neither count against the body nor break it. */
#define BP_MIN_ROWS 4
static void bp__tables(bp_tctx_t *x)
{
    bp_block_t *b = x->b;
    size_t nb = x->nb;
    size_t i = 0;
    while (i < nb) {
        if (!bp__numrow(&b[i])) {
            i++;
            continue;
        }
        size_t j = i, rows = 0;
        while (j < nb && (b[j].cls == C_EMPTY || bp__numrow(&b[j]))) {
            rows += b[j].cls != C_EMPTY;
            j++;
        }
        if (rows >= BP_MIN_ROWS) {
            size_t h = i;
            /* the column heading */
            if (h > 0 && b[h - 1].cls != C_BOILER && b[h - 1].cls != C_GOOD &&
                b[h - 1].cls != C_EMPTY && b[h - 1].ntok <= 16 && !(b[h - 1].flags & BF_SENT_END))
                h--;
            for (size_t k = h; k < j; k++) {
                if (b[k].cls == C_EMPTY)
                    continue;
                b[k].flags |= BF_TABLE;
                b[k].list = 1;
                b[k].w = 0.5f;
            }
        }
        i = j;
    }
}

/* Does block p name, among its first 12 words, one of the words
 * tk[k0, k1) (a person's name)? */
static int bp__names(const bp_tctx_t *x, const bp_block_t *p, uint32_t k0, uint32_t k1)
{
    const bp_tok_t *pt = x->s->toks.v + p->tok0, *nt = x->s->toks.v;
    uint32_t lim = p->ntok < 12 ? p->ntok : 12;
    for (uint32_t i = 0; i < lim; i++)
        for (uint32_t k = k0; k < k1; k++)
            if (pt[i].h == nt[k].h && (nt[k].flags & BP_TF_UPPER) &&
                (nt[k].wi == UINT32_MAX || x->c->lex.winfo[nt[k].wi].langs == 0))
                return 1;
    return 0;
}

/* The author's biography after the article: a line that is a name
 * ("Jane Doe", "About Jane Doe"), then the last paragraph of prose on the
 * page, which names that person and holds author_bio cue words ("Jane
 * joined the paper in 2017 and covers ...").  Both are author_bio. */
static void bp__author_bio(bp_tctx_t *x)
{
    bp_block_t *b = x->b;
    size_t nb = x->nb;
    int bio = x->c->k.author_bio;
    if (bio < 0)
        return;
    const bp_lex_t *lex = &x->c->lex;
    for (size_t i = 0; i + 1 < nb; i++) {
        if (b[i].cls != C_BAD && b[i].cls != C_SHORT)
            continue;
        if (b[i].ntok < 2 || b[i].ntok > 4 || b[i].nalpha != b[i].ntok ||
            (b[i].flags & (BF_SENT_END | BF_COLON_END | BF_DATE | BF_BYLINE)))
            continue;
        /* two or more capitalised words that are no stop words */
        const bp_tok_t *nt = x->s->toks.v + b[i].tok0;
        uint32_t names = 0;
        for (uint32_t k = 0; k < b[i].ntok; k++)
            names += (nt[k].flags & BP_TF_UPPER) &&
                     (nt[k].wi == UINT32_MAX || lex->winfo[nt[k].wi].langs == 0);
        if (names < 2)
            continue;
        size_t j = i + 1;
        while (j < nb && b[j].cls == C_EMPTY)
            j++;
        if (j >= nb || (b[j].cls != C_GOOD && b[j].cls != C_NEAR) || b[j].cue_kind != bio ||
            b[j].ncue < 1 || !bp__names(x, &b[j], b[i].tok0, b[i].tok0 + b[i].ntok))
            continue;
        /* the last prose on the page: a name over a paragraph inside an
         * article is a subhead */
        int more = 0;
        for (size_t k = j + 1; k < nb && k <= j + 10 && !more; k++)
            more = b[k].cls == C_GOOD;
        if (more)
            continue;
        bp__mark(b, i, j, bio, 1u << C_EMPTY);
    }
}

/* A short block that reads like prose (a bullet point, a subhead): it
 * neither breaks the body nor counts as furniture. */
static int bp__proselike(const bp_tctx_t *x, const bp_block_t *b)
{
    if (b->cls == C_GOOD || b->cls == C_NEAR)
        return 1;
    if (b->cls != C_SHORT)
        return 0;
    double w = bp__words(x, b);
    if (x->lang < 0)
        return w >= 5;
    return w >= 5 && b->nstop * 10 >= b->nalpha * 3;
}

/* Maximum-weight contiguous run of blocks (Kadane) within [0, lim).  A run
 * of BP_HARD_GAP or more blocks without prose is a hard boundary: an
 * article body does not continue across a whole block of page furniture. */
#define BP_HARD_GAP 5
/* the body resumes after a gap at a paragraph of this many words within
 * this many blocks */
#define BP_RESUME_WORDS 40
#define BP_RESUME_SPAN 20
#define BP_BOILER_GAP_W 4.0

static int bp__body(const bp_tctx_t *x, size_t lim, size_t *a, size_t *z)
{
    double best = 0, cur = 0;
    size_t cs = 0, gap = 0;
    int found = 0;
    for (size_t i = 0; i < lim; i++) {
        const bp_block_t *b = &x->b[i];
        /* blocks a phrase list names count half (they are cut anyway);
         * the non-prose blocks a "Related" header took along, not at all */
        if (b->cls == C_BOILER)
            gap += b->pat >= 0 || b->pat_kind >= 0 ? 1 : 0;
        else if (b->cls != C_EMPTY && !(b->flags & BF_TABLE))
            gap = bp__proselike(x, b) ? 0 : gap + 2;
        if (gap >= 2 * BP_HARD_GAP)
            cur = 0;
        if (cur <= 0) {
            cur = 0;
            cs = i;
        }
        /* a block a phrase list names is dropped wherever it sits, so it
         * weakens the body around it only a little (an image line or a
         * "Related:" link inside an article must not split it) */
        double w = x->b[i].w;
        if (b->cls == C_BOILER && w < -BP_BOILER_GAP_W)
            w = -BP_BOILER_GAP_W;
        cur += w;
        if (cur > best) {
            best = cur;
            *a = cs;
            *z = i;
            found = 1;
        }
    }
    return found;
}

/* A row of a schedule or a results list: starts with a number or a month
 * name, has a few words after it, is no phrase-list match. */
static int bp__datarow(const bp_tctx_t *x, const bp_block_t *b)
{
    if (b->cls == C_BOILER || b->cls == C_GOOD || b->ntok < 4 || b->ntok > 30)
        return 0;
    const bp_tok_t *t0 = &x->s->toks.v[b->tok0];
    if (t0->flags & BP_TF_DIGIT)
        return 1;
    return t0->wi != UINT32_MAX && x->c->lex.winfo[t0->wi].month != 0 &&
           (t0[1].flags & BP_TF_DIGIT);
}

static int bp__headerish(const bp_tctx_t *x, const bp_block_t *b)
{
    if (b->flags & (BF_DATE | BF_BYLINE))
        return 1;
    if (b->flags & BF_MD_HEADING)
        return 1;
    double w = bp__words(x, b);
    if (b->cls == C_BAD && w < 3)
        return 0;
    if ((b->flags & (BF_PIPES | BF_URL)) && !((b->flags & BF_COLON_LABELS) && w >= 6))
        return 0;
    return w >= 3 && w <= 45;
}

static void bp__text_meta(bp_tctx_t *x, bp_result_t *r, size_t a)
{
    const bp_conf_t *c = x->c;
    const bp_lex_t *lex = &c->lex;
    bp_block_t *b = x->b;
    const bp_tok_t *toks = x->s->toks.v;
    /* title: the first header line that is not a byline or date, else a
     * Markdown heading before the body */
    for (size_t i = 0; i < x->nb && i <= a; i++) {
        if (!b[i].header)
            continue;
        if (b[i].flags & (BF_DATE | BF_BYLINE))
            continue;
        const char *s = x->t + b[i].cs;
        size_t n = b[i].ce - b[i].cs;
        while (n && *s == '#') {
            s++;
            n--;
        }
        bp_buf_t tmp = {0};
        if (bp_md_reduce(s, n, &tmp) == 0 && tmp.len)
            bp_result_set(&r->title, tmp.p, tmp.len);
        bp_buf_free(&tmp);
        break;
    }
    for (size_t i = 0; i < x->nb && i <= a + 2 && i < x->nb; i++) {
        if ((b[i].flags & BF_BYLINE) && r->byline.len == 0) {
            const bp_tok_t *tk = toks + b[i].tok0;
            if (b[i].cap0 >= 0) {
                uint32_t s0 = tk[b[i].cap0].start, s1 = tk[b[i].cap1 - 1].end;
                bp_result_set(&r->byline, x->t + s0, s1 - s0);
            } else {
                bp_result_set(&r->byline, x->t + b[i].cs, b[i].ce - b[i].cs);
            }
            if (r->syndicated.len == 0)
                bp_meta_agency(lex, tk, b[i].ntok, &r->syndicated);
        }
        if ((b[i].flags & BF_DATE) && r->published.len == 0) {
            bp_result_set(&r->published, x->t + b[i].cs, b[i].ce - b[i].cs);
            bp_meta_date(lex, x->t, toks + b[i].tok0, b[i].ntok, r->published_iso,
                         sizeof r->published_iso);
        }
    }
    /* syndication: a reprint notice's captured name wins */
    for (size_t i = 0; i < x->nb; i++) {
        if (b[i].kind == c->k.reprint_notice && b[i].cap0 >= 0) {
            const bp_tok_t *tk = toks + b[i].tok0;
            uint32_t s0 = tk[b[i].cap0].start, s1 = tk[b[i].cap1 - 1].end;
            bp_result_set(&r->syndicated, x->t + s0, s1 - s0);
            break;
        }
    }
    /* a wire dateline in the first body block: "(Reuters) -", "DALLAS (AP) —" */
    if (r->syndicated.len == 0 && a < x->nb) {
        const bp_block_t *f = &b[a];
        const char *s = x->t + f->cs;
        size_t n = f->ce - f->cs;
        if (n > 80)
            n = 80;
        const char *o = memchr(s, '(', n);
        if (o != NULL) {
            const char *cl = memchr(o, ')', n - (size_t)(o - s));
            if (cl != NULL && cl - o < 40) {
                bp_toks_t t2 = {0};
                if (bp_tokenize(o + 1, 0, (size_t)(cl - o - 1), &t2) == 0 && t2.n > 0) {
                    bp_lex_lookup(lex, t2.v, t2.n);
                    /* tokens index o+1; bp_meta_agency copies the name from lex */
                    bp_meta_agency(lex, t2.v, t2.n, &r->syndicated);
                }
                free(t2.v);
            }
        }
    }
}

int bp_text_clean(const bp_conf_t *c, bp_scratch_t *s, const char *t, size_t len, int markdown,
                  const char *lang_hint, bp_result_t *r)
{
    bp_tctx_t x = {.c = c, .s = s, .t = t, .len = len, .markdown = markdown};
    unsigned lcnt[BP_MAX_LANGS];
    size_t nb = 0;
    r->path = markdown ? "markdown" : "text";
    if (bp_scan_build(&s->scan, t, len) != 0 || bp__segment(s, &nb, t, len) != 0)
        return -1;
    bp_block_t *b = s->blocks;
    x.b = b;
    x.nb = nb;
    /* tokens for all blocks: the whole text's, shared out to the blocks
     * (words never cross a block's edge: blocks end at white space or
     * after a sentence's full stop); should a token lie across an edge
     * or outside every block, each block is tokenized on its own */
    s->toks.n = 0;
    bp_scan_split_gp(&s->scan, t, c->lex.u3gp, BP_CC_WORD);
    /* stop-word hits per language among the first BP_LANG_TOKENS tokens
     * (16-bit lanes), counted by the tokenizer when it can */
    uint64_t acc[8] = {0};
    int counted = c->lex.langq == 4;
    if ((counted ? bp_tokenize_text_langs(t, &s->scan, &c->lex, &s->toks, acc)
                 : bp_tokenize_text(t, &s->scan, &c->lex, &s->toks)) != 0)
        return -1;
    {
        bp_tok_t *tk = s->toks.v;
        size_t n = s->toks.n, k = 0;
        size_t lim = n < BP_LANG_TOKENS ? n : BP_LANG_TOKENS;
        int ok = 1;
        /* tokens are sorted and do not overlap: only a block's first
         * token can start before it, only its last one end after it */
        for (size_t i = 0; i < nb && ok; i++) {
            uint32_t cs = b[i].cs, ce = b[i].ce;
            if (k < n && tk[k].start < cs)
                ok = 0;
            size_t k0 = k;
            /* the first token at or after ce: gallop, then halve */
            if (k < n && tk[k].start < ce) {
                size_t lo = k, step = 1; /* tk[lo].start < ce */
                while (lo + step < n && tk[lo + step].start < ce) {
                    lo += step;
                    step *= 2;
                }
                size_t hi = lo + step < n ? lo + step : n; /* tk[hi].start >= ce, or hi == n */
                while (hi - lo > 1) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (tk[mid].start < ce)
                        lo = mid;
                    else
                        hi = mid;
                }
                k = hi;
            }
            if (k > k0 && tk[k - 1].end > ce)
                ok = 0;
            b[i].tok0 = (uint32_t)k0;
            b[i].ntok = (uint32_t)(k - k0);
        }
        /* the language counts of more than 16 languages (bp_tokenize_text
         * looked the words up) */
        if (ok && k == n && !counted) {
            const uint64_t *ll = c->lex.langlanes;
            for (size_t j = 0; j < lim; j++) {
                uint32_t v = tk[j].wi;
                if (v != UINT32_MAX)
                    for (size_t q = 0; q < 8; q++)
                        acc[q] += ll[8 * (size_t)v + q];
            }
        }
        if (!ok || k != n)
            memset(acc, 0, sizeof acc);
        if (!ok || k != n) {
            s->toks.n = 0;
            for (size_t i = 0; i < nb; i++) {
                b[i].tok0 = (uint32_t)s->toks.n;
                if (bp_tokenize_in(t, b[i].cs, b[i].ce, len, &c->lex, &s->toks) != 0)
                    return -1;
                b[i].ntok = (uint32_t)s->toks.n - b[i].tok0;
            }
            bp_lex_lookup(&c->lex, s->toks.v, s->toks.n);
        }
        /* (only the loaded languages are read: bp__detect_lang) */
        for (int l = 0; l < c->lex.nlangs; l++)
            lcnt[l] = (unsigned)(acc[l / 4] >> (16 * (l % 4))) & 0xFFFF;
        if (!ok || k != n)
            bp__lang_counts(&c->lex, s->toks.v, s->toks.n < BP_LANG_TOKENS ? s->toks.n : BP_LANG_TOKENS,
                            lcnt);
    }
    x.lang = bp__detect_lang(&c->lex, lcnt, s->toks.n < BP_LANG_TOKENS ? s->toks.n : BP_LANG_TOKENS,
                             lang_hint);
    if (x.lang >= 0)
        bp_result_set(&r->lang, c->lex.langs[x.lang], strlen(c->lex.langs[x.lang]));
    if (bp__split_teasers(&x) != 0)
        return -1;
    b = x.b;
    nb = x.nb;
    size_t ngood = 0;
    for (size_t i = 0; i < nb; i++) {
        bp__features(&x, &b[i]);
        bp__classify(&x, &b[i]);
        if (b[i].cls == C_GOOD)
            ngood++;
    }
    bp__propagate(&x);
    bp__cards(&x);
    bp__arrow_cards(&x);
    bp__tables(&x);
    bp__author_bio(&x);

    size_t a = 0, z = 0;
    int short_doc = nb <= (size_t)c->short_doc_blocks || ngood == 0;
    /* A comments header after the article ends it: reader comments look
     * like prose, so the body may not run past it. */
    size_t lim = nb;
    {
        double goodw = 0;
        for (size_t i = 0; i < nb; i++) {
            if (b[i].cls == C_GOOD)
                goodw += bp__words(&x, &b[i]);
            if (b[i].cls == C_BOILER && b[i].pat_kind == c->k.comments && goodw >= 50) {
                lim = i;
                break;
            }
        }
    }
    if (short_doc || !bp__body(&x, lim, &a, &z)) {
        /* No article structure to find: only drop what the phrase lists
         * name. */
        for (size_t i = 0; i < nb; i++)
            b[i].keep = b[i].cls != C_BOILER;
        a = 0;
        z = nb ? nb - 1 : 0;
        while (a < nb && !b[a].keep)
            a++;
    } else {
        /* a long paragraph of prose shortly after the body, past a photo
         * gallery or a block of captions, continues the article */
        for (int more = 1; more;) {
            more = 0;
            for (size_t k = z + 1; k < lim && k <= z + BP_RESUME_SPAN; k++) {
                if (b[k].cls == C_BOILER && b[k].pat_kind != c->k.photo_credit &&
                    b[k].pat_kind >= 0 && b[k].pat_kind != c->k.navigation)
                    break;
                if (b[k].cls != C_GOOD)
                    continue;
                size_t k1 = k;
                double wsum = bp__words(&x, &b[k]);
                while (k1 + 1 < lim && (b[k1 + 1].cls == C_GOOD || b[k1 + 1].cls == C_NEAR)) {
                    k1++;
                    wsum += bp__words(&x, &b[k1]);
                }
                if (wsum >= BP_RESUME_WORDS) {
                    z = k1;
                    more = 1;
                    break;
                }
                k = k1;
            }
        }
        /* ... and so does one shortly before it (an introduction above an
         * inline list of related stories) */
        for (int more = 1; more;) {
            more = 0;
            for (size_t k = a; k-- > 0 && k + BP_RESUME_SPAN >= a;) {
                if (b[k].cls == C_BOILER && b[k].pat_kind == c->k.comments)
                    break;
                if (b[k].cls != C_GOOD)
                    continue;
                /* a run of prose paragraphs of BP_RESUME_WORDS in all */
                size_t k0 = k;
                double wsum = bp__words(&x, &b[k]);
                while (k0 > 0 && (b[k0 - 1].cls == C_GOOD || b[k0 - 1].cls == C_NEAR)) {
                    k0--;
                    wsum += bp__words(&x, &b[k0]);
                }
                if (wsum >= BP_RESUME_WORDS) {
                    a = k0;
                    more = 1;
                    break;
                }
                k = k0;
            }
        }
        /* teasers of other stories at the end of the body: two or more
         * (headline, one-sentence summary) pairs */
        {
            size_t zz = z, cut = z;
            int pairs = 0;
            while (zz > a + 1) {
                size_t sm = zz;
                while (sm > a && b[sm].cls == C_EMPTY)
                    sm--;
                size_t hd = sm;
                if (hd > a)
                    hd--;
                while (hd > a && b[hd].cls == C_EMPTY)
                    hd--;
                if (hd <= a || hd == sm)
                    break;
                double ws = bp__words(&x, &b[sm]), wh = bp__words(&x, &b[hd]);
                int summary = (b[sm].cls == C_GOOD || b[sm].cls == C_NEAR) && ws <= 25 &&
                              b[sm].nsent == 0;
                int headline = (b[hd].cls == C_SHORT || b[hd].cls == C_BAD) && wh >= 3 &&
                               wh <= 16 && !(b[hd].flags & (BF_SENT_END | BF_COLON_END | BF_DATE));
                if (!summary || !headline)
                    break;
                pairs++;
                cut = hd - 1;
                zz = hd - 1;
            }
            if (pairs >= 2 && cut >= a) {
                for (size_t k = cut + 1; k <= z; k++)
                    if (b[k].kind < 0 && b[k].cls != C_EMPTY)
                        b[k].kind = c->k.related_link;
                z = cut;
            }
        }
        /* lists introduced by a line ending in a colon ("Tour dates:")
         * belong to the body, also at its end */
        for (size_t i = a; i < nb && i <= z + 1; i++) {
            if (!(b[i].flags & BF_COLON_END) || b[i].nalpha < 3 || b[i].cls == C_BOILER)
                continue;
            size_t j = i + 1;
            while (j < nb && j < i + 200 &&
                   (b[j].cls == C_SHORT || b[j].cls == C_BAD || b[j].cls == C_NEAR)) {
                b[j].list = 1;
                j++;
            }
            if (j - 1 > z && j > i + 1) {
                z = j - 1;
                if (i > z)
                    z = i;
            }
            if (i > z)
                z = i;
        }
        /* rows of dates or numbers right after the body (tour dates,
         * results, a schedule), with at most one heading before them */
        {
            size_t r0 = z + 1;
            while (r0 < lim && b[r0].cls == C_EMPTY)
                r0++;
            size_t h0 = r0;
            if (r0 < lim && !bp__datarow(&x, &b[r0]) && b[r0].cls != C_BOILER && b[r0].ntok <= 12)
                r0++;
            size_t r1 = r0, rows = 0;
            while (r1 < lim && (b[r1].cls == C_EMPTY || bp__datarow(&x, &b[r1]))) {
                rows += b[r1].cls != C_EMPTY;
                r1++;
            }
            if (rows >= BP_MIN_ROWS) {
                for (size_t k = h0; k < r1; k++)
                    b[k].list = 1;
                z = r1 - 1;
                while (z > 0 && b[z].cls == C_EMPTY)
                    z--;
            }
        }
        /* the body does not end on a short line that is no sentence (the
         * headline of another story, a caption): an article's last block
         * is a paragraph, a list (or the line that introduces it), a table
         * or a note in brackets */
        while (z > a) {
            const bp_block_t *e = &b[z];
            if (e->cls != C_EMPTY && (e->cls == C_GOOD ||
                                      (e->flags & (BF_SENT_END | BF_COLON_END | BF_TABLE | BF_POST_SIG)) ||
                                      e->list || bp__words(&x, e) >= 20 ||
                                      (x.t[e->cs] == '(' && x.t[e->ce - 1] == ')')))
                break;
            z--;
        }
        for (size_t i = a; i <= z; i++)
            b[i].keep = b[i].cls != C_BOILER;
        /* runs of two or more non-prose blocks inside the body are chrome
         * (empty blocks neither break nor count) */
        /* ... except the numbered headings of a list article (two or
         * more "2. Heading" lines in the body) */
        size_t nenum = 0;
        for (size_t k = a; k <= z; k++)
            nenum += (b[k].flags & BF_ENUM) && b[k].cls != C_GOOD && b[k].cls != C_BOILER;
        size_t i = a;
        while (i <= z) {
            if ((b[i].cls == C_SHORT || b[i].cls == C_BAD) && !b[i].list && !bp__proselike(&x, &b[i]) &&
                !(b[i].flags & BF_PRICE)) {
                size_t j = i, cnt = 0;
                /* a caption under a gallery counter or a photo credit */
                size_t pv = i;
                while (pv > a && b[pv - 1].cls == C_EMPTY)
                    pv--;
                if (pv > a && b[pv - 1].cls == C_BOILER && b[pv - 1].kind == c->k.photo_credit)
                    cnt++;
                /* a product line with its price ("Sonos Move for $400") is
                 * the article's and ends the run */
                while (j <= z && !b[j].list && !bp__proselike(&x, &b[j]) && !(b[j].flags & BF_PRICE) &&
                       (b[j].cls == C_SHORT || b[j].cls == C_BAD || b[j].cls == C_EMPTY)) {
                    if (b[j].cls != C_EMPTY)
                        cnt++;
                    j++;
                }
                if (cnt >= 2) {
                    for (size_t k = i; k < j; k++) {
                        if ((b[k].flags & BF_MD_HEADING) || b[k].cls == C_EMPTY ||
                            ((b[k].flags & BF_ENUM) && nenum >= 2))
                            continue;
                        b[k].keep = 0;
                        if (b[k].kind < 0)
                            b[k].kind = c->k.navigation;
                    }
                }
                i = j;
            } else {
                i++;
            }
        }
        /* header lines just before the body */
        size_t i2 = a, taken = 0, seen = 0;
        int standfirst = 0, title_taken = 0, nmeta = 0;
        while (i2 > 0 && seen < 10 && taken < 5 && !title_taken) {
            i2--;
            seen++;
            if (b[i2].cls == C_BOILER)
                continue;
            if (!bp__headerish(&x, &b[i2]))
                break;
            /* bylines and datelines, the standfirst, then the headline,
             * which ends the header: headlines of other stories above it
             * are not taken */
            int plain = !(b[i2].flags & (BF_DATE | BF_BYLINE | BF_MD_HEADING));
            int meta = (b[i2].flags & (BF_DATE | BF_BYLINE)) != 0;
            if (plain && (b[i2].flags & BF_SENT_END) && standfirst)
                break;
            /* a date or byline above the headline only when there was
             * none below it (archive lists "March (11)" are not dates) */
            if (meta && standfirst && nmeta > 0)
                break;
            nmeta += meta;
            /* a short line without a full stop right above the dateline
             * is the headline itself */
            if (plain && !standfirst && nmeta > 0 && !(b[i2].flags & BF_SENT_END) &&
                bp__words(&x, &b[i2]) <= 8)
                title_taken = 1;
            else if (plain && !standfirst)
                standfirst = 1;
            else if (plain)
                title_taken = 1;
            b[i2].header = 1;
            b[i2].keep = (uint8_t)c->keep_header;
            if (!c->keep_header)
                b[i2].kind = c->k.header;
            taken++;
        }
        for (size_t k = 0; k < nb; k++) {
            if (b[k].keep || b[k].kind >= 0)
                continue;
            if (k < a)
                b[k].kind = (b[k].cls == C_BAD || b[k].cls == C_SHORT) ? c->k.navigation
                                                                        : c->k.low_content;
            else if (k > z)
                b[k].kind = (b[k].cls == C_BAD || b[k].cls == C_SHORT) ? c->k.footer
                                                                        : c->k.low_content;
        }
    }
    /* an empty block (separator, stray symbol) stays only between kept ones */
    for (size_t i = 0; i < nb; i++) {
        if (b[i].cls != C_EMPTY || !b[i].keep)
            continue;
        size_t p = i, q = i;
        while (p > 0 && b[p - 1].cls == C_EMPTY)
            p--;
        while (q + 1 < nb && b[q + 1].cls == C_EMPTY)
            q++;
        if (p == 0 || q + 1 >= nb || !b[p - 1].keep || !b[q + 1].keep) {
            b[i].keep = 0;
            b[i].kind = c->k.markup;
        }
    }
    /* drop repeated blocks (a headline printed twice); a sentence that
     * recurs further apart (the same question put to each interviewee)
     * is the article's */
    {
        /* up to 64 distinct kept blocks, by length then bytes */
        uint32_t plen[64];
        size_t previ[64];
        size_t np = 0;
        for (size_t i = 0; i < nb; i++) {
            if (!b[i].keep || b[i].nbytes > 400)
                continue;
            uint32_t bl = b[i].ce - b[i].cs;
            size_t dup = SIZE_MAX, dk = 0;
            for (size_t k = 0; k < np; k++)
                if (plen[k] == bl && memcmp(t + b[previ[k]].cs, t + b[i].cs, bl) == 0) {
                    dup = previ[k];
                    dk = k;
                }
            int sentence = b[i].cls == C_GOOD ||
                           (b[i].cls == C_NEAR && (b[i].flags & BF_SENT_END) && i > dup + 3);
            if (dup != SIZE_MAX && (!sentence || b[i].header)) {
                b[i].keep = 0;
                b[i].kind = c->k.low_content;
            } else if (dup == SIZE_MAX && np < 64) {
                previ[np] = i;
                plen[np++] = bl;
            } else if (dup != SIZE_MAX) {
                previ[dk] = i;
            }
        }
    }
    bp__text_meta(&x, r, a);
#ifdef BP_DEBUG
    {
        static const char *cn[] = {"?", "GOOD", "NEAR", "SHORT", "BAD", "BOIL", "EMPTY"};
        fprintf(stderr, "---- doc nb=%zu body=[%zu,%zu] lang=%d\n", nb, a, z, x.lang);
        for (size_t i = 0; i < nb; i++)
            fprintf(stderr, "%c%c %3zu %-5s w=%6.1f k=%-14s n=%u sd=%.2f f=%x %s | %.*s\n",
                    b[i].keep ? '+' : '-', b[i].header ? 'H' : ' ', i, cn[b[i].cls], b[i].w,
                    b[i].kind >= 0 ? c->lex.kinds[b[i].kind] : "", b[i].nalpha,
                    b[i].nalpha ? (double)b[i].nstop / b[i].nalpha : 0.0, b[i].flags,
                    b[i].pat >= 0 ? strrchr(c->lex.pats[b[i].pat].src, ':') : "",
                    (int)(b[i].ce - b[i].cs > 110 ? 110 : b[i].ce - b[i].cs), t + b[i].cs);
    }
#endif

    /* removed spans */
    for (size_t i = 0; i < nb; i++)
        if (!b[i].keep)
            if (bp_result_span(r, c, b[i].cs, b[i].ce, b[i].kind >= 0 ? b[i].kind : c->k.low_content) != 0)
                return -1;

    /* output: kept blocks with their original separators; a run of
     * consecutive kept blocks is one slice of the text (the separator of
     * neighbours is the text between them), copied at once */
    int md = markdown && c->markdown_links;
    size_t ps = 0, pe = 0; /* the slice pending, when pe > ps */
    long prev = -1;
    for (size_t i = 0; i < nb; i++) {
        if (!b[i].keep)
            continue;
        if (!md && prev >= 0 && (size_t)prev + 1 == i) {
            pe = b[i].ce;
            prev = (long)i;
            continue;
        }
        if (pe > ps && bp_buf_put(&r->out, t + ps, pe - ps) != 0)
            return -1;
        ps = pe = 0;
        if (prev >= 0) {
            size_t p = (size_t)prev;
            const char *sep = t + b[p].ce;
            size_t sl = (p + 1 < nb ? b[p + 1].cs : len) - b[p].ce;
            if ((size_t)prev + 1 != i && memchr(sep, '\n', sl) == NULL) {
                /* the block after prev was cut from prev's line: find the
                 * line break that follows */
                int found = 0;
                for (size_t k = p + 1; k < i; k++) {
                    const char *s2 = t + b[k].ce;
                    size_t l2 = b[k + 1].cs - b[k].ce;
                    if (memchr(s2, '\n', l2) != NULL) {
                        sep = s2;
                        sl = l2;
                        found = 1;
                        break;
                    }
                }
                if (!found && b[i].glued) {
                    sep = " ";
                    sl = 1;
                }
            }
            if (bp_buf_put(&r->out, sep, sl) != 0)
                return -1;
        }
        if (md) {
            if (bp_md_reduce(t + b[i].cs, b[i].ce - b[i].cs, &r->out) != 0)
                return -1;
        } else {
            ps = b[i].cs;
            pe = b[i].ce;
        }
        prev = (long)i;
    }
    if (pe > ps && bp_buf_put(&r->out, t + ps, pe - ps) != 0)
        return -1;
    if (r->out.p == NULL && bp_buf_put(&r->out, "", 0) != 0)
        return -1;
    return 0;
}
