/* Unit tests for daemon/metrics.c: registry and Prometheus rendering. */
#include "unit.h"

#include "../../daemon/metrics.h"

static void test_render_families(void **state)
{
    (void)state;
    tm_metrics_t *m = tm_metrics_new();
    tm_metric_t *a = tm_metrics_register(m, TM_METRIC_COUNTER, "tm_docs_total", "Docs.",
                                         "stage=\"a\"", NULL, 0);
    tm_metric_t *g = tm_metrics_register(m, TM_METRIC_GAUGE, "tm_in_flight", "In flight.", NULL,
                                         NULL, 0);
    tm_metric_t *b = tm_metrics_register(m, TM_METRIC_COUNTER, "tm_docs_total", "Docs.",
                                         "stage=\"b\"", NULL, 0);
    assert_ptr_equal(tm_metrics_register(m, TM_METRIC_COUNTER, "tm_docs_total", "Docs.",
                                         "stage=\"a\"", NULL, 0),
                     a);
    assert_null(tm_metrics_register(m, TM_METRIC_GAUGE, "tm_docs_total", "x", "k=\"v\"", NULL, 0));
    tm_metric_add(a, 2);
    tm_metric_add(b, 1);
    tm_metric_set(g, 7);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(tm_metrics_render(m, &out, &len), TM_OK);
    assert_int_equal(strlen(out), len);
    const char *want = "# HELP tm_docs_total Docs.\n# TYPE tm_docs_total counter\n"
                       "tm_docs_total{stage=\"a\"} 2\ntm_docs_total{stage=\"b\"} 1\n"
                       "# HELP tm_in_flight In flight.\n# TYPE tm_in_flight gauge\n"
                       "tm_in_flight 7\n";
    assert_string_equal(out, want);
    free(out);
    tm_metrics_destroy(&m);
    assert_null(m);
}

static void test_histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    tm_metrics_t *m = tm_metrics_new();
    const double b[] = {0.1, 1};
    tm_metric_t *h = tm_metrics_register(m, TM_METRIC_HISTOGRAM, "tm_lat_seconds", "Latency.",
                                         NULL, b, 2);
    tm_metric_observe(h, 0.05);
    tm_metric_observe(h, 0.5);
    tm_metric_observe(h, 5);
    tm_metric_observe(h, 0.0 / 0.0); /* NaN is ignored */
    assert_int_equal(tm_metric_count(h), 3);
    char *out = NULL;
    size_t len = 0;
    tm_metrics_render(m, &out, &len);
    assert_contains(out, "tm_lat_seconds_bucket{le=\"0.1\"} 1\n");
    assert_contains(out, "tm_lat_seconds_bucket{le=\"1\"} 2\n");
    assert_contains(out, "tm_lat_seconds_bucket{le=\"+Inf\"} 3\n");
    assert_contains(out, "tm_lat_seconds_sum 5.55\n");
    assert_contains(out, "tm_lat_seconds_count 3\n");
    free(out);
    tm_metrics_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_families),
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
