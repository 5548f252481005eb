/*
 * verify.h - comparing a new document's sample with a candidate's record:
 * resemblance (Jaccard) and containment over the shingles both samples
 * cover, leaving out boilerplate: shingles held by at least `limit` recent
 * documents, where limit = the candidate cluster's recent documents plus
 * boilerplate_margin (dftable.h).
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
    double small;          /* estimated content shingles of x */
    int pass;              /* near duplicate by the thresholds */
} dd_cmp_t;

/* x: the new document's sample, xdf[i] the document frequency of its
 * entry i; y: a stored record.  Entries with frequency >= limit are left
 * out (limit 0: none); y's are looked up in df.  scratch and scratch_df
 * have room for y->n entries. */
void dd_compare(const dd_verify_cfg_t *c, const dd_sample_t *x, const uint16_t *xdf,
                const dd_record_t *y, const dd_df_t *df, unsigned limit, uint32_t *scratch,
                uint16_t *scratch_df, dd_cmp_t *out);

#endif
