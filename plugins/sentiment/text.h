/*
 * text.h - tokens and sentences of one document, as the scorer and the
 * people model see them.  text.c fills them in one pass over the UTF-8 text:
 * whitespace-separated chunks, split at punctuation that is not inside a
 * word, emoji replaced by their description words (which keep the emoji's
 * offsets), lower-cased forms looked up once in the lexicon, and sentence
 * boundaries at . ! ? (not after titles or initials) and at line breaks.
 */
#ifndef TM_SENTIMENT_TEXT_H
#define TM_SENTIMENT_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lexicon.h"

enum {
    TK_UPPER = 1u << 0,     /* letters, all upper case (VADER's isupper) */
    TK_CAP = 1u << 1,       /* first letter upper case */
    TK_ALPHA = 1u << 2,     /* has a letter */
    TK_EMOJI = 1u << 3,     /* a description word standing for an emoji */
    TK_NT = 1u << 4,        /* ends in n't (a negation) */
    TK_IN_QUOTE = 1u << 5,  /* inside quotation marks */
    TK_SKIP = 1u << 6,      /* consumed by a phrase that starts earlier */
    TK_DOT_AFTER = 1u << 7, /* directly followed by '.' */
    TK_COMMA_AFTER = 1u << 8, /* followed by , ; : or a dash */
    TK_POSS = 1u << 9,      /* possessive: ends in 's or s' */
    TK_QUOTE_BEFORE = 1u << 10, /* a quotation mark right before */
    TK_QUOTE_AFTER = 1u << 11,  /* a quotation mark right after */
    TK_DIGIT = 1u << 12,    /* has a digit */
    TK_WEIRD = 1u << 13,    /* has characters that are neither letters nor digits */
    TK_LEARNED = 1u << 14,  /* its valence is a learned one (set by the scorer) */
    TK_PENDING = 1u << 15,  /* lexicon lookup not done yet (inside st_tokenize only) */
};

typedef struct st_token {
    uint64_t hash;        /* sl_hash of the lower-case form (feature hashing reuses it) */
    uint32_t start, end;  /* UTF-8 byte offsets into the text, end exclusive */
    uint32_t low;         /* lower-case form: offset into the scratch buffer */
    uint16_t low_len;
    uint16_t flags;       /* TK_* */
    uint32_t sent;        /* sentence index */
    uint16_t lxflags;     /* e->flags, or 0 without an entry (read without touching e) */
    uint16_t adds;        /* set by sv_score: 1 when the token may add to a sentence's sums
                           * (listed for the rule loops, in a sentence whose rules visit
                           * every token, or outside every sentence); 0: it adds only
                           * zeros (score 0, no negation or lean weight) */
    const sl_entry_t *e;  /* lexicon entry of the lower-case form, or NULL */
    /* Filled by the scorer (st_tokenize leaves them as the scorer would
     * set them for a word without rule (not in st_doc_t.scand): eflags
     * lxflags, phrase_len 1, the rest 0): */
    uint16_t eflags;      /* effective SL_* flags after phrase matching */
    uint8_t phrase_len;   /* >1: first word of a matched phrase of that many words */
    uint8_t pad;
    float lex;            /* effective lexicon valence (0 if none) */
    float boost;          /* effective booster step */
    float score;          /* final valence of this word in its sentence */
} st_token_t;

typedef struct st_sentence {
    uint32_t start, end;     /* byte offsets */
    uint32_t tok_begin, tok_end;
    uint16_t excl, quest;    /* '!' and '?' in the sentence */
    float sum;               /* summed valence with rules, before punctuation */
    float pos_sum, neg_sum;  /* VADER's sifted sums */
    uint32_t neu_count;
    uint32_t polar;          /* words with a non-zero valence */
    float compound;
    float lex_compound;      /* compound from lexicon valences only (no learned ones) */
    float lex_sum, lex_pos, lex_neg; /* lexicon-only valence sums (people model) */
} st_sentence_t;

typedef struct st_doc {
    const char *text;
    size_t len;
    st_token_t *tok;
    size_t ntok, tok_cap;
    st_sentence_t *sent;
    size_t nsent, sent_cap;
    char *low;               /* lower-case forms, NUL-separated */
    size_t low_len, low_cap;
    size_t excl, quest;      /* whole document */
    int cap_diff;            /* some but not all words in capitals */
    uint32_t *slist;         /* the scorer's scratch: a sentence's rule-relevant tokens */
    size_t slist_cap;
    /* The tokens the people rules' pronoun pass reads, in order: those with
     * a lexicon entry whose form has 3 bytes ("the") or that is a pronoun
     * (SL_PRONOUN).  Listed as their lookups finish. */
    uint32_t *cand;
    size_t ncand, cand_cap;
    /* The tokens a name may start at (TK_CAP or TK_WEIRD), in order. */
    uint32_t *capw;
    size_t ncapw, capw_cap;
    /* The tokens the scorer's rules may read or change (ST_SCORER_FLAGS in
     * their entry's flags, TK_NT, or a lean value), in order: sv_score sets
     * up only these (every other token keeps what st_tokenize gave it). */
    uint32_t *scand;
    size_t nscand, scand_cap;
} st_doc_t;

/* Entry flags that make a token one of st_doc_t.scand. */
#define ST_SCORER_FLAGS (SL_VALENCE | SL_BOOSTER | SL_NEGATION | SL_CONTRAST | SL_PHRASE_START | \
                         SL_LEARNED)

void st_doc_init(st_doc_t *d);
void st_doc_free(st_doc_t *d);

/* Tokenize text (valid UTF-8, NUL-terminated: text[len] == '\0', as the host
 * gives it).  Returns TM_OK or TM_ENOMEM. */
int st_tokenize(st_doc_t *d, const sl_lexicon_t *lx, const char *text, size_t len);

static inline const char *st_low(const st_doc_t *d, const st_token_t *t) { return d->low + t->low; }

/* Token t's lower-case form is the word w (n bytes).  Up to 8 bytes the
 * token's hash (sl_hash of its form) decides it: XXH3 maps the inputs of
 * one length from 1 to 8 bytes one-to-one (the bytes are packed into 64
 * bits, then mixed by invertible steps), so equal hashes and lengths mean
 * equal forms.  A literal's hash folds to a constant, and the form's
 * bytes (another cache line) are not read. */
static inline int st_is(const st_doc_t *d, const st_token_t *t, const char *w, size_t n)
{
    if (n >= 1 && n <= 8)
        return t->low_len == n && t->hash == sl_hash(w, n);
    return t->low_len == n && memcmp(st_low(d, t), w, n) == 0;
}

#endif
