/*
 * jsonw.h - a small append-only JSON writer for the stage's bulk output
 * (sentences, quotes, entities).  It formats offsets as integers and scores
 * with at most 4 decimals directly into one growing buffer, which becomes a
 * single cJSON raw item: no per-number cJSON node, no printf/sscanf
 * round-trip when the host serialises the result.  The text it writes is
 * exactly what cJSON_PrintUnformatted would print for the same values.
 */
#ifndef TM_SENTIMENT_JSONW_H
#define TM_SENTIMENT_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

typedef struct jw_buf {
    char *s;
    size_t len, cap;
    int oom;  /* an allocation failed: the contents are incomplete */
} jw_buf_t;

void jw_free(jw_buf_t *b);
static inline void jw_reset(jw_buf_t *b)
{
    b->len = 0;
    b->oom = 0;
}

/* Make room for n more bytes (and a NUL); 0 on out of memory. */
int jw__grow(jw_buf_t *b, size_t n);
static inline int jw_reserve(jw_buf_t *b, size_t n)
{
    return b->len + n + 1 <= b->cap ? 1 : jw__grow(b, n);
}

/* Append bytes as they are (JSON punctuation, keys).  Inline, so that a
 * literal's memcpy of known length becomes a few moves. */
static inline void jw_lit(jw_buf_t *b, const char *s, size_t n)
{
    if (!jw_reserve(b, n))
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
}
#define JW_LIT(b, lit) jw_lit((b), (lit), sizeof(lit) - 1)
static inline void jw_char(jw_buf_t *b, char c)
{
    if (jw_reserve(b, 1))
        b->s[b->len++] = c;
}
/* An unsigned integer. */
void jw_uint(jw_buf_t *b, uint64_t v);
/* {"start":S,"end":E  (an offsets object, left open), with one room check. */
void jw_span_open(jw_buf_t *b, uint32_t s, uint32_t e);
/* A number rounded to 4 decimals, trailing zeros dropped ("0.25", "-1",
 * "0"); non-finite values are written as 0. */
void jw_num4(jw_buf_t *b, double v);
/* A number with full float precision (%.9g; debug output). */
void jw_numg(jw_buf_t *b, double v);
/* A JSON string literal (quotes added; control characters, '"' and '\\'
 * escaped; the bytes are valid UTF-8 already). */
void jw_str(jw_buf_t *b, const char *s, size_t n);
/* Drop a trailing ',' (after the last item of a list). */
static inline void jw_unsep(jw_buf_t *b)
{
    if (b->len > 0 && b->s[b->len - 1] == ',')
        b->len--;
}

/* The buffer as a cJSON raw item (copied; the buffer stays usable), or as
 * a parsed cJSON tree when parse is set.  NULL on out of memory. */
cJSON *jw_item(jw_buf_t *b, int parse);

#endif
