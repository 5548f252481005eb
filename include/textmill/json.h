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

/* Nonzero when one of the eight bytes in w needs escaping (zero-byte tests
 * done eight bytes at a time; exact for every byte value). */
static inline uint64_t tm_json__word_escapes(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    return ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs) | ((w - ones * 0x20) & ~w & highs);
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

/* Write s[0, n) escaped, without quotes, at out, which has room for 6 * n
 * bytes; returns the bytes written.  Runs without escapes, nearly all of
 * news text, are found eight bytes at a time and copied whole. */
static inline size_t tm_json_escape(char *out, const char *s, size_t n)
{
    char *o = out;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + j, 8);
            if (tm_json__word_escapes(w) != 0)
                break;
            j += 8;
        }
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
