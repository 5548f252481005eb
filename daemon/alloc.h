/*
 * alloc.h - which malloc the programs run on.
 *
 * textmilld and textmill link mimalloc when configure finds it (and no
 * sanitizer, which brings its own allocator, is on).  Linked into the
 * executables, it replaces malloc for the whole process: the host, libzmq,
 * cJSON and every stage plugin allocate from it without knowing.  A
 * document's trip allocates hundreds of small blocks (cJSON nodes, tokens,
 * ZeroMQ frames) on one thread and frees them on another; glibc's malloc
 * pays for that in fastbin consolidation on the next large request, which
 * callgrind showed at about 6% of a worker's instructions on the default
 * pipeline (README, "Performance").
 */
#ifndef TM_ALLOC_H
#define TM_ALLOC_H

#include <stddef.h>

/* "mimalloc 2.0.9" or "glibc malloc", written into buf (always terminated).
 * Shown by --version and logged at start-up, so a report says which
 * allocator a measurement ran on. */
const char *tm_allocator_name(char *buf, size_t cap);

#endif
