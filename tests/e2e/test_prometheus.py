#!/usr/bin/env python3
"""End-to-end: a real Prometheus server (Debian's prometheus package)
scrapes textmilld's /metrics on loopback, and its query API returns our
series.  Skipped when prometheus is not installed."""
import json
import os
import shutil
import socket
import subprocess
import time
import unittest
import urllib.parse
import urllib.request

import tmtest
from tmtest import Client, Daemon


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PrometheusScrape(unittest.TestCase):
    def test_real_prometheus_scrapes_textmilld(self):
        prom = shutil.which("prometheus")
        if prom is None:
            self.skipTest("prometheus is not installed (apt-get install prometheus)")
        d = Daemon({"pipeline": [{"stage": "stats"}]}).start()
        c = Client(d)
        port = free_port()
        conf = os.path.join(d.tmp, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: textmill\n    static_configs:\n"
                    "      - targets: ['%s']\n" % d.endpoints["http"])
        log = open(os.path.join(d.tmp, "prometheus.log"), "wb")
        p = subprocess.Popen([prom, "--config.file=" + conf,
                              "--storage.tsdb.path=" + os.path.join(d.tmp, "tsdb"),
                              "--web.listen-address=127.0.0.1:%d" % port,
                              "--log.level=warn"], stdout=log, stderr=log)

        def query(q):
            url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(q))
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    return json.loads(r.read())["data"]["result"]
            except OSError:
                return None

        try:
            c.join()
            for i in range(20):
                c.send({"id": "p-%d" % i, "text": "scraped %d" % i})
            c.collect(["p-%d" % i for i in range(20)])
            up = tmtest.wait_for(lambda: (lambda r: r if r and r[0]["value"][1] == "1" else None)(
                query('up{job="textmill"}')), timeout=40, interval=0.5,
                what="Prometheus to scrape textmilld")
            self.assertEqual(up[0]["metric"]["instance"], d.endpoints["http"])
            docs = tmtest.wait_for(lambda: (lambda r: r if r and float(r[0]["value"][1]) >= 20
                                            else None)(query("textmill_results_total")),
                                   timeout=20, interval=0.5, what="textmill_results_total")
            build = query("textmill_build_info")
            self.assertEqual(build[0]["metric"]["version"], "0.1.0")
            hist = query('sum(rate(textmill_stage_seconds_count{stage="stats"}[1m]))')
            self.assertIsNotNone(hist)
            print("prometheus scraped %s: up=1, textmill_results_total=%s"
                  % (d.endpoints["http"], docs[0]["value"][1]))
        finally:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
            log.close()
            c.close()
            d.cleanup()


if __name__ == "__main__":
    tmtest.main()
