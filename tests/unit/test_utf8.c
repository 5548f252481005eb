/* Unit tests for daemon/utf8.c: validation and safe clipping. */
#include "unit.h"

#include "../../daemon/utf8.h"

static void test_valid(void **state)
{
    (void)state;
    const char *ok[] = {"", "plain ascii text that is longer than eight bytes",
                        "caf\xc3\xa9", "\xe2\x80\x9cquoted\xe2\x80\x9d", "\xf0\x9f\x98\x80 emoji",
                        "\xef\xbb\xbf" "BOM", "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(tm_utf8_valid(ok[i], strlen(ok[i])));
}

static void test_invalid_reports_offset(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t at;
    } bad[] = {
        {"abc\xff", 3},                 /* never valid */
        {"abcdefghij\xc0\xaf", 10},     /* overlong '/' */
        {"x\xed\xa0\x80", 1},           /* UTF-16 surrogate */
        {"\xf4\x90\x80\x80", 0},        /* above U+10FFFF */
        {"ok \xe2\x80", 3},             /* truncated sequence */
        {"\x80", 0},                    /* lone continuation byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i].s);
        assert_false(tm_utf8_valid(bad[i].s, len));
        assert_int_equal(tm_utf8_invalid_at(bad[i].s, len), bad[i].at);
    }
}

static void test_clip_never_splits_a_character(void **state)
{
    (void)state;
    const char *s = "ab\xe2\x80\x9c" "cd"; /* a b “ c d */
    size_t len = strlen(s);
    assert_int_equal(tm_utf8_clip(s, len, 100), len);
    assert_int_equal(tm_utf8_clip(s, len, 2), 2);
    assert_int_equal(tm_utf8_clip(s, len, 3), 2);
    assert_int_equal(tm_utf8_clip(s, len, 4), 2);
    assert_int_equal(tm_utf8_clip(s, len, 5), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid_reports_offset),
        cmocka_unit_test(test_clip_never_splits_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
