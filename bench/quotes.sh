#!/bin/bash
# Speed and scores of the quotes stage, from the build tree.
#
#   bench/quotes.sh [speed|cg|cgpipe|score|all] [RUNS]
#
# speed: `textmill run --workers 1 --stats` on the speed corpus
#        (/work/shared/corpus/news-1k.jsonl), RUNS times (default 5); prints
#        every run's per-stage line and the best and median stage MB/s
#        (stage CPU time only, single thread, so other load on the machine
#        matters less than for wall-clock numbers).
# cg:    instructions per input byte under callgrind (repeatable on a busy
#        machine): `valgrind --tool=callgrind textmill run -w 1` over the
#        first 200 documents of the corpus, minus the same run on an empty
#        input, divided by the input bytes; also the stage's own share
#        (quotes_process inclusive) per byte and per document.
# cgpipe: the stage's cost in the default pipeline, as bench/batch.py
#        measures it: callgrind on 200 salted documents of the corpus
#        (batch.py's salted_corpus) through the shipped pipeline's prefix
#        ending with quotes, minus the prefix one stage shorter, each minus
#        the same run on an empty input, per input byte; this counts the
#        core's encoding of the annotations too.  RUNS runs (the count moves
#        by about 1 per byte between runs, with the threads' interleaving).
# score: runs the stage on every dev set in $QT_EVAL (default
#        /work/shared/eval/quotes: seeds.jsonl, dev.jsonl) and prints the
#        scorer's table for each.
# QT_STAGE_CONFIG: the stage's "config" object (default {}), e.g.
#        QT_STAGE_CONFIG='{"raw_output": true}' bench/quotes.sh cg
# Outputs go to a temporary directory, removed at exit.  Runs under nice.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
runs=${2:-5}
corpus=${QT_CORPUS:-/work/shared/corpus/news-1k.jsonl}
eval_dir=${QT_EVAL:-/work/shared/eval/quotes}
py=${PYTHON3:-/usr/bin/python3}
# BUILD: the build tree (default: the source tree, for an in-tree build)
build=$(cd "${BUILD:-$root}" && pwd)
export TEXTMILL_PLUGIN_DIR=$build/plugins TEXTMILL_DATA_DIR=$root/plugins
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "{\"pipeline\":[{\"stage\":\"quotes\",\"config\":${QT_STAGE_CONFIG:-{\}}}]}" > "$tmp/quotes.conf"
[ -x "$build/textmill" ] || { echo "bench/quotes.sh: build first ($build/textmill missing)" >&2; exit 1; }

speed() {
    echo "== speed: $corpus ($(wc -c < "$corpus") bytes), 1 worker, $runs runs"
    for _ in $(seq "$runs"); do
        nice "$build/textmill" run -c "$tmp/quotes.conf" --workers 1 --stats \
            < "$corpus" 2>&1 >/dev/null | grep -E "stage quotes|textmill run:" | tee -a "$tmp/stats"
    done
    grep "stage quotes" "$tmp/stats" | grep -o '[0-9.]* MB/s' | awk '{print $1}' | sort -g | awk '
        {v[NR]=$1} END {printf "quotes stage MB/s (single thread, stage CPU): best %s, median %s\n",
                        v[NR], v[int((NR+1)/2)]}'
}

score() {
    for set in seeds dev; do
        gold=$eval_dir/$set.jsonl
        [ -f "$gold" ] || { echo "== $set: $gold missing, skipped"; continue; }
        echo "== score: $set"
        echo "   textmill run -c quotes.conf < $gold > $set.out"
        echo "   $py $eval_dir/score.py --gold $gold --pred $set.out"
        nice "$build/textmill" run -c "$tmp/quotes.conf" < "$gold" > "$tmp/$set.out"
        "$py" "$eval_dir/score.py" --gold "$gold" --pred "$tmp/$set.out"
    done
}

cg() {
    command -v valgrind >/dev/null || { echo "bench/quotes.sh cg: valgrind missing" >&2; exit 1; }
    head -200 "$corpus" > "$tmp/in200.jsonl"
    : > "$tmp/empty.jsonl"
    local bytes total empty stage
    bytes=$(wc -c < "$tmp/in200.jsonl")
    for f in in200 empty; do
        nice valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$f" "$build/textmill" run -w 1 \
            -c "$tmp/quotes.conf" < "$tmp/$f.jsonl" > /dev/null 2> "$tmp/cg.$f.log"
    done
    total=$(grep -h "Collected" "$tmp/cg.in200.log" | awk '{print $4}' | tr -d ,)
    empty=$(grep -h "Collected" "$tmp/cg.empty.log" | awk '{print $4}' | tr -d ,)
    callgrind_annotate --inclusive=yes "$tmp/cg.in200" > "$tmp/cg.txt" 2>/dev/null
    stage=$(awk '/quotes_process/ {gsub(",", "", $1); print $1; exit}' "$tmp/cg.txt")
    echo "== callgrind: first 200 docs of $corpus ($bytes bytes)"
    awk -v t="$total" -v e="$empty" -v s="$stage" -v b="$bytes" 'BEGIN {
        printf "run [quotes] minus empty run: %d instructions, %.1f per input byte\n", t - e, (t - e) / b
        printf "quotes_process (inclusive):   %d instructions, %.1f per byte, %.0f per document\n", s, s / b, s / 200 }'
}

cgpipe() {
    command -v valgrind >/dev/null || { echo "bench/quotes.sh cgpipe: valgrind missing" >&2; exit 1; }
    "$py" - "$root" "$corpus" "$tmp" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1] + "/bench")
import batch
root, corpus, tmp = sys.argv[1:4]
pipe = batch.default_pipeline(root)
k = [s.get("stage") for s in pipe].index("quotes")
n = batch.salted_corpus(corpus, 200, tmp + "/small.jsonl")
for name, p in (("before", pipe[:k]), ("with", pipe[:k + 1])):
    json.dump({"log_level": "warn", "pipeline": p}, open("%s/%s.conf" % (tmp, name), "w"))
open(tmp + "/bytes", "w").write(str(n))
PY
    : > "$tmp/empty.jsonl"
    local bytes t
    bytes=$(cat "$tmp/bytes")
    echo "== callgrind, default pipeline up to quotes minus the prefix before it: 200 salted docs of $corpus ($bytes bytes of text)"
    for r in $(seq "$runs"); do
        for c in before with; do
            for f in small empty; do
                nice valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$c.$f" "$build/textmill" run \
                    -w 1 -c "$tmp/$c.conf" < "$tmp/$f.jsonl" > /dev/null 2> "$tmp/cg.$c.$f.log"
            done
        done
        t() { grep -h "Collected" "$tmp/cg.$1.log" | awk '{print $4}' | tr -d ,; }
        awk -v a="$(t with.small)" -v b="$(t with.empty)" -v c="$(t before.small)" -v d="$(t before.empty)" \
            -v n="$bytes" 'BEGIN { printf "run %d: quotes %d instructions, %.1f per input byte\n", '"$r"', (a - b) - (c - d), ((a - b) - (c - d)) / n }'
    done
}

case $what in
    speed) speed ;;
    cg) cg ;;
    cgpipe) cgpipe ;;
    score) score ;;
    all) speed; score ;;
    *) echo "usage: bench/quotes.sh [speed|cg|cgpipe|score|all] [RUNS]" >&2; exit 2 ;;
esac
