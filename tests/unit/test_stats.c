/* Unit tests for the example stage (plugins/stats), run in the test host. */
#include "unit.h"

#include "../support/testhost.h"

const tm_stage_desc_t *tm_stage_entry_v1(void);

static int num(const cJSON *a, const char *k) { return cJSON_GetObjectItem(a, k)->valueint; }

static void test_counts(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = tm_testhost_open(tm_stage_entry_v1(), "{\"words_per_minute\": 60}", NULL,
                                         NULL, &err);
    assert_non_null(th);
    tm_doc_t *doc = tm_testhost_doc(NULL,
                                    "Headline without a stop\n"
                                    "First sentence. Second one?! Third \xe2\x80\x9cquoted.\xe2\x80\x9d\n"
                                    "\n"
                                    "  -- \n"
                                    "Last paragraph... ends here",
                                    (size_t)-1, NULL);
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    const cJSON *a = tm_testhost_annotation(doc, "stats");
    assert_non_null(a);
    assert_int_equal(num(a, "words"), 14);
    assert_int_equal(num(a, "paragraphs"), 4);
    assert_int_equal(num(a, "sentences"), 6);
    assert_int_equal(num(a, "reading_time_s"), 14); /* 60 wpm: one second a word */
    tm_doc_destroy(&doc);
    tm_testhost_close(&th);
}

static void test_config_is_validated(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    assert_null(tm_testhost_open(tm_stage_entry_v1(), "{\"words_per_minute\": 5}", NULL, NULL, &err));
    assert_contains(err.message, "\"words_per_minute\" must be between 50 and 2000");
}

static void test_empty_and_punctuation_only(void **state)
{
    (void)state;
    tm_err_t err = {{0}, {0}};
    tm_testhost_t *th = tm_testhost_open(tm_stage_entry_v1(), NULL, NULL, NULL, &err);
    tm_doc_t *doc = tm_testhost_doc(NULL, "... !!! ???", (size_t)-1, NULL);
    assert_int_equal(tm_testhost_run(th, doc, &err), TM_OK);
    const cJSON *a = tm_testhost_annotation(doc, "stats");
    assert_int_equal(num(a, "words"), 0);
    assert_int_equal(num(a, "sentences"), 0);
    assert_int_equal(num(a, "paragraphs"), 1);
    tm_doc_destroy(&doc);
    tm_testhost_close(&th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_config_is_validated),
        cmocka_unit_test(test_empty_and_punctuation_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
