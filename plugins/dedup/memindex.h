/*
 * memindex.h - the in-memory part of the embedded index: exact-hash ->
 * first document, and anchor (LSH key) -> documents.  Rebuilt from the
 * LMDB records at start-up; about 12-16 bytes per posting and 24 per
 * exact hash (open addressing, linear probing, load <= 0.75).
 *
 * Document numbers (seq) are 64-bit; postings keep the low 32 bits and the
 * caller rebuilds the full number from the current one, which is exact as
 * long as the window holds fewer than 2^31 documents.
 */
#ifndef DD_MEMINDEX_H
#define DD_MEMINDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct dd_exactmap dd_exactmap_t;
typedef struct dd_anchors dd_anchors_t;

/* Zeroed memory for a hash table; big ones are mapped on huge pages.
 * Free with the same size. */
void *dd_table_alloc(size_t bytes);
void dd_table_free(void *p, size_t bytes);

dd_exactmap_t *dd_exactmap_new(void);
void dd_exactmap_free(dd_exactmap_t *m);
/* seq of the document holding hash h, or 0. */
uint64_t dd_exactmap_get(const dd_exactmap_t *m, uint64_t h);
/* Map h to seq (replaces).  -1 when out of memory. */
int dd_exactmap_put(dd_exactmap_t *m, uint64_t h, uint64_t seq);
/* Remove h if it maps to seq. */
void dd_exactmap_del(dd_exactmap_t *m, uint64_t h, uint64_t seq);
size_t dd_exactmap_count(const dd_exactmap_t *m);
size_t dd_exactmap_bytes(const dd_exactmap_t *m);

/* Keys up to split and keys above it are kept in two tables (the index
 * keys of a document are mostly its hashes up to the anchor threshold:
 * pass that; UINT32_MAX: one table). */
dd_anchors_t *dd_anchors_new(uint32_t split);
void dd_anchors_free(dd_anchors_t *a);
/* The table hash of key (key 0 is stored as 1): a pure function, so
 * process() can work it out for the ordered lane; the _h functions take it
 * instead of hashing key.  Keys are already hash values (shingle hashes),
 * so one multiply spreads them enough: the high half of the 64-bit product
 * with 2^32 / golden ratio (the table uses its low bits). */
static inline uint64_t dd_anchors_hash(uint32_t key)
{
    uint64_t x = key == 0 ? 1 : key;
    return (x * UINT64_C(0x9E3779B1)) >> 32;
}
/* out[i] = dd_anchors_hash(key[i]), i < n (AVX2 when the CPU has it). */
void dd_anchors_hash_many(const uint32_t *key, size_t n, uint64_t *out);
/* Add a posting unless key already has max_postings; returns 1 when
 * added, 0 when the key is full, -1 when out of memory. */
int dd_anchors_add(dd_anchors_t *a, uint32_t key, uint32_t seq_lo, unsigned max_postings);
int dd_anchors_add_h(dd_anchors_t *a, uint32_t key, uint64_t hash, uint32_t seq_lo,
                     unsigned max_postings);
/* Remove one posting (no-op when absent). */
void dd_anchors_del(dd_anchors_t *a, uint32_t key, uint32_t seq_lo);
/* Call fn for each posting of key; returns the number of postings. */
size_t dd_anchors_get(const dd_anchors_t *a, uint32_t key,
                      void (*fn)(void *ctx, uint32_t seq_lo), void *ctx);
size_t dd_anchors_get_h(const dd_anchors_t *a, uint32_t key, uint64_t hash,
                        void (*fn)(void *ctx, uint32_t seq_lo), void *ctx);
/* dd_anchors_add_h of keys[0..n) (table hashes hash[]) for one document,
 * in order, in one call.  Returns 0, or -1 when out of memory. */
int dd_anchors_add_many_h(dd_anchors_t *anc, const uint32_t *keys, const uint64_t *hash,
                          size_t n, uint32_t seq, unsigned max_postings);
/* dd_anchors_get_h for keys[0..n) with their table hashes: fn(ctx, i,
 * seq_lo) for each posting of keys[i], in order of i.  The table must not
 * change meanwhile (fn must not add or remove postings). */
void dd_anchors_get_many_h(const dd_anchors_t *a, const uint32_t *keys, const uint64_t *hash,
                           size_t n, void (*fn)(void *ctx, size_t i, uint32_t seq_lo),
                           void *ctx);
/* The same for ascending keys (what a sample gives): the ones each table
 * holds are found once, and a table with no postings is not probed. */
void dd_anchors_get_sorted_h(const dd_anchors_t *a, const uint32_t *keys, const uint64_t *hash,
                             size_t n, void (*fn)(void *ctx, size_t i, uint32_t seq_lo),
                             void *ctx);
/* Hint that key will be looked up soon. */
void dd_anchors_prefetch(const dd_anchors_t *a, uint32_t key);
size_t dd_anchors_count(const dd_anchors_t *a);
size_t dd_anchors_bytes(const dd_anchors_t *a);

#endif
