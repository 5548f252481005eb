/*
 * qt.h - internal types of the quotes stage, shared by its source files.
 *
 * The stage works on one document at a time in per-thread scratch space
 * (qt_doc_t).  The passes, each in its own file:
 *
 *   qt_tok.c     text -> tokens (words, punctuation, quote marks, paragraph
 *                breaks), lexicon classes, sentence boundaries
 *   qt_marks.c   quote marks -> paired quotations (double and single level)
 *   qt_np.c      noun phrases around reporting cues (speakers, appositives)
 *   qt_attr.c    cues and speakers for every quotation; continuation across
 *                paragraphs; the scare-quote filter
 *   qt_report.c  reported speech: indirect and mixed content clauses
 *   qt_coref.c   people: canonical names, pronoun and role-noun resolution,
 *                mentions
 *   qt_emit.c    annotations.quotes and annotations.speakers as JSON
 *   qt_lex.c     the lexicon (data files -> hash table)
 *   quotes.c     the plugin: parameters, instance, process hook
 *
 * Every look-back and look-ahead is bounded by a constant window (QT_WIN_*),
 * so the cost of a document is linear in its length whatever its content.
 */
#ifndef QT_H
#define QT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

/* ---------------------------------------------------------------- limits */

#define QT_WIN_NP 14        /* tokens in one noun phrase */
#define QT_WIN_APPOS 40     /* tokens in an appositive between speaker and cue */
#define QT_WIN_BEFORE 48    /* look-back from a quote to its cue */
#define QT_WIN_AFTER 40     /* look-ahead from a quote to its cue */
#define QT_WIN_CLAUSE 160   /* tokens in one reported clause */
#define QT_WIN_RECENT 64    /* entities searched for a pronoun/role antecedent */
#define QT_MAX_WORD 64      /* longer words are never lexicon entries */
#define QT_MAX_PHRASE 6     /* words in a multi-word lexicon phrase */

/* Small helpers on hot paths that the compiler would otherwise call. */
#if defined(__GNUC__)
#define QT_INLINE inline __attribute__((always_inline))
#else
#define QT_INLINE inline
#endif

/* ---------------------------------------------------------------- lexicon */

/* Lexicon classes (bits of qt_tok_t.lex / qt_lexent_t.cls). */
enum {
    LX_CUE = 1u << 0,      /* a reporting verb form (said, says, told, adding) */
    LX_SPEECH = 1u << 1,   /* ... of speech or writing */
    LX_BELIEF = 1u << 2,   /* ... of thought or belief (believes, hopes) */
    LX_INVERT = 1u << 3,   /* may precede its subject after a quote ("said Trump") */
    LX_OBJECT = 1u << 4,   /* takes a listener object ("told reporters that") */
    LX_CLAUSE = 1u << 5,   /* takes a reported clause ("said that ...") */
    LX_FRAG = 1u << 6,     /* takes an object + quoted fragment ("called it ...") */
    LX_ING = 1u << 7,      /* -ing participle ("saying", "adding") */
    LX_TITLE = 1u << 8,    /* honorific or title before a name (Mr, Sen., President) */
    LX_ROLE = 1u << 9,     /* role noun heading a speaker phrase (spokesman) */
    LX_MOD = 1u << 10,     /* modifier inside a speaker phrase (former, senior) */
    LX_PRON = 1u << 11,    /* personal pronoun that can be a speaker (he, she) */
    LX_DET = 1u << 12,     /* determiner */
    LX_PREP = 1u << 13,    /* preposition */
    LX_CONJ = 1u << 14,    /* conjunction */
    LX_AUX = 1u << 15,     /* auxiliary or modal verb */
    LX_ADV = 1u << 16,     /* adverb that may stand between speaker and cue */
    LX_WH = 1u << 17,      /* relative pronoun (who, which) */
    LX_TIME = 1u << 18,    /* time word (Tuesday, November, yesterday) */
    LX_ABBR = 1u << 19,    /* takes an abbreviation period (Mr., Jan.) */
    LX_FUNC = 1u << 20,    /* other function word: never part of a name */
    LX_PARTICLE = 1u << 21,/* name particle (de, van, bin) */
    LX_PHRASE = 1u << 22,  /* first word of a multi-word phrase */
    LX_PERSON = 1u << 23,  /* title/role that implies a person (Mr, spokesman) */
    LX_NEG = 1u << 24,     /* negation (not, never) */
    LX_THAT = 1u << 25,    /* complementizer (that, whether, if) */
    LX_NOUNLIKE = 1u << 26,/* cue form that is also a common noun (report, call) */
    LX_NPCONT = 1u << 27,  /* cue taking a noun-phrase content (praised X) */
    LX_PLURAL = 1u << 28,  /* plural role noun (officials) */
    LX_INF = 1u << 29,     /* takes a to-infinitive content (vowed to ...) */
    LX_QUESTION = 1u << 30,/* a question verb: its content may open with how/why/who (asked how ...) */
};

/* Extra bits (qt_lexent_t.extra). */
enum {
    LXX_MALE = 1u << 0,
    LXX_FEMALE = 1u << 1,
    LXX_PLURAL = 1u << 2,
    LXX_FIRST = 1u << 3,   /* first person (I, we) */
    LXX_NEUTER = 1u << 4,  /* it */
    LXX_SUBJ = 1u << 5,    /* subject form */
    LXX_SOURCE_AFTER = 1u << 6, /* phrase followed by its source ("according to") */
    LXX_CUE_PHRASE = 1u << 7,   /* phrase acting as a reporting verb ("pointed out") */
    LXX_ADJUNCT = 1u << 8,      /* phrase that is a reporting adjunct ("in a statement") */
};

typedef struct qt_lexent {
    uint64_t h;
    uint32_t cls;
    uint16_t extra;
    uint8_t used;
    uint8_t phr;    /* 1 + first phrase (qt_lex_t.phr) starting with this word, or 0 */
} qt_lexent_t;
/* qt_lex_classes reads cls and extra as the low 48 bits of one word */
_Static_assert(offsetof(qt_lexent_t, extra) == offsetof(qt_lexent_t, cls) + 4 &&
                   sizeof(qt_lexent_t) == offsetof(qt_lexent_t, cls) + 8,
               "qt_lexent_t: cls, extra, used, phr in one eight-byte word");

typedef struct qt_phrase {
    uint64_t h[QT_MAX_PHRASE];
    uint8_t n;
    uint8_t next;   /* 1 + next phrase with the same first word (in file order), or 0 */
    uint32_t cls;
    uint16_t extra;
} qt_phrase_t;

#define QT_LEX_FILTER_BITS 15 /* a 4 KiB bitmap of the hashes in tab, checked first */

/* A slot of qt_lex_classes' table: a key and its entry's classes and extra
 * bits as one word (cls | extra << 32); h 0 when empty. */
typedef struct qt_lexhot {
    uint64_t h;
    uint64_t v;
} qt_lexhot_t;

#define QT_PH_MUL 0xD6E8FEB86659FD93ull /* qt_lex_classes' second multiplier */

typedef struct qt_lex {
    uint64_t filter[(1u << QT_LEX_FILTER_BITS) / 64]; /* bit qt_hmix(h) >> (64 - bits) per entry */
    qt_lexent_t *tab;   /* open addressing, power-of-two size, slot = top bits of qt_hmix() */
    size_t mask;
    unsigned shift;     /* 64 - log2(size) */
    size_t count;
    /* qt_lex_classes' table (qt_lex_pack): a perfect hash of tab's keys
     * (hash and displace): the key's bucket, the top bits of qt_hmix(h),
     * has a pilot word; the key's slot in hot is the top bits of
     * (qt_hmix(h) ^ pilot) * QT_PH_MUL, one slot per key, no collision.
     * ph_ok 0 (a lexicon not packed since its last qt_lex_add, or a pack
     * that found no pilots): qt_lex_classes walks tab instead. */
    const uint64_t *pilot;
    const qt_lexhot_t *hot;
    unsigned pbshift;   /* 64 - log2(buckets) */
    unsigned phshift;   /* 64 - log2(slots of hot) */
    int ph_ok;
    qt_phrase_t *phr;
    size_t nphr, capphr;
} qt_lex_t;

void qt_lex_init(qt_lex_t *lx);
void qt_lex_free(qt_lex_t *lx);
/* Hash of a word as the lexicon sees it: ASCII lower-cased, typographic
 * apostrophes folded to "'"; a trailing period is kept (so "u.s." works). */
uint64_t qt_hash_word(const char *s, size_t n);
/* The same hash of an already lower-cased, apostrophe-folded word.  A word
 * of one to eight bytes is its own key (its bytes in a zeroed uint64_t:
 * exact, and no hashing for most words; qt_tokenize builds the same key
 * from an eight-byte load); a longer one is hashed with xxh3.  Tables index
 * by qt_hmix() of the key. */
static inline uint64_t qt_hash_lowered(const char *s, size_t n)
{
    if (n - 1 < 8) {
        uint64_t k = 0;
        memcpy(&k, s, n);
        return k;
    }
    uint64_t h = XXH3_64bits(s, n);
    return h != 0 ? h : 1;
}
/* A key's bits mixed for table slots (Fibonacci hashing: use the high bits). */
static inline uint64_t qt_hmix(uint64_t h) { return h * 0x9E3779B97F4A7C15ull; }
/* Add one word (or a phrase of several space-separated words). */
int qt_lex_add(qt_lex_t *lx, const char *word, size_t n, uint32_t cls, uint16_t extra);
static inline const qt_lexent_t *qt_lex_get(const qt_lex_t *lx, uint64_t h)
{
    uint64_t m = qt_hmix(h);
    uint32_t b = (uint32_t)(m >> (64 - QT_LEX_FILTER_BITS));
    if (!(lx->filter[b >> 6] & (1ull << (b & 63))))
        return NULL; /* most words are in no list: one L1-resident bit says so
                      * (and a bit is set only once tab holds an entry) */
    size_t j = (size_t)(m >> lx->shift); /* the top bits: they depend on every byte */
    while (lx->tab[j].used) {
        if (lx->tab[j].h == h)
            return &lx->tab[j];
        j = (j + 1) & lx->mask;
    }
    return NULL;
}
/* qt_lex_get's answer as the entry's classes (low 32 bits) and extra bits
 * (next 16; the bits above them are not defined), 0 for a word in no
 * list, with no branch on the text: a packed lexicon's perfect hash (see
 * qt_lex_t) names the one slot that can hold the key, whatever the word;
 * its classes are taken when its key is the word's (an empty slot's is 0,
 * which no word's is) and 0 otherwise.  h must not be 0. */
/* qt_lex_classes' answer from qt_lex_get (out of line: a lexicon without
 * its perfect hash). */
uint64_t qt_lex_classes_walk(const qt_lex_t *lx, uint64_t h);
static inline uint64_t qt_lex_classes(const qt_lex_t *lx, uint64_t h)
{
    const uint64_t m = qt_hmix(h);
    const uint64_t x = (m ^ lx->pilot[m >> lx->pbshift]) * QT_PH_MUL;
    const qt_lexhot_t *e = &lx->hot[x >> lx->phshift];
    const uint64_t v = e->v & ((uint64_t)(e->h != h) - 1u);
    if (__builtin_expect(!lx->ph_ok, 0)) /* (the same for every word) */
        return qt_lex_classes_walk(lx, h);
    return v;
}
/* After the last qt_lex_add: the table re-laid for fast look-ups of short
 * words (the same entries); an empty lexicon gets an empty table.
 * qt_tokenize needs it done (it fails on a lexicon without a table).  -1
 * when out of memory (the table is unchanged). */
int qt_lex_pack(qt_lex_t *lx);
/* Load a data file.  kind selects the line format (see qt_lex.c).  On
 * failure fills msg (naming the file and line) and returns -1. */
enum { QT_FILE_CUES = 1, QT_FILE_TAGGED };
int qt_lex_load(qt_lex_t *lx, const char *path, int kind, char *msg, size_t msgsz);
/* Parse one line of a file (also used for lists given in the config). */
int qt_lex_line(qt_lex_t *lx, const char *line, int kind, char *msg, size_t msgsz);

/* ---------------------------------------------------------------- tokens */

enum { TK_WORD = 1, TK_NUM, TK_PUNCT, TK_QMARK, TK_PARA };

enum {
    TF_CAP = 1u << 0,     /* first letter upper case */
    TF_UPPER = 1u << 1,   /* all letters upper case, two or more */
    TF_POSS = 1u << 2,    /* ends in 's (core excludes it) */
    TF_INQ = 1u << 3,     /* inside a quotation (content or marks) */
    TF_SSTART = 1u << 4,  /* first token of a sentence */
    TF_ABBR = 1u << 5,    /* a period that belongs to an abbreviation */
    TF_SPB = 1u << 6,     /* whitespace (or start) right before */
    TF_SPA = 1u << 7,     /* whitespace (or end) right after */
    TF_DOTTED = 1u << 8,  /* word with internal periods (U.S.) */
    TF_NAME = 1u << 9,    /* could be part of a proper name */
    /* 1u << 10: free (an -ly adverb is qt_tok_ly(), computed where it is asked) */
    TF_USED = 1u << 11,   /* cue already used by a quotation */
    TF_PSTART = 1u << 12, /* first token of a paragraph */
    TF_TCASE = 1u << 13,  /* in a title-case paragraph ("France Asked Trump And Putin To …") */
    TF_NAMEY = 1u << 14,  /* qt_namey(): could be part of a proper name (set by qt_sentences) */
};

/* Quote-mark codes (qt_tok_t.qm low 5 bits) and flanking (high bits). */
enum {
    QM_DQ = 1,      /* " */
    QM_LDQ,         /* U+201C left double */
    QM_RDQ,         /* U+201D right double */
    QM_LOWDQ,       /* U+201E low-9 double */
    QM_REVDQ,       /* U+201F reversed double */
    QM_LGUIL,       /* U+00AB << */
    QM_RGUIL,       /* U+00BB >> */
    QM_APOS2,       /* '' (two apostrophes as a double mark) */
    QM_GRAVE2,      /* `` */
    QM_SQ,          /* ' */
    QM_LSQ,         /* U+2018 */
    QM_RSQ,         /* U+2019 */
    QM_LOWSQ,       /* U+201A */
    QM_LSGUIL,      /* U+2039 */
    QM_RSGUIL,      /* U+203A */
    QM_CJK_L,       /* U+300C */
    QM_CJK_R,       /* U+300D */
};
#define QM_CODE(x) ((x) & 0x1f)
#define QM_LEFT 0x20  /* left-flanking: space/start before, non-space after */
#define QM_RIGHT 0x40 /* right-flanking: non-space before, space/punct/end after */

static inline int qm_is_single(int code)
{
    return code == QM_SQ || code == QM_LSQ || code == QM_RSQ || code == QM_LOWSQ ||
           code == QM_LSGUIL || code == QM_RSGUIL;
}

typedef struct qt_tok {
    uint32_t s, e;   /* bytes [s, e) */
    uint32_t ce;     /* end of the core (without a possessive 's) */
    uint32_t lex;    /* LX_* classes */
    uint64_t h;      /* hash of the lower-cased core */
    uint32_t cp;     /* PUNCT: the code point */
    int32_t q;       /* quotation this token belongs to, or -1 */
    uint32_t sent;   /* sentence index */
    uint32_t para;   /* paragraph index */
    uint16_t flags;  /* TF_* */
    uint16_t extra;  /* LXX_* of the lexicon entry */
    uint8_t kind;    /* TK_* */
    uint8_t qm;      /* QMARK: code | flanking */
    uint8_t phrase;  /* 1 + index of a phrase starting here (capped), or 0 */
    uint8_t pad;
} qt_tok_t;

/* ---------------------------------------------------------------- phrases, quotes */

enum { NP_NONE = 0, NP_NAME, NP_ROLE, NP_PRON, NP_WH };

typedef struct qt_np {
    int32_t s, e;        /* tokens [s, e] inclusive; s < 0 when empty */
    int32_t name_s, name_e; /* proper-name part, or -1 */
    int32_t role_s, role_e; /* title/role words, or -1 */
    int32_t head;        /* head token */
    int32_t appos_s, appos_e; /* appositive after a comma ("..., Mr Putin's spokesperson,"), or -1 */
    uint8_t kind;        /* NP_* */
    uint8_t person;      /* a personal title/role is attached */
    uint8_t gender;      /* LXX_MALE / LXX_FEMALE / 0 */
    uint8_t pad;
} qt_np_t;

enum { QT_DIRECT = 0, QT_MIXED = 1, QT_INDIRECT = 2 };

enum {
    QF_OPEN_END = 1u << 0,  /* paragraph ended before a closing mark */
    QF_PARA_START = 1u << 1,/* the opening mark starts its paragraph */
    QF_SINGLE = 1u << 2,    /* single marks */
    QF_DROP = 1u << 3,      /* not reported (scare quote, empty) */
    QF_FRAG = 1u << 4,      /* quoted words inside a reported clause */
    QF_INHERIT = 1u << 5,   /* speaker carried over from a neighbour */
    QF_ENDS_COMMA = 1u << 6,/* content ends with , ? ! or a dash */
    QF_ENDS_STOP = 1u << 7, /* content ends with . */
    QF_CLAUSE = 1u << 8,    /* a reported clause (indirect/mixed), not marked words */
    QF_TITLELIKE = 1u << 9, /* every content word capitalised */
    QF_COLON_INTRO = 1u << 10, /* introduced by a colon */
};

typedef struct qt_quote {
    int32_t open, close;   /* mark tokens; close < 0 when open-ended (clauses: -1) */
    int32_t cs, ce;        /* content tokens [cs, ce) */
    uint32_t s, e;         /* content bytes (trimmed of spaces) */
    uint32_t para;
    uint32_t sent;
    uint32_t flags;
    int32_t cue;           /* cue token, -1 */
    int32_t cue_e;         /* last token of a multi-word cue */
    qt_np_t sp;            /* speaker phrase as written */
    int32_t ent;           /* resolved entity, -1 */
    int32_t host;          /* fragment: the clause around it, or -1 */
    int32_t src;           /* inherited: the quotation it took its speaker from, or -1 */
    uint8_t type;          /* QT_* */
    uint8_t how;           /* which rule attributed it (for confidence) */
    uint16_t nwords;
    double conf;           /* confidence, set by qt_emit's ordering for both writers */
} qt_quote_t;

/* How a quotation got its speaker (qt_quote_t.how). */
enum {
    HOW_NONE = 0,
    HOW_AFTER,       /* "...," NP said / said NP */
    HOW_BEFORE,      /* NP said: "..." */
    HOW_FRAG,        /* NP said that X "..." Y */
    HOW_ACCORDING,   /* according to NP */
    HOW_SAME_PARA,   /* another quote of the paragraph */
    HOW_PREV_PARA,   /* continuing the previous paragraph */
    HOW_CLAUSE,      /* reported clause */
};

/* ---------------------------------------------------------------- people */

typedef struct qt_ent {
    int32_t name_s, name_e;  /* tokens of the best full name, or -1 */
    int32_t role_s, role_e;  /* tokens of the best role description, or -1 */
    uint64_t last_h;         /* hash of the last name token */
    uint64_t first_h;        /* hash of the first name token (multi-token names) */
    uint32_t nquotes;
    uint32_t nmen;
    int32_t men_head, men_tail; /* linked list of mentions */
    int32_t last_tok;        /* most recent mention (for recency) */
    int32_t next_last;       /* next entity with the same last-name hash */
    int32_t next_first;      /* next entity with the same first-name hash */
    uint8_t gender;
    uint8_t person;          /* evidence that this is a person */
    uint8_t ntok;            /* tokens in the best name */
    uint8_t is_speaker;
} qt_ent_t;

typedef struct qt_mention {
    uint32_t s, e;   /* bytes */
    int32_t ent;
    int32_t next;
    int32_t tok;
} qt_mention_t;

/* ---------------------------------------------------------------- the document */

typedef struct qt_cfg {
    int min_words_unattributed; /* unattributed quotations shorter than this are dropped */
    int indirect;               /* report indirect speech */
    int belief;                 /* also thought/belief verbs for indirect speech */
    int mixed_clauses;          /* report the clause around a short quoted fragment */
    int single_quotes;          /* pair single quote marks outside double quotes */
    int continuation;           /* carry speakers into quote-only paragraphs */
    int speakers;               /* emit annotations.speakers */
    int raw_output;             /* attach pre-serialised JSON instead of cJSON trees */
    double min_confidence;
} qt_cfg_t;

#define QT_VEC(T, name) T *name; size_t n_##name, cap_##name

typedef struct qt_doc {
    const char *t;
    size_t n;
    const qt_lex_t *lx;
    const qt_cfg_t *cfg;
    QT_VEC(qt_tok_t, tok);
    QT_VEC(qt_quote_t, q);
    QT_VEC(qt_ent_t, ent);
    QT_VEC(qt_mention_t, men);
    QT_VEC(int32_t, sstart);   /* first token of each sentence */
    QT_VEC(int32_t, pstart);   /* first token of each paragraph */
    QT_VEC(int32_t, tmp);      /* scratch */
    QT_VEC(int32_t, tmp2);
    QT_VEC(uint64_t, keys);    /* sort keys */
    QT_VEC(int32_t, runs);     /* proper-name runs: pairs of first, last token */
    QT_VEC(int32_t, marks);    /* quote-mark tokens, in order */
    QT_VEC(int32_t, emap);     /* entity hash map (last names, then first names) */
    QT_VEC(char, buf);         /* string scratch */
    QT_VEC(char, js);          /* pre-serialised annotation being written */
    QT_VEC(int32_t, cues);     /* tokens with LX_CUE or LX_PHRASE, in order (qt_tokenize) */
    QT_VEC(int32_t, caps);     /* word tokens with TF_CAP or TF_UPPER, in order (qt_tokenize) */
    QT_VEC(int32_t, pers);     /* word tokens with LX_PERSON, in order (qt_tokenize) */
    QT_VEC(int32_t, sev);      /* tokens that may end a sentence, in order (qt_tokenize): paragraph
                                * breaks, . ! ? and ellipsis, dotted words */
    QT_VEC(int32_t, names);    /* word tokens with TF_NAMEY, in order (qt_sentences) */
    size_t nquotes_marked;     /* quotes[0..nquotes_marked) come from marks */
    int oom;                   /* out of memory (QT_OOM_BUG: an annotation miscounted) */
} qt_doc_t;

/* qsort, skipped when the array is already in order (a stable sort would
 * leave it as it is; glibc's qsort is a merge sort). */
void qt_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/* Sorts n integers ascending (the same order whatever the algorithm). */
void qt_sort_u64(uint64_t *a, size_t n);

#define QT_OOM_BUG 2 /* d->oom: qt_emit's count disagreed with its filling (a bug) */

/* Grow a vector to hold at least need elements; 0 on success. */
int qt_vec_grow(void **p, size_t *cap, size_t need, size_t elsz);
#define QT_PUSH(d, name, val)                                                                  \
    ((d)->n_##name < (d)->cap_##name ||                                                        \
             qt_vec_grow((void **)&(d)->name, &(d)->cap_##name, (d)->n_##name + 1,             \
                         sizeof *(d)->name) == 0                                               \
         ? ((d)->name[(d)->n_##name++] = (val), 0)                                             \
         : ((d)->oom = 1, -1))

/* t[n] must be a NUL byte (doc_text guarantees it): scanners stop on it. */
void qt_doc_reset(qt_doc_t *d, const char *t, size_t n, const qt_lex_t *lx, const qt_cfg_t *cfg);
void qt_doc_free(qt_doc_t *d);

/* Passes (see the file comments). */
int qt_tokenize(qt_doc_t *d);
void qt_sentences(qt_doc_t *d);
void qt_pair_marks(qt_doc_t *d);
void qt_attribute(qt_doc_t *d);
void qt_report(qt_doc_t *d);
void qt_propagate(qt_doc_t *d);
void qt_coref(qt_doc_t *d);
/* annotations.quotes / annotations.speakers as JSON text in d->js,
 * NUL-terminated (NULL when out of memory); *count gets the number of
 * quotations. */
char *qt_emit_quotes_raw(qt_doc_t *d, size_t *count);
char *qt_emit_speakers_raw(qt_doc_t *d);
/* The annotation as the stage attaches it: a cJSON_Raw item holding the
 * JSON text, with (tree != 0) the same value as a tree on its child, all in
 * one allocation that cJSON_Delete of the item frees (see qt_emit.c).
 * NULL (d->oom set) when out of memory. */
cJSON *qt_emit_quotes_both(qt_doc_t *d, size_t *count, int tree);
cJSON *qt_emit_speakers_both(qt_doc_t *d, int tree);

/* Noun phrases (qt_np.c). */
int qt_np_left(const qt_doc_t *d, int32_t end, int32_t lim, qt_np_t *np);
int qt_np_right(const qt_doc_t *d, int32_t start, int32_t lim, qt_np_t *np);
/* A capitalised word that can be part of a proper name: the rule is
 * qt_namey_rule() (qt_np.c), which reads flags that are final once
 * qt_sentences has run (TF_INQ, TF_SSTART, TF_TCASE); qt_sentences stores
 * its answer for every capitalised word as TF_NAMEY, read here. */
int qt_namey_rule(const qt_doc_t *d, int32_t i);
static inline int qt_namey(const qt_doc_t *d, int32_t i)
{
    return i >= 0 && (size_t)i < d->n_tok && (d->tok[i].flags & TF_NAMEY);
}

int qt_np_subject_of(const qt_doc_t *d, int32_t cue, qt_np_t *np);
int qt_np_sentence_subject(const qt_doc_t *d, int32_t from, int32_t lim, qt_np_t *np);
void qt_np_finish(const qt_doc_t *d, qt_np_t *np);
/* Record an appositive role phrase starting at a ("a senior aide to X"). */
void qt_np_appos(const qt_doc_t *d, qt_np_t *np, int32_t a, int32_t lim);

/* A lower-case word ending in -ly (an adverb, as a rule): a word token
 * without TF_CAP whose lexicon form (ASCII lower-cased, typographic
 * apostrophes folded to one byte; the core, without a possessive 's) has 5
 * to QT_MAX_WORD bytes and ends in "ly".  Computed where it is asked (a few
 * tokens near cues) rather than for every word. */
static inline int qt_tok_ly(const qt_doc_t *d, const qt_tok_t *tk)
{
    if (tk->kind != TK_WORD || (tk->flags & TF_CAP))
        return 0;
    const unsigned char *b = (const unsigned char *)d->t + tk->s;
    size_t n = tk->ce - tk->s;
    if (n < 5 || (b[n - 1] | 0x20) != 'y' || (b[n - 2] | 0x20) != 'l')
        return 0;
    if (n > 3 * QT_MAX_WORD) /* folding shortens by at most two bytes in three */
        return 0;
    size_t fl = 0; /* the folded length, as lookup() folds */
    for (size_t i = 0; i < n; i++, fl++)
        if (b[i] == 0xE2 && i + 2 < n && b[i + 1] == 0x80 && (b[i + 2] == 0x99 || b[i + 2] == 0x98))
            i += 2;
    return fl >= 5 && fl <= QT_MAX_WORD;
}

/* Token helpers. */
static inline int tk_is(const qt_doc_t *d, int32_t i, uint32_t cls)
{
    return i >= 0 && (size_t)i < d->n_tok && d->tok[i].kind == TK_WORD && (d->tok[i].lex & cls);
}
/* Is token k a reporting verb (of a class in want) here, not a noun? */
int qt_cue_verb_noun(const qt_doc_t *d, int32_t k);
static inline int qt_cue_verb(const qt_doc_t *d, int32_t k, uint32_t want)
{
    if (!tk_is(d, k, LX_CUE) || (d->tok[k].flags & TF_INQ))
        return 0;
    const qt_tok_t *t = &d->tok[k];
    if (!(t->lex & want))
        return 0;
    if (!(t->lex & LX_NOUNLIKE))
        return 1;
    return qt_cue_verb_noun(d, k);
}
static inline int tk_punct(const qt_doc_t *d, int32_t i, uint32_t cp)
{
    return i >= 0 && (size_t)i < d->n_tok && d->tok[i].kind == TK_PUNCT && d->tok[i].cp == cp;
}
static inline int tk_dash(const qt_doc_t *d, int32_t i)
{
    return i >= 0 && (size_t)i < d->n_tok && d->tok[i].kind == TK_PUNCT &&
           (d->tok[i].cp == 0x2014 || d->tok[i].cp == 0x2013 || d->tok[i].cp == '-');
}
/* A sentence-final punctuation token. */
static inline int tk_stop(const qt_doc_t *d, int32_t i)
{
    return i >= 0 && (size_t)i < d->n_tok && d->tok[i].kind == TK_PUNCT &&
           (d->tok[i].cp == '.' || d->tok[i].cp == '!' || d->tok[i].cp == '?' ||
            d->tok[i].cp == 0x2026) && !(d->tok[i].flags & TF_ABBR);
}
int qt_tok_eq_bytes(const qt_doc_t *d, int32_t i, const char *lower_word);
/* Is token i a word that reads lower_word (lower-case ASCII, no apostrophe;
 * a string constant) in any letter case?  A word of up to eight bytes is
 * its own key (qt_hash_lowered: the word's core, ASCII lower-cased, is its
 * h), so one compare of h answers; longer ones compare bytes. */
static inline int qt_tok_eq(const qt_doc_t *d, int32_t i, const char *lower_word)
{
    const size_t n = strlen(lower_word); /* (a constant) */
    if (n - 1 < 8) {
        uint64_t k = 0;
        memcpy(&k, lower_word, n);
        return i >= 0 && (size_t)i < d->n_tok && d->tok[i].kind == TK_WORD && d->tok[i].h == k;
    }
    return qt_tok_eq_bytes(d, i, lower_word);
}
int32_t qt_find_phrase_at(const qt_doc_t *d, int32_t i, uint16_t extra_mask, int32_t *end);
/* The multi-word phrase starting at token i (with a bit of extra_mask, when
 * not 0): its index in the lexicon, *end its last token; -1 when none.
 * Inline for the usual answer: no phrase starts there. */
static inline int32_t qt_find_phrase(const qt_doc_t *d, int32_t i, uint16_t extra_mask, int32_t *end)
{
    if (i < 0 || (size_t)i >= d->n_tok || d->tok[i].phrase == 0)
        return -1;
    return qt_find_phrase_at(d, i, extra_mask, end);
}

#endif
