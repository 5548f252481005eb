/*
 * bp_html_pre.c - the HTML pre-pass, run before gumbo sees a page.  One
 * linear scan over the bytes that:
 *   - drops what never holds article text: comments, <script>, <style>,
 *     <noscript>, <template>, <svg>, <iframe>, <select>, <textarea>,
 *     <object>, <canvas> (JSON-LD scripts are kept aside for metadata);
 *   - drops inline formatting tags (<b>, <i>, <em>, <strong>, <font>, ...):
 *     they carry no extraction signal, and the HTML5 "active formatting
 *     elements" rules can turn a few thousand of them into millions of
 *     nodes;
 *   - keeps only the attributes extraction reads (id, class, role, href,
 *     itemprop, hidden, aria-hidden, datetime, name/property/content, rel,
 *     lang) and turns an inline display:none into "hidden";
 *   - bounds element nesting: start tags beyond max_depth (an estimate that
 *     follows end tags and the implied ends of p/li/td/...) are dropped, and
 *     once the parser's work (the sum of depths over start tags) passes a
 *     budget linear in the input, further tags are flattened.  gumbo's tree
 *     construction costs O(depth) per tag, so this keeps parsing linear and
 *     the later tree walks shallow;
 *   - records where each output byte came from, so element positions
 *     reported by gumbo map back to offsets in the input.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "bp_html.h"

static int bp__ieq(const char *a, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bp_ascii_lower((unsigned char)a[i]) != (unsigned char)lit[i])
            return 0;
    return 1;
}

/* Find "</name" (case-insensitive) at or after i; returns its position or n. */
static size_t bp__find_end_tag(const char *s, size_t n, size_t i, const char *name, size_t nl)
{
    while (i < n) {
        const char *p = memchr(s + i, '<', n - i);
        if (p == NULL)
            return n;
        size_t k = (size_t)(p - s);
        if (k + 2 + nl <= n && s[k + 1] == '/' && bp__ieq(s + k + 2, name, nl)) {
            unsigned char c = k + 2 + nl < n ? (unsigned char)s[k + 2 + nl] : '>';
            if (c == '>' || c == '/' || bp_is_ascii_space(c))
                return k;
        }
        i = k + 1;
    }
    return n;
}

/* Skip a tag's attributes from i (just after the name) to just after '>'.
 * Honors quoted values.  Returns the position after '>' (or n). */
static size_t bp__tag_end(const char *s, size_t n, size_t i)
{
    while (i < n) {
        char c = s[i];
        if (c == '>')
            return i + 1;
        if (c == '"' || c == '\'') {
            const char *q = memchr(s + i + 1, c, n - i - 1);
            if (q == NULL)
                return n;
            i = (size_t)(q - s) + 1;
            continue;
        }
        i++;
    }
    return n;
}

static int bp__map_add(bp_htmlpre_t *p, size_t out, size_t in)
{
    if (p->nmap > 0 && p->map[p->nmap - 1].out == out) {
        p->map[p->nmap - 1].in = in;
        return 0;
    }
    if (bp_grow(&p->map, &p->capmap, p->nmap + 1, sizeof *p->map) != 0)
        return -1;
    p->map[p->nmap].out = out;
    p->map[p->nmap].in = in;
    p->nmap++;
    return 0;
}

size_t bp_htmlpre_map(const bp_htmlpre_t *p, size_t out)
{
    if (p->nmap == 0)
        return out;
    size_t lo = 0, hi = p->nmap;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (p->map[mid].out <= out)
            lo = mid;
        else
            hi = mid;
    }
    size_t in = p->map[lo].in + (out - p->map[lo].out);
    if (lo + 1 < p->nmap && in > p->map[lo + 1].in)
        in = p->map[lo + 1].in;
    if (in > p->in_len)
        in = p->in_len;
    return in;
}

/* Copy input bytes [a, b) verbatim. */
static int bp__copy(bp_htmlpre_t *p, const char *s, size_t a, size_t b)
{
    if (b <= a)
        return 0;
    if (bp__map_add(p, p->out.len, a) != 0)
        return -1;
    return bp_buf_put(&p->out, s + a, b - a);
}

enum {
    BP_T_DROP_ALL = 1,  /* element with content removed */
    BP_T_DROP_TAG = 2,  /* tag removed, content kept */
    BP_T_VOID = 4,
    BP_T_RAWTEXT = 8,   /* content is raw text (title) */
    BP_T_BLOCK = 16,    /* closes an open <p> */
    BP_T_SELFCLOSE_SIB = 32, /* implied end by a sibling of the same name */
};

typedef struct bp_tagdef {
    const char *name;
    unsigned flags;
} bp_tagdef_t;

static const bp_tagdef_t bp__tags[] = {
    {"script", BP_T_DROP_ALL}, {"style", BP_T_DROP_ALL}, {"noscript", BP_T_DROP_ALL},
    {"template", BP_T_DROP_ALL}, {"svg", BP_T_DROP_ALL}, {"iframe", BP_T_DROP_ALL},
    {"select", BP_T_DROP_ALL}, {"textarea", BP_T_DROP_ALL}, {"object", BP_T_DROP_ALL},
    {"canvas", BP_T_DROP_ALL}, {"math", BP_T_DROP_ALL}, {"noembed", BP_T_DROP_ALL},
    {"noframes", BP_T_DROP_ALL}, {"xmp", BP_T_DROP_ALL}, {"video", BP_T_DROP_ALL},
    {"audio", BP_T_DROP_ALL}, {"button", BP_T_DROP_ALL},
    {"b", BP_T_DROP_TAG}, {"i", BP_T_DROP_TAG}, {"em", BP_T_DROP_TAG},
    {"strong", BP_T_DROP_TAG}, {"u", BP_T_DROP_TAG}, {"s", BP_T_DROP_TAG},
    {"strike", BP_T_DROP_TAG}, {"font", BP_T_DROP_TAG}, {"small", BP_T_DROP_TAG},
    {"big", BP_T_DROP_TAG}, {"tt", BP_T_DROP_TAG}, {"nobr", BP_T_DROP_TAG},
    {"mark", BP_T_DROP_TAG}, {"abbr", BP_T_DROP_TAG}, {"sub", BP_T_DROP_TAG},
    {"sup", BP_T_DROP_TAG}, {"ins", BP_T_DROP_TAG}, {"del", BP_T_DROP_TAG},
    {"code", BP_T_DROP_TAG}, {"kbd", BP_T_DROP_TAG}, {"var", BP_T_DROP_TAG},
    {"samp", BP_T_DROP_TAG}, {"dfn", BP_T_DROP_TAG}, {"bdi", BP_T_DROP_TAG},
    {"bdo", BP_T_DROP_TAG}, {"wbr", BP_T_DROP_TAG}, {"blink", BP_T_DROP_TAG},
    {"center", BP_T_DROP_TAG}, {"acronym", BP_T_DROP_TAG},
    {"br", BP_T_VOID}, {"img", BP_T_VOID}, {"hr", BP_T_VOID | BP_T_BLOCK},
    {"meta", BP_T_VOID}, {"link", BP_T_VOID}, {"input", BP_T_VOID}, {"area", BP_T_VOID},
    {"base", BP_T_VOID}, {"col", BP_T_VOID}, {"embed", BP_T_VOID}, {"param", BP_T_VOID},
    {"source", BP_T_VOID}, {"track", BP_T_VOID}, {"keygen", BP_T_VOID},
    {"image", BP_T_VOID}, {"frame", BP_T_VOID},
    {"title", BP_T_RAWTEXT},
    {"p", BP_T_BLOCK | BP_T_SELFCLOSE_SIB}, {"li", BP_T_BLOCK | BP_T_SELFCLOSE_SIB},
    {"dt", BP_T_BLOCK | BP_T_SELFCLOSE_SIB}, {"dd", BP_T_BLOCK | BP_T_SELFCLOSE_SIB},
    {"tr", BP_T_SELFCLOSE_SIB}, {"td", BP_T_SELFCLOSE_SIB}, {"th", BP_T_SELFCLOSE_SIB},
    {"option", BP_T_SELFCLOSE_SIB},
    {"div", BP_T_BLOCK}, {"ul", BP_T_BLOCK}, {"ol", BP_T_BLOCK}, {"dl", BP_T_BLOCK},
    {"h1", BP_T_BLOCK}, {"h2", BP_T_BLOCK}, {"h3", BP_T_BLOCK}, {"h4", BP_T_BLOCK},
    {"h5", BP_T_BLOCK}, {"h6", BP_T_BLOCK}, {"table", BP_T_BLOCK}, {"blockquote", BP_T_BLOCK},
    {"pre", BP_T_BLOCK}, {"section", BP_T_BLOCK}, {"article", BP_T_BLOCK},
    {"aside", BP_T_BLOCK}, {"header", BP_T_BLOCK}, {"footer", BP_T_BLOCK},
    {"nav", BP_T_BLOCK}, {"figure", BP_T_BLOCK}, {"form", BP_T_BLOCK},
    {"main", BP_T_BLOCK}, {"address", BP_T_BLOCK}, {"fieldset", BP_T_BLOCK},
    {"details", BP_T_BLOCK}, {"menu", BP_T_BLOCK}, {"figcaption", BP_T_BLOCK},
};

static unsigned bp__tag_flags(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof bp__tags / sizeof bp__tags[0]; i++) {
        const char *t = bp__tags[i].name;
        if (strlen(t) == n && bp__ieq(name, t, n))
            return bp__tags[i].flags;
    }
    return 0;
}

static uint64_t bp__name_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ bp_ascii_lower((unsigned char)s[i])) * 1099511628211ull;
    return h ? h : 1;
}

/* Attributes kept, and how. */
static int bp__attr_kept(const char *a, size_t n)
{
    static const char *const keep[] = {"id",      "class", "role",     "href",     "itemprop",
                                       "hidden",  "aria-hidden", "datetime", "name", "property",
                                       "content", "rel",   "lang",     "itemtype", "type"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strlen(keep[i]) == n && bp__ieq(a, keep[i], n))
            return 1;
    return 0;
}

static int bp__style_hidden(const char *v, size_t n)
{
    /* display:none / visibility:hidden, spaces allowed */
    char buf[256];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof buf; i++) {
        unsigned char c = (unsigned char)v[i];
        if (bp_is_ascii_space(c))
            continue;
        buf[k++] = (char)bp_ascii_lower(c);
    }
    buf[k] = '\0';
    return strstr(buf, "display:none") != NULL || strstr(buf, "visibility:hidden") != NULL;
}

/* Re-emit a start tag <name attrs> with only the kept attributes.  s[i] is
 * just after the name; returns the position after '>'. */
static size_t bp__emit_start(bp_htmlpre_t *p, const char *s, size_t n, size_t tag0,
                             size_t name0, size_t name1, size_t i, int *ok)
{
    *ok = 0;
    if (bp__map_add(p, p->out.len, tag0) != 0 || bp_buf_putc(&p->out, '<') != 0 ||
        bp_buf_put(&p->out, s + name0, name1 - name0) != 0)
        return n;
    int selfclose = 0;
    while (i < n) {
        while (i < n && (bp_is_ascii_space((unsigned char)s[i]) || s[i] == '/')) {
            selfclose = s[i] == '/';
            i++;
        }
        if (i >= n)
            break;
        if (s[i] == '>') {
            i++;
            break;
        }
        selfclose = 0;
        size_t a0 = i;
        while (i < n && s[i] != '=' && s[i] != '>' && s[i] != '/' &&
               !bp_is_ascii_space((unsigned char)s[i]))
            i++;
        size_t a1 = i;
        if (a1 == a0) { /* stray '=' etc. */
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && bp_is_ascii_space((unsigned char)s[j]))
            j++;
        size_t v0 = 0, v1 = 0;
        int has_val = 0;
        if (j < n && s[j] == '=') {
            j++;
            while (j < n && bp_is_ascii_space((unsigned char)s[j]))
                j++;
            if (j < n && (s[j] == '"' || s[j] == '\'')) {
                char q = s[j];
                const char *e = memchr(s + j + 1, q, n - j - 1);
                v0 = j + 1;
                v1 = e ? (size_t)(e - s) : n;
                i = e ? v1 + 1 : n;
            } else {
                v0 = j;
                while (j < n && !bp_is_ascii_space((unsigned char)s[j]) && s[j] != '>')
                    j++;
                v1 = j;
                i = j;
            }
            has_val = 1;
        }
        size_t an = a1 - a0;
        if (an == 5 && bp__ieq(s + a0, "style", 5)) {
            if (has_val && bp__style_hidden(s + v0, v1 - v0) &&
                bp_buf_put(&p->out, " hidden", 7) != 0)
                return n;
            continue;
        }
        if (!bp__attr_kept(s + a0, an))
            continue;
        if (bp_buf_putc(&p->out, ' ') != 0 || bp_buf_put(&p->out, s + a0, an) != 0)
            return n;
        if (has_val) {
            if (bp_buf_put(&p->out, "=\"", 2) != 0)
                return n;
            size_t lim = v1 - v0 > 2048 ? 2048 : v1 - v0;
            for (size_t k = v0; k < v0 + lim; k++) {
                char c = s[k];
                if (c == '"') {
                    if (bp_buf_put(&p->out, "&quot;", 6) != 0)
                        return n;
                } else if (bp_buf_putc(&p->out, c) != 0) {
                    return n;
                }
            }
            if (bp_buf_putc(&p->out, '"') != 0)
                return n;
        }
    }
    if (selfclose && bp_buf_putc(&p->out, '/') != 0)
        return n;
    if (bp_buf_putc(&p->out, '>') != 0)
        return n;
    *ok = 1;
    return i;
}

static int bp__push(bp_htmlpre_t *p, uint64_t h, unsigned flags)
{
    if (bp_grow(&p->stack, &p->capstack, p->depth + 1, sizeof *p->stack) != 0)
        return -1;
    p->stack[p->depth].h = h;
    p->stack[p->depth].flags = flags;
    p->depth++;
    return 0;
}

/* Pop to (and including) the nearest open element named h within the top
 * few entries.  Returns 1 when found. */
static int bp__pop_to(bp_htmlpre_t *p, uint64_t h, size_t window)
{
    size_t lim = p->depth > window ? p->depth - window : 0;
    for (size_t k = p->depth; k > lim; k--) {
        if (p->stack[k - 1].h == h) {
            p->depth = k - 1;
            return 1;
        }
    }
    return 0;
}

/* The implied end of p/li/dt/dd/tr/td/th/option by a sibling start tag:
 * pop to the nearest open element named h within the top few entries, but
 * never across a container (ul, ol, table, section, ...; p and div are
 * crossed as the HTML5 rules for li do), because then the new tag nests
 * inside that container instead of closing anything. */
static void bp__pop_sib(bp_htmlpre_t *p, uint64_t h, uint64_t h_p, uint64_t h_div, size_t window)
{
    size_t lim = p->depth > window ? p->depth - window : 0;
    for (size_t k = p->depth; k > lim; k--) {
        if (p->stack[k - 1].h == h) {
            p->depth = k - 1;
            return;
        }
        if ((p->stack[k - 1].flags & BP_T_BLOCK) && p->stack[k - 1].h != h_p &&
            p->stack[k - 1].h != h_div)
            return;
    }
}

static int bp__capture_jsonld(bp_htmlpre_t *p, const char *s, size_t a, size_t b)
{
    if (p->jsonld.len > 256 * 1024)
        return 0;
    if (bp_buf_put(&p->jsonld, s + a, b - a) != 0 || bp_buf_putc(&p->jsonld, '\x1e') != 0)
        return -1;
    return 0;
}

int bp_htmlpre_run(bp_htmlpre_t *p, const char *s, size_t n, int max_depth)
{
    p->out.len = 0;
    p->nmap = 0;
    p->depth = 0;
    p->jsonld.len = 0;
    p->in_len = n;
    p->flattened = 0;
    p->dropped_tags = 0;
    if (bp_buf_reserve(&p->out, n / 2 + 64) != 0)
        return -1;
    uint64_t h_p = bp__name_hash("p", 1), h_div = bp__name_hash("div", 3);
    /* work budget for the tree builder: sum of depths over start tags */
    uint64_t work = 0, budget = 16 * (uint64_t)n + 100000;
    size_t i = 0, copied = 0;
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i);
        if (lt == NULL)
            break;
        size_t k = (size_t)(lt - s);
        if (k + 1 >= n)
            break;
        char c1 = s[k + 1];
        /* comments, doctype, CDATA, processing instructions */
        if (c1 == '!' || c1 == '?') {
            size_t end;
            if (k + 3 < n && s[k + 2] == '-' && s[k + 3] == '-') {
                const char *e = memmem(s + k + 4, n - k - 4, "-->", 3);
                end = e ? (size_t)(e - s) + 3 : n;
            } else {
                const char *e = memchr(s + k, '>', n - k);
                end = e ? (size_t)(e - s) + 1 : n;
            }
            /* keep the doctype (it sets the parser's mode) */
            if (c1 == '!' && k + 9 <= n && bp__ieq(s + k + 2, "doctype", 7)) {
                i = end;
                continue;
            }
            if (bp__copy(p, s, copied, k) != 0)
                return -1;
            copied = i = end;
            continue;
        }
        int endtag = c1 == '/';
        size_t name0 = k + 1 + (endtag ? 1 : 0), name1 = name0;
        while (name1 < n && ((s[name1] >= 'a' && s[name1] <= 'z') ||
                             (s[name1] >= 'A' && s[name1] <= 'Z') ||
                             (s[name1] >= '0' && s[name1] <= '9') || s[name1] == '-' ||
                             s[name1] == ':'))
            name1++;
        if (name1 == name0 || !((s[name0] | 0x20) >= 'a' && (s[name0] | 0x20) <= 'z')) {
            i = k + 1; /* a literal '<' */
            continue;
        }
        size_t nl = name1 - name0;
        unsigned f = bp__tag_flags(s + name0, nl);
        size_t tend = bp__tag_end(s, n, name1);
        if (bp__copy(p, s, copied, k) != 0)
            return -1;
        copied = tend;
        i = tend;
        if (f & BP_T_DROP_ALL) {
            if (endtag)
                continue;
            /* JSON-LD is metadata */
            if (nl == 6 && bp__ieq(s + name0, "script", 6)) {
                size_t e = bp__find_end_tag(s, n, tend, "script", 6);
                const char *ld = NULL;
                for (size_t q = name1; q + 19 < tend; q++)
                    if (bp_ascii_lower((unsigned char)s[q]) == 'a' &&
                        bp__ieq(s + q, "application/ld+json", 19)) {
                        ld = s + q;
                        break;
                    }
                if (ld != NULL && bp__capture_jsonld(p, s, tend, e) != 0)
                    return -1;
                const char *gt = e < n ? memchr(s + e, '>', n - e) : NULL;
                copied = i = gt ? (size_t)(gt - s) + 1 : n;
                continue;
            }
            char lname[16];
            size_t ln = nl < sizeof lname ? nl : sizeof lname - 1;
            for (size_t q = 0; q < ln; q++)
                lname[q] = (char)bp_ascii_lower((unsigned char)s[name0 + q]);
            lname[ln] = '\0';
            /* self-closed (<svg/>, <iframe/>) has no content */
            if (tend >= 2 && s[tend - 2] == '/')
                continue;
            size_t e = bp__find_end_tag(s, n, tend, lname, ln);
            const char *gt = e < n ? memchr(s + e, '>', n - e) : NULL;
            copied = i = gt ? (size_t)(gt - s) + 1 : n;
            continue;
        }
        if (f & BP_T_DROP_TAG) {
            p->dropped_tags++;
            continue;
        }
        uint64_t h = bp__name_hash(s + name0, nl);
        if (endtag) {
            if (p->flattened || (f & BP_T_VOID))
                continue;
            if (bp__pop_to(p, h, 64)) {
                if (bp__map_add(p, p->out.len, k) != 0 || bp_buf_put(&p->out, s + k, name1 - k) != 0 ||
                    bp_buf_putc(&p->out, '>') != 0)
                    return -1;
            }
            continue;
        }
        /* start tag */
        if (f & BP_T_RAWTEXT) {
            /* <title>: copy through its end tag verbatim */
            size_t e = bp__find_end_tag(s, n, tend, "title", 5);
            const char *gt = e < n ? memchr(s + e, '>', n - e) : NULL;
            size_t stop = gt ? (size_t)(gt - s) + 1 : n;
            if (bp__copy(p, s, k, stop) != 0)
                return -1;
            copied = i = stop;
            continue;
        }
        if (p->flattened) {
            /* past the budget: a block tag becomes a line break */
            if ((f & BP_T_BLOCK) || (f & BP_T_SELFCLOSE_SIB)) {
                if (bp__map_add(p, p->out.len, k) != 0 || bp_buf_put(&p->out, "<br>", 4) != 0)
                    return -1;
            }
            continue;
        }
        if (!(f & BP_T_VOID)) {
            if (f & BP_T_SELFCLOSE_SIB)
                bp__pop_sib(p, h, h_p, h_div, 3);
            if ((f & BP_T_BLOCK) && p->depth > 0 && p->stack[p->depth - 1].h == h_p)
                p->depth--;
            if (p->depth >= (size_t)max_depth) {
                p->dropped_tags++;
                continue;
            }
            work += p->depth + 1;
            if (work > budget) {
                p->flattened = 1;
                continue;
            }
        }
        int ok;
        size_t after = bp__emit_start(p, s, n, k, name0, name1, name1, &ok);
        if (!ok)
            return -1;
        (void)after;
        /* <plaintext> swallows the rest of the document as text */
        if (nl == 9 && bp__ieq(s + name0, "plaintext", 9)) {
            if (bp__copy(p, s, tend, n) != 0)
                return -1;
            copied = i = n;
            break;
        }
        if (!(f & BP_T_VOID) && bp__push(p, h, f) != 0)
            return -1;
    }
    if (bp__copy(p, s, copied, n) != 0)
        return -1;
    return 0;
}

void bp_htmlpre_free(bp_htmlpre_t *p)
{
    bp_buf_free(&p->out);
    bp_buf_free(&p->jsonld);
    free(p->map);
    free(p->stack);
    memset(p, 0, sizeof *p);
}
