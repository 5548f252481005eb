/* Unit tests for daemon/lane.c: the ordered lane. */
#include "unit.h"

#include "../../daemon/lane.h"

static void test_in_order_passes_at_once(void **state)
{
    (void)state;
    tm_lane_t *l = tm_lane_new(4);
    int a = 1;
    assert_int_equal(tm_lane_arrive(l, 0, &a), 1);
    assert_ptr_equal(tm_lane_next(l), &a);
    assert_null(tm_lane_next(l));
    assert_int_equal(tm_lane_position(l), 1);
    tm_lane_destroy(&l);
    assert_null(l);
}

static void test_out_of_order_waits_for_the_gap(void **state)
{
    (void)state;
    tm_lane_t *l = tm_lane_new(4);
    int items[4];
    assert_int_equal(tm_lane_arrive(l, 2, &items[2]), 0);
    assert_int_equal(tm_lane_arrive(l, 1, &items[1]), 0);
    assert_int_equal(tm_lane_arrive(l, 3, TM_LANE_SKIP), 0);
    /* The one the lane waits for makes its bearer the drainer. */
    assert_int_equal(tm_lane_arrive(l, 0, &items[0]), 1);
    assert_ptr_equal(tm_lane_next(l), &items[0]);
    assert_ptr_equal(tm_lane_next(l), &items[1]);
    assert_ptr_equal(tm_lane_next(l), &items[2]);
    assert_ptr_equal(tm_lane_next(l), TM_LANE_SKIP);
    assert_null(tm_lane_next(l));
    assert_int_equal(tm_lane_position(l), 4);
    tm_lane_destroy(&l);
}

static void test_arrival_while_draining_is_picked_up(void **state)
{
    (void)state;
    tm_lane_t *l = tm_lane_new(4);
    int a, b;
    assert_int_equal(tm_lane_arrive(l, 0, &a), 1);
    assert_ptr_equal(tm_lane_next(l), &a);
    /* While the drainer works on 0, 1 arrives: it must not become a second
     * drainer, and the first must see it. */
    assert_int_equal(tm_lane_arrive(l, 1, &b), 0);
    assert_ptr_equal(tm_lane_next(l), &b);
    assert_null(tm_lane_next(l));
    tm_lane_destroy(&l);
}

static void test_grows_past_its_capacity(void **state)
{
    (void)state;
    tm_lane_t *l = tm_lane_new(16);
    static int items[1000];
    /* 0 is slow; 1..999 arrive first (many of them skips). */
    for (int i = 999; i >= 1; i--)
        assert_int_equal(tm_lane_arrive(l, (uint64_t)i, i % 3 ? (void *)&items[i] : TM_LANE_SKIP), 0);
    assert_int_equal(tm_lane_arrive(l, 0, &items[0]), 1);
    for (int i = 0; i < 1000; i++) {
        void *it = tm_lane_next(l);
        if (i > 0 && i % 3 == 0)
            assert_ptr_equal(it, TM_LANE_SKIP);
        else
            assert_ptr_equal(it, &items[i]);
    }
    assert_null(tm_lane_next(l));
    tm_lane_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_passes_at_once),
        cmocka_unit_test(test_out_of_order_waits_for_the_gap),
        cmocka_unit_test(test_arrival_while_draining_is_picked_up),
        cmocka_unit_test(test_grows_past_its_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
