"""tmtest - helpers for textmill's end-to-end tests.

Starts the real textmilld (from the build tree) on free loopback ports and
talks to it over real ZeroMQ sockets.  Every wait is bounded.  Used by the
tests/e2e/test_*.py scripts, each of which is one automake test (exit 0 =
pass, 1 = fail, 77 = skip) built on unittest.

Environment (set by `make check`): TM_BUILDDIR, TM_SRCDIR,
TEXTMILL_PLUGIN_DIR, TEXTMILL_DATA_DIR.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

try:
    import zmq
except ImportError:  # pragma: no cover
    print("python3-zmq is not installed (apt-get install python3-zmq): skipping", file=sys.stderr)
    sys.exit(77)

BUILDDIR = os.environ.get("TM_BUILDDIR", os.getcwd())
SRCDIR = os.environ.get("TM_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TEXTMILLD = os.path.join(BUILDDIR, "textmilld")
TEXTMILL = os.path.join(BUILDDIR, "textmill")
TEST_PLUGINS = os.path.join(BUILDDIR, "tests", "unit", "plugins", ".libs")
SEEDS = os.path.join(SRCDIR, "tests", "data", "seeds.jsonl")


def schema_validator(name):
    """A validator for proto/schema/NAME.schema.json (refs between the
    schema files resolved locally)."""
    import jsonschema
    base = os.path.join(SRCDIR, "proto", "schema")
    store = {}
    for f in os.listdir(base):
        if f.endswith(".schema.json"):
            with open(os.path.join(base, f)) as fh:
                doc = json.load(fh)
            store[doc["$id"]] = doc
    with open(os.path.join(base, name + ".schema.json")) as fh:
        schema = json.load(fh)
    resolver = jsonschema.RefResolver(base_uri=schema["$id"], referrer=schema, store=store)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, resolver=resolver)


def test_plugin(name):
    """Path of a test plugin (tests/unit/plugins/NAME.c)."""
    return os.path.join(TEST_PLUGINS, name + ".so")


class Daemon:
    """A textmilld process with its own config, state and log files."""

    def __init__(self, config=None, args=(), loopback=True):
        self.tmp = tempfile.mkdtemp(prefix="tm-e2e-")
        cfg = {
            "ingest": "tcp://127.0.0.1:*",
            "push": "tcp://127.0.0.1:*",
            "publish": "tcp://127.0.0.1:*",
            "http": "127.0.0.1:0",
            "log_level": "info",
            "pipeline": [{"stage": "stats"}],
        }
        if not loopback:
            cfg = {}
        cfg.update(config or {})
        self.config = cfg
        self.config_path = os.path.join(self.tmp, "textmill.conf")
        with open(self.config_path, "w") as f:
            f.write("// written by tmtest\n" + json.dumps(cfg, indent=2) + "\n")
        self.endpoints_path = os.path.join(self.tmp, "endpoints.json")
        self.log_path = os.path.join(self.tmp, "textmilld.log")
        self.args = list(args)
        # CI runs as root; the daemon refuses that unless told explicitly.
        if os.geteuid() == 0 and "--allow-root" not in self.args:
            self.args.append("--allow-root")
        self.proc = None
        self.endpoints = None

    def start(self, timeout=15):
        if os.path.exists(self.endpoints_path):
            os.unlink(self.endpoints_path)
        if getattr(self, "log", None):
            self.log.close()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [TEXTMILLD, "--config", self.config_path, "--endpoints-file", self.endpoints_path]
            + self.args,
            stdout=self.log, stderr=self.log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("textmilld exited with %d at start-up:\n%s"
                                   % (self.proc.returncode, self.read_log()))
            if os.path.exists(self.endpoints_path):
                with open(self.endpoints_path) as f:
                    self.endpoints = json.load(f)
                return self
            time.sleep(0.02)
        self.kill()
        raise RuntimeError("textmilld did not become ready in %ss:\n%s" % (timeout, self.read_log()))

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stop with sig and return the exit code (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def cleanup(self):
        self.kill()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class Client:
    """A DEALER on ingest, a SUB on publish and a PUSH on push."""

    def __init__(self, daemon, topics=(b"",)):
        self.ctx = zmq.Context()
        self.ep = daemon.endpoints
        self.dealer = self.ctx.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 0)
        self.dealer.connect(self.ep["ingest"])
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.RCVHWM, 0)
        for t in topics:
            self.sub.setsockopt(zmq.SUBSCRIBE, t)
        self.sub.connect(self.ep["publish"])
        self.push = None
        self.probes = 0

    def join(self, timeout=10):
        """Send probe documents until one comes back on SUB: a subscription
        takes a moment to reach the publisher (the slow-joiner problem)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.probes += 1
            pid = "__probe-%d" % self.probes
            self.dealer.send(json.dumps({"id": pid, "text": "probe"}).encode())
            end = time.time() + 0.2
            while time.time() < end:
                if self.sub.poll(20):
                    frames = self.sub.recv_multipart()
                    if len(frames) == 2 and json.loads(frames[1]).get("id") == pid:
                        self.drain(0.1)
                        return
        raise AssertionError("no probe result within %ss" % timeout)

    def drain(self, seconds=0.1):
        """Discard what arrives for a short while (probe leftovers, acks)."""
        end = time.time() + seconds
        while time.time() < end:
            got = False
            for s in (self.sub, self.dealer):
                while s.poll(0):
                    s.recv_multipart()
                    got = True
            if not got:
                time.sleep(0.01)

    def send(self, doc):
        data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        self.dealer.send(data)

    def send_frames(self, frames):
        self.dealer.send_multipart(frames)

    def ack(self, timeout=10):
        if not self.dealer.poll(int(timeout * 1000)):
            raise AssertionError("no ack within %ss" % timeout)
        return json.loads(self.dealer.recv())

    def push_send(self, data):
        if self.push is None:
            self.push = self.ctx.socket(zmq.PUSH)
            self.push.setsockopt(zmq.LINGER, 1000)
            self.push.connect(self.ep["push"])
        self.push.send(data if isinstance(data, bytes) else json.dumps(data).encode())

    def published(self, timeout=10):
        """Next (topic, message) from PUB."""
        if not self.sub.poll(int(timeout * 1000)):
            raise AssertionError("nothing published within %ss" % timeout)
        topic, body = self.sub.recv_multipart()
        return topic.decode(), json.loads(body)

    def collect(self, ids, timeout=30, acks=None):
        """Read PUB (and acks) until every id in ids was published; returns
        {id: (topic, message)}.  Fails listing what is missing on timeout."""
        want = set(ids)
        got = {}
        deadline = time.time() + timeout
        poller = zmq.Poller()
        poller.register(self.sub, zmq.POLLIN)
        poller.register(self.dealer, zmq.POLLIN)
        while want - set(got) and time.time() < deadline:
            ev = dict(poller.poll(100))
            if self.dealer in ev:
                while self.dealer.poll(0):
                    a = json.loads(self.dealer.recv())
                    if acks is not None:
                        acks[a.get("id")] = a
            if self.sub in ev:
                while self.sub.poll(0):
                    topic, body = self.sub.recv_multipart()
                    m = json.loads(body)
                    if m.get("id") in want:
                        got[m["id"]] = (topic.decode(), m)
        missing = want - set(got)
        if missing:
            raise AssertionError("%d of %d ids never published, e.g. %s"
                                 % (len(missing), len(want), sorted(missing)[:5]))
        return got

    def close(self):
        self.ctx.destroy(linger=0)


def http_get(daemon, path, timeout=5):
    """GET http://<daemon's http endpoint><path>; returns (status, text)."""
    import urllib.error
    import urllib.request
    url = "http://%s%s" % (daemon.endpoints["http"], path)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metrics(daemon):
    """The daemon's /metrics as {'name{labels}': value} (labels as rendered)."""
    status, text = http_get(daemon, "/metrics")
    assert status == 200, text
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def wait_for(predicate, timeout=10, interval=0.05, what="condition"):
    """Poll predicate() until it returns a true value; returns that value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def asan_build():
    """True when textmilld is built with AddressSanitizer (memory figures
    are then meaningless)."""
    try:
        out = subprocess.run(["ldd", TEXTMILLD], capture_output=True, text=True).stdout
    except OSError:
        return False
    return "libasan" in out


def run(argv, stdin=None, timeout=60, env=None):
    """Run a command; returns CompletedProcess with text stdout/stderr."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, env=e,
                          text=isinstance(stdin, str) or stdin is None)


def main():
    """Run the calling module's unittest cases; exit 0 or 1 for automake."""
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
