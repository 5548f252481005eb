/*
 * dftable.h - how many recent clusters contain a shingle: the signal that
 * tells shared boilerplate (a site's share bar, donation appeal, copyright
 * line, a wire service's standard sentences) from article text.
 *
 * Each indexed document "contributes" the sampled shingles that are new to
 * its cluster: a document that starts a cluster contributes its whole
 * sample, a near duplicate only the shingles its match lacks (its own page
 * chrome), an exact duplicate nothing.  So a shingle's count is about the
 * number of distinct stories it appeared in.  Counts cover the last
 * `window` contributing documents (older contributions are subtracted
 * again), kept in a two-row count-min sketch with 16-bit counters: memory
 * is fixed (see dd_df_bytes) and a count is never under-estimated.
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

/* Estimated number of window documents that contributed h. */
unsigned dd_df_get(const dd_df_t *df, uint32_t h);

/* Add one document's contributions (n may be 0), expiring the oldest
 * document(s) to make room.  Returns 0, or -1 when n is too large. */
int dd_df_add(dd_df_t *df, const uint32_t *h, size_t n);

size_t dd_df_bytes(const dd_df_t *df);

#endif
