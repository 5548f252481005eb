/* Unit tests for daemon/auth.c: allow-list parsing (bare keys, czmq
 * certificates, comments, bad keys with their line) and certificates. */
#include "unit.h"

#include <unistd.h>
#include <zmq.h>

#include "../../daemon/auth.h"

static void test_keyset_parse(void **state)
{
    (void)state;
    char pub[41], sec[41], pub2[41], sec2[41];
    assert_int_equal(zmq_curve_keypair(pub, sec), 0);
    assert_int_equal(zmq_curve_keypair(pub2, sec2), 0);
    char text[1024];
    snprintf(text, sizeof text,
             "# allowed clients\n\n%s\nmetadata\n    name = \"x\"\ncurve\n"
             "    public-key = \"%s\"\n    secret-key = \"%s\"\n%s\n",
             pub, pub2, sec2, pub);
    tm_keyset_t *ks = tm_keyset_new();
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_keyset_parse(ks, text, strlen(text), "t", &err), 2); /* pub twice */
    assert_int_equal(tm_keyset_count(ks), 2);
    uint8_t bin[32];
    assert_non_null(zmq_z85_decode(bin, pub2));
    assert_true(tm_keyset_has(ks, bin));
    assert_non_null(zmq_z85_decode(bin, sec2)); /* a secret key is not a public one */
    assert_false(tm_keyset_has(ks, bin));
    tm_keyset_destroy(&ks);
    assert_null(ks);

    ks = tm_keyset_new();
    const char *bad = "# one\n0123456789012345678901234567890123456789\n~~~~~~~~~~~~~~~~~~~~"
                      "~~~~~~~~~~~~~~~~~~~~\n";
    assert_true(tm_keyset_parse(ks, bad, strlen(bad), "keys.txt", &err) < 0);
    assert_string_equal(err.code, "bad_key");
    assert_non_null(strstr(err.message, "keys.txt:3"));
    tm_keyset_destroy(&ks);
}

static void test_cert_files(void **state)
{
    (void)state;
    char path[] = "/tmp/tm-cert-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char pub[41], sec[41], p2[41], s2[41];
    assert_int_equal(zmq_curve_keypair(pub, sec), 0);
    dprintf(fd, "curve\n    public-key = \"%s\"\n", pub);
    close(fd);
    tm_err_t err = {{0}, {0}};
    assert_int_equal(tm_auth_load_cert(path, 0, p2, s2, &err), TM_OK);
    assert_string_equal(p2, pub);
    assert_int_not_equal(tm_auth_load_cert(path, 1, p2, s2, &err), TM_OK); /* no secret */
    assert_non_null(strstr(err.message, "secret-key"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyset_parse),
        cmocka_unit_test(test_cert_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
