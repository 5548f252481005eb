/*
 * dedup.h - types shared by the dedup stage's modules: the settings that
 * come from config, the per-document sketch that process() computes and
 * process_ordered() consumes, the stored record of an indexed document, and
 * the verdict.
 *
 * Module map (one concern each):
 *   dedup.c      plugin glue: parameters, create/destroy, hooks, annotation
 *   normalize.c  text -> canonical form and word-token hashes (utf8proc)
 *   fold.c       data tables: HTML entities and punctuation folding
 *   sketch.c     shingles, exact hash, threshold sample, anchors, records
 *   texthash.c   XXH3 of whole texts compiled for AVX2 (chosen at run time)
 *   dftable.c    sliding-window document frequency of shingles (boilerplate)
 *   verify.c     candidate verification: Jaccard and containment
 *   memindex.c   in-memory exact-hash map and anchor multimap
 *   store_lmdb.c the embedded backend: LMDB records + memindex
 *   store_redis.c the shared backend: Redis with atomic Lua scripts
 */
#ifndef DD_DEDUP_H
#define DD_DEDUP_H

#include <stddef.h>
#include <stdint.h>
#include <textmill/stage.h>

/* What to do with a duplicate's result. */
enum dd_action { DD_PUBLISH = 0, DD_PUBLISH_ONLY = 1, DD_DROP = 2 };

enum dd_status { DD_UNIQUE = 0, DD_EXACT = 1, DD_NEAR = 2 };

/* Settings that change how a text becomes a sketch.  Records built with
 * other values are not comparable, so the LMDB index stores them and
 * refuses to open with different ones. */
typedef struct dd_sketch_cfg {
    unsigned shingle_size;     /* words per shingle */
    unsigned sample_rate;      /* keep shingle hashes below 2^32/rate */
    unsigned sample_min;       /* ...but at least this many (short texts) */
    unsigned sample_max;       /* ...and at most this many (long texts) */
    unsigned anchor_rate;      /* index keys: hashes below 2^32/rate */
    unsigned anchor_min, anchor_max;
    int fold_diacritics;       /* strip combining marks after NFKD */
    int strip_markup;          /* drop tag residue, decode entities */
} dd_sketch_cfg_t;

/* Verification settings. */
typedef struct dd_verify_cfg {
    double jaccard;            /* near duplicate when Jaccard >= this ... */
    double containment;        /* ... or containment in the earlier text >= this ... */
    double extension;          /* ... or the earlier text's containment in it >= this */
    unsigned min_content;      /* ... over at least this many sampled shingles */
    unsigned boilerplate_margin; /* boilerplate: held by >= cluster size + this many
                                    recent documents */
} dd_verify_cfg_t;

/* A sampled shingle set: sorted, distinct 32-bit shingle hashes.  It holds
 * every shingle hash <= tau of the text, so two samples compare exactly on
 * the hashes <= min(tau_a, tau_b) (consistent sampling). */
typedef struct dd_sample {
    uint32_t n;
    uint32_t tau;
    uint32_t *h;               /* n entries, ascending */
} dd_sample_t;

/* What process() computes for one document (handed over in the stash). */
typedef struct dd_sketch {
    uint64_t exact;            /* hash of the canonical text */
    uint64_t raw;              /* hash of the bytes as received */
    uint32_t n_tokens;
    uint32_t n_shingles;       /* distinct shingles (counted before sampling) */
    dd_sample_t s;
    int empty;                 /* no word at all: not indexed */
} dd_sketch_t;


/* Per-sample-entry flags kept in a record. */
#define DD_F_ANCHOR 0x2u       /* inserted as an index key */

/* An indexed document, as stored.  Strings are not NUL-terminated when the
 * record is a view into stored bytes; use the lengths. */
typedef struct dd_record {
    uint64_t seq;              /* backend-wide arrival number, >= 1 */
    int64_t time_ms;           /* wall clock when indexed */
    uint64_t exact, raw;
    uint64_t cluster_seq;      /* seq of the cluster's first document */
    uint32_t status;           /* enum dd_status (UNIQUE or NEAR) */
    uint32_t tau, n;
    const uint32_t *h;         /* n hashes (may be unaligned: use dd_rec_hash) */
    const uint8_t *flags;      /* n flag bytes (DD_F_*) */
    const char *id;
    uint32_t id_len;
    const char *cluster;       /* id of the cluster's first document */
    uint32_t cluster_len;
} dd_record_t;

/* The decision for one document. */
typedef struct dd_verdict {
    int status;                /* enum dd_status */
    double jaccard, containment;
    int subset;                /* this text is contained in the match (truncated copy) */
    int byte_identical;        /* exact: the raw bytes match too */
    uint64_t cluster_seq;
    const char *cluster;       /* id of the cluster's first document */
    const char *matched;       /* id of the document compared with */
    unsigned candidates;       /* candidates verified */
} dd_verdict_t;

/* Write k / 1000 (0 <= k < 10^15) at p as the host prints the double
 * nearest it in JSON ("%.15g": "1", "0.5", "0.987", "0"); returns the end.
 * Room: 20 bytes. */
char *dd_json_milli(char *p, long k);

#endif
