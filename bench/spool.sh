#!/bin/bash
# What the durable spool costs: the same `textmill bench` run (closed loop,
# salted documents, the stats chain) against textmilld without a spool and
# with each fsync policy.  Prints docs/s, MB/s, latency and the average
# documents per group commit.
#
#   bench/spool.sh [BUILDDIR [SRCDIR]]
#
# Environment: BENCH_CORPUS (default ../shared/corpus/news-1k.jsonl, else
# tests/data/seeds.jsonl), BENCH_COUNT (default 50000), BENCH_WINDOW (64),
# BENCH_WORKERS (0 = one per CPU), BENCH_MODES (default "none batch interval off").
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "${2:-$(dirname "$0")/..}" && pwd)
corpus=${BENCH_CORPUS:-$src/../shared/corpus/news-1k.jsonl}
[ -f "$corpus" ] || corpus="$src/tests/data/seeds.jsonl"
count=${BENCH_COUNT:-50000}
window=${BENCH_WINDOW:-64}
workers=${BENCH_WORKERS:-0}
modes=${BENCH_MODES:-"none batch interval off"}
export TEXTMILL_PLUGIN_DIR="$build/plugins" TEXTMILL_DATA_DIR="$src/plugins"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
echo "spool benchmark: $(nproc) CPUs, corpus $corpus, $count documents, window $window"
printf '%-9s %9s %7s %8s %8s %8s %6s %12s\n' spool docs/s MB/s p50_ms p99_ms max_ms lost docs/commit
for mode in $modes; do
    state=""
    [ "$mode" != none ] && state="\"state_dir\": \"$tmp/state-$mode\", \"spool_fsync\": \"$mode\","
    cat >"$tmp/$mode.conf" <<CONF
{"ingest": "tcp://127.0.0.1:*", "push": "", "publish": "tcp://127.0.0.1:*",
 "http": "127.0.0.1:0", $state "workers": $workers, "log_level": "warn",
 "pipeline": [{"stage": "stats"}]}
CONF
    rm -f "$tmp/ep.json"
    "$build/textmilld" -c "$tmp/$mode.conf" --endpoints-file "$tmp/ep.json" --allow-root \
        2>"$tmp/$mode.log" &
    pid=$!
    for _ in $(seq 200); do [ -s "$tmp/ep.json" ] && break; sleep 0.05; done
    ep() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$tmp/ep.json" "$1"; }
    "$build/textmill" bench -i "$(ep ingest)" -p "$(ep publish)" --salt --json -W "$window" \
        -n "$count" "$corpus" >"$tmp/out.json" || true
    commits=$(curl -s "http://$(ep http)/metrics" | awk '
        /^textmill_spool_commit_documents_sum / {s=$2} /^textmill_spool_commit_documents_count / {c=$2}
        END {if (c > 0) printf "%.1f", s/c; else print "-"}')
    python3 - "$mode" "$tmp/out.json" "$commits" <<'PY'
import json, sys
mode, path, commits = sys.argv[1:4]
try:
    r = json.load(open(path))
except Exception:
    print("%-9s FAILED" % mode); sys.exit(0)
print("%-9s %9.0f %7.1f %8.3f %8.3f %8.3f %6d %12s" % (mode, r["docs_per_s"], r["mb_per_s"],
      r["p50_ms"], r["p99_ms"], r["max_ms"], r["lost"], commits))
PY
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
done
