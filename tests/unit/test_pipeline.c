/* Unit tests for daemon/pipeline.c, job.c, batch.c and workers.c: loading a
 * stage chain, running documents through it on several workers, ordered
 * lanes, per-stage errors and the batch runner's output order. */
#include "unit.h"

#include "../../daemon/batch.h"
#include "../../daemon/pipeline.h"

static char probe_path[4096], rewriter_path[4096], failing_path[4096], plugin_dir[4096];

static int build(const char *spec_json, unsigned workers, tm_pipeline_t **p, tm_err_t *err)
{
    cJSON *spec = cJSON_Parse(spec_json);
    assert_non_null(spec);
    tm_pipeline_opts_t o = {.plugin_dir = plugin_dir, .data_dir = "/nonexistent",
                            .workers = workers, .mode = TM_HOST_BATCH, .max_in_flight = 64};
    int rc = tm_pipeline_new(&o, spec, p, err);
    cJSON_Delete(spec);
    return rc;
}

/* Run input through a pipeline with the batch runner; returns the output. */
static char *run_batch(tm_pipeline_t *p, unsigned workers, const char *input, tm_batch_stats_t *st)
{
    tm_pool_t *pool = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_pool_new(workers, &pool, &err), TM_OK);
    FILE *in = fmemopen((void *)input, strlen(input), "r");
    char *out = NULL;
    size_t outlen = 0;
    FILE *outf = open_memstream(&out, &outlen);
    tm_limits_t lim = {.max_doc_bytes = 1 << 20, .max_meta_depth = 8};
    assert_int_equal(tm_batch_run(in, outf, p, pool, &lim, 32, st, &err), TM_OK);
    fclose(in);
    fclose(outf);
    tm_pool_destroy(&pool);
    return out;
}

static cJSON *line_at(const char *out, int k)
{
    const char *p = out;
    for (int i = 0; i < k; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    const char *e = strchr(p, '\n');
    return cJSON_ParseWithLength(p, e != NULL ? (size_t)(e - p) : strlen(p));
}

static void test_ordered_lane_sees_arrival_order(void **state)
{
    (void)state;
    char spec[8192];
    snprintf(spec, sizeof spec, "[{\"path\":\"%s\"}]", probe_path);
    tm_pipeline_t *p = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(build(spec, 4, &p, &err), TM_OK);
    enum { N = 3000 };
    char *input = malloc(N * 80);
    size_t o = 0;
    for (int i = 0; i < N; i++) {
        if (i % 7 == 3)
            o += (size_t)sprintf(input + o, "not json %d\n", i); /* a skipped number */
        else
            o += (size_t)sprintf(input + o, "{\"id\":\"d%d\",\"text\":\"%.*s\"}\n", i, i % 50 + 1,
                                 "lorem ipsum dolor sit amet consectetur adipiscing elit sed do");
    }
    tm_batch_stats_t st;
    char *out = run_batch(p, 4, input, &st);
    assert_int_equal(st.lines, N);
    assert_int_equal(st.errors, N / 7 + (N % 7 > 3));
    long expect_order = 0;
    for (int i = 0; i < N; i++) {
        cJSON *r = line_at(out, i);
        assert_non_null(r);
        if (i % 7 == 3) {
            assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "code")->valuestring,
                                "invalid_json");
            assert_int_equal(cJSON_GetObjectItem(r, "line")->valueint, i + 1);
        } else {
            char id[32];
            snprintf(id, sizeof id, "d%d", i);
            assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, id);
            cJSON *probe = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "annotations"), "probe");
            assert_int_equal(cJSON_GetObjectItem(probe, "order")->valueint, expect_order);
            /* process() stashed the length for process_ordered(). */
            assert_int_equal(cJSON_GetObjectItem(probe, "stashed_len")->valueint, i % 50 + 1);
            expect_order++;
        }
        cJSON_Delete(r);
    }
    free(out);
    free(input);
    tm_pipeline_unref(&p);
    assert_null(p);
}

static void test_doc_errors_and_fatal(void **state)
{
    (void)state;
    char spec[8192];
    snprintf(spec, sizeof spec, "[{\"path\":\"%s\",\"config\":{\"jitter\":false}},{\"stage\":\"stats\"}]",
             probe_path);
    tm_pipeline_t *p = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(build(spec, 1, &p, &err), TM_OK);
    const char *input = "{\"id\":\"ok\",\"text\":\"fine\"}\n"
                        "{\"id\":\"bad\",\"text\":\"PROBE_FAIL here\"}\n"
                        "{\"id\":\"fatal\",\"text\":\"PROBE_FATAL now\"}\n"
                        "{\"id\":\"after\",\"text\":\"later text\"}\n";
    tm_batch_stats_t st;
    char *out = run_batch(p, 1, input, &st);
    assert_int_equal(st.results, 4);
    cJSON *bad = line_at(out, 1);
    cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItem(bad, "errors"), 0);
    assert_string_equal(cJSON_GetObjectItem(e0, "stage")->valuestring, "probe");
    assert_string_equal(cJSON_GetObjectItem(e0, "code")->valuestring, "probe_failed");
    /* The document went on to the next stage. */
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(bad, "annotations"), "stats"));
    cJSON *after = line_at(out, 3);
    cJSON *ann = cJSON_GetObjectItem(after, "annotations");
    assert_null(cJSON_GetObjectItem(ann, "probe")); /* disabled */
    assert_non_null(cJSON_GetObjectItem(ann, "stats"));
    assert_int_equal(atomic_load(&p->fatal), 1);
    cJSON_Delete(bad);
    cJSON_Delete(after);
    free(out);
    tm_pipeline_unref(&p);
}

static void test_rewriting_stage_must_come_first(void **state)
{
    (void)state;
    char spec[8192];
    tm_pipeline_t *p = NULL;
    tm_err_t err = {{0}, {0}};
    snprintf(spec, sizeof spec, "[{\"stage\":\"stats\"},{\"path\":\"%s\"}]", rewriter_path);
    assert_int_equal(build(spec, 1, &p, &err), TM_EINVAL);
    assert_null(p);
    assert_contains(err.message, "rewrites text, so it must come before annotating stage \"stats\"");

    snprintf(spec, sizeof spec, "[{\"path\":\"%s\"},{\"stage\":\"stats\"}]", rewriter_path);
    assert_int_equal(build(spec, 1, &p, &err), TM_OK);
    tm_batch_stats_t st;
    char *out = run_batch(p, 1, "{\"text\":\"one two\"}\n", &st);
    cJSON *r = line_at(out, 0);
    assert_string_equal(cJSON_GetObjectItem(r, "text")->valuestring, "one two [rewritten]");
    /* Offsets and counts refer to the final text. */
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "annotations"),
                                                             "stats"),
                                         "words")
                         ->valueint,
                     3);
    assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, "line-0");
    cJSON_Delete(r);
    free(out);
    tm_pipeline_unref(&p);
}

static void test_config_errors_name_the_entry(void **state)
{
    (void)state;
    char spec[8192];
    tm_pipeline_t *p = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(build("[{\"stage\":\"stats\"},{\"stage\":\"stats\"}]", 1, &p, &err), TM_EINVAL);
    assert_contains(err.message, "a stage named \"stats\" is already in the pipeline");
    assert_int_equal(build("[{\"stage\":\"stats\",\"config\":{\"wpm\":3}}]", 1, &p, &err), TM_EINVAL);
    assert_contains(err.message, "stage \"stats\": unknown config key \"wpm\"");
    assert_int_equal(build("[{\"stage\":\"stats\",\"colour\":1}]", 1, &p, &err), TM_EINVAL);
    assert_contains(err.message, "pipeline[0]: unknown config key \"colour\"");
    assert_int_equal(build("[{\"config\":{}}]", 1, &p, &err), TM_EINVAL);
    assert_contains(err.message, "needs \"stage\"");
    assert_int_equal(build("[{\"stage\":\"nope\"}]", 1, &p, &err), TM_ENOENT);
    assert_contains(err.message, "nope.so");
    snprintf(spec, sizeof spec, "[{\"path\":\"%s\"}]", failing_path);
    assert_int_not_equal(build(spec, 1, &p, &err), TM_OK);
    assert_string_equal(err.code, "create_failed");
    assert_contains(err.message, "cannot open lexicon /nonexistent/failing_create/missing.txt");
    assert_contains(err.message, "[lexicon_unreadable]");
    /* A disabled entry is not even loaded. */
    assert_int_equal(build("[{\"stage\":\"nope\",\"enabled\":false},{\"stage\":\"stats\"}]", 1, &p, &err),
                     TM_OK);
    assert_int_equal(p->n, 1);
    tm_pipeline_unref(&p);
}

int main(void)
{
    tm_test_plugin("probe", probe_path, sizeof probe_path);
    tm_test_plugin("rewriter", rewriter_path, sizeof rewriter_path);
    tm_test_plugin("failing_create", failing_path, sizeof failing_path);
    tm_test_plugin_dir(plugin_dir, sizeof plugin_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordered_lane_sees_arrival_order),
        cmocka_unit_test(test_doc_errors_and_fatal),
        cmocka_unit_test(test_rewriting_stage_must_come_first),
        cmocka_unit_test(test_config_errors_name_the_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
