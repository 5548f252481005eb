#!/usr/bin/env python3
"""End-to-end: the durable spool.  kill -9 under load and restart, several
times: every acknowledged document comes out (a sequence check, as in
rsyslog's test suite), none corrupted; replayed ones say "redelivered".
A document that crashes the daemon is dead-lettered after
poison_max_crashes crashes instead of crash-looping; so is a document a
stage keeps failing on under the dead_letter policy."""
import hashlib
import json
import os
import signal
import time
import unittest

import zmq

import tmtest
from tmtest import Daemon


def body_for(i):
    """A document text that says which sequence number it carries and
    checks itself: corruption or a mix-up between documents shows."""
    digest = hashlib.sha1(b"textmill-%d" % i).hexdigest()
    return "seq %d sum %s. %s" % (i, digest, "Words in a sentence. " * (1 + i % 7))


class Durability(unittest.TestCase):
    def config(self, d, **extra):
        cfg = {"deliver": "tcp://127.0.0.1:*", "workers": 2, "max_in_flight": 256,
               "state_dir": os.path.join(d.tmp, "state"),
               "pipeline": [{"path": tmtest.test_plugin("probe")}, {"stage": "stats"}]}
        cfg.update(extra)
        return cfg

    def make(self, **extra):
        d = Daemon()
        d.config.update(self.config(d, **extra))
        with open(d.config_path, "w") as f:
            json.dump(d.config, f)
        return d

    def test_kill9_restarts_under_load_lose_no_acked_document(self):
        d = self.make(spool_retire_ms=250)
        kills, cycle_s, window = 5, 1.5, 200
        sent, acked, results = {}, set(), {}
        corrupt, redelivered, duplicates = [], 0, 0
        ctx = zmq.Context()
        nxt = 0
        try:
            for cycle in range(kills + 1):
                d.start()
                dealer = ctx.socket(zmq.DEALER)
                dealer.setsockopt(zmq.LINGER, 0)
                dealer.connect(d.endpoints["ingest"])
                pull = ctx.socket(zmq.PULL)
                pull.setsockopt(zmq.LINGER, 0)
                pull.connect(d.endpoints["deliver"])
                poller = zmq.Poller()
                poller.register(dealer, zmq.POLLIN)
                poller.register(pull, zmq.POLLIN)
                outstanding = set()
                last = cycle == kills
                next_check = 0
                end = time.time() + (30 if last else cycle_s)
                while time.time() < end:
                    if not last:
                        while len(outstanding) < window:
                            sent[nxt] = body_for(nxt)
                            dealer.send(json.dumps({"id": "k-%d" % nxt,
                                                    "text": sent[nxt]}).encode())
                            outstanding.add(nxt)
                            nxt += 1
                    elif acked <= set(results) and time.time() > next_check:
                        # The final run delivered everything acknowledged;
                        # stop once the replay is over and the spool empty.
                        m = tmtest.metrics(d)
                        if m["textmill_spool_documents"] == 0 and m["textmill_in_flight"] == 0:
                            break
                        next_check = time.time() + 0.2
                    for sock, _ in poller.poll(20):
                        while sock.poll(0):
                            if sock is dealer:
                                a = json.loads(dealer.recv())
                                k = int(a["id"][2:])
                                outstanding.discard(k)
                                if a["status"] == "accepted":
                                    acked.add(k)
                            else:
                                m = json.loads(pull.recv())
                                k = int(m["id"][2:])
                                if m["text"] != sent.get(k) or "stats" not in m["annotations"]:
                                    corrupt.append(m["id"])
                                if k in results:
                                    duplicates += 1
                                results[k] = m
                                redelivered += bool(m.get("redelivered"))
                if not last:
                    d.proc.send_signal(signal.SIGKILL)
                    d.proc.wait(10)
                dealer.close()
                pull.close()
            code = d.stop()
            missing = sorted(acked - set(results))
            print("kill -9 x%d: sent %d, acked %d, results %d (%d redelivered, %d duplicates), "
                  "lost %d, corrupt %d" % (kills, len(sent), len(acked), len(results),
                                           redelivered, duplicates, len(missing), len(corrupt)))
            self.assertEqual(code, 0, d.read_log()[-2000:])
            self.assertGreater(len(acked), 1000, "too little load to mean anything")
            self.assertEqual(missing, [], "acked documents lost: %s" % missing[:10])
            self.assertEqual(corrupt, [], "corrupt results: %s" % corrupt[:10])
            self.assertGreater(redelivered, 0, "no document was redelivered after a kill -9")
            log = d.read_log()
            self.assertIn("replay done", log)
        finally:
            ctx.destroy(linger=0)
            d.cleanup()

    def test_clean_stop_leaves_an_empty_spool(self):
        d = self.make()
        try:
            d.start()
            c = tmtest.Client(d)
            pull = c.ctx.socket(zmq.PULL)
            pull.connect(d.endpoints["deliver"])
            for i in range(50):
                c.send({"id": "c-%d" % i, "text": "clean stop %d" % i})
            got = set()
            deadline = time.time() + 20
            while len(got) < 50 and time.time() < deadline:
                if pull.poll(100):
                    got.add(json.loads(pull.recv())["id"])
            self.assertEqual(len(got), 50)
            c.close()
            self.assertEqual(d.stop(), 0)
            d.start()
            m = tmtest.metrics(d)
            self.assertEqual(m["textmill_spool_documents"], 0)
            self.assertIn("to_replay=0", d.read_log())
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    def test_poison_document_is_dead_lettered_not_crash_looped(self):
        """A client sends a document that crashes the daemon and, getting no
        ack, sends it again after each restart (systemd restarts the daemon).
        Whether the document was already in the spool at the crash (then it
        is replayed) or not (then its id is a suspect), after
        poison_max_crashes crashes it is dead-lettered and the daemon stays
        up."""
        d = self.make(poison_max_crashes=2, deliver="")
        state = d.config["state_dir"]
        ctx = zmq.Context()
        poison = {"id": "poison", "text": "this one has PROBE_CRASH"}
        crashes = 0
        try:
            for start in range(6):
                d.start()
                dealer = ctx.socket(zmq.DEALER)
                dealer.setsockopt(zmq.LINGER, 0)
                dealer.connect(d.endpoints["ingest"])
                if start == 0:  # a bystander in a stage at the first crash
                    dealer.send(json.dumps({"id": "innocent",
                                            "text": "PROBE_SLEEP_MS=400 fine"}).encode())
                    time.sleep(0.1)
                dealer.send(json.dumps(poison).encode())
                acked = False
                deadline = time.time() + 10
                while d.alive() and not acked and time.time() < deadline:
                    if dealer.poll(50):
                        a = json.loads(dealer.recv())
                        acked = a["id"] == "poison" and a["status"] == "accepted"
                dealer.close()
                # An ack can beat the crash (by seconds on a loaded machine,
                # under ASan): wait until the daemon dies or dead-letters.
                dead_path = os.path.join(state, "dead-letters.jsonl")
                end = time.time() + 15
                while d.alive() and time.time() < end:
                    if os.path.exists(dead_path) and os.path.getsize(dead_path) > 0:
                        break
                    time.sleep(0.05)
                if not d.alive():
                    d.proc.wait(10)
                    self.assertNotEqual(d.proc.returncode, 0)
                    crashes += 1
                    continue
                self.assertTrue(acked, "alive, but the document was neither acked nor fatal")
                break
            self.assertTrue(d.alive(), "still crash-looping:\n" + d.read_log()[-3000:])
            self.assertEqual(crashes, 2, "poison_max_crashes is 2")
            path = os.path.join(state, "dead-letters.jsonl")
            tmtest.wait_for(lambda: os.path.getsize(path) > 0, what="the dead-letter file")
            with open(path) as f:
                dead = [json.loads(line) for line in f if line.strip()]
            self.assertEqual({x["id"] for x in dead}, {"poison"})
            for x in dead:
                self.assertEqual(x["status"], "dead")
                self.assertEqual(x["reason"], "crashed")
                self.assertEqual(x["stage"], "probe")
                self.assertEqual(x["error"]["code"], "poison")
                self.assertEqual(x["attempts"], 2)
                self.assertEqual(x["document"]["text"], poison["text"])
            self.assertGreaterEqual(tmtest.metrics(d)["textmill_dead_letters_total"], 1)
            # Nothing is left behind: the bystander was replayed or never stored.
            tmtest.wait_for(lambda: tmtest.metrics(d)["textmill_spool_documents"] == 0,
                            what="an empty spool")
            self.assertIn("crash record read", d.read_log())
            self.assertEqual(d.stop(), 0)
        finally:
            ctx.destroy(linger=0)
            d.cleanup()

    def test_stage_failing_repeatedly_goes_to_dead_letters(self):
        d = self.make(stage_failure_policy="dead_letter", stage_max_attempts=3, deliver="")
        try:
            d.start()
            c = tmtest.Client(d, topics=(b"dead", b"result"))
            c.join()
            c.send({"id": "bad-1", "text": "PROBE_FAIL every time"})
            c.send({"id": "good-1", "text": "a fine document"})
            got = c.collect(["bad-1", "good-1"])
            topic, rec = got["bad-1"]
            self.assertEqual(topic, "dead")
            self.assertEqual(rec["status"], "dead")
            self.assertEqual(rec["reason"], "stage_failed")
            self.assertEqual(rec["stage"], "probe")
            self.assertEqual(rec["attempts"], 3)
            self.assertEqual(rec["error"]["code"], "probe_failed")
            self.assertEqual(rec["document"]["text"], "PROBE_FAIL every time")
            self.assertEqual(got["good-1"][0], "result.unique")
            path = os.path.join(d.config["state_dir"], "dead-letters.jsonl")
            tmtest.wait_for(lambda: os.path.getsize(path) > 0, what="the dead-letter file")
            with open(path) as f:
                self.assertEqual(json.loads(f.readline())["id"], "bad-1")
            c.close()
            self.assertEqual(d.stop(), 0, d.read_log()[-3000:])
        finally:
            d.cleanup()


if __name__ == "__main__":
    tmtest.main()
