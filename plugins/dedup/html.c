/*
 * html.c - the visible text of a text/html document, parsed with gumbo:
 * text nodes in document order, a line break around block elements, and
 * nothing from script, style, template, noscript or head.  dedup compares
 * what a reader sees, so two copies of a story in different markup match.
 * (In the default pipeline the boilerplate stage has already turned HTML
 * into article text; this keeps dedup correct on its own.)
 */
#include "autoconfig.h"

#include "html.h"

#include <stdlib.h>
#include <string.h>

#include <gumbo.h>

static int dd__append(dd_scratch_t *s, const char *p, size_t n)
{
    if (dd_grow((void **)&s->html, &s->html_cap, s->html_len + n + 1, 1) != 0)
        return -1;
    memcpy(s->html + s->html_len, p, n);
    s->html_len += n;
    return 0;
}

static int dd__skip_tag(GumboTag t)
{
    return t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE || t == GUMBO_TAG_TEMPLATE ||
           t == GUMBO_TAG_NOSCRIPT || t == GUMBO_TAG_HEAD || t == GUMBO_TAG_IFRAME ||
           t == GUMBO_TAG_OBJECT || t == GUMBO_TAG_SVG || t == GUMBO_TAG_MATH;
}

static int dd__inline_tag(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_A: case GUMBO_TAG_ABBR: case GUMBO_TAG_B: case GUMBO_TAG_BDI:
    case GUMBO_TAG_BDO: case GUMBO_TAG_CITE: case GUMBO_TAG_CODE: case GUMBO_TAG_DATA:
    case GUMBO_TAG_DFN: case GUMBO_TAG_EM: case GUMBO_TAG_FONT: case GUMBO_TAG_I:
    case GUMBO_TAG_KBD: case GUMBO_TAG_MARK: case GUMBO_TAG_Q: case GUMBO_TAG_S:
    case GUMBO_TAG_SAMP: case GUMBO_TAG_SMALL: case GUMBO_TAG_SPAN: case GUMBO_TAG_STRIKE:
    case GUMBO_TAG_STRONG: case GUMBO_TAG_SUB: case GUMBO_TAG_SUP: case GUMBO_TAG_TIME:
    case GUMBO_TAG_TT: case GUMBO_TAG_U: case GUMBO_TAG_VAR: case GUMBO_TAG_WBR:
    case GUMBO_TAG_INS: case GUMBO_TAG_DEL:
        return 1;
    default:
        return 0;
    }
}

/* An explicit stack, so deeply nested markup cannot overflow ours. */
typedef struct dd_frame {
    const GumboNode *node;
    unsigned next;  /* next child to visit */
} dd_frame_t;

int dd_html_text(const char *html, size_t len, dd_scratch_t *s)
{
    s->html_len = 0;
    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors = 0; /* we do not read parse errors; do not collect them */
    GumboOutput *out = gumbo_parse_with_options(&opts, html, len);
    if (out == NULL)
        return -1;
    int rc = 0;
    size_t cap = 64, top = 0;
    dd_frame_t *st = malloc(cap * sizeof *st);
    if (st == NULL) {
        gumbo_destroy_output(&opts, out);
        return -1;
    }
    st[top++] = (dd_frame_t){out->root, 0};
    while (top > 0 && rc == 0) {
        dd_frame_t *f = &st[top - 1];
        const GumboNode *nd = f->node;
        if (nd->type == GUMBO_NODE_TEXT || nd->type == GUMBO_NODE_WHITESPACE ||
            nd->type == GUMBO_NODE_CDATA) {
            const char *txt = nd->v.text.text;
            rc = dd__append(s, txt, strlen(txt));
            top--;
            continue;
        }
        if (nd->type != GUMBO_NODE_ELEMENT && nd->type != GUMBO_NODE_DOCUMENT &&
            nd->type != GUMBO_NODE_TEMPLATE) {
            top--;
            continue;
        }
        const GumboVector *kids = nd->type == GUMBO_NODE_DOCUMENT ? &nd->v.document.children
                                                                   : &nd->v.element.children;
        int block = nd->type == GUMBO_NODE_ELEMENT && !dd__inline_tag(nd->v.element.tag);
        if (f->next == 0) {
            if (nd->type == GUMBO_NODE_TEMPLATE ||
                (nd->type == GUMBO_NODE_ELEMENT && dd__skip_tag(nd->v.element.tag))) {
                top--;
                continue;
            }
            if (block)
                rc = dd__append(s, "\n", 1);
        }
        if (f->next < kids->length) {
            const GumboNode *child = kids->data[f->next++];
            if (top == cap) {
                dd_frame_t *ns = realloc(st, cap * 2 * sizeof *st);
                if (ns == NULL) {
                    rc = -1;
                    break;
                }
                st = ns;
                cap *= 2;
            }
            st[top++] = (dd_frame_t){child, 0};
            continue;
        }
        if (block)
            rc = dd__append(s, "\n", 1);
        top--;
    }
    free(st);
    gumbo_destroy_output(&opts, out);
    return rc;
}
