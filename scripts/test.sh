#!/bin/bash
# The README's second command (and CI's): install the dependencies, build, and
# run every test:
#   1. build with -Werror, `make check` (unit + end-to-end tests);
#   2. build with AddressSanitizer + UBSan, `make check` again;
#   3. build with ThreadSanitizer and run the concurrency unit tests (worker
#      pool, ordered lanes, pipeline, spool writer, metrics, id set);
#   4. build every libFuzzer harness and run each for FUZZ_SECONDS (default 20),
#      one per core at a time;
#   5. `make distcheck` (the release tarball builds and passes its tests).
# The end-to-end suite includes the service checks: kill -9 restarts under
# load, hot reloads under load, the memory cap, CurveZMQ, `promtool check
# metrics`, a real Prometheus scrape, and `systemd-analyze verify/security`.
# Ends with the line "N passed, N failed".  Run as root on Debian 12.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
fuzz_seconds=${FUZZ_SECONDS:-20}
jobs=$(nproc)
passed=0
failed=0
failures=()

step() { echo; echo "==== $*"; }

# Count the automake test results of one build tree.
count_suite() {
    local dir=$1 label=$2 p f
    p=$(grep -h '^:test-result: \(PASS\|XFAIL\|SKIP\)' $(find "$dir" -name '*.trs') 2>/dev/null | wc -l)
    f=$(grep -h '^:test-result: \(FAIL\|XPASS\|ERROR\)' $(find "$dir" -name '*.trs') 2>/dev/null | wc -l)
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        while read -r t; do failures+=("$label: $t"); done < <(grep -l '^:test-result: \(FAIL\|XPASS\|ERROR\)' $(find "$dir" -name '*.trs') | sed 's/\.trs$//')
    fi
    echo "$label: $p passed, $f failed"
}

record() { # record NAME STATUS
    if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

step "dependencies"
"$src/scripts/deps.sh" || { echo "0 passed, 1 failed"; exit 1; }

step "bootstrap"
(cd "$src" && autoreconf -fi) >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

step "build (-Werror) and make check"
mkdir -p "$src/build-ci" && cd "$src/build-ci"
if "$src/configure" --quiet --enable-werror && make -j"$jobs" >/dev/null; then
    make -j"$jobs" check >make-check.out 2>&1
    grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|# )' make-check.out
    count_suite "$src/build-ci" "check"
else
    record "build" 1
fi

step "build with AddressSanitizer + UBSan and make check"
mkdir -p "$src/build-asan" && cd "$src/build-asan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if "$src/configure" --quiet --enable-werror --enable-sanitizers && make -j"$jobs" >/dev/null; then
    make -j"$jobs" check >make-check.out 2>&1
    grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|# )' make-check.out
    count_suite "$src/build-asan" "asan"
else
    record "asan build" 1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

step "build with ThreadSanitizer and run the concurrency tests"
mkdir -p "$src/build-tsan" && cd "$src/build-tsan"
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
tsan_tests="tests/unit/test_workers tests/unit/test_lane tests/unit/test_pipeline tests/unit/test_spool tests/unit/test_idset tests/unit/test_metrics"
if "$src/configure" --quiet --enable-werror --enable-tsan && make -j"$jobs" >/dev/null; then
    make -j"$jobs" check TESTS="$tsan_tests" >make-check.out 2>&1
    grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|# )' make-check.out
    count_suite "$src/build-tsan" "tsan"
else
    record "tsan build" 1
fi
unset TSAN_OPTIONS

step "fuzz harnesses, ${fuzz_seconds}s each, $jobs at a time"
fuzz_out="$src/build-fuzz"
# Each harness is single-threaded: run one per core, in groups, and print
# each one's output when its group is done.
fuzz_group() {
    local name pids=()
    for name in "$@"; do
        bash "$src/tests/fuzz/run.sh" "$fuzz_out" "$fuzz_seconds" "$name" >"$fuzz_out/$name.run" 2>&1 &
        pids+=($!)
    done
    local i=0
    for name in "$@"; do
        wait "${pids[$i]}"
        local rc=$?
        cat "$fuzz_out/$name.run"
        record "fuzz: $name" $rc
        i=$((i + 1))
    done
}
if bash "$src/tests/fuzz/build.sh" "$fuzz_out"; then
    group=()
    for bin in "$fuzz_out"/fuzz_*; do
        [ -x "$bin" ] && [ -f "$bin" ] || continue
        case "$bin" in *.log|*.run|*-crash-*|*-leak-*|*-timeout-*|*-oom-*) continue ;; esac
        group+=("$(basename "$bin")")
        if [ ${#group[@]} -ge "$jobs" ]; then
            fuzz_group "${group[@]}"
            group=()
        fi
    done
    [ ${#group[@]} -gt 0 ] && fuzz_group "${group[@]}"
else
    record "fuzz build" 1
fi

step "make distcheck"
cd "$src/build-ci"
if make distcheck >distcheck.out 2>&1; then
    record "distcheck" 0
    grep -E 'archives ready|\.tar\.gz' distcheck.out | head -3
else
    tail -40 distcheck.out
    record "distcheck" 1
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
    echo "failed:"
    printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
