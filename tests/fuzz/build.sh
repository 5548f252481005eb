#!/bin/bash
# Build every libFuzzer harness in tests/fuzz/ with clang, ASan and UBSan.
#
#   tests/fuzz/build.sh OUTDIR
#
# A harness names what it needs in its own header comment, so adding one
# never means editing this script:
#   FUZZ-SOURCES: files (relative to the source root, globs allowed) to
#                 compile into the harness besides the core
#   FUZZ-PKGS:    extra pkg-config modules to link
# Every harness gets the core (daemon/*.c without main.c and the socket
# code) and tests/support/testhost.c.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
CC=${FUZZ_CC:-clang-14}
command -v "$CC" >/dev/null || CC=clang
flags=(-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$src/include" -I"$src/tests/fuzz")
core=(daemon/codec.c daemon/jtext.c daemon/config.c daemon/doc.c daemon/params.c daemon/utf8.c daemon/log.c
      daemon/workers.c tests/support/testhost.c)
base_pkgs=(libcjson libutf8proc libxxhash)
for h in "$src"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$h" .c)
    extra=$(sed -n 's/^.*FUZZ-SOURCES:[[:space:]]*//p' "$h" | head -1)
    pkgs=$(sed -n 's/^.*FUZZ-PKGS:[[:space:]]*//p' "$h" | head -1)
    files=()
    for f in "${core[@]}"; do files+=("$src/$f"); done
    for g in $extra; do for f in $src/$g; do files+=("$f"); done; done
    # shellcheck disable=SC2086
    pc=$(pkg-config --cflags --libs "${base_pkgs[@]}" $pkgs)
    echo "  FUZZ   $name"
    # shellcheck disable=SC2086
    "$CC" "${flags[@]}" -Werror -o "$out/$name" "$h" "${files[@]}" $pc -lm -lpthread
done
