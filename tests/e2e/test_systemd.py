#!/usr/bin/env python3
"""End-to-end: running under systemd.  The unit passes `systemd-analyze
verify` and rates 2.0 or better with `systemd-analyze security`; the daemon
speaks the sd_notify protocol (READY, STATUS, WATCHDOG, RELOADING,
STOPPING) to $NOTIFY_SOCKET and takes its state directory from
$STATE_DIRECTORY, as StateDirectory= hands it over."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

import tmtest
from tmtest import Client, Daemon


def unit_for_build(tmp):
    """The unit with ExecStart pointing at the build tree's textmilld
    (verify checks that the binary exists)."""
    with open(os.path.join(tmtest.SRCDIR, "daemon", "textmilld.service.in")) as f:
        text = f.read()
    text = text.replace("@sbindir@", tmtest.BUILDDIR).replace("@sysconfdir@", "/etc")
    path = os.path.join(tmp, "textmilld.service")
    with open(path, "w") as f:
        f.write(text)
    return path


class Unit(unittest.TestCase):
    def setUp(self):
        self.sa = shutil.which("systemd-analyze")
        if self.sa is None:
            self.skipTest("systemd-analyze is not installed (apt-get install systemd)")
        self.tmp = os.path.join("/tmp", "tm-unit-%d" % os.getpid())
        os.makedirs(self.tmp, exist_ok=True)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_verify(self):
        unit = unit_for_build(self.tmp)
        r = subprocess.run([self.sa, "verify", unit], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("textmilld.service", r.stderr, r.stderr)  # no warnings about it

    def test_security_rating(self):
        unit = unit_for_build(self.tmp)
        r = subprocess.run([self.sa, "security", "--offline=true", unit], capture_output=True,
                           text=True, timeout=60)
        m = re.search(r"Overall exposure level for textmilld.service: ([0-9.]+) (\w+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        print("systemd-analyze security: %s %s" % (m.group(1), m.group(2)))
        self.assertLessEqual(float(m.group(1)), 2.0)
        self.assertEqual(m.group(2), "OK")


class Notify(unittest.TestCase):
    def test_sd_notify_protocol_and_state_directory(self):
        d = Daemon({"pipeline": [{"stage": "stats"}]})
        sock_path = os.path.join(d.tmp, "notify.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        srv.bind(sock_path)
        srv.settimeout(0.1)
        state = os.path.join(d.tmp, "state")
        os.mkdir(state)
        env_before = dict(os.environ)
        os.environ.update({"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "1000000",
                           "STATE_DIRECTORY": state})
        try:
            d.start()
        finally:
            os.environ.clear()
            os.environ.update(env_before)
        msgs = []

        def read_until(pred, timeout=10):
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    msgs.append(srv.recv(4096).decode())
                except socket.timeout:
                    pass
                if any(pred(m) for m in msgs):
                    return
            raise AssertionError("no such notification; got %r" % msgs[-10:])

        try:
            read_until(lambda m: "READY=1" in m)
            read_until(lambda m: m.startswith("STATUS=running"))
            read_until(lambda m: m == "WATCHDOG=1", timeout=3)
            self.assertIn("dir=%s/spool" % state, d.read_log())
            self.assertTrue(os.path.exists(os.path.join(state, "spool", "data.mdb")))
            del msgs[:]
            d.send_signal(signal.SIGHUP)
            read_until(lambda m: "RELOADING=1" in m)
            read_until(lambda m: "READY=1" in m)
            self.assertLess(min(i for i, m in enumerate(msgs) if "RELOADING=1" in m),
                            max(i for i, m in enumerate(msgs) if "READY=1" in m))
            d.send_signal(signal.SIGTERM)
            read_until(lambda m: "STOPPING=1" in m)
            self.assertEqual(d.proc.wait(20), 0)
        finally:
            srv.close()
            d.cleanup()


if __name__ == "__main__":
    tmtest.main()
