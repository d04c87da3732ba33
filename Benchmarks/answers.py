#!/usr/bin/env python3
"""Answer quality on realistic mail (issue 12): what share of the mails one FAQ answer would serve gets that
answer automatically, how often an automatic answer is wrong, and how many hard negatives are answered.

Usage: answers.py MAILTRIAGE_BIN SHARED_DIR OUT_DIR [--split measure|tune|all] [--misses] [--mailboxes CONFIG] [-- classify options]
  MAILTRIAGE_BIN  the mailtriage binary; it decides every mail with `classify --jsonl --json` (the daemon's
                  decision from subject and body, quotes, greeting and sign-off removed as for real mail)
  --misses        also list the tune split's positives not answered and every wrong answer (for tuning)
  --mailboxes C   decide each setting's mail with the mailbox of that name in config C (its `audiences` choose
                  the entries written for that business: Benchmarks/data/realistic-mailboxes.toml)
An automatic answer is right when its entry is listed for the mail's (setting, faq) in
Benchmarks/data/realistic-answers.tsv (written by hand: an entry answers a topic when its body alone fully
serves a mail asking it). Anything automatic on an `other` mail, or with an entry not listed, is wrong.
The scikit-learn peer (TF-IDF word 1-2 + char 3-5-grams, logistic regression over the same answer
training set, exported by `train --export-answers`) is reported at the probability threshold that gives
the same precision on the tune split.
"""
import collections
import json
import os
import subprocess
import sys


def load_map(path):
    m = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        m[(f[0], f[1])] = set(x.strip() for x in (f[2] if len(f) > 2 else "").split(",") if x.strip())
    return m


def figures(rows, auto, right):
    """Per language: positives answered right, precision of automatic answers, hard negatives/others answered."""
    out = {}
    for lang in ("de", "en"):
        rs = [r for r in rows if r["lang"] == lang]
        pos = [r for r in rs if r["kind"] == "positive"]
        hard = [r for r in rs if r["kind"] == "hard_negative"]
        oth = [r for r in rs if r["label"] == "other"]
        a = [r for r in rs if auto(r)]
        ok = [r for r in a if right(r)]
        out[lang] = {
            "mails": len(rs), "positives": len(pos), "answered_right": sum(1 for r in pos if auto(r) and right(r)),
            "automatic": len(a), "wrong": len(a) - len(ok),
            "precision": (len(ok) / len(a)) if a else 1.0,
            "hard_negatives": len(hard), "hard_negatives_answered": sum(1 for r in hard if auto(r)),
            "other_answered": sum(1 for r in oth if auto(r)), "others": len(oth),
        }
    return out


def show(title, fig):
    print(title)
    print("lang  mails  positives  answered right (share)  automatic  wrong  precision  hard neg. answered  other answered")
    for lang, f in fig.items():
        share = f["answered_right"] / f["positives"] if f["positives"] else 0
        hn = f["hard_negatives_answered"] / f["hard_negatives"] if f["hard_negatives"] else 0
        print(f"{lang:4}  {f['mails']:5}  {f['positives']:9}  {f['answered_right']:5} ({share:6.1%})        {f['automatic']:9}  "
              f"{f['wrong']:5}  {f['precision']:9.3f}  {f['hard_negatives_answered']:3} of {f['hard_negatives']:3} ({hn:5.1%})  "
              f"{f['other_answered']:3} of {f['others']}")


def peer(train_path, rows, accepted, target_precision):
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, make_pipeline
    except ImportError:
        print("scikit-learn peer: not installed (pip install scikit-learn)")
        return
    data = [json.loads(l) for l in open(train_path, encoding="utf-8") if l.strip()]
    x = [((d.get("subject") or "") + " " + d["text"]).strip() for d in data]
    y = [d["label"] for d in data]
    clf = make_pipeline(FeatureUnion([("w", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                                      ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True))]),
                        LogisticRegression(C=10, max_iter=2000))
    clf.fit(x, y)
    probs = clf.predict_proba([r["subject"] + " " + r["body"] for r in rows])
    classes = list(clf.classes_)
    pred = {}
    for r, p in zip(rows, probs):
        k = max(range(len(p)), key=lambda i: p[i])
        pred[r["id"]] = (classes[k], p[k])

    def run(t, subset):
        auto = lambda r: pred[r["id"]][0] != "(none)" and pred[r["id"]][1] >= t
        right = lambda r: r["kind"] == "positive" and pred[r["id"]][0] in accepted(r)
        return figures(subset, auto, right)
    tune = [r for r in rows if r["split"] == "tune"]
    best = None
    for t in [i / 100 for i in range(10, 100)]:
        f = run(t, tune)
        prec = sum(v["automatic"] - v["wrong"] for v in f.values()) / max(1, sum(v["automatic"] for v in f.values()))
        if prec >= target_precision:
            best = t
            break
    if best is None:
        best = 0.99
    show(f"scikit-learn peer (same answer training set), threshold {best:.2f} chosen on the tune split for precision >= "
         f"{target_precision}: measure split", run(best, [r for r in rows if r["split"] == "measure"]))


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        i = args.index("--")
        args, extra = args[:i], args[i + 1:]
    binary, shared, out = args[0], args[1], args[2]
    split = "measure"
    if "--split" in args:
        split = args[args.index("--split") + 1]
    misses = "--misses" in args
    mailboxes = args[args.index("--mailboxes") + 1] if "--mailboxes" in args else None
    here = os.path.dirname(os.path.abspath(__file__))
    mapping = load_map(os.path.join(here, "data", "realistic-answers.tsv"))
    rows = [json.loads(l) for l in open(os.path.join(shared, "datasets", "realistic", "mails.jsonl"), encoding="utf-8")]
    os.makedirs(out, exist_ok=True)
    req = os.path.join(out, "realistic-requests.jsonl")
    with open(req, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "subject": r["subject"], "body": r["body"]}, ensure_ascii=False) + "\n")
    dec = {}

    def classify(path, options):
        res = subprocess.run([binary, "classify", "--jsonl", path, "--json"] + options + extra, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit("classify failed: " + res.stderr)
        for line in res.stdout.splitlines():
            if line.strip():
                d = json.loads(line)
                dec[d["id"]] = d
    if mailboxes:
        # Each setting's mail through its own mailbox (named after the setting), whose `audiences` choose the
        # entries written for that business, as a deployment for it would.
        for setting in sorted({r["setting"] for r in rows}):
            path = os.path.join(out, f"realistic-requests-{setting}.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                for r in rows:
                    if r["setting"] == setting:
                        f.write(json.dumps({"id": r["id"], "subject": r["subject"], "body": r["body"]}, ensure_ascii=False) + "\n")
            classify(path, ["--config", mailboxes, "--mailbox", setting])
    else:
        classify(req, [])
    accepted = lambda r: mapping.get((r["setting"], r["faq"]), set())
    auto = lambda r: dec[r["id"]]["degree"] == "automatic"
    right = lambda r: r["kind"] == "positive" and dec[r["id"]].get("answer") in accepted(r)
    chosen = rows if split == "all" else [r for r in rows if r["split"] == split]
    fig = figures(chosen, auto, right)
    show(f"mailtriage, {split} split" + (", each setting through its mailbox (audiences)" if mailboxes else ", one mailbox for all settings"), fig)
    with open(os.path.join(out, "answers-figures.json"), "w") as f:
        json.dump(fig, f, indent=1)
    unmapped = sorted({(r["setting"], r["faq"]) for r in rows if r["kind"] == "positive" and not accepted(r)})
    print(f"topics without an answering entry in the mapping: {len(unmapped)} of "
          f"{len({(r['setting'], r['faq']) for r in rows if r['kind'] == 'positive'})}")
    if misses:
        for r in rows:
            if r["split"] != "tune":
                continue
            d = dec[r["id"]]
            if auto(r) and not right(r):
                print(f"WRONG {r['id']} {r['lang']} {r['label']}/{r['kind']} faq={r['faq']!r} answered {d.get('answer')} "
                      f"conf={d['confidence']:.2f} | {r['subject']}")
            elif r["kind"] == "positive" and not (auto(r) and right(r)):
                print(f"miss  {r['id']} {r['lang']} {r['label']} -> {d['category']} {d['degree']} {d.get('answer')} "
                      f"conf={d['confidence']:.2f} faq={r['faq']!r} accepted={sorted(accepted(r))} | {r['subject']}")
    train = os.path.join(out, "answers-train.jsonl")
    if os.path.exists(train) and split != "tune":
        peer(train, rows, accepted, 0.97)


if __name__ == "__main__":
    main()
