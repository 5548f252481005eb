/*
 * bp_meta.c - metadata recognisers shared by the text and HTML paths: date
 * lines (month names from the [@month] lists, ISO and numeric dates) and
 * wire-agency names (agencies.txt), plus the result helpers.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_doc.h"

static int bp__num(const char *text, const bp_tok_t *t, int *v)
{
    if (!(t->flags & BP_TF_DIGIT) || t->end - t->start > 4)
        return 0;
    int x = 0;
    for (uint32_t i = t->start; i < t->end; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < '0' || c > '9')
            return 0;
        x = x * 10 + (c - '0');
    }
    *v = x;
    return 1;
}

static int bp__year(int y) { return y >= 1900 && y <= 2100; }

int bp_meta_date(const bp_lex_t *lex, const char *text, const bp_tok_t *t, size_t n, char *iso,
                 size_t isolen)
{
    int year = 0, month = 0, day = 0;
    if (iso && isolen)
        iso[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int v;
        if (t[i].wi != UINT32_MAX && lex->winfo[t[i].wi].month && !month) {
            month = lex->winfo[t[i].wi].month;
            /* day right before ("18 Nov") or after ("Nov 18") */
            if (i + 1 < n && bp__num(text, &t[i + 1], &v) && v >= 1 && v <= 31 &&
                t[i + 1].end - t[i + 1].start <= 2)
                day = v;
            else if (i > 0 && bp__num(text, &t[i - 1], &v) && v >= 1 && v <= 31 &&
                     t[i - 1].end - t[i - 1].start <= 2)
                day = v;
            continue;
        }
        if (bp__num(text, &t[i], &v) && t[i].end - t[i].start == 4 && bp__year(v)) {
            /* 2018-10-24 */
            if (!year && i + 2 < n && text[t[i].end] == '-' && t[i + 1].start == t[i].end + 1) {
                int m2, d2;
                if (bp__num(text, &t[i + 1], &m2) && bp__num(text, &t[i + 2], &d2) && m2 >= 1 &&
                    m2 <= 12 && d2 >= 1 && d2 <= 31 && text[t[i + 1].end] == '-') {
                    year = v;
                    month = m2;
                    day = d2;
                    continue;
                }
            }
            if (!year)
                year = v;
            continue;
        }
        /* 24.10.2018, 10/24/2018 */
        if (i + 2 < n && !month && bp__num(text, &t[i], &v)) {
            int b2, c2;
            char sep = text[t[i].end];
            if ((sep == '.' || sep == '/') && t[i + 1].start == t[i].end + 1 &&
                bp__num(text, &t[i + 1], &b2) && text[t[i + 1].end] == sep &&
                t[i + 2].start == t[i + 1].end + 1 && bp__num(text, &t[i + 2], &c2) &&
                t[i + 2].end - t[i + 2].start == 4 && bp__year(c2)) {
                year = c2;
                if (sep == '/' && v <= 12) {
                    month = v;
                    day = b2;
                } else {
                    day = v;
                    month = b2;
                }
                if (month < 1 || month > 12 || day < 1 || day > 31)
                    month = day = 0, year = 0;
                else
                    i += 2;
            }
        }
    }
    /* "May" and "March" are words too: a month name needs a day next to it,
     * or a year in a short line */
    int ok = (month && day) || (month && year && n <= 6);
    if (ok && iso && year && month && day)
        snprintf(iso, isolen, "%04d-%02d-%02d", year, month, day);
    return ok;
}

int bp_meta_agency(const bp_lex_t *lex, const bp_tok_t *t, size_t n, bp_buf_t *out)
{
    if (lex->agencies.n == 0)
        return 0;
    int best = -1;
    size_t bestlen = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = 0x9E3779B97F4A7C15ull;
        for (size_t k = 0; k < 5 && i + k < n; k++) {
            key = (key ^ t[i + k].h) * 0x100000001B3ull;
            uint64_t kk = key ? key : 1;
            uint32_t *v = bp_map_get(&lex->agencies, kk);
            if (v != NULL && k + 1 > bestlen) {
                best = (int)*v;
                bestlen = k + 1;
            }
        }
    }
    if (best < 0)
        return 0;
    const char *name = lex->agency_names[best];
    /* "Reuters = Reuters" lines may carry a display name after "=" */
    const char *eq = strchr(name, '=');
    if (eq != NULL) {
        name = eq + 1;
        while (*name == ' ')
            name++;
    }
    return bp_result_set(out, name, strlen(name)) == 0;
}

/* ---- results ---- */

void bp_result_reset(bp_result_t *r)
{
    r->out.len = 0;
    if (r->out.p)
        r->out.p[0] = '\0';
    r->nspans = 0;
    r->removed_bytes = 0;
    r->truncated = 0;
    r->title.len = r->byline.len = r->published.len = r->syndicated.len = r->lang.len = 0;
    r->published_iso[0] = '\0';
    r->path = NULL;
}

void bp_result_free(bp_result_t *r)
{
    bp_buf_free(&r->out);
    free(r->spans);
    bp_buf_free(&r->title);
    bp_buf_free(&r->byline);
    bp_buf_free(&r->published);
    bp_buf_free(&r->syndicated);
    bp_buf_free(&r->lang);
    memset(r, 0, sizeof *r);
}

int bp_result_span(bp_result_t *r, const bp_conf_t *c, uint32_t start, uint32_t end, int kind)
{
    (void)c;
    if (end <= start)
        return 0;
    if (bp_grow(&r->spans, &r->capspans, r->nspans + 1, sizeof *r->spans) != 0)
        return -1;
    r->spans[r->nspans].start = start;
    r->spans[r->nspans].end = end;
    r->spans[r->nspans].kind = kind;
    r->nspans++;
    return 0;
}

static int bp__span_cmp(const void *a, const void *b)
{
    const bp_span_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1; /* the enclosing span first */
    return 0;
}

void bp_result_finish(bp_result_t *r, const bp_conf_t *c)
{
    if (r->nspans > 1)
        qsort(r->spans, r->nspans, sizeof *r->spans, bp__span_cmp);
    size_t o = 0;
    r->removed_bytes = 0;
    for (size_t i = 0; i < r->nspans; i++) {
        bp_span_t s = r->spans[i];
        if (o > 0) {
            bp_span_t *p = &r->spans[o - 1];
            if (s.end <= p->end)
                continue; /* inside the previous span */
            if (s.start < p->end)
                s.start = p->end;
            if (p->kind == s.kind && s.start - p->end <= 8) {
                r->removed_bytes += s.end - p->end;
                p->end = s.end;
                continue;
            }
        }
        r->spans[o++] = s;
        r->removed_bytes += s.end - s.start;
    }
    r->nspans = o;
    if (c->max_spans >= 0 && r->nspans > (size_t)c->max_spans) {
        r->nspans = (size_t)c->max_spans;
        r->truncated = 1;
    }
}

int bp_result_set(bp_buf_t *b, const char *s, size_t n)
{
    b->len = 0;
    while (n && bp_is_ascii_space((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && bp_is_ascii_space((unsigned char)s[n - 1]))
        n--;
    if (n > 512) {
        n = 512; /* do not cut a UTF-8 sequence */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (bp_buf_reserve(b, n) != 0)
        return -1;
    int sp = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (bp_is_ascii_space(c)) {
            sp = 1;
            continue;
        }
        if (sp && b->len)
            b->p[b->len++] = ' ';
        sp = 0;
        b->p[b->len++] = (char)c;
    }
    b->p[b->len] = '\0';
    return 0;
}
