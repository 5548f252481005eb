/* Unit tests for daemon/params.c: declarative config tables. */
#include "unit.h"

#include "../../daemon/params.h"

static const tm_param_t table[] = {
    {.key = "threshold", .type = TM_PARAM_DOUBLE, .default_json = "0.8", .min = 0, .max = 1},
    {.key = "shingle", .type = TM_PARAM_INT, .default_json = "5", .min = 1, .max = 16},
    {.key = "mode", .type = TM_PARAM_ENUM, .default_json = "\"near\"", .choices = "exact|near|all"},
    {.key = "lexicon", .type = TM_PARAM_PATH, .default_json = "\"lex.txt\""},
    {.key = "extra", .type = TM_PARAM_PATH_LIST, .default_json = "[]"},
    {.key = "verbose", .type = TM_PARAM_BOOL, .default_json = "false"},
    {.key = "name", .type = TM_PARAM_STRING, .default_json = "null"},
    {0},
};

static int apply(const char *json, cJSON **out, tm_err_t *err)
{
    cJSON *user = json != NULL ? cJSON_Parse(json) : NULL;
    int rc = tm_params_apply(table, user, "stage \"t\"", "/data/t", out, err);
    cJSON_Delete(user);
    return rc;
}

static void test_defaults_filled_and_paths_resolved(void **state)
{
    (void)state;
    cJSON *out = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(apply("{\"extra\": [\"a.txt\", \"/abs/b.txt\"]}", &out, &err), TM_OK);
    assert_float_equal(cJSON_GetObjectItem(out, "threshold")->valuedouble, 0.8, 1e-9);
    assert_string_equal(cJSON_GetObjectItem(out, "mode")->valuestring, "near");
    assert_string_equal(cJSON_GetObjectItem(out, "lexicon")->valuestring, "/data/t/lex.txt");
    cJSON *extra = cJSON_GetObjectItem(out, "extra");
    assert_string_equal(cJSON_GetArrayItem(extra, 0)->valuestring, "/data/t/a.txt");
    assert_string_equal(cJSON_GetArrayItem(extra, 1)->valuestring, "/abs/b.txt");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(out, "name")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "verbose")));
    cJSON_Delete(out);
}

static void test_errors_name_the_key(void **state)
{
    (void)state;
    struct {
        const char *json;
        const char *expect;
    } cases[] = {
        {"{\"treshold\": 0.5}", "unknown config key \"treshold\""},
        {"{\"threshold\": 1.5}", "\"threshold\" must be between 0 and 1"},
        {"{\"threshold\": \"high\"}", "\"threshold\" must be a number"},
        {"{\"shingle\": 2.5}", "\"shingle\" must be a whole number"},
        {"{\"mode\": \"fuzzy\"}", "\"mode\" must be one of exact|near|all"},
        {"{\"verbose\": 1}", "\"verbose\" must be a bool"},
        {"{\"extra\": [1]}", "\"extra\" must be a path list"},
        {"[1]", "\"config\" must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *out = NULL;
        tm_err_t err = {{0}, {0}};
        assert_int_equal(apply(cases[i].json, &out, &err), TM_EINVAL);
        assert_null(out);
        assert_string_equal(err.code, "bad_config");
        assert_contains(err.message, cases[i].expect);
        assert_contains(err.message, "stage \"t\"");
    }
}

static void test_unknown_key_lists_known_keys(void **state)
{
    (void)state;
    cJSON *out = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(apply("{\"nope\": 1}", &out, &err), TM_EINVAL);
    assert_contains(err.message, "known keys: threshold, shingle, mode");
}

static void test_broken_tables_are_caught(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    const tm_param_t dup[] = {{.key = "a", .type = TM_PARAM_BOOL, .default_json = "true"},
                              {.key = "a", .type = TM_PARAM_BOOL, .default_json = "true"},
                              {0}};
    assert_int_equal(tm_params_check_table(dup, "p", &err), TM_EINVAL);
    assert_contains(err.message, "declares \"a\" twice");
    const tm_param_t badtype[] = {{.key = "n", .type = TM_PARAM_INT, .default_json = "\"x\""}, {0}};
    assert_int_equal(tm_params_check_table(badtype, "p", &err), TM_EINVAL);
    assert_contains(err.message, "does not match its type");
    const tm_param_t notjson[] = {{.key = "n", .type = TM_PARAM_INT, .default_json = "{"}, {0}};
    assert_int_equal(tm_params_check_table(notjson, "p", &err), TM_EINVAL);
    assert_int_equal(tm_params_check_table(table, "p", &err), TM_OK);
    assert_int_equal(tm_params_check_table(NULL, "p", &err), TM_OK);
}

static void test_describe_prints_every_key(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    tm_params_describe(f, table);
    fclose(f);
    assert_contains(buf, "threshold");
    assert_contains(buf, "(0..1)");
    assert_contains(buf, "one of: exact|near|all");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_filled_and_paths_resolved),
        cmocka_unit_test(test_errors_name_the_key),
        cmocka_unit_test(test_unknown_key_lists_known_keys),
        cmocka_unit_test(test_broken_tables_are_caught),
        cmocka_unit_test(test_describe_prints_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
