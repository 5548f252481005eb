/*
 * fuzz_sentiment.c - libFuzzer harness for the sentiment stage's process():
 * arbitrary text (made valid UTF-8 without NUL, as the host guarantees), and
 * arbitrary "quotes"/"speakers" annotations and meta.sentiment_targets as
 * another stage or a user might hand them over.  Every result must be an
 * annotation whose numbers are finite and whose compounds are in -1..1.
 *
 * The annotation is printed and parsed again first, as a reader of the result
 * would see it (the stage attaches its lists as pre-serialised raw items).
 *
 * Input: TEXT, optionally followed by "\n@@\n" and a JSON object
 * {"quotes": ..., "speakers": ..., "meta": ...}.
 *
 * FUZZ-SOURCES: plugins/sentiment/sentiment.c plugins/sentiment/jsonw.c plugins/sentiment/lexicon.c plugins/sentiment/text.c plugins/sentiment/score.c plugins/sentiment/people.c plugins/sentiment/model.c
 * FUZZ-PKGS:
 */
#include "autoconfig.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/utf8.h"
#include "../support/testhost.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

static tm_testhost_t *th;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char here[4096], data[4200];
    snprintf(here, sizeof here, "%s", __FILE__);
    snprintf(data, sizeof data, "%s/../../plugins/sentiment", dirname(here));
    tm_err_t err = {{0}, {0}};
    th = tm_testhost_open(tm_stage_entry_v1(), "{\"max_mentions\": 300}", data, NULL, &err);
    if (th == NULL) {
        fprintf(stderr, "fuzz_sentiment: cannot open the stage: %s\n", err.message);
        abort();
    }
    return 0;
}

static void check(const cJSON *j)
{
    if (cJSON_IsNumber(j)) {
        if (!isfinite(j->valuedouble))
            abort();
        if (j->string != NULL && strcmp(j->string, "compound") == 0 &&
            (j->valuedouble < -1.0 || j->valuedouble > 1.0))
            abort();
        return;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, j) check(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 4 <= size; i++)
        if (memcmp(data + i, "\n@@\n", 4) == 0) {
            sep = (const char *)data + i;
            break;
        }
    size_t tlen = sep != NULL ? (size_t)(sep - (const char *)data) : size;
    char *text = malloc(tlen + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, tlen);
    /* The host hands stages valid UTF-8 without NUL bytes. */
    for (size_t i = 0; i < tlen;) {
        size_t bad = i + tm_utf8_invalid_at(text + i, tlen - i);
        if (bad >= tlen)
            break;
        text[bad] = '?';
        i = bad + 1;
    }
    for (size_t i = 0; i < tlen; i++)
        if (text[i] == '\0')
            text[i] = ' ';
    text[tlen] = '\0';
    tm_doc_t *doc = tm_testhost_doc("fuzz", text, tlen, NULL);
    free(text);
    if (doc == NULL)
        return 0;
    if (sep != NULL) {
        cJSON *extra = cJSON_ParseWithLength(sep + 4, size - tlen - 4);
        if (extra != NULL) {
            const tm_host_t *h = tm_testhost_host(th);
            cJSON *q = cJSON_DetachItemFromObject(extra, "quotes");
            cJSON *s = cJSON_DetachItemFromObject(extra, "speakers");
            cJSON *m = cJSON_DetachItemFromObject(extra, "meta");
            if (q != NULL)
                h->doc_annotate(doc, "quotes", q);
            if (s != NULL)
                h->doc_annotate(doc, "speakers", s);
            if (cJSON_IsObject(m))
                doc->meta = m;
            else
                cJSON_Delete(m);
            cJSON_Delete(extra);
        }
    }
    tm_err_t err = {{0}, {0}};
    int rc = tm_testhost_run(th, doc, &err);
    if (rc != TM_OK && err.message[0] == '\0')
        abort(); /* every failure explains itself */
    if (rc == TM_OK) {
        const cJSON *raw = tm_testhost_annotation(doc, "sentiment");
        if (raw == NULL)
            abort();
        /* The lists are pre-serialised: what a reader sees must parse. */
        char *txt = cJSON_PrintUnformatted(raw);
        cJSON *a = txt != NULL ? cJSON_Parse(txt) : NULL;
        free(txt);
        if (a == NULL)
            abort();
        check(a);
        /* Offsets stay inside the text. */
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(a, "sentences")) {
            double st = cJSON_GetObjectItem(s, "start")->valuedouble,
                   en = cJSON_GetObjectItem(s, "end")->valuedouble;
            if (st < 0 || en < st || en > (double)tlen)
                abort();
        }
        cJSON_Delete(a);
    }
    tm_doc_destroy(&doc);
    return 0;
}
