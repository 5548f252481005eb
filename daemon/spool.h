/*
 * spool.h - the durable spool (at-least-once delivery across crashes) and
 * the dead-letter file, both in the state directory.
 *
 * Like rsyslog's disk-assisted queue, but keyed rather than sequential: a
 * document is written to LMDB (<state_dir>/spool/) before its ack is sent,
 * removed once its result has been handed to the outputs (plus a short
 * retire delay, see below), and whatever is still there at start-up is
 * replayed with "redelivered": true.
 *
 * One writer thread does every write, in group commits: it takes everything
 * queued (at most batch_max documents), writes it in one LMDB transaction
 * and commits once, so the cost of an fsync is shared by the whole batch.
 * Keys are handed out at append time, so the document's stages run while
 * its commit waits for the disk (job.c joins the two before the ack).
 * The fsync policy decides when that commit reaches the disk:
 *   batch     the commit is fsync'd before any of its documents is acked
 *             (survives power loss);
 *   interval  commits are written without fsync and the file is fsync'd
 *             every fsync_interval_ms (survives a crash or kill -9 of the
 *             process; a power loss may lose the last interval);
 *   off       never fsync'd by textmill (survives a process crash only).
 *
 * Removal is delayed by retire_ms after the hand-off: a result handed to
 * ZeroMQ sits in its queue for a moment before the I/O thread writes it to
 * the kernel, and a kill -9 in that moment would lose it.  A crash within
 * retire_ms of a hand-off therefore redelivers that result (a duplicate,
 * which at-least-once allows) instead of losing it.
 *
 * Crash blame: the crash handler (crash.c) appends the spool keys and ids
 * of the documents that were inside a stage when the process died
 * (SIGSEGV, SIGABRT, ...) to <state_dir>/crash-record.  At start-up those
 * entries' attempt counters grow, and so do the ids' counts in the
 * "suspects" table; replay() hands entries back with their count, and the
 * server dead-letters an entry - or a resent document whose id is a
 * suspect - that has crashed the daemon poison_max_crashes times instead of
 * running it again.
 *
 * Record layout (native byte order, the file never leaves the machine):
 *   "TMS1", u32 attempts, i32 last signal, u32 raw length, char stage[64],
 *   then the raw document exactly as received.
 */
#ifndef TM_SPOOL_H
#define TM_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <textmill/stage.h>

#include "metrics.h"

typedef struct tm_spool tm_spool_t;

enum tm_spool_fsync {
    TM_SPOOL_FSYNC_BATCH = 0,
    TM_SPOOL_FSYNC_INTERVAL,
    TM_SPOOL_FSYNC_OFF,
};

typedef struct tm_spool_opts {
    const char *state_dir;     /* required */
    int enabled;               /* 0: only the dead-letter file and crash record */
    int fsync;                 /* enum tm_spool_fsync */
    unsigned fsync_interval_ms;
    unsigned batch_max;        /* documents per group commit */
    size_t map_bytes;          /* largest spool file */
    unsigned retire_ms;
    unsigned max_crashes;      /* poison threshold */
    unsigned workers;          /* crash-handler slots */
    tm_metrics_t *metrics;     /* may be NULL */
} tm_spool_opts_t;

/* Called on the writer thread after the group commit that holds item: ok = 1
 * with its key, or ok = 0 with a reason (the spool is full or broken). */
typedef void (*tm_spool_done_fn)(void *ctx, void *item, uint64_t key, int ok, const char *why);

/* One stored document, as replay hands it back. */
typedef struct tm_spool_entry {
    uint64_t key;
    uint32_t attempts;         /* crashes it was blamed for */
    int32_t last_signal;
    char stage[64];            /* the stage it was in at the last crash */
    char *raw;                 /* owned by the caller after replay_next */
    size_t raw_len;
} tm_spool_entry_t;

#define TM_SPOOL_HEADER_BYTES 80

/* Open (creating) the spool, read the previous run's crash record and
 * arm the crash handler for this run, start the writer thread. */
int tm_spool_open(const tm_spool_opts_t *o, tm_spool_done_fn done, void *ctx, tm_spool_t **out,
                  tm_err_t *err);
/* Write every queued change (retires immediately) and stop the thread;
 * appends after this fail at once (their done() runs on the caller). */
void tm_spool_stop(tm_spool_t *sp);
/* Stop (if not yet) and close. */
void tm_spool_close(tm_spool_t **sp);

int tm_spool_enabled(const tm_spool_t *sp);

/* Queue raw (malloc'd; ownership taken) for the next group commit and
 * return the key it will be stored under (keys grow in append order).  When
 * the spool is stopped, done() runs at once, on the caller, with ok = 0. */
uint64_t tm_spool_append(tm_spool_t *sp, void *item, char *raw, size_t len);
/* The result of key has been handed to the outputs. */
void tm_spool_retire(tm_spool_t *sp, uint64_t key);
/* Append a dead-letter record (one JSON line, copied) to
 * <state_dir>/dead-letters.jsonl and remove key (0 = none) from the spool. */
void tm_spool_dead(tm_spool_t *sp, uint64_t key, const char *record, size_t len);

/* Start-up replay, on one thread before documents flow: the next stored
 * entry after key `after` (0 = from the start).  Returns 1 with *e filled,
 * 0 at the end, negative on error. */
int tm_spool_replay_next(tm_spool_t *sp, uint64_t after, tm_spool_entry_t *e);

/* Entries and bytes currently stored (for metrics and tests). */
void tm_spool_depth(tm_spool_t *sp, uint64_t *entries, uint64_t *bytes);

/* Decode and encode the record layout above (fuzzed). decode: *e->raw
 * points into buf (not copied).  Returns TM_OK or TM_EINVAL. */
int tm_spool_record_decode(const void *buf, size_t len, tm_spool_entry_t *e);
size_t tm_spool_record_encode(void *buf, size_t cap, const tm_spool_entry_t *e);

/* Parse one crash-record line "KEY SIGNAL STAGE [ID]" (fuzzed); the id is
 * %XX-decoded into id ("" when absent).  A line needs a key or an id. */
int tm_spool_crash_line(const char *line, size_t len, uint64_t *key, int *sig, char *stage,
                        size_t stage_size, char *id, size_t id_size);

/* Suspects: ids of documents that were in a stage when the daemon crashed
 * (kept in the spool's "suspects" table), so that a document that crashes
 * the daemon before its commit - and is resent by a client that got no ack
 * - is caught too.  Returns the number of crashes blamed on id (0 = none)
 * and, when non-zero, the stage and signal of the last one.  Thread-safe. */
unsigned tm_spool_suspect(tm_spool_t *sp, const char *id, char *stage, size_t stage_size,
                          int *sig);
/* The document with this id went through without a crash: forget it. */
void tm_spool_forget_suspect(tm_spool_t *sp, const char *id);
/* poison_max_crashes as the spool was opened with. */
unsigned tm_spool_max_crashes(const tm_spool_t *sp);

#endif
