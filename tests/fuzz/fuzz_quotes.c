/*
 * fuzz_quotes.c - libFuzzer harness for the quotes stage: arbitrary bytes
 * (made valid UTF-8 without NUL, as the host guarantees) run through the
 * stage in the test host; the annotations must be well-formed (offsets in
 * range and on the quoted text), and the stage with raw_output (annotations
 * as pre-serialised JSON) must give a byte-identical encoded result; so
 * must plain copies of the trees the default stage hangs under its JSON
 * text (the two must say the same thing, to the byte).
 * Timeouts catch superlinear cost.
 *
 * FUZZ-SOURCES: plugins/quotes/quotes.c plugins/quotes/qt_*.c
 * FUZZ-PKGS: libutf8proc libxxhash
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "../../daemon/codec.h"
#include "../support/testhost.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

static tm_testhost_t *th, *th_raw;

static void open_once(void)
{
    if (th != NULL)
        return;
    /* the lexicons: $QUOTES_DATA_DIR, else plugins/quotes of the source
     * tree this file was compiled from (build.sh passes absolute paths) */
    const char *dir = getenv("QUOTES_DATA_DIR");
    char buf[4096];
    if (dir == NULL) {
        snprintf(buf, sizeof buf, "%s", __FILE__);
        char *cut = strstr(buf, "tests/fuzz/fuzz_quotes.c");
        if (cut != NULL)
            snprintf(cut, sizeof buf - (size_t)(cut - buf), "plugins/quotes");
        else
            snprintf(buf, sizeof buf, "plugins/quotes");
        dir = buf;
    }
    tm_err_t err = {{0}, {0}};
    th = tm_testhost_open(tm_stage_entry_v1(), NULL, dir, NULL, &err);
    if (th != NULL)
        th_raw = tm_testhost_open(tm_stage_entry_v1(), "{\"raw_output\": true}", dir, NULL, &err);
    if (th == NULL || th_raw == NULL) {
        fprintf(stderr, "fuzz_quotes: cannot open the stage: %s\n", err.message);
        abort();
    }
}

/* Replace invalid UTF-8 and NUL bytes by '?' (the host never passes them). */
static size_t sanitize(char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        int ok = len > 0 && i + len <= n && c != 0;
        for (size_t k = 1; ok && k < len; k++)
            ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
        if (ok && len == 2 && c < 0xC2)
            ok = 0;
        if (ok && len == 3) {
            unsigned char c1 = (unsigned char)s[i + 1];
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0))
                ok = 0;
        }
        if (ok && len == 4) {
            unsigned char c1 = (unsigned char)s[i + 1];
            if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90) || c > 0xF4)
                ok = 0;
        }
        if (!ok) {
            s[i++] = '?';
            continue;
        }
        i += len;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    open_once();
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    size = sanitize(buf, size);
    buf[size] = '\0';
    tm_doc_t *doc = tm_testhost_doc("fuzz", buf, size, NULL);
    tm_err_t err = {{0}, {0}};
    if (doc != NULL && tm_testhost_run(th, doc, &err) == TM_OK) {
        const cJSON *quotes = tm_testhost_annotation(doc, "quotes");
        if (quotes == NULL)
            abort();
        const cJSON *q;
        cJSON_ArrayForEach(q, quotes)
        {
            const cJSON *s = cJSON_GetObjectItem(q, "start"), *e = cJSON_GetObjectItem(q, "end");
            const cJSON *t = cJSON_GetObjectItem(q, "text");
            if (!cJSON_IsNumber(s) || !cJSON_IsNumber(e) || !cJSON_IsString(t))
                abort();
            int a = s->valueint, b = e->valueint;
            if (a < 0 || b <= a || (size_t)b > size || strlen(t->valuestring) != (size_t)(b - a) ||
                memcmp(buf + a, t->valuestring, (size_t)(b - a)) != 0)
                abort();
        }
        const cJSON *sp = tm_testhost_annotation(doc, "speakers"), *p;
        cJSON_ArrayForEach(p, sp)
        {
            const cJSON *m;
            cJSON_ArrayForEach(m, cJSON_GetObjectItem(p, "mentions"))
            {
                int a = cJSON_GetObjectItem(m, "start")->valueint;
                int b = cJSON_GetObjectItem(m, "end")->valueint;
                if (a < 0 || b <= a || (size_t)b > size)
                    abort();
            }
        }
        /* raw_output: the same result, byte for byte */
        tm_doc_t *raw = tm_testhost_doc("fuzz", buf, size, NULL);
        tm_err_t err2 = {{0}, {0}};
        if (raw != NULL && tm_testhost_run(th_raw, raw, &err2) == TM_OK) {
            size_t l1 = 0, l2 = 0;
            char *r1 = tm_result_encode(doc, NULL, 0, 0, &l1);
            char *r2 = tm_result_encode(raw, NULL, 0, 0, &l2);
            if (r1 != NULL && r2 != NULL && (l1 != l2 || memcmp(r1, r2, l1) != 0))
                abort();
            /* the trees under the default stage's text, encoded by the core */
            tm_doc_t *copy = tm_testhost_doc("fuzz", buf, size, NULL);
            if (copy != NULL && r1 != NULL) {
                const char *keys[] = {"quotes", "speakers"};
                for (int k = 0; k < 2; k++) {
                    const cJSON *t = tm_testhost_annotation(doc, keys[k]);
                    if (t != NULL)
                        tm_testhost_host(th)->doc_annotate(copy, keys[k], cJSON_Duplicate(t, 1));
                }
                size_t l3 = 0;
                char *r3 = tm_result_encode(copy, NULL, 0, 0, &l3);
                if (r3 != NULL && (l1 != l3 || memcmp(r1, r3, l1) != 0))
                    abort();
                free(r3);
            }
            tm_doc_destroy(&copy);
            free(r1);
            free(r2);
        }
        tm_doc_destroy(&raw);
    } else if (doc != NULL && strcmp(err.code, "out_of_memory") != 0) {
        abort(); /* the stage has no other per-document failure */
    }
    tm_doc_destroy(&doc);
    free(buf);
    return 0;
}
