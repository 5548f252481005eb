/* Unit tests for daemon/loader.c: loading plugins and refusing bad ones. */
#include "unit.h"

#include <unistd.h>

#include "../../daemon/loader.h"

static void expect_refused(const char *name, const char *code, const char *needle)
{
    char path[4096];
    tm_plugin_t *p = NULL;
    tm_err_t err = {{0}, {0}};
    int rc = tm_plugin_open(tm_test_plugin(name, path, sizeof path), &p, &err);
    if (rc == TM_OK)
        fail_msg("plugin %s was loaded, expected %s", name, code);
    assert_null(p);
    assert_string_equal(err.code, code);
    assert_contains(err.message, path); /* names the file */
    assert_contains(err.message, needle);
}

static void test_wrong_abi_major(void **state)
{
    (void)state;
    expect_refused("bad_abi", "abi_mismatch", "built for stage ABI 2.0, this textmilld provides 1.");
}

static void test_newer_minor(void **state)
{
    (void)state;
    expect_refused("newer_minor", "abi_mismatch", "ABI mismatch");
}

static void test_old_major_entry_symbol(void **state)
{
    (void)state;
    expect_refused("old_major", "abi_mismatch", "built for stage ABI 0.x");
}

static void test_missing_entry_symbol(void **state)
{
    (void)state;
    expect_refused("no_entry", "not_a_plugin", "exports no tm_stage_entry_v1 symbol");
}

static void test_missing_file_and_non_elf(void **state)
{
    (void)state;
    tm_plugin_t *p = NULL;
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_plugin_open("/nonexistent/x.so", &p, &err), TM_ENOENT);
    assert_string_equal(err.code, "plugin_missing");
    char tmpl[] = "/tmp/tm-notelf-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not an ELF file\n", 16), 16);
    close(fd);
    assert_int_equal(tm_plugin_open(tmpl, &p, &err), TM_EINVAL);
    assert_string_equal(err.code, "not_a_plugin");
    assert_contains(err.message, "cannot be loaded as a shared object");
    unlink(tmpl);
}

static void test_good_plugin_and_find(void **state)
{
    (void)state;
    char dir[4096], path[4096];
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_plugin_find(tm_test_plugin_dir(dir, sizeof dir), "stats", path, sizeof path,
                                    &err),
                     TM_OK);
    tm_plugin_t *p = NULL;
    assert_int_equal(tm_plugin_open(path, &p, &err), TM_OK);
    assert_string_equal(p->desc.name, "stats");
    assert_non_null(p->desc.create);
    assert_int_equal(p->desc.abi_major, TM_ABI_MAJOR);
    tm_plugin_close(&p);
    assert_null(p);
    assert_int_equal(tm_plugin_find(dir, "nosuchstage", path, sizeof path, &err), TM_ENOENT);
    assert_contains(err.message, "nosuchstage.so");
    assert_int_equal(tm_plugin_find(dir, "../etc", path, sizeof path, &err), TM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_abi_major),
        cmocka_unit_test(test_newer_minor),
        cmocka_unit_test(test_old_major_entry_symbol),
        cmocka_unit_test(test_missing_entry_symbol),
        cmocka_unit_test(test_missing_file_and_non_elf),
        cmocka_unit_test(test_good_plugin_and_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
