/*
 * text.c - the tokenizer and sentence splitter (see text.h).  One pass, no
 * backtracking beyond the current whitespace-separated chunk, so the cost is
 * linear in the text whatever it holds.
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

void st_doc_init(st_doc_t *d) { memset(d, 0, sizeof *d); }

void st_doc_free(st_doc_t *d)
{
    free(d->tok);
    free(d->sent);
    free(d->low);
    free(d->slist);
    free(d->cand);
    free(d->capw);
    free(d->scand);
    memset(d, 0, sizeof *d);
}

/* Decode one code point of valid UTF-8; returns its length. */
static inline size_t st__cp(const unsigned char *s, size_t len, int32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0 && len >= 2) {
        *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if ((c & 0xF0) == 0xE0 && len >= 3) {
        *cp = ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if ((c & 0xF8) == 0xF0 && len >= 4) {
        *cp = ((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    *cp = 0xFFFD; /* not reached on valid input */
    return 1;
}

/* Character classes. */
enum { CC_SPACE, CC_NEWLINE, CC_WORD, CC_CONNECT, CC_PUNCT, CC_SYMBOL };

/* ASCII bytes: class bits, so the hot loops classify a byte with one load. */
enum {
    AB_SPACE = 1u << 0,   /* ' ' \t \f \v */
    AB_NEWLINE = 1u << 1, /* \n \r */
    AB_WORD = 1u << 2,    /* letter or digit */
    AB_UPPER = 1u << 3,
    AB_LOWER = 1u << 4,
    AB_DIGIT = 1u << 5,
    AB_CONNECT = 1u << 6, /* ' - . & _ : joins word pieces */
};
#define AB_U (AB_WORD | AB_UPPER)
#define AB_L (AB_WORD | AB_LOWER)
#define AB_D (AB_WORD | AB_DIGIT)
#define AB_C AB_CONNECT
static const uint8_t st__ascii[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, AB_SPACE, AB_NEWLINE, AB_SPACE, AB_SPACE, AB_NEWLINE, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    AB_SPACE, 0, 0, 0, 0, 0, AB_C, AB_C, 0, 0, 0, 0, 0, AB_C, AB_C, 0,
    AB_D, AB_D, AB_D, AB_D, AB_D, AB_D, AB_D, AB_D, AB_D, AB_D, 0, 0, 0, 0, 0, 0,
    0, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U,
    AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, AB_U, 0, 0, 0, 0, AB_C,
    0, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L,
    AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, AB_L, 0, 0, 0, 0, 0,
};

/* ASCII letters and digits: 1 (every other byte, non-ASCII too: 0), for the
 * word-run loop (one load and test a byte). */
static const uint8_t st__alnum[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* ASCII bytes inside a token: what kind of character (TF_UP is 0x20, the
 * bit that lower-cases A-Z). */
enum { TF_LO = 1, TF_DG = 2, TF_WD = 4, TF_UP = 0x20 };
#define W_ TF_WD
#define U_ TF_UP
#define L_ TF_LO
#define D_ TF_DG
static const uint8_t st__tokf[128] = {
    W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_,
    W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_,
    W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_, W_,
    D_, D_, D_, D_, D_, D_, D_, D_, D_, D_, W_, W_, W_, W_, W_, W_,
    W_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_,
    U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, W_, W_, W_, W_, W_,
    W_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_,
    L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, W_, W_, W_, W_, W_,
};
#undef W_
#undef U_
#undef L_
#undef D_

/* Eight ASCII bytes at a time (SWAR).  Each test below sets a byte's high
 * bit when the byte (below 0x80, so no carry crosses bytes) is in range. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ST_SWAR 1
#define ST_ONES 0x0101010101010101ull
#define ST_HIGH 0x8080808080808080ull
static inline uint64_t st__load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}
/* x: bytes below 0x80.  A-Z, a-z, 0-9 as high bits. */
static inline uint64_t st__upper8(uint64_t x) { return (x + ST_ONES * 0x3F) & ~(x + ST_ONES * 0x25) & ST_HIGH; }
static inline uint64_t st__lower8(uint64_t x) { return (x + ST_ONES * 0x1F) & ~(x + ST_ONES * 0x05) & ST_HIGH; }
static inline uint64_t st__digit8(uint64_t x) { return (x + ST_ONES * 0x50) & ~(x + ST_ONES * 0x46) & ST_HIGH; }
/* Bytes that end an ASCII word run: not A-Z a-z 0-9, or not ASCII. */
static inline uint64_t st__nonword8(uint64_t w)
{
    uint64_t x = w & ~ST_HIGH;
    return ((st__upper8(x) | st__lower8(x) | st__digit8(x)) ^ ST_HIGH) | (w & ST_HIGH);
}
/* Bytes that may end a chunk: below 0x21 (space, controls) or not ASCII.
 * Exact for the lowest such byte, which is all the callers use. */
static inline uint64_t st__stop8(uint64_t w) { return (((w - ST_ONES * 0x21) & ~w) | w) & ST_HIGH; }
#endif

static inline int st__class(int32_t cp)
{
    if (cp < 0x80) {
        if (cp == '\n' || cp == '\r')
            return CC_NEWLINE;
        if (cp == ' ' || cp == '\t' || cp == '\f' || cp == '\v')
            return CC_SPACE;
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
            return CC_WORD;
        if (cp == '\'' || cp == '-' || cp == '.' || cp == '&' || cp == '_')
            return CC_CONNECT;
        return CC_PUNCT;
    }
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC)
        return CC_CONNECT; /* typographic apostrophes */
    if (cp == 0x2028 || cp == 0x2029 || cp == 0x85)
        return CC_NEWLINE;
    if (cp == 0x201C || cp == 0x201D || cp == 0x2014 || cp == 0x2013 || cp == 0x2026)
        return CC_PUNCT; /* the news' quotation marks, dashes, ellipsis (Pi Pf Pd Po) */
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return CC_WORD;
    case UTF8PROC_CATEGORY_ZS:
        return CC_SPACE;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_CS:
        return CC_SYMBOL; /* candidates for emoji; ZWJ (Cf) too */
    default:
        return CC_PUNCT;
    }
}

static int st__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (np == NULL)
        return 0;
    *p = np;
    *cap = nc;
    return 1;
}

typedef struct st_state {
    st_doc_t *d;
    const sl_lexicon_t *lx;
    const unsigned char *s;
    size_t len;
    int in_quote;
    int pending_end;      /* sentence ends before the next token */
    int quote_pending;    /* a quotation mark since the last token */
    size_t sent_start;    /* byte where the open sentence starts, or SIZE_MAX */
    size_t last_end;      /* end of the last non-space character */
    size_t sent_tok;      /* first token of the open sentence */
    unsigned excl, quest;
    size_t emoji, caps;   /* emoji description tokens; word tokens in capitals */
    size_t looked;        /* tokens before this one are looked up and listed */
    int oom;              /* an allocation failed where no error could be returned */
} st_state_t;

/* The lexicon lookups of the tokens made since the last call (their slots
 * were prefetched when they were hashed), once per sentence, while the
 * tokens are still in cache; as each finishes, the token's eflags are set
 * (its entry's flags: what the scorer gives a token it does not set up)
 * and it is listed in d->cand when the pronoun pass reads it (an entry
 * whose form has 3 bytes, "the", or a pronoun), in d->capw when a name may
 * start at it (TK_CAP or TK_WEIRD) and in d->scand when the scorer sets it
 * up.  Room in the lists is made once per call (each entry is written, the
 * count moves on only when the token belongs there).  0 on out of memory
 * (nothing done then; a later call does it). */
static const sl_entry_t st__none;
static int st__lookups(st_state_t *st)
{
    st_doc_t *d = st->d;
    const sl_lexicon_t *lx = st->lx;
    const size_t nt = d->ntok, from = st->looked;
    if (nt == from)
        return 1;
    if (!st__grow((void **)&d->cand, &d->cand_cap, d->ncand + (nt - from), sizeof *d->cand) ||
        !st__grow((void **)&d->capw, &d->capw_cap, d->ncapw + (nt - from), sizeof *d->capw) ||
        !st__grow((void **)&d->scand, &d->scand_cap, d->nscand + (nt - from), sizeof *d->scand))
        return 0;
    st_token_t *const tok = d->tok;
    uint32_t *const cand = d->cand, *const capw = d->capw, *const scand = d->scand;
    size_t nc = d->ncand, nw = d->ncapw, ns = d->nscand;
    /* (The table in locals: the token stores may alias lx.) */
    const sl_slot_t *const flat = lx->flat;
    const size_t fmask = lx->flat_mask;
    for (size_t t = from; t < nt; t++) {
        st_token_t *k = &tok[t];
        if (k->flags & TK_PENDING) {
            k->flags &= (uint16_t)~TK_PENDING;
            const sl_entry_t *e = flat != NULL ? sl_probe(flat, fmask, k->hash, k->low_len)
                                               : sl_get_hashed(lx, k->hash, d->low + k->low, k->low_len);
            k->e = e;
            k->lxflags = e != NULL ? e->flags : 0;
        }
        /* (Bit operations, not branches: which list a token goes to is
         * as good as random.  none: an entry without flags or lean.) */
        const sl_entry_t *const e = k->e;
        const sl_entry_t *const en = e != NULL ? e : &st__none;
        const unsigned lxf = k->lxflags, f = k->flags;
        k->eflags = (uint16_t)lxf;
        cand[nc] = (uint32_t)t;
        nc += (size_t)((e != NULL) & ((k->low_len == 3) | ((lxf & SL_PRONOUN) != 0)));
        capw[nw] = (uint32_t)t;
        nw += (f & (TK_CAP | TK_WEIRD)) != 0;
        scand[ns] = (uint32_t)t;
        ns += ((lxf & ST_SCORER_FLAGS) | (f & TK_NT) | (uint8_t)en->lean) != 0;
    }
    d->ncand = nc;
    d->ncapw = nw;
    d->nscand = ns;
    st->looked = nt;
    return 1;
}

static int st__close_sentence(st_state_t *st)
{
    st_doc_t *d = st->d;
    if (st->sent_start == SIZE_MAX)
        return 1;
    if (d->ntok > st->sent_tok || st->excl || st->quest) {
        if (!st__grow((void **)&d->sent, &d->sent_cap, d->nsent + 1, sizeof *d->sent))
            return 0;
        st_sentence_t *se = &d->sent[d->nsent];
        memset(se, 0, sizeof *se);
        se->start = (uint32_t)st->sent_start;
        se->end = (uint32_t)st->last_end;
        se->tok_begin = (uint32_t)st->sent_tok;
        se->tok_end = (uint32_t)d->ntok;
        se->excl = (uint16_t)(st->excl > 65535 ? 65535 : st->excl);
        se->quest = (uint16_t)(st->quest > 65535 ? 65535 : st->quest);
        d->nsent++;
        if (!st__lookups(st))
            return 0;
    }
    st->sent_start = SIZE_MAX;
    st->sent_tok = d->ntok;
    st->excl = st->quest = 0;
    st->pending_end = 0;
    return 1;
}

/* Append lower-case text to the scratch buffer. */
static int st__low_reserve(st_doc_t *d, size_t n)
{
    return st__grow((void **)&d->low, &d->low_cap, d->low_len + n + 1, 1);
}

/* Look up a token whose lookup was deferred. */
#define ST_LAG 8
static inline void st__resolve(st_doc_t *d, const sl_lexicon_t *lx, st_token_t *t)
{
    if (t->flags & TK_PENDING) {
        t->flags &= (uint16_t)~TK_PENDING;
        t->e = lx->flat != NULL ? sl_get_flat(lx, t->hash, t->low_len)
                                : sl_get_hashed(lx, t->hash, d->low + t->low, t->low_len);
        t->lxflags = t->e != NULL ? t->e->flags : 0;
    }
}

/* Token flags from the TF_* bits of its characters (LO | DG | WD | UP,
 * 0..0x27). */
#define SF_(i) (uint16_t)((((i) & (TF_LO | TF_UP)) ? TK_ALPHA : 0) | \
                          ((((i) & TF_UP) && !((i) & TF_LO)) ? TK_UPPER : 0) | \
                          (((i) & TF_DG) ? TK_DIGIT : 0) | (((i) & TF_WD) ? TK_WEIRD : 0))
#define SF8_(i) SF_(i), SF_((i) + 1), SF_((i) + 2), SF_((i) + 3), SF_((i) + 4), SF_((i) + 5), \
                SF_((i) + 6), SF_((i) + 7)
static const uint16_t st__seen_flags[0x28] = {SF8_(0), SF8_(8), SF8_(16), SF8_(24), SF8_(32)};
#undef SF8_
#undef SF_
_Static_assert(TF_LO == 1 && TF_DG == 2 && TF_WD == 4 && TF_UP == 0x20, "st__seen_flags' index");

/* The rest of a token once its lower-case form o[0..n) is written at
 * d->low + d->low_len (room for n + 1 bytes): flags from the characters seen
 * (TF_*), quotation state, possessives and n't (only when apos: the form
 * may hold an apostrophe), the hash and the deferred lookup.
 * t is d->tok[d->ntok], zeroed, with start, end, sent and low set. */
__attribute__((always_inline)) static inline void st__finish(st_state_t *st, st_token_t *t, char *o,
                                                            size_t n, unsigned seen, uint16_t flags,
                                                            size_t b, int apos)
{
    st_doc_t *d = st->d;
    o[n] = '\0';
    flags |= st__seen_flags[seen & (TF_LO | TF_DG | TF_WD | TF_UP)];
    if (st->in_quote)
        flags |= TK_IN_QUOTE;
    if (st->quote_pending)
        flags |= TK_QUOTE_BEFORE;
    st->quote_pending = 0;
    size_t look = n;
    if (apos) {
        if (n >= 3 && memcmp(o + n - 3, "n't", 3) == 0)
            flags |= TK_NT;
        /* Possessive: look up "trump" for "trump's". */
        if (n > 2 && o[n - 2] == '\'' && o[n - 1] == 's') {
            flags |= TK_POSS;
            if (sl_get(st->lx, o, n) == NULL)
                look = n - 2;
        } else if (n > 2 && o[n - 1] == '\'' && o[n - 2] == 's') {
            flags |= TK_POSS;
            look = n - 1;
        }
    }
    t->low_len = (uint16_t)look;
    o[look] = '\0';
    st->caps += (flags & TK_UPPER) != 0;
    uint64_t h = sl_hash(o, look);
    t->hash = h;
    /* The lookup itself waits for the end of the sentence (st__lookups),
     * while its cache line loads (t->e is NULL until then: st__open zeroed
     * t). */
    if (look > 0) {
        flags |= TK_PENDING;
        sl_prefetch(st->lx, h);
    }
    t->flags = flags;
    d->low_len += look + 1;
    d->ntok++;
    st->last_end = b;
}

/* Open a token for s[a..b): the sentence it belongs to, room for it and its
 * lower-case form (need bytes), its offsets.  NULL on out of memory. */
static inline st_token_t *st__open(st_state_t *st, size_t a, size_t b, size_t need)
{
    st_doc_t *d = st->d;
    if (st->pending_end && !st__close_sentence(st))
        return NULL;
    if (st->sent_start == SIZE_MAX)
        st->sent_start = a;
    if (d->ntok >= d->tok_cap && !st__grow((void **)&d->tok, &d->tok_cap, d->ntok + 1, sizeof *d->tok))
        return NULL;
    if (need > 0 && !st__low_reserve(d, need))
        return NULL; /* (need 0: the caller reserved the room) */
    st_token_t *t = &d->tok[d->ntok];
    memset(t, 0, sizeof *t);
    t->phrase_len = 1; /* as the scorer sets it for a word without entry */
    t->start = (uint32_t)a;
    t->end = (uint32_t)b;
    t->sent = (uint32_t)d->nsent;
    t->low = (uint32_t)d->low_len;
    return t;
}

/* Emit a token for s[a..b) (a word piece).  Lower-cases, classifies and
 * looks it up. */
static int st__emit(st_state_t *st, size_t a, size_t b, uint16_t extra)
{
    st_doc_t *d = st->d;
    if (b - a > 4096)
        b = a + 4096; /* absurd "words" are looked up by their head only */
    st_token_t *t = st__open(st, a, b, (b - a) * 2 + 8);
    if (t == NULL)
        return 0;
    char *o = d->low + d->low_len;
    size_t n = 0;
    unsigned seen = 0; /* TF_* of the characters so far */
    uint16_t flags = extra;
    const unsigned char *const src = st->s; /* a local: the char stores below may alias st */
    for (size_t i = a; i < b;) {
#ifdef ST_SWAR
        /* Eight bytes at a time while they are ASCII (the text goes on past
         * b or not: only loads that stay inside it). */
        if (i + 8 <= st->len) {
            uint64_t w = st__load8(src + i);
            size_t m = b - i < 8 ? b - i : 8;
            uint64_t keep = m == 8 ? ~0ull : (1ull << (8 * m)) - 1;
            w &= keep;
            if ((w & ST_HIGH) == 0) {
                uint64_t up = st__upper8(w), lo = st__lower8(w), dg = st__digit8(w);
                uint64_t other = (keep & ST_HIGH) & ~(up | lo | dg);
                uint64_t letters = up | lo;
                if (letters != 0 && !(seen & (TF_UP | TF_LO)) && (up & (letters & (0 - letters))))
                    flags |= TK_CAP; /* the first letter is a capital */
                seen |= (up ? TF_UP : 0) | (lo ? TF_LO : 0) | (dg ? TF_DG : 0) | (other ? TF_WD : 0);
                w |= up >> 2; /* 0x80 >> 2 = 0x20 lower-cases A-Z */
                memcpy(o + n, &w, 8); /* room: reserved 2 * (b - a) + 8 */
                n += m;
                i += m;
                continue;
            }
        }
#endif
        unsigned char c = src[i];
        if (c < 0x80) {
            unsigned f = st__tokf[c];
            if ((f & TF_UP) && !(seen & (TF_UP | TF_LO)))
                flags |= TK_CAP; /* the first letter is a capital */
            seen |= f;
            o[n++] = (char)(c | (f & TF_UP)); /* TF_UP is 0x20: lower-cases A-Z */
            i++;
            continue;
        }
        int32_t cp;
        size_t k = st__cp(src + i, b - i, &cp);
        i += k;
        if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC) {
            o[n++] = '\'';
            continue;
        }
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT) {
            if (!(seen & (TF_UP | TF_LO)))
                flags |= TK_CAP;
            seen |= TF_UP;
            cp = utf8proc_tolower(cp);
        } else if (cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LO ||
                   cat == UTF8PROC_CATEGORY_LM) {
            seen |= TF_LO; /* uncased letters count as "not capitals" */
        } else if (cat == UTF8PROC_CATEGORY_ND) {
            seen |= TF_DG;
        } else {
            seen |= TF_WD;
        }
        n += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)o + n);
    }
    st__finish(st, t, o, n, seen, flags, b, 1);
    return 1;
}

/* Emit the description words of an emoji at s[a..b). */
static int st__emit_emoji(st_state_t *st, const sl_emoji_t *em, size_t a, size_t b)
{
    st_doc_t *d = st->d;
    for (unsigned w = 0; w < em->nwords; w++) {
        size_t wl;
        const char *word = sl_emoji_word(st->lx, em, w, &wl);
        if (st->pending_end && !st__close_sentence(st))
            return 0;
        if (st->sent_start == SIZE_MAX)
            st->sent_start = a;
        if (!st__grow((void **)&d->tok, &d->tok_cap, d->ntok + 1, sizeof *d->tok) ||
            !st__low_reserve(d, wl + 1))
            return 0;
        st_token_t *t = &d->tok[d->ntok];
        memset(t, 0, sizeof *t);
        t->phrase_len = 1; /* as the scorer sets it for a word without entry */
        t->start = (uint32_t)a;
        t->end = (uint32_t)b;
        t->sent = (uint32_t)d->nsent;
        t->low = (uint32_t)d->low_len;
        memcpy(d->low + d->low_len, word, wl);
        d->low[d->low_len + wl] = '\0';
        d->low_len += wl + 1;
        t->low_len = (uint16_t)wl;
        t->flags = TK_EMOJI | TK_ALPHA | (st->in_quote ? TK_IN_QUOTE : 0);
        t->hash = sl_hash(word, wl);
        t->e = sl_get_hashed(st->lx, t->hash, word, wl);
        t->lxflags = t->e != NULL ? t->e->flags : 0;
        d->ntok++;
        st->emoji++;
    }
    st->last_end = b;
    return 1;
}

/* Punctuation between tokens: counts, quotes, sentence ends. */
static void st__punct(st_state_t *st, int32_t cp, size_t at, size_t clen)
{
    st_doc_t *d = st->d;
    if ((cp == 0x201C || cp == 0x00AB) && st->pending_end)
        st__close_sentence(st); /* an opening quotation mark starts the next sentence */
    if (st->sent_start == SIZE_MAX && !st->pending_end)
        st->sent_start = at;
    st->last_end = at + clen;
    if (d->ntok > st->sent_tok || d->ntok > 0) {
        st_token_t *prev = d->ntok > 0 ? &d->tok[d->ntok - 1] : NULL;
        if (prev != NULL && prev->end == at) {
            if (cp == '.')
                prev->flags |= TK_DOT_AFTER;
            else if (cp == ',' || cp == ';' || cp == ':' || cp == 0x2014 || cp == 0x2013)
                prev->flags |= TK_COMMA_AFTER;
        }
    }
    switch (cp) {
    case '!':
        st->excl++;
        d->excl++;
        st->pending_end = 1;
        break;
    case '?':
        st->quest++;
        d->quest++;
        st->pending_end = 1;
        break;
    case '.':
    case 0x2026: {
        /* Not after a title ("Mr.") or an initial ("J."). */
        const st_token_t *prev = d->ntok > st->sent_tok ? &d->tok[d->ntok - 1] : NULL;
        int abbrev = 0;
        if (prev != NULL && prev->end == at) {
            st__resolve(d, st->lx, &d->tok[d->ntok - 1]);
            if (prev->e != NULL && (prev->lxflags & SL_TITLE) && prev->low_len <= 5)
                abbrev = 1;
            else if ((prev->flags & TK_UPPER) && prev->low_len == 1)
                abbrev = 1;
            else if (memchr(st_low(d, prev), '.', prev->low_len) != NULL)
                abbrev = 1; /* "U.S." */
        }
        if (!abbrev)
            st->pending_end = 1;
        break;
    }
    case '"':
        st->in_quote = !st->in_quote;
        st->quote_pending = 1;
        if (d->ntok > 0 && d->tok[d->ntok - 1].end + 2 >= at)
            d->tok[d->ntok - 1].flags |= TK_QUOTE_AFTER;
        break;
    case 0x201C: /* “ */
    case 0x00AB:
        st->in_quote = 1;
        st->quote_pending = 1;
        break;
    case 0x201D: /* ” */
    case 0x00BB:
        st->in_quote = 0;
        st->quote_pending = 1;
        if (d->ntok > 0 && d->tok[d->ntok - 1].end + 2 >= at)
            d->tok[d->ntok - 1].flags |= TK_QUOTE_AFTER;
        break;
    default:
        break;
    }
}

/* s[0..n) starts with the lower-case ASCII prefix p, in any case. */
static int st__prefix_ci(const unsigned char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (c != (unsigned char)p[i])
            return 0;
    }
    return 1;
}

/* Split one whitespace-free chunk s[a..b) into tokens. */
static int st__chunk(st_state_t *st, size_t a, size_t b)
{
    const unsigned char *s = st->s;
    /* A web address ("http://...", "https://...", "www....") is neither a
     * word nor a name: no tokens (its pieces, "http", "com", would be looked
     * up as words). */
    if ((s[a] | 0x20) == 'h' && b - a >= 7 && (s[a + 4] == ':' || s[a + 5] == ':') &&
        (st__prefix_ci(s + a, b - a, "http://") || st__prefix_ci(s + a, b - a, "https://")))
        return 1;
    if ((s[a] | 0x20) == 'w' && b - a >= 4 && s[a + 3] == '.' && st__prefix_ci(s + a, b - a, "www."))
        return 1;
    /* The whole chunk may be a lexicon item: an emoticon like ":-)" or
     * "</3", or a word with inner punctuation.  Only try when it holds
     * some punctuation (plain words are handled below). */
    if (b - a <= 12 && (b - a <= 3 || !(s[a] >= 0x80 || (st__ascii[s[a]] & (AB_UPPER | AB_LOWER))))) {
        int has_punct = 0, has_word = 0;
        for (size_t i = a; i < b; i++) {
            unsigned char c = s[i];
            if (c >= 0x80 || (st__ascii[c] & AB_WORD))
                has_word = 1;
            else
                has_punct = 1;
        }
        /* Emoticons start with punctuation (":-)", "</3") or are short
         * ("XD"); "word," never needs the whole-chunk lookup. */
        int letter0 = s[a] >= 0x80 || (st__ascii[s[a]] & (AB_UPPER | AB_LOWER));
        if (has_punct && (!letter0 || b - a <= 3) && sl_ends_maybe(st->lx, s[a], s[b - 1])) {
            char buf[16];
            size_t n = b - a;
            memcpy(buf, s + a, n);
            const sl_entry_t *e = sl_get(st->lx, buf, n);
            if (e == NULL || !(e->flags & SL_VALENCE)) {
                for (size_t i = 0; i < n; i++)
                    if (buf[i] >= 'A' && buf[i] <= 'Z')
                        buf[i] = (char)(buf[i] + 32);
                e = sl_get(st->lx, buf, n);
            }
            if (e != NULL && (e->flags & SL_VALENCE) && (!has_word || b - a <= 4)) {
                size_t before = st->d->ntok;
                if (!st__emit(st, a, b, 0))
                    return 0;
                st_token_t *t = &st->d->tok[before];
                t->e = e;
                t->lxflags = e->flags;
                st->caps -= (t->flags & TK_UPPER) != 0;
                t->flags &= (uint16_t)~(TK_UPPER | TK_CAP | TK_PENDING);
                return 1;
            }
        }
    }
    size_t i = a, wstart = SIZE_MAX;
    while (i < b) {
        int32_t cp;
        size_t k;
        int cc;
        unsigned char c = s[i];
        if (c < 0x80) {
            unsigned f = st__ascii[c];
            if (f & AB_WORD) {
                if (wstart == SIZE_MAX)
                    wstart = i;
                i++;
#ifdef ST_SWAR
                while (i + 8 <= b) {
                    uint64_t stop = st__nonword8(st__load8(s + i));
                    if (stop != 0) {
                        i += (size_t)__builtin_ctzll(stop) >> 3;
                        break;
                    }
                    i += 8;
                }
#endif
                while (i < b && st__alnum[s[i]])
                    i++;
                continue;
            }
            cp = c;
            k = 1;
            cc = (f & AB_CONNECT) ? CC_CONNECT : (f & AB_SPACE) ? CC_SPACE
                 : (f & AB_NEWLINE) ? CC_NEWLINE : CC_PUNCT;
        } else {
            k = st__cp(s + i, b - i, &cp);
            cc = st__class(cp);
            if (cc == CC_WORD) {
                if (wstart == SIZE_MAX)
                    wstart = i;
                i += k;
                continue;
            }
        }
        if (cc == CC_CONNECT && wstart != SIZE_MAX && i + k < b) {
            unsigned char nc = s[i + k];
            int word;
            if (nc < 0x80) {
                word = (st__ascii[nc] & AB_WORD) != 0;
            } else {
                int32_t nx;
                st__cp(s + i + k, b - i - k, &nx);
                word = st__class(nx) == CC_WORD;
            }
            if (word) {
                i += k;
                continue;
            }
        }
        if (wstart != SIZE_MAX) {
            if (!st__emit(st, wstart, i, 0))
                return 0;
            wstart = SIZE_MAX;
        }
        if ((cc == CC_SYMBOL || (cp >= 0x2000 && cc == CC_PUNCT)) &&
            !sl_emoji_never_starts(st->lx, cp)) {
            size_t used = 0;
            const sl_emoji_t *em = sl_emoji_match(st->lx, (const char *)s + i, b - i, &used);
            if (em != NULL) {
                if (!st__emit_emoji(st, em, i, i + used))
                    return 0;
                i += used;
                continue;
            }
        }
        st__punct(st, cp, i, k);
        i += k;
    }
    if (wstart != SIZE_MAX && !st__emit(st, wstart, b, 0))
        return 0;
    return 1;
}

/* Bytes for the one-pass chunk (st__fast_chunk): what kind of byte, with
 * the TF_* bits a token's character adds (TF_UP is 0x20, the bit that
 * lower-cases A-Z). */
enum { FC_CONN = 0x08, FC_END = 0x10, FC_ALNUM = 0x40, FC_NA = 0x80 };
#define FC_U (FC_ALNUM | TF_UP)
#define FC_L (FC_ALNUM | TF_LO)
#define FC_D (FC_ALNUM | TF_DG)
#define FC_C (FC_CONN | TF_WD) /* ' - . & _ */
#define FC_P TF_WD             /* other ASCII: punctuation, controls */
#define FC_E FC_END            /* space, tab, line break */
static const uint8_t st__fc[256] = {
    FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_E, FC_E, FC_E, FC_E, FC_E, FC_P, FC_P,
    FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P,
    FC_E, FC_P, FC_P, FC_P, FC_P, FC_P, FC_C, FC_C, FC_P, FC_P, FC_P, FC_P, FC_P, FC_C, FC_C, FC_P,
    FC_D, FC_D, FC_D, FC_D, FC_D, FC_D, FC_D, FC_D, FC_D, FC_D, FC_P, FC_P, FC_P, FC_P, FC_P, FC_P,
    FC_P, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U,
    FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_U, FC_P, FC_P, FC_P, FC_P, FC_C,
    FC_P, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L,
    FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_L, FC_P, FC_P, FC_P, FC_P, FC_P,
    FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA,
    FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA,
    FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA,
    FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA,
    FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA,
    FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA,
    FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA,
    FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA, FC_NA,
};
#undef FC_U
#undef FC_L
#undef FC_D
#undef FC_C
#undef FC_P
#undef FC_E

/* A byte with A-Z lower-cased (the one-pass chunk's copy loop). */
static const uint8_t st__lc[256] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
    0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
    0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

/* The common chunk in one pass: ASCII only, a word (letters and digits,
 * maybe joined by connectors: "it's", "U.S", "long-term") and after it
 * punctuation only ("said," "it.\""), up to a space, a line break or the
 * end of the text.  The word is lower-cased and classified while it is
 * scanned.  Returns the chunk's end (past one space after it) when it was
 * handled, or 0 when st__chunk must handle the chunk (another shape, or one
 * that its web address or whole-chunk tests may apply to); nothing has
 * changed then.  Gives the same tokens, flags and punctuation calls as
 * st__chunk. */
static size_t st__fast_chunk(st_state_t *st, size_t a)
{
    st_doc_t *d = st->d;
    const unsigned char *const s = st->s;
    const size_t len = st->len;
    if (!st__low_reserve(d, len - a + 8))
        return 0;
    char *const o0 = d->low + d->low_len;
    char *o = o0;
    const unsigned char *q = s + a;
    unsigned seen = 0, f;
    int apos = 0; /* a typographic apostrophe joined two pieces */
    for (;;) {
        /* No bound test: the text is NUL-terminated (tm_host_t.doc_text),
         * and NUL is no letter or digit. */
        for (;;) {
            size_t c = *q;
            f = st__fc[c];
            if (!(f & FC_ALNUM))
                break;
            *o++ = (char)st__lc[c];
            seen |= f;
            q++;
        }
        /* A connector between word characters joins them. */
        if ((f & FC_CONN) && (size_t)(q - s) + 1 < len && (st__fc[q[1]] & FC_ALNUM)) {
            *o++ = (char)*q;
            seen |= TF_WD;
            q++;
            continue;
        }
        /* So does a typographic apostrophe (U+2019 or U+2018, a connector
         * for st__chunk) before an ASCII letter or digit ("Trump\u2019s"):
         * st__emit writes it as '\'' and adds no TF_WD for it.  (The text
         * is valid UTF-8: q[1], q[2] and q[3] are in it or its NUL.) */
        if (*q == 0xE2 && q[1] == 0x80 && (q[2] == 0x99 || q[2] == 0x98) &&
            (size_t)(q - s) + 3 < len && (st__fc[q[3]] & FC_ALNUM)) {
            *o++ = '\'';
            apos = 1;
            q += 3;
            continue;
        }
        break;
    }
    const size_t n = (size_t)(o - o0);
    size_t j = (size_t)(q - s);
    const size_t wend = j;
    while (j < len && !((f = st__fc[s[j]]) & FC_END)) {
        if (f & (FC_ALNUM | FC_NA)) {
            /* A closing quotation mark (U+201D) is punctuation for
             * st__chunk too, once its emoji test fails (no key starts
             * with it). */
            if (s[j] == 0xE2 && s[j + 1] == 0x80 && s[j + 2] == 0x9D &&
                sl_emoji_never_starts(st->lx, 0x201D)) {
                j += 3;
                continue;
            }
            return 0;
        }
        j++;
    }
    const size_t b = j;
    if (wend - a > 4096)
        return 0;
    if (b > wend || (seen & TF_WD) || apos) {
        /* Some punctuation: st__chunk's whole-chunk lookup ("I'm", "5.")
         * and web address ("www.") tests may apply. */
        if (b - a <= 12 && (b - a <= 3 || !(st__ascii[s[a]] & (AB_UPPER | AB_LOWER))))
            return 0;
        if ((s[a] | 0x20) == 'h' && b - a >= 7 && (s[a + 4] == ':' || s[a + 5] == ':'))
            return 0;
        if ((s[a] | 0x20) == 'w' && b - a >= 4 && s[a + 3] == '.')
            return 0;
    }
    st_token_t *t = st__open(st, a, wend, 0); /* low: reserved above */
    if (t == NULL)
        return 0; /* (st__chunk reports the out of memory) */
    o = d->low + d->low_len;
    uint16_t flags = 0;
    if (seen & (TF_UP | TF_LO)) {
        size_t k = a;
        while (!(st__fc[s[k]] & (TF_UP | TF_LO)))
            k++;
        if (st__fc[s[k]] & TF_UP)
            flags = TK_CAP; /* the first letter is a capital */
    }
    st__finish(st, t, o, n, seen, flags, wend, (seen & TF_WD) != 0 || apos); /* ' is a connector */
    for (size_t k = wend; k < b; k++) {
        if (s[k] == 0xE2) { /* U+201D, the only non-ASCII character taken above */
            st__punct(st, 0x201D, k, 3);
            k += 2;
        } else {
            st__punct(st, s[k], k, 1);
        }
    }
    /* A space after the chunk changes nothing: step over it here. */
    return s[b] == ' ' ? b + 1 : b; /* (b <= len, and s[len] is the NUL) */
}

#ifdef __SSE2__
/* The word lane: a run of plain ASCII words, each of 1 to 15 letters and
 * digits followed by one space (most of a news text), or by ", " or ". "
 * (3 bytes or more, starting with a letter), 16 bytes at a time; a word
 * followed by a line break, or by ',' or '.' and a line break, is taken too
 * and ends the run.  One load gives a word's end (the first byte that is no letter or
 * digit), its lower-case form (0x20 ORed into the capitals), the TF_* bits
 * of its characters and its first letter; the token is written whole, with
 * the counters kept in locals and stored once when the lane stops.  It
 * stops, with nothing of the stopping word changed, at a word that is
 * longer, followed by anything else, or too near the end of the text for a
 * 16-byte load, and at anything that is not a word (the general loop takes
 * it).  For the words it takes it gives what st__fast_chunk gives: one
 * token each, the same flags, hash and deferred lookup, and the same
 * punctuation effects (unit-tested against the general paths).
 * i: where a word starts (an ASCII letter or digit); returns where the lane
 * stopped (i when it took no word). */
#define ST_LANE_MAX 64 /* words per call (room reserved up front) */
/* The lane's sentence end (once per sentence, out of its loop): close the
 * sentence and open the next at the word at `at`.  0 on out of memory. */
static __attribute__((noinline, cold)) int st__lane_close(st_state_t *st, size_t at)
{
    if (!st__close_sentence(st))
        return 0;
    st->sent_start = at;
    return 1;
}
/* The lane's run handed over to st and d (what st__open and st__emit keep
 * there): the sentence it is in opens at the run's start if none is open,
 * a pending quotation mark is taken, and the tokens, forms, words in
 * capitals and the end of the last token are counted in. */
static inline void st__lane_hand_over(st_state_t *st, st_doc_t *d, size_t start, size_t ntok,
                                      size_t low_len, size_t caps, size_t last_end)
{
    if (st->sent_start == SIZE_MAX)
        st->sent_start = start;
    st->quote_pending = 0;
    d->ntok = ntok;
    d->low_len = low_len;
    st->caps += caps;
    st->last_end = last_end;
}
static size_t st__word_lane(st_state_t *st, size_t i)
{
    st_doc_t *d = st->d;
    const unsigned char *const s = st->s;
    const size_t len = st->len;
    if (st->pending_end || i + 16 > len)
        return i;
    if (d->ntok + ST_LANE_MAX > d->tok_cap &&
        !st__grow((void **)&d->tok, &d->tok_cap, d->ntok + ST_LANE_MAX, sizeof *d->tok))
        return i;
    if (!st__low_reserve(d, ST_LANE_MAX * 17 + 16))
        return i;
    const __m128i ka = _mm_set1_epi8((char)(0x80 - 'a'));
    const __m128i k0 = _mm_set1_epi8((char)(0x80 - '0'));
    const __m128i l26 = _mm_set1_epi8((char)(-128 + 26)), l10 = _mm_set1_epi8((char)(-128 + 10));
    const __m128i b20 = _mm_set1_epi8(0x20);
    st_token_t *const tok0 = d->tok;
    st_token_t *t = tok0 + d->ntok;
    st_token_t *const tend = t + ST_LANE_MAX;
    char *const low0 = d->low; /* locals: the stores below may alias d and st */
    char *o = low0 + d->low_len;
    const sl_slot_t *const flat = st->lx->flat;
    const size_t fmask = st->lx->flat_mask;
    size_t lend = st->last_end;
    const uint16_t qflags = st->in_quote ? TK_IN_QUOTE : 0;
    uint16_t first = st->quote_pending ? TK_QUOTE_BEFORE : 0;
    uint32_t sent = (uint32_t)d->nsent;
    size_t caps = 0;
    const size_t start = i;
    int closing = 0; /* a '.' ended the sentence: close it before the next word */
    while (t < tend && i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        /* Letters: v | 0x20 in a-z (exactly A-Z and a-z, for any byte);
         * a capital is a letter with bit 5 clear (psllw by 2 moves bit 5
         * to the bit movemask reads). */
        __m128i lv = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v, b20), ka), l26);
        unsigned letters = (unsigned)_mm_movemask_epi8(lv);
        unsigned b5 = (unsigned)_mm_movemask_epi8(_mm_slli_epi16(v, 2));
        unsigned dg = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(v, k0), l10));
        unsigned word = letters | dg;
        unsigned n = (unsigned)__builtin_ctz(~word); /* bit 16 is clear: n <= 16 */
        if (n == 0 || n == 16)
            break;
        unsigned wm = (1u << n) - 1;
        letters &= wm;
        dg &= wm;
        unsigned up = letters & ~b5;
        unsigned char term = s[i + n];
        uint16_t after = 0;
        unsigned more = 1; /* 0: a line break ends the chunk, the lane stops there */
        if (term != ' ') {
            if (term == '\n') {
                more = 0;
            } else {
                /* "word, " and "word. " (or a line break after the mark)
                 * as st__fast_chunk takes them: the chunk is longer than 3
                 * bytes and starts with a letter (no whole-chunk lookup),
                 * and is no "www." (web address).  (s[i + n + 1] is at most
                 * s[len], the NUL.) */
                if (!((term == ',' || term == '.') && n >= 3 && (letters & 1)))
                    break;
                unsigned char nx = s[i + n + 1];
                if (nx != ' ' && nx != '\n')
                    break;
                if (term == '.' && n == 3 && (s[i] | 0x20) == 'w')
                    break;
                after = term == ',' ? TK_COMMA_AFTER : TK_DOT_AFTER;
                more = nx == ' ';
            }
        }
        /* Lower-case: 0x20 on the letters (the small ones have it; bytes
         * past the word are overwritten by the next form). */
        _mm_storeu_si128((__m128i *)o, _mm_or_si128(v, _mm_and_si128(lv, b20)));
        o[n] = '\0';
        /* What st__seen_flags gives for these characters (no TF_WD here):
         * a letter; capitals and no small letter; a digit. */
        uint16_t flags = (uint16_t)(first | qflags | after);
        if (letters != 0)
            flags |= TK_ALPHA;
        if (up == letters && letters != 0)
            flags |= TK_UPPER;
        if (dg != 0)
            flags |= TK_DIGIT;
        if (up & letters & (0u - letters))
            flags |= TK_CAP; /* the first letter is a capital */
        first = 0;
        caps += (flags & TK_UPPER) != 0;
        if (__builtin_expect(closing, 0)) {
            /* The word is taken: what st__open does first for it (the
             * run before the '.' was handed over there). */
            if (!st__lane_close(st, i)) {
                st->oom = 1; /* (st_tokenize reports it) */
                break;
            }
            sent = (uint32_t)d->nsent;
            closing = 0;
        }
        uint64_t h = sl_hash(o, n);
        if (flat != NULL) /* (as sl_prefetch) */
            sl__prefetch1(&flat[(size_t)h & fmask]);
        *t = (st_token_t){.hash = h, .start = (uint32_t)i, .end = (uint32_t)(i + n),
                          .low = (uint32_t)(o - low0), .low_len = (uint16_t)n,
                          .flags = (uint16_t)(flags | TK_PENDING), .sent = sent, .phrase_len = 1};
        t++;
        o += n + 1;
        if (after != 0) {
            i += n; /* at the punctuation */
            if (after == TK_DOT_AFTER) {
                /* Hand the run over (st__punct reads the tokens), then the
                 * '.' as st__punct takes it: it may end the sentence (not
                 * after a title or an initial); then the sentence is
                 * closed when the next word is taken, as st__open does. */
                const size_t at = i;
                i += 1 + more;
                /* (at: the word's end; st__punct moves it past the '.') */
                st__lane_hand_over(st, d, start, (size_t)(t - tok0), (size_t)(o - low0), caps, at);
                caps = 0;
                st__punct(st, '.', at, 1);
                lend = st->last_end;
                if (!more || !st__alnum[s[i]])
                    break;
                closing = st->pending_end;
                continue;
            }
            lend = i + 1; /* what st__punct does for a ',' after a word */
            i += 1 + more;
        } else {
            lend = i + n;
            i += n + more;
        }
        if (!more || !st__alnum[s[i]])
            break;
    }
    if (i != start)
        st__lane_hand_over(st, d, start, (size_t)(t - tok0), (size_t)(o - low0), caps, lend);
    return i;
}
#endif

int st_tokenize(st_doc_t *d, const sl_lexicon_t *lx, const char *text, size_t len)
{
    d->text = text;
    d->len = len;
    d->ntok = d->nsent = d->low_len = d->ncand = d->ncapw = d->nscand = 0;
    d->excl = d->quest = 0;
    st_state_t st = {.d = d, .lx = lx, .s = (const unsigned char *)text, .len = len,
                     .sent_start = SIZE_MAX};
    size_t i = 0;
    while (i < len) {
        int32_t cp;
        size_t k;
        int cc;
        unsigned char c0 = st.s[i];
        if (c0 < 0x80) {
            unsigned f = st__ascii[c0];
            k = 1;
            cc = (f & AB_NEWLINE) ? CC_NEWLINE : (f & AB_SPACE) ? CC_SPACE : CC_WORD;
        } else {
            k = st__cp(st.s + i, len - i, &cp);
            cc = st__class(cp);
        }
        if (cc == CC_NEWLINE) {
            if (!st__close_sentence(&st))
                return TM_ENOMEM;
            st.in_quote = 0;
            i += k;
            continue;
        }
        if (cc == CC_SPACE) {
            i += k;
            continue;
        }
        if (c0 < 0x80 && (st__ascii[c0] & AB_WORD)) {
#ifdef __SSE2__
            size_t w = st__word_lane(&st, i);
            if (w != i) {
                i = w;
                continue;
            }
#endif
            size_t e = st__fast_chunk(&st, i);
            if (e != 0) {
                i = e;
                continue;
            }
        }
        /* A chunk: up to the next space or line break. */
        size_t j = i + k;
        while (j < len) {
#ifdef ST_SWAR
            if (j + 8 <= len) {
                uint64_t stop = st__stop8(st__load8(st.s + j));
                if (stop == 0) {
                    j += 8;
                    continue;
                }
                j += (size_t)__builtin_ctzll(stop) >> 3;
            }
#endif
            unsigned char c = st.s[j];
            if (c < 0x80) {
                if (st__ascii[c] & (AB_SPACE | AB_NEWLINE))
                    break;
                j++;
                continue;
            }
            int32_t cp2;
            size_t k2 = st__cp(st.s + j, len - j, &cp2);
            int c2 = st__class(cp2);
            if (c2 == CC_SPACE || c2 == CC_NEWLINE)
                break;
            j += k2;
        }
        if (!st__chunk(&st, i, j))
            return TM_ENOMEM;
        i = j;
    }
    if (st.oom || !st__close_sentence(&st))
        return TM_ENOMEM;
    if (!st__lookups(&st)) /* (tokens after the last sentence: none, but cheap) */
        return TM_ENOMEM;
    /* VADER's "cap differential": some, but not all, words in capitals
     * (counted as the tokens were made). */
    d->cap_diff = st.caps > 0 && st.caps < d->ntok - st.emoji; /* (the rest are words) */
    return TM_OK;
}
