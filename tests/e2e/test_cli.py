#!/usr/bin/env python3
"""End-to-end: the textmill CLI (run, send, tail, bench) and textmilld's
start-up modes (--check-config, --describe-stage, --help-config, errors)."""
import json
import os
import subprocess
import tempfile
import time
import unittest

import tmtest
from tmtest import Client, Daemon, TEXTMILL, TEXTMILLD, run


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class Batch(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tm-cli-")
        self.conf = write(self.tmp, "c.conf", '{"pipeline": [{"stage": "stats"}]}')

    def test_one_result_per_line_in_order(self):
        with open(tmtest.SEEDS) as f:
            seeds = f.read()
        r = run([TEXTMILL, "run", "-c", self.conf], stdin=seeds)
        self.assertEqual(r.returncode, 0, r.stderr)
        inp = [json.loads(l) for l in seeds.splitlines() if l.strip()]
        out = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(len(out), len(inp))
        self.assertEqual([o["id"] for o in out], [i["id"] for i in inp])
        for o in out:
            self.assertGreater(o["annotations"]["stats"]["words"], 100)

    def test_bad_lines_become_error_objects(self):
        inp = ('{"id":"a","text":"one"}\n'
               'garbage\n'
               '\n'
               '{"id":"b"}\n'
               '{"id":"c","text":"three"}\n')
        r = run([TEXTMILL, "run", "-c", self.conf, "--workers", "2"], stdin=inp)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(len(out), 4)  # the blank line is skipped
        self.assertEqual(out[0]["id"], "a")
        self.assertEqual(out[1]["error"]["code"], "invalid_json")
        self.assertEqual(out[1]["line"], 2)
        self.assertIsNone(out[1]["id"])
        self.assertEqual(out[2]["error"]["code"], "missing_text")
        self.assertEqual(out[2]["id"], "b")
        self.assertEqual(out[2]["line"], 4)
        self.assertEqual(out[3]["id"], "c")

    def test_two_runs_give_the_same_answer(self):
        with open(tmtest.SEEDS) as f:
            seeds = f.read() * 20
        outs = []
        for workers in ("1", "2"):
            r = run([TEXTMILL, "run", "-c", self.conf, "-w", workers], stdin=seeds)
            self.assertEqual(r.returncode, 0)
            docs = [json.loads(l) for l in r.stdout.splitlines()]
            for d in docs:
                d.pop("timing_us")
            outs.append(docs)
        self.assertEqual(outs[0], outs[1])

    def test_stats_and_fatal_exit_codes(self):
        r = run([TEXTMILL, "run", "-c", self.conf, "--stats"], stdin='{"text":"a b c"}\n')
        self.assertEqual(r.returncode, 0)
        self.assertIn("docs/s", r.stderr)
        self.assertIn("stage stats", r.stderr)
        bad = write(self.tmp, "bad.conf", '{"pipeline": [{"stage": "nosuchstage"}]}')
        r = run([TEXTMILL, "run", "-c", bad], stdin='{"text":"x"}\n')
        self.assertEqual(r.returncode, 78)
        self.assertIn("nosuchstage.so", r.stderr)
        fatal = write(self.tmp, "fatal.conf",
                      json.dumps({"pipeline": [{"path": tmtest.test_plugin("probe")}]}))
        r = run([TEXTMILL, "run", "-c", fatal], stdin='{"text":"PROBE_FATAL"}\n{"text":"x"}\n')
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stdout.splitlines()), 2)  # still one line per input


class DaemonModes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tm-cli-")

    def test_check_config(self):
        good = write(self.tmp, "good.conf", '// ok\n{"pipeline": [{"stage": "stats"}]}')
        r = run([TEXTMILLD, "--check-config", "-c", good])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("config OK", r.stdout)
        cases = [
            ('{"pipeline": [{"path": "%s"}]}' % tmtest.test_plugin("bad_abi"), "ABI mismatch"),
            ('{"pipeline": [{"path": "%s"}]}' % tmtest.test_plugin("no_entry"),
             "not a textmill plugin"),
            ('{"pipeline": [{"path": "%s"}]}' % tmtest.test_plugin("failing_create"),
             "create failed: cannot open lexicon"),
            ('{"pipeline": [{"path": "/nonexistent/x.so"}]}', "/nonexistent/x.so"),
            ('{"workers": "many"}', "\"workers\" must be an integer"),
            ('{"wrokers": 2}', "unknown config key \"wrokers\""),
            ('{"pipeline": [{"stage": "stats"}]', "not valid JSON"),
        ]
        for i, (text, needle) in enumerate(cases):
            with self.subTest(needle):
                path = write(self.tmp, "bad%d.conf" % i, text)
                r = run([TEXTMILLD, "--check-config", "-c", path])
                self.assertEqual(r.returncode, 78, r.stderr)
                self.assertIn(needle, r.stderr)

    def test_start_refused_with_bad_plugin(self):
        path = write(self.tmp, "bad.conf", '{"ingest": "tcp://127.0.0.1:*", "push": "",'
                     ' "publish": "tcp://127.0.0.1:*", "pipeline": [{"path": "%s"}]}'
                     % tmtest.test_plugin("bad_abi"))
        r = run([TEXTMILLD, "-c", path], timeout=20)
        self.assertEqual(r.returncode, 78)
        self.assertIn("ABI mismatch", r.stderr)
        self.assertIn("bad_abi.so", r.stderr)

    def test_bind_failure_is_explained(self):
        path = write(self.tmp, "c.conf", '{"ingest": "tcp://256.1.1.1:1", "push": "", '
                     '"publish": ""}')
        r = run([TEXTMILLD, "-c", path], timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot bind the ingest socket to tcp://256.1.1.1:1", r.stderr)

    def test_describe_and_help(self):
        r = run([TEXTMILLD, "--describe-stage", "stats"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("words_per_minute", r.stdout)
        r = run([TEXTMILLD, "--help-config"])
        self.assertIn("max_in_flight", r.stdout)
        self.assertIn("each \"pipeline\" entry", r.stdout)
        r = run([TEXTMILLD, "--version"])
        self.assertIn("stage ABI 1.", r.stdout)
        self.assertRegex(r.stdout, r"(mimalloc \d+\.\d+\.\d+|glibc malloc)\)$")
        r = run([TEXTMILLD, "--no-such-flag"])
        self.assertEqual(r.returncode, 64)


class Clients(unittest.TestCase):
    def test_send_tail_and_bench(self):
        tmp = tempfile.mkdtemp(prefix="tm-cli-")
        d = Daemon().start()
        try:
            ep = d.endpoints
            tail = subprocess.Popen([TEXTMILL, "tail", "-e", ep["publish"], "--raw", "-n", "3",
                                     "-t", "20000", "-T", "result"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)  # let the subscription reach the daemon
            article = write(tmp, "story.txt", "A plain text story.\nSecond paragraph.\n")
            page = write(tmp, "page.html", "<p>Hello</p>")
            jsonl = write(tmp, "docs.jsonl", '{"id":"j1","text":"from jsonl"}\nnot json\n')
            r = run([TEXTMILL, "send", "-e", ep["ingest"], article, page, jsonl])
            self.assertEqual(r.returncode, 2, r.stderr)  # one line was rejected
            acks = [json.loads(l) for l in r.stdout.splitlines()]
            self.assertEqual(sorted(a["status"] for a in acks),
                             ["accepted", "accepted", "accepted", "rejected"])
            self.assertIn("story.txt", [a["id"] for a in acks])
            out, _ = tail.communicate(timeout=30)
            got = [json.loads(l) for l in out.splitlines()]
            self.assertEqual(sorted(g["id"] for g in got), ["j1", "page.html", "story.txt"])
            latlog = os.path.join(tmp, "latency.log")
            bench = run([TEXTMILL, "bench", "-i", ep["ingest"], "-p", ep["publish"], "-n", "500",
                         "-W", "16", "--salt", "--json", "--pid", str(d.proc.pid),
                         "--latency-log", latlog, tmtest.SEEDS],
                        timeout=60)
            self.assertEqual(bench.returncode, 0, bench.stderr)
            res = json.loads(bench.stdout)
            self.assertEqual(res["results"], 500)
            self.assertEqual(res["lost"], 0)
            self.assertGreater(res["docs_per_s"], 0)
            self.assertGreaterEqual(res["p99_ms"], res["p50_ms"])
            # --pid: the daemon's memory and both ends' CPU per document.
            self.assertGreater(res["rss_mb"], 1)
            # /proc counts in clock ticks (10 ms): a short run may round to 0.
            self.assertGreaterEqual(res["daemon_cpu_us_per_doc"], 0)
            self.assertGreater(res["client_cpu_us_per_doc"], 0)
            # ... and the daemon's CPU by thread role (-1 when /proc failed).
            thr = res["daemon_threads_cpu_us_per_doc"]
            self.assertEqual(sorted(thr), ["loop", "other", "workers", "zmq_io"])
            for role, us in thr.items():
                self.assertGreaterEqual(us, 0, role)
            # --latency-log: a header, then one line per result, numbers 0..499
            # once each, with latencies whose percentile matches the summary.
            with open(latlog) as f:
                head, *lines = f.read().splitlines()
            self.assertTrue(head.startswith("# number sent_ms latency_ms"), head)
            rows = [l.split() for l in lines]
            self.assertEqual(sorted(int(r[0]) for r in rows), list(range(500)))
            self.assertTrue(all(float(r[1]) >= 0 and float(r[2]) > 0 for r in rows))
            lat = sorted(float(r[2]) for r in rows)
            self.assertAlmostEqual(lat[-1], res["max_ms"], delta=0.01)
        finally:
            code = d.stop()
            d.cleanup()
        self.assertEqual(code, 0)


if __name__ == "__main__":
    tmtest.main()
