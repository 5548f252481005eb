/* Unit tests for daemon/idset.c: the in-flight id set. */
#include "unit.h"

#include "../../daemon/idset.h"

static void test_add_remove(void **state)
{
    (void)state;
    tm_idset_t *s = tm_idset_new();
    assert_int_equal(tm_idset_add(s, "a"), 1);
    assert_int_equal(tm_idset_add(s, "a"), 0);
    assert_int_equal(tm_idset_add(s, "b"), 1);
    assert_int_equal(tm_idset_count(s), 2);
    assert_int_equal(tm_idset_remove(s, "a"), 1);
    assert_int_equal(tm_idset_remove(s, "a"), 0);
    assert_int_equal(tm_idset_add(s, "a"), 1);
    tm_idset_destroy(&s);
    assert_null(s);
}

/* Random adds and removes against a reference bitmap: exercises growth and
 * backward-shift deletion through long probe runs. */
static void test_matches_reference_model(void **state)
{
    (void)state;
    enum { N = 5000 };
    static unsigned char present[N];
    tm_idset_t *s = tm_idset_new();
    unsigned x = 12345;
    size_t count = 0;
    for (int op = 0; op < 200000; op++) {
        x = x * 1103515245u + 12345u;
        int k = (int)((x >> 8) % N);
        char id[32];
        snprintf(id, sizeof id, "doc-%d", k);
        if ((x >> 4) & 1) {
            int r = tm_idset_add(s, id);
            assert_int_equal(r, present[k] ? 0 : 1);
            if (!present[k])
                count++;
            present[k] = 1;
        } else {
            int r = tm_idset_remove(s, id);
            assert_int_equal(r, present[k] ? 1 : 0);
            if (present[k])
                count--;
            present[k] = 0;
        }
    }
    assert_int_equal(tm_idset_count(s), count);
    tm_idset_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_remove),
        cmocka_unit_test(test_matches_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
