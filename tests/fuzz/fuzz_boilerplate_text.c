/*
 * fuzz_boilerplate_text.c - libFuzzer harness for the boilerplate stage's
 * plain-text and Markdown paths: each input runs as text/plain and, when
 * it starts with '#', also as text/markdown.  Invariants: see
 * boilerplate_fuzz.h.
 *
 * FUZZ-SOURCES: plugins/boilerplate/bp_*.c
 * FUZZ-PKGS: gumbo
 * FUZZ-SEEDS: tests/data/boilerplate:.txt,.md
 */
#include "autoconfig.h"

#include "boilerplate_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bpf__run(data, size, "text/plain");
    if (size > 0 && data[0] == '#')
        bpf__run(data, size, "text/markdown");
    return 0;
}
