#!/usr/bin/env python3
"""End-to-end test of the quotes stage: the real `textmill run` CLI loads
plugins/quotes.so and its data files from the build tree, runs documents
written for this test (invented people) plus the five seed articles, and the
results are checked field by field.  Also checks that daemon/textmill.conf
(which lists the stage) loads with `textmilld --check-config`, that a bad
config value is refused with a message naming the key, and that hostile
input (one huge quotation, thousands of marks in a row, no sentence breaks)
finishes quickly without errors.

Run by `make check` (TM_BUILDDIR, TM_SRCDIR, TEXTMILL_PLUGIN_DIR and
TEXTMILL_DATA_DIR come from tests/local.mk); exits 77 (skip) when the build
tree has no textmill or textmilld binary."""
import json
import os
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("TM_BUILDDIR", os.getcwd())
SRC = os.environ.get("TM_SRCDIR", os.getcwd())
CLI = os.path.join(BUILD, "textmill")
DAEMON = os.path.join(BUILD, "textmilld")
PLUGIN_DIR = os.environ.get("TEXTMILL_PLUGIN_DIR", os.path.join(BUILD, "plugins"))
DATA_DIR = os.environ.get("TEXTMILL_DATA_DIR", os.path.join(SRC, "plugins"))

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def run(docs, config, timeout=120, workers=2):
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        json.dump(config, f)
        conf = f.name
    try:
        inp = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
        p = subprocess.run([CLI, "run", "-c", conf, "--workers", str(workers),
                            "--plugin-dir", PLUGIN_DIR, "--data-dir", DATA_DIR],
                           input=inp.encode("utf-8"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    finally:
        os.unlink(conf)
    return p.returncode, [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()], \
        p.stderr.decode("utf-8", "replace")


def by_text(quotes, fragment):
    return [q for q in quotes if fragment in q["text"]]


QUOTES = {"pipeline": [{"stage": "quotes"}]}


def test_invented_docs():
    docs = [
        {"id": "a", "text": "“We will rebuild the pier before summer,” Harbour Commissioner Ines Walcott said "
                            "on Tuesday. “The boats cannot wait.”\n\nShe added that the council’s "
                            "engineers had approved the plan.\n\nThe pier’s “temporary” deck was laid "
                            "in 1998."},
        {"id": "b", "text": "Governor Tomas Ekland told reporters at the state house:\n\"We may.\"\n"
                            "Mr Ekland described the vote as \"very, very close\"."},
        {"id": "c", "text": "The so-called “smart” meters were installed last year."},
    ]
    rc, res, err = run(docs, QUOTES)
    check(rc == 0, "exit status 0 (got %d: %s)" % (rc, err.strip()))
    check(len(res) == 3, "one result per document (got %d)" % len(res))
    if len(res) != 3:
        return
    check([r["id"] for r in res] == ["a", "b", "c"], "results in input order")
    for r in res:
        check(not r.get("errors"), "no errors on %s: %r" % (r["id"], r.get("errors")))
        t = r["text"].encode("utf-8")
        for q in r["annotations"].get("quotes", []):
            # Offsets are UTF-8 byte offsets into the final text; text is exactly that span.
            check(t[q["start"]:q["end"]].decode("utf-8") == q["text"],
                  "%s: offsets %d..%d cover %r" % (r["id"], q["start"], q["end"], q["text"]))
            check(q["type"] in ("direct", "mixed", "indirect"), "type %r valid" % q["type"])
            check(0.0 <= q["confidence"] <= 1.0, "confidence in [0,1]")

    qa = res[0]["annotations"]["quotes"]
    first = by_text(qa, "We will rebuild the pier before summer")
    check(len(first) == 1, "a: first direct quote found")
    if first:
        q = first[0]
        check(q["type"] == "direct", "a: first quote is direct")
        check(q["speaker"] == "Ines Walcott", "a: speaker canonical name (got %r)" % q["speaker"])
        check(q["speaker_mention"] == "Harbour Commissioner Ines Walcott",
              "a: speaker_mention as written (got %r)" % q["speaker_mention"])
        check(q["cue"] == "said", "a: cue 'said' (got %r)" % q["cue"])
        check(not q["text"].startswith("“"), "a: quote marks excluded from the span")
    second = by_text(qa, "The boats cannot wait.")
    check(len(second) == 1 and second[0]["speaker"] == "Ines Walcott",
          "a: continuation quote after the cue is the same speaker")
    ind = by_text(qa, "engineers had approved the plan")
    check(len(ind) == 1 and ind[0]["type"] == "indirect" and ind[0]["speaker"] == "Ines Walcott",
          "a: 'She added that …' is indirect speech resolved to Ines Walcott (got %r)" % ind)
    check(not by_text(qa, "deck was laid"), "a: apostrophe in “pier’s” does not open a quote")
    check(all(q.get("speaker") is None for q in by_text(qa, "temporary")),
          "a: scare quote gets no invented speaker")
    spk = {s["name"]: s for s in res[0]["annotations"].get("speakers", [])}
    check("Ines Walcott" in spk, "a: Ines Walcott listed in speakers")
    if "Ines Walcott" in spk:
        check(spk["Ines Walcott"].get("role") == "Harbour Commissioner",
              "a: role 'Harbour Commissioner' (got %r)" % spk["Ines Walcott"].get("role"))
        check(any(m["text"] == "She" for m in spk["Ines Walcott"]["mentions"]),
              "a: pronoun mention 'She' listed for Ines Walcott")

    qb = res[1]["annotations"]["quotes"]
    may = by_text(qb, "We may.")
    check(len(may) == 1 and may[0]["speaker"] == "Tomas Ekland",
          "b: quote on the line after a colon intro belongs to Tomas Ekland (got %r)" % may)
    frag = [q for q in qb if q["text"] == "very, very close"]
    check(len(frag) == 1 and frag[0]["type"] == "mixed" and frag[0]["speaker"] == "Tomas Ekland",
          "b: fragment after 'described … as' is mixed, by Tomas Ekland (got %r)" % frag)

    qc = res[2]["annotations"].get("quotes", [])
    check(all(q.get("speaker") is None for q in qc), "c: scare quote has no speaker (got %r)" % qc)


def test_seeds():
    path = os.path.join(SRC, "tests", "data", "seeds.jsonl")
    docs = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    rc, res, err = run(docs, QUOTES)
    check(rc == 0 and len(res) == len(docs), "seeds: all documents processed")
    if not res:
        return
    q0 = res[0]["annotations"]["quotes"]
    head = by_text(q0, "At their request, we will not organise any meetings here,")
    check(any(q["speaker"] == "Vladimir Putin" for q in head),
          "seeds: headline quote with 'Russian president says' resolved to Vladimir Putin (got %r)"
          % [(q["text"], q["speaker"]) for q in head])
    n = sum(len(r["annotations"].get("quotes", [])) for r in res)
    check(n >= 38, "seeds: at least 38 quotations reported (got %d)" % n)


def test_config():
    conf = os.path.join(SRC, "daemon", "textmill.conf")
    p = subprocess.run([DAEMON, "--check-config", "-c", conf, "--plugin-dir", PLUGIN_DIR],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                       env=dict(os.environ, TEXTMILL_DATA_DIR=DATA_DIR))
    check(p.returncode == 0, "daemon/textmill.conf with the quotes stage loads (rc %d: %s)"
          % (p.returncode, p.stderr.decode("utf-8", "replace").strip()))
    rc, _, err = run([{"id": "x", "text": "x"}],
                     {"pipeline": [{"stage": "quotes", "config": {"cue_verbs": "no-such-file.txt"}}]})
    check(rc == 78, "missing cue_verbs file refuses start-up with status 78 (got %d)" % rc)
    check("no-such-file.txt" in err, "the message names the missing file (got %r)" % err.strip())


def test_bad_input():
    docs = [
        {"id": "huge", "text": "“" + ("word, and more words " * 150000)},            # ~3 MB, unclosed
        {"id": "marks", "text": "\"“”‘’«»„" * 20000},                                  # marks in a row
        {"id": "nobreak", "text": ("he said that \"it is\" what " * 40000)},           # no sentence end
        {"id": "nul", "text": "\u0000“\u0000”'\u2028'"},
    ]
    t0 = time.monotonic()
    rc, res, err = run(docs, QUOTES, timeout=120, workers=1)
    dt = time.monotonic() - t0
    check(rc == 0 and len(res) == 4, "bad input: all documents answered (rc %d, %d results)"
          % (rc, len(res)))
    for r in res:
        check(not r.get("errors"), "bad input %s: no errors (%r)" % (r.get("id"), r.get("errors")))
    print("bad input: %.2f s" % dt)


def main():
    if not os.access(CLI, os.X_OK) or not os.access(DAEMON, os.X_OK):
        print("skip: no textmill/textmilld binary in " + BUILD)
        return 77
    test_invented_docs()
    test_seeds()
    test_config()
    test_bad_input()
    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
