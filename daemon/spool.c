/*
 * spool.c - the LMDB spool, its group-commit writer thread, the dead-letter
 * file and the crash record (see spool.h for the guarantees).
 */
#include "autoconfig.h"

#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crash.h"
#include "log.h"

#define TM__MAGIC "TMS1"

typedef struct tm__append {
    struct tm__append *next;
    void *item;
    char *raw;
    size_t len;
    uint64_t key;
    int stored;
} tm__append_t;

typedef struct tm__suspect {
    char *id;
    uint32_t count;
    int32_t sig;
    char stage[64];
} tm__suspect_t;

typedef struct tm__retire {
    struct tm__retire *next;
    char *forget;     /* a suspect id to delete, or NULL */
    uint64_t key;
    uint64_t due_ns;
    char *dead;       /* dead-letter line to write first, or NULL */
    size_t dead_len;
} tm__retire_t;

struct tm_spool {
    tm_spool_opts_t o;
    char dir[4096];
    MDB_env *env;
    MDB_dbi docs, meta, suspects;
    pthread_mutex_t sus_lock;
    tm__suspect_t *sus;
    size_t nsus;              /* under sus_lock */
    atomic_size_t sus_count;  /* == nsus, read without the lock */
    int have_env;
    uint64_t next_key;
    int dead_fd, crash_fd;
    tm_spool_done_fn done;
    void *ctx;

    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tm__append_t *app_head, *app_tail;
    size_t app_len;
    tm__retire_t *ret_head, *ret_tail; /* in due order (FIFO, same delay) */
    tm__retire_t *imm_head, *imm_tail; /* due now: dead letters */
    int stopping;
    int stopped;      /* under lock: the writer is gone, writes fail at once */

    _Atomic uint64_t entries, bytes;
    uint64_t last_sync_ns;
    /* Blame from the previous run's crash record, applied at open. */
    tm_metric_t *m_depth, *m_bytes, *m_commits, *m_commit_docs, *m_commit_seconds,
        *m_failed;
};

/* ---- record layout ---- */

int tm_spool_record_decode(const void *buf, size_t len, tm_spool_entry_t *e)
{
    const unsigned char *p = buf;
    uint32_t raw_len;
    if (buf == NULL || len < TM_SPOOL_HEADER_BYTES || memcmp(p, TM__MAGIC, 4) != 0)
        return TM_EINVAL;
    memcpy(&e->attempts, p + 4, 4);
    memcpy(&e->last_signal, p + 8, 4);
    memcpy(&raw_len, p + 12, 4);
    if ((size_t)raw_len != len - TM_SPOOL_HEADER_BYTES)
        return TM_EINVAL;
    memcpy(e->stage, p + 16, sizeof e->stage);
    e->stage[sizeof e->stage - 1] = '\0';
    e->raw = (char *)(p + TM_SPOOL_HEADER_BYTES);
    e->raw_len = raw_len;
    return TM_OK;
}

size_t tm_spool_record_encode(void *buf, size_t cap, const tm_spool_entry_t *e)
{
    size_t need = TM_SPOOL_HEADER_BYTES + e->raw_len;
    if (cap < need || e->raw_len > UINT32_MAX)
        return 0;
    unsigned char *p = buf;
    uint32_t raw_len = (uint32_t)e->raw_len;
    memset(p, 0, TM_SPOOL_HEADER_BYTES);
    memcpy(p, TM__MAGIC, 4);
    memcpy(p + 4, &e->attempts, 4);
    memcpy(p + 8, &e->last_signal, 4);
    memcpy(p + 12, &raw_len, 4);
    size_t sl = strnlen(e->stage, sizeof e->stage - 1);
    memcpy(p + 16, e->stage, sl);
    if (e->raw_len > 0)
        memcpy(p + TM_SPOOL_HEADER_BYTES, e->raw, e->raw_len);
    return need;
}

static int tm__hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int tm_spool_crash_line(const char *line, size_t len, uint64_t *key, int *sig, char *stage,
                        size_t stage_size, char *id, size_t id_size)
{
    size_t i = 0;
    uint64_t k = 0;
    int s = 0, digits = 0;
    if (stage_size == 0 || id_size == 0)
        return TM_EINVAL;
    id[0] = '\0';
    while (i < len && line[i] >= '0' && line[i] <= '9') {
        if (k > (UINT64_MAX - 9) / 10)
            return TM_EINVAL;
        k = k * 10 + (uint64_t)(line[i++] - '0');
        digits++;
    }
    if (digits == 0 || i >= len || line[i++] != ' ')
        return TM_EINVAL;
    digits = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9' && digits < 4) {
        s = s * 10 + (line[i++] - '0');
        digits++;
    }
    if (digits == 0 || i >= len || line[i++] != ' ')
        return TM_EINVAL;
    size_t n = 0;
    while (i < len && line[i] != ' ' && line[i] != '\n' && line[i] != '\0' && n + 1 < stage_size)
        stage[n++] = line[i++];
    if (n == 0)
        return TM_EINVAL;
    stage[n] = '\0';
    if (i < len && line[i] == ' ') {
        i++;
        size_t m = 0;
        while (i < len && line[i] != '\n' && line[i] != '\0' && line[i] != ' ') {
            int c = (unsigned char)line[i];
            if (c == '%') {
                int hi = i + 2 < len ? tm__hexval(line[i + 1]) : -1;
                int lo = i + 2 < len ? tm__hexval(line[i + 2]) : -1;
                if (hi < 0 || lo < 0)
                    return TM_EINVAL;
                c = hi * 16 + lo;
                i += 3;
            } else {
                i++;
            }
            if (c == 0 || m + 1 >= id_size)
                return TM_EINVAL;
            id[m++] = (char)c;
        }
        id[m] = '\0';
    }
    if (k == 0 && id[0] == '\0')
        return TM_EINVAL;
    *key = k;
    *sig = s;
    return TM_OK;
}

/* ---- helpers ---- */

static void tm__key(uint64_t k, unsigned char out[8])
{
    /* Big-endian, so LMDB's byte order is numeric order. */
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(k & 0xff);
        k >>= 8;
    }
}

/* Inside txn: delete every retired document (and forget the suspects the
 * batch cleared), counting what went. */
static void tm__remove_retired(tm_spool_t *sp, MDB_txn *txn, const tm__retire_t *rets,
                               uint64_t *removed, uint64_t *removed_bytes)
{
    for (const tm__retire_t *r = rets; r != NULL; r = r->next) {
        if (r->forget != NULL) {
            MDB_val fk = {strlen(r->forget), r->forget};
            mdb_del(txn, sp->suspects, &fk, NULL);
        }
        if (r->key == 0)
            continue;
        unsigned char kb[8];
        tm__key(r->key, kb);
        MDB_val k = {8, kb}, v;
        if (mdb_get(txn, sp->docs, &k, &v) == 0) {
            *removed_bytes += v.mv_size;
            if (mdb_del(txn, sp->docs, &k, NULL) == 0)
                (*removed)++;
        }
    }
}


static uint64_t tm__key_of(const MDB_val *v)
{
    uint64_t k = 0;
    if (v->mv_size != 8)
        return 0;
    const unsigned char *p = v->mv_data;
    for (int i = 0; i < 8; i++)
        k = (k << 8) | p[i];
    return k;
}

static int tm__lmdb_err(tm_err_t *err, const char *what, const char *dir, int rc)
{
    return tm_err_set(err, TM_EIO, "spool_failed", "spool %s: %s: %s", dir, what,
                      mdb_strerror(rc));
}

static void tm__update_gauges(tm_spool_t *sp)
{
    tm_metric_set(sp->m_depth, (double)atomic_load(&sp->entries));
    tm_metric_set(sp->m_bytes, (double)atomic_load(&sp->bytes));
}

void tm_spool_depth(tm_spool_t *sp, uint64_t *entries, uint64_t *bytes)
{
    *entries = atomic_load(&sp->entries);
    *bytes = atomic_load(&sp->bytes);
}

int tm_spool_enabled(const tm_spool_t *sp) { return sp != NULL && sp->have_env; }

/* ---- crash record: apply the previous run's blame ---- */

/* The value of a suspects entry: u32 count, i32 signal, char stage[64]. */
#define TM__SUSPECT_BYTES 72

static void tm__suspect_remember(tm_spool_t *sp, const char *id, uint32_t count, int32_t sig,
                                 const char *stage)
{
    pthread_mutex_lock(&sp->sus_lock);
    for (size_t i = 0; i < sp->nsus; i++) {
        if (strcmp(sp->sus[i].id, id) == 0) {
            sp->sus[i].count = count;
            sp->sus[i].sig = sig;
            snprintf(sp->sus[i].stage, sizeof sp->sus[i].stage, "%s", stage);
            pthread_mutex_unlock(&sp->sus_lock);
            return;
        }
    }
    tm__suspect_t *ns = realloc(sp->sus, (sp->nsus + 1) * sizeof *ns);
    char *copy = strdup(id);
    if (ns != NULL)
        sp->sus = ns;
    if (ns != NULL && copy != NULL) {
        tm__suspect_t *x = &sp->sus[sp->nsus++];
        atomic_store(&sp->sus_count, sp->nsus);
        x->id = copy;
        x->count = count;
        x->sig = sig;
        snprintf(x->stage, sizeof x->stage, "%s", stage);
    } else {
        free(copy);
    }
    pthread_mutex_unlock(&sp->sus_lock);
}

static void tm__apply_blame(tm_spool_t *sp, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[1200];
    int n = 0;
    uint64_t seen[64];
    size_t nseen = 0;
    MDB_txn *txn = NULL;
    if (sp->have_env && mdb_txn_begin(sp->env, NULL, 0, &txn) != 0)
        txn = NULL;
    while (fgets(line, sizeof line, f) != NULL) {
        uint64_t key;
        int sig;
        char stage[64], id[300];
        if (tm_spool_crash_line(line, strlen(line), &key, &sig, stage, sizeof stage, id,
                                sizeof id) != TM_OK)
            continue;
        /* One crash blames a document once, even if it was recorded twice. */
        uint64_t tag = key != 0 ? key : UINT64_MAX - (uint64_t)strlen(id);
        int dup = 0;
        for (size_t i = 0; i < nseen; i++)
            dup |= seen[i] == tag;
        if (dup)
            continue;
        if (nseen < sizeof seen / sizeof seen[0])
            seen[nseen++] = tag;
        n++;
        char qid[96];
        tm_log(TM_LOG_WARN, "spool",
               "msg=\"the previous run crashed while this document was in a stage\" key=%llu "
               "id=%s signal=%d stage=%s",
               (unsigned long long)key, tm_log_quote(qid, sizeof qid, id), sig, stage);
        if (txn == NULL)
            continue;
        unsigned char kb[8];
        tm__key(key, kb);
        MDB_val k = {8, kb}, v;
        tm_spool_entry_t e;
        if (key != 0 && mdb_get(txn, sp->docs, &k, &v) == 0 &&
            tm_spool_record_decode(v.mv_data, v.mv_size, &e) == TM_OK) {
            char *copy = malloc(v.mv_size);
            if (copy != NULL) {
                e.attempts++;
                e.last_signal = sig;
                memset(e.stage, 0, sizeof e.stage);
                snprintf(e.stage, sizeof e.stage, "%s", stage);
                size_t len = tm_spool_record_encode(copy, v.mv_size, &e);
                MDB_val nv = {len, copy};
                if (len > 0)
                    mdb_put(txn, sp->docs, &k, &nv, 0);
                free(copy);
            }
        }
        if (id[0] != '\0') {
            MDB_val sk = {strlen(id), id}, sv;
            unsigned char val[TM__SUSPECT_BYTES];
            uint32_t count = 0;
            if (mdb_get(txn, sp->suspects, &sk, &sv) == 0 && sv.mv_size == TM__SUSPECT_BYTES)
                memcpy(&count, sv.mv_data, 4);
            count++;
            int32_t sg = sig;
            memset(val, 0, sizeof val);
            memcpy(val, &count, 4);
            memcpy(val + 4, &sg, 4);
            memcpy(val + 8, stage, strnlen(stage, 63));
            MDB_val nv = {sizeof val, val};
            mdb_put(txn, sp->suspects, &sk, &nv, 0);
        }
    }
    fclose(f);
    if (txn != NULL && mdb_txn_commit(txn) != 0)
        tm_log(TM_LOG_ERROR, "spool", "msg=\"cannot record crash blame\"");
    if (n > 0)
        tm_log(TM_LOG_WARN, "spool", "msg=\"crash record read\" documents_blamed=%d", n);
}

static void tm__load_suspects(tm_spool_t *sp)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    if (!sp->have_env || mdb_txn_begin(sp->env, NULL, MDB_RDONLY, &txn) != 0)
        return;
    if (mdb_cursor_open(txn, sp->suspects, &cur) == 0) {
        MDB_val k, v;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (v.mv_size != TM__SUSPECT_BYTES || k.mv_size == 0 || k.mv_size > 1024)
                continue;
            char id[1025], stage[64];
            uint32_t count;
            int32_t sig;
            memcpy(id, k.mv_data, k.mv_size);
            id[k.mv_size] = '\0';
            memcpy(&count, v.mv_data, 4);
            memcpy(&sig, (char *)v.mv_data + 4, 4);
            memcpy(stage, (char *)v.mv_data + 8, 63);
            stage[63] = '\0';
            tm__suspect_remember(sp, id, count, sig, stage);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
}

unsigned tm_spool_suspect(tm_spool_t *sp, const char *id, char *stage, size_t stage_size,
                          int *sig)
{
    unsigned count = 0;
    if (sp == NULL || id == NULL || atomic_load(&sp->sus_count) == 0)
        return 0;
    pthread_mutex_lock(&sp->sus_lock);
    for (size_t i = 0; i < sp->nsus; i++) {
        if (strcmp(sp->sus[i].id, id) == 0) {
            count = sp->sus[i].count;
            snprintf(stage, stage_size, "%s", sp->sus[i].stage);
            *sig = sp->sus[i].sig;
            break;
        }
    }
    pthread_mutex_unlock(&sp->sus_lock);
    return count;
}

unsigned tm_spool_max_crashes(const tm_spool_t *sp) { return sp->o.max_crashes; }

static void tm__queue_retire(tm_spool_t *sp, uint64_t key, char *dead, size_t dead_len, int now,
                             char *forget);

void tm_spool_forget_suspect(tm_spool_t *sp, const char *id)
{
    if (sp == NULL || id == NULL || atomic_load(&sp->sus_count) == 0)
        return;
    int found = 0;
    pthread_mutex_lock(&sp->sus_lock);
    for (size_t i = 0; i < sp->nsus; i++) {
        if (strcmp(sp->sus[i].id, id) == 0) {
            free(sp->sus[i].id);
            sp->sus[i] = sp->sus[--sp->nsus];
            atomic_store(&sp->sus_count, sp->nsus);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&sp->sus_lock);
    char *copy = found ? strdup(id) : NULL;
    if (copy != NULL)
        tm__queue_retire(sp, 0, NULL, 0, 1, copy);
}

/* ---- the writer thread ---- */

static void tm__write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            tm_log(TM_LOG_ERROR, "spool", "msg=\"cannot write the dead-letter file\" error=\"%s\"",
                   strerror(errno));
            return;
        }
        buf += w;
        len -= (size_t)w;
    }
}

static void tm__writer_round(tm_spool_t *sp, tm__append_t *apps, tm__retire_t *rets)
{
    uint64_t t0 = tm_now_ns();
    int ok = 1;
    char why[160] = "";
    size_t n_app = 0;
    int wrote_dead = 0;
    MDB_txn *txn = NULL;
    /* Dead letters first: their file line is written before the spool
     * entry goes, so a crash in between duplicates rather than loses. */
    for (tm__retire_t *r = rets; r != NULL; r = r->next) {
        if (r->dead != NULL && sp->dead_fd >= 0) {
            tm__write_all(sp->dead_fd, r->dead, r->dead_len);
            wrote_dead = 1;
        }
    }
    if (wrote_dead && sp->o.fsync != TM_SPOOL_FSYNC_OFF)
        fdatasync(sp->dead_fd);
    if (sp->have_env) {
        int rc = mdb_txn_begin(sp->env, NULL, 0, &txn);
        if (rc != 0) {
            ok = 0;
            snprintf(why, sizeof why, "cannot begin a spool transaction: %s", mdb_strerror(rc));
            txn = NULL;
        }
        uint64_t added_bytes = 0, added = 0, removed = 0, removed_bytes = 0;
        for (tm__append_t *a = apps; a != NULL && ok; a = a->next) {
            unsigned char kb[8];
            tm__key(a->key, kb);
            MDB_val k = {8, kb}, v;
            v.mv_size = TM_SPOOL_HEADER_BYTES + a->len;
            rc = mdb_put(txn, sp->docs, &k, &v, MDB_RESERVE | MDB_APPEND);
            if (rc != 0) {
                ok = 0;
                snprintf(why, sizeof why, "cannot store the document in the spool: %s%s",
                         mdb_strerror(rc),
                         rc == MDB_MAP_FULL ? " (raise spool_max_mb)" : "");
                break;
            }
            tm_spool_entry_t e;
            memset(&e, 0, sizeof e);
            e.raw = a->raw;
            e.raw_len = a->len;
            tm_spool_record_encode(v.mv_data, v.mv_size, &e);
            a->stored = 1;
            added++;
            added_bytes += v.mv_size;
            n_app++;
        }
        if (txn != NULL)
            tm__remove_retired(sp, txn, rets, &removed, &removed_bytes);
        if (txn != NULL && ok) {
            unsigned char nk[8];
            pthread_mutex_lock(&sp->lock);
            uint64_t next = sp->next_key;
            pthread_mutex_unlock(&sp->lock);
            tm__key(next, nk);
            MDB_val k = {4, "next"}, v = {8, nk};
            rc = mdb_put(txn, sp->meta, &k, &v, 0);
            if (rc == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
            txn = NULL;
            if (rc != 0) {
                ok = 0;
                snprintf(why, sizeof why, "cannot commit to the spool: %s", mdb_strerror(rc));
            }
        } else if (txn != NULL) {
            /* A failed append aborts the whole batch: commit the removals
             * alone so they are not lost, then fail the appends. */
            mdb_txn_abort(txn);
            txn = NULL;
            if (mdb_txn_begin(sp->env, NULL, 0, &txn) == 0) {
                removed = removed_bytes = 0;
                tm__remove_retired(sp, txn, rets, &removed, &removed_bytes);
                if (mdb_txn_commit(txn) != 0)
                    removed = removed_bytes = 0;
            }
        }
        if (ok) {
            atomic_fetch_add(&sp->entries, added);
            atomic_fetch_add(&sp->bytes, added_bytes);
        }
        atomic_fetch_sub(&sp->entries, removed);
        atomic_fetch_sub(&sp->bytes, removed_bytes);
        if (sp->o.fsync == TM_SPOOL_FSYNC_INTERVAL &&
            tm_now_ns() - sp->last_sync_ns >= (uint64_t)sp->o.fsync_interval_ms * 1000000u) {
            mdb_env_sync(sp->env, 1);
            sp->last_sync_ns = tm_now_ns();
        }
    }
    if (n_app > 0 || apps != NULL) {
        tm_metric_add(sp->m_commits, 1);
        tm_metric_observe(sp->m_commit_docs, (double)n_app);
        tm_metric_observe(sp->m_commit_seconds, (double)(tm_now_ns() - t0) / 1e9);
    }
    tm__update_gauges(sp);
    /* Hand every append back: stored (with its key) or failed. */
    while (apps != NULL) {
        tm__append_t *a = apps;
        apps = a->next;
        if (ok && a->stored) {
            sp->done(sp->ctx, a->item, a->key, 1, NULL);
        } else {
            tm_metric_add(sp->m_failed, 1);
            sp->done(sp->ctx, a->item, a->key, 0, why[0] ? why : "the spool is not available");
        }
        free(a->raw);
        free(a);
    }
    while (rets != NULL) {
        tm__retire_t *r = rets;
        rets = r->next;
        free(r->dead);
        free(r->forget);
        free(r);
    }
}

static void *tm__writer_main(void *arg)
{
    tm_spool_t *sp = arg;
    pthread_setname_np(pthread_self(), "tm-spool");
    pthread_mutex_lock(&sp->lock);
    for (;;) {
        uint64_t now = tm_now_ns();
        int due = sp->imm_head != NULL ||
                  (sp->ret_head != NULL && (sp->stopping || sp->ret_head->due_ns <= now));
        if (sp->app_head == NULL && !due) {
            if (sp->stopping && sp->ret_head == NULL && sp->imm_head == NULL)
                break;
            if (sp->ret_head != NULL) {
                uint64_t wait = sp->ret_head->due_ns - now;
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t abs = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + wait;
                ts.tv_sec = (time_t)(abs / 1000000000u);
                ts.tv_nsec = (long)(abs % 1000000000u);
                pthread_cond_timedwait(&sp->cond, &sp->lock, &ts);
            } else {
                pthread_cond_wait(&sp->cond, &sp->lock);
            }
            continue;
        }
        /* Take a batch of appends and every removal that is due. */
        tm__append_t *apps = sp->app_head, *last = NULL;
        size_t n = 0;
        for (tm__append_t *a = apps; a != NULL && n < sp->o.batch_max; a = a->next) {
            last = a;
            n++;
        }
        if (last != NULL) {
            sp->app_head = last->next;
            if (sp->app_head == NULL)
                sp->app_tail = NULL;
            last->next = NULL;
            sp->app_len -= n;
        } else {
            apps = NULL;
        }
        tm__retire_t *rets = sp->imm_head, **rt = &rets;
        if (rets != NULL) {
            rt = &sp->imm_tail->next;
            sp->imm_head = sp->imm_tail = NULL;
        }
        while (sp->ret_head != NULL && (sp->stopping || sp->ret_head->due_ns <= now)) {
            tm__retire_t *r = sp->ret_head;
            sp->ret_head = r->next;
            r->next = NULL;
            *rt = r;
            rt = &r->next;
        }
        if (sp->ret_head == NULL)
            sp->ret_tail = NULL;
        pthread_mutex_unlock(&sp->lock);
        tm__writer_round(sp, apps, rets);
        pthread_mutex_lock(&sp->lock);
    }
    pthread_mutex_unlock(&sp->lock);
    return NULL;
}

/* ---- public ---- */

uint64_t tm_spool_append(tm_spool_t *sp, void *item, char *raw, size_t len)
{
    tm__append_t *a = malloc(sizeof *a);
    if (a == NULL) {
        free(raw);
        sp->done(sp->ctx, item, 0, 0, "out of memory");
        return 0;
    }
    a->next = NULL;
    a->item = item;
    a->raw = raw;
    a->len = len;
    pthread_mutex_lock(&sp->lock);
    if (sp->stopped) {
        pthread_mutex_unlock(&sp->lock);
        free(raw);
        free(a);
        sp->done(sp->ctx, item, 0, 0, "the daemon is stopping");
        return 0;
    }
    /* Allocated under the lock, so the queue is in key order (MDB_APPEND). */
    uint64_t key = a->key = sp->next_key++;
    if (sp->app_tail != NULL)
        sp->app_tail->next = a;
    else
        sp->app_head = a;
    sp->app_tail = a;
    sp->app_len++;
    pthread_cond_signal(&sp->cond);
    pthread_mutex_unlock(&sp->lock);
    /* Not a->key: once the lock is released the writer may already have
     * committed the append and freed it (TSan caught the read). */
    return key;
}

static void tm__queue_retire(tm_spool_t *sp, uint64_t key, char *dead, size_t dead_len, int now,
                             char *forget)
{
    tm__retire_t *r = malloc(sizeof *r);
    if (r == NULL) {
        free(dead);
        free(forget);
        return; /* the entry stays and is replayed: a duplicate, not a loss */
    }
    r->next = NULL;
    r->forget = forget;
    r->key = key;
    r->dead = dead;
    r->dead_len = dead_len;
    r->due_ns = tm_now_ns() + (now ? 0 : (uint64_t)sp->o.retire_ms * 1000000u);
    pthread_mutex_lock(&sp->lock);
    if (sp->stopped) {
        /* Too late: the entry stays and is replayed (a duplicate). */
        pthread_mutex_unlock(&sp->lock);
        free(dead);
        free(forget);
        free(r);
        return;
    }
    /* Delayed removals all wait the same retire_ms, so appending keeps
     * their list in due order; immediate ones (dead letters) have their own. */
    tm__retire_t **head = now ? &sp->imm_head : &sp->ret_head;
    tm__retire_t **tail = now ? &sp->imm_tail : &sp->ret_tail;
    if (*tail != NULL)
        (*tail)->next = r;
    else
        *head = r;
    *tail = r;
    pthread_cond_signal(&sp->cond);
    pthread_mutex_unlock(&sp->lock);
}

void tm_spool_retire(tm_spool_t *sp, uint64_t key)
{
    if (sp == NULL || key == 0 || !sp->have_env)
        return;
    tm__queue_retire(sp, key, NULL, 0, sp->o.retire_ms == 0, NULL);
}

void tm_spool_dead(tm_spool_t *sp, uint64_t key, const char *record, size_t len)
{
    if (sp == NULL)
        return;
    char *line = malloc(len + 1);
    if (line == NULL)
        return;
    memcpy(line, record, len);
    line[len] = '\n';
    tm__queue_retire(sp, sp->have_env ? key : 0, line, len + 1, 1, NULL);
}

int tm_spool_replay_next(tm_spool_t *sp, uint64_t after, tm_spool_entry_t *e)
{
    if (!sp->have_env)
        return 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(sp->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return TM_EIO;
    rc = mdb_cursor_open(txn, sp->docs, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return TM_EIO;
    }
    unsigned char kb[8];
    tm__key(after + 1, kb);
    MDB_val k = {8, kb}, v;
    int found = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        tm_spool_entry_t d;
        uint64_t key = tm__key_of(&k);
        if (key != 0 && tm_spool_record_decode(v.mv_data, v.mv_size, &d) == TM_OK) {
            *e = d;
            e->key = key;
            e->raw = malloc(d.raw_len + 1);
            if (e->raw == NULL) {
                found = TM_ENOMEM;
                break;
            }
            memcpy(e->raw, d.raw, d.raw_len);
            e->raw[d.raw_len] = '\0';
            found = 1;
            break;
        }
        tm_log(TM_LOG_ERROR, "spool", "msg=\"skipping a corrupt spool record\" key=%llu bytes=%zu",
               (unsigned long long)key, v.mv_size);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return found;
}

static int tm__open_env(tm_spool_t *sp, tm_err_t *err)
{
    if (mkdir(sp->dir, 0700) != 0 && errno != EEXIST)
        return tm_err_set(err, TM_EIO, "spool_failed", "cannot create the spool directory %s: %s",
                          sp->dir, strerror(errno));
    int rc = mdb_env_create(&sp->env);
    if (rc != 0)
        return tm__lmdb_err(err, "create", sp->dir, rc);
    sp->have_env = 1;
    mdb_env_set_maxdbs(sp->env, 4);
    rc = mdb_env_set_mapsize(sp->env, sp->o.map_bytes);
    if (rc != 0)
        return tm__lmdb_err(err, "set size", sp->dir, rc);
    unsigned flags = MDB_NOTLS;
    if (sp->o.fsync != TM_SPOOL_FSYNC_BATCH)
        flags |= MDB_NOSYNC;
    rc = mdb_env_open(sp->env, sp->dir, flags, 0600);
    if (rc != 0)
        return tm__lmdb_err(err, "open", sp->dir, rc);
    MDB_txn *txn;
    rc = mdb_txn_begin(sp->env, NULL, 0, &txn);
    if (rc != 0)
        return tm__lmdb_err(err, "begin", sp->dir, rc);
    rc = mdb_dbi_open(txn, "docs", MDB_CREATE, &sp->docs);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &sp->meta);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "suspects", MDB_CREATE, &sp->suspects);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return tm__lmdb_err(err, "open tables", sp->dir, rc);
    }
    /* The next key: after both the stored next and the largest key. */
    MDB_val k = {4, "next"}, v;
    sp->next_key = 1;
    if (mdb_get(txn, sp->meta, &k, &v) == 0)
        sp->next_key = tm__key_of(&v);
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, sp->docs, &cur) == 0) {
        uint64_t n = 0, bytes = 0;
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && tm__key_of(&k) >= sp->next_key)
            sp->next_key = tm__key_of(&k) + 1;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            n++;
            bytes += v.mv_size;
        }
        atomic_store(&sp->entries, n);
        atomic_store(&sp->bytes, bytes);
        mdb_cursor_close(cur);
    }
    if (sp->next_key == 0)
        sp->next_key = 1;
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return tm__lmdb_err(err, "commit", sp->dir, rc);
    return TM_OK;
}

static void tm__register_metrics(tm_spool_t *sp)
{
    tm_metrics_t *m = sp->o.metrics;
    if (m == NULL)
        return;
    static const double docs_buckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    sp->m_depth = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_spool_documents",
                                      "Documents stored in the durable spool.", NULL, NULL, 0);
    sp->m_bytes = tm_metrics_register(m, TM_METRIC_GAUGE, "textmill_spool_bytes",
                                      "Bytes of documents stored in the durable spool.", NULL,
                                      NULL, 0);
    sp->m_commits = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_spool_commits_total",
                                        "Group commits of the spool writer.", NULL, NULL, 0);
    sp->m_commit_docs = tm_metrics_register(m, TM_METRIC_HISTOGRAM,
                                            "textmill_spool_commit_documents",
                                            "Documents written per spool group commit.", NULL,
                                            docs_buckets, sizeof docs_buckets / sizeof(double));
    sp->m_commit_seconds = tm_metrics_register(m, TM_METRIC_HISTOGRAM,
                                               "textmill_spool_commit_seconds",
                                               "Duration of one spool group commit, fsync "
                                               "included.",
                                               NULL, NULL, 0);
    sp->m_failed = tm_metrics_register(m, TM_METRIC_COUNTER, "textmill_spool_failures_total",
                                       "Documents refused because the spool could not store "
                                       "them.",
                                       NULL, NULL, 0);
}

int tm_spool_open(const tm_spool_opts_t *o, tm_spool_done_fn done, void *ctx, tm_spool_t **out,
                  tm_err_t *err)
{
    *out = NULL;
    tm_spool_t *sp = calloc(1, sizeof *sp);
    if (sp == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "out of memory");
    sp->o = *o;
    if (sp->o.batch_max == 0)
        sp->o.batch_max = 256;
    sp->done = done;
    sp->ctx = ctx;
    sp->dead_fd = sp->crash_fd = -1;
    pthread_mutex_init(&sp->lock, NULL);
    pthread_mutex_init(&sp->sus_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sp->cond, &ca);
    pthread_condattr_destroy(&ca);
    tm__register_metrics(sp);
    int rc = TM_OK;
    char path[4200];
    if (mkdir(o->state_dir, 0700) != 0 && errno != EEXIST) {
        rc = tm_err_set(err, TM_EIO, "spool_failed", "cannot create state_dir %s: %s",
                        o->state_dir, strerror(errno));
        goto fail;
    }
    snprintf(sp->dir, sizeof sp->dir, "%s/spool", o->state_dir);
    if (o->enabled && (rc = tm__open_env(sp, err)) != TM_OK)
        goto fail;
    /* The previous run's crash record, then a fresh one for this run. */
    snprintf(path, sizeof path, "%s/crash-record", o->state_dir);
    tm__apply_blame(sp, path);
    tm__load_suspects(sp);
    sp->crash_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (sp->crash_fd < 0)
        tm_log(TM_LOG_WARN, "spool", "msg=\"cannot open the crash record; poison documents "
               "will not be detected\" path=%s error=\"%s\"", path, strerror(errno));
    else
        tm_crash_arm(sp->crash_fd);
    snprintf(path, sizeof path, "%s/dead-letters.jsonl", o->state_dir);
    sp->dead_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (sp->dead_fd < 0) {
        rc = tm_err_set(err, TM_EIO, "spool_failed", "cannot open the dead-letter file %s: %s",
                        path, strerror(errno));
        goto fail;
    }
    sp->last_sync_ns = tm_now_ns();
    tm__update_gauges(sp);
    if (pthread_create(&sp->thread, NULL, tm__writer_main, sp) != 0) {
        rc = tm_err_set(err, TM_EFATAL, "thread_failed", "cannot start the spool writer thread");
        goto fail;
    }
    sp->thread_started = 1;
    if (sp->have_env)
        tm_log(TM_LOG_INFO, "spool",
               "msg=\"spool open\" dir=%s documents=%llu bytes=%llu fsync=%s batch_max=%u "
               "retire_ms=%u",
               sp->dir, (unsigned long long)atomic_load(&sp->entries),
               (unsigned long long)atomic_load(&sp->bytes),
               o->fsync == TM_SPOOL_FSYNC_BATCH      ? "batch"
               : o->fsync == TM_SPOOL_FSYNC_INTERVAL ? "interval"
                                                     : "off",
               sp->o.batch_max, o->retire_ms);
    *out = sp;
    return TM_OK;
fail:
    tm_spool_close(&sp);
    return rc;
}

void tm_spool_stop(tm_spool_t *sp)
{
    if (sp == NULL)
        return;
    pthread_mutex_lock(&sp->lock);
    int started = sp->thread_started && !sp->stopped;
    sp->stopping = 1;
    pthread_cond_signal(&sp->cond);
    pthread_mutex_unlock(&sp->lock);
    if (started)
        pthread_join(sp->thread, NULL);
    pthread_mutex_lock(&sp->lock);
    sp->stopped = 1;
    tm__append_t *apps = sp->app_head;
    sp->app_head = sp->app_tail = NULL;
    pthread_mutex_unlock(&sp->lock);
    /* Appends queued after the writer's last round are failed back. */
    while (apps != NULL) {
        tm__append_t *a = apps;
        apps = a->next;
        sp->done(sp->ctx, a->item, 0, 0, "the daemon is stopping");
        free(a->raw);
        free(a);
    }
}

void tm_spool_close(tm_spool_t **spp)
{
    tm_spool_t *sp = *spp;
    if (sp == NULL)
        return;
    tm_spool_stop(sp);
    while (sp->ret_head != NULL) {
        tm__retire_t *r = sp->ret_head;
        sp->ret_head = r->next;
        free(r->dead);
        free(r->forget);
        free(r);
    }
    for (size_t i = 0; i < sp->nsus; i++)
        free(sp->sus[i].id);
    free(sp->sus);
    pthread_mutex_destroy(&sp->sus_lock);
    if (sp->have_env) {
        mdb_env_sync(sp->env, 1);
        mdb_env_close(sp->env);
    }
    tm_crash_disarm();
    if (sp->crash_fd >= 0)
        close(sp->crash_fd);
    if (sp->dead_fd >= 0)
        close(sp->dead_fd);
    pthread_cond_destroy(&sp->cond);
    pthread_mutex_destroy(&sp->lock);
    free(sp);
    *spp = NULL;
}
