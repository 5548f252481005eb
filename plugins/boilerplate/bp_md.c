/*
 * bp_md.c - Markdown and format sniffing: reducing [text](url) links to
 * their text (images and autolinks dropped), link-density statistics, and
 * recognising text/plain documents that are really Markdown or HTML.
 */
#include "autoconfig.h"

#include <string.h>

#include "bp_doc.h"

#define BP_MD_TEXT_MAX 400
#define BP_MD_URL_MAX 2048

/* At s[i] == '[': find the link's parts.  Returns 1 with text [t0, t1) and
 * the whole link's end *end; 0 when this is no link. */
static int bp__md_link(const char *s, size_t n, size_t i, size_t *t0, size_t *t1, size_t *end)
{
    size_t j = i + 1, depth = 1;
    while (j < n && j - i < BP_MD_TEXT_MAX) {
        char c = s[j];
        if (c == '\n')
            return 0;
        if (c == '[')
            depth++;
        else if (c == ']' && --depth == 0)
            break;
        j++;
    }
    if (j >= n || s[j] != ']' || j + 1 >= n)
        return 0;
    *t0 = i + 1;
    *t1 = j;
    char open = s[j + 1], close;
    if (open == '(')
        close = ')';
    else if (open == '[')
        close = ']';
    else
        return 0;
    size_t k = j + 2, par = 1;
    while (k < n && k - j < BP_MD_URL_MAX) {
        char c = s[k];
        if (c == '\n' || (c == ' ' && open == '[' && 0))
            return 0;
        if (c == open && open == '(')
            par++;
        else if (c == close && --par == 0)
            break;
        k++;
    }
    if (k >= n || s[k] != close)
        return 0;
    *end = k + 1;
    return 1;
}

static int bp__autolink(const char *s, size_t n, size_t i, size_t *end)
{
    if (i + 8 >= n || (strncmp(s + i + 1, "http://", 7) != 0 && strncmp(s + i + 1, "https://", 8) != 0))
        return 0;
    for (size_t k = i + 1; k < n && k - i < BP_MD_URL_MAX; k++) {
        if (s[k] == '>') {
            *end = k + 1;
            return 1;
        }
        if (s[k] == ' ' || s[k] == '\n' || s[k] == '<')
            return 0;
    }
    return 0;
}

int bp_md_reduce(const char *s, size_t n, bp_buf_t *out)
{
    size_t i = 0, copied = 0;
    while (i < n) {
        const char *p = memchr(s + i, '[', n - i);
        const char *q = memchr(s + i, '<', n - i);
        if (p == NULL && q == NULL)
            break;
        size_t k = (p && (!q || p < q)) ? (size_t)(p - s) : (size_t)(q - s);
        size_t t0, t1, end;
        if (s[k] == '[' && bp__md_link(s, n, k, &t0, &t1, &end)) {
            int image = k > 0 && s[k - 1] == '!';
            if (bp_buf_put(out, s + copied, (image ? k - 1 : k) - copied) != 0)
                return -1;
            if (!image) {
                /* the text may itself hold links or an image */
                if (bp_md_reduce(s + t0, t1 - t0, out) != 0)
                    return -1;
            }
            copied = i = end;
            continue;
        }
        if (s[k] == '<' && bp__autolink(s, n, k, &end)) {
            if (bp_buf_put(out, s + copied, k - copied) != 0)
                return -1;
            copied = i = end;
            continue;
        }
        i = k + 1;
    }
    return bp_buf_put(out, s + copied, n - copied);
}

void bp_md_link_stats(const char *s, size_t n, size_t *link_bytes, size_t *links)
{
    size_t i = 0;
    *link_bytes = *links = 0;
    while (i < n) {
        const char *p = memchr(s + i, '[', n - i);
        if (p == NULL)
            break;
        size_t k = (size_t)(p - s), t0, t1, end;
        if (bp__md_link(s, n, k, &t0, &t1, &end)) {
            *link_bytes += end - k; /* the whole link counts as link text */
            (*links)++;
            i = end;
        } else {
            i = k + 1;
        }
    }
    /* autolinks */
    i = 0;
    while (i < n) {
        const char *q = memchr(s + i, '<', n - i);
        if (q == NULL)
            break;
        size_t k = (size_t)(q - s), end;
        if (bp__autolink(s, n, k, &end)) {
            *link_bytes += end - k;
            (*links)++;
            i = end;
        } else {
            i = k + 1;
        }
    }
}

int bp_sniff_markdown(const char *s, size_t n)
{
    size_t lim = n < 65536 ? n : 65536;
    size_t i = 0;
    while (i < lim) {
        const char *p = memchr(s + i, '[', lim - i);
        if (p == NULL)
            break;
        size_t k = (size_t)(p - s), t0, t1, end;
        if (bp__md_link(s, lim, k, &t0, &t1, &end) && s[t1 + 1] == '(')
            return 1;
        i = k + 1;
    }
    return 0;
}

static int bp__ieq(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n < l)
        return 0;
    for (size_t i = 0; i < l; i++)
        if (bp_ascii_lower((unsigned char)s[i]) != (unsigned char)lit[i])
            return 0;
    return 1;
}

int bp_sniff_html(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        i = 3;
    while (i < n && bp_is_ascii_space((unsigned char)s[i]))
        i++;
    if (i >= n || s[i] != '<')
        return 0;
    static const char *const starts[] = {"<!doctype html", "<html", "<head", "<body", "<!--",
                                         "<div", "<article", "<main", "<meta", "<?xml", "<p>",
                                         "<p ", "<section", "<table", "<title"};
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++)
        if (bp__ieq(s + i, n - i, starts[k])) {
            /* "<p>" residue in a plain text must not flip it: want a
             * closing tag somewhere too */
            size_t lim = n < 65536 ? n : 65536;
            for (size_t j = i; j + 1 < lim; j++)
                if (s[j] == '<' && s[j + 1] == '/')
                    return 1;
            return k < 4;
        }
    return 0;
}
