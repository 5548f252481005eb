/*
 * texthash.c - XXH3-64 compiled for AVX2 (see texthash.h).  Only this
 * file is compiled for AVX2, and its code runs only after the CPU said it
 * has AVX2 (sketch.c checks).
 */
#include "autoconfig.h"

#include "texthash.h"

#ifdef DD_XXH3_AVX2
#pragma GCC target("avx2")
#include <immintrin.h>
#define XXH_VECTOR 2 /* XXH_AVX2 */
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t dd_xxh3_avx2(const void *p, size_t len) { return XXH3_64bits(p, len); }
#else
/* nothing to add: the default build already has the best path */
typedef int dd_texthash_unused;
#endif
