#!/bin/bash
# textmill benchmark: start textmilld on loopback with a given stage chain and
# load it with `textmill bench` over the real sockets.  Prints a table of
# docs/s, MB/s, latency percentiles, the daemon's memory and the CPU time
# per document of the daemon (srv_us/d, all its threads) and of the bench
# client (cli_us/d).  Both share this machine's cores, so
# ncores * 1e6 / (srv_us/d + cli_us/d) is the most docs/s the pair can reach.
# loop/io/work splits srv_us/d by daemon thread: the event loop, libzmq's I/O
# thread and the stage workers (`textmill bench --pid`).
#
#   bench/run.sh [BUILDDIR [SRCDIR]]        (or: make bench)
#
# Environment:
#   BENCH_CORPUS   documents (default ../shared/corpus/news-1k.jsonl when present,
#                  else tests/data/seeds.jsonl)
#   BENCH_COUNT    documents per closed-loop run (default 200000)
#   BENCH_RATE     open-loop rate in docs/s (default 5000)
#   BENCH_CHAINS   space-separated chains to run (default: "echo empty stats default"):
#                  echo = bench/echo_server, the same protocol with no work behind it
#                  (the transport ceiling); empty = textmilld with no stage; stats = the
#                  example stage; default = the pipeline of daemon/textmill.conf
#   BENCH_WORKERS  worker threads (default: one per CPU)
#   BENCH_BATCH_COUNT, BENCH_CALLGRIND_DOCS: see bench/batch.py (batch mode,
#                  2 workers vs 1, per-stage cost); BENCH_BATCH_COUNT=0 skips it
#   BENCH_SCALE_COUNT  documents sent through the default pipeline with a
#                  persistent dedup index (default 1000000; 0 skips): the
#                  daemon's RSS after them and the index's size on disk
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "${2:-$(dirname "$0")/..}" && pwd)
corpus=${BENCH_CORPUS:-}
if [ -z "$corpus" ]; then
    corpus="$src/../shared/corpus/news-1k.jsonl"
    [ -f "$corpus" ] || corpus="$src/tests/data/seeds.jsonl"
fi
count=${BENCH_COUNT:-200000}
rate=${BENCH_RATE:-5000}
chains=${BENCH_CHAINS:-"echo empty stats default"}
scale_count=${BENCH_SCALE_COUNT:-1000000}
[ "$scale_count" = 0 ] || chains="$chains scale"
workers=${BENCH_WORKERS:-0}
export TEXTMILL_PLUGIN_DIR="$build/plugins" TEXTMILL_DATA_DIR="$src/plugins"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

pipeline_for() {
    case "$1" in
    empty) echo '[]' ;;
    stats) echo '[{"stage": "stats"}]' ;;
    default|scale) # the shipped pipeline, read the one way bench/batch.py reads it
        python3 -B -c 'import json, sys; sys.path.insert(0, sys.argv[1]); import batch
print(json.dumps(batch.default_pipeline(sys.argv[2])))' "$src/bench" "$src" ;;
    *) echo "unknown chain $1" >&2; exit 64 ;;
    esac
}

echo "textmill benchmark: $(uname -m), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "corpus: $corpus ($(grep -c . "$corpus") documents, salted so that every text is unique)"
printf '\n%-8s %-18s %10s %8s %8s %8s %8s %8s %6s %9s %9s %9s %14s\n' chain mode docs/s MB/s p50_ms p99_ms p999_ms max_ms lost RSS_MB srv_us/d cli_us/d loop/io/work
for chain in $chains; do
    if [ "$chain" = echo ]; then
        port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
        ingest="tcp://127.0.0.1:$(port)"
        publish="tcp://127.0.0.1:$(port)"
        "$build/bench/echo_server" "$ingest" "$publish" &
        pid=$!
        sleep 0.3
    else
    state=""
    if [ "$chain" = scale ]; then
        mkdir -p "$tmp/state"
        state="\"state_dir\": \"$tmp/state\", \"spool\": false,"
    fi
    cat >"$tmp/$chain.conf" <<CONF
{"ingest": "tcp://127.0.0.1:*", "push": "", "publish": "tcp://127.0.0.1:*", $state
 "http": "127.0.0.1:0", "allow_root": true, "workers": $workers, "log_level": "warn", "pipeline": $(pipeline_for "$chain")}
CONF
    rm -f "$tmp/ep.json"
    "$build/textmilld" -c "$tmp/$chain.conf" --endpoints-file "$tmp/ep.json" 2>"$tmp/$chain.log" &
    pid=$!
    for _ in $(seq 200); do [ -s "$tmp/ep.json" ] && break; sleep 0.05; done
    ingest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ingest"])' "$tmp/ep.json")
    publish=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["publish"])' "$tmp/ep.json")
    fi
    run_one() { # label, bench args...
        local label=$1
        shift
        "$build/textmill" bench -i "$ingest" -p "$publish" --salt --json --pid "$pid" "$@" "$corpus" \
            >"$tmp/out.json" || true
        python3 - "$chain" "$label" "$tmp/out.json" <<'PY'
import json, sys
chain, label, path = sys.argv[1:4]
try:
    r = json.load(open(path))
except Exception:
    print("%-8s %-18s %s" % (chain, label, "FAILED")); sys.exit(0)
t = r.get("daemon_threads_cpu_us_per_doc", {})
split = "%.0f/%.0f/%.0f" % (t.get("loop", -1), t.get("zmq_io", -1), t.get("workers", -1))
print("%-8s %-18s %10.0f %8.1f %8.3f %8.3f %8.3f %8.3f %6d %9.1f %9.1f %9.1f %14s" % (chain, label,
      r["docs_per_s"], r["mb_per_s"], r["p50_ms"], r["p99_ms"], r["p999_ms"], r["max_ms"], r["lost"],
      r["peak_rss_mb"], r.get("daemon_cpu_us_per_doc", -1), r.get("client_cpu_us_per_doc", -1), split))
PY
    }
    if [ "$chain" = scale ]; then
        run_one "closed W=64 n=$scale_count" -W 64 -n "$scale_count"
        echo "dedup index on disk after $scale_count documents: $(du -sh "$tmp/state" | cut -f1)"
    else
        run_one "closed W=64" -W 64 -n "$count"
        run_one "open ${rate}/s" -R "$rate" -d 10
    fi
    kill -TERM "$pid"
    wait "$pid" || true
done

if [ "${BENCH_BATCH_COUNT:-50000}" != 0 ]; then
    python3 "$src/bench/batch.py" "$build" "$src" "$corpus"
fi
