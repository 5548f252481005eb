#!/bin/bash
# Run every fuzz harness built by build.sh for a bounded time each, on its
# checked-in corpus (tests/fuzz/corpus/<name without fuzz_>/) plus the test
# fixtures its source names in a "FUZZ-SEEDS: DIR:.EXT[,.EXT]..." line (a
# folder relative to the source root and the file endings to take from it),
# so fixtures are not kept twice.  Exits
# non-zero at the first crash, leak or sanitizer report.
#
#   tests/fuzz/run.sh OUTDIR [SECONDS_PER_HARNESS] [HARNESS_NAME]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: run.sh OUTDIR [SECONDS]}
secs=${2:-30}
only=${3:-}
status=0
for bin in "$out"/fuzz_*; do
    [ -n "$only" ] && [ "$(basename "$bin")" != "$only" ] && continue
    case "$bin" in *.log|*.run|*-crash-*|*-leak-*|*-timeout-*|*-oom-*) continue ;; esac
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    corpus="$src/tests/fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    seeds=$(sed -n 's/^.*FUZZ-SEEDS:[[:space:]]*//p' "$src/tests/fuzz/$name.c" 2>/dev/null | head -1)
    for spec in $seeds; do
        dir=${spec%%:*}
        for ext in $(echo "${spec#*:}" | tr ',' ' '); do
            for f in "$src/$dir"/*"$ext"; do [ -f "$f" ] && cp "$f" "$work"/ || true; done
        done
    done
    dict=()
    [ -f "$src/tests/fuzz/${name#fuzz_}.dict" ] && dict=(-dict="$src/tests/fuzz/${name#fuzz_}.dict")
    echo "fuzz: $name for ${secs}s"
    if ! "$bin" "${dict[@]}" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1; then
        echo "fuzz: $name FAILED (see $out/$name.log)"
        tail -40 "$out/$name.log"
        status=1
    else
        grep -E "stat::number_of_executed_units" "$out/$name.log" || true
    fi
    rm -rf "$work"
done
exit $status
