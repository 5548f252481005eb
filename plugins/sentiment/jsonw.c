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

void jw_uint(jw_buf_t *b, uint64_t v)
{
    if (!jw_reserve(b, 20))
        return;
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
    o += tm_json_write_u32(o, s);
    memcpy(o, ",\"end\":", 7);
    o += 7;
    o += tm_json_write_u32(o, e);
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
