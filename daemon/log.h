/*
 * log.h - key=value log lines on stderr.
 *
 * One line per event: "ts=... level=info component=ingest msg=\"...\" k=v".
 * stderr is what journald collects when textmilld runs under systemd.  The
 * level is process-wide and may be changed at any time (hot reload).
 * Per-document errors go through a rate limiter so a flood of bad input
 * cannot flood the journal; suppressed lines are counted and reported.
 */
#ifndef TM_LOG_H
#define TM_LOG_H

#include <stdint.h>
#include <textmill/stage.h>

void tm_log_set_level(int level);
int tm_log_get_level(void);
/* Parse "error", "warn", "info", "debug"; returns -1 for anything else. */
int tm_log_level_from_name(const char *name);
const char *tm_log_level_name(int level);

/* fmt produces the tail of the line: msg="..." key=value ... */
void tm_log(int level, const char *component, const char *fmt, ...) TM_PRINTF(3, 4);
void tm_vlog(int level, const char *component, const char *fmt, va_list ap) TM_PRINTF(3, 0);

/* A token bucket: at most `burst` lines, refilled at `per_sec` per second.
 * Thread-safe; initialise with TM_RATELIMIT_INIT. */
typedef struct tm_ratelimit {
    double per_sec;
    double burst;
    double tokens;
    uint64_t last_ns;
    uint64_t suppressed;
    int lock; /* spinlock word, used with __atomic builtins */
} tm_ratelimit_t;

#define TM_RATELIMIT_INIT(per_sec_, burst_) {(per_sec_), (burst_), (burst_), 0, 0, 0}

/* Log through the rate limiter.  When lines were dropped since the last one
 * that passed, the passing line carries suppressed=N. */
void tm_log_limited(tm_ratelimit_t *rl, int level, const char *component, const char *fmt, ...)
    TM_PRINTF(4, 5);

/* Quote s for a log value into buf (adds the double quotes, escapes " \ and
 * control characters, truncates long values).  Returns buf. */
const char *tm_log_quote(char *buf, size_t size, const char *s);

#endif
