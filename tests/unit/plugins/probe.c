/*
 * probe.c - a test stage for the pipeline and the daemon's error paths.
 *
 *  - process() sleeps a little on some documents so that they finish their
 *    parallel part out of order;
 *  - process_ordered() stamps each document with a global counter, so tests
 *    can check that the ordered lane saw documents in arrival order;
 *  - a text containing "PROBE_FAIL" makes it return TM_EDOC;
 *  - "PROBE_FATAL" makes it return TM_EFATAL (the stage is then disabled);
 *  - "PROBE_SLEEP_MS=N" makes it sleep N ms (shutdown-under-load tests);
 *  - "PROBE_CRASH" makes it crash the whole process with a segmentation
 *    fault (poison-document tests);
 *  - config "rewrite": true flags it as a text rewriter that upper-cases
 *    nothing but appends " [probed]" (to test text replacement).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <textmill/stage.h>

typedef struct {
    const tm_host_t *host;
    atomic_long order;
    int jitter;
} probe_t;

static const tm_param_t params[] = {
    {.key = "jitter", .type = TM_PARAM_BOOL, .default_json = "true",
     .description = "sleep up to 200 us in process() to scramble completion order"},
    {.key = "create_sleep_ms", .type = TM_PARAM_INT, .default_json = "0", .min = 0, .max = 60000,
     .description = "sleep this long in create() (slow reloads)"},
    {0},
};

static int create(const tm_host_t *h, const cJSON *c, void **inst, tm_err_t *err)
{
    probe_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return tm_err_set(err, TM_ENOMEM, "oom", "out of memory");
    p->host = h;
    p->jitter = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "jitter"));
    long ms = (long)cJSON_GetObjectItemCaseSensitive(c, "create_sleep_ms")->valuedouble;
    if (ms > 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    *inst = p;
    return TM_OK;
}

static void destroy(void *inst) { free(inst); }

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int process(void *inst, void *tls, tm_doc_t *doc, tm_err_t *err)
{
    probe_t *p = inst;
    (void)tls;
    size_t len;
    const char *text = p->host->doc_text(doc, &len);
    const char *s = strstr(text, "PROBE_SLEEP_MS=");
    if (s != NULL)
        sleep_us(atol(s + strlen("PROBE_SLEEP_MS=")) * 1000);
    else if (p->jitter)
        sleep_us((long)(len * 7919 % 200));
    if (strstr(text, "PROBE_CRASH") != NULL) {
        /* A real invalid write, as a buggy plugin would make. */
        volatile int *volatile bad = (volatile int *)(uintptr_t)16;
        *bad = 1;
    }
    if (strstr(text, "PROBE_FATAL") != NULL)
        return tm_err_set(err, TM_EFATAL, "probe_fatal", "the probe was told to fail fatally");
    if (strstr(text, "PROBE_FAIL") != NULL)
        return tm_err_set(err, TM_EDOC, "probe_failed", "the probe was told to fail on this document");
    long *len_copy = malloc(sizeof *len_copy);
    if (len_copy != NULL) {
        *len_copy = (long)len;
        p->host->doc_stash_put(doc, len_copy, free);
    }
    return TM_OK;
}

static int process_ordered(void *inst, void *tls, tm_doc_t *doc, tm_err_t *err)
{
    probe_t *p = inst;
    (void)tls;
    (void)err;
    long *len_copy = p->host->doc_stash_take(doc);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "order", (double)atomic_fetch_add(&p->order, 1));
    cJSON_AddNumberToObject(a, "stashed_len", len_copy != NULL ? (double)*len_copy : -1);
    free(len_copy);
    return p->host->doc_annotate(doc, "probe", a);
}

static const tm_stage_desc_t desc = {
    TM_STAGE_DESC_HEADER, .name = "probe", .version = "0",
    .description = "test stage: ordered-lane stamps and forced failures",
    .params = params, .create = create, .destroy = destroy,
    .process = process, .process_ordered = process_ordered,
};
TM_STAGE_EXPORT(desc)
