/* Unit tests for daemon/config.c: the daemon's config file. */
#include "unit.h"

#include "../../daemon/config.h"

static tm_config_t *parse(const char *text, const cJSON *ov, tm_err_t *err)
{
    tm_config_t *c = NULL;
    tm_config_parse(text, strlen(text), "test.conf", "/etc/tm", ov, &c, err);
    return c;
}

static void test_comments_are_stripped_but_not_inside_strings(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_config_t *c = parse("// leading comment\n"
                           "{ /* block\n comment */ \"ingest\": \"tcp://127.0.0.1:9//x\",\n"
                           "  \"workers\": 3, // trailing\n"
                           "  \"log_level\": \"debug\" }\n",
                           NULL, &err);
    assert_non_null(c);
    assert_string_equal(c->ingest, "tcp://127.0.0.1:9//x");
    assert_int_equal(c->workers, 3);
    assert_int_equal(c->log_level, 3);
    tm_config_free(&c);
    assert_null(c);
}

static void test_defaults(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_config_t *c = parse("", NULL, &err);
    assert_non_null(c);
    assert_string_equal(c->ingest, "tcp://127.0.0.1:7710");
    assert_string_equal(c->push, "tcp://127.0.0.1:7711");
    assert_string_equal(c->publish, "tcp://127.0.0.1:7720");
    assert_string_equal(c->deliver, "");
    assert_int_equal(c->max_doc_bytes, 4194304);
    assert_true(c->workers >= 1);
    assert_true(cJSON_IsArray(c->pipeline));
    tm_config_free(&c);
}

static void test_parse_error_has_line_and_column(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    assert_null(parse("{\n  \"workers\": 2,\n  \"ingest\": oops\n}", NULL, &err));
    assert_contains(err.message, "test.conf:3:");
}

static void test_unknown_and_mistyped_keys(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    assert_null(parse("{\"worker\": 2}", NULL, &err));
    assert_contains(err.message, "unknown config key \"worker\"");
    assert_null(parse("{\"max_in_flight\": 0}", NULL, &err));
    assert_contains(err.message, "\"max_in_flight\" must be between 1");
    assert_null(parse("{\"log_level\": \"loud\"}", NULL, &err));
    assert_contains(err.message, "\"log_level\" must be one of");
    assert_null(parse("{\"pipeline\": [\"dedup\"]}", NULL, &err));
    assert_contains(err.message, "pipeline[0] must be an object");
    assert_null(parse("[]", NULL, &err));
}

static void test_overrides_win_and_are_validated(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    cJSON *ov = cJSON_Parse("{\"workers\": 5, \"ingest\": \"ipc:///tmp/x\"}");
    tm_config_t *c = parse("{\"workers\": 2, \"push\": \"\"}", ov, &err);
    assert_non_null(c);
    assert_int_equal(c->workers, 5);
    assert_string_equal(c->ingest, "ipc:///tmp/x");
    assert_string_equal(c->push, "");
    tm_config_free(&c);
    cJSON_Delete(ov);
    ov = cJSON_Parse("{\"workers\": -1}");
    assert_null(parse("{}", ov, &err));
    assert_contains(err.message, "command line");
    cJSON_Delete(ov);
}

static void test_relative_paths_follow_the_file(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_config_t *c = parse("{\"plugin_dir\": \"plugins\", \"data_dir\": \"/abs/data\"}", NULL, &err);
    assert_non_null(c);
    assert_string_equal(c->plugin_dir, "/etc/tm/plugins");
    assert_string_equal(c->data_dir, "/abs/data");
    tm_config_free(&c);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_config_t *c = NULL;
    assert_int_equal(tm_config_load("/nonexistent/textmill.conf", NULL, &c, &err), TM_EIO);
    assert_null(c);
    assert_contains(err.message, "/nonexistent/textmill.conf");
}

static void test_shipped_sample_config_is_valid(void **state)
{
    (void)state;
    char path[4096];
    const char *src = getenv("TM_SRCDIR");
    snprintf(path, sizeof path, "%s/daemon/textmill.conf", src != NULL ? src : ".");
    tm_err_t err = {{0}, {0}};
    tm_config_t *c = NULL;
    assert_int_equal(tm_config_load(path, NULL, &c, &err), TM_OK);
    assert_true(cJSON_GetArraySize(c->pipeline) >= 1);
    tm_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comments_are_stripped_but_not_inside_strings),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_parse_error_has_line_and_column),
        cmocka_unit_test(test_unknown_and_mistyped_keys),
        cmocka_unit_test(test_overrides_win_and_are_validated),
        cmocka_unit_test(test_relative_paths_follow_the_file),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_shipped_sample_config_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
