/*
 * crash.c - the crash handler and the per-worker slots it reports
 * (see crash.h).
 */
#include "autoconfig.h"

#include "crash.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    _Atomic uint64_t key;
    _Atomic(const char *) stage;
    _Atomic(const char *) id;
} tm__slot_t;

static tm__slot_t tm__slots[TM_CRASH_MAX_SLOTS];
static atomic_int tm__fd = -1;
static atomic_int tm__armed;
static atomic_int tm__crashing; /* the record is written once per death */

static const int tm__signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define TM__NSIG (sizeof tm__signals / sizeof tm__signals[0])
static struct sigaction tm__old[TM__NSIG];

void tm_crash_note(unsigned worker, uint64_t key, const char *id, const char *stage)
{
    if (worker >= TM_CRASH_MAX_SLOTS)
        return;
    atomic_store_explicit(&tm__slots[worker].stage, stage, memory_order_relaxed);
    atomic_store_explicit(&tm__slots[worker].id, id, memory_order_relaxed);
    atomic_store_explicit(&tm__slots[worker].key, key, memory_order_relaxed);
}

void tm_crash_clear(unsigned worker)
{
    if (worker >= TM_CRASH_MAX_SLOTS)
        return;
    atomic_store_explicit(&tm__slots[worker].key, 0, memory_order_relaxed);
    atomic_store_explicit(&tm__slots[worker].id, NULL, memory_order_relaxed);
}

/* Async-signal-safe formatting: decimal digits of v into buf (no NUL). */
static size_t tm__fmt_u64(char *buf, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static void tm__handler(int sig)
{
    int fd = atomic_load(&tm__fd);
    /* A sanitizer's handler may abort() after ours ran for the first
     * signal: the record must not be written twice. */
    if (fd >= 0 && !atomic_exchange(&tm__crashing, 1)) {
        for (unsigned i = 0; i < TM_CRASH_MAX_SLOTS; i++) {
            uint64_t key = atomic_load_explicit(&tm__slots[i].key, memory_order_relaxed);
            const char *id = atomic_load_explicit(&tm__slots[i].id, memory_order_relaxed);
            if (key == 0 && id == NULL)
                continue;
            const char *stage = atomic_load_explicit(&tm__slots[i].stage, memory_order_relaxed);
            /* "KEY SIGNAL STAGE ID\n", one write so lines never interleave. */
            char line[1024];
            size_t n = tm__fmt_u64(line, key);
            line[n++] = ' ';
            n += tm__fmt_u64(line + n, (uint64_t)sig);
            line[n++] = ' ';
            const char *s = stage != NULL ? stage : "-";
            for (size_t k = 0; s[k] != '\0' && n < 200; k++)
                line[n++] = (s[k] == ' ' || s[k] == '\n') ? '_' : s[k];
            line[n++] = ' ';
            static const char hex[] = "0123456789ABCDEF";
            const unsigned char *u = (const unsigned char *)(id != NULL ? id : "");
            for (size_t k = 0; u[k] != '\0' && n < sizeof line - 5; k++) {
                if (u[k] <= 0x20 || u[k] == '%' || u[k] >= 0x7f) {
                    line[n++] = '%';
                    line[n++] = hex[u[k] >> 4];
                    line[n++] = hex[u[k] & 15];
                } else {
                    line[n++] = (char)u[k];
                }
            }
            line[n++] = '\n';
            ssize_t w = write(fd, line, n);
            (void)w;
        }
        fsync(fd);
    }
    /* Hand the signal on: the previous handler (a sanitizer's) or the
     * default action, which ends the process with this signal. */
    for (size_t i = 0; i < TM__NSIG; i++) {
        if (tm__signals[i] == sig) {
            sigaction(sig, &tm__old[i], NULL);
            break;
        }
    }
    raise(sig);
}

void tm_crash_arm(int fd)
{
    atomic_store(&tm__fd, fd);
    if (atomic_exchange(&tm__armed, 1))
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tm__handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER | SA_RESETHAND;
    for (size_t i = 0; i < TM__NSIG; i++)
        sigaction(tm__signals[i], &sa, &tm__old[i]);
}

void tm_crash_disarm(void)
{
    if (!atomic_exchange(&tm__armed, 0))
        return;
    atomic_store(&tm__fd, -1);
    for (size_t i = 0; i < TM__NSIG; i++)
        sigaction(tm__signals[i], &tm__old[i], NULL);
}
