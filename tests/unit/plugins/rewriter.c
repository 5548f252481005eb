/* A text-rewriting test stage: appends " [rewritten]" to the text, and
 * checks that a non-rewriting call would have been refused. */
#include <stdlib.h>
#include <string.h>
#include <textmill/stage.h>

static int create(const tm_host_t *h, const cJSON *c, void **inst, tm_err_t *err)
{
    (void)c; (void)err;
    *inst = (void *)h;
    return TM_OK;
}
static int process(void *inst, void *tls, tm_doc_t *doc, tm_err_t *err)
{
    const tm_host_t *h = inst;
    (void)tls;
    size_t len;
    const char *text = h->doc_text(doc, &len);
    char *out = malloc(len + 16);
    if (out == NULL)
        return tm_err_set(err, TM_EDOC, "oom", "out of memory");
    memcpy(out, text, len);
    memcpy(out + len, " [rewritten]", 12);
    int rc = h->doc_set_text(doc, out, len + 12);
    free(out);
    return rc == TM_OK ? TM_OK : tm_err_set(err, TM_EDOC, "set_text_failed", "rc %d", rc);
}
static const tm_stage_desc_t desc = {
    TM_STAGE_DESC_HEADER, .name = "rewriter", .version = "0", .flags = TM_STAGE_REWRITES_TEXT,
    .create = create, .process = process,
};
TM_STAGE_EXPORT(desc)
