/*
 * score.c - the rule-based valence scorer (see score.h).  Per sentence:
 * phrases first (an idiom or a multi-word booster becomes one unit), then
 * each sentiment word is adjusted by the words before it (boosters with
 * distance decay, negations, the VADER special cases), then "but" re-weights
 * the sentence's halves.  All arithmetic is bounded: counts are capped and
 * the normaliser is total, so no input gives NaN or infinity.
 */
#include "score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sv_params_prepare(sv_params_t *p)
{
    for (int k = 0; k < SV_POLAR_POW; k++)
        p->polar_pow[k] = pow((double)k, p->polar_damping); /* the same values pow gives later */
    p->pow_damping = p->polar_damping;
    p->pow_ready = 1;
}

void sv_params_default(sv_params_t *p)
{
    p->pow_ready = 0; /* (sv_params_prepare fills the table) */
    p->caps_incr = 0.733;
    p->neg_scalar = -0.74;
    p->but_before = 0.5;
    p->but_after = 1.5;
    p->excl_step = 0.292;
    p->excl_max = 4;
    p->quest_step = 0.18;
    p->quest_max = 0.96;
    p->alpha = 15.0;
    p->neutral_band = 0.0;
    p->negation_window = 3;
    p->doc_sentences = 0;
    p->learned_weight = 0;
    p->polar_damping = 0;
    p->positive_scale = 1;
    p->negation_bias = 0;
    p->question_positive = 1;
}

double sv_normalize(double sum, double alpha)
{
    if (sum == 0)
        return sum; /* what the division gives for a zero of either sign, without it */
    if (!isfinite(sum))
        return 0.0;
    if (sum > 1e6)
        return 1.0;
    if (sum < -1e6)
        return -1.0;
    double r = sum / sqrt(sum * sum + alpha);
    if (r > 1.0)
        r = 1.0;
    if (r < -1.0)
        r = -1.0;
    return r;
}

double sv_punct(const sv_params_t *p, size_t excl, size_t quest)
{
    size_t e = excl > (size_t)p->excl_max ? (size_t)p->excl_max : excl;
    double amp = (double)e * p->excl_step;
    if (quest > 1)
        amp += quest <= 3 ? (double)quest * p->quest_step : p->quest_max;
    return amp;
}

#define IS(t, lit) st_is(d, (t), lit, sizeof lit - 1)

static inline int sv__negated(const st_token_t *t)
{
    return (t->eflags & SL_NEGATION) || (t->flags & TK_NT);
}

/* The "lean" value token i adds to its sentence (when it is no negation):
 * its entry's value for a lean word before another word of its sentence
 * ("too long", "only 61 percent"), else 0. */
static inline double sv__lean_value(const st_doc_t *d, size_t i)
{
    const st_token_t *t = &d->tok[i];
    if (t->e == NULL || t->e->lean == 0 || i + 1 >= d->ntok || d->tok[i + 1].sent != t->sent ||
        (t->flags & (TK_COMMA_AFTER | TK_DOT_AFTER)) || !(d->tok[i + 1].flags & TK_ALPHA))
        return 0;
    return t->e->lean * 0.01;
}

/* What token i adds to its sentence by itself: negation_bias for a negation
 * ("did not apply"), else its lean value (sv__lean_value). */
static inline double sv__lean(const st_doc_t *d, const sv_params_t *p, size_t i)
{
    if (sv__negated(&d->tok[i]))
        return p->negation_bias;
    return sv__lean_value(d, i);
}

/* c ? x : y for doubles, by a mask (c is 0 or 1): no branch. */
static inline double sv__pick(unsigned c, double x, double y)
{
    uint64_t bx, by;
    memcpy(&bx, &x, 8);
    memcpy(&by, &y, 8);
    const uint64_t m = 0 - (uint64_t)c;
    bx = (bx & m) | (by & ~m);
    memcpy(&x, &bx, 8);
    return x;
}

/* Match phrases in tokens [a, b).  starts: NULL, or the tokens in [a, b)
 * with a lexicon entry that may start a phrase (SL_PHRASE_START), nstarts
 * of them in order (the only ones the loop below goes on with).  Returns 1
 * when one matched. */
static int sv__phrases(st_doc_t *d, const sl_lexicon_t *lx, size_t a, size_t b,
                       const uint32_t *starts, size_t nstarts)
{
    int matched = 0;
    char buf[384];
    const size_t nvisit = starts != NULL ? nstarts : b - a;
    for (size_t v = 0; v < nvisit; v++) {
        const size_t i = starts != NULL ? starts[v] : a + v;
        st_token_t *t = &d->tok[i];
        if (t->flags & TK_SKIP)
            continue;
        if (t->e == NULL || !(t->lxflags & SL_PHRASE_START))
            continue;
        size_t maxw = (size_t)lx->max_phrase_words;
        if (maxw > b - i)
            maxw = b - i;
        /* No phrase starts with these two words: skip joining and hashing
         * them (the filter has no false negatives). */
        if (maxw >= 2 && !sl_pair_maybe(lx, t->hash, d->tok[i + 1].hash))
            continue;
        size_t lens[8], n = 0, built = 0;
        int two_ok = -1; /* unknown yet */
        /* The first two words, then the rest only when some phrase starts
         * with these two (most phrase starts begin none). */
        for (size_t k = 0; k < maxw && k < 8; k++) {
            if (k == 2) {
                const sl_entry_t *two = sl_get(lx, buf, lens[1]);
                two_ok = two != NULL && (two->flags & (SL_PHRASE | SL_PHRASE_PREFIX));
                if (!two_ok)
                    break;
            }
            const st_token_t *u = &d->tok[i + k];
            if (n + u->low_len + 1 >= sizeof buf)
                break;
            if (k > 0)
                buf[n++] = ' ';
            memcpy(buf + n, st_low(d, u), u->low_len);
            n += u->low_len;
            lens[k] = n;
            built = k + 1;
        }
        if (built < 2)
            continue;
        if (two_ok < 0) {
            /* Only when some phrase starts with these two words. */
            const sl_entry_t *two = sl_get(lx, buf, lens[1]);
            two_ok = two != NULL && (two->flags & (SL_PHRASE | SL_PHRASE_PREFIX));
        }
        if (!two_ok)
            continue;
        for (size_t w = built; w >= 2; w--) {
            const sl_entry_t *pe = sl_get(lx, buf, lens[w - 1]);
            if (pe == NULL || !(pe->flags & SL_PHRASE) || pe->phrase_words != w)
                continue;
            for (size_t k = 1; k < w; k++) {
                d->tok[i + k].flags |= TK_SKIP;
                d->tok[i + k].eflags = 0;
                d->tok[i + k].lex = 0;
                d->tok[i + k].boost = 0;
            }
            t->phrase_len = (uint8_t)w;
            matched = 1;
            switch (pe->phrase_kind) {
            case SL_PHRASE_VALENCE:
                t->eflags = (uint16_t)((t->eflags & ~(SL_BOOSTER | SL_NEGATION)) | SL_VALENCE);
                t->lex = pe->valence;
                break;
            case SL_PHRASE_BOOSTER:
                t->eflags = SL_BOOSTER;
                t->lex = 0;
                t->boost = pe->booster;
                break;
            case SL_PHRASE_NEUTRAL:
                t->eflags = 0;
                t->lex = 0;
                break;
            default:
                t->eflags = (uint16_t)(pe->flags & ~(SL_PHRASE | SL_PHRASE_START));
                t->lex = 0;
                break;
            }
            break;
        }
    }
    return matched;
}

/* The previous unskipped token before j within [a, ...), or SIZE_MAX.
 * noskip: the sentence has no skipped token (it matched no phrase). */
static inline size_t sv__prev(const st_doc_t *d, size_t a, size_t j, const int noskip)
{
    if (noskip)
        return j > a ? j - 1 : SIZE_MAX;
    while (j > a) {
        j--;
        if (!(d->tok[j].flags & TK_SKIP))
            return j;
    }
    return SIZE_MAX;
}

/* Token j (SIZE_MAX: none) cannot start any of sv__word's rules as one of
 * the three words before a sentiment word: no booster, no negation (word
 * or n't), and not "no", "so", "this", "never" or "least" (the words its
 * special cases name first; "or", "nor", "without", "doubt", "at" and
 * "very" only matter beside one of those). */
static inline int sv__plain(const st_doc_t *d, size_t j)
{
    if (j == SIZE_MAX)
        return 1;
    const st_token_t *m = &d->tok[j];
    if ((m->eflags & (SL_BOOSTER | SL_NEGATION)) || (m->flags & TK_NT))
        return 0;
    switch (m->low_len) {
    case 2:
        return !IS(m, "no") && !IS(m, "so");
    case 4:
        return !IS(m, "this");
    case 5:
        return !IS(m, "never") && !IS(m, "least");
    default:
        return 1;
    }
}

/* sv__plain for a token m that exists, as bit operations (the sentiment
 * words of a text have plain and other words before them in no order a
 * branch predicts): 1 when m is plain.  (The five words' hashes are
 * constants: see st_is.) */
__attribute__((always_inline)) static inline unsigned sv__plain_bits(const st_token_t *m)
{
    const uint64_t h = m->hash;
    const unsigned n = m->low_len;
    const unsigned named = ((n == 2) & ((h == sl_hash("no", 2)) | (h == sl_hash("so", 2)))) |
                           ((n == 4) & (h == sl_hash("this", 4))) |
                           ((n == 5) & ((h == sl_hash("never", 5)) | (h == sl_hash("least", 5))));
    const unsigned rule = ((m->eflags & (SL_BOOSTER | SL_NEGATION)) != 0) | ((m->flags & TK_NT) != 0);
    return (named | rule) ^ 1u;
}

/* The score of a sentiment word no rule of sv__word applies to (each
 * needs a booster, a negation or one of the words sv__plain names among the
 * three words before, or "no" itself): only capitals and the positive
 * scale. */
static inline void sv__word_plain(const sv_params_t *p, st_token_t *t, int cap_diff)
{
    double v = t->lex;
    if ((t->flags & TK_UPPER) && cap_diff)
        v += v > 0 ? p->caps_incr : -p->caps_incr;
    if (v > 0)
        v *= p->positive_scale;
    t->score = (float)v;
}

/* The score of sentiment word i of the sentence [a, b): its valence
 * adjusted by the words before it (boosters, negations, the VADER special
 * cases) and by capitals. */
static inline void sv__word(st_doc_t *d, const sv_params_t *p, size_t a, size_t b, size_t i,
                            int cap_diff, const int noskip)
{
    st_token_t *t = &d->tok[i];
    double base = t->lex, v = base;
    if (noskip && p->negation_window <= 3) {
        /* In a sentence without skipped words (the three words before are
         * i - 1, i - 2 and i - 3 when they are in it) the test below with
         * one branch: a missing word reads word i in its place and counts
         * as plain. */
        const st_token_t *const tk = d->tok;
        unsigned plain = (unsigned)((t->low_len == 2) & (t->hash == sl_hash("no", 2))) ^ 1u;
        plain &= (i <= a) | sv__plain_bits(&tk[i > a ? i - 1 : i]);
        plain &= (i <= a + 1) | sv__plain_bits(&tk[i > a + 1 ? i - 2 : i]);
        plain &= (i <= a + 2) | sv__plain_bits(&tk[i > a + 2 ? i - 3 : i]);
        if (plain) {
            sv__word_plain(p, t, cap_diff);
            return;
        }
    }
    size_t p1 = sv__prev(d, a, i, noskip);
    size_t p2 = p1 != SIZE_MAX ? sv__prev(d, a, p1, noskip) : SIZE_MAX;
    size_t p3 = p2 != SIZE_MAX ? sv__prev(d, a, p2, noskip) : SIZE_MAX;
    if (p->negation_window <= 3 && !IS(t, "no") && sv__plain(d, p1) && sv__plain(d, p2) &&
        sv__plain(d, p3)) {
        sv__word_plain(p, t, cap_diff);
        return;
    }
    /* "no" before another sentiment word is a negation, not a word. */
    if (IS(t, "no")) {
        for (size_t j = i + 1; j < b; j++) {
            if (d->tok[j].flags & TK_SKIP)
                continue;
            if (d->tok[j].eflags & SL_VALENCE)
                v = 0;
            break;
        }
    }
    if ((p1 != SIZE_MAX && IS(&d->tok[p1], "no")) ||
        (p2 != SIZE_MAX && IS(&d->tok[p2], "no")) ||
        (p3 != SIZE_MAX && IS(&d->tok[p3], "no") &&
         (IS(&d->tok[p1], "or") || IS(&d->tok[p1], "nor"))))
        v = base * p->neg_scalar;
    if ((t->flags & TK_UPPER) && cap_diff)
        v += v > 0 ? p->caps_incr : -p->caps_incr;
    /* Modifiers before the word: boosters, negations. */
    size_t j = i;
    int window = p->negation_window > 3 ? p->negation_window : 3;
    for (int k = 1; k <= window; k++) {
        j = sv__prev(d, a, j, noskip);
        if (j == SIZE_MAX)
            break;
        const st_token_t *m = &d->tok[j];
        if (m->eflags & SL_VALENCE)
            continue; /* a sentiment word neither boosts nor negates */
        if (k <= 3 && (m->eflags & SL_BOOSTER)) {
            double s = m->boost;
            if (v < 0)
                s = -s;
            if ((m->flags & TK_UPPER) && cap_diff)
                s += v > 0 ? p->caps_incr : -p->caps_incr;
            if (k == 2)
                s *= 0.95;
            else if (k == 3)
                s *= 0.9;
            v += s;
        }
        if (k == 1) {
            if (sv__negated(m))
                v *= p->neg_scalar;
        } else if (k == 2) {
            if (IS(m, "never") && (IS(&d->tok[p1], "so") || IS(&d->tok[p1], "this")))
                v *= 1.25;
            else if (IS(m, "without") && IS(&d->tok[p1], "doubt"))
                ;
            else if (sv__negated(m))
                v *= p->neg_scalar;
        } else if (k == 3) {
            if ((IS(m, "never") && (IS(&d->tok[p2], "so") || IS(&d->tok[p2], "this"))) ||
                IS(&d->tok[p1], "so") || IS(&d->tok[p1], "this"))
                v *= 1.25;
            else if (IS(m, "without") && (IS(&d->tok[p2], "doubt") || IS(&d->tok[p1], "doubt")))
                ;
            else if (sv__negated(m))
                v *= p->neg_scalar;
        } else if (sv__negated(m)) {
            v *= p->neg_scalar;
            break; /* a wider window negates once */
        }
    }
    /* "least": "the least X" negates, "at least X" does not. */
    if (p1 != SIZE_MAX && IS(&d->tok[p1], "least") && !(d->tok[p1].eflags & SL_VALENCE)) {
        if (p2 == SIZE_MAX || (!IS(&d->tok[p2], "at") && !IS(&d->tok[p2], "very")))
            v *= p->neg_scalar;
    }
    if (v > 0)
        v *= p->positive_scale;
    t->score = (float)v;
}

/* Tokens [a, b) may add to a sum (st_token_t.adds). */
static void sv__mark_adds(st_doc_t *d, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        d->tok[i].adds = 1;
}

/* list: room for the sentence's tokens, or NULL.  Most sentences match no
 * phrase; then the rule loops visit only the tokens a rule can touch
 * (sentiment, contrast and negation words, "lean" words), listed while the
 * tokens are set up: every other token scores 0, adds nothing to any sum
 * and counts as neutral.  With a list, only the sentence's tokens in
 * d->scand (sc[0..nsc)) are set up: every other one has the fields
 * st_tokenize gave it, which are what the setup below would give it. */
__attribute__((always_inline)) static inline void
sv__sentence_(st_doc_t *d, const sl_lexicon_t *lx, const sv_params_t *p, st_sentence_t *se,
              uint32_t *list, const int haslist, const uint32_t *sc, size_t nsc)
{
    size_t a = se->tok_begin, b = se->tok_end;
    size_t nl = 0, nps = 0;
    /* The phrase starts, after the rule list's room (sv_score gives list
     * room for 2 * ntok). */
    if (!haslist)
        list = NULL; /* (haslist: a constant in each copy, list != NULL) */
    uint32_t *ps = haslist ? list + d->ntok : NULL;
    const size_t nset = haslist ? nsc : b - a;
    for (size_t v = 0; v < nset; v++) {
        const size_t i = haslist ? sc[v] : a + v;
        st_token_t *t = &d->tok[i];
        if (t->e == NULL) {
            /* No entry: the fields below as st_tokenize left them (no
             * TK_SKIP or TK_LEARNED, phrase_len 1, eflags, lex, boost and
             * score 0: sv_score runs once per st_tokenize). */
            if (haslist && (t->flags & TK_NT)) {
                list[nl++] = (uint32_t)i;
                t->adds = 1;
            }
            continue;
        }
        /* (TK_SKIP, TK_LEARNED, phrase_len, boost and score: as st_tokenize
         * left them, see the note above, unless set below.)  Which classes a
         * listed word has is as good as random: the fields are chosen by
         * bit operations, without branches. */
        const sl_entry_t *const e = t->e;
        uint16_t ef = t->lxflags;
        if (haslist) {
            ps[nps] = (uint32_t)i;
            nps += (ef & SL_PHRASE_START) != 0;
        }
        /* A learned valence for a word without a lexicon one that is no
         * booster, negation, contrast, function word, pronoun or title,
         * and not in n't. */
        const unsigned learned =
            (unsigned)((ef & (SL_LEARNED | SL_VALENCE | SL_BOOSTER | SL_NEGATION | SL_CONTRAST |
                              SL_FUNCTION | SL_PRONOUN | SL_TITLE)) == SL_LEARNED) &
            (unsigned)((t->flags & TK_NT) == 0) & (unsigned)(p->learned_weight > 0);
        const float vlex = e->valence, llex = (float)(e->learned * p->learned_weight);
        uint32_t vb, lb, bb;
        memcpy(&vb, &vlex, 4);
        memcpy(&lb, &llex, 4);
        memcpy(&bb, &e->booster, 4);
        const uint32_t mv = 0u - (uint32_t)((ef & SL_VALENCE) != 0), ml = 0u - (uint32_t)learned;
        const uint32_t mb = 0u - (uint32_t)((ef & SL_BOOSTER) != 0);
        vb = (vb & mv) | (lb & ml); /* (mv and ml: never both) */
        bb &= mb; /* (no booster: 0, as st_tokenize left it) */
        memcpy(&t->boost, &bb, 4);
        ef = (uint16_t)(ef | (learned * SL_VALENCE));
        t->flags = (uint16_t)(t->flags | (learned * TK_LEARNED));
        t->eflags = ef;
        memcpy(&t->lex, &vb, 4);
        if (haslist) {
            const unsigned rule = (unsigned)((ef & (SL_VALENCE | SL_CONTRAST | SL_NEGATION)) != 0) |
                                  (unsigned)((t->flags & TK_NT) != 0) | (unsigned)(e->lean != 0);
            list[nl] = (uint32_t)i;
            nl += rule;
            t->adds = (uint16_t)rule; /* (0 before: set only here) */
        }
    }
    /* A matched phrase changes its words' classes: then every token. */
    if (lx->max_phrase_words >= 2 && (ps == NULL || nps > 0) && sv__phrases(d, lx, a, b, ps, nps))
        list = NULL;
    const int use_list = list != NULL;
    const size_t nvisit = use_list ? nl : b - a;
    if (!use_list)
        sv__mark_adds(d, a, b); /* (the rules visit every token) */

    const int cap_diff = d->cap_diff;
    size_t contrast = SIZE_MAX;
    for (size_t k = 0; k < nvisit; k++) {
        const size_t i = use_list ? list[k] : a + k;
        st_token_t *t = &d->tok[i];
        if (t->flags & TK_SKIP)
            continue;
        if ((t->eflags & SL_CONTRAST) && contrast == SIZE_MAX)
            contrast = i;
        if (t->eflags & SL_BOOSTER)
            continue; /* a degree word is not itself a sentiment word */
        if (!(t->eflags & SL_VALENCE))
            continue;
        sv__word(d, p, a, b, i, cap_diff, use_list); /* (a listed sentence matched no phrase) */
    }
    if (contrast != SIZE_MAX) {
        for (size_t k = 0; k < nvisit; k++) {
            const size_t i = use_list ? list[k] : a + k;
            if (i < contrast)
                d->tok[i].score = (float)(d->tok[i].score * p->but_before);
            else if (i > contrast)
                d->tok[i].score = (float)(d->tok[i].score * p->but_after);
        }
    }
    double sum = 0, pos = 0, neg = 0, lexsum = 0;
    uint32_t neu = 0, polar = 0;
    /* Negation leans negative by itself (Potts, "On the negativity of
     * negation", 2010): "did not apply", "isn't aware" rate below 0 with no
     * sentiment word.  Each negation word adds negation_bias to the sum, and
     * each "lean" word of rules.txt its value ("too", "only"; see sv__lean),
     * after the damping
     * (it is evidence beside the words, not one of them) and weighted like
     * the words around a contrast word.  Token scores are left alone: the
     * people model reads them. */
    double nbias = 0;
    float lex_pos = 0, lex_neg = 0;
    if (use_list)
        neu = (uint32_t)(b - a - nl); /* the tokens not listed */
    /* Whether a word is a negation, scored, positive or learned is as good
     * as random: each sum takes the word's part or +0, chosen by masks
     * (adding +0 changes no sum: they start at +0 and never become -0, as
     * x + -x is +0; and a score or weight of 0, of either sign, adds
     * nothing). */
    for (size_t k = 0; k < nvisit; k++) {
        const size_t i = use_list ? list[k] : a + k;
        const st_token_t *t = &d->tok[i];
        if (t->flags & TK_SKIP)
            continue;
        /* (sv__lean without a branch on the negation) */
        double w = sv__pick((unsigned)sv__negated(t), p->negation_bias, sv__lean_value(d, i));
        if (contrast != SIZE_MAX && i != contrast)
            w *= i < contrast ? p->but_before : p->but_after;
        nbias += w;
        const double s = t->score;
        const unsigned nz = s != 0, up = s > 0, lexw = nz & ((t->flags & TK_LEARNED) == 0);
        neu += nz ^ 1u;
        polar += nz;
        sum += sv__pick(nz, s, 0.0);
        lexsum += sv__pick(lexw, s, 0.0);
        lex_pos += (float)sv__pick(lexw & up, s, 0.0);
        lex_neg += (float)sv__pick(lexw & (up ^ 1u), s, 0.0);
        pos += sv__pick(up, s + 1, 0.0);
        neg += sv__pick(nz & (up ^ 1u), s - 1, 0.0);
    }
    se->lex_pos = lex_pos;
    se->lex_neg = lex_neg;
    se->polar = polar;
    if (p->polar_damping > 0 && se->polar > 1)
        sum /= p->pow_ready && se->polar < SV_POLAR_POW && p->pow_damping == p->polar_damping
                   ? p->polar_pow[se->polar]
                   : pow((double)se->polar, p->polar_damping);
    sum += nbias;
    /* A question asks rather than asserts: praise in one ("Is it any good?",
     * "Who else would bother?") is doubt as often as not. */
    if (se->quest > 0 && sum > 0)
        sum *= p->question_positive;
    se->sum = (float)sum;
    se->lex_sum = (float)lexsum;
    se->pos_sum = (float)pos;
    se->neg_sum = (float)neg;
    se->neu_count = neu;
    double s = sum;
    if (s > 0)
        s = fmax(0.0, s - p->neutral_band);
    else if (s < 0)
        s = fmin(0.0, s + p->neutral_band);
    double amp = sv_punct(p, se->excl, se->quest);
    if (s > 0)
        s += amp;
    else if (s < 0)
        s -= amp;
    se->compound = (float)sv_normalize(s, p->alpha);
    se->lex_compound = (float)sv_normalize(lexsum != 0 ? lexsum + (lexsum > 0 ? amp : -amp) : 0,
                                           p->alpha);
}

/* list: room for the sentence's tokens, or NULL (see sv__sentence_): one
 * copy of the sentence scorer for each. */
static void sv__sentence(st_doc_t *d, const sl_lexicon_t *lx, const sv_params_t *p,
                         st_sentence_t *se, uint32_t *list, const uint32_t *sc, size_t nsc)
{
    if (list != NULL)
        sv__sentence_(d, lx, p, se, list, 1, sc, nsc);
    else
        sv__sentence_(d, lx, p, se, NULL, 0, NULL, 0);
}

void sv_score(st_doc_t *d, const sl_lexicon_t *lx, const sv_params_t *p)
{

    /* The sentences' token lists (scratch kept across documents); without
     * the memory the rule loops visit every token instead. */
    uint32_t *list = NULL;
    if (2 * d->ntok <= d->slist_cap) {
        list = d->slist;
    } else {
        size_t cap = d->slist_cap ? d->slist_cap : 1024;
        while (cap < 2 * d->ntok)
            cap *= 2;
        uint32_t *nl = realloc(d->slist, cap * sizeof *nl);
        if (nl != NULL) {
            d->slist = list = nl;
            d->slist_cap = cap;
        }
    }
    /* Tokens outside every sentence (none: the sentences cover the
     * tokens) are never scored; sv_compound_range still adds them. */
    size_t next = 0;
    /* Each sentence's part of d->scand (the sentences' token ranges follow
     * each other in order). */
    const uint32_t *const sc = d->scand;
    const size_t nsc = d->nscand;
    size_t c = 0;
    for (size_t s = 0; s < d->nsent; s++) {
        st_sentence_t *se = &d->sent[s];
        if (next < se->tok_begin)
            sv__mark_adds(d, next, se->tok_begin);
        while (c < nsc && sc[c] < se->tok_begin)
            c++;
        size_t ce = c;
        while (ce < nsc && sc[ce] < se->tok_end)
            ce++;
        sv__sentence(d, lx, p, se, list, sc + c, ce - c);
        c = ce;
        if (se->tok_end > next)
            next = se->tok_end;
    }
    if (next < d->ntok)
        sv__mark_adds(d, next, d->ntok);
}

double sv_compound_range(const st_doc_t *d, const sv_params_t *p, size_t a, size_t b, size_t excl,
                         size_t quest)
{
    double s = 0;
    if (b > d->ntok)
        b = d->ntok;
    for (size_t i = a; i < b; i++) {
        const st_token_t *t = &d->tok[i];
        /* A token sv_score did not mark adds only zeros: not listed for
         * its sentence's rule loops, so no rule scored it (and the contrast
         * weights are finite), and it is no negation, word in n't or lean
         * word (sv__lean gives 0).  Adding a zero changes no sum that starts
         * at +0 (it never becomes -0). */
        if ((t->flags & TK_SKIP) || !t->adds)
            continue;
        s += t->score;
        s += sv__lean(d, p, i);
    }
    if (s > 0)
        s = fmax(0.0, s - p->neutral_band);
    else if (s < 0)
        s = fmin(0.0, s + p->neutral_band);
    double amp = sv_punct(p, excl, quest);
    if (s > 0)
        s += amp;
    else if (s < 0)
        s -= amp;
    return sv_normalize(s, p->alpha);
}

void sv_document(const st_doc_t *d, const sv_params_t *p, sv_totals_t *out)
{
    double sum = 0, pos = 0, neg = 0, neu = 0, polar = 0;
    for (size_t s = 0; s < d->nsent; s++) {
        sum += d->sent[s].sum;
        polar += d->sent[s].polar;
        pos += d->sent[s].pos_sum;
        neg += d->sent[s].neg_sum;
        neu += d->sent[s].neu_count;
    }
    /* Long documents: the sum grows with length, so scale it back to a
     * "typical document" of doc_sentences sentences. */
    if (p->doc_sentences > 0 && (double)d->nsent > p->doc_sentences)
        sum *= sqrt(p->doc_sentences / (double)d->nsent);
    (void)polar;
    if (sum > 0)
        sum = fmax(0.0, sum - p->neutral_band);
    else if (sum < 0)
        sum = fmin(0.0, sum + p->neutral_band);
    double amp = sv_punct(p, d->excl, d->quest);
    if (sum > 0)
        sum += amp;
    else if (sum < 0)
        sum -= amp;
    out->compound = sv_normalize(sum, p->alpha);
    if (pos > fabs(neg))
        pos += amp;
    else if (pos < fabs(neg))
        neg -= amp;
    double total = pos + fabs(neg) + neu;
    if (total > 0 && isfinite(total)) {
        out->pos = fabs(pos / total);
        out->neg = fabs(neg / total);
        out->neu = fabs(neu / total);
    } else {
        out->pos = out->neg = 0;
        out->neu = 1.0;
    }
}
