#!/usr/bin/python3
"""Train the sentiment stage's learned data files from target-sentiment data.

    train_targets.py TRAIN.jsonl [--dev DEV.jsonl] [--out-dir DIR] [--textmill PATH]

TRAIN (and DEV) hold one JSON object a line, NewsMTSC style:
    {"id", "text", "targets": [{"start", "end", "gold_polarity": -1|0|1, ...}]}
with UTF-8 byte offsets.  Two files are written to --out-dir (default: the
stage's data folder, plugins/sentiment/):

  news_lexicon.txt   learned valences (VADER format) for words the VADER
                     lexicon lacks: a ridge regression of each sentence's
                     mean target polarity on the stage's own lexicon compound
                     plus the words it cannot score.
  people_model.txt   the people model: multinomial logistic regression (L2)
                     over the features the stage itself computes for each
                     mention.  The features are read back from the stage's
                     debug output (config "debug_features"), with the gold
                     target spans passed in meta.sentiment_targets, so training
                     and use always agree on what a feature is.

With --dev, the class offsets of the people model are tuned for macro-F1 on
DEV (the training set is class-balanced, real news is not), and the dev
scores are printed.  Only numpy (Debian: python3-numpy) and a built textmill
are needed; nothing of the training text is written out, only weights.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
STAGE_DIR = os.path.dirname(HERE)              # plugins/sentiment
ROOT = os.path.dirname(os.path.dirname(STAGE_DIR))
CLASSES = (-1, 0, 1)
WORD = re.compile(r"[a-z0-9]+(?:['\-.&_][a-z0-9]+)*")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_stage(args, docs, config):
    """Run `textmill run` with only the sentiment stage; returns results by id."""
    conf = {"pipeline": [{"stage": "sentiment", "config": config}]}
    with tempfile.TemporaryDirectory() as tmp:
        cpath = os.path.join(tmp, "train.conf")
        with open(cpath, "w") as f:
            json.dump(conf, f)
        data = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs).encode()
        env = dict(os.environ, TEXTMILL_PLUGIN_DIR=args.plugin_dir, TEXTMILL_DATA_DIR=args.data_dir)
        out = subprocess.run([args.textmill, "run", "-c", cpath, "--workers", "1"], input=data,
                             capture_output=True, env=env, check=True)
    res = {}
    for line in out.stdout.decode().splitlines():
        r = json.loads(line)
        res[r.get("id")] = r
    return res


def sentiment(res):
    return (res or {}).get("annotations", {}).get("sentiment", {})


# ---------------------------------------------------------------- learned lexicon
def known_words(stage_dir):
    """Words the stage scores or treats specially already (lexicon, rules, names)."""
    known = set()
    with open(os.path.join(stage_dir, "vader_lexicon.txt"), encoding="utf-8") as f:
        for line in f:
            known.add(line.split("\t")[0])
    for name in ("rules.txt", "names.txt"):
        with open(os.path.join(stage_dir, name), encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or "\t" not in line:
                    continue
                known.add(line.split("\t")[1].strip().lower())
    return known


def inflection_of_known(w, known):
    """True when the stage derives w from a lexicon word (see sl_derive_inflections)."""
    cands = []
    for suf, rep in (("ies", "y"), ("ied", "y"), ("ily", "y"), ("es", ""), ("ed", ""), ("ed", "e"),
                     ("s", ""), ("d", ""), ("ing", ""), ("ing", "e"), ("ly", ""), ("y", "e"),
                     ("ally", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            cands.append(w[: len(w) - len(suf)] + rep)
    return any(c in known for c in cands)


URL = re.compile(r"(?:https?://|www\.)\S*", re.I)


def words_of(text):
    text = URL.sub(" ", text)  # the stage makes no tokens of web addresses
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    out = []
    for w in WORD.findall(text):
        if w.endswith("'s"):
            w = w[:-2]
        out.append(w)
    return out


NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['\u2019\-.&_][A-Za-z0-9]+)*")


def name_like_words(train):
    """Words written capitalised more often than not inside running text: the
    names of people, places and organisations ("Comey", "Benghazi", "CNN").
    A name is not a sentiment word; in the training sentences it only stands
    for how the news treated its bearer, so it is left out of the learned
    lexicon.  Sentence-initial words and title-case headlines (most words
    capitalised) are not counted."""
    cap, low = {}, {}
    for r in train:
        words = NAME_TOKEN.findall(r["text"])
        if len(words) < 2 or sum(1 for w in words if w[0].isupper()) * 2 > len(words):
            continue
        for w in words[1:]:
            k = w.lower().replace("\u2019", "'")
            if k.endswith("'s"):
                k = k[:-2]
            d = cap if w[0].isupper() else low
            d[k] = d.get(k, 0) + 1
    return {w for w, c in cap.items() if c > low.get(w, 0)}


def train_lexicon(args, train, out_path):
    known = known_words(STAGE_DIR)
    names = name_like_words(train)
    docs = [{"id": str(i), "text": r["text"]} for i, r in enumerate(train)]
    res = run_stage(args, docs, {"learned_weight": 0, "entities": False, "sentences": False})
    comp = np.array([sentiment(res.get(str(i))).get("compound", 0.0) for i in range(len(train))])
    y = np.array([np.mean([t["gold_polarity"] for t in r["targets"]]) for r in train])
    toks = [set(words_of(r["text"])) for r in train]
    df = {}
    for ws in toks:
        for w in ws:
            df[w] = df.get(w, 0) + 1
    vocab = sorted(w for w, c in df.items()
                   if c >= args.min_df and w not in known and not inflection_of_known(w, known)
                   and w not in names and not w.isdigit() and len(w) > 2)
    index = {w: i + 1 for i, w in enumerate(vocab)}  # column 0: the lexicon compound
    n, v = len(train), len(vocab) + 1
    X = np.zeros((n, v), dtype=np.float64)
    X[:, 0] = comp
    for i, ws in enumerate(toks):
        for w in ws:
            j = index.get(w)
            if j is not None:
                X[i, j] = 1.0
    ym = y.mean()
    reg = np.full(v, args.lex_l2)
    reg[0] = 1e-6
    w = np.linalg.solve(X.T @ X + np.diag(reg), X.T @ (y - ym))
    a = w[0] if w[0] > 0.05 else 0.05
    # A word's weight in "compound units", moved to the summed-valence scale
    # (near 0, compound ~ sum / sqrt(15)) relative to the lexicon's own weight.
    scale = math.sqrt(15.0) / a
    rows = []
    for word, j in index.items():
        val = w[j] * scale
        if abs(val) >= args.lex_min:
            rows.append((word, max(-4.0, min(4.0, val))))
    rows.sort()
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("# news_lexicon.txt - learned valences for words the VADER lexicon lacks\n")
        f.write("# written by plugins/sentiment/train/train_targets.py (ridge regression of\n")
        f.write("# NewsMTSC sentence polarity on the stage's lexicon compound plus these words;\n")
        f.write("# l2 %g, min_df %d, |valence| >= %g; names left out); VADER format: WORD<TAB>VALENCE\n"
                % (args.lex_l2, args.min_df, args.lex_min))
        for word, val in rows:
            f.write("%s\t%.3f\n" % (word, val))
    print("news lexicon: %d words (of %d candidates; %d name-like words left out), lexicon weight %.3f"
          % (len(rows), len(vocab), len(names), a), file=sys.stderr)


# ---------------------------------------------------------------- people model
def overlap(a0, a1, b0, b1):
    return a0 < b1 and b0 < a1


def mention_features(args, records, extra_config):
    """(features, gold) per gold target, from the stage's debug output."""
    docs = []
    for i, r in enumerate(records):
        docs.append({"id": str(i), "text": r["text"],
                     "meta": {"sentiment_targets": [{"start": t["start"], "end": t["end"]}
                                                    for t in r["targets"]]}})
    cfg = {"debug_features": True, "sentences": False, "people_bias": [0, 0, 0]}
    cfg.update(extra_config)
    res = run_stage(args, docs, cfg)
    feats, gold, missing = [], [], 0
    for i, r in enumerate(records):
        ments = []
        for e in sentiment(res.get(str(i))).get("entities", []):
            for m in e.get("mentions", []):
                ments.append(m)
        for t in r["targets"]:
            best = None
            for m in ments:
                if m["start"] == t["start"] and m["end"] == t["end"]:
                    best = m
                    break
                if best is None and overlap(m["start"], m["end"], t["start"], t["end"]):
                    best = m
            if best is None:
                missing += 1
                continue
            feats.append(best.get("features", []))
            gold.append(CLASSES.index(t["gold_polarity"]))
    return feats, np.array(gold), missing


def dev_entity_probs(args, records, config):
    """Per gold target: the matched entity's class probabilities (uniform when
    unmatched, which the scorer counts as neutral), with score.py's matching."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.dev)))
    import score as scorer  # the evaluation's own matcher
    docs = [{"id": str(i), "text": r["text"]} for i, r in enumerate(records)]
    cfg = {"debug_features": True, "sentences": False, "people_bias": [0, 0, 0]}
    cfg.update(config)
    res = run_stage(args, docs, cfg)
    probs, gold = [], []
    for i, r in enumerate(records):
        sent = sentiment(res.get(str(i)))
        ents = sent.get("entities", [])
        listed = scorer.entity_list(sent)
        for t in r["targets"]:
            e, _ = scorer.match_entity(t, listed)
            p = [0.0, 1.0, 0.0]
            if e is not None:
                for full in ents:
                    if full.get("name") == e["name"] and "probabilities" in full:
                        pr = full["probabilities"]
                        p = [pr["negative"], pr["neutral"], pr["positive"]]
                        break
            probs.append(p)
            gold.append(CLASSES.index(t["gold_polarity"]))
    return np.array(probs), np.array(gold)


def to_coo(feats):
    rows, cols, vals = [], [], []
    for i, fs in enumerate(feats):
        for idx, val in fs:
            rows.append(i)
            cols.append(int(idx))
            vals.append(float(val))
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(vals)


def logits(W, b, rows, cols, vals, n):
    z = np.tile(b, (n, 1))
    for k in range(3):
        z[:, k] += np.bincount(rows, weights=vals * W[cols, k], minlength=n)
    return z


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train_lr(coo, y, n, dim, l2, iters, lr=0.05):
    rows, cols, vals = coo
    W = np.zeros((dim, 3))
    b = np.zeros(3)
    Y = np.eye(3)[y]
    mW, vW = np.zeros_like(W), np.zeros_like(W)
    mb, vb = np.zeros(3), np.zeros(3)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, iters + 1):
        P = softmax(logits(W, b, rows, cols, vals, n))
        D = (P - Y) / n
        gW = np.zeros_like(W)
        for k in range(3):
            gW[:, k] = np.bincount(cols, weights=vals * D[rows, k], minlength=dim)
        gW += l2 * W
        gb = D.sum(axis=0)
        mW = b1 * mW + (1 - b1) * gW
        vW = b2 * vW + (1 - b2) * gW * gW
        mb = b1 * mb + (1 - b1) * gb
        vb = b2 * vb + (1 - b2) * gb * gb
        W -= lr * (mW / (1 - b1 ** t)) / (np.sqrt(vW / (1 - b2 ** t)) + eps)
        b -= lr * (mb / (1 - b1 ** t)) / (np.sqrt(vb / (1 - b2 ** t)) + eps)
    return W, b


def macro_f1(gold, pred):
    f1s = []
    for c in range(3):
        tp = np.sum((gold == c) & (pred == c))
        fp = np.sum((gold != c) & (pred == c))
        fn = np.sum((gold == c) & (pred != c))
        if tp + fp + fn == 0:
            continue
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def write_model(path, W, b, dim, note):
    with open(path, "w") as f:
        f.write("# people_model.txt - the sentiment stage's people model (see model.h)\n")
        f.write("# written by plugins/sentiment/train/train_targets.py; %s\n" % note)
        f.write("# columns: negative neutral positive\n")
        f.write("format\ttextmill-people-lr\t1\n")
        f.write("dim\t%d\n" % dim)
        f.write("bias\t%.5f\t%.5f\t%.5f\n" % tuple(b))
        # compact "rows" lines (see model.c): weights in units of 1e-4, each
        # row as the gap from the previous index, 64 rows a line
        Q = np.rint(W * 1e4).astype(np.int64)
        nz = np.nonzero(np.abs(Q).max(axis=1) >= 1)[0]
        for s in range(0, len(nz), 64):
            prev, parts = 0, []
            for i in nz[s:s + 64]:
                parts.append("%d %d %d %d" % (i - prev, Q[i, 0], Q[i, 1], Q[i, 2]))
                prev = i
            f.write("rows\t" + " ".join(parts) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train")
    ap.add_argument("--dev", help="tune class offsets on this set and report its scores")
    ap.add_argument("--out-dir", default=STAGE_DIR)
    ap.add_argument("--textmill", default=os.path.join(ROOT, "textmill"))
    ap.add_argument("--plugin-dir", default=os.path.join(ROOT, "plugins"))
    ap.add_argument("--data-dir", default=os.path.join(ROOT, "plugins"))
    ap.add_argument("--dim", type=int, default=1 << 18)
    ap.add_argument("--l2", type=float, default=3e-4)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--lex-l2", type=float, default=10.0)
    ap.add_argument("--lex-min", type=float, default=0.15)
    ap.add_argument("--min-df", type=int, default=3)
    ap.add_argument("--skip-lexicon", action="store_true", help="keep the current news_lexicon.txt")
    ap.add_argument("--lexicon-only", action="store_true", help="write news_lexicon.txt only")
    a = ap.parse_args()
    train = read_jsonl(a.train)
    os.makedirs(a.out_dir, exist_ok=True)
    lex_path = os.path.join(a.out_dir, "news_lexicon.txt")
    if not a.skip_lexicon:
        train_lexicon(a, train, lex_path)
    if a.lexicon_only:
        return
    # The stage must load *some* model to run; features do not depend on it.
    model_path = os.path.join(a.out_dir, "people_model.txt")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("format\ttextmill-people-lr\t1\ndim\t%d\nbias\t0\t0\t0\n" % a.dim)
        empty_model = f.name
    base_cfg = {"people_model": empty_model, "learned_lexicon": lex_path}
    try:
        feats, y, missing = mention_features(a, train, base_cfg)
        print("people model: %d training targets (%d not found)" % (len(y), missing), file=sys.stderr)
        coo = to_coo(feats)
        W, b = train_lr(coo, y, len(y), a.dim, a.l2, a.iters)
        P = softmax(logits(W, b, *coo, len(y)))
        print("train macro-F1 %.3f" % macro_f1(y, P.argmax(1)), file=sys.stderr)
        note = "l2 %g, %d iterations, %d targets" % (a.l2, a.iters, len(y))
        if a.dev:
            # Class offsets for macro-F1 on DEV, as the stage really runs:
            # detected people (no target spans given), matched like score.py.
            write_model(model_path, W, b, a.dim, note)
            dev = read_jsonl(a.dev)
            probs, dy = dev_entity_probs(a, dev, dict(base_cfg, people_model=model_path))
            L = np.log(np.maximum(probs, 1e-9))
            best = (macro_f1(dy, L.argmax(1)), 0.0, 0.0)
            for on in np.arange(-1.0, 1.01, 0.1):
                for op in np.arange(-1.0, 1.01, 0.1):
                    f = macro_f1(dy, (L + np.array([on, 0.0, op])).argmax(1))
                    if f > best[0] + 1e-9:
                        best = (f, on, op)
            print("dev macro-F1 %.3f untuned, %.3f with offsets neg %+.2f pos %+.2f (%d targets)"
                  % (macro_f1(dy, L.argmax(1)), best[0], best[1], best[2], len(dy)), file=sys.stderr)
            b = b + np.array([best[1], 0.0, best[2]])
            note += "; class offsets tuned on dev: neg %+.2f pos %+.2f" % (best[1], best[2])
        write_model(model_path, W, b, a.dim, note)
    finally:
        os.unlink(empty_model)
    print("wrote %s and %s" % (lex_path, model_path), file=sys.stderr)


if __name__ == "__main__":
    main()
