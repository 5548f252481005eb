/*
 * boilerplate_fuzz.h - what the two boilerplate harnesses share: one stage
 * instance (opened on the first input, data files from the source tree or
 * $TM_BP_DATA_DIR), the run of one document, and the invariants every
 * result must keep (checked with abort()):
 *   - the stage returns OK, or a per-document error with a code;
 *   - the result text is valid UTF-8; from text/plain and text/markdown
 *     never longer than the input (HTML may grow: gumbo turns a stray
 *     control character into U+FFFD);
 *   - every removed span lies inside the input, start <= end, spans sorted
 *     and disjoint, and removed_bytes is at most the input length.
 */
#ifndef BOILERPLATE_FUZZ_H
#define BOILERPLATE_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/utf8.h"
#include "../support/testhost.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

static tm_testhost_t *bpf__th;

static void bpf__close(void)
{
    tm_testhost_close(&bpf__th);
}

static tm_testhost_t *bpf__open(void)
{
    if (bpf__th != NULL)
        return bpf__th;
    char dir[4096];
    const char *env = getenv("TM_BP_DATA_DIR");
    if (env != NULL) {
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        /* build.sh compiles the harness by absolute path */
        snprintf(dir, sizeof dir, "%s", __FILE__);
        char *slash = strrchr(dir, '/');
        if (slash == NULL)
            snprintf(dir, sizeof dir, "plugins/boilerplate");
        else
            snprintf(slash, sizeof dir - (size_t)(slash - dir), "/../../plugins/boilerplate");
    }
    tm_err_t err = {{0}, {0}};
    bpf__th = tm_testhost_open(tm_stage_entry_v1(), NULL, dir, NULL, &err);
    if (bpf__th == NULL) {
        fprintf(stderr, "boilerplate fuzz: cannot open the stage with data in %s: %s: %s\n"
                        "(set TM_BP_DATA_DIR to plugins/boilerplate)\n",
                dir, err.code, err.message);
        abort();
    }
    atexit(bpf__close);
    return bpf__th;
}

static void bpf__check(const tm_doc_t *doc, size_t in_len, int may_grow)
{
    if (doc->text == NULL || (!may_grow && doc->text_len > in_len) ||
        !tm_utf8_valid(doc->text, doc->text_len))
        abort();
    const cJSON *ann = tm_testhost_annotation(doc, "boilerplate");
    if (ann == NULL)
        return;
    const cJSON *rem = cJSON_GetObjectItemCaseSensitive(ann, "removed");
    const cJSON *sp;
    double prev_end = 0;
    cJSON_ArrayForEach(sp, rem)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(sp, "start");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(sp, "end");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(sp, "kind");
        if (!cJSON_IsNumber(s) || !cJSON_IsNumber(e) || !cJSON_IsString(k))
            abort();
        if (s->valuedouble < prev_end || e->valuedouble < s->valuedouble ||
            e->valuedouble > (double)in_len)
            abort();
        prev_end = e->valuedouble;
    }
    const cJSON *rb = cJSON_GetObjectItemCaseSensitive(ann, "removed_bytes");
    if (rb != NULL && (!cJSON_IsNumber(rb) || rb->valuedouble > (double)in_len))
        abort();
}

/* Run one input as a document of content type ct.  Inputs the daemon would
 * refuse at intake (invalid UTF-8, NUL bytes, empty) are skipped. */
static int bpf__run(const uint8_t *data, size_t size, const char *ct)
{
    if (size == 0 || memchr(data, 0, size) != NULL || !tm_utf8_valid((const char *)data, size))
        return 0;
    tm_testhost_t *th = bpf__open();
    tm_doc_t *doc = tm_testhost_doc("fuzz", (const char *)data, size, ct);
    if (doc == NULL)
        return 0;
    tm_err_t err = {{0}, {0}};
    int rc = tm_testhost_run(th, doc, &err);
    if (rc != TM_OK && (rc != TM_EDOC || err.code[0] == '\0'))
        abort();
    bpf__check(doc, size, strcmp(ct, "text/html") == 0);
    tm_doc_destroy(&doc);
    return 0;
}

#endif
