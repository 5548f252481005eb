/*
 * fuzz_allowlist.c - libFuzzer harness for the CurveZMQ allow-list parser
 * (czmq certificates and bare Z85 keys): whatever it accepts is a key it
 * can then find, and every refusal explains itself.
 *
 * FUZZ-SOURCES: daemon/auth.c daemon/metrics.c
 * FUZZ-PKGS: libzmq
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "../../daemon/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tm_keyset_t *ks = tm_keyset_new();
    if (ks == NULL)
        return 0;
    tm_err_t err = {{0}, {0}};
    int n = tm_keyset_parse(ks, (const char *)data, size, "fuzz", &err);
    if (n < 0 && err.message[0] == '\0')
        abort();
    if (n >= 0 && (size_t)n != tm_keyset_count(ks))
        abort();
    tm_keyset_destroy(&ks);
    return 0;
}
