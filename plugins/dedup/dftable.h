/*
 * dftable.h - how many recent clusters contain a shingle: the signal that
 * tells shared boilerplate (a site's share bar, donation appeal, copyright
 * line, a wire service's standard sentences) from article text.
 *
 * Every indexed document (not exact duplicates) adds its sampled shingles,
 * and the table also counts how many of those documents belong to each
 * cluster.  A shingle shared with a candidate of cluster C is boilerplate
 * when more recent documents hold it than C has members plus a margin:
 * it then also occurs in other stories.  (Counting only each cluster's new
 * shingles instead would let one false link hide a site's chrome from the
 * count for good; counting documents and comparing with the cluster size
 * has no such feedback.)  Counts cover the last `window` indexed
 * documents (older ones are subtracted again), in a blocked count-min
 * sketch (two 16-bit counters per shingle, in one cache line): memory is fixed (dd_df_bytes) and a count
 * is never under-estimated.
 */
#ifndef DD_DFTABLE_H
#define DD_DFTABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct dd_df dd_df_t;

/* A table for the last window documents of up to per_doc contributions
 * each.  NULL when out of memory. */
dd_df_t *dd_df_new(unsigned window, unsigned per_doc);
void dd_df_free(dd_df_t *df);

/* Estimated number of window documents that hold h. */
unsigned dd_df_get(const dd_df_t *df, uint32_t h);
/* The same for h[0..n), saturated to 65535, with prefetching. */
void dd_df_get_many(const dd_df_t *df, const uint32_t *h, size_t n, uint16_t *out);

/* Where a hash's two counters are in the table.  It depends only on the
 * table's size, fixed at dd_df_new, so process() works it out on any
 * thread while the ordered lane updates counts. */
typedef uint64_t dd_dfslot_t;

/* slot[i] for h[i], i < n, and a request for each one's table line (a
 * hint: the table's memory never moves). */
void dd_df_slots(const dd_df_t *df, const uint32_t *h, size_t n, dd_dfslot_t *slot);
/* One hash's slot: what dd_df_slots gives for it (its reference). */
dd_dfslot_t dd_df_slot(const dd_df_t *df, uint32_t h);
/* dd_df_get_many from slots. */
void dd_df_get_slots(const dd_df_t *df, const dd_dfslot_t *slot, size_t n, uint16_t *out);
/* dd_df_add from slots. */
int dd_df_add_slots(dd_df_t *df, const dd_dfslot_t *slot, size_t n, uint64_t cluster);

/* Add one document of cluster `cluster` with sampled shingles h[0..n)
 * (n may be 0), expiring the oldest document(s) to make room.  Returns 0,
 * or -1 when n is too large or out of memory. */
int dd_df_add(dd_df_t *df, const uint32_t *h, size_t n, uint64_t cluster);

/* Documents of cluster in the window. */
unsigned dd_df_cluster(const dd_df_t *df, uint64_t cluster);

size_t dd_df_bytes(const dd_df_t *df);

#endif
