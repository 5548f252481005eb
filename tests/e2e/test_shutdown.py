#!/usr/bin/env python3
"""End-to-end: SIGTERM/SIGINT under load.  Input stops, everything accepted
is finished and published, the daemon exits 0; a grace period that runs out
is reported."""
import json
import signal
import time
import unittest

import zmq

import tmtest
from tmtest import Client, Daemon


class Shutdown(unittest.TestCase):
    def load_then_stop(self, sig):
        d = Daemon({"workers": 2, "max_in_flight": 128,
                    "pipeline": [{"path": tmtest.test_plugin("probe")}, {"stage": "stats"}]}).start()
        c = Client(d)
        try:
            c.join()
            acked, results = set(), set()
            poller = zmq.Poller()
            poller.register(c.dealer, zmq.POLLIN)
            poller.register(c.sub, zmq.POLLIN)
            n, sent, stopped_at = 3000, 0, None
            deadline = time.time() + 60
            while time.time() < deadline:
                if sent < n:
                    # Every tenth document is slow, so work is in flight at the signal.
                    text = "doc %d PROBE_SLEEP_MS=3" % sent if sent % 10 == 0 else "doc %d" % sent
                    try:
                        c.dealer.send(json.dumps({"id": "s-%d" % sent, "text": text}).encode(),
                                      zmq.NOBLOCK)
                        sent += 1
                    except zmq.Again:
                        pass  # pushed back: the daemon is at its in-flight bound
                if stopped_at is None and len(acked) >= 600:
                    d.send_signal(sig)
                    stopped_at = len(acked)
                for sock, _ in poller.poll(0 if sent < n else 50):
                    while sock.poll(0):
                        if sock is c.dealer:
                            a = json.loads(sock.recv())
                            if a["status"] == "accepted":
                                acked.add(a["id"])
                        else:
                            _, body = sock.recv_multipart()
                            results.add(json.loads(body)["id"])
                if stopped_at is not None and not d.alive():
                    # Read what is still queued in our sockets.
                    end = time.time() + 1.0
                    while time.time() < end:
                        if c.sub.poll(50):
                            results.add(json.loads(c.sub.recv_multipart()[1])["id"])
                    break
            code = d.proc.wait(30)
            self.assertIsNotNone(stopped_at, "never reached 600 acks")
            self.assertEqual(code, 0, d.read_log()[-3000:])
            lost = acked - results
            self.assertEqual(lost, set(), "%d acked documents never published" % len(lost))
            self.assertLess(len(acked), n, "the daemon kept accepting after the signal")
            log = d.read_log()
            self.assertIn("stopping: input closed", log)
            self.assertIn("drained, stopping", log)
        finally:
            c.close()
            d.cleanup()

    def test_sigterm_under_load_loses_nothing(self):
        self.load_then_stop(signal.SIGTERM)

    def test_sigint_under_load_loses_nothing(self):
        self.load_then_stop(signal.SIGINT)

    def test_grace_period_runs_out(self):
        d = Daemon({"shutdown_grace_ms": 300,
                    "pipeline": [{"path": tmtest.test_plugin("probe")}]}).start()
        c = Client(d)
        try:
            c.join()
            c.send({"id": "slow", "text": "PROBE_SLEEP_MS=2500"})
            self.assertEqual(c.ack()["status"], "accepted")
            t0 = time.time()
            code = d.stop(signal.SIGTERM, timeout=20)
            self.assertEqual(code, 1, "exit status must say documents were not published")
            self.assertLess(time.time() - t0, 10)
            self.assertIn("grace period over", d.read_log())
        finally:
            c.close()
            d.cleanup()


if __name__ == "__main__":
    tmtest.main()
