/*
 * jtext.h - read a document's "text" member without cJSON's string parser.
 *
 * The text is nearly all of a document's bytes, and cJSON reads strings one
 * byte at a time in two passes: measured with callgrind on news articles,
 * parsing took 19 instructions per input byte, 61% of everything the host
 * does for a document.  This reader finds the first top-level "text" member
 * and decodes its string eight bytes at a time; cJSON still parses (and
 * validates) everything else, with the text literal replaced by "".
 *
 * It is a fast path only: whenever the input is anything but the plain case
 * (an escaped key, no top-level text string, a \u escape cJSON would read
 * specially: bad hex digits, U+0000, a lone surrogate; malformed JSON),
 * it declines and the caller parses the whole message with cJSON, so the
 * accepted documents and the error codes and messages are the same either
 * way.  tests/unit/test_codec.c and tests/fuzz/fuzz_doc_parse.c compare the
 * two paths.
 */
#ifndef TM_JTEXT_H
#define TM_JTEXT_H

#include <stddef.h>

typedef struct tm_jtext {
    size_t lit_start, lit_end; /* the string literal in the input, quotes included */
    char *text;                /* decoded, NUL-terminated, malloc'd; owned by the caller */
    size_t len;                /* bytes in text */
} tm_jtext_t;

/* Find and decode the first top-level "text" member of the JSON object in
 * buf[0, len).  Returns 1 and fills *out when the fast path applies, 0 when
 * the caller must parse with cJSON alone (*out untouched), -1 when out of
 * memory. */
int tm_jtext_find(const char *buf, size_t len, tm_jtext_t *out);

/* buf with the literal at [j->lit_start, j->lit_end) replaced by "", as a
 * malloc'd NUL-terminated copy (owned by the caller); NULL when out of
 * memory. */
char *tm_jtext_rest(const char *buf, size_t len, const tm_jtext_t *j, size_t *rest_len);

#endif
