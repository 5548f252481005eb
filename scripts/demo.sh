#!/bin/bash
# The README's first command: install the dependencies, build, start textmilld
# with the default config, send it the bundled sample articles over ZeroMQ,
# print the results, and stop it.  Run as root on Debian 12.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/deps.sh"
build="$src/build"
mkdir -p "$build"
cd "$src" && autoreconf -fi >/dev/null 2>&1
cd "$build"
[ -f Makefile ] || "$src/configure" --quiet
make -j"$(nproc)" >/dev/null
make demo
