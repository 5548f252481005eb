/*
 * people.h - who a document talks about: person mentions and the entities
 * they belong to.  Mentions come from the quotes stage's speakers (canonical
 * names and offsets) when that annotation is present, from user-given target
 * spans (meta.sentiment_targets), and from the stage's own detection:
 * capitalised name sequences with titles and initials, surname/first-name
 * coreference within the document, and he/she pronouns resolved to the
 * nearest compatible person before them.
 */
#ifndef TM_SENTIMENT_PEOPLE_H
#define TM_SENTIMENT_PEOPLE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "text.h"

enum { PP_NAME = 1, PP_PRONOUN = 2, PP_SPEAKER = 3, PP_TARGET = 4 };

typedef struct pp_mention {
    uint32_t start, end;          /* byte span of the mention (title included) */
    uint32_t tok_begin, tok_end;  /* its tokens */
    uint32_t name_begin;          /* first token after any title */
    uint32_t sent;
    int32_t entity;
    uint8_t kind;                 /* PP_* */
    uint8_t gender;
    uint8_t titled;               /* preceded by a title */
    uint8_t speaker;              /* speaks a quote in its sentence (quotes stage or "X said") */
    float prob[3];                /* people model: negative, neutral, positive */
} pp_mention_t;

typedef struct pp_entity {
    uint32_t name_off, name_len;  /* canonical name, in the people scratch buffer */
    uint32_t surname_off, surname_len; /* lower-case last name token */
    uint32_t first_off, first_len;     /* lower-case first name token (or 0) */
    uint32_t nmentions;
    uint32_t ntokens;             /* tokens in the canonical name */
    uint8_t gender;
    uint8_t unresolved;           /* a pronoun with no antecedent */
    uint8_t from_quotes;          /* named by the quotes stage */
    uint8_t pad;
    double prob[3];
} pp_entity_t;

/* A quotes-stage quote, as pp_parse_quotes reads it. */
typedef struct pp_quote {
    uint32_t start, end;          /* its span; 0, 0 when "start"/"end" are not a span of the text */
    uint32_t tok_begin, tok_end;  /* its tokens, when ok (else 0, 0) */
    int ok;                       /* a span of the text that covers a token */
    const cJSON *sp_start, *sp_end; /* its "speaker_start", "speaker_end" members (or NULL) */
} pp_quote_t;

typedef struct pp_doc {
    pp_mention_t *m;
    size_t nm, m_cap;
    pp_entity_t *ent;
    size_t ne, e_cap;
    pp_quote_t *q;
    size_t nq, q_cap;
    char *buf;                    /* names */
    size_t buf_len, buf_cap;
    /* (bool, not uint8_t: a character type's loads may alias anything,
     * which keeps the feature builders' sums in memory around them) */
    bool *tok_person;             /* per token: inside a person mention */
    size_t tok_person_cap;
    bool *tok_quote;              /* per token: inside a quotation */
    size_t tok_quote_cap;
    size_t max_entities;          /* set by the caller; 0 = no limit */
    uint32_t *deferred;           /* sentences with sentence-initial candidates */
    size_t ndeferred, deferred_cap;
    /* The document's word forms (token hashes, bit 0 of the stored value:
     * seen in lower case), built by the name rules once a few questions
     * (answered by scanning the tokens: most documents ask about four) have
     * been asked.  All zero
     * between documents: the slots a document filled (forms_used) are
     * cleared at the next pp_find, not the whole table. */
    uint64_t *forms;
    size_t forms_cap, forms_mask;
    int forms_built;
    int forms_scans;              /* questions answered by a scan of the tokens (the first few) */
    /* What those scans compare: per token the low 32 bits of (its hash | 1),
     * or 0 for a token without a form; fkeys_n: ntok rounded up to a
     * multiple of 4 (zeros after the last token).  Built at a document's
     * first question. */
    uint32_t *fkeys;
    size_t fkeys_n, fkeys_cap;
    uint32_t *forms_used;
    size_t forms_nused;
    const sl_lexicon_t *lx;       /* set by the caller (word classes of hyphen parts); may be NULL */
    pp_mention_t *m_tmp;          /* merge buffer for sorting mentions */
    size_t m_tmp_cap;
    /* Set by pp_parse_quotes, cleared by pp_find: q holds the quotes of
     * this array for this document (pp_find reads them instead of parsing
     * them again). */
    const cJSON *q_src;
    const st_token_t *q_tok;
    size_t q_ntok;
} pp_doc_t;

void pp_doc_init(pp_doc_t *p);
void pp_doc_free(pp_doc_t *p);

/* Find people in d.  quotes/speakers are the quotes stage's annotations (or
 * NULL), targets a user's meta.sentiment_targets (or NULL).  Returns TM_OK or
 * TM_ENOMEM. */
int pp_find(pp_doc_t *p, const st_doc_t *d, const cJSON *quotes, const cJSON *speakers,
            const cJSON *targets, size_t max_mentions);

/* Read the quotes stage's quotes (an array) into p->q, in order: each
 * one's span and tokens, as pp_find uses them; the next pp_find (for the
 * same d and quotes) uses them.  Returns TM_OK or TM_ENOMEM. */
int pp_parse_quotes(pp_doc_t *p, const st_doc_t *d, const cJSON *quotes);

/* Token index containing byte offset off (the first token starting at or after it). */
size_t pp_token_at(const st_doc_t *d, uint32_t off);

static inline const char *pp_str(const pp_doc_t *p, uint32_t off) { return p->buf + off; }

#endif
