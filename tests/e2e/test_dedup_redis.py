#!/usr/bin/env python3
"""Two textmilld daemons sharing one dedup index in a real redis-server.

A document sent to daemon A and its copies sent to daemon B must be flagged
by B as duplicates of A's document; a copy sent to A of a story B saw first
points to B's document.  Then Redis stops: the next document still gets a
result, carrying the dedup error "index_unavailable", and the daemon keeps
serving.  Skipped (77) without redis-server or python3-zmq.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

try:
    import zmq
except ImportError:
    sys.exit(77)
if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
    sys.exit(77)

B = os.environ.get("TM_BUILDDIR", ".")
S = os.environ.get("TM_SRCDIR", ".")
DAEMON = os.path.join(B, "textmilld")
if not os.path.exists(os.path.join(B, "plugins", ".libs", "dedup.so")):
    sys.exit(77)

WORDS = ("council river budget school harbour minister storm bridge market festival railway "
         "hospital election police museum farmers water energy court village report airport "
         "teachers workers plans said would after before during against because local national "
         "officials residents company union mayor judge station office announced rejected").split()


def article(seed):
    r = random.Random(seed)
    return "\n\n".join(" ".join(r.choice(WORDS) for _ in range(60)) for _ in range(5))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


tmp = tempfile.mkdtemp(prefix="tm-dedup-redis-e2e-")
procs = []
ctx = zmq.Context()
port = free_port()
redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", tmp],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    conf = os.path.join(tmp, "d.conf")
    with open(conf, "w") as f:
        json.dump({"ingest": "", "push": "tcp://127.0.0.1:*", "publish": "", "http": "127.0.0.1:0",
                   "deliver": "tcp://127.0.0.1:*", "workers": 2,
                   "pipeline": [{"stage": "dedup", "config": {
                       "backend": "redis", "redis_port": port, "redis_retry_ms": 0}}]}, f)
    eps = []
    for name in ("a", "b"):
        ep = os.path.join(tmp, name + ".json")
        procs.append(subprocess.Popen([DAEMON, "-c", conf, "--plugin-dir", os.path.join(B, "plugins"),
                                       "--data-dir", os.path.join(S, "plugins"),
                                       "--endpoints-file", ep, "-l", "error"]))
        for _ in range(200):
            if os.path.exists(ep) and os.path.getsize(ep) > 0:
                break
            time.sleep(0.05)
        with open(ep) as f:
            eps.append(json.load(f))
    push, pull = [], []
    for e in eps:
        s = ctx.socket(zmq.PUSH)
        s.connect(e["push"])
        push.append(s)
        r = ctx.socket(zmq.PULL)
        r.connect(e["deliver"])
        r.RCVTIMEO = 10000
        pull.append(r)

    def ask(d, i, doc_id, text):
        push[d].send_string(json.dumps({"id": doc_id, "text": text}))
        try:
            res = json.loads(pull[d].recv())
        except zmq.Again:
            fail("no result for %s from daemon %d" % (doc_id, d))
        if res.get("id") != doc_id:
            fail("unexpected result %s" % res.get("id"))
        return res

    texts = [article(s) for s in range(6)]
    for i, t in enumerate(texts[:3]):
        a = ask(0, i, "a%d" % i, t)["annotations"]["dedup"]
        if a["status"] != "unique":
            fail("a%d: %s" % (i, a))
    for i, t in enumerate(texts[:3]):
        a = ask(1, i, "b-exact%d" % i, t)["annotations"]["dedup"]
        if (a["status"], a["duplicate_of"]) != ("exact_duplicate", "a%d" % i):
            fail("b-exact%d: %s" % (i, a))
        near = "Reprinted from another outlet\n\n" + t.rsplit("\n\n", 1)[0] + "\n\nRead more"
        a = ask(1, i, "b-near%d" % i, near)["annotations"]["dedup"]
        if (a["status"], a["duplicate_of"]) != ("near_duplicate", "a%d" % i):
            fail("b-near%d: %s" % (i, a))
    a = ask(1, 0, "b3", texts[3])["annotations"]["dedup"]
    a = ask(0, 0, "a-copy3", texts[3])["annotations"]["dedup"]
    if (a["status"], a["duplicate_of"]) != ("exact_duplicate", "b3"):
        fail("a-copy3: %s" % a)

    # Redis goes away: a clear document error, and the daemon keeps serving
    redis.terminate()
    redis.wait()
    res = ask(0, 0, "down1", texts[4])
    errs = [e for e in res.get("errors", []) if e.get("stage") == "dedup"]
    if not errs or errs[0].get("code") != "index_unavailable" or "Redis at 127.0.0.1" not in errs[0].get("message", ""):
        fail("no clear error while Redis is down: %s" % res.get("errors"))
    res = ask(1, 0, "down2", texts[5])
    if not res.get("errors"):
        fail("daemon b: no error while Redis is down")
    for p in procs:
        if p.poll() is not None:
            fail("a daemon exited while Redis was down")
    print("ok")
finally:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    if redis.poll() is None:
        redis.terminate()
        redis.wait()
    ctx.destroy(linger=0)
    shutil.rmtree(tmp, ignore_errors=True)
