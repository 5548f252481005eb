/*
 * model.h - the people model: sentiment toward one person mention, from a
 * multinomial logistic regression over hashed features of the mention's
 * sentence (words around it with their side and distance, lexicon scores in
 * windows, quotation and attribution context, title, pronoun, other people).
 * The weights are trained offline (train/train_targets.py) and loaded from a
 * text file at start-up; the features are computed only here, and the
 * training script reads them back from the stage's own debug output, so
 * training and use can never disagree about a feature.
 */
#ifndef TM_SENTIMENT_MODEL_H
#define TM_SENTIMENT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <textmill/stage.h>

#include "people.h"
#include "score.h"

#define PM_CLASSES 3 /* negative, neutral, positive */

/* 64 feature indices: which have weights, and the rows before them. */
typedef struct pm_bits {
    uint64_t set;
    uint64_t rank;
} pm_bits_t;

typedef struct pm_model {
    uint32_t dim;     /* power of two */
    float *w;         /* dim x PM_CLASSES while loading; freed after */
    /* Compact form for prediction: a bit per feature index that has weights
     * and, beside each 64-bit word of the bitmap, the number of set bits
     * before it (one cache line holds both), and the weight rows of the set
     * indices in order.  The bitmap and counts stay in cache. */
    pm_bits_t *bits;
    int16_t *rows;    /* nrows x PM_CLASSES, quantised: weight = row * scale; then
                       * one more row, all zero (a feature without weights adds it), and
                       * three zero weights of padding (a row is read 4 weights at a time) */
    void *block;      /* the one allocation holding bits and rows */
    float scale;
    size_t nrows;
    float bias[PM_CLASSES];
    int loaded;
    /* The row of each flag feature (a template and a small value, see
     * model.c), found once at load time: the zero row (nrows) for none. */
#define PM_FLAG_TMPLS 24
#define PM_FLAG_MIN (-8)
#define PM_FLAG_VALS 40
    int32_t flag_row[PM_FLAG_TMPLS * PM_FLAG_VALS];
} pm_model_t;

typedef struct pm_feat {
    uint32_t idx;
    float val;
} pm_feat_t;

typedef struct pm_feats {
    pm_feat_t *f;
    size_t n, cap;
    /* Set by the caller: with a model, every feature's weight row is added
     * to acc as the feature is made, in the same order and arithmetic as
     * pm_scores would add them (pm_features and pm_sentence_features zero
     * it first); store = 0 then skips the list itself (n stays 0). */
    const pm_model_t *model;
    int store;
    double acc[PM_CLASSES];
} pm_feats_t;

/* What a sentence contributes to all its mentions. */
#define PM_SENT_LEX 64
typedef struct pm_sentinfo {
    size_t qtok;         /* tokens inside quotations */
    double qsum, outsum; /* lexicon valence inside / outside quotations */
    /* The sentence's tokens with a non-zero lexicon valence, in order (the
     * nearest ones to each mention are looked up here, not scanned for);
     * nlex > PM_SENT_LEX: too many, the features scan instead. */
    size_t sent;
    size_t nlex;
    uint32_t lex[PM_SENT_LEX];
} pm_sentinfo_t;

/* Load weights ("FILE:LINE: what" on a malformed line). */
int pm_load(pm_model_t *m, const char *path, tm_err_t *err);
void pm_free(pm_model_t *m);

/* Features of mention mi.  dim is the hashing space (a power of two).
 * Returns 0 on out of memory. */
int pm_features(const st_doc_t *d, const pp_doc_t *p, const sv_params_t *sp, size_t mi,
                uint32_t dim, const pm_sentinfo_t *info, pm_feats_t *out);


/* The sentence-wide features of a sentence (its words; people as
 * "<person>"): the same for every mention in it, so scored once. */
int pm_sentence_features(const st_doc_t *d, const pp_doc_t *p, size_t sent, uint32_t dim,
                         pm_feats_t *out, pm_sentinfo_t *info);

/* The summed weights of a feature vector (no bias). */
void pm_scores(const pm_model_t *m, const pm_feats_t *f, double z[PM_CLASSES]);

/* pm_scores and pm_predict from the sums a pm_feats_t with a model
 * accumulated (acc: its acc). */
void pm_scores_acc(const pm_model_t *m, const double acc[PM_CLASSES], double z[PM_CLASSES]);
void pm_predict_acc(const pm_model_t *m, const double acc[PM_CLASSES],
                    const double extra_bias[PM_CLASSES], const double shared[PM_CLASSES],
                    float prob[PM_CLASSES]);

/* Class probabilities for a feature vector, plus optional extra scores
 * (class offsets; a sentence's shared part from pm_scores). */
void pm_predict(const pm_model_t *m, const pm_feats_t *f, const double extra_bias[PM_CLASSES],
                const double shared[PM_CLASSES], float prob[PM_CLASSES]);

#endif
