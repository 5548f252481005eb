/*
 * jsonw.c - the append-only JSON writer (see jsonw.h).
 */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <textmill/json.h>

void jw_free(jw_buf_t *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

int jw__grow(jw_buf_t *b, size_t n)
{
    if (b->oom)
        return 0;
    size_t need = b->len + n + 1, nc = b->cap ? b->cap : 256;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) {
            b->oom = 1;
            return 0;
        }
        nc *= 2;
    }
    char *ns = realloc(b->s, nc);
    if (ns == NULL) {
        b->oom = 1;
        return 0;
    }
    b->s = ns;
    b->cap = nc;
    return 1;
}

/* v in decimal at o; returns the digits written.  The offsets the stage
 * writes fit in 32 bits: their digits are counted by comparison (no loop)
 * and made two at a time. */
static size_t jw__u32(char *o, uint32_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    size_t nd = v < 100 ? (v < 10 ? 1 : 2)
                : v < 10000 ? (v < 1000 ? 3 : 4)
                : v < 1000000 ? (v < 100000 ? 5 : 6)
                : v < 100000000 ? (v < 10000000 ? 7 : 8)
                : v < 1000000000 ? 9 : 10;
    char *p = o + nd;
    while (v >= 100) {
        uint32_t r = v % 100;
        v /= 100;
        p -= 2;
        memcpy(p, pairs + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(p - 2, pairs + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return nd;
}

void jw_uint(jw_buf_t *b, uint64_t v)
{
    if (!jw_reserve(b, 20))
        return;
    if (v <= UINT32_MAX)
        b->len += jw__u32(b->s + b->len, (uint32_t)v);
    else
        b->len += tm_json_write_u64(b->s + b->len, v);
}

void jw_span_open(jw_buf_t *b, uint32_t s, uint32_t e)
{
    /* 9 + 10 + 7 + 10 bytes at most */
    if (!jw_reserve(b, 40))
        return;
    char *o = b->s + b->len;
    memcpy(o, "{\"start\":", 9);
    o += 9;
    o += jw__u32(o, s);
    memcpy(o, ",\"end\":", 7);
    o += 7;
    o += jw__u32(o, e);
    b->len = (size_t)(o - b->s);
}

void jw_num4(jw_buf_t *b, double v)
{
    if (!isfinite(v))
        v = 0;
    if (fabs(v) >= 1e14) { /* not reached by scores; keep it exact anyway */
        char tmp[40];
        int n = snprintf(tmp, sizeof tmp, "%.17g", v);
        jw_lit(b, tmp, n > 0 ? (size_t)n : 0);
        return;
    }
    double r = round(v * 10000.0);
    if (r == 0) {
        jw_char(b, '0');
        return;
    }
    if (r < 0) {
        jw_char(b, '-');
        r = -r;
    }
    uint64_t u = (uint64_t)r, ip = u / 10000;
    unsigned frac = (unsigned)(u % 10000);
    jw_uint(b, ip);
    if (frac == 0)
        return;
    char d[5] = {'.', (char)('0' + frac / 1000), (char)('0' + frac / 100 % 10),
                 (char)('0' + frac / 10 % 10), (char)('0' + frac % 10)};
    size_t n = 5;
    while (d[n - 1] == '0')
        n--;
    jw_lit(b, d, n);
}

void jw_numg(jw_buf_t *b, double v)
{
    if (!isfinite(v))
        v = 0;
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.9g", v);
    jw_lit(b, tmp, n > 0 ? (size_t)n : 0);
}

void jw_str(jw_buf_t *b, const char *s, size_t n)
{
    if (!jw_reserve(b, n * 6 + 2))
        return;
    b->len += tm_json_write_string(b->s + b->len, s, n);
}

cJSON *jw_item(jw_buf_t *b, int parse)
{
    if (b->oom || !jw_reserve(b, 0))
        return NULL;
    b->s[b->len] = '\0';
    return parse ? cJSON_ParseWithLength(b->s, b->len) : cJSON_CreateRaw(b->s);
}
