/*
 * clock.h - monotonic time in nanoseconds, the one clock used for latency,
 * timing_us and rate limiting.
 */
#ifndef TM_CLOCK_H
#define TM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t tm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: what a stage costs, whatever else the
 * machine is doing (a syscall, not vDSO: for measurements only). */
static inline uint64_t tm_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
