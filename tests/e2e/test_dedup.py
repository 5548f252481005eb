#!/usr/bin/env python3
"""End-to-end test of the dedup stage through `textmill run` (batch mode).

Checks: copies arriving together on several workers are still caught (the
ordered lane); two batch runs over one file give the same answer; with
--state-dir the index survives a restart; a corrupt index refuses start-up with exit 78 and names the file.
Texts are generated here (no evaluation data).
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

B = os.environ.get("TM_BUILDDIR", ".")
S = os.environ.get("TM_SRCDIR", ".")
TEXTMILL = os.path.join(B, "textmill")
if not os.path.exists(os.path.join(B, "plugins", ".libs", "dedup.so")):
    sys.exit(77)

WORDS = ("council river budget school harbour minister storm bridge market festival railway "
         "hospital election police museum farmers water energy court village report airport "
         "teachers workers plans said would after before during against because local national "
         "officials residents company union mayor judge station office announced rejected "
         "approved delayed opened closed raised cut on the a of in to and for").split()


def article(seed, npar=5):
    r = random.Random(seed)
    pars = []
    for _ in range(npar):
        sents = [" ".join(r.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(5)]
        pars.append(" ".join(sents))
    return pars


def stream():
    docs = []
    n = 0
    for s in range(40):
        pars = article(1000 + s)
        oid = "o%03d" % s
        docs.append({"id": oid, "text": "Site %d header\n\n" % (s % 3) + "\n\n".join(pars),
                     "want": ("unique", None)})
        if s % 2 == 0:
            docs.append({"id": "x%03d" % s, "text": docs[-1]["text"], "want": ("exact_duplicate", oid)})
        if s % 3 == 0:
            docs.append({"id": "n%03d" % s,
                         "text": "Other outlet banner\n\n" + "\n\n".join(pars[:3]) + "\n\nRead more",
                         "want": ("near_duplicate", oid)})
        n += 1
    return docs


def run(docs, conf, *extra):
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        json.dump({"pipeline": [{"stage": "dedup", "config": conf}]}, f)
        cpath = f.name
    inp = "".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in docs)
    p = subprocess.run([TEXTMILL, "run", "-c", cpath, "--workers", "2",
                        "--plugin-dir", os.path.join(B, "plugins"),
                        "--data-dir", os.path.join(S, "plugins")] + list(extra),
                       input=inp, capture_output=True, text=True, timeout=120)
    os.unlink(cpath)
    out = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p.returncode, out, p.stderr


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        sys.exit(1)


docs = stream()
rc, out1, err = run(docs, {})
check(rc == 0, "run failed: %s" % err)
check(len(out1) == len(docs), "one result per line")
for d, o in zip(docs, out1):
    a = o["annotations"]["dedup"]
    check((a["status"], a["duplicate_of"]) == d["want"],
          "%s: got %s/%s want %s" % (d["id"], a["status"], a["duplicate_of"], d["want"]))

# deterministic: a second batch run starts from an empty index
rc, out2, err = run(docs, {})
check([o["annotations"]["dedup"] for o in out1] == [o["annotations"]["dedup"] for o in out2],
      "two batch runs differ")

# batch mode writes one result per input line whatever the action (drop and
# publish_only act on the daemon's outputs), but the annotation is the same
rc, out3, err = run(docs, {"exact_action": "drop"})
check(rc == 0 and len(out3) == len(docs), "exact_action drop in batch mode")

# restart: a state directory keeps the index
state = tempfile.mkdtemp(prefix="tm-dedup-e2e-")
try:
    half = [d for d in docs if d["id"].startswith("o")]
    rc, _, err = run(half, {}, "--state-dir", state)
    check(rc == 0, "state run failed: %s" % err)
    again = [{"id": "r" + d["id"], "text": d["text"]} for d in half[:5]]
    rc, out4, err = run(again, {}, "--state-dir", state)
    for d, o in zip(half[:5], out4):
        a = o["annotations"]["dedup"]
        check(a["status"] == "exact_duplicate" and a["duplicate_of"] == d["id"],
              "after restart %s: %s" % (d["id"], a))
    # corrupt the index: start-up refused with a message naming it
    for f in os.listdir(os.path.join(state, "dedup")):
        if f.endswith(".mdb") and "lock" not in f:
            with open(os.path.join(state, "dedup", f), "r+b") as fh:
                fh.write(b"\x5a" * 4096)
    rc, _, err = run(again, {}, "--state-dir", state)
    check(rc == 78, "corrupt index: exit %d, want 78 (%s)" % (rc, err))
    check(os.path.join(state, "dedup") in err, "error does not name the index: %s" % err)
finally:
    shutil.rmtree(state)
print("ok")
