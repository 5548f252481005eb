/*
 * fuzz_config.c - libFuzzer harness for the config parser: comment
 * stripping, JSON parsing, key validation and overrides.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "../../daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tm_config_t *c = NULL;
    tm_err_t err = {{0}, {0}};
    if (tm_config_parse((const char *)data, size, "fuzz.conf", "/tmp", NULL, &c, &err) == TM_OK) {
        if (c->workers == 0 || c->pipeline == NULL)
            abort();
        tm_config_free(&c);
    } else if (err.message[0] == '\0') {
        abort(); /* every failure explains itself */
    }
    return 0;
}
