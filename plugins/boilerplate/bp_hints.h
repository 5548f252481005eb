/*
 * bp_hints.h - HTML class/id/role hints: which words in an element's class,
 * id or role attribute say "this is navigation / share buttons / comments"
 * or "this is the article body", loaded from class_hints.txt.
 *
 * File format, one hint a line:
 *
 *     <weight> <kind> <match>
 *     -50 share ~share          substring of the lower-cased attribute
 *     -40 navigation =nav       a whole word ("main-nav", "nav bar")
 *     +30 - =article-body       positive hints take "-" as kind
 *
 * Substrings are found with one Aho-Corasick pass over the attribute;
 * words (split at anything but [a-z0-9]) through a hash set.  An element's
 * score is the sum of the weights of the distinct hints it matches; its kind
 * is that of its most negative hint.
 */
#ifndef BP_HINTS_H
#define BP_HINTS_H

#include <stddef.h>
#include <stdint.h>

#include "bp_util.h"

#define BP_HINTS_MAX 1024
#define BP_AC_ALPHA 38

typedef struct bp_hint {
    int weight;
    int kind;      /* kind index, or -1 */
    char *text;
} bp_hint_t;

typedef struct bp_hints {
    bp_hint_t *v;
    size_t n, cap;
    /* Aho-Corasick automaton over substring hints */
    int32_t (*go)[BP_AC_ALPHA];
    int32_t *fail;
    int32_t *out;      /* first output (hint index) of a state, or -1 */
    int32_t *out_next; /* output chain through fail links: next state with an output */
    size_t nstates, capstates;
    /* per-state list of hint ids ending here */
    int32_t *term;     /* hint id or -1 (one per state; duplicates chain via term_next) */
    int32_t *term_next;
    size_t nterm, capterm;
    bp_map_t words;    /* hash of a whole-word hint -> hint index + 1 chain head */
    int32_t *word_next;
    int built;
} bp_hints_t;

typedef int (*bp_kind_fn)(void *ctx, const char *name);

/* Load hints from path; kind names are resolved through kind_fn. */
int bp_hints_load(bp_hints_t *h, const char *path, bp_kind_fn kind_fn, void *ctx, char *err,
                  size_t errlen);
/* Build the automaton after all files are loaded. */
int bp_hints_build(bp_hints_t *h);
void bp_hints_free(bp_hints_t *h);

typedef struct bp_hint_score {
    int score;     /* sum of weights */
    int neg;       /* most negative weight (0 when none) */
    int kind;      /* kind of that hint, or -1 */
    int pos;       /* largest positive weight */
} bp_hint_score_t;

/* Score one attribute value (class, id or role); accumulates into *sc.
 * seen is caller scratch of h->n bytes, zeroed by the caller per element. */
void bp_hints_score(const bp_hints_t *h, const char *s, size_t n, unsigned char *seen,
                    bp_hint_score_t *sc);

#endif
