/*
 * sketch.h - from token hashes to the per-document sketch, and the binary
 * record an index stores for each document.
 *
 * Shingles are runs of shingle_size consecutive tokens, hashed with XXH3 to
 * 32 bits.  The sample keeps every distinct shingle hash h <= tau, where
 * tau = 2^32/sample_rate - 1, widened for short texts to the sample_min
 * smallest and narrowed for long ones to the sample_max smallest.  Because
 * the rule depends only on the hash value, two samples agree on every hash
 * <= min(tau_a, tau_b): on that range they are exact subsets of the two
 * shingle sets, so both resemblance (Jaccard) and containment can be
 * estimated from them (Broder 1997, "MOD-m" sketches), which a MinHash
 * signature cannot do for containment.
 */
#ifndef DD_SKETCH_H
#define DD_SKETCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dedup.h"
#include "normalize.h"

/* Build sk from the normalized scratch (s->tok, s->canon) and the raw
 * text.  sk->s.h points into the scratch (s->sh): valid until its next
 * use.  Returns 0, or -1 when out of memory. */
int dd_sketch_build(const dd_sketch_cfg_t *c, dd_scratch_t *s, const char *raw, size_t raw_len,
                    dd_sketch_t *sk);

/* XXH3_64bits(p, len), through its AVX2 path when the CPU has it
 * (texthash.h). */
uint64_t dd_text_hash(const void *p, size_t len);

/* The threshold (inclusive) for a rate: keep h <= dd_rate_tau(rate). */
static inline uint32_t dd_rate_tau(unsigned rate)
{
    return rate <= 1 ? UINT32_MAX : (uint32_t)((UINT64_C(1) << 32) / rate - 1);
}

/* Sort ascending and drop repeats; returns the new count.  tmp has room
 * for n entries. */
size_t dd_sort_unique(uint32_t *a, size_t n, uint32_t *tmp);
/* The same when every a[i] <= mx is known (mx: their bucket range; the
 * closer to the largest value, the fewer values share a bucket). */
size_t dd_sort_unique_max(uint32_t *a, size_t n, uint32_t *tmp, uint32_t mx);

/* ---- records ---- */

/* Bytes dd_record_encode needs. */
size_t dd_record_size(const dd_record_t *r);
/* Write r into buf (dd_record_size(r) bytes).  r->h may be any pointer. */
void dd_record_encode(const dd_record_t *r, void *buf);
/* View a stored record: r points into buf.  Returns 0, or -1 when the
 * bytes are not a valid record (bad magic or layout, or with full != 0 a
 * bad checksum or unsorted sample: done when an index is opened). */
int dd_record_decode(const void *buf, size_t len, dd_record_t *r, int full);

static inline uint32_t dd_rec_hash(const dd_record_t *r, uint32_t i)
{
    uint32_t v;
    memcpy(&v, (const unsigned char *)r->h + (size_t)i * 4, 4);
    return v;
}

#endif
