#!/usr/bin/env python3
"""End-to-end: operating textmilld.  /metrics (the families the issue asks
for, promtool-clean), /healthz and /readyz that notice a stuck pipeline;
backpressure (no PUSH consumer pauses intake and says so; a slow PUB
subscriber is counted and stalls nobody); the memory cap under a producer
much faster than the pipeline; CurveZMQ with an allow-list; no root."""
import json
import os
import shutil
import subprocess
import threading
import time
import unittest

import zmq

import tmtest
from tmtest import Client, Daemon

REQUIRED_FAMILIES = [
    "textmill_documents_accepted_total", "textmill_results_total",
    "textmill_documents_rejected_total", "textmill_stage_documents_total",
    "textmill_stage_errors_total", "textmill_stage_seconds", "textmill_in_flight",
    "textmill_input_paused", "textmill_input_paused_reason", "textmill_spool_documents",
    "textmill_spool_bytes", "textmill_dead_letters_total", "textmill_publish_dropped_total",
    "textmill_loop_utilisation", "textmill_build_info", "textmill_reloads_total",
    "textmill_resident_memory_bytes", "textmill_ready"]


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Metrics(unittest.TestCase):
    def test_metrics_families_and_promtool(self):
        d = Daemon({"state_dir": "", "pipeline": [{"stage": "stats"}]})
        d.config["state_dir"] = os.path.join(d.tmp, "state")
        with open(d.config_path, "w") as f:
            json.dump(d.config, f)
        d.start()
        c = Client(d)
        try:
            c.join()
            c.send(b"{not json")
            self.assertEqual(c.ack()["status"], "rejected")
            status, text = tmtest.http_get(d, "/metrics")
            self.assertEqual(status, 200)
            families = {l.split()[2] for l in text.splitlines() if l.startswith("# TYPE")}
            for fam in REQUIRED_FAMILIES:
                self.assertIn(fam, families)
            m = tmtest.metrics(d)
            self.assertEqual(m['textmill_documents_rejected_total{code="invalid_json"}'], 1)
            self.assertGreaterEqual(m['textmill_stage_documents_total{stage="stats"}'], 1)
            self.assertIn('textmill_stage_seconds_bucket{stage="stats",le="+Inf"}', m)
            self.assertEqual(m['textmill_build_info{version="0.1.0",abi="1.0"}'], 1)
            promtool = shutil.which("promtool")
            if promtool is None:
                self.skipTest("promtool (Debian package prometheus) is not installed")
            r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=30)
            print("promtool check metrics: exit %d %s%s" % (r.returncode, r.stdout, r.stderr))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(r.stdout + r.stderr, "", "promtool has lint complaints")
        finally:
            c.close()
            d.cleanup()

    def test_health_and_readiness(self):
        d = Daemon({"pipeline": [{"path": tmtest.test_plugin("probe")}]}).start()
        c = Client(d)
        try:
            c.join()
            self.assertEqual(tmtest.http_get(d, "/healthz"), (200, "ok\n"))
            self.assertEqual(tmtest.http_get(d, "/readyz"), (200, "ready\n"))
            self.assertEqual(tmtest.http_get(d, "/nothing")[0], 404)
            c.send({"id": "f", "text": "PROBE_FATAL"})
            c.collect(["f"])
            status, body = tmtest.wait_for(
                lambda: (lambda r: r if r[0] == 503 else None)(tmtest.http_get(d, "/readyz")),
                what="/readyz to fail")
            self.assertIn("disabled after a fatal error", body)
            self.assertEqual(tmtest.http_get(d, "/healthz")[0], 200)
        finally:
            c.close()
            d.cleanup()

    def test_stalled_stage_is_not_ready(self):
        d = Daemon({"ready_stall_ms": 300,
                    "pipeline": [{"path": tmtest.test_plugin("probe")}]}).start()
        c = Client(d)
        try:
            c.join()
            c.send({"id": "slow", "text": "PROBE_SLEEP_MS=1500"})
            status, body = tmtest.wait_for(
                lambda: (lambda r: r if r[0] == 503 else None)(tmtest.http_get(d, "/readyz")),
                what="/readyz to notice the stall")
            self.assertIn("stalled", body)
            c.collect(["slow"])
            tmtest.wait_for(lambda: tmtest.http_get(d, "/readyz")[0] == 200, what="ready again")
        finally:
            c.close()
            d.cleanup()


class Backpressure(unittest.TestCase):
    def test_no_push_consumer_pauses_intake_and_metrics_show_it(self):
        d = Daemon({"deliver": "tcp://127.0.0.1:*", "max_in_flight": 50, "ready_stall_ms": 300,
                    "pipeline": [{"stage": "stats"}]}).start()
        ctx = zmq.Context()
        try:
            dealer = ctx.socket(zmq.DEALER)
            dealer.setsockopt(zmq.LINGER, 0)
            dealer.connect(d.endpoints["ingest"])
            for i in range(300):
                dealer.send(json.dumps({"id": "b-%d" % i, "text": "waiting %d" % i}).encode())
            acks = 0
            while dealer.poll(500):
                dealer.recv()
                acks += 1
            self.assertEqual(acks, 50, "intake must stop at max_in_flight")
            m = tmtest.metrics(d)
            self.assertEqual(m["textmill_input_paused"], 1)
            self.assertEqual(m['textmill_input_paused_reason{reason="output"}'], 1)
            self.assertEqual(m["textmill_deliver_backlog"], 50)
            status, body = tmtest.wait_for(
                lambda: (lambda r: r if r[0] == 503 else None)(tmtest.http_get(d, "/readyz")),
                what="/readyz to report the stuck output")
            self.assertIn("deliver output stuck", body)
            # A consumer arrives: everything flows, intake resumes.
            pull = ctx.socket(zmq.PULL)
            pull.setsockopt(zmq.LINGER, 0)
            pull.connect(d.endpoints["deliver"])
            got = set()
            deadline = time.time() + 30
            while len(got) < 300 and time.time() < deadline:
                if pull.poll(100):
                    got.add(json.loads(pull.recv())["id"])
                while dealer.poll(0):
                    dealer.recv()
            self.assertEqual(len(got), 300)
            tmtest.wait_for(lambda: tmtest.metrics(d)["textmill_input_paused"] == 0,
                            what="intake to resume")
        finally:
            ctx.destroy(linger=0)
            d.cleanup()

    def test_slow_subscriber_is_counted_and_stalls_nobody(self):
        d = Daemon({"publish_hwm": 20, "deliver": "tcp://127.0.0.1:*",
                    "pipeline": [{"stage": "stats"}]}).start()
        ctx = zmq.Context()
        try:
            slow = ctx.socket(zmq.SUB)
            slow.setsockopt(zmq.RCVHWM, 10)
            slow.setsockopt(zmq.RCVBUF, 4096)
            slow.setsockopt(zmq.SUBSCRIBE, b"")
            slow.connect(d.endpoints["publish"])
            pull = ctx.socket(zmq.PULL)
            pull.connect(d.endpoints["deliver"])
            c = Client(d)
            c.join()
            n, text = 1500, "x" * 20000
            got, sent = set(), 0
            deadline = time.time() + 60
            while len(got) < n and time.time() < deadline:
                while sent < n and sent - len(got) < 200:
                    c.send({"id": "s-%d" % sent, "text": "%d %s" % (sent, text)})
                    sent += 1
                if pull.poll(50):
                    while pull.poll(0):
                        rid = json.loads(pull.recv())["id"]
                        if rid.startswith("s-"):
                            got.add(rid)
                c.drain(0)
            self.assertEqual(len(got), n, "the deliver consumer must get everything")
            m = tmtest.metrics(d)
            print("slow subscriber: %d results delivered, publish drops counted: %d"
                  % (len(got), m["textmill_publish_dropped_total"]))
            self.assertGreater(m["textmill_publish_dropped_total"], 0)
            self.assertEqual(m["textmill_input_paused"], 0)
            c.close()
        finally:
            ctx.destroy(linger=0)
            d.cleanup()

    def test_memory_cap_holds_under_a_much_faster_producer(self):
        cap_mb = 96
        d = Daemon({"memory_limit_mb": cap_mb, "max_doc_bytes": 65536, "workers": 1,
                    "push": "tcp://127.0.0.1:*",
                    "pipeline": [{"path": tmtest.test_plugin("probe"),
                                  "config": {"jitter": False}}]}).start()
        ctx = zmq.Context()
        stop = threading.Event()
        peak = [0.0]

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_mb(d.proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            push = ctx.socket(zmq.PUSH)
            push.setsockopt(zmq.SNDHWM, 1000)
            push.setsockopt(zmq.LINGER, 0)
            push.connect(d.endpoints["push"])
            # The pipeline does ~200 docs/s (5 ms each, one worker); the
            # producer tries to send as fast as it can.
            body = "PROBE_SLEEP_MS=5 " + "y" * 30000
            sent = blocked = 0
            t0 = time.time()
            first_block = None
            end = t0 + 8
            while time.time() < end:
                try:
                    push.send(json.dumps({"id": "m-%d" % sent, "text": body}).encode(), zmq.NOBLOCK)
                    sent += 1
                except zmq.Again:
                    if first_block is None:
                        first_block = (time.time() - t0, sent)
                    blocked += 1
                    time.sleep(0.001)
            elapsed = time.time() - t0
            m = tmtest.metrics(d)
            stop.set()
            sampler.join()
            done = m["textmill_results_total"]
            self.assertIsNotNone(first_block, "the producer was never pushed back")
            offered = first_block[1] / max(first_block[0], 1e-3)
            pipeline = done / elapsed
            print("memory cap %d MB: producer offered %.0f docs/s until pushed back (after %d "
                  "docs), pipeline %.0f docs/s (%.0fx slower); sent %d in %.0f s, pushed back "
                  "%d times; daemon peak RSS %.1f MB"
                  % (cap_mb, offered, first_block[1], pipeline, offered / pipeline, sent, elapsed,
                     blocked, peak[0]))
            self.assertGreater(offered, 10 * pipeline, "the producer was not 10x faster")
            self.assertEqual(m["textmill_input_paused"], 1)
            if tmtest.asan_build():
                print("AddressSanitizer build: RSS not compared with the cap")
            else:
                self.assertLess(peak[0], cap_mb, "RSS went over memory_limit_mb")
        finally:
            stop.set()
            sampler.join()
            ctx.destroy(linger=0)
            d.cleanup()


class Security(unittest.TestCase):
    def keygen(self, d, name):
        r = tmtest.run([tmtest.TEXTMILL, "keygen", "-d", d.tmp, name])
        self.assertEqual(r.returncode, 0, r.stderr)
        pub = r.stdout.strip()
        self.assertEqual(len(pub), 40)
        self.assertEqual(os.stat(os.path.join(d.tmp, name + ".key_secret")).st_mode & 0o777, 0o600)
        sec = None
        with open(os.path.join(d.tmp, name + ".key_secret")) as f:
            for line in f:
                if "secret-key" in line:
                    sec = line.split('"')[1]
        return pub, sec

    def curve_socket(self, ctx, kind, server_pub, pub=None, sec=None):
        s = ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        # A refused handshake can leave a DEALER with no peer, and a send on
        # it would then block for ever: every send here is bounded.
        s.setsockopt(zmq.SNDTIMEO, 1000)
        if pub is not None:
            s.curve_serverkey = server_pub.encode()
            s.curve_publickey = pub.encode()
            s.curve_secretkey = sec.encode()
        return s

    def test_only_allowed_curve_clients_get_in_and_out(self):
        if not zmq.has("curve"):
            self.skipTest("libzmq without CURVE")
        d = Daemon()
        server_pub, _ = self.keygen(d, "server")
        good_pub, good_sec = self.keygen(d, "good")
        bad_pub, bad_sec = self.keygen(d, "intruder")
        allowed = os.path.join(d.tmp, "allowed")
        os.mkdir(allowed)
        shutil.copy(os.path.join(d.tmp, "good.key"), allowed)
        d.config.update({"curve_secret_key": os.path.join(d.tmp, "server.key_secret"),
                         "curve_allowed_keys": allowed})
        with open(d.config_path, "w") as f:
            json.dump(d.config, f)
        d.start()
        ctx = zmq.Context()
        try:
            ep = d.endpoints
            # Intruders first: a wrong key, and no CURVE at all.
            bad_in = self.curve_socket(ctx, zmq.DEALER, server_pub, bad_pub, bad_sec)
            bad_in.connect(ep["ingest"])
            bad_sub = self.curve_socket(ctx, zmq.SUB, server_pub, bad_pub, bad_sec)
            bad_sub.setsockopt(zmq.SUBSCRIBE, b"")
            bad_sub.connect(ep["publish"])
            plain = self.curve_socket(ctx, zmq.DEALER, server_pub)
            plain.connect(ep["ingest"])
            for sock, doc_id in ((bad_in, "intruder"), (plain, "plain")):
                try:
                    sock.send(json.dumps({"id": doc_id, "text": "let me in"}).encode())
                except zmq.Again:
                    pass  # refused before the send: nothing went in, as it should
            # The allowed client.
            good_in = self.curve_socket(ctx, zmq.DEALER, server_pub, good_pub, good_sec)
            good_in.connect(ep["ingest"])
            good_sub = self.curve_socket(ctx, zmq.SUB, server_pub, good_pub, good_sec)
            good_sub.setsockopt(zmq.SUBSCRIBE, b"")
            good_sub.connect(ep["publish"])
            ok = False
            deadline = time.time() + 10
            k = 0
            while not ok and time.time() < deadline:
                try:
                    good_in.send(json.dumps({"id": "good-%d" % k, "text": "hello"}).encode())
                except zmq.Again:
                    continue  # handshake still under way
                k += 1
                if good_sub.poll(200):
                    topic, body = good_sub.recv_multipart()
                    ok = json.loads(body)["id"].startswith("good-")
            self.assertTrue(ok, "the allowed client got no result")
            self.assertTrue(good_in.poll(2000))
            self.assertEqual(json.loads(good_in.recv())["status"], "accepted")
            self.assertFalse(bad_in.poll(1000), "the intruder got a reply")
            self.assertFalse(plain.poll(100), "a plain client got a reply")
            self.assertFalse(bad_sub.poll(100), "the intruder's subscriber got a result")
            m = tmtest.metrics(d)
            self.assertEqual(m["textmill_documents_accepted_total"], k)
            self.assertGreaterEqual(m['textmill_auth_total{result="denied"}'], 2)
            self.assertGreaterEqual(m['textmill_auth_total{result="allowed"}'], 2)
            self.assertIn("client refused", d.read_log())
            # The CLI speaks CURVE too.
            docs = os.path.join(d.tmp, "docs.jsonl")
            with open(docs, "w") as f:
                f.write('{"id": "cli-1", "text": "from textmill send"}\n')
            server_cert = os.path.join(d.tmp, "server.key")
            r = tmtest.run([tmtest.TEXTMILL, "send", "-e", ep["ingest"], "-t", "5000",
                            "--curve-server", server_cert, "--curve-key",
                            os.path.join(d.tmp, "good.key_secret"), docs])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('"accepted"', r.stdout)
            r = tmtest.run([tmtest.TEXTMILL, "send", "-e", ep["ingest"], "-t", "1500",
                            "--curve-server", server_cert, "--curve-key",
                            os.path.join(d.tmp, "intruder.key_secret"), docs])
            self.assertEqual(r.returncode, 1, "an intruder's send must time out")
            self.assertEqual(d.stop(), 0)
        finally:
            ctx.destroy(linger=0)
            d.cleanup()

    def test_curve_without_allow_list_is_refused(self):
        d = Daemon({"curve_secret_key": "/nonexistent.key_secret"})
        try:
            with self.assertRaises(RuntimeError) as cm:
                d.start()
            self.assertIn("curve_allowed_keys", str(cm.exception))
        finally:
            d.cleanup()

    def test_refuses_to_run_as_root(self):
        if os.geteuid() != 0:
            self.skipTest("not root")
        env = dict(os.environ)
        env.pop("TEXTMILL_ALLOW_ROOT", None)
        r = subprocess.run([tmtest.TEXTMILLD, "--ingest", "tcp://127.0.0.1:*", "--push", "",
                            "--publish", "tcp://127.0.0.1:*"], env=env, capture_output=True,
                           text=True, timeout=30,
                           input="")
        self.assertEqual(r.returncode, 78)
        self.assertIn("refusing to run as root", r.stderr)
        self.assertIn("--allow-root", r.stderr)


if __name__ == "__main__":
    tmtest.main()
