#!/bin/bash
# Scores and speed of the dedup stage (plugins/dedup/README.md).
#   bench/dedup.sh score        dev and realworld-dev scorer output
#   bench/dedup.sh speed        news-1k, one worker, empty index, --stats
#   bench/dedup.sh speed1m [R]  news-1k against a 1,000,000-document index
#                               (built once in $TMPDIR/dedup-1m: ~1 min, ~460 MB),
#                               R runs (1), each on a fresh copy of it
#   bench/dedup.sh cg [N]       instructions per input byte (callgrind, repeatable):
#                               one worker, the first N (300) news-1k documents, plain
#                               and salted (id prepended, as bench/batch.py), minus
#                               the same run on empty input; then the stage alone
#                               (callgrind --toggle-collect of its two hooks)
#   (bench/dedup_micro.c: in-process timings of the sketch and of verification)
#   bench/dedup.sh cgpipe [N]   the stage's own instructions per input byte behind the
#                               default pipeline (daemon/textmill.conf) and alone, on the
#                               first N (200) news-1k documents, one worker, empty index
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# BUILD: the build tree (default: the source tree, for an in-tree build)
build=$(cd "${BUILD:-$root}" && pwd)
export TEXTMILL_PLUGIN_DIR=$build/plugins TEXTMILL_DATA_DIR=$root/plugins
eval_dir=${EVAL_DIR:-/work/shared/eval/dedup}
corpus=${CORPUS:-/work/shared/corpus/news-1k.jsonl}
tmp=${TMPDIR:-/tmp}
conf=$tmp/dedup-bench.conf
echo '{"pipeline":[{"stage":"dedup","config":{"sync":false}}]}' > "$conf"
case ${1:-score} in
score)
    for s in dev realworld-dev; do
        echo "== $s"
        nice "$build/textmill" run -c "$conf" < "$eval_dir/$s.jsonl" > "$tmp/dedup-$s.out"
        python3 "$eval_dir/score.py" --gold "$eval_dir/$s.jsonl" --pred "$tmp/dedup-$s.out" --by-transform
    done ;;
speed)
    nice "$build/textmill" run -c "$conf" --workers 1 --stats -l info < "$corpus" 2>&1 >/dev/null |
        grep -E "textmill run|stage dedup|index closed" ;;
speed1m)
    st=$tmp/dedup-1m
    if [ ! -d "$st/dedup" ]; then
        mkdir -p "$st"
        python3 - <<'PY' | nice "$build/textmill" run -c "$conf" --workers 1 --stats --state-dir "$st" >/dev/null
import json, random, sys
r = random.Random(1)
V = ["w%05d" % i for i in range(50000)]
for i in range(1000000):
    sys.stdout.write(json.dumps({"id": "g%07d" % i, "text": " ".join(r.choices(V, k=80))}) + "\n")
PY
    fi
    for _ in $(seq "${2:-1}"); do
        rm -rf "$st-run" && cp -r "$st" "$st-run"
        nice "$build/textmill" run -c "$conf" --workers 1 --stats -l info --state-dir "$st-run" < "$corpus" 2>&1 >/dev/null |
            grep -E "textmill run|stage dedup|index (open|closed)"
    done
    du -sh "$st-run/dedup"
    rm -rf "$st-run" ;;
cg)
    n=${2:-300}
    python3 - "$corpus" "$n" "$tmp/dedup-cg" <<'PY'
import json, sys
corpus, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
docs = [json.loads(l) for l in open(corpus) if l.strip()]
with open(out + ".plain", "w") as p, open(out + ".salted", "w") as s:
    for i in range(n):
        d = docs[i % len(docs)]
        p.write(json.dumps(d) + "\n")
        s.write(json.dumps({"id": "bench-%d" % i, "text": "bench-%d " % i + d["text"]}) + "\n")
PY
    : > "$tmp/dedup-cg.empty"
    count() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/textmill" run -c "$conf" -w 1 \
            < "$1" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'
    }
    e=$(count "$tmp/dedup-cg.empty")
    for kind in plain salted; do
        f=$tmp/dedup-cg.$kind
        c=$(count "$f")
        b=$(python3 -c "import json,sys; print(sum(len(json.loads(l)['text'].encode()) for l in open(sys.argv[1])))" "$f")
        echo "$kind: $n docs, $b bytes: $c - $e instructions = $(( (c - e) / b )) per byte, $(( (c - e) / n )) per document"
        s=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='dd_process*' \
            "$build/textmill" run -c "$conf" -w 1 < "$f" 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
        echo "$kind, stage dedup alone: $s instructions = $(( s / b )) per byte, $(( s / n )) per document"
    done ;;
cgpipe)
    n=${2:-200}
    head -n "$n" "$corpus" > "$tmp/dedup-cgpipe.jsonl"
    b=$(python3 -c "import json,sys; print(sum(len(json.loads(l)['text'].encode()) for l in open(sys.argv[1])))" "$tmp/dedup-cgpipe.jsonl")
    for c in "$root/daemon/textmill.conf" "$conf"; do
        s=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='dd_process*' \
            "$build/textmill" run -c "$c" -w 1 < "$tmp/dedup-cgpipe.jsonl" 2>&1 >/dev/null |
            sed -n 's/.*Collected : //p')
        echo "$(basename "$c"): $n docs, $b input bytes: stage dedup $s instructions =" \
             "$(python3 -c "print(round($s / $b, 1))") per byte, $(( s / n )) per document"
    done ;;
*) echo "usage: $0 score|speed|speed1m|cg|cgpipe [N]" >&2; exit 2 ;;
esac
