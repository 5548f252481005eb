/*
 * jtext.c - the fast path for a document's "text" member (see jtext.h).
 *
 * The scanner walks only the top level of the object: keys, and values
 * skipped by bracket depth with strings stepped over whole.  That is exact
 * tokenisation for well-formed JSON, and anything it does not understand
 * makes it decline rather than guess; cJSON then validates what is left.
 */
#include "autoconfig.h"

#include "jtext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "textmill/json.h"

static const char *tm__skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p points just past an opening quote.  Returns the closing quote, or NULL
 * when the string does not end.  *escaped tells whether it held a '\\'. */
static const char *tm__string_end(const char *p, const char *end, int *escaped)
{
    *escaped = 0;
    for (;;) {
        p += tm_json__plain_run(p, (size_t)(end - p), 0);
        while (p < end && *p != '"' && *p != '\\')
            p++;
        if (p >= end)
            return NULL;
        if (*p == '"')
            return p;
        *escaped = 1;
        if (end - p < 2)
            return NULL;
        p += 2;
    }
}

/* Skip one value of any type at p; returns what follows it, or NULL. */
static const char *tm__skip_value(const char *p, const char *end)
{
    int depth = 0, escaped;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = tm__string_end(p + 1, end, &escaped);
            if (p == NULL)
                return NULL;
            p++;
        } else if (c == '{' || c == '[') {
            depth++;
            p++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return p; /* the end of the enclosing object */
            depth--;
            p++;
        } else if (c == ',' && depth == 0) {
            return p;
        } else {
            p++;
        }
        if (depth == 0 && (c == '"' || c == '}' || c == ']'))
            return p; /* a whole string, object or array */
    }
    return NULL;
}

/* Four hex digits at p as a code unit, or -1. */
static long tm__hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A \u escape at p (p[0] == '\\', p[1] == 'u') as UTF-8 at o, the way
 * cJSON decodes it: a surrogate pair makes one code point.  Returns the
 * escape's length in the input (6 or 12) and sets *olen, or 0 to decline:
 * bad hex digits (cJSON reads them as zero), U+0000, and lone surrogates
 * (cJSON rejects them) are left to cJSON. */
static size_t tm__unicode_escape(const char *p, const char *end, char *o, size_t *olen)
{
    if (end - p < 6)
        return 0;
    long cp = tm__hex4(p + 2);
    size_t used = 6;
    if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
            return 0;
        long lo = tm__hex4(p + 8);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
        used = 12;
    }
    *olen = (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)o);
    return used;
}

/* Decode the string whose body starts at p into dst (room for end - p
 * bytes: no escape decodes longer than it is written).  Raw bytes are
 * copied as they are, as cJSON does. */
static const char *tm__decode(const char *p, const char *end, char *dst, size_t *dlen)
{
    char *o = dst;
    for (;;) {
        size_t k = tm_json__plain_run(p, (size_t)(end - p), 0);
        memcpy(o, p, k);
        o += k;
        p += k;
        while (p < end && *p != '"' && *p != '\\')
            *o++ = *p++;
        if (p >= end)
            return NULL;
        if (*p == '"') {
            *dlen = (size_t)(o - dst);
            return p;
        }
        if (end - p < 2)
            return NULL;
        switch (p[1]) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            size_t olen = 0, used = tm__unicode_escape(p, end, o, &olen);
            if (used == 0)
                return NULL;
            o += olen;
            p += used;
            continue;
        }
        default: return NULL; /* invalid: cJSON reports it */
        }
        p += 2;
    }
}

int tm_jtext_find(const char *buf, size_t len, tm_jtext_t *out)
{
    const char *p = buf, *end = buf + len;
    p = tm__skip_ws(p, end);
    if (p >= end || *p != '{')
        return 0;
    p++;
    for (;;) {
        p = tm__skip_ws(p, end);
        if (p >= end || *p != '"')
            return 0; /* "}" (no text member) or malformed */
        int escaped;
        const char *kend = tm__string_end(p + 1, end, &escaped);
        if (kend == NULL || escaped)
            return 0; /* an escaped key might spell "text" */
        int is_text = kend - (p + 1) == 4 && memcmp(p + 1, "text", 4) == 0;
        p = tm__skip_ws(kend + 1, end);
        if (p >= end || *p != ':')
            return 0;
        p = tm__skip_ws(p + 1, end);
        if (is_text) {
            if (p >= end || *p != '"')
                return 0; /* not a string: cJSON reports what it is */
            /* The decoded text is never longer than what is left. */
            char *dst = malloc((size_t)(end - p));
            if (dst == NULL)
                return -1;
            size_t dlen = 0;
            const char *close = tm__decode(p + 1, end, dst, &dlen);
            if (close == NULL) {
                free(dst);
                return 0;
            }
            dst[dlen] = '\0';
            /* Give back the slack when the rest of the message was big. */
            if ((size_t)(end - p) - dlen > 4096) {
                char *shrunk = realloc(dst, dlen + 1);
                if (shrunk != NULL)
                    dst = shrunk;
            }
            out->lit_start = (size_t)(p - buf);
            out->lit_end = (size_t)(close + 1 - buf);
            out->text = dst;
            out->len = dlen;
            return 1;
        }
        p = tm__skip_value(p, end);
        if (p == NULL)
            return 0;
        p = tm__skip_ws(p, end);
        if (p >= end || *p != ',')
            return 0; /* the object ended without a text member, or malformed */
        p++;
    }
}

char *tm_jtext_rest(const char *buf, size_t len, const tm_jtext_t *j, size_t *rest_len)
{
    size_t tail = len - j->lit_end;
    size_t n = j->lit_start + 2 + tail;
    char *r = malloc(n + 1);
    if (r == NULL)
        return NULL;
    memcpy(r, buf, j->lit_start);
    r[j->lit_start] = '"';
    r[j->lit_start + 1] = '"';
    memcpy(r + j->lit_start + 2, buf + j->lit_end, tail);
    r[n] = '\0';
    *rest_len = n;
    return r;
}
