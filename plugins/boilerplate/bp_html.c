/*
 * bp_html.c - the HTML path: parse the pre-passed page with gumbo, compute
 * per-element DOM features (text and link-text length, commas, paragraph
 * and image counts, class/id/role hints, tag), drop page furniture (nav,
 * footer, aside, forms, hidden elements, share/cookie/newsletter/comment/
 * related blocks named by their class or id), pick the main content the way
 * Readability does (paragraph scores propagated to ancestors, damped by link
 * density, plus qualifying siblings), clean it conditionally, and emit its
 * text with paragraph breaks.  The emitted paragraphs then go through the
 * phrase patterns of the text path ("Advertisement", "Read more: ...").
 *
 * Every tree walk uses an explicit stack or a flat pre-order array: the
 * pre-pass bounds depth, but nothing here relies on it.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <gumbo.h>

#include "bp_doc.h"
#include "bp_html.h"

enum bp_hflags {
    HF_DROP = 1,      /* removed with its subtree (decided while walking) */
    HF_UNLIKELY = 2,  /* class/id hints say furniture */
    HF_PARA = 4,      /* a paragraph-like element */
    HF_KEEP = 8,      /* inside the chosen content */
    HF_BLOCK = 16,    /* a block-level element (breaks paragraphs) */
    HF_CLEANED = 32,  /* removed by conditional cleaning */
    HF_LINK = 64,     /* an <a> */
    HF_HEADING = 128, /* h1-h6 */
};

typedef struct bp_hnode {
    GumboNode *node;
    int32_t parent;
    int32_t end;       /* one past the last descendant in pre-order */
    uint32_t text, link, commas, own;
    uint16_t np, nimg, nli, ninput, nemb, nhead;
    uint32_t flags;
    int hint;          /* class/id/role score */
    int kind;          /* removal kind when dropped */
    float score;
    uint8_t scored;
} bp_hnode_t;

typedef struct bp_pblock {
    uint32_t out0, out1;  /* bytes of the output */
    int32_t node;         /* source element */
    uint32_t link;        /* link text bytes */
} bp_pblock_t;

typedef struct bp_hscratch {
    bp_htmlpre_t pre;
    bp_hnode_t *nodes;
    size_t nnodes, capnodes;
    struct bp_stk {
        GumboNode *n;
        int32_t parent;
        uint8_t exit;
        uint8_t in_link;
    } *stk;
    size_t capstk;
    bp_pblock_t *pb;
    size_t npb, cappb;
    unsigned char *seen;
    size_t capseen;
    bp_map_t recs;      /* GumboNode pointer -> record index + 1 */
    bp_buf_t text;
} bp_hscratch_t;

void bp_html_scratch_free(void *p)
{
    bp_hscratch_t *h = p;
    if (h == NULL)
        return;
    bp_htmlpre_free(&h->pre);
    free(h->nodes);
    free(h->stk);
    free(h->pb);
    free(h->seen);
    bp_map_free(&h->recs);
    bp_buf_free(&h->text);
    free(h);
}

/* ---- attributes ---- */

static const char *bp__attr(const GumboNode *n, const char *name)
{
    const GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, name);
    return a != NULL ? a->value : NULL;
}

static int bp__is_block(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_H1: case GUMBO_TAG_H2:
    case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
    case GUMBO_TAG_LI: case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_DL:
    case GUMBO_TAG_DT: case GUMBO_TAG_DD: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_PRE:
    case GUMBO_TAG_TABLE: case GUMBO_TAG_TR: case GUMBO_TAG_TBODY: case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TFOOT: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_MAIN:
    case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER: case GUMBO_TAG_NAV: case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FORM: case GUMBO_TAG_BR:
    case GUMBO_TAG_HR: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_BODY: case GUMBO_TAG_HTML:
    case GUMBO_TAG_CAPTION: case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_FIELDSET: case GUMBO_TAG_CENTER: case GUMBO_TAG_MENU:
        return 1;
    default:
        return 0;
    }
}

static int bp__is_heading(GumboTag t)
{
    return t == GUMBO_TAG_H1 || t == GUMBO_TAG_H2 || t == GUMBO_TAG_H3 || t == GUMBO_TAG_H4 ||
           t == GUMBO_TAG_H5 || t == GUMBO_TAG_H6;
}

/* Tags dropped with their subtree, and the kind they count as. */
static int bp__tag_drop(const bp_conf_t *c, GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_NAV: return c->k.navigation;
    case GUMBO_TAG_FOOTER: return c->k.footer;
    case GUMBO_TAG_ASIDE: return c->k.related_link;
    case GUMBO_TAG_FORM: case GUMBO_TAG_BUTTON: case GUMBO_TAG_INPUT: case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_LABEL: case GUMBO_TAG_FIELDSET:
        return c->k.form;
    case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE:
        return c->k.photo_credit;
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_IFRAME: case GUMBO_TAG_OBJECT: case GUMBO_TAG_EMBED: case GUMBO_TAG_SVG:
    case GUMBO_TAG_CANVAS: case GUMBO_TAG_VIDEO: case GUMBO_TAG_AUDIO: case GUMBO_TAG_MAP:
    case GUMBO_TAG_HEAD: case GUMBO_TAG_TITLE: case GUMBO_TAG_MENU:
        return c->k.markup;
    default:
        return -1;
    }
}

static int bp__role_kind(const bp_conf_t *c, const char *role)
{
    if (role == NULL)
        return -1;
    if (strcmp(role, "navigation") == 0 || strcmp(role, "menu") == 0 ||
        strcmp(role, "menubar") == 0 || strcmp(role, "search") == 0 ||
        strcmp(role, "banner") == 0)
        return c->k.navigation;
    if (strcmp(role, "contentinfo") == 0)
        return c->k.footer;
    if (strcmp(role, "complementary") == 0)
        return c->k.related_link;
    if (strcmp(role, "dialog") == 0 || strcmp(role, "alertdialog") == 0 ||
        strcmp(role, "alert") == 0)
        return c->k.hidden;
    return -1;
}

/* ---- text helpers ---- */

static void bp__count_text(const char *s, size_t n, uint32_t *bytes, uint32_t *commas)
{
    uint32_t b = 0, cm = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (bp_is_ascii_space(c))
            continue;
        b++;
        if (c == ',')
            cm++;
    }
    *bytes += b;
    *commas += cm;
}

/* ---- phase 1: flatten the tree (pre-order), features, hard drops ---- */

typedef struct bp_hctx {
    const bp_conf_t *c;
    bp_scratch_t *s;
    bp_hscratch_t *h;
    bp_result_t *r;
    const char *in;
    size_t in_len;
    int32_t body;
    const char *jsonld_title, *meta_title, *meta_author, *meta_date, *title_tag;
    size_t title_tag_len;
    int32_t h1;
} bp_hctx_t;

static void bp__elem_span(const bp_hctx_t *x, const GumboNode *n, size_t *a, size_t *b)
{
    const GumboElement *e = &n->v.element;
    size_t s0 = e->start_pos.offset;
    size_t s1 = e->end_pos.offset + e->original_end_tag.length;
    size_t m = s0 + e->original_tag.length;
    if (s1 < m)
        s1 = m;
    *a = bp_htmlpre_map(&x->h->pre, s0);
    *b = bp_htmlpre_map(&x->h->pre, s1);
    if (*b < *a)
        *b = *a;
}

static int bp__hint(bp_hctx_t *x, const GumboNode *n, int *kind)
{
    const bp_hints_t *hs = &x->c->hints;
    if (hs->n == 0)
        return 0;
    if (bp_grow(&x->h->seen, &x->h->capseen, hs->n, 1) != 0)
        return 0;
    memset(x->h->seen, 0, hs->n);
    bp_hint_score_t sc = {0, 0, -1, 0};
    const char *v;
    if ((v = bp__attr(n, "class")) != NULL)
        bp_hints_score(hs, v, strlen(v), x->h->seen, &sc);
    if ((v = bp__attr(n, "id")) != NULL)
        bp_hints_score(hs, v, strlen(v), x->h->seen, &sc);
    if ((v = bp__attr(n, "itemprop")) != NULL)
        bp_hints_score(hs, v, strlen(v), x->h->seen, &sc);
    *kind = sc.kind;
    return sc.score;
}

static int bp__span(bp_hctx_t *x, const GumboNode *n, int kind)
{
    size_t a, b;
    bp__elem_span(x, n, &a, &b);
    if (b <= a || kind < 0)
        return 0;
    return bp_result_span(x->r, x->c, (uint32_t)a, (uint32_t)b, kind);
}

static void bp__meta_tag(bp_hctx_t *x, const GumboNode *n)
{
    const char *prop = bp__attr(n, "property");
    const char *name = bp__attr(n, "name");
    const char *itemprop = bp__attr(n, "itemprop");
    const char *content = bp__attr(n, "content");
    if (content == NULL)
        return;
    const char *key = prop ? prop : name ? name : itemprop;
    if (key == NULL)
        return;
    if (strcmp(key, "og:title") == 0 || strcmp(key, "twitter:title") == 0) {
        if (x->meta_title == NULL)
            x->meta_title = content;
    } else if (strcmp(key, "author") == 0 || strcmp(key, "article:author") == 0 ||
               strcmp(key, "byl") == 0 || strcmp(key, "dc.creator") == 0 ||
               strcmp(key, "sailthru.author") == 0 || strcmp(key, "parsely-author") == 0) {
        if (x->meta_author == NULL && strncmp(content, "http", 4) != 0)
            x->meta_author = content;
    } else if (strcmp(key, "article:published_time") == 0 || strcmp(key, "datePublished") == 0 ||
               strcmp(key, "date") == 0 || strcmp(key, "pubdate") == 0 ||
               strcmp(key, "dc.date") == 0 || strcmp(key, "parsely-pub-date") == 0 ||
               strcmp(key, "sailthru.date") == 0 || strcmp(key, "og:published_time") == 0) {
        if (x->meta_date == NULL)
            x->meta_date = content;
    }
}

static int bp__flatten(bp_hctx_t *x, GumboNode *root)
{
    bp_hscratch_t *h = x->h;
    const bp_conf_t *c = x->c;
    h->nnodes = 0;
    size_t sp = 0;
    if (bp_grow(&h->stk, &h->capstk, 1, sizeof *h->stk) != 0)
        return -1;
    h->stk[sp++] = (struct bp_stk){root, -1, 0, 0};
    while (sp > 0) {
        struct bp_stk e = h->stk[--sp];
        if (e.exit) {
            /* close: record the subtree end */
            h->nodes[e.parent].end = (int32_t)h->nnodes;
            continue;
        }
        GumboNode *n = e.n;
        if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE ||
            n->type == GUMBO_NODE_CDATA) {
            if (e.parent >= 0) {
                bp_hnode_t *p = &h->nodes[e.parent];
                uint32_t before = p->own;
                uint32_t cm = 0;
                bp__count_text(n->v.text.text, strlen(n->v.text.text), &p->own, &cm);
                p->commas += cm;
                if (e.in_link)
                    p->link += p->own - before;
            }
            continue;
        }
        if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_DOCUMENT &&
            n->type != GUMBO_NODE_TEMPLATE)
            continue;
        if (n->type == GUMBO_NODE_DOCUMENT) {
            const GumboVector *ch = &n->v.document.children;
            if (bp_grow(&h->stk, &h->capstk, sp + ch->length, sizeof *h->stk) != 0)
                return -1;
            for (size_t i = ch->length; i > 0; i--)
                h->stk[sp++] = (struct bp_stk){ch->data[i - 1], -1, 0, 0};
            continue;
        }
        GumboTag tag = n->v.element.tag;
        /* counts on the parent for void-ish elements */
        if (e.parent >= 0) {
            bp_hnode_t *p = &h->nodes[e.parent];
            if (tag == GUMBO_TAG_IMG)
                p->nimg++;
            else if (tag == GUMBO_TAG_INPUT || tag == GUMBO_TAG_BUTTON || tag == GUMBO_TAG_SELECT)
                p->ninput++;
            else if (tag == GUMBO_TAG_IFRAME || tag == GUMBO_TAG_EMBED || tag == GUMBO_TAG_OBJECT ||
                     tag == GUMBO_TAG_VIDEO)
                p->nemb++;
        }
        if (tag == GUMBO_TAG_META) {
            bp__meta_tag(x, n);
            continue;
        }
        if (tag == GUMBO_TAG_TITLE && x->title_tag == NULL && n->v.element.children.length > 0) {
            const GumboNode *t = n->v.element.children.data[0];
            if (t->type == GUMBO_NODE_TEXT) {
                x->title_tag = t->v.text.text;
                x->title_tag_len = strlen(t->v.text.text);
            }
        }
        /* hard drops: the subtree is not even visited */
        int kind = bp__tag_drop(c, tag);
        const char *hidden = bp__attr(n, "hidden");
        const char *aria = bp__attr(n, "aria-hidden");
        if (kind < 0 && (hidden != NULL || (aria != NULL && strcmp(aria, "true") == 0)))
            kind = c->k.hidden;
        if (kind < 0)
            kind = bp__role_kind(c, bp__attr(n, "role"));
        if (kind >= 0 && e.parent >= 0) {
            if (tag != GUMBO_TAG_HEAD && tag != GUMBO_TAG_TITLE && bp__span(x, n, kind) != 0)
                return -1;
            if (tag == GUMBO_TAG_HEAD) {
                /* keep reading <meta>/<title> inside the head */
                const GumboVector *ch = &n->v.element.children;
                if (bp_grow(&h->stk, &h->capstk, sp + ch->length, sizeof *h->stk) != 0)
                    return -1;
                for (size_t i = ch->length; i > 0; i--) {
                    GumboNode *cn = ch->data[i - 1];
                    if (cn->type == GUMBO_NODE_ELEMENT &&
                        (cn->v.element.tag == GUMBO_TAG_META || cn->v.element.tag == GUMBO_TAG_TITLE))
                        h->stk[sp++] = (struct bp_stk){cn, e.parent, 0, 0};
                }
            } else if (tag == GUMBO_TAG_TITLE) {
                /* read above */
            }
            continue;
        }
        if (bp_grow(&h->nodes, &h->capnodes, h->nnodes + 1, sizeof *h->nodes) != 0)
            return -1;
        int32_t me = (int32_t)h->nnodes++;
        bp_hnode_t *hn = &h->nodes[me];
        memset(hn, 0, sizeof *hn);
        hn->node = n;
        hn->parent = e.parent;
        hn->kind = -1;
        int hk = -1;
        hn->hint = bp__hint(x, n, &hk);
        if (hn->hint <= -50)
            hn->flags |= HF_UNLIKELY;
        if (hk >= 0)
            hn->kind = hk;
        if (bp__is_block(tag))
            hn->flags |= HF_BLOCK;
        if (bp__is_heading(tag)) {
            hn->flags |= HF_HEADING;
            if (tag == GUMBO_TAG_H1 && x->h1 < 0)
                x->h1 = me;
        }
        if (tag == GUMBO_TAG_BODY && x->body < 0)
            x->body = me;
        int in_link = e.in_link;
        if (tag == GUMBO_TAG_A) {
            hn->flags |= HF_LINK;
            in_link = 1;
        }
        if (e.parent >= 0) {
            bp_hnode_t *p = &h->nodes[e.parent];
            if (tag == GUMBO_TAG_P)
                p->np++;
            else if (tag == GUMBO_TAG_LI)
                p->nli++;
            if (bp__is_heading(tag))
                p->nhead++;
        }
        const GumboVector *ch = &n->v.element.children;
        if (bp_grow(&h->stk, &h->capstk, sp + ch->length + 1, sizeof *h->stk) != 0)
            return -1;
        h->stk[sp++] = (struct bp_stk){NULL, me, 1, 0};
        for (size_t i = ch->length; i > 0; i--)
            h->stk[sp++] = (struct bp_stk){ch->data[i - 1], me, 0, (uint8_t)in_link};
    }
    /* phase 2: totals bottom-up (children come after parents in pre-order) */
    for (size_t i = h->nnodes; i > 0; i--) {
        bp_hnode_t *n = &h->nodes[i - 1];
        n->text += n->own;
        if (n->parent >= 0) {
            bp_hnode_t *p = &h->nodes[n->parent];
            p->text += n->text;
            p->link += n->link;
            p->commas += n->commas;
            p->np += n->np;
            p->nimg += n->nimg;
            p->nli += n->nli;
            p->ninput += n->ninput;
            p->nemb += n->nemb;
            p->nhead += n->nhead;
        }
    }
    return 0;
}

/* link density: link text / text */
static double bp__ld(const bp_hnode_t *n) { return n->text ? (double)n->link / n->text : 0; }

/* ---- phase 3: Readability-style scoring ---- */

static double bp__base_score(const bp_hnode_t *n)
{
    double s = 0;
    switch (n->node->v.element.tag) {
    case GUMBO_TAG_DIV: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_MAIN: case GUMBO_TAG_SECTION:
        s = 5;
        break;
    case GUMBO_TAG_PRE: case GUMBO_TAG_TD: case GUMBO_TAG_BLOCKQUOTE:
        s = 3;
        break;
    case GUMBO_TAG_ADDRESS: case GUMBO_TAG_OL: case GUMBO_TAG_UL: case GUMBO_TAG_DL:
    case GUMBO_TAG_DD: case GUMBO_TAG_DT: case GUMBO_TAG_LI: case GUMBO_TAG_FORM:
        s = -3;
        break;
    case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4:
    case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_TH:
        s = -5;
        break;
    default:
        break;
    }
    int hw = n->hint;
    if (hw > 25)
        hw = 25;
    if (hw < -25)
        hw = -25;
    return s + hw;
}

static int bp__has_block_child(const GumboNode *n)
{
    const GumboVector *ch = &n->v.element.children;
    for (size_t i = 0; i < ch->length; i++) {
        const GumboNode *c = ch->data[i];
        if (c->type == GUMBO_NODE_ELEMENT && bp__is_block(c->v.element.tag))
            return 1;
    }
    return 0;
}

static int32_t bp__pick(bp_hctx_t *x)
{
    bp_hscratch_t *h = x->h;
    bp_hnode_t *nodes = h->nodes;
    size_t nn = h->nnodes;
    /* unlikely: inherited from ancestors (pre-order: parents first) unless
     * the node itself holds most of the page's text */
    uint32_t total = x->body >= 0 ? nodes[x->body].text : (nn ? nodes[0].text : 0);
    for (size_t i = 0; i < nn; i++) {
        bp_hnode_t *n = &nodes[i];
        if ((n->flags & HF_UNLIKELY) && n->text * 2 > total && total > 0)
            n->flags &= ~(uint32_t)HF_UNLIKELY;
        GumboTag t = n->node->v.element.tag;
        if ((n->flags & HF_UNLIKELY) &&
            (t == GUMBO_TAG_BODY || t == GUMBO_TAG_HTML || t == GUMBO_TAG_ARTICLE ||
             t == GUMBO_TAG_MAIN))
            n->flags &= ~(uint32_t)HF_UNLIKELY;
        if (n->parent >= 0 && (nodes[n->parent].flags & HF_UNLIKELY))
            n->flags |= HF_UNLIKELY;
    }
    for (size_t i = 0; i < nn; i++) {
        bp_hnode_t *n = &nodes[i];
        if (n->flags & HF_UNLIKELY)
            continue;
        GumboTag t = n->node->v.element.tag;
        int para = t == GUMBO_TAG_P || t == GUMBO_TAG_PRE || t == GUMBO_TAG_TD ||
                   ((t == GUMBO_TAG_DIV || t == GUMBO_TAG_SECTION || t == GUMBO_TAG_SPAN ||
                     t == GUMBO_TAG_LI || t == GUMBO_TAG_BLOCKQUOTE) &&
                    n->own >= 25 && n->own * 2 >= n->text);
        if (!para || n->text < 25)
            continue;
        n->flags |= HF_PARA;
        double cs = 1 + n->commas + (n->text / 100.0 > 3 ? 3 : n->text / 100.0);
        int32_t a = n->parent;
        /* text straight inside a layout div that also holds blocks:
         * Readability wraps it in a <p> of its own, so the div itself is
         * the paragraph's parent */
        if (t != GUMBO_TAG_P && t != GUMBO_TAG_PRE && t != GUMBO_TAG_TD && bp__has_block_child(n->node))
            a = (int32_t)i;
        for (int level = 0; a >= 0 && level < 5; level++, a = nodes[a].parent) {
            bp_hnode_t *an = &nodes[a];
            if (!an->scored) {
                an->scored = 1;
                an->score = (float)bp__base_score(an);
            }
            double div = level == 0 ? 1 : level == 1 ? 2 : level * 3;
            an->score += (float)(cs / div);
        }
    }
    int32_t best = -1;
    double bs = 0;
    for (size_t i = 0; i < nn; i++) {
        bp_hnode_t *n = &nodes[i];
        if (!n->scored)
            continue;
        n->score = (float)(n->score * (1 - bp__ld(n)));
        if (best < 0 || n->score > bs) {
            best = (int32_t)i;
            bs = n->score;
        }
    }
    if (best < 0)
        return x->body >= 0 ? x->body : (nn ? 0 : -1);
    /* Readability: when three or more of the next five candidates score at
     * least 3/4 of the best and share an ancestor with it (one paragraph per
     * wrapper div), that ancestor holds the article */
    {
        int32_t alt[5];
        int na = 0;
        for (size_t i = 0; i < nn; i++) {
            if (!nodes[i].scored || (int32_t)i == best || nodes[i].score < 0.75 * bs)
                continue;
            int k;
            if (na < 5) {
                k = na++;
            } else {
                if (nodes[alt[4]].score >= nodes[i].score)
                    continue;
                k = 4;
            }
            alt[k] = (int32_t)i;
            while (k > 0 && nodes[alt[k - 1]].score < nodes[alt[k]].score) {
                int32_t tmp = alt[k - 1];
                alt[k - 1] = alt[k];
                alt[k] = tmp;
                k--;
            }
        }
        if (na >= 3) {
            for (int32_t a = nodes[best].parent;
                 a >= 0 && a != x->body && nodes[a].node->v.element.tag != GUMBO_TAG_BODY;
                 a = nodes[a].parent) {
                int cnt = 0;
                for (int k = 0; k < na; k++)
                    cnt += alt[k] > a && alt[k] < nodes[a].end;
                if (cnt >= 3) {
                    if (!nodes[a].scored) {
                        nodes[a].scored = 1;
                        nodes[a].score = (float)bp__base_score(&nodes[a]);
                    }
                    best = a;
                    bs = nodes[a].score;
                    break;
                }
            }
        }
    }
    /* Readability: if the parent holds the content better (several good
     * alternatives share it, or its score keeps rising), go up */
    int32_t top = best;
    double last = nodes[top].score;
    int32_t p = nodes[top].parent;
    while (p >= 0 && nodes[p].node->v.element.tag != GUMBO_TAG_BODY) {
        if (!nodes[p].scored) {
            p = nodes[p].parent;
            continue;
        }
        double ps = nodes[p].score;
        if (ps < last / 3)
            break;
        if (ps > last) {
            top = p;
            break;
        }
        last = ps;
        p = nodes[p].parent;
    }
    /* a top candidate that is a lone child of a wrapper: use the wrapper */
    while (nodes[top].parent >= 0 && nodes[top].parent != x->body) {
        int32_t pp = nodes[top].parent;
        if (nodes[pp].text > nodes[top].text + nodes[top].text / 20)
            break;
        top = pp;
    }
    return top;
}

/* ---- phase 4: content = top + qualifying siblings; conditional clean ---- */

static void bp__mark_keep(bp_hctx_t *x, int32_t i)
{
    bp_hnode_t *nodes = x->h->nodes;
    for (int32_t k = i; k < nodes[i].end; k++)
        nodes[k].flags |= HF_KEEP;
}

static int bp__has_sentence_end(const GumboNode *n)
{
    /* any '.' followed by space or end in the direct text */
    const GumboVector *ch = &n->v.element.children;
    for (size_t i = 0; i < ch->length; i++) {
        const GumboNode *c = ch->data[i];
        if (c->type != GUMBO_NODE_TEXT)
            continue;
        const char *t = c->v.text.text;
        const char *d = strchr(t, '.');
        while (d != NULL) {
            if (d[1] == '\0' || d[1] == ' ')
                return 1;
            d = strchr(d + 1, '.');
        }
    }
    return 0;
}

#define BP_TWIN_MIN_TEXT 200

static void bp__siblings(bp_hctx_t *x, int32_t top)
{
    bp_hnode_t *nodes = x->h->nodes;
    int32_t par = nodes[top].parent;
    bp__mark_keep(x, top);
    if (par < 0)
        return;
    double thr = nodes[top].score * 0.2;
    if (thr < 10)
        thr = 10;
    for (int32_t k = par + 1; k < nodes[par].end; k = nodes[k].end) {
        if (k == top)
            continue;
        bp_hnode_t *s = &nodes[k];
        if (s->flags & HF_UNLIKELY)
            continue;
        double bonus = 0;
        if (s->hint > 0 && nodes[top].hint > 0)
            bonus = nodes[top].score * 0.2;
        int ok = s->scored && s->score + bonus >= thr;
        /* a paragraph (or a div that reads as one) next to the content */
        if (!ok && (s->node->v.element.tag == GUMBO_TAG_P || (s->flags & HF_PARA))) {
            double ld = bp__ld(s);
            if (s->text > 80 && ld < 0.25)
                ok = 1;
            else if (s->text > 0 && s->text <= 80 && ld == 0 && bp__has_sentence_end(s->node))
                ok = 1;
        }
        if (ok)
            bp__mark_keep(x, k);
    }
    /* an article split into several containers of one kind (the body
     * cut by a sidebar, a "read more" fold or a media block): elements
     * with the top candidate's tag and class that hold paragraphs */
    const char *cls = bp__attr(nodes[top].node, "class");
    if (cls == NULL || *cls == '\0')
        return;
    GumboTag tt = nodes[top].node->v.element.tag;
    size_t nn = x->h->nnodes;
    for (size_t k = 0; k < nn; k++) {
        bp_hnode_t *s = &nodes[k];
        if ((int32_t)k == top || (s->flags & HF_KEEP)) {
            k = (size_t)s->end - 1;
            continue;
        }
        if ((s->flags & HF_UNLIKELY) || s->node->v.element.tag != tt || s->np == 0 ||
            s->text < BP_TWIN_MIN_TEXT || bp__ld(s) > 0.3)
            continue;
        const char *c2 = bp__attr(s->node, "class");
        if (c2 == NULL || strcmp(c2, cls) != 0)
            continue;
        bp__mark_keep(x, (int32_t)k);
        k = (size_t)s->end - 1;
    }
}

/* Readability's _cleanConditionally, and dropping hinted furniture inside
 * the content.  Pre-order: a removed node's descendants are skipped. */
static int bp__clean(bp_hctx_t *x, int32_t top)
{
    bp_hnode_t *nodes = x->h->nodes;
    const bp_conf_t *c = x->c;
    size_t nn = x->h->nnodes;
    uint32_t content = 0;
    for (size_t i = 0; i < nn; i++)
        if ((nodes[i].flags & HF_KEEP) && (nodes[i].parent < 0 || !(nodes[nodes[i].parent].flags & HF_KEEP)))
            content += nodes[i].text;
    for (size_t i = 0; i < nn;) {
        bp_hnode_t *n = &nodes[i];
        if (!(n->flags & HF_KEEP) || (int32_t)i == top) {
            i++;
            continue;
        }
        GumboTag t = n->node->v.element.tag;
        int drop = 0, kind = n->kind;
        /* furniture named by class/id, unless it holds much of the content */
        if (n->hint <= -50 && n->text * 10 < content * 4) {
            drop = 1;
        } else if (t == GUMBO_TAG_HEADER && n->text * 10 < content * 2 && !(n->nhead && x->c->keep_header)) {
            drop = 1;
            kind = c->k.header;
        } else if ((t == GUMBO_TAG_DIV || t == GUMBO_TAG_SECTION || t == GUMBO_TAG_UL ||
                    t == GUMBO_TAG_OL || t == GUMBO_TAG_TABLE || t == GUMBO_TAG_DL ||
                    t == GUMBO_TAG_SPAN || t == GUMBO_TAG_P) &&
                   n->commas < 10) {
            double ld = bp__ld(n);
            int weight = n->hint;
            int p = n->np;
            int li = n->nli > 0 ? n->nli - 100 : 0;
            (void)li;
            if (n->text == 0) {
                drop = n->nimg == 0 && n->nemb == 0 ? 0 : 1;
                if (drop)
                    kind = c->k.photo_credit;
            } else if (n->nimg > 1 && (double)p / n->nimg < 0.5 && n->text < 200) {
                drop = 1;
                kind = c->k.photo_credit;
            } else if ((t == GUMBO_TAG_UL || t == GUMBO_TAG_OL) && ld > 0.5 && n->text < 600) {
                drop = 1;
                kind = c->k.related_link;
            } else if (n->ninput > (unsigned)(p / 3 + 1)) {
                drop = 1;
                kind = c->k.form;
            } else if (weight < 25 && ld > 0.33 && n->text < 1000 &&
                       /* a paragraph with a sentence of its own besides a
                        * link (a teaser before the prose) stays; the
                        * phrase filter cuts the teaser */
                       !(t == GUMBO_TAG_P && ld < 0.6 && n->text - n->link >= 60)) {
                drop = 1;
                kind = c->k.related_link;
            } else if (weight >= 25 && ld > 0.5) {
                drop = 1;
                kind = c->k.related_link;
            } else if (n->nemb > 0 && n->text < 75) {
                drop = 1;
                kind = c->k.advertisement;
            }
        }
        if (drop) {
            if (kind < 0)
                kind = c->k.low_content;
            n->kind = kind;
            n->flags |= HF_CLEANED;
            if (bp__span(x, n->node, kind) != 0)
                return -1;
            i = (size_t)n->end;
            continue;
        }
        i++;
    }
    return 0;
}

/* ---- phase 5: text with paragraph breaks ---- */

typedef struct bp_emit {
    bp_buf_t *out;
    int space;        /* a space is pending */
    size_t para0;     /* start of the open paragraph */
    int32_t para_node;
    uint32_t link;
} bp_emit_t;

static int bp__para_close(bp_hctx_t *x, bp_emit_t *em)
{
    bp_buf_t *o = em->out;
    /* trim trailing space */
    while (o->len > em->para0 && o->p[o->len - 1] == ' ')
        o->len--;
    if (o->len > em->para0) {
        bp_hscratch_t *h = x->h;
        if (bp_grow(&h->pb, &h->cappb, h->npb + 1, sizeof *h->pb) != 0)
            return -1;
        h->pb[h->npb].out0 = (uint32_t)em->para0;
        h->pb[h->npb].out1 = (uint32_t)o->len;
        h->pb[h->npb].node = em->para_node;
        h->pb[h->npb].link = em->link;
        h->npb++;
        if (bp_buf_put(o, "\n\n", 2) != 0)
            return -1;
    }
    em->para0 = o->len;
    em->space = 0;
    em->link = 0;
    return 0;
}

static int bp__emit_text(bp_emit_t *em, const char *t, int in_link, int pre)
{
    bp_buf_t *o = em->out;
    size_t n = strlen(t);
    if (bp_buf_reserve(o, n + 2) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (bp_is_ascii_space(c) && !(pre && c == '\n')) {
            em->space = 1;
            continue;
        }
        /* NBSP counts as a space */
        if (c == 0xC2 && i + 1 < n && (unsigned char)t[i + 1] == 0xA0) {
            em->space = 1;
            i++;
            continue;
        }
        if (em->space && o->len > em->para0)
            o->p[o->len++] = ' ';
        em->space = 0;
        o->p[o->len++] = (char)c;
        if (in_link)
            em->link++;
    }
    o->p[o->len] = '\0';
    return 0;
}

static int bp__emit(bp_hctx_t *x, bp_buf_t *out)
{
    bp_hscratch_t *h = x->h;
    bp_hnode_t *nodes = h->nodes;
    size_t nn = h->nnodes;
    bp_emit_t em = {out, 0, out->len, -1, 0};
    h->npb = 0;
    /* map GumboNode -> index through a walk over our flat array: the flat
     * array is in pre-order, so walk it with an explicit "open blocks"
     * stack and visit text children of each kept node in order. */
    size_t sp = 0;
    for (size_t i = 0; i < nn; i++) {
        bp_hnode_t *n = &nodes[i];
        if (!(n->flags & HF_KEEP))
            continue;
        if (n->parent >= 0 && (nodes[n->parent].flags & HF_KEEP))
            continue;
        /* a content root: walk its gumbo subtree with an explicit stack,
         * skipping cleaned nodes (looked up by pointer range below) */
        if (bp_grow(&h->stk, &h->capstk, 1, sizeof *h->stk) != 0)
            return -1;
        sp = 0;
        h->stk[sp++] = (struct bp_stk){n->node, (int32_t)i, 0, 0};
        /* cursor into the flat array, to find our node record for elements */
        while (sp > 0) {
            struct bp_stk e = h->stk[--sp];
            if (e.exit) {
                if (bp__is_block((GumboTag)e.parent) && bp__para_close(x, &em) != 0)
                    return -1;
                continue;
            }
            GumboNode *g = e.n;
            if (g->type == GUMBO_NODE_TEXT || g->type == GUMBO_NODE_WHITESPACE ||
                g->type == GUMBO_NODE_CDATA) {
                if (bp__emit_text(&em, g->v.text.text, e.in_link & 1, e.in_link & 2) != 0)
                    return -1;
                continue;
            }
            if (g->type != GUMBO_NODE_ELEMENT)
                continue;
            GumboTag tag = g->v.element.tag;
            /* find its record: records are created in the same pre-order,
             * and userdata is free for us to use */
            uint32_t *rv = bp_map_get(&h->recs, (uint64_t)(uintptr_t)g);
            int32_t rec = rv != NULL ? (int32_t)*rv - 1 : -1;
            if (rec < 0)
                continue; /* hard-dropped or never recorded */
            if (nodes[rec].flags & HF_CLEANED)
                continue;
            if (bp__is_block(tag)) {
                if (bp__para_close(x, &em) != 0)
                    return -1;
                em.para_node = rec;
            }
            int flags = e.in_link;
            if (tag == GUMBO_TAG_A)
                flags |= 1;
            if (tag == GUMBO_TAG_PRE)
                flags |= 2;
            const GumboVector *ch = &g->v.element.children;
            if (bp_grow(&h->stk, &h->capstk, sp + ch->length + 1, sizeof *h->stk) != 0)
                return -1;
            h->stk[sp++] = (struct bp_stk){NULL, (int32_t)tag, 1, 0};
            for (size_t k = ch->length; k > 0; k--)
                h->stk[sp++] = (struct bp_stk){ch->data[k - 1], rec, 0, (uint8_t)flags};
        }
        if (bp__para_close(x, &em) != 0)
            return -1;
    }
    /* drop the final paragraph separator */
    while (out->len > 0 && out->p[out->len - 1] == '\n')
        out->len--;
    if (out->p)
        out->p[out->len] = '\0';
    return 0;
}

/* Text bytes under element n (a paragraph's child; bounded walk). */
static size_t bp__text_len(const GumboNode *n)
{
    const GumboNode *stk[64];
    size_t sp = 0, len = 0, steps = 0;
    stk[sp++] = n;
    while (sp > 0 && steps++ < 4096) {
        const GumboNode *g = stk[--sp];
        if (g->type == GUMBO_NODE_TEXT || g->type == GUMBO_NODE_WHITESPACE ||
            g->type == GUMBO_NODE_CDATA) {
            len += strlen(g->v.text.text);
        } else if (g->type == GUMBO_NODE_ELEMENT || g->type == GUMBO_NODE_TEMPLATE) {
            const GumboVector *ch = &g->v.element.children;
            for (unsigned i = ch->length; i-- > 0 && sp < 64;)
                stk[sp++] = ch->data[i];
        }
    }
    return len;
}

/* Report as removed the source of the first len text bytes of paragraph
 * element n: its leading children (a teaser cut from the paragraph's
 * start; the offsets are as close as the source allows). */
static int bp__lead_span(bp_hctx_t *x, const GumboNode *n, size_t len, int kind)
{
    if (n->type != GUMBO_NODE_ELEMENT)
        return 0;
    const GumboVector *ch = &n->v.element.children;
    size_t got = 0, a = SIZE_MAX, b = 0;
    for (unsigned i = 0; i < ch->length && got < len; i++) {
        const GumboNode *g = ch->data[i];
        size_t s0, s1, tl;
        if (g->type == GUMBO_NODE_TEXT || g->type == GUMBO_NODE_WHITESPACE) {
            tl = strlen(g->v.text.text);
            size_t src = g->v.text.original_text.length;
            size_t take = got + tl > len ? len - got : tl;
            if (take > src)
                take = src;
            s0 = bp_htmlpre_map(&x->h->pre, g->v.text.start_pos.offset);
            s1 = bp_htmlpre_map(&x->h->pre, g->v.text.start_pos.offset + take);
        } else if (g->type == GUMBO_NODE_ELEMENT) {
            tl = bp__text_len(g);
            bp__elem_span(x, g, &s0, &s1);
        } else {
            continue;
        }
        if (s0 < a)
            a = s0;
        if (s1 > b)
            b = s1;
        got += tl;
    }
    if (a >= b)
        return 0;
    return bp_result_span(x->r, x->c, (uint32_t)a, (uint32_t)b, kind);
}

/* ---- phase 6: phrase patterns over the emitted paragraphs ---- */

static int bp__postfilter(bp_hctx_t *x, bp_buf_t *in, bp_buf_t *out)
{
    bp_hscratch_t *h = x->h;
    const bp_conf_t *c = x->c;
    const bp_lex_t *lex = &c->lex;
    bp_toks_t *tk = &x->s->toks;
    int block_kind = -1;
    int first = 1;
    for (size_t i = 0; i < h->npb; i++) {
        bp_pblock_t *pb = &h->pb[i];
        tk->n = 0;
        if (bp_tokenize_in(in->p, pb->out0, pb->out1, in->len, lex, tk) != 0)
            return -1;
        bp_lex_lookup(lex, tk->v, tk->n);
        int drop = -1;
        const char *t = in->p;
        size_t e = pb->out1;
        while (e > pb->out0 && (t[e - 1] == '"' || t[e - 1] == ')' || t[e - 1] == '\'' ||
                                (unsigned char)t[e - 1] == 0x9D))
            e--;
        int sent = e > pb->out0 && (t[e - 1] == '.' || t[e - 1] == '!' || t[e - 1] == '?');
        bp_blockinfo_t bi = {in->p, pb->out0, pb->out1, sent};
        bp_match_t m;
        size_t nalpha = 0;
        for (size_t k = 0; k < tk->n; k++)
            nalpha += (tk->v[k].flags & BP_TF_ALPHA) != 0;
        /* "(RELATED: Headline) The article goes on ...": cut the teaser,
         * keep the prose */
        uint32_t tend = 0, rest = 0;
        uint32_t k = bp_teaser_split(c, in->p, pb->out0, pb->out1, tk->v, (uint32_t)tk->n, -1,
                                     &tend, &rest);
        if (k > 0) {
            const bp_pattern_t *p = NULL;
            bp_match_t tm;
            bp_blockinfo_t tbi = {in->p, pb->out0, tend, 0};
            if (bp_lex_match_teaser(lex, tk->v, k, &tbi, &tm))
                p = &lex->pats[tm.pat];
            if (pb->node >= 0 &&
                bp__lead_span(x, h->nodes[pb->node].node, tend - pb->out0,
                              p ? p->kind : c->k.related_link) != 0)
                return -1;
            if (!first && bp_buf_put(out, "\n\n", 2) != 0)
                return -1;
            if (bp_buf_put(out, in->p + rest, pb->out1 - rest) != 0)
                return -1;
            first = 0;
            block_kind = -1;
            continue;
        }
        if (tk->n > 0 && bp_lex_match(lex, tk->v, tk->n, &bi, 0, &m)) {
            const bp_pattern_t *p = &lex->pats[m.pat];
            if (!((p->opts & BP_PO_SOFT) && nalpha >= 25 && sent)) {
                drop = p->kind;
                block_kind = (p->opts & BP_PO_BLOCK) ? p->kind : -1;
                if (p->kind == c->k.reprint_notice && m.cap0 >= 0 && x->r->syndicated.len == 0)
                    bp_result_set(&x->r->syndicated, in->p + tk->v[m.cap0].start,
                                  tk->v[m.cap1 - 1].end - tk->v[m.cap0].start);
            }
        } else if (block_kind >= 0 && !(sent && nalpha >= 15)) {
            drop = block_kind;
        } else {
            block_kind = -1;
        }
        /* mostly-link paragraphs are related links */
        uint32_t len = pb->out1 - pb->out0;
        if (drop < 0 && len > 0 && pb->link * 10 > len * 6)
            drop = c->k.related_link;
        if (drop < 0 && tk->n == 0)
            drop = c->k.markup;
        if (drop >= 0) {
            if (pb->node >= 0 && bp__span(x, h->nodes[pb->node].node, drop) != 0)
                return -1;
            continue;
        }
        if (!first && bp_buf_put(out, "\n\n", 2) != 0)
            return -1;
        if (bp_buf_put(out, in->p + pb->out0, len) != 0)
            return -1;
        first = 0;
    }
    if (out->p == NULL && bp_buf_put(out, "", 0) != 0)
        return -1;
    return 0;
}

/* ---- metadata ---- */

static void bp__jsonld(bp_hctx_t *x)
{
    bp_buf_t *j = &x->h->pre.jsonld;
    size_t i = 0;
    while (i < j->len) {
        const char *sep = memchr(j->p + i, '\x1e', j->len - i);
        size_t e = sep ? (size_t)(sep - j->p) : j->len;
        cJSON *root = cJSON_ParseWithLength(j->p + i, e - i);
        i = e + 1;
        if (root == NULL)
            continue;
        /* a graph, an array or one object */
        cJSON *list = cJSON_IsArray(root) ? root : cJSON_GetObjectItem(root, "@graph");
        cJSON *it = list ? list->child : root;
        for (; it != NULL; it = list ? it->next : NULL) {
            const cJSON *hl = cJSON_GetObjectItem(it, "headline");
            if (cJSON_IsString(hl) && x->r->title.len == 0)
                bp_result_set(&x->r->title, hl->valuestring, strlen(hl->valuestring));
            const cJSON *dp = cJSON_GetObjectItem(it, "datePublished");
            if (cJSON_IsString(dp) && x->r->published.len == 0)
                bp_result_set(&x->r->published, dp->valuestring, strlen(dp->valuestring));
            const cJSON *au = cJSON_GetObjectItem(it, "author");
            if (cJSON_IsArray(au))
                au = au->child;
            const cJSON *an = au ? cJSON_GetObjectItem(au, "name") : NULL;
            if (cJSON_IsString(an) && x->r->byline.len == 0)
                bp_result_set(&x->r->byline, an->valuestring, strlen(an->valuestring));
            else if (cJSON_IsString(au) && x->r->byline.len == 0)
                bp_result_set(&x->r->byline, au->valuestring, strlen(au->valuestring));
            if (list == NULL)
                break;
        }
        cJSON_Delete(root);
    }
}

static void bp__text_of(const GumboNode *n, bp_buf_t *b, size_t lim)
{
    /* concatenated text of a small subtree (headline, byline): bounded */
    const GumboNode *stk[64];
    size_t sp = 0;
    stk[sp++] = n;
    while (sp > 0 && b->len < lim) {
        const GumboNode *g = stk[--sp];
        if (g->type == GUMBO_NODE_TEXT) {
            bp_buf_put(b, g->v.text.text, strlen(g->v.text.text));
            bp_buf_putc(b, ' ');
            continue;
        }
        if (g->type != GUMBO_NODE_ELEMENT)
            continue;
        const GumboVector *ch = &g->v.element.children;
        for (size_t k = ch->length; k > 0 && sp < 64; k--)
            stk[sp++] = ch->data[k - 1];
    }
}

static void bp__html_meta(bp_hctx_t *x)
{
    bp_result_t *r = x->r;
    bp__jsonld(x);
    if (x->meta_title && r->title.len == 0)
        bp_result_set(&r->title, x->meta_title, strlen(x->meta_title));
    if (r->title.len == 0 && x->h1 >= 0) {
        bp_buf_t t = {0};
        bp__text_of(x->h->nodes[x->h1].node, &t, 512);
        if (t.len)
            bp_result_set(&r->title, t.p, t.len);
        bp_buf_free(&t);
    }
    if (r->title.len == 0 && x->title_tag != NULL)
        bp_result_set(&r->title, x->title_tag, x->title_tag_len);
    if (x->meta_author && r->byline.len == 0)
        bp_result_set(&r->byline, x->meta_author, strlen(x->meta_author));
    if (x->meta_date && r->published.len == 0)
        bp_result_set(&r->published, x->meta_date, strlen(x->meta_date));
    if (r->published.len >= 10 && r->published.p[4] == '-' && r->published.p[7] == '-')
        snprintf(r->published_iso, sizeof r->published_iso, "%.10s", r->published.p);
    if (r->syndicated.len == 0 && r->byline.len) {
        bp_toks_t t = {0};
        if (bp_tokenize(r->byline.p, 0, r->byline.len, &t) == 0) {
            bp_lex_lookup(&x->c->lex, t.v, t.n);
            bp_meta_agency(&x->c->lex, t.v, t.n, &r->syndicated);
        }
        free(t.v);
    }
}

int bp_html_clean(const bp_conf_t *c, bp_scratch_t *s, const char *html, size_t len,
                  bp_result_t *r)
{
    bp_hscratch_t *h = s->html;
    if (h == NULL) {
        h = calloc(1, sizeof *h);
        if (h == NULL)
            return -1;
        s->html = h;
    }
    r->path = "html";
    if (bp_htmlpre_run(&h->pre, html, len, c->html_max_depth) != 0)
        return -1;
    GumboOptions opt = kGumboDefaultOptions;
    opt.max_errors = 0;
    GumboOutput *g = gumbo_parse_with_options(&opt, h->pre.out.p ? h->pre.out.p : "",
                                              h->pre.out.len);
    if (g == NULL)
        return -1;
    bp_hctx_t x = {.c = c, .s = s, .h = h, .r = r, .in = html, .in_len = len, .body = -1, .h1 = -1};
    int rc = -1;
    if (bp__flatten(&x, g->document) != 0)
        goto out;
    /* link gumbo nodes to their records for the emit walk */
    bp_map_clear(&h->recs);
    for (size_t i = 0; i < h->nnodes; i++)
        if (bp_map_put(&h->recs, (uint64_t)(uintptr_t)h->nodes[i].node, (uint32_t)i + 1) != 0)
            goto out;
    int32_t top = bp__pick(&x);
    if (top >= 0) {
        bp__siblings(&x, top);
        if (bp__clean(&x, top) != 0)
            goto out;
    }
    h->text.len = 0;
    if (bp__emit(&x, &h->text) != 0)
        goto out;
    if (bp__postfilter(&x, &h->text, &r->out) != 0)
        goto out;
    /* everything outside the content: report the top-level regions */
    if (top >= 0) {
        bp_hnode_t *nodes = h->nodes;
        for (size_t i = 0; i < h->nnodes;) {
            bp_hnode_t *n = &nodes[i];
            if (n->flags & HF_KEEP) {
                i = (size_t)n->end;
                continue;
            }
            /* an ancestor of kept content: look inside */
            int has_keep = 0;
            for (int32_t k = (int32_t)i + 1; k < n->end && !has_keep; k++)
                has_keep = (nodes[k].flags & HF_KEEP) != 0;
            if (has_keep) {
                i++;
                continue;
            }
            if (n->text > 0) {
                int kind = n->kind >= 0 ? n->kind : c->k.low_content;
                if (bp__span(&x, n->node, kind) != 0)
                    goto out;
            }
            i = (size_t)n->end;
        }
    }
    bp__html_meta(&x);
    rc = 0;
out:
    gumbo_destroy_output(&opt, g);
    return rc;
}
