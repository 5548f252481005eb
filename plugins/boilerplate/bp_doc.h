/*
 * bp_doc.h - what the extractors share: the stage's settings, the per-thread
 * scratch, and the result of cleaning one document (output text, removed
 * spans of the input, metadata found on the way).
 */
#ifndef BP_DOC_H
#define BP_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "bp_hints.h"
#include "bp_lex.h"
#include "bp_util.h"

/* Built-in kinds (registered in the kind table at start-up, next to the
 * kinds the phrase files name). */
typedef struct bp_kinds {
    int navigation, related_link, low_content, header, footer, comments, share, advertisement,
        photo_credit, markup, hidden, form, reprint_notice, donation_appeal, source_url, copyright;
    /* kinds only the phrase files name (-1 when none does) */
    int read_more, author_bio;
} bp_kinds_t;

typedef struct bp_conf {
    bp_lex_t lex;
    bp_hints_t hints;
    bp_kinds_t k;
    int keep_header;        /* keep headline, standfirst, byline, dateline */
    int sniff_html;         /* treat text/plain that is obviously HTML as HTML */
    int sniff_markdown;     /* reduce Markdown links in text/plain that has them */
    int markdown_links;     /* reduce [text](url) to text */
    int max_spans;          /* cap on annotations.boilerplate.removed */
    int html_max_depth;     /* element nesting kept for the HTML parser */
    int min_good_words;     /* a prose block has at least this many words */
    double min_stop_density;/* ... and at least this share of stop words */
    int short_doc_blocks;   /* documents with at most this many blocks are
                               only pattern-filtered */
} bp_conf_t;

typedef struct bp_span {
    uint32_t start, end; /* bytes of the input */
    int kind;            /* index into conf->lex.kinds */
} bp_span_t;

typedef struct bp_result {
    bp_buf_t out;        /* the cleaned text */
    bp_span_t *spans;
    size_t nspans, capspans;
    size_t removed_bytes;/* content bytes of the input in removed spans */
    int truncated;       /* more spans than max_spans */
    bp_buf_t title, byline, published, syndicated, lang;
    char published_iso[32];
    const char *path;    /* "text", "markdown" or "html" */
} bp_result_t;

void bp_result_reset(bp_result_t *r);
void bp_result_free(bp_result_t *r);
/* Add a removed span (any order, may nest). */
int bp_result_span(bp_result_t *r, const bp_conf_t *c, uint32_t start, uint32_t end, int kind);
/* Sort spans, drop nested ones, merge touching spans of one kind, apply
 * max_spans and compute removed_bytes. */
void bp_result_finish(bp_result_t *r, const bp_conf_t *c);
/* Set a metadata string from text (trimmed, whitespace collapsed). */
int bp_result_set(bp_buf_t *b, const char *s, size_t n);

typedef struct bp_scratch {
    bp_toks_t toks;
    void *blocks;
    size_t capblocks;
    bp_buf_t tmp, tmp2;
    bp_scan_t scan;      /* the plain-text path's byte-class bitmaps */
    void *html;          /* HTML extractor scratch */
} bp_scratch_t;

/* The extractors.  Each fills r (reset by the caller) and returns 0, or -1
 * when out of memory. */
int bp_text_clean(const bp_conf_t *c, bp_scratch_t *s, const char *text, size_t len, int markdown,
                  const char *lang_hint, bp_result_t *r);
int bp_html_clean(const bp_conf_t *c, bp_scratch_t *s, const char *html, size_t len,
                  bp_result_t *r);
void bp_html_scratch_free(void *p);

/* A labelled teaser of another story at the start of [cs, ce) with the
 * article's prose after it ("(RELATED: Headline) The mayor said ...").
 * tk[0..n): the text's tokens (after bp_lex_lookup); lang: language index
 * or -1.  Returns the prose's first token (0: no such teaser) and fills
 * *tend (end of the teaser) and *rest (start of the prose). */
uint32_t bp_teaser_split(const bp_conf_t *c, const char *t, uint32_t cs, uint32_t ce,
                         const bp_tok_t *tk, uint32_t n, int lang, uint32_t *tend, uint32_t *rest);

/* Markdown: copy s[0..n) to out with [text](url) reduced to text, images
 * and autolinks dropped.  Returns 0 or -1. */
int bp_md_reduce(const char *s, size_t n, bp_buf_t *out);
/* Bytes of link text and of all text in s[0..n) (Markdown links). */
void bp_md_link_stats(const char *s, size_t n, size_t *link_bytes, size_t *links);
/* Does a text/plain document look like Markdown / HTML? */
int bp_sniff_markdown(const char *s, size_t n);
int bp_sniff_html(const char *s, size_t n);

/* Metadata helpers (bp_meta.c) over one block's tokens. */
/* 1 when the block looks like a date line ("October 24, 2018", "2018-10-24",
 * "Mon 18 Nov 2019 18.54 GMT"); fills iso ("2018-10-24") when it can. */
int bp_meta_date(const bp_lex_t *lex, const char *text, const bp_tok_t *t, size_t n, char *iso,
                 size_t isolen);
/* Find a wire-agency name among the tokens; fills out with it.  Returns 1. */
int bp_meta_agency(const bp_lex_t *lex, const bp_tok_t *t, size_t n, bp_buf_t *out);

#endif
