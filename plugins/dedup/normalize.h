/*
 * normalize.h - turning a document's text into the two things dedup
 * compares: the canonical text (hashed for exact duplicates) and the
 * sequence of word tokens (hashed, then shingled for near duplicates).
 *
 * Canonical form: HTML tag residue removed (inline tags vanish, block tags
 * become a space), character references decoded (also double-escaped
 * ones), Unicode NFKC with case folding, default-ignorable characters
 * (zero-width space, soft hyphen, BOM ...) dropped, optionally diacritics
 * stripped, quote/dash/ellipsis styles folded (punct-fold.tsv), and every
 * run of whitespace, control characters and line breaks made one space.
 *
 * Tokens: maximal runs of letters, digits and marks of the canonical text;
 * every other character separates tokens.  In scripts written without
 * spaces (Han, kana, Thai, Lao, Khmer, Myanmar) each character is a token.
 * So "co - workers" and "co-workers", or "don't" and "don&rsquo;t", give
 * the same tokens.
 */
#ifndef DD_NORMALIZE_H
#define DD_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "fold.h"

/* What normalisation does with one common non-ASCII character (no-break
 * space, soft hyphen, Latin-1 signs, General Punctuation: curly quotes,
 * dashes, ellipsis, zero-width characters), worked out once per
 * configuration by dd_norm_prepare() with the same code as the full path,
 * so that the frequent ones skip utf8proc's decomposition and the
 * punctuation folding table. */
typedef struct dd_uni_entry {
    uint8_t kind;           /* DD_UNI_* */
    uint8_t len;            /* bytes in out */
    char out[22];           /* DD_UNI_PUNCT: the canonical form (UTF-8) */
} dd_uni_entry_t;

enum { DD_UNI_FULL = 0, DD_UNI_IGNORE = 1, DD_UNI_SEP = 2, DD_UNI_PUNCT = 3 };

/* U+0080..U+00BF and U+2000..U+207F */
#define DD_UNI_LAT1 0x40
#define DD_UNI_GENP 0x80

typedef struct dd_norm_opts {
    const dd_fold_t *fold;  /* borrowed */
    int fold_diacritics;
    int strip_markup;       /* tag residue and character references */
    int sse2_only;          /* ASCII blocks of 16 bytes even when the CPU has
                               AVX2 (32-byte blocks): for tests */
    dd_uni_entry_t *uni;    /* NULL (every character takes the full path), or
                               DD_UNI_LAT1 + DD_UNI_GENP entries (dd_norm_prepare) */
} dd_norm_opts_t;

/* Work out o->uni for o's settings.  Returns 0, or -1 when out of memory
 * (o->uni stays NULL: correct, only slower). */
int dd_norm_prepare(dd_norm_opts_t *o);
void dd_norm_release(dd_norm_opts_t *o);

/* Per-thread scratch, reused from document to document. */
typedef struct dd_scratch {
    uint64_t *tok;          /* token hashes */
    size_t ntok, tok_cap;
    char *canon;            /* canonical text (not NUL-terminated) */
    size_t canon_len, canon_cap;
    char *raw;              /* current non-ASCII token, UTF-8 as found */
    size_t raw_len, raw_cap;
    int32_t *cps;           /* its decomposition */
    size_t cps_cap;
    uint32_t *sh;           /* shingle hashes (sketch.c) */
    size_t sh_cap;
    char *html;             /* text extracted from text/html (html.c) */
    size_t html_len, html_cap;
    uint32_t *dfr;          /* the block path's deferred token lists */
    size_t dfr_cap;
} dd_scratch_t;

void dd_scratch_free(dd_scratch_t *s);
/* Give back memory a very large document made the scratch grow to. */
void dd_scratch_trim(dd_scratch_t *s);

/* Normalize text[0..len) into s->canon and s->tok.  Returns 0, or -1 when
 * out of memory. */
int dd_normalize(const dd_norm_opts_t *o, const char *text, size_t len, dd_scratch_t *s);

/* Grow *buf (elements of size elem) to hold at least need elements. */
int dd_grow(void **buf, size_t *cap, size_t need, size_t elem);

#endif
