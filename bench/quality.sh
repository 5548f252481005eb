#!/bin/bash
# Quality of the whole default pipeline: runs `textmill run` with
# daemon/textmill.conf over each development set of ../shared/eval/<stage>/
# (research collections, not shipped with textmill) and prints each scorer's
# summary.  Every stage runs behind the ones before it, as in production.
#
#   bench/quality.sh [BUILDDIR [SRCDIR]]
#
# Environment: EVAL_DIR (default SRCDIR/../shared/eval), QUALITY_OUT (where
# results are kept, default a temporary directory that is removed).
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "${2:-$(dirname "$0")/..}" && pwd)
eval_dir=${EVAL_DIR:-$src/../shared/eval}
if [ ! -d "$eval_dir" ]; then
    echo "bench/quality.sh: no evaluation data at $eval_dir (set EVAL_DIR)" >&2
    exit 2
fi
export TEXTMILL_PLUGIN_DIR="$build/plugins" TEXTMILL_DATA_DIR="$src/plugins"
out=${QUALITY_OUT:-}
if [ -z "$out" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

run() { # stage set [input]
    local stage=$1 set=$2 input=${3:-$eval_dir/$1/$2.jsonl}
    "$build/textmill" run -c "$src/daemon/textmill.conf" -l error <"$input" >"$out/$stage-$set.jsonl"
}

echo "== boilerplate"
for set in seeds text-dev html-dev; do
    [ -f "$eval_dir/boilerplate/$set.jsonl" ] || continue
    python3 "$eval_dir/boilerplate/score.py" --make-input "$eval_dir/boilerplate/$set.jsonl" \
        >"$out/boilerplate-$set.in.jsonl"
    run boilerplate "$set" "$out/boilerplate-$set.in.jsonl"
    echo "-- $set"
    python3 "$eval_dir/boilerplate/score.py" --gold "$eval_dir/boilerplate/$set.jsonl" \
        --pred "$out/boilerplate-$set.jsonl" --bootstrap 0
done
echo "== dedup"
for set in dev realworld-dev; do
    run dedup "$set"
    echo "-- $set"
    python3 "$eval_dir/dedup/score.py" --gold "$eval_dir/dedup/$set.jsonl" --pred "$out/dedup-$set.jsonl"
done
echo "== quotes"
for set in seeds dev; do
    run quotes "$set"
    echo "-- $set"
    python3 "$eval_dir/quotes/score.py" --gold "$eval_dir/quotes/$set.jsonl" --pred "$out/quotes-$set.jsonl" | tail -8
done
echo "== sentiment"
for set in vader-dev targets-dev; do
    run sentiment "$set"
    echo "-- $set"
    python3 "$eval_dir/sentiment/score.py" --gold "$eval_dir/sentiment/$set.jsonl" --pred "$out/sentiment-$set.jsonl"
done
