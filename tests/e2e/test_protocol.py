#!/usr/bin/env python3
"""End-to-end: wire protocol v1 against the real textmilld on loopback."""
import json
import os
import time
import unittest

import zmq

import tmtest
from tmtest import Client, Daemon


class Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon({"pipeline": [{"stage": "stats"},
                                     {"path": tmtest.test_plugin("probe"),
                                      "config": {"jitter": True}}]}).start()
        cls.c = Client(cls.d)
        cls.c.join()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        code = cls.d.stop()
        log = cls.d.read_log()
        cls.d.cleanup()
        assert code == 0, "textmilld exited with %r:\n%s" % (code, log)

    def test_dealer_ack_and_result(self):
        doc = {"id": "p-1", "text": "Hello world. Bye now.", "url": "http://example.org/a",
               "source": "wire", "lang": "en", "meta": {"k": [1, {"x": None}]}}
        tmtest.schema_validator("document").validate(doc)
        self.c.send(doc)
        ack = self.c.ack()
        self.assertEqual(ack, {"id": "p-1", "status": "accepted"})
        tmtest.schema_validator("ack").validate(ack)
        topic, r = self.c.collect(["p-1"])["p-1"]
        tmtest.schema_validator("result").validate(r)
        self.assertEqual(topic, "result.unique")
        self.assertEqual(r["text"], "Hello world. Bye now.")
        self.assertEqual(r["meta"], {"k": [1, {"x": None}]})
        self.assertEqual(r["url"], "http://example.org/a")
        self.assertEqual(r["source"], "wire")
        self.assertEqual(r["annotations"]["stats"]["words"], 4)
        self.assertIn("probe", r["annotations"])
        self.assertIn("stats", r["timing_us"])
        self.assertIn("total", r["timing_us"])
        self.assertNotIn("errors", r)

    def test_req_client_with_delimiter(self):
        req = self.c.ctx.socket(zmq.REQ)
        req.setsockopt(zmq.LINGER, 0)
        req.connect(self.d.endpoints["ingest"])
        req.send(json.dumps({"id": "req-1", "text": "From a REQ socket."}).encode())
        self.assertTrue(req.poll(10000))
        self.assertEqual(json.loads(req.recv()), {"id": "req-1", "status": "accepted"})
        req.send(b"{oops")  # a REQ can send again once answered
        self.assertTrue(req.poll(10000))
        self.assertEqual(json.loads(req.recv())["error"]["code"], "invalid_json")
        req.close()
        self.c.collect(["req-1"])

    def test_id_assigned_when_absent(self):
        self.c.send({"text": "no id here"})
        ack = self.c.ack()
        self.assertEqual(ack["status"], "accepted")
        self.assertTrue(ack["id"].startswith("tm-"))
        _, r = self.c.collect([ack["id"]])[ack["id"]]
        self.assertEqual(r["text"], "no id here")

    def test_push_input(self):
        self.c.push_send({"id": "push-1", "text": "fire and forget"})
        topic, r = self.c.collect(["push-1"])["push-1"]
        self.assertEqual(topic, "result.unique")

    def test_window_64_of_2000_all_come_back(self):
        n, window = 2000, 64
        ids = ["w-%d" % i for i in range(n)]
        acks = {}
        got = {}
        poller = zmq.Poller()
        poller.register(self.c.sub, zmq.POLLIN)
        poller.register(self.c.dealer, zmq.POLLIN)
        sent = 0
        deadline = time.time() + 60
        while len(got) < n and time.time() < deadline:
            while sent < n and sent - len(got) < window:
                self.c.send({"id": ids[sent], "text": "document number %d. It has words." % sent})
                sent += 1
            ev = dict(poller.poll(100))
            while self.c.dealer.poll(0):
                a = json.loads(self.c.dealer.recv())
                acks[a["id"]] = a["status"]
            while self.c.sub.poll(0):
                topic, body = self.c.sub.recv_multipart()
                m = json.loads(body)
                if (m.get("id") or "").startswith("w-"):
                    got[m["id"]] = m
        self.assertEqual(len(got), n, "lost %d documents" % (n - len(got)))
        self.assertTrue(all(got["w-%d" % i]["text"].startswith("document number %d." % i)
                            for i in range(n)))
        # The probe's ordered lane saw them in arrival order.
        orders = [got["w-%d" % i]["annotations"]["probe"]["order"] for i in range(n)]
        self.assertEqual(orders, sorted(orders))

    def test_duplicate_id_in_flight(self):
        self.c.send({"id": "dup-1", "text": "slow one PROBE_SLEEP_MS=400"})
        self.assertEqual(self.c.ack()["status"], "accepted")
        self.c.send({"id": "dup-1", "text": "same id again"})
        ack = self.c.ack()
        self.assertEqual(ack["status"], "rejected")
        self.assertEqual(ack["error"]["code"], "duplicate_id")
        self.c.collect(["dup-1"])
        # Once published, the id may be used again.
        self.c.send({"id": "dup-1", "text": "third time"})
        self.assertEqual(self.c.ack()["status"], "accepted")
        self.c.collect(["dup-1"])

    def test_stage_failure_on_one_document(self):
        self.c.send({"id": "fail-1", "text": "PROBE_FAIL please"})
        self.assertEqual(self.c.ack()["status"], "accepted")
        _, r = self.c.collect(["fail-1"])["fail-1"]
        self.assertEqual(r["errors"][0]["stage"], "probe")
        self.assertEqual(r["errors"][0]["code"], "probe_failed")
        self.assertIn("stats", r["annotations"])  # other stages still ran

    def test_topics(self):
        only_errors = Client(self.d, topics=(b"error",))
        only_results = Client(self.d, topics=(b"result",))
        try:
            only_results.join()
            time.sleep(0.3)  # let the error subscription reach the publisher too
            self.c.push_send(b"definitely not json")
            self.c.push_send({"id": "topic-1", "text": "a result"})
            topic, e = only_errors.published()
            self.assertEqual(topic, "error")
            tmtest.schema_validator("error").validate(e)
            self.assertEqual(e["status"], "error")
            self.assertEqual(e["error"]["code"], "invalid_json")
            self.assertIsNone(e["id"])
            got = only_results.collect(["topic-1"])
            self.assertEqual(got["topic-1"][0], "result.unique")
            self.assertFalse(only_errors.sub.poll(300), "a result reached the error topic")
        finally:
            only_errors.close()
            only_results.close()


class Deliver(unittest.TestCase):
    def test_push_output_and_ipc(self):
        tmp = os.path.join("/tmp", "tm-e2e-ipc-%d" % os.getpid())
        d = Daemon({"ingest": "ipc://%s-in" % tmp, "deliver": "tcp://127.0.0.1:*"}).start()
        try:
            self.assertTrue(d.endpoints["ingest"].startswith("ipc://"))
            ctx = zmq.Context()
            pull = ctx.socket(zmq.PULL)
            pull.connect(d.endpoints["deliver"])
            dealer = ctx.socket(zmq.DEALER)
            dealer.connect(d.endpoints["ingest"])
            for i in range(50):
                dealer.send(json.dumps({"id": "dl-%d" % i, "text": "delivered %d" % i}).encode())
            got = set()
            deadline = time.time() + 20
            while len(got) < 50 and time.time() < deadline:
                if pull.poll(100):
                    got.add(json.loads(pull.recv())["id"])
            self.assertEqual(len(got), 50)
            ctx.destroy(linger=0)
        finally:
            code = d.stop()
            log = d.read_log()
            d.cleanup()
        self.assertEqual(code, 0, log)

    def test_no_consumer_pauses_intake_and_loses_nothing(self):
        d = Daemon({"deliver": "tcp://127.0.0.1:*", "max_in_flight": 8, "deliver_hwm": 1}).start()
        ctx = zmq.Context()
        try:
            dealer = ctx.socket(zmq.DEALER)
            dealer.setsockopt(zmq.LINGER, 0)
            dealer.connect(d.endpoints["ingest"])
            for i in range(40):
                dealer.send(json.dumps({"id": "np-%d" % i, "text": "waiting %d" % i}).encode())
            time.sleep(1.0)
            acks = 0
            while dealer.poll(0):
                dealer.recv()
                acks += 1
            # With nobody taking results, intake stops near the bound.
            self.assertLess(acks, 40)
            pull = ctx.socket(zmq.PULL)
            pull.connect(d.endpoints["deliver"])
            got = set()
            deadline = time.time() + 20
            while len(got) < 40 and time.time() < deadline:
                if pull.poll(100):
                    got.add(json.loads(pull.recv())["id"])
            self.assertEqual(got, {"np-%d" % i for i in range(40)})
        finally:
            ctx.destroy(linger=0)
            code = d.stop()
            log = d.read_log()
            d.cleanup()
        self.assertEqual(code, 0, log)


if __name__ == "__main__":
    tmtest.main()
