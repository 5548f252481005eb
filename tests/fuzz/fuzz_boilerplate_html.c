/*
 * fuzz_boilerplate_html.c - libFuzzer harness for the boilerplate stage's
 * HTML path (pre-pass, gumbo, content selection, cleaning): each input runs
 * as text/html.  Invariants: see boilerplate_fuzz.h.
 *
 * FUZZ-SOURCES: plugins/boilerplate/bp_*.c
 * FUZZ-PKGS: gumbo
 * FUZZ-SEEDS: tests/data/boilerplate:.html
 */
#include "autoconfig.h"

#include "boilerplate_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return bpf__run(data, size, "text/html");
}
