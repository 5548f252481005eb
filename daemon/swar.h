/*
 * swar.h - eight bytes at a time: does a word hold a byte JSON treats
 * specially?  ("SIMD within a register": the classic zero-byte tests, exact
 * for every byte value, portable C, no alignment needed.)
 *
 * Used by the text reader (jtext.c); the JSON string writer every stage
 * and the host share is include/textmill/json.h.
 */
#ifndef TM_SWAR_H
#define TM_SWAR_H

#include <stdint.h>
#include <string.h>

#define TM_SWAR_ONES UINT64_C(0x0101010101010101)
#define TM_SWAR_HIGHS UINT64_C(0x8080808080808080)

/* Load eight bytes from any address. */
static inline uint64_t tm_swar_load(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Nonzero when some byte of w equals c. */
static inline uint64_t tm_swar_has_byte(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (TM_SWAR_ONES * c);
    return (x - TM_SWAR_ONES) & ~x & TM_SWAR_HIGHS;
}

/* Nonzero when some byte of w is '"' or '\\': where a JSON string ends or
 * an escape starts. */
static inline uint64_t tm_swar_has_quote_or_bslash(uint64_t w)
{
    return tm_swar_has_byte(w, '"') | tm_swar_has_byte(w, '\\');
}

/* The index (0-7) of the first byte flagged in m, a nonzero result of the
 * tests above.  Exact: a false flag can only sit above a true one, where a
 * borrow ran on, and the first byte is the lowest on a little-endian
 * machine.  Elsewhere the caller rescans the word byte by byte. */
static inline unsigned tm_swar_first(uint64_t m)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (unsigned)__builtin_ctzll(m) >> 3;
#else
    (void)m;
    return 0;
#endif
}

#endif
