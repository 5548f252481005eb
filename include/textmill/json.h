/*
 * textmill/json.h - write JSON strings exactly as textmilld does.
 *
 * For stages that emit pre-serialised annotations (doc_annotate with a
 * cJSON_Raw item, see stage.h): raw text goes into the result unchecked, so
 * it must be valid JSON, and a stage that escapes strings with this header
 * produces the same bytes the host would have printed from a cJSON tree.
 * textmilld's own result encoder uses it too.
 *
 * Header-only (static inline), C11, no dependencies; part of the installed
 * plugin SDK (`pkg-config textmill`).  Not versioned with the ABI: it calls
 * nothing in the host.
 *
 * Escaped: '"', '\\', and control characters below 0x20 (\b \f \n \r \t, the
 * rest as \u00XX).  Every other byte, UTF-8 included, is copied as it is;
 * the caller is responsible for the input being valid UTF-8.
 */
#ifndef TEXTMILL_JSON_H
#define TEXTMILL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Building blocks, eight bytes at a time ("SIMD within a register": the
 * classic zero-byte tests, exact for every byte value, no alignment
 * needed).  textmilld's own JSON reader uses them too. */
static inline uint64_t tm_json__load(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Nonzero when some byte of w equals c. */
static inline uint64_t tm_json__has_byte(uint64_t w, unsigned char c)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t x = w ^ (ones * c);
    return (x - ones) & ~x & highs;
}

/* Nonzero when some byte of w is '"' or '\\': where a JSON string ends or
 * an escape starts. */
static inline uint64_t tm_json__quote_or_bslash(uint64_t w)
{
    return tm_json__has_byte(w, '"') | tm_json__has_byte(w, '\\');
}

/* Nonzero when some byte of w needs escaping: '"', '\\' or below 0x20. */
static inline uint64_t tm_json__word_escapes(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    return tm_json__quote_or_bslash(w) | ((w - ones * 0x20) & ~w & highs);
}

/* The index (0-7) of the first byte flagged in m, a nonzero result of the
 * tests above.  Exact: a false flag can only sit above a true one, where a
 * borrow ran on, and the first byte is the lowest on a little-endian
 * machine.  Elsewhere 0: the caller goes on byte by byte. */
static inline unsigned tm_json__first(uint64_t m)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (unsigned)__builtin_ctzll(m) >> 3;
#else
    (void)m;
    return 0;
#endif
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* Sixteen bytes at a time where the machine has SSE2 (every x86-64): a bit
 * per byte of p[0, 16) that is '"' or '\\', or, with ctl, below 0x20. */
static inline unsigned tm_json__mask16(const char *p, int ctl)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    if (ctl) /* v <= 0x1f exactly when v - 0x1f saturates to zero */
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_subs_epu8(v, _mm_set1_epi8(0x1f)),
                                           _mm_setzero_si128()));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* The length of the run at the start of s[0, n) without '"' or '\\' (and,
 * with ctl, without bytes below 0x20): where a JSON string ends or an
 * escape is due.  It stops at the first such byte (at the start of its
 * 8-byte word where tm_json__first cannot tell), or fewer than 8 bytes
 * before n; the caller goes on byte by byte from there. */
static inline size_t tm_json__plain_run(const char *s, size_t n, int ctl)
{
    size_t j = 0;
#if defined(__SSE2__) && defined(__GNUC__)
    for (; j + 16 <= n; j += 16) {
        unsigned m = tm_json__mask16(s + j, ctl);
        if (m != 0)
            return j + (unsigned)__builtin_ctz(m);
    }
#endif
    for (; j + 8 <= n; j += 8) {
        uint64_t w = tm_json__load(s + j);
        uint64_t m = ctl ? tm_json__word_escapes(w) : tm_json__quote_or_bslash(w);
        if (m != 0)
            return j + tm_json__first(m);
    }
    return j;
}

/* Does byte c need escaping? */
static inline int tm_json_needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* The escape sequence for a byte that needs one, written at out (room for 6
 * bytes); returns its length (2 or 6). */
static inline size_t tm_json_escape_byte(unsigned char c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '\\';
    switch (c) {
    case '"': out[1] = '"'; return 2;
    case '\\': out[1] = '\\'; return 2;
    case '\b': out[1] = 'b'; return 2;
    case '\f': out[1] = 'f'; return 2;
    case '\n': out[1] = 'n'; return 2;
    case '\r': out[1] = 'r'; return 2;
    case '\t': out[1] = 't'; return 2;
    default:
        out[1] = 'u';
        out[2] = '0';
        out[3] = '0';
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
        return 6;
    }
}

/* Two decimal digits per entry, for the writers below. */
static const char tm_json__digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

/* Write v in decimal at out, which has room for 10 bytes; returns the bytes
 * written.  Offsets and counts fit here: the digits are counted by
 * comparison (no loop) and made two per 32-bit division (a multiply by a
 * constant). */
static inline size_t tm_json_write_u32(char *out, uint32_t v)
{
    size_t nd = v < 100 ? (v < 10 ? 1 : 2)
                : v < 10000 ? (v < 1000 ? 3 : 4)
                : v < 1000000 ? (v < 100000 ? 5 : 6)
                : v < 100000000 ? (v < 10000000 ? 7 : 8)
                : v < 1000000000 ? 9 : 10;
    char *p = out + nd;
    while (v >= 100) {
        uint32_t r = v % 100;
        v /= 100;
        p -= 2;
        memcpy(p, tm_json__digit_pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(p - 2, tm_json__digit_pairs + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return nd;
}

/* Write v in decimal at out, which has room for 20 bytes; returns the
 * bytes written.  Values that fit in 32 bits take tm_json_write_u32; larger
 * ones lose two digits per 64-bit division until they fit. */
static inline size_t tm_json_write_u64(char *out, uint64_t v)
{
    if (v <= UINT32_MAX)
        return tm_json_write_u32(out, (uint32_t)v);
    size_t nd = 10;
    for (uint64_t lim = 10000000000ULL; nd < 20 && v >= lim; lim *= 10) /* 20 digits from 10^19 */
        nd++;
    char *o = out + nd;
    while (v > UINT32_MAX) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        o -= 2;
        memcpy(o, tm_json__digit_pairs + 2 * r, 2);
    }
    /* What is left is v's leading o - out digits, exactly. */
    tm_json_write_u32(out, (uint32_t)v);
    return nd;
}

/* Write s[0, n) escaped, without quotes, at out, which has room for 6 * n
 * bytes; returns the bytes written.  Runs without escapes, nearly all of
 * news text, are found eight bytes at a time and copied whole. */
static inline size_t tm_json_escape(char *out, const char *s, size_t n)
{
    char *o = out;
    size_t i = 0;
    for (;;) {
        size_t j = i + tm_json__plain_run(s + i, n - i, 1);
        while (j < n && !tm_json_needs_escape((unsigned char)s[j]))
            j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        if (j >= n)
            return (size_t)(o - out);
        o += tm_json_escape_byte((unsigned char)s[j], o);
        i = j + 1;
    }
}

/* Write s[0, n) as a JSON string, quotes included, at out, which has room
 * for 6 * n + 2 bytes; returns the bytes written. */
static inline size_t tm_json_write_string(char *out, const char *s, size_t n)
{
    out[0] = '"';
    size_t k = tm_json_escape(out + 1, s, n);
    out[k + 1] = '"';
    return k + 2;
}

#endif
