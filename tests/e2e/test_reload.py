#!/usr/bin/env python3
"""End-to-end: hot reload on SIGHUP.  Ten reloads under load lose and fail
nothing; an invalid config keeps the running one and says why; signals
that arrive during a reload are coalesced; a plugin file replaced on disk
is loaded fresh."""
import json
import os
import shutil
import signal
import time
import unittest

import zmq

import tmtest
from tmtest import Client, Daemon


def write_config(d, **changes):
    d.config.update(changes)
    tmp = d.config_path + ".new"
    with open(tmp, "w") as f:
        json.dump(d.config, f)
    os.rename(tmp, d.config_path)


def reloads(d, result="success"):
    return tmtest.metrics(d).get('textmill_reloads_total{result="%s"}' % result, 0)


class Reload(unittest.TestCase):
    def test_ten_reloads_under_load_lose_and_fail_nothing(self):
        d = Daemon({"workers": 2, "max_in_flight": 256,
                    "pipeline": [{"path": tmtest.test_plugin("probe")},
                                 {"stage": "stats", "config": {"words_per_minute": 200}}]})
        d.start()
        c = Client(d)
        try:
            c.join()
            poller = zmq.Poller()
            poller.register(c.dealer, zmq.POLLIN)
            poller.register(c.sub, zmq.POLLIN)
            acked, rejected, results, errors = set(), [], {}, []
            sent, window, done_reloads = 0, 128, 0
            next_hup = time.time() + 0.2
            deadline = time.time() + 60
            while time.time() < deadline:
                if done_reloads < 10:
                    while sent - len(results) - len(rejected) < window:
                        c.send({"id": "r-%d" % sent, "text": "reload load %d. Two sentences." % sent})
                        sent += 1
                    if time.time() >= next_hup and reloads(d) == done_reloads:
                        # A different stage config each time: a real new generation.
                        write_config(d, pipeline=[{"path": tmtest.test_plugin("probe")},
                                                  {"stage": "stats", "config":
                                                   {"words_per_minute": 201 + done_reloads}}])
                        d.send_signal(signal.SIGHUP)
                        done_reloads += 1
                        next_hup = time.time() + 0.25
                elif acked <= set(results) and reloads(d) == 10:
                    break
                for sock, _ in poller.poll(20):
                    while sock.poll(0):
                        if sock is c.dealer:
                            a = json.loads(c.dealer.recv())
                            (acked.add(a["id"]) if a["status"] == "accepted" else rejected.append(a))
                        else:
                            topic, body = c.sub.recv_multipart()
                            m = json.loads(body)
                            if topic == b"error":
                                errors.append(m)
                            elif m["id"].startswith("r-"):
                                results[m["id"]] = m
            missing = acked - set(results)
            m = tmtest.metrics(d)
            print("10 reloads under load: sent %d, acked %d, results %d, lost %d, rejected %d, "
                  "errors %d, generation %d" % (sent, len(acked), len(results), len(missing),
                                                len(rejected), len(errors),
                                                m["textmill_pipeline_generation"]))
            self.assertEqual(m['textmill_reloads_total{result="success"}'], 10)
            self.assertEqual(m['textmill_reloads_total{result="failure"}'], 0)
            self.assertEqual(m["textmill_pipeline_generation"], 11)
            self.assertGreater(len(acked), 500)
            self.assertEqual(missing, set(), "lost %d acked documents" % len(missing))
            self.assertEqual(rejected, [])
            self.assertEqual(errors, [])
            self.assertTrue(all("probe" in r["annotations"] and "stats" in r["annotations"]
                                and "errors" not in r for r in results.values()))
            tmtest.wait_for(lambda: d.read_log().count("old pipeline drained and freed") == 10,
                            what="all ten old generations freed")
            c.close()
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    def test_invalid_config_keeps_the_running_one(self):
        d = Daemon({"pipeline": [{"stage": "stats"}]}).start()
        c = Client(d)
        try:
            c.join()
            with open(d.config_path, "w") as f:
                f.write('{"pipeline": [{"stage": "stats"},]}\n')  # trailing comma
            d.send_signal(signal.SIGHUP)
            tmtest.wait_for(lambda: reloads(d, "failure") == 1, what="a failed reload")
            self.assertIn("reload failed: keeping the running config", d.read_log())
            self.assertIn("not valid JSON", d.read_log())
            # A config that parses but names a plugin that does not exist.
            write_config(d, pipeline=[{"stage": "no_such_stage"}])
            d.send_signal(signal.SIGHUP)
            tmtest.wait_for(lambda: reloads(d, "failure") == 2, what="a second failed reload")
            self.assertIn("no_such_stage", d.read_log())
            self.assertEqual(tmtest.metrics(d)["textmill_pipeline_generation"], 1)
            c.send({"id": "after", "text": "still running the old pipeline"})
            topic, r = c.collect(["after"])["after"]
            self.assertIn("stats", r["annotations"])
            # Restart-only keys are reported, not applied.
            write_config(d, pipeline=[{"stage": "stats"}], workers=7)
            d.send_signal(signal.SIGHUP)
            tmtest.wait_for(lambda: reloads(d) == 1, what="a successful reload")
            self.assertIn("need a restart", d.read_log())
            c.close()
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    def test_signals_during_a_reload_are_coalesced(self):
        d = Daemon({"pipeline": [{"path": tmtest.test_plugin("probe"),
                                  "config": {"create_sleep_ms": 600}}]}).start()
        try:
            d.send_signal(signal.SIGHUP)
            tmtest.wait_for(lambda: "msg=\"reloading\"" in d.read_log(), what="the reload")
            for _ in range(4):  # all while the first reload builds its stages
                time.sleep(0.05)
                d.send_signal(signal.SIGHUP)
            tmtest.wait_for(lambda: reloads(d) >= 2, what="two reloads")
            time.sleep(1.0)
            self.assertEqual(reloads(d), 2, "signals during a reload make exactly one more")
            self.assertIn("coalesced", d.read_log())
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    def test_replaced_plugin_file_is_loaded_fresh(self):
        d = Daemon()
        so = os.path.join(d.tmp, "stage.so")
        shutil.copy(tmtest.test_plugin("probe"), so)
        write_config(d, pipeline=[{"path": so, "name": "swap"}])
        d.start()
        c = Client(d)
        try:
            c.join()
            c.send({"id": "before", "text": "old code"})
            _, r = c.collect(["before"])["before"]
            self.assertIn("probe", r["annotations"])
            # Install another build the way package managers do: new file, rename.
            stats = os.path.join(os.environ["TEXTMILL_PLUGIN_DIR"], ".libs", "stats.so")
            if not os.path.exists(stats):
                stats = os.path.join(os.environ["TEXTMILL_PLUGIN_DIR"], "stats.so")
            shutil.copy(stats, so + ".tmp")
            os.rename(so + ".tmp", so)
            d.send_signal(signal.SIGHUP)
            tmtest.wait_for(lambda: reloads(d) == 1, what="the reload")
            c.send({"id": "after", "text": "new code"})
            _, r = c.collect(["after"])["after"]
            self.assertIn("stats", r["annotations"])
            self.assertNotIn("probe", r["annotations"])
            self.assertIn("plugin file replaced", d.read_log())
            c.close()
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()


if __name__ == "__main__":
    tmtest.main()
