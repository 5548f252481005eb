#!/bin/bash
# Speed and accuracy of the sentiment stage, from a built source tree.
#
#   bench/sentiment.sh [speed|score|instr|all]     (default: all)
#
# speed: `textmill run --workers 1 --stats` on the news speed corpus and on
#        the vader-dev texts, best of 5 runs (per-stage MB/s on stderr).
# score: the evaluation's scorer on vader-dev and targets-dev.
# instr: instructions per input byte under valgrind --tool=callgrind (repeatable
#        on a noisy machine): `textmill run -w 1` over the first 200 news-1k
#        documents minus the same on an empty input, divided by their bytes.
#        Not part of "all" (about a minute).
# Needs ../shared (the evaluation data) beside the source tree.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
shared=${TM_SHARED:-$src/../shared}
[ -d "$shared" ] || shared=/work/shared
# BUILD: the build tree (default: the source tree, for an in-tree build)
build=$(cd "${BUILD:-$src}" && pwd)
export TEXTMILL_PLUGIN_DIR=$build/plugins TEXTMILL_DATA_DIR=$src/plugins
conf=$(mktemp)
out=$(mktemp)
trap 'rm -f "$conf" "$out"' EXIT
echo '{"pipeline":[{"stage":"sentiment"}]}' > "$conf"
what=${1:-all}
if [ "$what" = speed ] || [ "$what" = all ]; then
    for f in "$shared/corpus/news-1k.jsonl" "$shared/eval/sentiment/vader-dev.jsonl"; do
        echo "== speed: $(basename "$f") (best of 5)"
        for i in 1 2 3 4 5; do
            "$build/textmill" run -c "$conf" --workers 1 --stats < "$f" 2>&1 >/dev/null | grep "stage sentiment"
        done | sort -k8,8 -g | head -1   # field 8: us/doc; the fastest run
    done
fi
if [ "$what" = instr ]; then
    head -200 "$shared/corpus/news-1k.jsonl" > "$out"
    bytes=$(wc -c < "$out")
    ir() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/textmill" run -w 1 -c "$conf" \
            < "$1" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    a=$(ir "$out")
    b=$(ir /dev/null)
    echo "== instructions: news-1k first 200 docs ($bytes bytes): $a - $b (empty input) = $((a - b)); $(( (a - b) / bytes )) per byte"
fi
if [ "$what" = score ] || [ "$what" = all ]; then
    E=$shared/eval/sentiment
    for set in vader-dev targets-dev; do
        echo "== score: $set"
        "$build/textmill" run -c "$conf" < "$E/$set.jsonl" > "$out"
        python3 "$E/score.py" --gold "$E/$set.jsonl" --pred "$out"
    done
fi
