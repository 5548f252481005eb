/*
 * store_redis.c - the shared index: every document record, exact-hash
 * claim and LSH posting lives in one Redis server, so several textmilld
 * daemons (behind one ZeroMQ PUSH) dedup against one index.
 *
 * Keys (P = redis_prefix):
 *   P fp          the sketch settings the index was built with (SET NX at open)
 *   P seq         document counter (INCR)
 *   P r:<seq>     the record (sketch.c's codec, XXH32-checksummed)
 *   P x:<hash>    exact-hash claim: the seq of the first document with that
 *                 canonical text
 *   P a:<key>     LSH posting list (seqs), at most posting_max long
 *   P log         seqs in arrival order: the window (max_docs) evicts from it
 * With max_age_s every key written gets that TTL (PEXPIRE).
 *
 * Atomicity: a document is inserted by one Lua script that claims the exact
 * hash (only when no live claim exists: SET ... NX semantics over a stale
 * claim), writes the record, appends the postings and the log and evicts,
 * all or nothing.  When another daemon claimed the same text between this
 * daemon's lookup and its insert, the script indexes nothing and returns
 * the claimant: the document becomes its exact duplicate (DD_RACED).  Two
 * *near* copies arriving on two daemons within one round trip can both
 * come out unique (each sees no candidate yet); the exact claim has no
 * such window.
 *
 * Failures: any Redis error gives the document a clear TM_EDOC
 * ("index_unavailable"), drops the connection, and for redis_retry_ms
 * later documents fail fast; then the next document reconnects.
 */
#include "autoconfig.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "candset.h"
#include "sketch.h"

typedef struct dd_redis {
    dd_backend_t base;
    dd_redis_cfg_t cfg;
    char *host, *password, *prefix, *fingerprint;
    const tm_host_t *th;
    redisContext *c;
    int64_t down_until_ms;
    char last_err[200];
    dd_candset_t cs;
    dd_cand_t *cand;
    size_t cand_cap;
    redisReply *held[2]; /* replies backing the record views of one lookup */
    redisReply *raced;   /* the claimant's record after DD_RACED */
    uint64_t docs;
    char *sha;           /* the insert script's SHA1 */
} dd_redis_t;

#define DD_RACED 1

static const char dd__insert_lua[] =
    /* KEYS: x:<hash>, r:<seq>, log;  ARGV: seq, record, max_docs, ttl_ms,
     * posting_max, prefix, anchors (hex)... */
    "local p = ARGV[6]\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and redis.call('EXISTS', p .. 'r:' .. v) == 1 then\n"
    "  return redis.call('GET', p .. 'r:' .. v)\n"
    "end\n"
    "local ttl = tonumber(ARGV[4])\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "redis.call('SET', KEYS[2], ARGV[2])\n"
    "if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) redis.call('PEXPIRE', KEYS[2], ttl) end\n"
    "local pm = tonumber(ARGV[5])\n"
    "for i = 7, #ARGV do\n"
    "  local k = p .. 'a:' .. ARGV[i]\n"
    "  if redis.call('LLEN', k) < pm then redis.call('RPUSH', k, ARGV[1]) end\n"
    "  if ttl > 0 then redis.call('PEXPIRE', k, ttl) end\n"
    "end\n"
    "redis.call('RPUSH', KEYS[3], ARGV[1])\n"
    "local md = tonumber(ARGV[3])\n"
    "local n = redis.call('LLEN', KEYS[3])\n"
    "while md > 0 and n > md do\n"
    "  local s = redis.call('LPOP', KEYS[3])\n"
    "  redis.call('DEL', p .. 'r:' .. s)\n"
    "  n = n - 1\n"
    "end\n"
    "return n\n";

static int64_t dd__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dd__drop_held(dd_redis_t *b)
{
    for (int i = 0; i < 2; i++) {
        if (b->held[i] != NULL)
            freeReplyObject(b->held[i]);
        b->held[i] = NULL;
    }
}

/* Forget the connection after an error; remember why. */
static int dd__fail(dd_redis_t *b, tm_err_t *err, const char *what)
{
    snprintf(b->last_err, sizeof b->last_err, "%s",
             b->c != NULL && b->c->err ? b->c->errstr : what);
    if (b->c != NULL)
        redisFree(b->c);
    b->c = NULL;
    b->down_until_ms = dd__now_ms() + b->cfg.retry_ms;
    b->th->log(b->th, TM_LOG_WARN, "msg=\"dedup redis unavailable\" server=\"%s:%d\" error=\"%s\"",
               b->host, b->cfg.port, b->last_err);
    return tm_err_set(err, TM_EDOC, "index_unavailable",
                      "dedup: Redis at %s:%d: %s; this document was not checked for duplicates",
                      b->host, b->cfg.port, b->last_err);
}

static redisReply *dd__cmd(dd_redis_t *b, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv(b->c, argc, argv, lens);
    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        snprintf(b->last_err, sizeof b->last_err, "%s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Connect, AUTH, SELECT, check the fingerprint, load the script. */
static int dd__connect(dd_redis_t *b, tm_err_t *err, int at_open)
{
    struct timeval tv = {(time_t)(b->cfg.timeout_ms / 1000),
                         (suseconds_t)(b->cfg.timeout_ms % 1000) * 1000};
    b->c = redisConnectWithTimeout(b->host, b->cfg.port, tv);
    if (b->c == NULL || b->c->err) {
        if (at_open) {
            int rc = tm_err_set(err, TM_EIO, "index_unavailable",
                                "dedup: cannot connect to Redis at %s:%d: %s (redis_host, "
                                "redis_port)",
                                b->host, b->cfg.port, b->c ? b->c->errstr : "out of memory");
            if (b->c != NULL)
                redisFree(b->c);
            b->c = NULL;
            return rc;
        }
        return dd__fail(b, err, "cannot connect");
    }
    redisSetTimeout(b->c, tv);
    redisReply *r;
    if (b->password[0] != '\0') {
        r = redisCommand(b->c, "AUTH %s", b->password);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r != NULL)
                snprintf(b->last_err, sizeof b->last_err, "AUTH: %s", r->str);
            freeReplyObject(r);
            goto bad;
        }
        freeReplyObject(r);
    }
    r = redisCommand(b->c, "SELECT %d", b->cfg.db);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        if (r != NULL)
            snprintf(b->last_err, sizeof b->last_err, "SELECT %d: %s", b->cfg.db, r->str);
        freeReplyObject(r);
        goto bad;
    }
    freeReplyObject(r);
    r = redisCommand(b->c, "SET %sfp %s NX", b->prefix, b->fingerprint);
    freeReplyObject(r);
    r = redisCommand(b->c, "GET %sfp", b->prefix);
    if (r == NULL || r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        goto bad;
    }
    if (strcmp(r->str, b->fingerprint) != 0) {
        int rc = tm_err_set(err, at_open ? TM_EINVAL : TM_EDOC, "index_incompatible",
                            "dedup: the Redis index \"%s\" at %s:%d was built with other sketch "
                            "settings (%s) than the config's (%s); use another redis_prefix or "
                            "restore those settings",
                            b->prefix, b->host, b->cfg.port, r->str, b->fingerprint);
        freeReplyObject(r);
        redisFree(b->c);
        b->c = NULL;
        return rc;
    }
    freeReplyObject(r);
    r = redisCommand(b->c, "SCRIPT LOAD %s", dd__insert_lua);
    if (r == NULL || r->type != REDIS_REPLY_STRING) {
        if (r != NULL && r->type == REDIS_REPLY_ERROR)
            snprintf(b->last_err, sizeof b->last_err, "SCRIPT LOAD: %s", r->str);
        freeReplyObject(r);
        goto bad;
    }
    free(b->sha);
    b->sha = strdup(r->str);
    freeReplyObject(r);
    if (b->sha == NULL)
        goto bad;
    return TM_OK;
bad:
    if (at_open) {
        int rc = tm_err_set(err, TM_EIO, "index_unavailable", "dedup: Redis at %s:%d: %s",
                            b->host, b->cfg.port,
                            b->c->err ? b->c->errstr
                                      : (b->last_err[0] ? b->last_err : "unexpected reply"));
        redisFree(b->c);
        b->c = NULL;
        return rc;
    }
    return dd__fail(b, err, b->last_err[0] ? b->last_err : "unexpected reply");
}

static int dd__ready(dd_redis_t *b, tm_err_t *err)
{
    if (b->c != NULL)
        return TM_OK;
    if (dd__now_ms() < b->down_until_ms)
        return tm_err_set(err, TM_EDOC, "index_unavailable",
                          "dedup: Redis at %s:%d is unavailable (%s); this document was not "
                          "checked for duplicates",
                          b->host, b->cfg.port, b->last_err);
    return dd__connect(b, err, 0);
}

static int dd__decode(const redisReply *r, dd_record_t *rec)
{
    return r != NULL && r->type == REDIS_REPLY_STRING &&
                   dd_record_decode(r->str, r->len, rec, 1) == 0
               ? 0
               : -1;
}

static int dd__lookup(dd_backend_t *base, const dd_query_t *q, dd_lookup_t *out, tm_err_t *err)
{
    dd_redis_t *b = (dd_redis_t *)base;
    memset(out, 0, sizeof *out);
    dd__drop_held(b);
    int rc = dd__ready(b, err);
    if (rc != TM_OK)
        return rc;
    /* the exact claim and its record, and this document's number */
    redisAppendCommand(b->c, "GET %sx:%016llx", b->prefix, (unsigned long long)q->sk->exact);
    redisAppendCommand(b->c, "INCR %sseq", b->prefix);
    redisReply *rx = NULL, *rs = NULL;
    if (redisGetReply(b->c, (void **)&rx) != REDIS_OK ||
        redisGetReply(b->c, (void **)&rs) != REDIS_OK || rs->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(rx);
        freeReplyObject(rs);
        return dd__fail(b, err, "GET/INCR failed");
    }
    out->seq = (uint64_t)rs->integer;
    freeReplyObject(rs);
    if (rx->type == REDIS_REPLY_STRING) {
        redisReply *rr = redisCommand(b->c, "GET %sr:%s", b->prefix, rx->str);
        freeReplyObject(rx);
        if (rr == NULL)
            return dd__fail(b, err, "GET failed");
        if (dd__decode(rr, &out->exact_rec) == 0) {
            b->held[0] = rr;
            out->exact = 1;
            return TM_OK;
        }
        freeReplyObject(rr); /* a stale claim (evicted record) */
    } else {
        freeReplyObject(rx);
    }
    /* candidates: the posting lists of the keys */
    dd_candset_reset(&b->cs);
    for (int pass = 0; pass < 2; pass++) {
        size_t lo = pass == 0 ? 0 : q->nlow, hi = pass == 0 ? q->nlow : q->nkeys;
        if (pass == 1 && b->cs.count > 0)
            break;
        for (size_t i = lo; i < hi; i++)
            redisAppendCommand(b->c, "LRANGE %sa:%08x 0 -1", b->prefix, (unsigned)q->keys[i]);
        for (size_t i = lo; i < hi; i++) {
            redisReply *r = NULL;
            if (redisGetReply(b->c, (void **)&r) != REDIS_OK || r == NULL) {
                freeReplyObject(r);
                return dd__fail(b, err, "LRANGE failed");
            }
            if (r->type == REDIS_REPLY_ARRAY)
                for (size_t j = 0; j < r->elements; j++) {
                    uint64_t s = r->element[j]->type == REDIS_REPLY_STRING
                                     ? strtoull(r->element[j]->str, NULL, 10)
                                     : 0;
                    if (s != 0)
                        dd_candset_hit(&b->cs, s, dd_key_weight(q->key_df[i]));
                }
            freeReplyObject(r);
        }
    }
    size_t k = dd_candset_top(&b->cs, q->max_candidates);
    if (k == 0)
        return TM_OK;
    if (k > b->cand_cap) {
        dd_cand_t *nc = realloc(b->cand, k * sizeof *nc);
        if (nc == NULL)
            return tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
        b->cand = nc;
        b->cand_cap = k;
    }
    const char **argv = malloc((k + 1) * sizeof *argv);
    char(*keys)[160] = malloc(k * sizeof *keys);
    if (argv == NULL || keys == NULL) {
        free(argv);
        free(keys);
        return tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
    }
    argv[0] = "MGET";
    for (size_t i = 0; i < k; i++) {
        snprintf(keys[i], sizeof keys[i], "%sr:%llu", b->prefix,
                 (unsigned long long)b->cs.top[i].seq);
        argv[i + 1] = keys[i];
    }
    redisReply *rm = dd__cmd(b, (int)k + 1, argv, NULL);
    free(argv);
    free(keys);
    if (rm == NULL || rm->type != REDIS_REPLY_ARRAY || rm->elements != k) {
        freeReplyObject(rm);
        return dd__fail(b, err, "MGET failed");
    }
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        if (dd__decode(rm->element[i], &b->cand[n].rec) != 0)
            continue; /* evicted or expired */
        b->cand[n].score = b->cs.top[i].score;
        n++;
    }
    b->held[1] = rm;
    out->cand = b->cand;
    out->ncand = n;
    return TM_OK;
}

static int dd__insert(dd_backend_t *base, const dd_query_t *q, const dd_record_t *rec,
                      tm_err_t *err)
{
    dd_redis_t *b = (dd_redis_t *)base;
    if (b->raced != NULL)
        freeReplyObject(b->raced);
    b->raced = NULL;
    size_t len = dd_record_size(rec);
    unsigned char *buf = malloc(len);
    size_t argc = 3 + 4 + 6 + q->nanchors;
    const char **argv = malloc(argc * sizeof *argv);
    size_t *lens = malloc(argc * sizeof *lens);
    char(*num)[160] = malloc((9 + q->nanchors) * sizeof *num);
    if (buf == NULL || argv == NULL || lens == NULL || num == NULL) {
        free(buf), free(argv), free(lens), free(num);
        dd__drop_held(b);
        return tm_err_set(err, TM_EDOC, "out_of_memory", "dedup: out of memory");
    }
    dd_record_encode(rec, buf); /* copies rec->cluster before held replies go */
    dd__drop_held(b);
    size_t a = 0;
    argv[a++] = "EVALSHA";
    argv[a++] = b->sha;
    argv[a++] = "3";
    snprintf(num[0], sizeof num[0], "%sx:%016llx", b->prefix, (unsigned long long)rec->exact);
    snprintf(num[1], sizeof num[1], "%sr:%llu", b->prefix, (unsigned long long)rec->seq);
    snprintf(num[2], sizeof num[2], "%slog", b->prefix);
    snprintf(num[3], sizeof num[3], "%llu", (unsigned long long)rec->seq);
    snprintf(num[4], sizeof num[4], "%llu", (unsigned long long)b->cfg.max_docs);
    snprintf(num[5], sizeof num[5], "%lld", (long long)b->cfg.max_age_ms);
    snprintf(num[6], sizeof num[6], "%u", b->cfg.posting_max);
    argv[a++] = num[0];
    argv[a++] = num[1];
    argv[a++] = num[2];
    argv[a++] = num[3];
    argv[a++] = (const char *)buf;
    argv[a++] = num[4];
    argv[a++] = num[5];
    argv[a++] = num[6];
    argv[a++] = b->prefix;
    for (size_t i = 0; i < q->nanchors; i++) {
        snprintf(num[9 + i], sizeof num[9 + i], "%08x", (unsigned)q->anchors[i]);
        argv[a++] = num[9 + i];
    }
    for (size_t i = 0; i < a; i++)
        lens[i] = argv[i] == (const char *)buf ? len : strlen(argv[i]);
    redisReply *r = redisCommandArgv(b->c, (int)a, argv, lens);
    free(buf), free(argv), free(lens), free(num);
    if (r == NULL)
        return dd__fail(b, err, "EVALSHA failed");
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(b->last_err, sizeof b->last_err, "insert script: %s", r->str);
        freeReplyObject(r);
        return dd__fail(b, err, b->last_err);
    }
    if (r->type == REDIS_REPLY_STRING) { /* another daemon claimed this text first */
        b->raced = r;
        return DD_RACED;
    }
    if (r->type == REDIS_REPLY_INTEGER)
        b->docs = (uint64_t)r->integer;
    freeReplyObject(r);
    return TM_OK;
}

static int dd__claimant(dd_backend_t *base, dd_record_t *out)
{
    dd_redis_t *b = (dd_redis_t *)base;
    return b->raced != NULL && dd__decode(b->raced, out) == 0 ? 0 : -1;
}

static void dd__skip(dd_backend_t *base) { dd__drop_held((dd_redis_t *)base); }

static void dd__stats(dd_backend_t *base, uint64_t *docs, uint64_t *mem, uint64_t *disk)
{
    dd_redis_t *b = (dd_redis_t *)base;
    *docs = b->docs;
    *mem = 0;
    *disk = 0;
}

static void dd__destroy(dd_backend_t *base)
{
    dd_redis_t *b = (dd_redis_t *)base;
    dd__drop_held(b);
    if (b->raced != NULL)
        freeReplyObject(b->raced);
    if (b->c != NULL)
        redisFree(b->c);
    dd_candset_free(&b->cs);
    free(b->cand);
    free(b->host), free(b->password), free(b->prefix), free(b->fingerprint), free(b->sha);
    free(b);
}

/* Feed the most recent records to the owner's document-frequency table. */
static void dd__replay(dd_redis_t *b, dd_replay_fn fn, void *ctx)
{
    if (fn == NULL || b->cfg.replay_recent == 0)
        return;
    redisReply *r = redisCommand(b->c, "LRANGE %slog -%llu -1", b->prefix,
                                 (unsigned long long)b->cfg.replay_recent);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return;
    }
    b->docs = r->elements;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING)
            continue;
        redisReply *rr = redisCommand(b->c, "GET %sr:%s", b->prefix, e->str);
        dd_record_t rec;
        if (dd__decode(rr, &rec) == 0)
            fn(ctx, &rec);
        freeReplyObject(rr);
    }
    freeReplyObject(r);
}

int dd_redis_open(const tm_host_t *host, const dd_redis_cfg_t *cfg, dd_replay_fn replay,
                  void *ctx, dd_backend_t **out, tm_err_t *err)
{
    *out = NULL;
    dd_redis_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
    b->cfg = *cfg;
    b->th = host;
    b->host = strdup(cfg->host);
    b->password = strdup(cfg->password);
    b->prefix = strdup(cfg->prefix);
    b->fingerprint = strdup(cfg->fingerprint);
    b->base.name = "redis";
    b->base.lookup = dd__lookup;
    b->base.insert = dd__insert;
    b->base.claimant = dd__claimant;
    b->base.skip = dd__skip;
    b->base.stats = dd__stats;
    b->base.destroy = dd__destroy;
    if (b->host == NULL || b->password == NULL || b->prefix == NULL || b->fingerprint == NULL) {
        dd__destroy(&b->base);
        return tm_err_set(err, TM_ENOMEM, "out_of_memory", "dedup: out of memory");
    }
    if (strlen(b->prefix) > 100) {
        dd__destroy(&b->base);
        return tm_err_set(err, TM_EINVAL, "bad_config",
                          "dedup: redis_prefix is longer than 100 bytes");
    }
    int rc = dd__connect(b, err, 1);
    if (rc != TM_OK) {
        dd__destroy(&b->base);
        return rc;
    }
    dd__replay(b, replay, ctx);
    host->log(host, TM_LOG_INFO,
              "msg=\"dedup index open\" backend=redis server=\"%s:%d\" db=%d prefix=\"%s\" "
              "documents=%llu",
              b->host, cfg->port, cfg->db, b->prefix, (unsigned long long)b->docs);
    *out = &b->base;
    return TM_OK;
}
