/*
 * texthash.h - XXH3-64 of whole texts (the exact and raw-bytes hashes of
 * sketch.c) through the library's AVX2 code path, for CPUs that have AVX2:
 * about twice the speed of its SSE2 path on an article.  XXH3's vector
 * paths are defined to give the same values (test_dedup compares them).
 */
#ifndef DD_TEXTHASH_H
#define DD_TEXTHASH_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
#define DD_XXH3_AVX2 1
/* XXH3_64bits(p, len) with AVX2 instructions: call only when
 * __builtin_cpu_supports("avx2"). */
uint64_t dd_xxh3_avx2(const void *p, size_t len);
#endif

#endif
