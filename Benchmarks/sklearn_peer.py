#!/usr/bin/env python3
"""Peer for `mailtriage eval`: scikit-learn TF-IDF (word 1-2-grams + character 3-5-grams) and logistic
regression, trained on the same examples mailtriage trained on, tested on the same files.

Usage: sklearn_peer.py TRAIN.jsonl TEST.jsonl [OOD.jsonl ...] [--coverage X]
Prints, per confidence threshold, the share of automatable test rows automated (correct category), the
precision of automated answers, and the share of each out-of-domain file automated; then the threshold
whose coverage on TEST is closest to X (mailtriage's coverage at its shipped thresholds).
"""
import json
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline


def load(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    return [((r.get("subject") or "") + " " + (r.get("text") or r.get("body") or "")).strip() for r in rows], [r["label"] for r in rows]


def main():
    args = sys.argv[1:]
    coverage = None
    if "--coverage" in args:
        i = args.index("--coverage")
        coverage = float(args[i + 1])
        args = args[:i] + args[i + 2:]
    train, test, ood = args[0], args[1], args[2:]
    xt, yt = load(train)
    t0 = time.perf_counter()
    model = make_pipeline(
        FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)),
        ]),
        LogisticRegression(max_iter=2000, C=10),
    )
    model.fit(xt, yt)
    fit = time.perf_counter() - t0
    classes = list(model.classes_)

    def predict(path):
        x, y = load(path)
        p = model.predict_proba(x)
        best = p.argmax(axis=1)
        return [(classes[b], p[k][b], y[k]) for k, b in enumerate(best)]

    xs, _ = load(test)
    t0 = time.perf_counter()
    n = min(2000, len(xs))
    for k in range(n):
        model.predict_proba([xs[k]])
    rate = n / (time.perf_counter() - t0)

    res = predict(test)
    oods = [(o, predict(o)) for o in ood]
    automatable = sum(1 for (_, _, y) in res if y != "other")
    print("scikit-learn: trained on %d examples in %.2f s; %.0f msg/s one at a time" % (len(xt), fit, rate))
    print("threshold  automatable automated  precision  " + "  ".join("%s automated" % o.split("/")[-1] for o in ood))
    rows = []
    for t in [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99]:
        auto = [(c, y) for (c, p, y) in res if p >= t and c != "other"]
        right = sum(1 for (c, y) in auto if c == y)
        cov = sum(1 for (c, y) in auto if c == y and y != "other") / max(1, automatable)
        prec = right / len(auto) if auto else 1.0
        fps = [sum(1 for (c, p, y) in r if p >= t and c != "other") / max(1, len(r)) for (_, r) in oods]
        rows.append((t, cov, prec, fps))
        print("%-9.2f  %21.3f  %9.4f  %s" % (t, cov, prec, "  ".join("%10.4f" % f for f in fps)))
    if coverage is not None:
        t, cov, prec, fps = min(rows, key=lambda r: abs(r[1] - coverage))
        print("closest to mailtriage's coverage %.3f: threshold %.2f, coverage %.3f, precision %.4f, %s"
              % (coverage, t, cov, prec, ", ".join("%s %.4f" % (o.split("/")[-1], f) for (o, _), f in zip(oods, fps))))


if __name__ == "__main__":
    main()
