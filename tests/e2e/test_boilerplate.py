#!/usr/bin/env python3
"""End-to-end test of the boilerplate stage: a real textmilld with the stage
in its pipeline, documents sent with `textmill send` over ZeroMQ and results
read with `textmill tail`.  Exit 0 = pass, 1 = fail, 77 = skipped."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("TM_BUILDDIR", ".")
SRC = os.environ.get("TM_SRCDIR", ".")
DAEMON = os.path.join(BUILD, "textmilld")
CLI = os.path.join(BUILD, "textmill")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    if not (os.access(DAEMON, os.X_OK) and os.access(CLI, os.X_OK)):
        print("SKIP: textmilld/textmill not built")
        return 77
    page = open(os.path.join(SRC, "tests/data/boilerplate/page.html"), encoding="utf-8").read()
    appeal = open(os.path.join(SRC, "tests/data/boilerplate/appeal.txt"), encoding="utf-8").read()
    docs = [
        {"id": "e2e-html", "text": page, "content_type": "text/html"},
        {"id": "e2e-text", "text": appeal},
        {"id": "e2e-allbp", "text": "Share this article\nFacebook\nTwitter\nComments\n"},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        ingest = "ipc://" + os.path.join(tmp, "ingest")
        publish = "ipc://" + os.path.join(tmp, "publish")
        conf = os.path.join(tmp, "textmill.conf")
        with open(conf, "w") as f:
            json.dump({"ingest": ingest, "push": "", "publish": publish, "deliver": "",
                       "workers": 2, "pipeline": [{"stage": "boilerplate"}]}, f)
        ready = os.path.join(tmp, "endpoints.json")
        env = dict(os.environ)
        env.setdefault("TEXTMILL_PLUGIN_DIR", os.path.join(BUILD, "plugins"))
        env.setdefault("TEXTMILL_DATA_DIR", os.path.join(SRC, "plugins"))
        d = subprocess.Popen([DAEMON, "-c", conf, "--endpoints-file", ready, "-l", "warn"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            t0 = time.time()
            while not os.path.exists(ready):
                if d.poll() is not None:
                    fail("textmilld exited: " + d.stderr.read().decode(errors="replace"))
                if time.time() - t0 > 20:
                    fail("textmilld not ready after 20 s")
                time.sleep(0.05)
            tail = subprocess.Popen([CLI, "tail", "-e", publish, "-r", "-n", str(len(docs)),
                                     "-t", "20000"], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            time.sleep(0.7)  # let the subscription reach the publisher
            payload = "".join(json.dumps(x) + "\n" for x in docs).encode()
            s = subprocess.run([CLI, "send", "-e", ingest, "-q"], input=payload, env=env,
                               capture_output=True, timeout=30)
            if s.returncode != 0:
                fail("textmill send: rc %d %s" % (s.returncode, s.stderr.decode(errors="replace")))
            out, err = tail.communicate(timeout=40)
            got = {}
            for line in out.decode().splitlines():
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                got[r.get("id")] = r
            for x in docs:
                if x["id"] not in got:
                    fail("no result for %s (tail stderr: %s)" % (x["id"], err.decode(errors="replace")))
            h = got["e2e-html"]
            text = h.get("text", "")
            if "Operators had cut the evening service" not in text or "We use cookies" in text \
                    or "Share on Facebook" in text or "<p>" in text:
                fail("html result text wrong: %r" % text[:300])
            ann = h["annotations"]["boilerplate"]
            kinds = {s["kind"] for s in ann["removed"]}
            for k in ("cookie_notice", "navigation", "share", "comment_prompt", "footer"):
                if k not in kinds:
                    fail("html: no removed span of kind %s (%s)" % (k, sorted(kinds)))
            t = got["e2e-text"]
            if "Your support" in t["text"] or "\nThe harbour council on Tuesday" not in t["text"]:
                fail("text result wrong: %r" % t["text"][:300])
            a = got["e2e-allbp"]
            codes = [e.get("code") for e in a.get("errors", [])]
            if "all_boilerplate" not in codes or a.get("text", None) not in ("", None):
                fail("all-boilerplate document: %r" % a)
        finally:
            d.send_signal(signal.SIGTERM)
            try:
                d.wait(timeout=15)
            except subprocess.TimeoutExpired:
                d.kill()
    print("PASS: boilerplate end to end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
