/*
 * html.h - the visible text of a text/html document (gumbo).
 */
#ifndef DD_HTML_H
#define DD_HTML_H

#include <stddef.h>

#include "normalize.h"

/* Put the visible text of html[0..len) in s->html (s->html_len bytes, not
 * NUL-terminated).  Returns 0, or -1 when out of memory. */
int dd_html_text(const char *html, size_t len, dd_scratch_t *s);

#endif
