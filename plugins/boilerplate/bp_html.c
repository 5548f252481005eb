/* bp_html.c - placeholder (replaced by the gumbo extractor). */
#include "autoconfig.h"
#include "bp_doc.h"
int bp_html_clean(const bp_conf_t *c, bp_scratch_t *s, const char *html, size_t len, bp_result_t *r)
{
    return bp_text_clean(c, s, html, len, 0, NULL, r);
}
void bp_html_scratch_free(void *p) { (void)p; }
