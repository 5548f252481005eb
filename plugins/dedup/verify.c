/*
 * verify.c - one merge over two sorted samples.
 *
 * Decision: the new document x is a near duplicate of the earlier y when
 *     Jaccard >= jaccard, sharing at least min_content/2 content shingles
 *  or x's containment in y (shared / x's content) >= containment and x has
 *     at least min_content content shingles (estimated: sampled count x
 *     sampling rate),
 * so a copy cut to its first paragraphs (low Jaccard, high containment) is
 * caught, while a one-line text is not called a copy of a long article.
 *  or y's containment in x >= extension (a later, longer version of y: an
 *     updated story, a full text after a brief) with at least half the
 *     Jaccard threshold.
 * The second way is stricter on purpose: a new text that merely includes
 * an earlier short one (a round-up quoting a brief, or a short page that
 * is mostly the same site's page chrome as the new one) is no copy of it.
 */
#include "autoconfig.h"

#include "verify.h"

#include "sketch.h"

void dd_compare(const dd_verify_cfg_t *c, const dd_sample_t *x, const uint16_t *xdf,
                const dd_record_t *y, const dd_df_t *df, unsigned limit, uint32_t *scratch,
                uint16_t *scratch_df, dd_cmp_t *out)
{
    uint32_t tau = x->tau < y->tau ? x->tau : y->tau;
    unsigned nx = 0, ny = 0, ni = 0, nyonly = 0;
    uint32_t i = 0, j = 0;
    const unsigned lim = limit;
    /* One merge; y's own entries are collected and looked up afterwards in
     * one prefetched batch. */
    while (i < x->n && j < y->n) {
        uint32_t a = x->h[i], b = dd_rec_hash(y, j);
        if (a > tau || b > tau)
            break;
        if (a < b) {
            nx += lim == 0 || xdf[i] < lim;
            i++;
        } else if (b < a) {
            scratch[nyonly++] = b;
            j++;
        } else {
            if (lim == 0 || xdf[i] < lim) {
                nx++;
                ny++;
                ni++;
            }
            i++;
            j++;
        }
    }
    for (; i < x->n && x->h[i] <= tau; i++)
        nx += lim == 0 || xdf[i] < lim;
    for (; j < y->n; j++) {
        uint32_t b = dd_rec_hash(y, j);
        if (b > tau)
            break;
        scratch[nyonly++] = b;
    }
    /* Work cap: the discount can only lower ny (y's shingles found only in
     * y, left out when they are boilerplate), and with it raise Jaccard up
     * to ni/nx = cx at most.  When neither containment passes nor cx reaches
     * the lowest Jaccard any rule needs (half the threshold, `extends`),
     * no discount can make y pass: skip y's document-frequency lookups
     * (one cache miss each) and count all of its shingles, so a far
     * candidate costs one merge.  Only its reported Jaccard (a "nearest"
     * for tuning) is then the undiscounted one. */
    double cx = nx > 0 ? (double)ni / nx : 0.0;
    double scale0 = 4294967296.0 / ((double)tau + 1.0);
    int may_copy = cx >= c->containment && (double)nx * scale0 >= (double)c->min_content;
    if (df == NULL || lim == 0 || (!may_copy && cx < c->jaccard / 2)) {
        ny += nyonly;
    } else {
        dd_df_get_many(df, scratch, nyonly, scratch_df);
        for (unsigned k = 0; k < nyonly; k++)
            ny += scratch_df[k] < lim;
    }
    out->nx = nx;
    out->ny = ny;
    out->ni = ni;
    unsigned uni = nx + ny - ni;
    out->jaccard = uni > 0 ? (double)ni / uni : 0.0;
    out->cx = nx > 0 ? (double)ni / nx : 0.0;
    out->cy = ny > 0 ? (double)ni / ny : 0.0;
    /* Content in shingles: sample counts scaled by the sampling rate of the
     * compared range. */
    double scale = 4294967296.0 / ((double)tau + 1.0);
    out->small = (double)nx * scale;
    int copy = out->cx >= c->containment && out->small >= (double)c->min_content;
    int extends = out->cy >= c->extension && (double)ny * scale >= (double)c->min_content &&
                  out->jaccard >= c->jaccard / 2;
    /* Resemblance alone needs some shared content too: two texts of a
     * handful of shingles (one repeated word, a two-line stub) resemble
     * each other by chance. */
    int resembles = out->jaccard >= c->jaccard && (double)ni * scale * 2.0 >= (double)c->min_content;
    out->pass = ni > 0 && (resembles || copy || extends);
}
