/*
 * bp_html.h - internals of the HTML path: the pre-pass that prepares a page
 * for gumbo (bp_html_pre.c) and its source map.
 */
#ifndef BP_HTML_H
#define BP_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "bp_util.h"

typedef struct bp_mapent {
    size_t out, in;
} bp_mapent_t;

typedef struct bp_openel {
    uint64_t h;
    unsigned flags;
} bp_openel_t;

typedef struct bp_htmlpre {
    bp_buf_t out;         /* the HTML gumbo parses */
    bp_buf_t jsonld;      /* JSON-LD script bodies, separated by 0x1e */
    bp_mapent_t *map;     /* output offset -> input offset, sorted by out */
    size_t nmap, capmap;
    bp_openel_t *stack;   /* estimated open elements */
    size_t depth, capstack;
    size_t in_len;
    int flattened;        /* the work budget ran out: later tags flattened */
    size_t dropped_tags;  /* tags dropped (formatting, or too deep) */
} bp_htmlpre_t;

int bp_htmlpre_run(bp_htmlpre_t *p, const char *s, size_t n, int max_depth);
/* Map an offset in p->out to an offset in the input. */
size_t bp_htmlpre_map(const bp_htmlpre_t *p, size_t out);
void bp_htmlpre_free(bp_htmlpre_t *p);

#endif
