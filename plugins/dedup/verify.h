/*
 * verify.h - comparing a new document's sample with a candidate's record:
 * resemblance (Jaccard) and containment over the shingles both samples
 * cover, leaving out boilerplate shingles (those seen in at least
 * boilerplate_df recent clusters).
 */
#ifndef DD_VERIFY_H
#define DD_VERIFY_H

#include <stdint.h>

#include "dedup.h"
#include "dftable.h"

typedef struct dd_cmp {
    unsigned nx, ny, ni;   /* content shingles of x, of y, shared (within min tau) */
    double jaccard;        /* ni / (nx + ny - ni) */
    double cx, cy;         /* ni / nx (x inside y), ni / ny (y inside x) */
    int pass;              /* near duplicate by the thresholds */
} dd_cmp_t;

/* x: the new document's sample with xboiler[i] != 0 for its boilerplate
 * entries; y: a stored record.  df may be NULL (no discount). */
void dd_compare(const dd_verify_cfg_t *c, const dd_sample_t *x, const uint8_t *xboiler,
                const dd_record_t *y, const dd_df_t *df, dd_cmp_t *out);

#endif
