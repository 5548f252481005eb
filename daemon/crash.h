/*
 * crash.h - who was doing what when the process died.
 *
 * Each worker keeps a slot saying which document it is running (spool key
 * and id) and in which stage.  The id matters for documents not yet in the
 * spool: their commit runs alongside the stages, and a client resends a
 * document it got no ack for.  A handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT
 * (systemd's watchdog kills with SIGABRT) writes the busy slots to the crash
 * record with async-signal-safe write(2) calls, then lets the signal take its
 * default course (or the handler that was there before, e.g. a sanitizer's).
 * The next start reads the record and blames those documents (spool.c), so a
 * poison document is dead-lettered after a few crashes instead of
 * crash-looping the service.  SIGKILL cannot be caught: a kill -9 leaves no
 * record and blames no one.
 *
 * Slots are process-wide by nature (a signal handler has no context); they
 * are written with relaxed atomics on the hot path, two stores per stage.
 */
#ifndef TM_CRASH_H
#define TM_CRASH_H

#include <stdint.h>

#define TM_CRASH_MAX_SLOTS 1024

/* Record lines are "KEY SIGNAL STAGE ID\n"; the id is written with bytes
 * <= 0x20, '%' and >= 0x7f as %XX so that it stays one field. */

/* Install the handlers; the record goes to fd (kept open; -1 = only mark
 * slots, no handler).  Safe to call again to change the fd. */
void tm_crash_arm(int fd);
/* Restore the previous handlers and stop writing records. */
void tm_crash_disarm(void);

/* Worker `worker` now runs document `key` (0 = not in the spool) with id
 * `id` in stage `stage` (strings that outlive the call, or NULL).  Slots
 * with neither a key nor an id are not reported. */
void tm_crash_note(unsigned worker, uint64_t key, const char *id, const char *stage);
void tm_crash_clear(unsigned worker);

#endif
