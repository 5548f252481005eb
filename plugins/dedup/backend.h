/*
 * backend.h - where the index lives.  Two implementations:
 *   store_lmdb.c  records in LMDB under the state directory, exact-hash map
 *                 and anchor postings in memory (rebuilt at start-up);
 *   store_redis.c everything in one Redis server shared by many daemons.
 *
 * Protocol, called from process_ordered() only (one document at a time):
 *   lookup()  exact-hash check and candidate search for one sketch;
 *   then exactly one of
 *   insert()  index the document (its record carries the verdict), or
 *   skip()    index nothing (an exact duplicate, or an error).
 * Record views returned by lookup() stay valid until insert()/skip().
 */
#ifndef DD_BACKEND_H
#define DD_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <textmill/stage.h>

#include "dedup.h"

typedef struct dd_cand {
    dd_record_t rec;
    float score;            /* sum of the weights of the shared keys */
} dd_cand_t;

typedef struct dd_lookup {
    int exact;              /* an indexed document has the same exact hash */
    dd_record_t exact_rec;
    dd_cand_t *cand;        /* owned by the backend, best first */
    size_t ncand;
    uint64_t seq;           /* the number this document gets if inserted */
} dd_lookup_t;

typedef struct dd_query {
    const dd_sketch_t *sk;
    const uint32_t *keys;   /* probe these against the anchor postings: */
    const uint64_t *key_hash; /* dd_anchors_hash(keys[i]), or NULL */
    const uint16_t *key_df; /* a hit on keys[i] scores dd_key_weight(key_df[i]) */
    size_t nkeys;
    size_t nlow;            /* keys[0..nlow) always; the rest only when those
                               find no candidate (very frequent shingles); each
                               part ascending (the sample's order) */
    const uint32_t *anchors;/* and add the document under these if inserted */
    const uint64_t *anchor_hash; /* dd_anchors_hash(anchors[i]), or NULL */
    size_t nanchors;
    unsigned max_candidates;
    int64_t now_ms;
} dd_query_t;

/* What a shared key scores for a candidate: rarer keys (fewer recent
 * documents hold the shingle) count more. */
static inline float dd_key_weight(unsigned df) { return 1.0f / (float)(1 + df); }

typedef struct dd_backend dd_backend_t;
struct dd_backend {
    const char *name;
    int (*lookup)(dd_backend_t *b, const dd_query_t *q, dd_lookup_t *out, tm_err_t *err);
    int (*insert)(dd_backend_t *b, const dd_query_t *q, const dd_record_t *rec, tm_err_t *err);
    void (*skip)(dd_backend_t *b);
    /* Optional (NULL in lmdb): after insert() returned 1 (another daemon
     * indexed the same canonical text first, nothing was inserted), the
     * record of that first document; 0, or -1 when unavailable. */
    int (*claimant)(dd_backend_t *b, dd_record_t *out);
    /* Add annotation-free facts for logs and metrics (documents indexed,
     * bytes in memory and on disk). */
    void (*stats)(dd_backend_t *b, uint64_t *docs, uint64_t *mem_bytes, uint64_t *disk_bytes);
    void (*destroy)(dd_backend_t *b);
};

/* Called for each recent record at open, oldest first, so the owner can
 * rebuild its document-frequency table. */
typedef void (*dd_replay_fn)(void *ctx, const dd_record_t *r);

typedef struct dd_lmdb_cfg {
    const char *state_dir;  /* NULL: a temporary directory, removed at destroy */
    const char *subdir;     /* index directory inside state_dir */
    uint64_t max_docs;      /* window: documents kept (0 = unbounded) */
    int64_t max_age_ms;     /* window: age kept (0 = unbounded) */
    unsigned posting_max;   /* documents per anchor */
    uint32_t anchor_split;  /* the anchor threshold (index keys are mostly
                               below it; dd_anchors_new) */
    uint64_t map_size;      /* LMDB map size, bytes */
    unsigned commit_docs;   /* write a batch after this many documents ... */
    unsigned commit_ms;     /* ... or this many milliseconds */
    int sync;               /* fsync each batch */
    const char *fingerprint;/* sketch settings; must match the stored ones */
    uint64_t replay_recent; /* feed this many recent records to replay */
} dd_lmdb_cfg_t;

int dd_lmdb_open(const tm_host_t *host, const dd_lmdb_cfg_t *cfg, dd_replay_fn replay,
                 void *ctx, dd_backend_t **out, tm_err_t *err);

typedef struct dd_redis_cfg {
    const char *host;
    int port;
    int db;
    const char *password;   /* "" = none */
    const char *prefix;     /* key prefix */
    uint64_t max_docs;
    int64_t max_age_ms;     /* also the TTL of every key (0 = none) */
    unsigned posting_max;
    unsigned timeout_ms;    /* connect and command timeout */
    unsigned retry_ms;      /* after a failure, wait this long before reconnecting */
    const char *fingerprint;
    uint64_t replay_recent;
} dd_redis_cfg_t;

int dd_redis_open(const tm_host_t *host, const dd_redis_cfg_t *cfg, dd_replay_fn replay,
                  void *ctx, dd_backend_t **out, tm_err_t *err);

#endif
