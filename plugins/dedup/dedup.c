/*
 * dedup.c - the dedup stage: parameters, create/destroy, the two hooks,
 * the annotation and the route.
 *
 * process() (parallel, any worker): visible text -> canonical text and
 * tokens (normalize.c) -> exact hash and shingle sample (sketch.c), handed
 * to process_ordered() through the document stash.
 * process_ordered() (one document at a time, in arrival order): boilerplate
 * flags from the document-frequency table, index lookup (exact hash, then
 * anchor candidates), verification (verify.c), index insert, annotation
 * annotations.dedup and route result.<status>.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <textmill/json.h>
#include <textmill/stage.h>

#include "backend.h"
#include "dedup.h"
#include "dftable.h"
#include "fold.h"
#include "html.h"
#include "memindex.h"
#include "normalize.h"
#include "sketch.h"
#include "verify.h"

#define DD_VERSION "1.0.0"

static const tm_param_t dd_params[] = {
    /* detection */
    {.key = "shingle_size", .type = TM_PARAM_INT, .default_json = "4", .min = 1, .max = 16,
     .description = "words per shingle (changing it needs a new index)"},
    {.key = "sample_rate", .type = TM_PARAM_INT, .default_json = "4", .min = 1, .max = 4096,
     .description = "sketch keeps shingle hashes below 2^32/sample_rate (1 = all)"},
    {.key = "sample_min", .type = TM_PARAM_INT, .default_json = "64", .min = 1, .max = 65536,
     .description = "...but at least this many per document (short texts)"},
    {.key = "sample_max", .type = TM_PARAM_INT, .default_json = "256", .min = 1, .max = 65536,
     .description = "...and at most this many (long texts); bytes per indexed document ~5x this"},
    {.key = "anchor_rate", .type = TM_PARAM_INT, .default_json = "16", .min = 1, .max = 65536,
     .description = "LSH keys: index a document under its sampled hashes below 2^32/anchor_rate "
                    "(bands of one row; >= sample_rate)"},
    {.key = "anchor_min", .type = TM_PARAM_INT, .default_json = "6", .min = 0, .max = 4096,
     .description = "...at least this many keys per document (its smallest hashes)"},
    {.key = "anchor_max", .type = TM_PARAM_INT, .default_json = "24", .min = 1, .max = 4096,
     .description = "...at most this many keys per document"},
    {.key = "posting_max", .type = TM_PARAM_INT, .default_json = "64", .min = 1, .max = 1000000,
     .description = "at most this many documents per key (more are boilerplate)"},
    {.key = "max_candidates", .type = TM_PARAM_INT, .default_json = "16", .min = 1,
     .max = 10000, .description = "candidates verified per document (most shared keys first)"},
    {.key = "jaccard_threshold", .type = TM_PARAM_DOUBLE, .default_json = "0.45", .min = 0,
     .max = 1, .description = "near duplicate when the Jaccard resemblance of content shingles "
                              "reaches this ..."},
    {.key = "containment_threshold", .type = TM_PARAM_DOUBLE, .default_json = "0.65", .min = 0,
     .max = 1, .description = "... or when this share of the smaller text's content shingles is "
                              "in the other (truncated copies)"},
    {.key = "extension_threshold", .type = TM_PARAM_DOUBLE, .default_json = "0.8", .min = 0,
     .max = 1, .description = "... or when this share of the earlier text is in the new one "
                              "(a longer version) and the Jaccard is at least half its threshold"},
    {.key = "min_content_shingles", .type = TM_PARAM_INT, .default_json = "24", .min = 1,
     .max = 100000, .description = "containment needs at least this many content shingles "
                                   "(estimated from the sample) on the smaller side"},
    {.key = "boilerplate_margin", .type = TM_PARAM_INT, .default_json = "2", .min = 0,
     .max = 65535, .description = "a shingle is boilerplate (ignored) in a comparison when at "
                                  "least this many more recent documents hold it than the "
                                  "candidate's cluster has (0 = never)"},
    {.key = "boilerplate_window", .type = TM_PARAM_INT, .default_json = "10000", .min = 1,
     .max = 10000000, .description = "recent = the last this many indexed documents"},
    {.key = "fold_diacritics", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "compare \"cafe\" and \"café\" as equal (needs a new index when changed)"},
    {.key = "strip_markup", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "ignore HTML tag residue and decode character references in text"},
    {.key = "entities_file", .type = TM_PARAM_PATH, .default_json = "\"html-entities.tsv\"",
     .description = "named character references (name<TAB>hex code points)"},
    {.key = "punct_fold_file", .type = TM_PARAM_PATH, .default_json = "\"punct-fold.tsv\"",
     .description = "quote/dash/ellipsis folding for the exact hash"},
    /* what to do with duplicates */
    {.key = "exact_action", .type = TM_PARAM_ENUM, .default_json = "\"publish\"",
     .choices = "publish|publish_only|drop",
     .description = "exact duplicates: publish as usual, publish on PUB only (not deliver), or "
                    "drop"},
    {.key = "near_action", .type = TM_PARAM_ENUM, .default_json = "\"publish\"",
     .choices = "publish|publish_only|drop", .description = "near duplicates: the same choice"},
    {.key = "log_candidates", .type = TM_PARAM_BOOL, .default_json = "false",
     .description = "log every candidate comparison at level debug (for tuning)"},
    /* the index */
    {.key = "backend", .type = TM_PARAM_ENUM, .default_json = "\"lmdb\"", .choices = "lmdb|redis",
     .description = "lmdb: embedded, in state_dir; redis: one index shared by several daemons"},
    {.key = "max_docs", .type = TM_PARAM_INT, .default_json = "1000000", .min = 0,
     .max = 2000000000, .description = "window: remember this many documents (0 = no limit)"},
    {.key = "max_age_s", .type = TM_PARAM_INT, .default_json = "0", .min = 0,
     .max = 3153600000.0, .description = "window: forget documents older than this (0 = never)"},
    {.key = "index_dir", .type = TM_PARAM_STRING, .default_json = "\"dedup\"",
     .description = "lmdb: index directory inside state_dir (without state_dir: a temporary "
                    "one)"},
    {.key = "map_size_mb", .type = TM_PARAM_INT, .default_json = "16384", .min = 1,
     .max = 16777216, .description = "lmdb: address space reserved for the index file (grows "
                                      "when full)"},
    {.key = "commit_docs", .type = TM_PARAM_INT, .default_json = "1000", .min = 1,
     .max = 10000000, .description = "lmdb: write a batch after this many documents ..."},
    {.key = "commit_ms", .type = TM_PARAM_INT, .default_json = "1000", .min = 1,
     .max = 3600000, .description = "lmdb: ... or this many milliseconds"},
    {.key = "sync", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "lmdb: fsync each batch (false: faster, a power loss may lose batches)"},
    {.key = "redis_host", .type = TM_PARAM_STRING, .default_json = "\"127.0.0.1\"",
     .description = "redis: server address"},
    {.key = "redis_port", .type = TM_PARAM_INT, .default_json = "6379", .min = 1, .max = 65535,
     .description = "redis: server port"},
    {.key = "redis_db", .type = TM_PARAM_INT, .default_json = "0", .min = 0, .max = 65535,
     .description = "redis: database number"},
    {.key = "redis_password", .type = TM_PARAM_STRING, .default_json = "\"\"",
     .description = "redis: AUTH password (\"\" = none)"},
    {.key = "redis_prefix", .type = TM_PARAM_STRING, .default_json = "\"textmill:dedup:\"",
     .description = "redis: key prefix (one index per prefix)"},
    {.key = "redis_timeout_ms", .type = TM_PARAM_INT, .default_json = "500", .min = 1,
     .max = 600000, .description = "redis: connect and command timeout"},
    {.key = "redis_retry_ms", .type = TM_PARAM_INT, .default_json = "1000", .min = 0,
     .max = 3600000, .description = "redis: after a failure, documents fail fast for this long "
                                    "before the next reconnect attempt"},
    {0},
};

typedef struct dd_stage {
    const tm_host_t *host;
    dd_sketch_cfg_t sc;
    dd_verify_cfg_t vc;
    dd_norm_opts_t norm;
    dd_fold_t *fold;
    unsigned max_candidates, boiler_window, posting_max;
    int exact_action, near_action;
    dd_df_t *df;
    dd_backend_t *be;
    /* ordered-lane scratch (process_ordered runs one document at a time) */
    uint8_t *flags;
    uint16_t *xdf;
    uint16_t *kdf;   /* keys' document frequencies */
    uint32_t *keys, *anchors;
    uint64_t *khash, *ahash;  /* their anchor-table hashes */
    size_t cap;
    uint32_t *ybuf;  /* a candidate's own entries (dd_compare scratch) */
    uint16_t *ydf;
    size_t ycap;
    dd_xset_t xset;  /* the new document's sample as a set */
    char *abuf;      /* the annotation's JSON text */
    size_t acap;
    char *vbuf[2];   /* the verdict's cluster and matched ids */
    size_t vcap[2];
    uint64_t ordered_docs;
    int debug; /* log every comparison (log level debug) */
    tm_metric_t *m_unique, *m_exact, *m_near, *m_docs, *m_mem, *m_disk;
} dd_stage_t;

static const cJSON *dd__key(const cJSON *config, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(config, k);
}
static int dd__int(const cJSON *config, const char *k) { return dd__key(config, k)->valueint; }
static double dd__num(const cJSON *config, const char *k)
{
    return dd__key(config, k)->valuedouble;
}
static const char *dd__str(const cJSON *config, const char *k)
{
    return dd__key(config, k)->valuestring;
}
static int dd__bool(const cJSON *config, const char *k)
{
    return cJSON_IsTrue(dd__key(config, k));
}
static int dd__action(const char *s)
{
    return strcmp(s, "drop") == 0 ? DD_DROP : strcmp(s, "publish_only") == 0 ? DD_PUBLISH_ONLY
                                                                             : DD_PUBLISH;
}

static void dd__replay_df(void *ctx, const dd_record_t *r)
{
    dd_stage_t *st = ctx;
    uint32_t buf[1024];
    size_t n = 0;
    for (uint32_t i = 0; i < r->n && n < 1024; i++)
        buf[n++] = dd_rec_hash(r, i);
    dd_df_add(st->df, buf, n, r->cluster_seq);
}

static void dd_destroy(void *instance)
{
    dd_stage_t *st = instance;
    if (st == NULL)
        return;
    if (st->be != NULL) {
        uint64_t docs = 0, mem = 0, disk = 0;
        st->be->stats(st->be, &docs, &mem, &disk);
        if (st->df != NULL)
            mem += dd_df_bytes(st->df);
        st->host->log(st->host, TM_LOG_INFO,
                      "msg=\"dedup index closed\" documents=%llu memory_bytes=%llu disk_bytes=%llu",
                      (unsigned long long)docs, (unsigned long long)mem,
                      (unsigned long long)disk);
        st->be->destroy(st->be);
    }
    dd_df_free(st->df);
    dd_norm_release(&st->norm);
    dd_fold_free(st->fold);
    free(st->xdf);
    free(st->kdf);
    free(st->flags);
    free(st->keys);
    free(st->khash);
    free(st->ahash);
    free(st->anchors);
    free(st->ybuf);
    free(st->ydf);
    dd_xset_free(&st->xset);
    free(st->abuf);
    free(st->vbuf[0]);
    free(st->vbuf[1]);
    free(st);
}

static int dd_create(const tm_host_t *host, const cJSON *config, void **instance, tm_err_t *err)
{
    *instance = NULL;
    dd_stage_t *st = calloc(1, sizeof *st);
    if (st == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
    st->host = host;
    st->sc.shingle_size = (unsigned)dd__int(config, "shingle_size");
    st->sc.sample_rate = (unsigned)dd__int(config, "sample_rate");
    st->sc.sample_min = (unsigned)dd__int(config, "sample_min");
    st->sc.sample_max = (unsigned)dd__int(config, "sample_max");
    st->sc.anchor_rate = (unsigned)dd__int(config, "anchor_rate");
    st->sc.anchor_min = (unsigned)dd__int(config, "anchor_min");
    st->sc.anchor_max = (unsigned)dd__int(config, "anchor_max");
    st->sc.fold_diacritics = dd__bool(config, "fold_diacritics");
    st->sc.strip_markup = dd__bool(config, "strip_markup");
    st->vc.jaccard = dd__num(config, "jaccard_threshold");
    st->vc.containment = dd__num(config, "containment_threshold");
    st->vc.extension = dd__num(config, "extension_threshold");
    st->vc.min_content = (unsigned)dd__int(config, "min_content_shingles");
    st->vc.boilerplate_margin = (unsigned)dd__int(config, "boilerplate_margin");
    st->posting_max = (unsigned)dd__int(config, "posting_max");
    st->max_candidates = (unsigned)dd__int(config, "max_candidates");
    st->boiler_window = (unsigned)dd__int(config, "boilerplate_window");
    st->exact_action = dd__action(dd__str(config, "exact_action"));
    st->debug = dd__bool(config, "log_candidates");
    st->near_action = dd__action(dd__str(config, "near_action"));
    int rc = TM_OK;
    if (st->sc.sample_max < st->sc.sample_min) {
        rc = tm_err_set(err, TM_EINVAL, "bad_config",
                        "dedup: sample_max (%u) must be at least sample_min (%u)",
                        st->sc.sample_max, st->sc.sample_min);
        goto fail;
    }
    if (st->sc.anchor_rate < st->sc.sample_rate) {
        rc = tm_err_set(err, TM_EINVAL, "bad_config",
                        "dedup: anchor_rate (%u) must be at least sample_rate (%u): index keys "
                        "are taken from the sample",
                        st->sc.anchor_rate, st->sc.sample_rate);
        goto fail;
    }
    if (st->sc.anchor_max < st->sc.anchor_min) {
        rc = tm_err_set(err, TM_EINVAL, "bad_config",
                        "dedup: anchor_max (%u) must be at least anchor_min (%u)",
                        st->sc.anchor_max, st->sc.anchor_min);
        goto fail;
    }
    rc = dd_fold_load(dd__str(config, "entities_file"), dd__str(config, "punct_fold_file"),
                      &st->fold, err);
    if (rc != TM_OK)
        goto fail;
    st->norm.fold = st->fold;
    st->norm.fold_diacritics = st->sc.fold_diacritics;
    st->norm.strip_markup = st->sc.strip_markup;
    if (dd_norm_prepare(&st->norm) != 0) {
        rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
        goto fail;
    }
    st->df = dd_df_new(st->boiler_window, st->sc.sample_max);
    if (st->df == NULL) {
        rc = tm_err_set(err, TM_ENOMEM, "out_of_memory",
                        "dedup: out of memory for the boilerplate table (boilerplate_window %u)",
                        st->boiler_window);
        goto fail;
    }
    char fp[160];
    snprintf(fp, sizeof fp,
             "dedup-sketch v1 xxh3 shingle_size=%u fold_diacritics=%d strip_markup=%d",
             st->sc.shingle_size, st->sc.fold_diacritics, st->sc.strip_markup);
    int64_t max_age_ms = (int64_t)dd__num(config, "max_age_s") * 1000;
    uint64_t max_docs = (uint64_t)dd__num(config, "max_docs");
    if (strcmp(dd__str(config, "backend"), "redis") == 0) {
        dd_redis_cfg_t rcfg = {
            .host = dd__str(config, "redis_host"),
            .port = dd__int(config, "redis_port"),
            .db = dd__int(config, "redis_db"),
            .password = dd__str(config, "redis_password"),
            .prefix = dd__str(config, "redis_prefix"),
            .max_docs = max_docs,
            .max_age_ms = max_age_ms,
            .posting_max = (unsigned)dd__int(config, "posting_max"),
            .timeout_ms = (unsigned)dd__int(config, "redis_timeout_ms"),
            .retry_ms = (unsigned)dd__int(config, "redis_retry_ms"),
            .fingerprint = fp,
            .replay_recent = st->boiler_window,
        };
        rc = dd_redis_open(host, &rcfg, dd__replay_df, st, &st->be, err);
    } else {
        const char *sub = dd__str(config, "index_dir");
        if (sub[0] == '\0' || sub[0] == '/' || strstr(sub, "..") != NULL) {
            rc = tm_err_set(err, TM_EINVAL, "bad_config",
                            "dedup: index_dir \"%s\" must be a relative name inside state_dir",
                            sub);
            goto fail;
        }
        if (host->state_dir == NULL && host->mode == TM_HOST_DAEMON)
            host->log(host, TM_LOG_WARN,
                      "msg=\"no state_dir: the dedup index is temporary and forgotten at "
                      "restart\"");
        dd_lmdb_cfg_t lcfg = {
            .state_dir = host->state_dir,
            .subdir = sub,
            .max_docs = max_docs,
            .max_age_ms = max_age_ms,
            .posting_max = (unsigned)dd__int(config, "posting_max"),
            .anchor_split = dd_rate_tau(st->sc.anchor_rate),
            .map_size = (uint64_t)dd__num(config, "map_size_mb") << 20,
            .commit_docs = (unsigned)dd__int(config, "commit_docs"),
            .commit_ms = (unsigned)dd__int(config, "commit_ms"),
            .sync = dd__bool(config, "sync"),
            .fingerprint = fp,
            .replay_recent = st->boiler_window,
        };
        rc = dd_lmdb_open(host, &lcfg, dd__replay_df, st, &st->be, err);
    }
    if (rc != TM_OK)
        goto fail;
    st->m_unique = host->metric_new(host, TM_METRIC_COUNTER, "dedup_unique_total",
                                    "Documents the dedup stage found new.");
    st->m_exact = host->metric_new(host, TM_METRIC_COUNTER, "dedup_exact_duplicates_total",
                                   "Exact duplicates found.");
    st->m_near = host->metric_new(host, TM_METRIC_COUNTER, "dedup_near_duplicates_total",
                                  "Near duplicates found.");
    st->m_docs = host->metric_new(host, TM_METRIC_GAUGE, "dedup_index_documents",
                                  "Documents in the dedup index window.");
    st->m_mem = host->metric_new(host, TM_METRIC_GAUGE, "dedup_index_memory_bytes",
                                 "Memory held by the in-memory part of the dedup index.");
    st->m_disk = host->metric_new(host, TM_METRIC_GAUGE, "dedup_index_disk_bytes",
                                  "Disk space used by the dedup index.");
    *instance = st;
    return TM_OK;
fail:
    dd_destroy(st);
    return rc;
}

static int dd_thread_init(void *instance, void **ts, tm_err_t *err)
{
    (void)instance;
    *ts = calloc(1, sizeof(dd_scratch_t));
    if (*ts == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
    return TM_OK;
}

static void dd_thread_fini(void *instance, void *ts)
{
    (void)instance;
    if (ts != NULL) {
        dd_scratch_free(ts);
        free(ts);
    }
}

/* What process() hands to process_ordered() for one document, in one
 * allocation: the sketch (its sample in the arrays that follow) and what
 * can be worked out from the sample without the index's state, so the
 * ordered lane (one document at a time) does only what needs the order. */
typedef struct dd_handoff {
    dd_sketch_t sk;
    dd_dfslot_t *dfslot;   /* per sample entry: its boilerplate-table counters */
    uint64_t *ahash;       /* ... and its anchor-table hash (dd_anchors_hash) */
} dd_handoff_t;

static dd_handoff_t *dd__handoff_new(const dd_stage_t *st, const dd_sketch_t *sk)
{
    size_t n = sk->s.n;
    dd_handoff_t *w =
        malloc(sizeof *w + n * (sizeof *w->dfslot + sizeof *w->ahash + sizeof *w->sk.s.h));
    if (w == NULL)
        return NULL;
    w->sk = *sk;
    w->dfslot = (dd_dfslot_t *)(void *)(w + 1);
    w->ahash = (uint64_t *)(void *)(w->dfslot + n);
    w->sk.s.h = (uint32_t *)(void *)(w->ahash + n);
    if (n > 0)
        memcpy(w->sk.s.h, sk->s.h, n * sizeof *sk->s.h);
    else
        w->sk.s.h = NULL;
    /* also requests the table lines: when the ordered lane runs next on
     * this worker (the usual case) they are then in cache */
    dd_df_slots(st->df, w->sk.s.h, n, w->dfslot);
    dd_anchors_hash_many(w->sk.s.h, n, w->ahash);
    return w;
}

static int dd_process(void *instance, void *ts, tm_doc_t *doc, tm_err_t *err)
{
    dd_stage_t *st = instance;
    const tm_host_t *h = st->host;
    dd_scratch_t local = {0};
    dd_scratch_t *s = ts != NULL ? ts : &local;
    size_t len = 0;
    const char *text = h->doc_text(doc, &len);
    const char *src = text;
    size_t slen = len;
    int rc = TM_OK;
    const char *ct = h->doc_content_type(doc);
    if (ct != NULL && strcmp(ct, "text/html") == 0) {
        if (dd_html_text(text, len, s) != 0) {
            rc = tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory parsing HTML");
            goto out;
        }
        src = s->html != NULL ? s->html : "";
        slen = s->html_len;
    }
    if (dd_normalize(&st->norm, src, slen, s) != 0) {
        rc = tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory normalizing");
        goto out;
    }
    dd_sketch_t sk;
    dd_handoff_t *w = NULL;
    if (dd_sketch_build(&st->sc, s, text, len, &sk) != 0 ||
        (w = dd__handoff_new(st, &sk)) == NULL) {
        rc = tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory sketching");
        goto out;
    }
    if (h->doc_stash_put(doc, w, free) != TM_OK) {
        free(w);
        rc = tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
    }
out:
    if (s == &local)
        dd_scratch_free(&local);
    else
        dd_scratch_trim(s);
    return rc;
}

static int dd__grow_scratch(dd_stage_t *st, size_t n)
{
    if (n <= st->cap)
        return 0;
    size_t c = st->cap ? st->cap : 256;
    while (c < n)
        c *= 2;
    uint16_t *x = realloc(st->xdf, c * sizeof *x);
    if (x != NULL)
        st->xdf = x;
    uint16_t *w = realloc(st->kdf, c * sizeof *w);
    if (w != NULL)
        st->kdf = w;
    uint8_t *f = realloc(st->flags, c);
    if (f != NULL)
        st->flags = f;
    uint32_t *k = realloc(st->keys, c * 4), *a = realloc(st->anchors, c * 4);
    if (k != NULL)
        st->keys = k;
    if (a != NULL)
        st->anchors = a;
    uint64_t *kh = realloc(st->khash, c * 8), *ah = realloc(st->ahash, c * 8);
    if (kh != NULL)
        st->khash = kh;
    if (ah != NULL)
        st->ahash = ah;
    if (x == NULL || w == NULL || f == NULL || k == NULL || a == NULL || kh == NULL || ah == NULL)
        return -1;
    st->cap = c;
    return 0;
}

static int dd__grow_ycmp(dd_stage_t *st, size_t n)
{
    if (n <= st->ycap)
        return 0;
    size_t c = n < 256 ? 256 : n;
    uint32_t *b = realloc(st->ybuf, c * sizeof *b);
    if (b != NULL)
        st->ybuf = b;
    uint16_t *f = realloc(st->ydf, c * sizeof *f);
    if (f != NULL)
        st->ydf = f;
    if (b == NULL || f == NULL)
        return -1;
    st->ycap = c;
    return 0;
}

/* A copy of s[0, n) with a NUL in the stage's buffer k (0: the verdict's
 * cluster, 1: its matched document), reused from document to document
 * (the ordered lane runs one at a time); NULL when out of memory. */
static const char *dd__vstr(dd_stage_t *st, int k, const char *s, size_t n)
{
    if (n + 1 > st->vcap[k]) {
        size_t c = n + 1 < 64 ? 64 : n + 1;
        char *p = realloc(st->vbuf[k], c);
        if (p == NULL)
            return NULL;
        st->vbuf[k] = p;
        st->vcap[k] = c;
    }
    memcpy(st->vbuf[k], s, n);
    st->vbuf[k][n] = '\0';
    return st->vbuf[k];
}

static void dd_verdict_clear(dd_verdict_t *v) { memset(v, 0, sizeof *v); }

static int64_t dd__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The annotation's JSON text (dd__annotate) ---- */

#define DD_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *dd__put_str(char *p, const char *s)
{
    return p + tm_json_write_string(p, s, strlen(s));
}

char *dd_json_milli(char *p, long k)
{
    p += tm_json_write_u64(p, (uint64_t)(k / 1000));
    long f = k % 1000;
    if (f != 0) {
        *p++ = '.';
        *p++ = (char)('0' + f / 100);
        if (f % 100 != 0) {
            *p++ = (char)('0' + f / 10 % 10);
            if (f % 10 != 0)
                *p++ = (char)('0' + f % 10);
        }
    }
    return p;
}

/* x rounded to 3 places, as dd__round3 rounds it. */
static long dd__milli(double x) { return (long)(x * 1000.0 + 0.5); }

/* annotations.dedup, written as JSON text (attached pre-serialised: no
 * tree of a dozen nodes per document for the host to walk).  The bytes
 * are the ones the host would print from the equivalent cJSON tree:
 * strings through <textmill/json.h>, numbers as its "%.15g". */
static int dd__annotate(dd_stage_t *st, tm_doc_t *doc, const dd_verdict_t *v, int indexed,
                        tm_err_t *err)
{
    const tm_host_t *h = st->host;
    static const char *const names[] = {"unique", "exact_duplicate", "near_duplicate"};
    const char *id = h->doc_id(doc);
    const char *cluster = v->status == DD_UNIQUE ? id : v->cluster;
    size_t need = 320 + 6 * (strlen(cluster) + (v->status == DD_UNIQUE ? 0 : strlen(v->cluster)) +
                             (v->matched != NULL ? strlen(v->matched) : 0));
    if (need > st->acap) {
        char *nb = realloc(st->abuf, need);
        if (nb == NULL)
            return tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
        st->abuf = nb;
        st->acap = need;
    }
    char *p = st->abuf;
    p = DD_LIT(p, "{\"status\":");
    p = dd__put_str(p, names[v->status]);
    p = DD_LIT(p, ",\"duplicate_of\":");
    if (v->status == DD_UNIQUE)
        p = DD_LIT(p, "null");
    else
        p = dd__put_str(p, v->cluster);
    p = DD_LIT(p, ",\"cluster\":");
    p = dd__put_str(p, cluster);
    if (v->status == DD_EXACT) {
        p = DD_LIT(p, ",\"similarity\":1,\"measure\":\"exact\",\"byte_identical\":");
        p = v->byte_identical ? DD_LIT(p, "true") : DD_LIT(p, "false");
    } else if (v->status == DD_NEAR) {
        p = DD_LIT(p, ",\"similarity\":");
        p = dd_json_milli(p, dd__milli(v->jaccard));
        p = v->subset ? DD_LIT(p, ",\"measure\":\"containment\"")
                      : DD_LIT(p, ",\"measure\":\"jaccard\"");
        p = DD_LIT(p, ",\"containment\":");
        p = dd_json_milli(p, dd__milli(v->containment));
        p = DD_LIT(p, ",\"truncated\":");
        p = v->subset ? DD_LIT(p, "true") : DD_LIT(p, "false");
    } else if (v->matched != NULL) {
        /* the closest document that was not close enough, for tuning */
        p = DD_LIT(p, ",\"similarity\":");
        p = dd_json_milli(p, dd__milli(v->jaccard));
        p = DD_LIT(p, ",\"containment\":");
        p = dd_json_milli(p, dd__milli(v->containment));
    }
    if (v->matched != NULL) {
        p = v->status == DD_UNIQUE ? DD_LIT(p, ",\"nearest\":") : DD_LIT(p, ",\"matched\":");
        p = dd__put_str(p, v->matched);
    }
    p = DD_LIT(p, ",\"candidates\":");
    p += tm_json_write_u64(p, v->candidates);
    if (!indexed)
        p = DD_LIT(p, ",\"indexed\":false");
    *p++ = '}';
    *p = '\0';
    cJSON *a = cJSON_CreateRaw(st->abuf);
    if (a == NULL)
        return tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
    if (h->doc_annotate(doc, "dedup", a) != TM_OK)
        return tm_err_set(err, TM_EDOC, "annotate_failed", "dedup: cannot annotate");
    unsigned flags = 0;
    int act = v->status == DD_EXACT ? st->exact_action
              : v->status == DD_NEAR ? st->near_action
                                     : DD_PUBLISH;
    if (act == DD_DROP)
        flags = TM_ROUTE_DROP;
    else if (act == DD_PUBLISH_ONLY)
        flags = TM_ROUTE_PUBLISH_ONLY;
    h->doc_set_route(doc, names[v->status], flags);
    h->metric_add(v->status == DD_EXACT ? st->m_exact
                  : v->status == DD_NEAR ? st->m_near
                                         : st->m_unique,
                  1);
    return TM_OK;
}

static void dd__update_gauges(dd_stage_t *st)
{
    uint64_t docs = 0, mem = 0, disk = 0;
    st->be->stats(st->be, &docs, &mem, &disk);
    st->host->metric_set(st->m_docs, (double)docs);
    st->host->metric_set(st->m_mem, (double)(mem + dd_df_bytes(st->df)));
    st->host->metric_set(st->m_disk, (double)disk);
}

static int dd_process_ordered(void *instance, void *ts, tm_doc_t *doc, tm_err_t *err)
{
    dd_stage_t *st = instance;
    const tm_host_t *h = st->host;
    (void)ts;
    dd_handoff_t *w = h->doc_stash_take(doc);
    if (w == NULL)
        return TM_OK; /* process() failed and said why */
    dd_sketch_t *sk = &w->sk;
    dd_verdict_t v = {0};
    int rc = TM_OK;
    if ((st->ordered_docs++ & 1023) == 0)
        dd__update_gauges(st);
    if (sk->empty) {
        /* Nothing to compare: not a duplicate of anything, not indexed. */
        rc = dd__annotate(st, doc, &v, 0, err);
        free(w);
        return rc;
    }
    const dd_sample_t *x = &sk->s;
    if (dd__grow_scratch(st, x->n) != 0) {
        free(w);
        return tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
    }
    /* Document frequencies, probe keys (rare ones first) and index keys. */
    uint32_t atau = dd_rate_tau(st->sc.anchor_rate);
    unsigned anchor_df = st->vc.boilerplate_margin > 0 ? st->vc.boilerplate_margin + 1 : UINT16_MAX;
    size_t nk = 0, na = 0, nlow = 0;
    dd_df_get_slots(st->df, w->dfslot, x->n, st->xdf);
    nlow = dd_count_below(st->xdf, x->n, st->posting_max);
    /* Usually every key is below posting_max: then the probe keys are the
     * sample itself, in its order (no copies). */
    const uint32_t *qkeys = x->h;
    const uint64_t *qhash = w->ahash;
    const uint16_t *qdf = st->xdf;
    if (nlow < x->n) {
        size_t lo = 0, hi = nlow;
        for (uint32_t i = 0; i < x->n; i++) {
            unsigned f = st->xdf[i];
            size_t k = f < st->posting_max ? lo++ : hi++;
            st->keys[k] = x->h[i];
            st->khash[k] = w->ahash[i];
            st->kdf[k] = (uint16_t)f;
        }
        qkeys = st->keys;
        qhash = st->khash;
        qdf = st->kdf;
    }
    /* Index keys: the sample is sorted ascending, so the hashes below the
     * anchor threshold come first, then the smallest others make up
     * anchor_min (and none after).  Shingles already common need no more
     * postings. */
    memset(st->flags, 0, x->n);
    for (uint32_t i = 0; i < x->n && na < st->sc.anchor_max; i++) {
        uint32_t hv = x->h[i];
        if (hv > atau && na >= st->sc.anchor_min)
            break;
        if (st->xdf[i] < anchor_df) {
            st->ahash[na] = w->ahash[i];
            st->anchors[na++] = hv;
            st->flags[i] = DD_F_ANCHOR;
        }
    }
    nk = x->n;
    dd_query_t q = {
        .sk = sk,
        .keys = qkeys,
        .key_hash = qhash,
        .key_df = qdf,
        .nkeys = nk,
        .nlow = nlow,
        .anchors = st->anchors,
        .anchor_hash = st->ahash,
        .nanchors = na,
        .max_candidates = st->max_candidates,
        .now_ms = dd__wall_ms(),
    };
    dd_lookup_t lk;
    rc = st->be->lookup(st->be, &q, &lk, err);
    if (rc != TM_OK) {
        free(w);
        return rc < 0 ? rc : TM_EDOC;
    }
    int indexed = 0;
    if (lk.exact) {
        v.status = DD_EXACT;
        v.cluster = dd__vstr(st, 0, lk.exact_rec.cluster, lk.exact_rec.cluster_len);
        v.matched = dd__vstr(st, 1, lk.exact_rec.id, lk.exact_rec.id_len);
        v.cluster_seq = lk.exact_rec.cluster_seq;
        v.byte_identical = lk.exact_rec.raw == sk->raw;
        st->be->skip(st->be);
    } else {
        const dd_cand_t *best = NULL;
        dd_cmp_t bc = {0};
        double best_score = -1, near_score = -1;
        const dd_cand_t *nearest = NULL;
        dd_cmp_t nc = {0};
        if (lk.ncand > 0 && dd_xset_build(&st->xset, x, st->xdf) != 0)
            lk.ncand = 0; /* out of memory: compared with nothing */
        for (size_t i = 0; i < lk.ncand; i++) {
            dd_cmp_t c;
            const dd_record_t *y = &lk.cand[i].rec;
            unsigned limit = st->vc.boilerplate_margin == 0
                                 ? 0
                                 : dd_df_cluster(st->df, y->cluster_seq) + st->vc.boilerplate_margin;
            if (dd__grow_ycmp(st, y->n) != 0)
                continue;
            dd_compare(&st->vc, x, &st->xset, st->xdf, y, st->df, limit, st->ybuf, st->ydf, &c);
            if (st->debug)
                h->log(h, TM_LOG_DEBUG,
                       "msg=\"candidate\" id=\"%s\" candidate=\"%.*s\" score=%.3f limit=%u nx=%u ny=%u "
                       "shared=%u small=%.0f jaccard=%.4f contained=%.4f contains=%.4f pass=%d",
                       h->doc_id(doc), (int)lk.cand[i].rec.id_len, lk.cand[i].rec.id,
                       lk.cand[i].score, limit, c.nx, c.ny, c.ni, c.small, c.jaccard, c.cx, c.cy, c.pass);
            double score = (c.cx > c.cy ? c.cx : c.cy) + c.jaccard;
            if (c.pass && score > best_score) {
                best = &lk.cand[i];
                bc = c;
                best_score = score;
            }
            if (score > near_score) {
                nearest = &lk.cand[i];
                nc = c;
                near_score = score;
            }
            /* A near-identical match: no other candidate can do better in a
             * way that matters (candidates come best-first). */
            if (c.pass && c.jaccard >= 0.9)
                break;
        }
        v.candidates = (unsigned)lk.ncand;
        const char *id = h->doc_id(doc);
        dd_record_t rec = {
            .seq = lk.seq,
            .time_ms = q.now_ms,
            .exact = sk->exact,
            .raw = sk->raw,
            .tau = x->tau,
            .n = x->n,
            .h = x->h,
            .flags = st->flags,
            .id = id,
            .id_len = (uint32_t)strlen(id),
        };
        if (best != NULL) {
            const dd_record_t *y = &best->rec;
            v.status = DD_NEAR;
            v.jaccard = bc.jaccard;
            v.containment = bc.cx;
            v.subset = bc.cx >= st->vc.containment && bc.ny * 4 > bc.nx * 5;
            v.cluster = dd__vstr(st, 0, y->cluster, y->cluster_len);
            v.matched = dd__vstr(st, 1, y->id, y->id_len);
            v.cluster_seq = y->cluster_seq;
            rec.status = DD_NEAR;
            rec.cluster_seq = y->cluster_seq;
            rec.cluster = y->cluster;
            rec.cluster_len = y->cluster_len;
        } else {
            v.status = DD_UNIQUE;
            if (nearest != NULL) {
                v.jaccard = nc.jaccard;
                v.containment = nc.cx;
                v.matched = dd__vstr(st, 1, nearest->rec.id, nearest->rec.id_len);
            }
            rec.status = DD_UNIQUE;
            rec.cluster_seq = lk.seq;
            rec.cluster = id;
            rec.cluster_len = rec.id_len;
        }
        if ((best != NULL && v.cluster == NULL) || (best != NULL && v.matched == NULL) ||
            (nearest != NULL && best == NULL && v.matched == NULL)) {
            st->be->skip(st->be);
            dd_verdict_clear(&v);
            free(w);
            return tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
        }
        /* rec.cluster may point into the candidate's stored bytes: insert
         * copies it before anything can change them. */
        rc = st->be->insert(st->be, &q, &rec, err);
        dd_record_t first;
        if (rc == 1 && st->be->claimant != NULL && st->be->claimant(st->be, &first) == 0) {
            /* shared index: another daemon indexed this text meanwhile */
            dd_verdict_clear(&v);
            memset(&v, 0, sizeof v);
            v.status = DD_EXACT;
            v.cluster = dd__vstr(st, 0, first.cluster, first.cluster_len);
            v.matched = dd__vstr(st, 1, first.id, first.id_len);
            v.cluster_seq = first.cluster_seq;
            v.byte_identical = first.raw == sk->raw;
            v.candidates = (unsigned)lk.ncand;
            rc = v.cluster != NULL && v.matched != NULL
                     ? TM_OK
                     : tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
        } else if (rc == 1) {
            rc = tm_err_set(err, TM_EDOC, "index_unavailable",
                            "dedup: the shared index changed under this document; not checked");
        } else if (rc == TM_OK) {
            indexed = 1;
            dd_df_add_slots(st->df, w->dfslot, x->n, rec.cluster_seq);
        }
    }
    if (rc == TM_OK)
        rc = dd__annotate(st, doc, &v, indexed || v.status == DD_EXACT, err);
    dd_verdict_clear(&v);
    free(w);
    return rc;
}

static const tm_stage_desc_t dd_stage_desc = {
    TM_STAGE_DESC_HEADER,
    .name = "dedup",
    .version = DD_VERSION,
    .description = "exact and near-duplicate detection over a persistent window (LMDB or "
                   "Redis)",
    .params = dd_params,
    .create = dd_create,
    .destroy = dd_destroy,
    .thread_init = dd_thread_init,
    .thread_fini = dd_thread_fini,
    .process = dd_process,
    .process_ordered = dd_process_ordered,
};

TM_STAGE_EXPORT(dd_stage_desc)
