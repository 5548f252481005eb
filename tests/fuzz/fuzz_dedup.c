/*
 * fuzz_dedup.c - libFuzzer harness for the dedup stage, run in the test
 * host with a small temporary LMDB index that persists across inputs (so
 * later inputs meet the postings, df counts and records of earlier ones).
 * An input is split at 0x01 bytes into up to 8 documents; each must come
 * back with a well-formed annotation (a known status; duplicate_of set
 * exactly when the status is not "unique"; similarity and containment in
 * [0, 1]).  Like the daemon, only valid UTF-8 without NUL reaches the stage.
 *
 * FUZZ-SOURCES: plugins/dedup/dedup.c plugins/dedup/normalize.c plugins/dedup/fold.c plugins/dedup/html.c plugins/dedup/sketch.c plugins/dedup/texthash.c plugins/dedup/dftable.c plugins/dedup/verify.c plugins/dedup/candset.c plugins/dedup/memindex.c plugins/dedup/store_lmdb.c plugins/dedup/store_redis.c
 * FUZZ-PKGS: lmdb hiredis gumbo
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "../../daemon/utf8.h"
#include "../support/testhost.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

static tm_testhost_t *th;

static void fz__open(void)
{
    /* data files sit next to this source: <root>/plugins/dedup */
    char dir[4096];
    const char *f = __FILE__;
    const char *t = strstr(f, "tests/fuzz/fuzz_dedup.c");
    size_t n = t != NULL ? (size_t)(t - f) : 0;
    if (n + 32 >= sizeof dir)
        abort();
    memcpy(dir, f, n);
    strcpy(dir + n, n > 0 ? "plugins/dedup" : "./plugins/dedup");
    tm_err_t err = {{0}, {0}};
    th = tm_testhost_open(tm_stage_entry_v1(),
                          "{\"max_docs\": 512, \"boilerplate_window\": 256, \"sync\": false}", dir,
                          NULL, &err);
    if (th == NULL)
        abort();
}

static void fz__check_tree(const cJSON *a);

/* The stage attaches JSON text: it must parse, then hold the invariants. */
static void fz__check(const cJSON *raw)
{
    if (raw == NULL || !cJSON_IsRaw(raw))
        abort();
    cJSON *a = cJSON_Parse(raw->valuestring);
    fz__check_tree(a);
    cJSON_Delete(a);
}

static void fz__check_tree(const cJSON *a)
{
    if (a == NULL)
        abort();
    const cJSON *st = cJSON_GetObjectItem(a, "status");
    const cJSON *of = cJSON_GetObjectItem(a, "duplicate_of");
    if (!cJSON_IsString(st))
        abort();
    int uniq = strcmp(st->valuestring, "unique") == 0;
    if (!uniq && strcmp(st->valuestring, "exact_duplicate") != 0 &&
        strcmp(st->valuestring, "near_duplicate") != 0)
        abort();
    if (uniq != cJSON_IsNull(of) || (!uniq && !cJSON_IsString(of)))
        abort();
    const char *nums[] = {"similarity", "containment"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItem(a, nums[i]);
        if (v != NULL && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1.0))
            abort();
    }
    if (!cJSON_IsString(cJSON_GetObjectItem(a, "cluster")))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long long seq;
    if (th == NULL)
        fz__open();
    const char *p = (const char *)data, *end = p + size;
    for (int k = 0; k < 8 && p <= end; k++) {
        const char *q = memchr(p, 0x01, (size_t)(end - p));
        if (q == NULL)
            q = end;
        size_t len = (size_t)(q - p);
        if (len > 0 && memchr(p, 0, len) == NULL && tm_utf8_valid(p, len)) {
            char id[32];
            snprintf(id, sizeof id, "f%llu", seq++);
            tm_doc_t *doc = tm_testhost_doc(id, p, len, k % 3 == 2 ? "text/html" : NULL);
            tm_err_t err = {{0}, {0}};
            int rc = tm_testhost_run(th, doc, &err);
            if (rc == TM_OK)
                fz__check(tm_testhost_annotation(doc, "dedup"));
            else if (rc != TM_EDOC)
                abort();
            tm_doc_destroy(&doc);
        }
        p = q + 1;
    }
    return 0;
}
