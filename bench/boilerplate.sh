#!/bin/sh
# Scores the boilerplate stage on the shared dev sets and measures its speed.
# Usage (from the worktree root, after make):
#   bench/boilerplate.sh score [set...]   # default: seeds text-dev html-dev
#   bench/boilerplate.sh speed            # single worker, --stats, text and HTML
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BP_EVAL:-/work/shared/eval/boilerplate}
OUT=${BP_OUT:-/tmp/bp-bench}
# BUILD: the build tree (default: the source tree, for an in-tree build)
BUILD=$(cd "${BUILD:-$ROOT}" && pwd)
export TEXTMILL_PLUGIN_DIR=$BUILD/plugins TEXTMILL_DATA_DIR=$ROOT/plugins
mkdir -p "$OUT"
echo '{"pipeline":[{"stage":"boilerplate"}]}' > "$OUT/bp.conf"
mode=${1:-score}
[ $# -gt 0 ] && shift
case $mode in
score)
    sets=${*:-seeds text-dev html-dev}
    for s in $sets; do
        python3 "$B/score.py" --make-input "$B/$s.jsonl" > "$OUT/$s.in.jsonl"
        "$BUILD/textmill" run -c "$OUT/bp.conf" < "$OUT/$s.in.jsonl" > "$OUT/$s.out.jsonl"
        echo "== $s"
        python3 "$B/score.py" --gold "$B/$s.jsonl" --pred "$OUT/$s.out.jsonl" --bootstrap 0 \
            --per-doc "$OUT/$s.per-doc.jsonl"
    done
    ;;
speed)
    for s in text-dev html-dev; do
        python3 "$B/score.py" --make-input "$B/$s.jsonl" > "$OUT/$s.in.jsonl"
        # repeat the set so the run lasts long enough to time
        for i in 1 2 3 4 5; do cat "$OUT/$s.in.jsonl"; done > "$OUT/$s.x5.jsonl"
        echo "== $s (x5)"
        "$BUILD/textmill" run -c "$OUT/bp.conf" --workers 1 --stats < "$OUT/$s.x5.jsonl" > /dev/null
    done
    echo "== news-1k"
    "$BUILD/textmill" run -c "$OUT/bp.conf" --workers 1 --stats < /work/shared/corpus/news-1k.jsonl > /dev/null
    ;;
*)
    echo "usage: $0 score [set...] | speed" >&2
    exit 2
    ;;
esac
