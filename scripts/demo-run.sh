#!/bin/bash
# Start textmilld from a build tree with the default config, send the sample
# articles with `textmill send`, print what `textmill tail` receives, stop.
#   scripts/demo-run.sh BUILDDIR SRCDIR
set -euo pipefail
build=$(cd "${1:?builddir}" && pwd)
src=$(cd "${2:?srcdir}" && pwd)
sample="$src/tests/data/seeds.jsonl"
export TEXTMILL_PLUGIN_DIR="$build/plugins" TEXTMILL_DATA_DIR="$src/plugins"
tmp=$(mktemp -d)
trap 'kill "$daemon" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# The shipped config, on free loopback ports so nothing else is disturbed.
# (The demo runs as root on a fresh machine; textmilld refuses root unless told.)
root_flag=()
[ "$(id -u)" = 0 ] && root_flag=(--allow-root)
"$build/textmilld" --config "$src/daemon/textmill.conf" --log-level warn "${root_flag[@]}" \
    --ingest 'tcp://127.0.0.1:*' --push '' --publish 'tcp://127.0.0.1:*' --http 127.0.0.1:0 \
    --endpoints-file "$tmp/endpoints.json" 2>"$tmp/textmilld.log" &
daemon=$!
for _ in $(seq 100); do [ -s "$tmp/endpoints.json" ] && break; sleep 0.05; done
if [ ! -s "$tmp/endpoints.json" ]; then
    echo "textmilld did not start:" >&2
    cat "$tmp/textmilld.log" >&2
    exit 1
fi
ingest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ingest"])' "$tmp/endpoints.json")
publish=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["publish"])' "$tmp/endpoints.json")
n=$(grep -c . "$sample")
echo "== textmilld $("$build/textmilld" --version | cut -d' ' -f2) is up (pid $daemon): ingest $ingest, publish $publish"
"$build/textmilld" --check-config --log-level warn --config "$src/daemon/textmill.conf" | sed 's/^/== /'

"$build/textmill" tail --endpoint "$publish" --raw --count "$n" --timeout 30000 >"$tmp/results.jsonl" &
tail_pid=$!
sleep 0.5   # let the subscription reach the daemon before sending
echo "== sending $n sample articles from tests/data/seeds.jsonl"
"$build/textmill" send --endpoint "$ingest" "$sample"
wait "$tail_pid"
echo "== results: one summary per article (full result JSON, one line each: $build/demo-results.jsonl)"
cp "$tmp/results.jsonl" "$build/demo-results.jsonl"
python3 - "$tmp/results.jsonl" <<'PY'
import json, sys
def short(t, n=110):
    t = " ".join(t.split())
    return t if len(t) <= n else t[:n - 1] + "…"
for line in open(sys.argv[1]):
    r = json.loads(line)
    a = r.get("annotations", {})
    bp, dd, se = a.get("boilerplate", {}), a.get("dedup", {}), a.get("sentiment", {})
    print("\n### %s  %s" % (r["id"], short(bp.get("title") or r["text"], 90)))
    if bp:
        kinds = sorted({x.get("kind", "?") for x in bp.get("removed", [])})
        print("  boilerplate: removed %d of %d bytes (%s)" % (bp.get("removed_bytes", 0),
              bp.get("input_bytes", 0), ", ".join(kinds) or "nothing"))
    if dd:
        print("  dedup: %s%s" % (dd.get("status"), " of " + dd["duplicate_of"] if dd.get("duplicate_of") else ""))
    if se:
        print("  sentiment: %s (compound %+.3f)" % (se.get("label"), se.get("compound", 0)))
    quotes = a.get("quotes", [])
    print("  quotes: %d" % len(quotes))
    for q in quotes[:4]:
        print("    %-18s %-9s %s" % (q.get("speaker") or "(unknown)", q.get("type", ""), short(q.get("text", ""), 80)))
    people = [e for e in se.get("entities", [])][:4]
    if people:
        print("  people: " + "; ".join("%s %s (%+.2f)" % (e["name"], e.get("label", ""), e.get("compound", 0)) for e in people))
    for e in r.get("errors", []):
        print("  error from %s: %s: %s" % (e.get("stage"), e.get("code"), e.get("message")))
PY
kill -TERM "$daemon"
wait "$daemon" && echo "== textmilld stopped cleanly (exit 0)"
daemon=""
