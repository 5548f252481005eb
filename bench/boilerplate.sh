#!/bin/sh
# Scores the boilerplate stage on the shared dev sets and measures its speed.
# Usage (from the worktree root, after make):
#   bench/boilerplate.sh score [set...]   # default: seeds text-dev html-dev
#   bench/boilerplate.sh speed            # single worker, --stats, text and HTML
#   bench/boilerplate.sh instr [N]        # callgrind instructions per input byte of the
#                                         # stage on N (200) salted news-1k documents, the
#                                         # way bench/batch.py counts each stage
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
instr)
    # chains [] and [boilerplate] (the default pipeline's first stage),
    # each minus its run on no input (start-up), over the input's text bytes
    BENCH_DIR=$ROOT/bench BUILD=$BUILD ROOT=$ROOT N=${1:-200} OUT=$OUT python3 - <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["BENCH_DIR"])
import batch
build, root, out = os.environ["BUILD"], os.environ["ROOT"], os.environ["OUT"]
env = dict(os.environ, TEXTMILL_PLUGIN_DIR=os.path.join(build, "plugins"),
           TEXTMILL_DATA_DIR=os.path.join(root, "plugins"))
small = os.path.join(out, "instr.jsonl")
nbytes = batch.salted_corpus("/work/shared/corpus/news-1k.jsonl", int(os.environ["N"]), small)
pipe = batch.default_pipeline(root)
total = []
for k in (0, 1):
    conf = os.path.join(out, "instr%d.conf" % k)
    json.dump({"log_level": "warn", "pipeline": pipe[:k]}, open(conf, "w"))
    total.append(batch.callgrind_instructions(build, conf, small, env, out))
print("host %.1f, boilerplate %.1f instructions per input byte (%d bytes)"
      % (total[0] / nbytes, (total[1] - total[0]) / nbytes, nbytes))
PY
    ;;
*)
    echo "usage: $0 score [set...] | speed | instr [N]" >&2
    exit 2
    ;;
esac
