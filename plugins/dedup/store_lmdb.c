/*
 * store_lmdb.c - the embedded index.
 *
 * Durable part: one LMDB environment in <state_dir>/<subdir>/ holding
 *   "docs": seq (u64, MDB_INTEGERKEY) -> record (sketch.c's codec), written
 *           in ascending seq order with MDB_APPEND, deleted from the old end;
 *   "meta": "fingerprint" -> the sketch settings the records were built with.
 * Working part, in memory and rebuilt from "docs" at open: the exact-hash
 * map and the anchor postings (memindex.c).  So a document costs one
 * sequential append on disk instead of dozens of random B-tree updates.
 *
 * Threads: the ordered lane (process_ordered, one document at a time on
 * whichever worker drains it) reads and queues writes; a writer thread
 * owned by this backend writes the queued records in batches (every
 * commit_docs documents or commit_ms milliseconds) in its own write
 * transaction.  Records not yet committed are served from the queue.
 * A mutex serialises the lane against the writer's queue swap; the lane
 * reads LMDB through one read transaction (MDB_NOTLS, renewed per
 * document) so it sees every batch committed before the document started.
 *
 * Exclusive use: an flock()ed "dedup.lock" file, so a second process on
 * the same directory fails at start-up with a clear message instead of
 * corrupting the in-memory view of the first.
 */
#include "autoconfig.h"

#define _GNU_SOURCE 1
#include "backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "candset.h"
#include "memindex.h"
#include "sketch.h"

typedef struct dd_op {
    uint64_t seq;
    size_t len;        /* 0: delete seq */
    unsigned char *buf;/* owned record bytes */
} dd_op_t;

typedef struct dd_oplist {
    dd_op_t *op;
    size_t n, cap;
    /* puts in this list cover seqs [first, first + nput), in order */
    uint64_t first;
    size_t nput;
    size_t *put_idx;   /* index in op[] of the put for first + i */
    size_t put_cap;
} dd_oplist_t;

typedef struct dd_lmdb {
    dd_backend_t base;
    const tm_host_t *host;
    dd_lmdb_cfg_t cfg;
    char dir[PATH_MAX];
    int tmp;           /* remove dir at destroy */
    int lock_fd;
    MDB_env *env;
    MDB_dbi docs, meta;
    MDB_txn *rtxn;     /* the lane's read transaction */
    int rtxn_live;

    dd_exactmap_t *exact;
    dd_anchors_t *anchors;
    uint64_t next_seq;   /* next number to hand out */
    uint64_t oldest;     /* oldest indexed seq (== next_seq when empty) */
    uint64_t live;       /* documents indexed */

    pthread_mutex_t mu;
    pthread_cond_t cv_writer;
    pthread_t writer;
    int writer_started, stop;
    int kicked;        /* the writer was signalled for the pending batch */
    dd_oplist_t pending, committing;
    int writer_failed;
    char writer_err[256];
    uint64_t map_size;

    dd_candset_t cs;
    unsigned hit_df;   /* document frequency of the key being probed */
    const uint16_t *hit_dfs; /* ...of the batch's keys (dd__hit_many_cb) */
    dd_cand_t *cand;
    size_t cand_cap;
    unsigned since_drop; /* inserts since the map's pages were dropped */
} dd_lmdb_t;

#define DD_MAX_PENDING_OPS 200000
#define DD_PROBE_GROUP 64

/* Index pages read through LMDB's map (start-up replay, candidate records,
 * eviction walking the oldest records) count in the process's RSS although
 * they are the page cache's, clean and shared.  They are dropped from the
 * mapping after the replay and every this many documents, so the daemon's
 * RSS is its own memory plus what recent lookups touched; the pages stay
 * cached (a later read is a minor fault, not disk I/O). */
#define DD_DROP_PAGES_EVERY 8192

static int64_t dd__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- op lists ---- */

static void dd__ops_clear(dd_oplist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->op[i].buf);
    l->n = 0;
    l->nput = 0;
    l->first = 0;
}

static void dd__ops_free(dd_oplist_t *l)
{
    dd__ops_clear(l);
    free(l->op);
    free(l->put_idx);
    memset(l, 0, sizeof *l);
}

static int dd__ops_push(dd_oplist_t *l, uint64_t seq, unsigned char *buf, size_t len)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        dd_op_t *no = realloc(l->op, nc * sizeof *no);
        if (no == NULL)
            return -1;
        l->op = no;
        l->cap = nc;
    }
    if (len > 0) {
        if (l->nput == l->put_cap) {
            size_t nc = l->put_cap ? l->put_cap * 2 : 256;
            size_t *ni = realloc(l->put_idx, nc * sizeof *ni);
            if (ni == NULL)
                return -1;
            l->put_idx = ni;
            l->put_cap = nc;
        }
        if (l->nput == 0)
            l->first = seq;
        l->put_idx[l->nput++] = l->n;
    }
    l->op[l->n++] = (dd_op_t){seq, len, buf};
    return 0;
}

static const dd_op_t *dd__ops_find(const dd_oplist_t *l, uint64_t seq)
{
    if (l->nput == 0 || seq < l->first || seq - l->first >= l->nput)
        return NULL;
    return &l->op[l->put_idx[seq - l->first]];
}

/* ---- reading a record by seq (lane, under mu) ---- */

static int dd__get(dd_lmdb_t *b, uint64_t seq, dd_record_t *r)
{
    const dd_op_t *op = dd__ops_find(&b->pending, seq);
    if (op == NULL)
        op = dd__ops_find(&b->committing, seq);
    if (op != NULL)
        return dd_record_decode(op->buf, op->len, r, 0) == 0 ? 0 : -1;
    if (!b->rtxn_live)
        return -1;
    MDB_val k = {sizeof seq, &seq}, v;
    if (mdb_get(b->rtxn, b->docs, &k, &v) != 0)
        return -1;
    return dd_record_decode(v.mv_data, v.mv_size, r, 0);
}

/* ---- the writer thread ---- */

static int dd__write_batch(dd_lmdb_t *b, dd_oplist_t *l, char *why, size_t whylen)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(b->env, NULL, 0, &txn);
    if (rc != 0) {
        snprintf(why, whylen, "mdb_txn_begin: %s", mdb_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        dd_op_t *op = &l->op[i];
        MDB_val k = {sizeof op->seq, &op->seq};
        if (op->len > 0) {
            MDB_val v = {op->len, op->buf};
            rc = mdb_put(txn, b->docs, &k, &v, MDB_APPEND);
            if (rc == MDB_KEYEXIST) /* not beyond the last key (cannot happen): plain put */
                rc = mdb_put(txn, b->docs, &k, &v, 0);
        } else {
            rc = mdb_del(txn, b->docs, &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
    }
    if (rc != 0) {
        snprintf(why, whylen, "writing records: %s", mdb_strerror(rc));
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        snprintf(why, whylen, "mdb_txn_commit: %s", mdb_strerror(rc));
    return rc;
}

static void dd__deadline(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Write queued operations in batches until stopped; at stop, write what is
 * left (one attempt when the disk keeps failing). */
static void *dd__writer_main(void *arg)
{
    dd_lmdb_t *b = arg;
    pthread_mutex_lock(&b->mu);
    int64_t last = dd__now_ms();
    for (;;) {
        if (b->committing.n == 0) {
            while (!b->stop && b->pending.n < b->cfg.commit_docs &&
                   !(b->pending.n > 0 && dd__now_ms() - last >= (int64_t)b->cfg.commit_ms)) {
                struct timespec ts;
                dd__deadline(&ts, b->pending.n > 0 ? (long)b->cfg.commit_ms : 1000);
                pthread_cond_timedwait(&b->cv_writer, &b->mu, &ts);
            }
            if (b->pending.n == 0) {
                if (b->stop)
                    break;
                continue;
            }
            /* committing is empty: swap */
            dd_oplist_t t = b->committing;
            b->committing = b->pending;
            b->pending = t;
            b->kicked = 0;
        }
        pthread_mutex_unlock(&b->mu);
        char why[200];
        int rc = dd__write_batch(b, &b->committing, why, sizeof why);
        pthread_mutex_lock(&b->mu);
        if (rc == MDB_MAP_FULL) {
            /* Between documents no read transaction is live (the lane holds
             * mu while it has one), so the map may be resized now. */
            uint64_t ns = b->map_size * 2;
            if (!b->rtxn_live && mdb_env_set_mapsize(b->env, (size_t)ns) == 0) {
                b->host->log(b->host, TM_LOG_WARN,
                             "msg=\"dedup index map full; map size doubled\" dir=\"%s\" "
                             "map_size_mb=%llu",
                             b->dir, (unsigned long long)(ns >> 20));
                b->map_size = ns;
                pthread_mutex_unlock(&b->mu);
                rc = dd__write_batch(b, &b->committing, why, sizeof why);
                pthread_mutex_lock(&b->mu);
            }
        }
        if (rc != 0) {
            if (!b->writer_failed)
                b->host->log(b->host, TM_LOG_ERROR,
                             "msg=\"cannot write the dedup index; will retry\" dir=\"%s\" "
                             "reason=\"%s\"",
                             b->dir, why);
            b->writer_failed = 1;
            snprintf(b->writer_err, sizeof b->writer_err, "%s", why);
            if (b->stop)
                break; /* the batch stays in committing; destroy reports it */
            struct timespec ts;
            dd__deadline(&ts, 1000);
            pthread_cond_timedwait(&b->cv_writer, &b->mu, &ts);
            continue; /* retry the same batch */
        }
        if (b->writer_failed)
            b->host->log(b->host, TM_LOG_INFO, "msg=\"dedup index writable again\" dir=\"%s\"",
                         b->dir);
        b->writer_failed = 0;
        dd__ops_clear(&b->committing);
        last = dd__now_ms();
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* ---- in-memory maintenance ---- */

/* LMDB does not tell where it mapped the file (me_mapaddr is set only
 * with MDB_FIXEDMAP): find the mapping of data.mdb's inode. */
static void dd__drop_map_pages(dd_lmdb_t *b)
{
    char p[PATH_MAX + 32];
    struct stat st;
    snprintf(p, sizeof p, "%s/data.mdb", b->dir);
    if (stat(p, &st) != 0)
        return;
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL)
        return;
    char line[PATH_MAX + 128];
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long lo, hi, ino;
        unsigned maj, min;
        if (sscanf(line, "%llx-%llx %*s %*s %x:%x %llu", &lo, &hi, &maj, &min, &ino) != 5)
            continue;
        if (ino != (unsigned long long)st.st_ino || makedev(maj, min) != st.st_dev || hi <= lo)
            continue;
        (void)madvise((void *)(uintptr_t)lo, (size_t)(hi - lo), MADV_DONTNEED);
    }
    fclose(f);
}

static uint64_t dd__full_seq(const dd_lmdb_t *b, uint32_t lo)
{
    uint32_t cur = (uint32_t)b->next_seq;
    return b->next_seq - (uint64_t)(uint32_t)(cur - lo);
}

/* q: the query that found r's anchors (its anchors and their table
 * hashes: r's flagged entries in order), or NULL (read the flags) */
static int dd__mem_add(dd_lmdb_t *b, const dd_record_t *r, const dd_query_t *q)
{
    if (dd_exactmap_get(b->exact, r->exact) == 0 &&
        dd_exactmap_put(b->exact, r->exact, r->seq) != 0)
        return -1;
    if (q != NULL && q->anchor_hash != NULL) {
        return dd_anchors_add_many_h(b->anchors, q->anchors, q->anchor_hash, q->nanchors,
                                     (uint32_t)r->seq, b->cfg.posting_max);
    }
    for (uint32_t i = 0; i < r->n; i++) {
        if (!(r->flags[i] & DD_F_ANCHOR))
            continue;
        uint32_t key = dd_rec_hash(r, i);
        if (dd_anchors_add(b->anchors, key, (uint32_t)r->seq, b->cfg.posting_max) < 0)
            return -1;
    }
    return 0;
}

static void dd__mem_del(dd_lmdb_t *b, const dd_record_t *r)
{
    dd_exactmap_del(b->exact, r->exact, r->seq);
    for (uint32_t i = 0; i < r->n; i++)
        if (r->flags[i] & DD_F_ANCHOR)
            dd_anchors_del(b->anchors, dd_rec_hash(r, i), (uint32_t)r->seq);
}

/* Evict from the old end until the window holds; under mu. */
static void dd__evict(dd_lmdb_t *b, int64_t now_ms, int room_for_one)
{
    uint64_t cap = b->cfg.max_docs;
    while (b->oldest < b->next_seq) {
        uint64_t count = b->next_seq - b->oldest;
        dd_record_t r;
        int have = dd__get(b, b->oldest, &r) == 0;
        int over = cap > 0 && count + (room_for_one ? 1 : 0) > cap;
        int old = b->cfg.max_age_ms > 0 && have && r.time_ms < now_ms - b->cfg.max_age_ms;
        if (!over && !old && have)
            break;
        if (have) {
            dd__mem_del(b, &r);
            if (b->live > 0)
                b->live--;
        }
        dd__ops_push(&b->pending, b->oldest, NULL, 0);
        b->oldest++;
    }
}

/* ---- backend hooks ---- */

static void dd__hit_cb(void *ctx, uint32_t lo)
{
    dd_lmdb_t *b = ctx;
    dd_candset_hit(&b->cs, dd__full_seq(b, lo), dd_key_weight(b->hit_df));
}

/* dd_anchors_get_many_h's: a hit on key i of the batch, whose document
 * frequency is hit_dfs[i] */
static void dd__hit_many_cb(void *ctx, size_t i, uint32_t lo)
{
    dd_lmdb_t *b = ctx;
    dd_candset_hit(&b->cs, dd__full_seq(b, lo), dd_key_weight(b->hit_dfs[i]));
}

static int dd__lookup(dd_backend_t *base, const dd_query_t *q, dd_lookup_t *out, tm_err_t *err)
{
    dd_lmdb_t *b = (dd_lmdb_t *)base;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&b->mu);
    if (b->writer_failed && b->pending.n + b->committing.n > DD_MAX_PENDING_OPS) {
        char why[256];
        snprintf(why, sizeof why, "%s", b->writer_err);
        pthread_mutex_unlock(&b->mu);
        return tm_err_set(err, TM_EDOC, "index_unwritable",
                          "dedup: cannot write the index in %s (%s); this document was not "
                          "checked",
                          b->dir, why);
    }
    int rc = mdb_txn_renew(b->rtxn);
    if (rc != 0) {
        pthread_mutex_unlock(&b->mu);
        return tm_err_set(err, TM_EDOC, "index_unreadable",
                          "dedup: cannot read the index in %s: %s", b->dir, mdb_strerror(rc));
    }
    b->rtxn_live = 1;
    /* The age window also applies while nothing new is indexed. */
    if (b->cfg.max_age_ms > 0)
        dd__evict(b, q->now_ms, 0);
    out->seq = b->next_seq;
    uint64_t xs = dd_exactmap_get(b->exact, q->sk->exact);
    if (xs != 0 && dd__get(b, xs, &out->exact_rec) == 0) {
        out->exact = 1;
        return TM_OK; /* mu stays held until insert/skip */
    }
    dd_candset_reset(&b->cs);
    /* Probes go in groups whose slots are all requested first: on a large
     * index each is a cache miss, and these then overlap. */
    if (q->key_hash != NULL) {
        b->hit_dfs = q->key_df;
        dd_anchors_get_sorted_h(b->anchors, q->keys, q->key_hash, q->nlow, dd__hit_many_cb, b);
    } else {
        for (size_t g = 0; g < q->nlow; g += DD_PROBE_GROUP) {
            size_t e = q->nlow - g < DD_PROBE_GROUP ? q->nlow : g + DD_PROBE_GROUP;
            for (size_t i = g; i < e; i++)
                dd_anchors_prefetch(b->anchors, q->keys[i]);
            for (size_t i = g; i < e; i++) {
                b->hit_df = q->key_df[i];
                dd_anchors_get(b->anchors, q->keys[i], dd__hit_cb, b);
            }
        }
    }
    if (b->cs.count == 0 && q->nkeys > q->nlow) {
        if (q->key_hash != NULL) {
            b->hit_dfs = q->key_df + q->nlow;
            dd_anchors_get_sorted_h(b->anchors, q->keys + q->nlow, q->key_hash + q->nlow,
                                  q->nkeys - q->nlow, dd__hit_many_cb, b);
        } else {
            for (size_t i = q->nlow; i < q->nkeys; i++) {
                b->hit_df = q->key_df[i];
                dd_anchors_get(b->anchors, q->keys[i], dd__hit_cb, b);
            }
        }
    }
    size_t k = dd_candset_top(&b->cs, q->max_candidates);
    if (k > b->cand_cap) {
        dd_cand_t *nc = realloc(b->cand, k * sizeof *nc);
        if (nc == NULL)
            k = b->cand_cap;
        else {
            b->cand = nc;
            b->cand_cap = k;
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        if (dd__get(b, b->cs.top[i].seq, &b->cand[n].rec) != 0)
            continue;
        b->cand[n].score = b->cs.top[i].score;
        n++;
    }
    out->cand = b->cand;
    out->ncand = n;
    return TM_OK;
}

static void dd__release(dd_lmdb_t *b)
{
    mdb_txn_reset(b->rtxn);
    b->rtxn_live = 0;
    pthread_mutex_unlock(&b->mu);
}

static int dd__insert(dd_backend_t *base, const dd_query_t *q, const dd_record_t *rec,
                      tm_err_t *err)
{
    dd_lmdb_t *b = (dd_lmdb_t *)base;
    int rc = TM_OK;
    dd__evict(b, q->now_ms, 1);
    size_t len = dd_record_size(rec);
    unsigned char *buf = malloc(len);
    dd_record_t view;
    if (buf == NULL) {
        rc = tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
        goto out;
    }
    dd_record_encode(rec, buf);
    if (dd_record_decode(buf, len, &view, 0) != 0 || view.seq != b->next_seq) {
        free(buf);
        rc = tm_err_set(err, TM_EDOC, "internal", "dedup: record for seq %llu did not encode",
                        (unsigned long long)rec->seq);
        goto out;
    }
    if (dd__ops_push(&b->pending, rec->seq, buf, len) != 0) {
        free(buf);
        rc = tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
        goto out;
    }
    if (b->oldest == b->next_seq)
        b->oldest = rec->seq;
    b->next_seq = rec->seq + 1;
    b->live++;
    if (dd__mem_add(b, &view, q) != 0)
        rc = tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory (index)");
    if (++b->since_drop >= DD_DROP_PAGES_EVERY) {
        b->since_drop = 0;
        dd__drop_map_pages(b);
    }
    if (!b->kicked && b->pending.n >= b->cfg.commit_docs) {
        b->kicked = 1; /* once per batch: the writer takes all that is queued */
        pthread_cond_signal(&b->cv_writer);
    }
out:
    dd__release(b);
    return rc;
}

static void dd__skip(dd_backend_t *base)
{
    dd__release((dd_lmdb_t *)base);
}

static uint64_t dd__file_size(const char *dir, const char *name)
{
    char p[PATH_MAX + 32];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    if (stat(p, &st) != 0)
        return 0;
    return (uint64_t)st.st_blocks * 512; /* allocated, not apparent */
}

static void dd__stats(dd_backend_t *base, uint64_t *docs, uint64_t *mem, uint64_t *disk)
{
    dd_lmdb_t *b = (dd_lmdb_t *)base;
    pthread_mutex_lock(&b->mu);
    *docs = b->live;
    *mem = dd_exactmap_bytes(b->exact) + dd_anchors_bytes(b->anchors);
    pthread_mutex_unlock(&b->mu);
    *disk = dd__file_size(b->dir, "data.mdb");
}

static void dd__rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[PATH_MAX + 260];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void dd__destroy(dd_backend_t *base)
{
    dd_lmdb_t *b = (dd_lmdb_t *)base;
    if (b == NULL)
        return;
    if (b->writer_started) {
        pthread_mutex_lock(&b->mu);
        b->stop = 1;
        pthread_cond_signal(&b->cv_writer);
        pthread_mutex_unlock(&b->mu);
        pthread_join(b->writer, NULL);
        if (b->pending.n + b->committing.n > 0)
            b->host->log(b->host, TM_LOG_ERROR,
                         "msg=\"dedup index: changes not written at shutdown\" dir=\"%s\" "
                         "count=%zu reason=\"%s\"",
                         b->dir, b->pending.n + b->committing.n, b->writer_err);
    }
    if (b->rtxn != NULL)
        mdb_txn_abort(b->rtxn);
    if (b->env != NULL) {
        mdb_env_sync(b->env, 1);
        mdb_env_close(b->env);
    }
    if (b->lock_fd >= 0)
        close(b->lock_fd); /* releases the flock */
    if (b->tmp)
        dd__rmdir(b->dir);
    dd__ops_free(&b->pending);
    dd__ops_free(&b->committing);
    dd_exactmap_free(b->exact);
    dd_anchors_free(b->anchors);
    dd_candset_free(&b->cs);
    free(b->cand);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv_writer);
    free(b);
}

/* ---- opening ---- */

static int dd__mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int dd__lock(dd_lmdb_t *b, tm_err_t *err)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/dedup.lock", b->dir);
    b->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (b->lock_fd < 0)
        return tm_err_set(err, TM_EIO, "state_unwritable",
                          "dedup: cannot create %s: %s (is the state directory writable?)", p,
                          strerror(errno));
    if (flock(b->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t r = pread(b->lock_fd, pid, sizeof pid - 1, 0);
        if (r > 0) {
            pid[r] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
        }
        if (e == EWOULDBLOCK)
            return tm_err_set(err, TM_EIO, "index_locked",
                              "dedup: the index in %s is in use by another process%s%s; one "
                              "LMDB index serves one textmilld (share an index between daemons "
                              "with \"backend\": \"redis\")",
                              b->dir, pid[0] ? " (pid " : "", pid[0] ? pid : "");
        return tm_err_set(err, TM_EIO, "index_locked", "dedup: cannot lock %s: %s", p,
                          strerror(e));
    }
    char me[32];
    int n = snprintf(me, sizeof me, "%ld\n", (long)getpid());
    if (ftruncate(b->lock_fd, 0) == 0 && pwrite(b->lock_fd, me, (size_t)n, 0) < 0) {
        /* the pid is informational only */
    }
    return TM_OK;
}

static int dd__check_meta(dd_lmdb_t *b, tm_err_t *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(b->env, NULL, 0, &txn);
    if (rc != 0)
        return tm_err_set(err, TM_EIO, "index_unreadable", "dedup: %s: mdb_txn_begin: %s",
                          b->dir, mdb_strerror(rc));
    rc = mdb_dbi_open(txn, "docs", MDB_CREATE | MDB_INTEGERKEY, &b->docs);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &b->meta);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return tm_err_set(err, TM_EIO, "index_corrupt",
                          "dedup: cannot open the tables of the index in %s: %s; the files are "
                          "damaged or from another program: move the directory away to start "
                          "a new index",
                          b->dir, mdb_strerror(rc));
    }
    MDB_val k = {sizeof "fingerprint" - 1, (void *)"fingerprint"}, v;
    rc = mdb_get(txn, b->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        MDB_val nv = {strlen(b->cfg.fingerprint), (void *)b->cfg.fingerprint};
        rc = mdb_put(txn, b->meta, &k, &nv, 0);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc != 0)
            return tm_err_set(err, TM_EIO, "state_unwritable",
                              "dedup: cannot initialise the index in %s: %s", b->dir,
                              mdb_strerror(rc));
        return TM_OK;
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return tm_err_set(err, TM_EIO, "index_corrupt", "dedup: cannot read %s: %s", b->dir,
                          mdb_strerror(rc));
    }
    int same = v.mv_size == strlen(b->cfg.fingerprint) &&
               memcmp(v.mv_data, b->cfg.fingerprint, v.mv_size) == 0;
    char stored[200];
    size_t sl = v.mv_size < sizeof stored - 1 ? v.mv_size : sizeof stored - 1;
    memcpy(stored, v.mv_data, sl);
    stored[sl] = '\0';
    if (!same) {
        mdb_txn_abort(txn);
        return tm_err_set(err, TM_EINVAL, "index_incompatible",
                          "dedup: the index in %s was built with other sketch settings (%s) "
                          "than the config's (%s); restore those settings, or move the "
                          "directory away to start a new index",
                          b->dir, stored, b->cfg.fingerprint);
    }
    /* Commit, not abort: table handles opened in an aborted transaction
     * are closed with it, and the index uses them from here on. */
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return tm_err_set(err, TM_EIO, "index_unreadable", "dedup: %s: cannot open the tables: %s",
                          b->dir, mdb_strerror(rc));
    return TM_OK;
}

typedef struct {
    dd_replay_fn fn;
    void *ctx;
} dd_replay_t;

static int dd__replay(dd_lmdb_t *b, const dd_replay_t *rp, tm_err_t *err)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(b->rtxn, b->docs, &cur);
    if (rc != 0)
        return tm_err_set(err, TM_EIO, "index_unreadable", "dedup: %s: %s", b->dir,
                          mdb_strerror(rc));
    uint64_t first = 0, last = 0, count = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        dd_record_t r;
        uint64_t seq;
        if (k.mv_size != sizeof seq) {
            mdb_cursor_close(cur);
            return tm_err_set(err, TM_EIO, "index_corrupt",
                              "dedup: the index in %s holds a key of %zu bytes; the file is "
                              "damaged: move the directory away to start a new index",
                              b->dir, k.mv_size);
        }
        memcpy(&seq, k.mv_data, sizeof seq);
        if (dd_record_decode(v.mv_data, v.mv_size, &r, 1) != 0 || r.seq != seq ||
            (count > 0 && seq <= last)) {
            mdb_cursor_close(cur);
            return tm_err_set(err, TM_EIO, "index_corrupt",
                              "dedup: record %llu in %s/data.mdb is damaged (bad checksum or "
                              "layout); move the directory away to start a new index",
                              (unsigned long long)seq, b->dir);
        }
        if (count == 0)
            first = seq;
        last = seq;
        if (++count % 65536 == 0)
            dd__drop_map_pages(b); /* records already read: keep RSS flat */
        b->next_seq = seq + 1; /* dd__full_seq needs the current end */
        if (dd__mem_add(b, &r, NULL) != 0) {
            mdb_cursor_close(cur);
            return tm_err_set(err, TM_ENOMEM, "out_of_memory",
                              "dedup: out of memory loading %llu records from %s",
                              (unsigned long long)count, b->dir);
        }
    }
    if (rc != MDB_NOTFOUND) {
        mdb_cursor_close(cur);
        return tm_err_set(err, TM_EIO, "index_corrupt",
                          "dedup: cannot read the index in %s: %s; move the directory away to "
                          "start a new index",
                          b->dir, mdb_strerror(rc));
    }
    b->oldest = count > 0 ? first : 1;
    b->next_seq = count > 0 ? last + 1 : 1;
    b->live = count;
    /* The document-frequency table wants the most recent records. */
    if (rp->fn != NULL && count > 0 && b->cfg.replay_recent > 0) {
        uint64_t from = last >= b->cfg.replay_recent ? last - b->cfg.replay_recent + 1 : 1;
        if (from < first)
            from = first;
        k.mv_size = sizeof from;
        k.mv_data = &from;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            dd_record_t r;
            if (dd_record_decode(v.mv_data, v.mv_size, &r, 0) == 0)
                rp->fn(rp->ctx, &r);
        }
    }
    mdb_cursor_close(cur);
    return TM_OK;
}

int dd_lmdb_open(const tm_host_t *host, const dd_lmdb_cfg_t *cfg, dd_replay_fn replay, void *ctx,
                 dd_backend_t **out, tm_err_t *err)
{
    *out = NULL;
    dd_lmdb_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
    b->base.name = "lmdb";
    b->base.lookup = dd__lookup;
    b->base.insert = dd__insert;
    b->base.skip = dd__skip;
    b->base.stats = dd__stats;
    b->base.destroy = dd__destroy;
    b->host = host;
    b->cfg = *cfg;
    b->lock_fd = -1;
    b->map_size = cfg->map_size;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv_writer, NULL);
    int rc;
    if (cfg->state_dir == NULL) {
        const char *t = getenv("TMPDIR");
        snprintf(b->dir, sizeof b->dir, "%s/textmill-dedup-XXXXXX",
                 t != NULL && t[0] != '\0' ? t : "/tmp");
        if (mkdtemp(b->dir) == NULL) {
            rc = tm_err_set(err, TM_EIO, "state_unwritable",
                            "dedup: cannot create a temporary index directory %s: %s", b->dir,
                            strerror(errno));
            goto fail;
        }
        b->tmp = 1;
    } else {
        if ((size_t)snprintf(b->dir, sizeof b->dir, "%s/%s", cfg->state_dir, cfg->subdir) >=
            sizeof b->dir) {
            rc = tm_err_set(err, TM_EINVAL, "bad_config", "dedup: state directory path too long");
            goto fail;
        }
        if (dd__mkdirs(b->dir) != 0) {
            rc = tm_err_set(err, TM_EIO, "state_unwritable",
                            "dedup: cannot create the index directory %s: %s", b->dir,
                            strerror(errno));
            goto fail;
        }
    }
    if ((rc = dd__lock(b, err)) != TM_OK)
        goto fail;
    b->exact = dd_exactmap_new();
    b->anchors = dd_anchors_new(cfg->anchor_split);
    if (b->exact == NULL || b->anchors == NULL) {
        rc = tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
        goto fail;
    }
    if ((rc = mdb_env_create(&b->env)) != 0) {
        b->env = NULL;
        rc = tm_err_set(err, TM_EIO, "index_unreadable", "dedup: mdb_env_create: %s",
                        mdb_strerror(rc));
        goto fail;
    }
    mdb_env_set_maxdbs(b->env, 4);
    mdb_env_set_mapsize(b->env, (size_t)b->map_size);
    unsigned flags = MDB_NOTLS | MDB_NOMETASYNC | (cfg->sync ? 0u : MDB_NOSYNC);
    rc = mdb_env_open(b->env, b->dir, flags, 0640);
    if (rc != 0) {
        const char *hint = rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ||
                                   rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND
                               ? "the file is damaged or not an LMDB index: move the directory "
                                 "away to start a new index"
                           : rc == EACCES ? "check the directory's permissions"
                                          : "check the state directory";
        rc = tm_err_set(err, TM_EIO, "index_unreadable",
                        "dedup: cannot open the index %s/data.mdb: %s; %s", b->dir,
                        mdb_strerror(rc), hint);
        goto fail;
    }
    {
        MDB_envinfo info;
        if (mdb_env_info(b->env, &info) == 0 && info.me_mapsize > b->map_size)
            b->map_size = info.me_mapsize;
    }
    if ((rc = dd__check_meta(b, err)) != TM_OK)
        goto fail;
    rc = mdb_txn_begin(b->env, NULL, MDB_RDONLY, &b->rtxn);
    if (rc != 0) {
        b->rtxn = NULL;
        rc = tm_err_set(err, TM_EIO, "index_unreadable", "dedup: %s: %s", b->dir,
                        mdb_strerror(rc));
        goto fail;
    }
    dd_replay_t rp = {replay, ctx};
    if ((rc = dd__replay(b, &rp, err)) != TM_OK)
        goto fail;
    mdb_txn_reset(b->rtxn);
    dd__drop_map_pages(b); /* the replay read every record */
    if (pthread_create(&b->writer, NULL, dd__writer_main, b) != 0) {
        rc = tm_err_set(err, TM_ENOMEM, "no_thread", "dedup: cannot start the index writer");
        goto fail;
    }
    b->writer_started = 1;
    host->log(host, TM_LOG_INFO,
              "msg=\"dedup index open\" backend=lmdb dir=\"%s\" documents=%llu temporary=%d",
              b->dir, (unsigned long long)b->live, b->tmp);
    *out = &b->base;
    return TM_OK;
fail:
    dd__destroy(&b->base);
    return rc;
}
