/*
 * log.c - key=value log lines on stderr, with a process-wide level and a
 * token-bucket rate limiter for per-document errors.
 */
#include "autoconfig.h"

#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

static atomic_int tm__log_level = TM_LOG_INFO;

static const char *const tm__level_names[] = {"error", "warn", "info", "debug"};

void tm_log_set_level(int level)
{
    if (level < TM_LOG_ERROR)
        level = TM_LOG_ERROR;
    if (level > TM_LOG_DEBUG)
        level = TM_LOG_DEBUG;
    atomic_store(&tm__log_level, level);
}

int tm_log_get_level(void) { return atomic_load(&tm__log_level); }

int tm_log_level_from_name(const char *name)
{
    for (int i = 0; i <= TM_LOG_DEBUG; i++)
        if (name != NULL && strcmp(name, tm__level_names[i]) == 0)
            return i;
    return -1;
}

const char *tm_log_level_name(int level)
{
    if (level < TM_LOG_ERROR || level > TM_LOG_DEBUG)
        return "info";
    return tm__level_names[level];
}

static void tm__vlog_suffix(int level, const char *component, uint64_t suppressed,
                            const char *fmt, va_list ap)
{
    /* Build the whole line first and write it with one call, so lines from
     * several threads never interleave. */
    char line[2048];
    struct timespec ts;
    struct tm tmv;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tmv);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s component=%s ",
                     tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour, tmv.tm_min,
                     tmv.tm_sec, ts.tv_nsec / 1000000L, tm_log_level_name(level),
                     component != NULL ? component : "textmill");
    if (n < 0)
        return;
    if ((size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if ((size_t)n < sizeof line && suppressed > 0)
        n += snprintf(line + n, sizeof line - (size_t)n, " suppressed=%llu",
                      (unsigned long long)suppressed);
    if ((size_t)n >= sizeof line - 1) {
        n = (int)sizeof line - 5;
        memcpy(line + n, "...", 3);
        n += 3;
    }
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}

void tm_vlog(int level, const char *component, const char *fmt, va_list ap)
{
    if (level > atomic_load(&tm__log_level))
        return;
    tm__vlog_suffix(level, component, 0, fmt, ap);
}

void tm_log(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm_vlog(level, component, fmt, ap);
    va_end(ap);
}

void tm_log_limited(tm_ratelimit_t *rl, int level, const char *component, const char *fmt, ...)
{
    if (level > atomic_load(&tm__log_level))
        return;
    while (__atomic_exchange_n(&rl->lock, 1, __ATOMIC_ACQUIRE))
        ;
    uint64_t now = tm_now_ns();
    if (rl->last_ns != 0) {
        rl->tokens += (double)(now - rl->last_ns) / 1e9 * rl->per_sec;
        if (rl->tokens > rl->burst)
            rl->tokens = rl->burst;
    }
    rl->last_ns = now;
    int pass = rl->tokens >= 1.0;
    uint64_t suppressed = 0;
    if (pass) {
        rl->tokens -= 1.0;
        suppressed = rl->suppressed;
        rl->suppressed = 0;
    } else {
        rl->suppressed++;
    }
    __atomic_store_n(&rl->lock, 0, __ATOMIC_RELEASE);
    if (!pass)
        return;
    va_list ap;
    va_start(ap, fmt);
    tm__vlog_suffix(level, component, suppressed, fmt, ap);
    va_end(ap);
}

const char *tm_log_quote(char *buf, size_t size, const char *s)
{
    size_t o = 0;
    if (size < 8) {
        if (size > 0)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)(s != NULL ? s : ""); *p; p++) {
        if (o + 6 >= size) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else if (*p < 0x20) {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", *p);
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
