#!/usr/bin/env python3
"""End-to-end: every kind of bad input gets its own documented error code,
on ingest (a rejected ack) and on push (an error record), and the daemon
keeps serving."""
import json
import random
import time
import unittest

import zmq

import tmtest
from tmtest import Client, Daemon

MAX_DOC = 65536

# (name, raw message, expected code, expected id in the reply)
CASES = [
    ("invalid json", b'{"id": "j1", "text": ', "invalid_json", None),
    ("trailing garbage", b'{"id": "j2", "text": "a"} xyz', "invalid_json", "j2"),
    ("array", b'[1, 2, 3]', "not_object", None),
    ("string", b'"just a string"', "not_object", None),
    ("number", b'42', "not_object", None),
    ("missing text", b'{"id": "m1"}', "missing_text", "m1"),
    ("null text", b'{"id": "m2", "text": null}', "missing_text", "m2"),
    ("empty text", b'{"id": "e1", "text": ""}', "empty_text", "e1"),
    ("text not string", b'{"id": "t1", "text": ["a"]}', "text_not_string", "t1"),
    ("invalid utf-8", b'{"id": "u1", "text": "caf\xc3("}', "invalid_utf8", "u1"),
    ("overlong utf-8", b'{"id": "u2", "text": "\xc0\xaf"}', "invalid_utf8", "u2"),
    ("raw NUL byte", b'{"id": "n1", "text": "a\x00b"}', "nul_byte", None),
    ("escaped NUL", b'{"id": "n2", "text": "a\\u0000b"}', "nul_byte", "n2"),
    ("bad id type", b'{"id": 17, "text": "x"}', "invalid_id", None),
    ("bad content type", b'{"id": "c1", "text": "x", "content_type": "image/png"}',
     "unsupported_content_type", "c1"),
    ("bad field", b'{"id": "f1", "text": "x", "url": {"a": 1}}', "invalid_field", "f1"),
    ("meta not object", b'{"id": "f2", "text": "x", "meta": "m"}', "invalid_field", "f2"),
    ("meta too deep", b'{"id": "d1", "text": "x", "meta": ' + b'{"a":' * 40 + b'1' + b'}' * 40
     + b'}', "meta_too_deep", "d1"),
    ("too large", b'{"id": "big", "text": "' + b"a" * (MAX_DOC + 10) + b'"}', "too_large", None),
    ("binary garbage", bytes(range(1, 256)) * 4, "invalid_utf8", None),
    ("binary with NUL", bytes(range(256)) * 4, "nul_byte", None),
]


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon({"max_doc_bytes": MAX_DOC, "max_meta_depth": 16}).start()
        cls.c = Client(cls.d)
        cls.c.join()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        code = cls.d.stop()
        log = cls.d.read_log()
        cls.d.cleanup()
        assert code == 0, "textmilld exited with %r:\n%s" % (code, log[-3000:])

    def assert_alive(self):
        self.c.send({"id": "alive-%f" % time.time(), "text": "still serving?"})
        ack = self.c.ack()
        self.assertEqual(ack["status"], "accepted")
        self.c.collect([ack["id"]])

    def test_each_case_on_ingest(self):
        ack_schema = tmtest.schema_validator("ack")
        for name, raw, code, want_id in CASES:
            with self.subTest(name):
                self.c.send(raw)
                ack = self.c.ack()
                ack_schema.validate(ack)
                self.assertEqual(ack["status"], "rejected", name)
                self.assertEqual(ack["error"]["code"], code, name)
                self.assertTrue(len(ack["error"]["message"]) > 10, name)
                self.assertEqual(ack["id"], want_id, name)
        self.assert_alive()

    def test_each_case_on_push(self):
        errors = Client(self.d, topics=(b"error",))
        err_schema = tmtest.schema_validator("error")
        try:
            time.sleep(0.3)
            for name, raw, code, want_id in CASES:
                with self.subTest(name):
                    self.c.push_send(raw)
                    topic, rec = errors.published()
                    self.assertEqual(topic, "error")
                    err_schema.validate(rec)
                    self.assertEqual(rec["status"], "error")
                    self.assertEqual(rec["error"]["code"], code, name)
                    self.assertEqual(rec["id"], want_id, name)
        finally:
            errors.close()
        self.assert_alive()

    def test_frames(self):
        self.c.send_frames([b'{"id":"x1","text":"a"}', b"extra"])
        ack = self.c.ack()
        self.assertEqual(ack["error"]["code"], "bad_frames")
        self.c.send_frames([b'{"id":"x2","text":"a"}', b"", b"more", b"and more", b"x", b"y"])
        self.assertEqual(self.c.ack()["error"]["code"], "bad_frames")
        self.c.send(b"")
        self.assertEqual(self.c.ack()["error"]["code"], "empty_frame")
        self.c.send_frames([b"", b""])  # REQ-style delimiter, then an empty body
        self.assertTrue(self.c.dealer.poll(10000))
        frames = self.c.dealer.recv_multipart()
        self.assertEqual(frames[0], b"")  # the delimiter is echoed
        self.assertEqual(json.loads(frames[1])["error"]["code"], "empty_frame")
        self.assert_alive()

    def test_thousand_malformed_messages(self):
        rnd = random.Random(1234)
        generators = [
            lambda: bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200))),
            lambda: b'{"id": "r%d", "text": ' % rnd.randint(0, 10**6),
            lambda: json.dumps({"id": "r%d" % rnd.randint(0, 10**6)}).encode(),
            lambda: json.dumps({"id": "r%d" % rnd.randint(0, 10**6), "text": ""}).encode(),
            lambda: b'{"text": "\xff\xfe"}',
            lambda: json.dumps([rnd.random() for _ in range(5)]).encode(),
            lambda: b'{"id": "z", "text": "a", "meta": ' + b'[' * 30 + b']' * 30 + b'}',
        ]
        n = 1000
        for i in range(n):
            self.c.send(generators[i % len(generators)]())
        known = {c for _, _, c, _ in CASES} | {"empty_frame", "bad_frames"}
        seen = 0
        deadline = time.time() + 30
        while seen < n and time.time() < deadline:
            ack = self.c.ack()
            self.assertEqual(ack["status"], "rejected", ack)
            self.assertIn(ack["error"]["code"], known)
            seen += 1
        self.assertEqual(seen, n)
        self.assertTrue(self.d.alive())
        self.assert_alive()


if __name__ == "__main__":
    tmtest.main()
