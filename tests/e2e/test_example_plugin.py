#!/usr/bin/env python3
"""End-to-end: the example stage builds out of tree against the INSTALLED
header alone (pkg-config textmill), exports exactly one symbol, and loads
into textmill like any shipped stage."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import tmtest
from tmtest import TEXTMILL, run


class ExamplePlugin(unittest.TestCase):
    def test_out_of_tree_build(self):
        tmp = tempfile.mkdtemp(prefix="tm-example-")
        try:
            dest = os.path.join(tmp, "root")
            # Install only the public header and textmill.pc into a staging root.
            r = run(["make", "-s", "-C", tmtest.BUILDDIR, "install-textmillincludeHEADERS",
                     "install-pkgconfigDATA", "DESTDIR=" + dest], timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            pcs = glob.glob(os.path.join(dest, "**", "textmill.pc"), recursive=True)
            self.assertEqual(len(pcs), 1, pcs)
            env = {"PKG_CONFIG_PATH": os.path.dirname(pcs[0]), "PKG_CONFIG_SYSROOT_DIR": dest}
            cflags = run(["pkg-config", "--cflags", "textmill"], env=env)
            self.assertEqual(cflags.returncode, 0, cflags.stderr)
            self.assertIn(dest, cflags.stdout)  # the staged header, not the source tree
            # Build with the example's own makefile, in a directory of its own.
            work = os.path.join(tmp, "stats")
            os.mkdir(work)
            for f in ("stats.c", "Makefile.example"):
                shutil.copy(os.path.join(tmtest.SRCDIR, "plugins", "stats", f), work)
            r = run(["make", "-s", "-f", "Makefile.example", "-C", work, "CFLAGS=-O2 -Werror"],
                    env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            so = os.path.join(work, "stats.so")
            syms = run(["nm", "-D", "--defined-only", so]).stdout.split("\n")
            exported = sorted(l.split()[-1] for l in syms if " T " in l)
            self.assertEqual(exported, ["tm_stage_entry_v1"])
            conf = os.path.join(tmp, "c.conf")
            with open(conf, "w") as f:
                json.dump({"pipeline": [{"path": so, "config": {"words_per_minute": 120}}]}, f)
            r = run([TEXTMILL, "run", "-c", conf],
                    stdin='{"id":"x","text":"One two three four. Five six."}\n')
            self.assertEqual(r.returncode, 0, r.stderr)
            out = json.loads(r.stdout)
            self.assertEqual(out["annotations"]["stats"]["words"], 6)
            self.assertEqual(out["annotations"]["stats"]["sentences"], 2)
            self.assertEqual(out["annotations"]["stats"]["reading_time_s"], 3)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    tmtest.main()
