/*
 * score.h - the lexicon-and-rules scorer in the VADER tradition: phrase
 * (idiom) matching, boosters and dampeners, negation scope, "but" clauses,
 * ALL-CAPS emphasis, "least"/"no"/"never so" special cases, punctuation
 * emphasis, and VADER's x/sqrt(x^2+alpha) normalisation.
 */
#ifndef TM_SENTIMENT_SCORE_H
#define TM_SENTIMENT_SCORE_H

#include "text.h"

typedef struct sv_params {
    double caps_incr;       /* ALL-CAPS emphasis (VADER 0.733) */
    double neg_scalar;      /* negation multiplier (VADER -0.74) */
    double but_before;      /* weight of words before "but" (VADER 0.5) */
    double but_after;       /* weight after it (VADER 1.5) */
    double excl_step;       /* per '!' (VADER 0.292) */
    int excl_max;           /* '!' counted at most (VADER 4) */
    double quest_step;      /* per '?' when 2 or 3 (VADER 0.18) */
    double quest_max;       /* 4 or more '?' (VADER 0.96) */
    double alpha;           /* normalisation constant (VADER 15) */
    double neutral_band;    /* |sum| shrunk by this before normalising (0 = VADER) */
    int negation_window;    /* words before a sentiment word searched for a negation (VADER 3) */
    double doc_sentences;   /* documents longer than this many sentences are scaled down */
    double learned_weight;  /* weight of learned valences for words without a lexicon one */
    double positive_scale;  /* positive word valences are multiplied by this (1: VADER) */
    double polar_damping;   /* sums are divided by (sentiment words)^polar_damping (0: VADER) */
    double negation_bias;   /* valence each negation word adds to its sentence (0: VADER) */
    double question_positive; /* a question's positive sum is multiplied by this (1: VADER) */
    /* Set by sv_params_prepare: polar_pow[k] = pow(k, polar_damping) for
     * k < SV_POLAR_POW (pow_damping: the damping they were computed for). */
#define SV_POLAR_POW 32
    double polar_pow[SV_POLAR_POW];
    double pow_damping;
    int pow_ready;
} sv_params_t;

void sv_params_default(sv_params_t *p);
/* Precompute what the parameters imply (call after changing them). */
void sv_params_prepare(sv_params_t *p);

/* Score every sentence of a tokenized document: fills each token's score
 * and each sentence's sums and compound.  Once per st_tokenize: words
 * without lexicon entry keep the scorer fields st_tokenize gave them. */
void sv_score(st_doc_t *d, const sl_lexicon_t *lx, const sv_params_t *p);

/* Normalise a valence sum to -1..1 (never NaN; a zero is returned as it is). */
double sv_normalize(double sum, double alpha);

/* Punctuation emphasis for these counts. */
double sv_punct(const sv_params_t *p, size_t excl, size_t quest);

/* Compound of a token range [a, b) of one document (quotes, windows):
 * the summed token scores plus punctuation emphasis, normalised. */
double sv_compound_range(const st_doc_t *d, const sv_params_t *p, size_t a, size_t b,
                         size_t excl, size_t quest);

/* Document totals: compound and VADER's pos/neg/neu proportions. */
typedef struct sv_totals {
    double compound, pos, neg, neu;
} sv_totals_t;
void sv_document(const st_doc_t *d, const sv_params_t *p, sv_totals_t *out);

#endif
