/*
 * texthash.c - XXH3-64 compiled for AVX2 (see texthash.h).  Only this
 * file is compiled for AVX2, and its code runs only after the CPU said it
 * has AVX2 (sketch.c checks).
 */
#include "autoconfig.h"

#include "texthash.h"

#ifdef DD_XXH3_AVX2
#include <immintrin.h>
/* every function from here on is compiled for AVX2 */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC target("avx2")
#endif
#define XXH_VECTOR 2 /* XXH_AVX2 */
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t dd_xxh3_avx2(const void *p, size_t len) { return XXH3_64bits(p, len); }
#if defined(__clang__)
#pragma clang attribute pop
#endif
#else
/* nothing to add: the default build already has the best path */
typedef int dd_texthash_unused;
#endif
