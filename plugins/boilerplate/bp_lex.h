/*
 * bp_lex.h - the stage's knowledge, loaded from data files: stop-word lists
 * per language, boilerplate phrase patterns and cue words per kind, byline
 * and month patterns, wire-agency names, HTML class/id hints; plus the
 * tokenizer and the pattern matcher that use them.
 *
 * Phrase files (phrases.<lang>.txt) are line based:
 *
 *     [donation_appeal]                      a kind (any [a-z0-9_] name)
 *     line: your support helps us to tell the story
 *     prefix,max=40,headline: related article
 *     contains: your donation allows us
 *     cue: donate donation donations paywall journalism
 *
 * A pattern is a sequence of words compared case-insensitively; "*" skips
 * 0-6 words, "#" is one number, "{a|b|c}" one of several words, ":" says
 * the word before is followed by a colon ("photo :" matches "Photo: AP")
 * and "$" captures a name (capitalised words, for syndicated_from and
 * bylines).
 * Modes: line (the whole block), prefix (the block starts with it), suffix,
 * contains (anywhere).  Options: max=N / min=N (block length in words),
 * headline (the block must not end like a sentence), sentence (it must),
 * caps (the matched words must be upper case in the text), block (the
 * following non-prose blocks belong to the same kind: "Related", "Share"),
 * teaser (prefix patterns: a label such as "Related:" or "SEE ALSO:"; when
 * the article's own prose follows the labelled headline on the same line,
 * only the label and headline are removed, see bp_lex_match_teaser),
 * soft (only counts when the block is not long prose).
 * Sections whose name starts with "@" hold metadata patterns: [@byline],
 * [@month] ("month: 1 january jan janvier ..."), [@syndication].
 */
#ifndef BP_LEX_H
#define BP_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "bp_scan.h"
#include "bp_util.h"

#define BP_MAX_LANGS 32
#define BP_NCONN 8

enum bp_tok_flags {
    BP_TF_UPPER = 1,  /* first letter upper case */
    BP_TF_CAPS = 2,   /* has >= 2 letters, all upper case */
    BP_TF_DIGIT = 4,  /* all digits */
    BP_TF_ALPHA = 8,  /* has a letter */
    BP_TF_LOWER = 16, /* first letter lower case */
};

typedef struct bp_tok {
    uint32_t start, end; /* byte offsets in the text */
    uint64_t h;          /* hash of the folded word */
    uint32_t flags;
    uint32_t wi;         /* index in lex->winfo, UINT32_MAX when unknown */
} bp_tok_t;

typedef struct bp_toks {
    bp_tok_t *v;
    size_t n, cap;
} bp_toks_t;

/* Append the words of s[start, end) to t.  Returns 0 or -1 (no memory). */
int bp_tokenize(const char *s, size_t start, size_t end, bp_toks_t *t);
/* The same, allowed to read (not to tokenize) up to s[limit) (limit >=
 * end): faster near end; with lex (or NULL) for its character tables. */
struct bp_lex;
int bp_tokenize_in(const char *s, size_t start, size_t end, size_t limit,
                   const struct bp_lex *lex, bp_toks_t *t);
/* The tokens of the whole text s[0, sc->len) (sc: its bitmaps), the same
 * as bp_tokenize_in(s, 0, len, len, lex, t), faster: words of 1-16 ASCII
 * letters come from the bitmaps and one or two 8-byte loads, the rest of
 * each run of word-candidate bytes goes to bp_tokenize_in.  Unlike
 * bp_tokenize_in it also fills each token's wi (as bp_lex_lookup). */
int bp_tokenize_text(const char *s, const bp_scan_t *sc, const struct bp_lex *lex, bp_toks_t *t);
/* Language detection reads a text's first BP_LANG_TOKENS tokens. */
#define BP_LANG_TOKENS 4000
/* bp_tokenize_text on an empty t (t->n == 0), which also adds the
 * language lanes (lex->langlanes, lex->langq == 4) of the known words
 * among the first BP_LANG_TOKENS tokens into lang4[0..3].  Both need
 * bp_lex_index (bp_lex_finish) for the word indices and the counts. */
int bp_tokenize_text_langs(const char *s, const bp_scan_t *sc, const struct bp_lex *lex, bp_toks_t *t,
                           uint64_t *lang4);

enum bp_pat_mode { BP_PM_LINE = 1, BP_PM_PREFIX, BP_PM_SUFFIX, BP_PM_CONTAINS };
enum bp_pat_opts {
    BP_PO_HEADLINE = 1,
    BP_PO_SENTENCE = 2,
    BP_PO_CAPS = 4,
    BP_PO_BLOCK = 8,
    BP_PO_TEASER = 16,
    BP_PO_SOFT = 32,
};
enum bp_ptok_type { BP_PT_LIT = 1, BP_PT_ANY, BP_PT_NUM, BP_PT_ALT, BP_PT_CAPTURE, BP_PT_COLON };

typedef struct bp_ptok {
    uint8_t type;
    uint64_t h;            /* LIT */
    uint32_t alt0, nalt;   /* ALT: alternatives lex->alts[alt0 .. alt0+nalt) */
    uint8_t optional;      /* ALT with an empty alternative */
} bp_ptok_t;

/* One alternative of {a|b c|}: words lex->althash[h0 .. h0+nh). */
typedef struct bp_alt {
    uint32_t h0, nh;
} bp_alt_t;

typedef struct bp_pattern {
    int kind;              /* index into lex->kinds; < 0 for metadata sections */
    uint8_t mode;
    uint32_t opts;
    uint16_t minw, maxw;   /* block length bounds in words (maxw 0 = none) */
    uint32_t tok0, ntok;   /* into lex->ptoks */
    char *src;             /* "file:line" for messages */
} bp_pattern_t;

/* Metadata sections. */
enum { BP_META_BYLINE = -2, BP_META_SYNDICATION = -3 };

typedef struct bp_winfo {
    uint32_t langs;     /* bit i: a stop word of language i */
    uint32_t pat_head;  /* first entry in lex->ents of patterns starting here, or UINT32_MAX */
    uint32_t cue_kinds; /* bit k: a cue word of kind k (k < 32) */
    uint32_t fhead;     /* the first entry of pat_head's chain that is not
                         * anchored (bp_lex_finish), or UINT32_MAX */
    uint32_t fmaxw;     /* the longest block an unanchored pattern indexed by
                         * this word (or by it and the next) can match */
    uint8_t floats;     /* fhead != UINT32_MAX or bigram & 2: the word may start a
                         * match after a block's first token */
    uint8_t month;      /* 1-12 when a month name, else 0 */
    uint8_t bigram;     /* some pattern is indexed by this word and the next:
                         * bit 0 a line/prefix one, bit 1 a contains/suffix one */
} bp_winfo_t;

typedef struct bp_ent {
    uint32_t pat, next;
    uint32_t fnext;    /* the next entry of the chain that is not anchored
                        * (bp_lex_finish): words after a block's first one
                        * walk only those */
    uint32_t maxw;     /* copy of the pattern's bound (bp_lex_finish) */
    uint8_t anchored;  /* line/prefix: only at the first word */
} bp_ent_t;

/* A slot of the tokenizer's word table: a word hash, its index in winfo
 * and, with at most 16 languages, its stop-word languages (bit l:
 * language l). */
typedef struct bp_wslot {
    uint64_t key;
    uint32_t val;
    uint32_t langs;
} bp_wslot_t;

typedef struct bp_lex {
    bp_map_t words;     /* word hash -> index in winfo */
    bp_winfo_t *winfo;
    size_t nwinfo, capwinfo;
    /* the tokenizer's copy of words (bp_lex_index): at most one slot in
     * 8 used, a key's slot given by its top 64 - wtab_shift bits (the low
     * ones index words), empty slots holding UINT32_MAX, so that a
     * look-up is nearly always one load and no branch that depends on
     * whether the word is known; each slot also holds the word's
     * languages from langlanes (langq == 4), which the language counts
     * need, so known words touch no other array for them */
    struct bp_wslot *wtab;
    unsigned wtab_shift;
    /* and a filter of its keys: 4 bits per slot, bit key & wfilt_mask
     * set for every key, so that most unknown words are told without
     * touching the table */
    uint64_t *wfilt;
    uint64_t wfilt_mask;
    /* bp_lex_finish puts the words with floats set first: winfo[0,
     * nfloatw), so a token's wi < nfloatw tells them with no load; they
     * are sorted by fmaxw, longest first, and nfloat_n[n] (n <= nfloat_nmax)
     * counts those with fmaxw >= n: in a block of n tokens only words
     * below nfloat_n[min(n, nfloat_nmax)] can start an unanchored match */
    uint32_t nfloatw;
    uint32_t *nfloat_n;
    uint32_t nfloat_nmax;
    /* language counting: word i's stop-word languages as 16-bit lanes of
     * value 1, langq words of them at langlanes[langq * i] (langq: 4 for
     * up to 16 languages, else 8), so that the counts of every language
     * over a text's first tokens are langq additions per known word */
    uint64_t *langlanes;
    size_t langq;
    /* with langq == 4, word wi's languages (bit l: language l) at
     * wlangs[(uint32_t)(wi + 1)], wlangs[0] zero (bp_lex_index), so that
     * an unknown word (wi == UINT32_MAX) adds nothing, with no branch */
    uint16_t *wlangs;
    /* word i's langs | (uint64_t)cue_kinds << 32 at wlc[i + 1], wlc[0]
     * zero (bp_lex_finish): what a block's features read per token, at
     * wlc[(uint32_t)(wi + 1)], known or not */
    uint64_t *wlc;
    char langs[BP_MAX_LANGS][12];
    int nlangs;
    char **kinds;       /* boilerplate kinds, from [section] names */
    int nkinds;
    bp_pattern_t *pats;
    size_t npats, cappats;
    bp_ptok_t *ptoks;
    size_t nptoks, capptoks;
    bp_alt_t *alts;
    size_t nalts, capalts;
    uint64_t *althash;
    size_t nalthash, capalthash;
    bp_ent_t *ents;
    size_t nents, capents;
    bp_map_t bigrams;   /* hash of two words -> first entry in ents */
    /* bit (key >> 40) & 4095 set for every key of bigrams (bp_lex_finish):
     * most word pairs are told apart without probing the map */
    uint64_t bgfilter[64];
    /* patterns whose first token is not a literal (checked at every start) */
    bp_ent_t *wild;
    size_t nwild, capwild;
    uint32_t *wfloat;   /* indices into wild of the contains/suffix ones */
    size_t nwfloat;
    uint32_t wild_maxw, wfloat_maxw; /* longest block any of them can match */
    uint8_t meta_floats[4]; /* [-kind]: a metadata kind has contains/suffix patterns */
    /* U+0080-U+07FF (2-byte UTF-8: Latin, Greek, Cyrillic, Hebrew,
     * Arabic, ...): bp_cclass and the lower case of the upper-case ones,
     * so the tokenizer needs no utf8proc call for them */
    uint8_t u2cls[0x780];
    uint16_t u2low[0x780];
    /* U+2000-U+203F (E2 80 xx: spaces, dashes, curly quotes, ellipsis,
     * bullets): bp_cclass, so runs of word bytes split at them without a
     * utf8proc call */
    uint8_t u3gp[0x40];
    /* wire agencies: hash of the folded name -> 1 */
    bp_map_t agencies;
    char **agency_names;
    size_t nagency, capagency;
    uint64_t conn[BP_NCONN]; /* connector words allowed inside a captured name */
    uint32_t anchor_maxw;    /* longest block a line/prefix pattern can match */
    uint32_t float_maxw;     /* ... a contains/suffix pattern */
} bp_lex_t;

/* Call once after loading every phrase file.  Returns 0 or -1 (no
 * memory). */
int bp_lex_finish(bp_lex_t *lex);
/* The tokenizer's tables from words and langlanes (wtab, wfilt, wlangs): the
 * last step of bp_lex_finish.  Returns 0 or -1 (no memory). */
int bp_lex_index(bp_lex_t *lex);

void bp_lex_init(bp_lex_t *lex);
/* Fill toks[i].wi from the word table (after bp_tokenize). */
void bp_lex_lookup(const bp_lex_t *lex, bp_tok_t *toks, size_t n);

/* Loading: each returns 0, or -1 with a message in err (size errlen). */
int bp_lex_load_stopwords(bp_lex_t *lex, const char *path, char *err, size_t errlen);
int bp_lex_load_phrases(bp_lex_t *lex, const char *path, char *err, size_t errlen);
int bp_lex_load_agencies(bp_lex_t *lex, const char *path, char *err, size_t errlen);
void bp_lex_free(bp_lex_t *lex);

int bp_lex_kind(bp_lex_t *lex, const char *name); /* find or add; -1 on error */
int bp_lex_kind_find(const bp_lex_t *lex, const char *name);

static inline const bp_winfo_t *bp_lex_word(const bp_lex_t *lex, uint64_t h)
{
    uint32_t *v = bp_map_get(&lex->words, h);
    return v != NULL ? &lex->winfo[*v] : NULL;
}

/* A pattern match over tokens [0, n) of one block. */
typedef struct bp_match {
    int pat;            /* pattern index, or -1 */
    uint32_t t0, t1;    /* matched tokens [t0, t1) */
    int32_t cap0, cap1; /* captured tokens [cap0, cap1), or -1 */
} bp_match_t;

/* Context about the block, for pattern options. */
typedef struct bp_blockinfo {
    const char *text;    /* the whole text (token offsets index it) */
    uint32_t start, end; /* the block's bytes */
    int ends_sentence;
} bp_blockinfo_t;

/* Find the best match in toks[0..n) (after bp_lex_lookup) among the
 * boilerplate patterns (which == 0) or one metadata section (which ==
 * BP_META_*).  "Best" is the longest match.  Returns 1 and fills m. */
int bp_lex_match(const bp_lex_t *lex, const bp_tok_t *toks, size_t n, const bp_blockinfo_t *bi,
                 int which, bp_match_t *m);

/* The longest "teaser" prefix pattern matching at toks[0], whatever the
 * block's length and ending (the caller decides whether prose follows the
 * teaser).  Returns 1 and fills m (t1 = the label's end). */
int bp_lex_match_teaser(const bp_lex_t *lex, const bp_tok_t *toks, size_t n, const bp_blockinfo_t *bi,
                        bp_match_t *m);

#endif
