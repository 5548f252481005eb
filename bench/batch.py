#!/usr/bin/python3
"""textmill benchmark, offline half: batch mode, worker scaling and per-stage cost.

    bench/batch.py BUILDDIR SRCDIR CORPUS

Prints three tables:
  * batch mode (`textmill run`) with 1 and 2 workers: docs/s, MB/s, peak RSS,
    and the speed-up of 2 workers over 1;
  * per-stage cost in context (each stage behind the stages before it, as in
    the default pipeline): CPU microseconds per document and MB/s from
    `textmill run --stats`, and, when valgrind is installed, instructions per
    input byte counted by callgrind (repeatable on a noisy machine: the count
    of a pipeline prefix minus the count of the prefix one stage shorter);
  * nothing else: the daemon's figures come from bench/run.sh.

Every document gets a unique id and its id prepended to its text, so that no
cache (and no exact-duplicate shortcut) makes a repeated corpus cheap.

Environment: BENCH_BATCH_COUNT (default 50000 documents), BENCH_CALLGRIND_DOCS
(default 200; 0 skips callgrind).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def default_pipeline(src):
    text = open(os.path.join(src, "daemon", "textmill.conf")).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = "\n".join(re.sub(r'(^|[^:"])//.*$', r"\1", line) for line in text.splitlines())
    return json.loads(text)["pipeline"]


def salted_corpus(corpus, count, path):
    docs = [json.loads(line) for line in open(corpus) if line.strip()]
    size = 0
    with open(path, "w") as out:
        for i in range(count):
            doc = dict(docs[i % len(docs)])
            doc["id"] = "bench-%d" % i
            doc["text"] = doc["id"] + " " + doc["text"]
            size += len(doc["text"].encode())
            out.write(json.dumps(doc) + "\n")
    return size


def run_batch(build, conf, inp, workers, env, wrap=()):
    """Runs textmill run; returns (seconds, stats stderr, peak RSS MiB of this child)."""
    t0 = time.monotonic()
    with open(inp) as fin:
        p = subprocess.Popen(list(wrap) + [os.path.join(build, "textmill"), "run", "-c", conf,
                             "-w", str(workers), "--stats"],
                             stdin=fin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=env, text=True)
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    secs = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("textmill run failed (%d): %s" % (p.returncode, err[-2000:]))
    return secs, err, usage.ru_maxrss


def stage_lines(stats):
    # "  stage NAME   N calls   S s CPU   U us/doc   M MB/s"
    out = {}
    for m in re.finditer(r"stage (\S+)\s+\d+ calls\s+([\d.]+) s CPU\s+([\d.]+) us/doc\s+([\d.]+) MB/s", stats):
        out[m.group(1)] = (float(m.group(3)), float(m.group(4)))
    return out


def callgrind_instructions(build, conf, inp, env, tmp):
    """Instructions `textmill run` executes on INP, minus those of start-up and
    shut-down (the same run on no input), so that loading a stage's data files
    is not counted as per-byte cost."""
    empty = os.path.join(tmp, "empty.jsonl")
    open(empty, "w").close()
    return callgrind_total(build, conf, inp, env, tmp) - callgrind_total(build, conf, empty, env, tmp)


def callgrind_total(build, conf, inp, env, tmp):
    out = os.path.join(tmp, "cg.out")
    with open(inp) as fin:
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                        os.path.join(build, "textmill"), "run", "-c", conf, "-w", "1"],
                       stdin=fin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env, check=True)
    for line in open(out):
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError("no totals in callgrind output")


def main():
    build, src, corpus = (os.path.abspath(a) for a in sys.argv[1:4])
    count = int(os.environ.get("BENCH_BATCH_COUNT", "50000"))
    cg_docs = int(os.environ.get("BENCH_CALLGRIND_DOCS", "200"))
    env = dict(os.environ, TEXTMILL_PLUGIN_DIR=os.path.join(build, "plugins"),
               TEXTMILL_DATA_DIR=os.path.join(src, "plugins"))
    tmp = tempfile.mkdtemp(prefix="tm-bench-")
    try:
        pipeline = default_pipeline(src)
        inp = os.path.join(tmp, "in.jsonl")
        nbytes = salted_corpus(corpus, count, inp)
        conf = os.path.join(tmp, "default.conf")
        json.dump({"log_level": "warn", "pipeline": pipeline}, open(conf, "w"))

        print("\nbatch mode: textmill run, default pipeline (%s), %d documents, %.1f MB of text"
              % (" -> ".join(s.get("name", s.get("stage", "?")) for s in pipeline), count, nbytes / 1e6))
        print("%-10s %10s %8s %9s" % ("workers", "docs/s", "MB/s", "RSS_MB"))
        rates = {}
        stats1 = ""
        for w in (1, 2):
            secs, stats, rss = run_batch(build, conf, inp, w, env)
            rates[w] = count / secs
            if w == 1:
                stats1 = stats
            print("%-10d %10.0f %8.1f %9s" % (w, count / secs, nbytes / secs / 1e6,
                                              "%.1f" % (rss / 1024)))
        print("2 workers / 1 worker: %.2fx" % (rates[2] / rates[1]))

        per_stage = stage_lines(stats1)
        instr = {}
        if cg_docs > 0 and shutil.which("valgrind"):
            small = os.path.join(tmp, "small.jsonl")
            small_bytes = salted_corpus(corpus, cg_docs, small)
            prev = None
            for k in range(len(pipeline) + 1):
                c = os.path.join(tmp, "prefix%d.conf" % k)
                json.dump({"log_level": "warn", "pipeline": pipeline[:k]}, open(c, "w"))
                total = callgrind_instructions(build, c, small, env, tmp)
                if prev is not None:
                    name = pipeline[k - 1].get("name", pipeline[k - 1].get("stage"))
                    instr[name] = (total - prev) / small_bytes
                else:
                    instr["(host: read, parse, encode)"] = total / small_bytes
                prev = total
        print("\nper-stage cost, 1 worker (us/doc and MB/s: the stage's thread CPU time, from --stats on the run above;"
              "\ninstr/byte: callgrind on %d documents, each stage behind the ones before it)" % cg_docs)
        print("%-32s %10s %8s %12s" % ("stage", "us/doc", "MB/s", "instr/byte"))
        names = list(instr) if instr else list(per_stage)
        for name in names:
            us, mbs = per_stage.get(name, (None, None))
            print("%-32s %10s %8s %12s" % (name, "%.1f" % us if us is not None else "-",
                                           "%.1f" % mbs if mbs is not None else "-",
                                           "%.0f" % instr[name] if name in instr else "-"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
