/*
 * verify.c - one merge over two sorted samples.
 *
 * Decision: a near duplicate when
 *     Jaccard >= jaccard
 *  or containment (shared / the smaller side) >= containment and the
 *     smaller side has at least min_content content shingles in the
 *     compared range,
 * so a copy cut to its first paragraphs (low Jaccard, high containment) is
 * caught, while a one-line text inside a long article is not called a copy.
 */
#include "verify.h"

#include "sketch.h"

void dd_compare(const dd_verify_cfg_t *c, const dd_sample_t *x, const uint8_t *xboiler,
                const dd_record_t *y, const dd_df_t *df, dd_cmp_t *out)
{
    uint32_t tau = x->tau < y->tau ? x->tau : y->tau;
    unsigned nx = 0, ny = 0, ni = 0;
    uint32_t i = 0, j = 0;
    const unsigned lim = c->boilerplate_df;
    while (i < x->n || j < y->n) {
        uint32_t a = i < x->n ? x->h[i] : UINT32_MAX;
        uint32_t b = j < y->n ? dd_rec_hash(y, j) : UINT32_MAX;
        if (i < x->n && a > tau)
            i = x->n, a = UINT32_MAX;
        if (j < y->n && b > tau)
            j = y->n, b = UINT32_MAX;
        if (i >= x->n && j >= y->n)
            break;
        if (i < x->n && (j >= y->n || a < b)) {
            nx += !xboiler[i];
            i++;
        } else if (j < y->n && (i >= x->n || b < a)) {
            ny += df == NULL || lim == 0 || dd_df_get(df, b) < lim;
            j++;
        } else { /* a == b */
            if (!xboiler[i]) {
                nx++;
                ny++;
                ni++;
            }
            i++;
            j++;
        }
    }
    out->nx = nx;
    out->ny = ny;
    out->ni = ni;
    unsigned uni = nx + ny - ni;
    out->jaccard = uni > 0 ? (double)ni / uni : 0.0;
    out->cx = nx > 0 ? (double)ni / nx : 0.0;
    out->cy = ny > 0 ? (double)ni / ny : 0.0;
    unsigned small = nx < ny ? nx : ny;
    double cont = out->cx > out->cy ? out->cx : out->cy;
    out->pass = ni > 0 && (out->jaccard >= c->jaccard ||
                           (cont >= c->containment && small >= c->min_content));
}
