/*
 * verify.h - comparing a new document's sample with a candidate's record:
 * resemblance (Jaccard) and containment over the shingles both samples
 * cover, leaving out boilerplate: shingles held by at least `limit` recent
 * documents, where limit = the candidate cluster's recent documents plus
 * boilerplate_margin (dftable.h).
 */
#ifndef DD_VERIFY_H
#define DD_VERIFY_H

#include <stddef.h>
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

/* The new document's sample as a hash set, built once per document:
 * buckets of 4 hashes (one SSE2 compare), so that a candidate is compared
 * in one pass over its own entries, with no data-dependent branch per
 * entry (a merge of the two sorted lists takes a three-way branch per step
 * that the CPU cannot predict on random hash values).  Per bucket, which
 * lanes hold content for the candidate's limit (document frequency below
 * it), worked out again only when the limit changes: a hit is then one
 * AND with the match. */
typedef struct dd_xset {
    uint32_t *key;         /* 4 per bucket (16-byte aligned) */
    uint32_t *pos;         /* entry i's place: bucket * 4 + lane */
    uint8_t *occ;          /* per bucket: lanes in use (bits 0-3); bit 4: a
                              full bucket spilled into the next ones */
    uint8_t *cont;         /* per bucket: lanes whose entry is content for
                              cont_lim (frequency < cont_lim); 0: not built */
    unsigned cont_lim;
    uint8_t *cbits;        /* bit i (of byte i / 8): entry i is content for
                              cbits_lim; 0: not built */
    unsigned cbits_lim;
    uint32_t mask;         /* buckets - 1 (buckets: a power of two >= 16) */
    size_t cap;            /* buckets allocated */
    uint32_t n;            /* entries */
    /* content entries of x for the last few limits (all entries <= tau) */
    unsigned memo_lim[2], memo_nx[2];
    int memo_next;
    int filled;            /* key, pos, occ hold the entries (built lazily) */
    int no_isect;          /* tests: always the set pass (dd_compare) */
} dd_xset_t;

/* How many of v[0..n) are below lim (SSE2, eight at a time). */
size_t dd_count_below(const uint16_t *v, size_t n, unsigned lim);

/* Make s ready for x (room for its entries; they are put in the buckets
 * when a comparison first needs them).  Returns 0, or -1 when out of
 * memory. */
int dd_xset_build(dd_xset_t *s, const dd_sample_t *x, const uint16_t *xdf);
void dd_xset_free(dd_xset_t *s);

/* x: the new document's sample (xs: the same as a set), xdf[i] the
 * document frequency of its entry i; y: a stored record.  Entries with
 * frequency >= limit are left out (limit 0: none); y's are looked up in
 * df.  xs remembers x's counts per limit.  scratch and scratch_df have
 * room for y->n entries. */
void dd_compare(const dd_verify_cfg_t *c, const dd_sample_t *x, dd_xset_t *xs,
                const uint16_t *xdf, const dd_record_t *y, const dd_df_t *df, unsigned limit,
                uint32_t *scratch, uint16_t *scratch_df, dd_cmp_t *out);

#endif
