#!/usr/bin/env python3
"""Prints the one table of `make bench`: a line per figure, read from RESULTS_DIR.

Usage: summary.py RESULTS_DIR

Each benchmark script writes NAME.tsv (what, ours, peer, ratio, target, met; Benchmarks/lib.sh) and `make bench`
keeps its output as NAME.out and NAME.failed when it failed. A benchmark without a .tsv gets its line from its
output where the format is known (ingest: the median msg/s of mailtriage and of the imaplib peer), else a
pointer to the output.
"""
import os
import re
import statistics
import sys

ORDER = ["ingest", "parse", "classify", "answers", "analyze", "hostile", "store", "idle"]
HEAD = ["benchmark", "ours", "peer", "ratio", "target", "met"]


def medians(pattern, text):
    v = [float(x) for x in re.findall(pattern, text, re.M)]
    return (statistics.median(v), len(v)) if v else (None, 0)


def from_output(name, text):
    """The lines of a benchmark whose script writes no .tsv, read from its output (None: format not known)."""
    if name == "parse":
        o, n = medians(r"^mailtriage: .*?, ([0-9.]+) msg/s", text)
        g, _ = medians(r"^gmime [0-9.]+: .*?, ([0-9.]+) msg/s", text)
        p, _ = medians(r"^python email: .*?, ([0-9.]+) msg/s", text)
        if o and g:
            rows = [["parse: shared MIME corpus (median of %d runs)" % n, "%.0f msg/s" % o, "GMime %.0f msg/s" % g, "%.2f" % (o / g),
                     ">= 1.5x GMime", "yes" if o / g >= 1.5 else "no"]]
            if p:
                rows.append(["parse: the same, beside Python's email", "%.0f msg/s" % o, "python %.0f msg/s" % p, "%.2f" % (o / p), "", ""])
            return rows
    if name == "classify":
        rows = classify_quality(text)
        o, _ = medians(r"^mailtriage: classify .*?: ([0-9.]+) msg/s", text)
        p, _ = medians(r"^scikit-learn: .*?; ([0-9.]+) msg/s one at a time", text)
        if o and p:
            rows.append(["classify: messages one at a time, one core", "%.0f msg/s" % o, "scikit-learn %.0f msg/s" % p, "%.2f" % (o / p), "", ""])
        d, _ = medians(r"^mailtriage: decide .*?: ([0-9.]+) msg/s", text)
        if d:
            rows.append(["classify: the whole decision (TriageEngine.decide), 1 KB mails, one core", "%.0f msg/s" % d,
                         "scikit-learn %.0f msg/s" % p if p else "", "%.2f" % (d / p) if p else "", ">= 20,000 msg/s", "yes" if d >= 20000 else "no"])
        load = re.search(r"^mailtriage: model ([0-9.]+) MiB, load ([0-9.]+) ms", text, re.M)
        if load:
            rows.append(["classify: model file, load", "%s MiB, %s ms" % load.groups(), "", "", "< 50 ms",
                         "yes" if float(load.group(2)) < 50 else "no"])
        return rows or None
    if name == "answers":
        rows = []
        block = re.search(r"^mailtriage, measure split, each setting through its mailbox.*?\n(.*?)^topics", text, re.M | re.S)
        for m in re.finditer(r"^(de|en) +\d+ +\d+ +\d+ \( *([0-9.]+)%\) +\d+ +\d+ +([0-9.]+) +(\d+) of +(\d+) \( *([0-9.]+)%\)",
                             block.group(1) if block else "", re.M):
            lang, share, prec, hn, hn_all, hn_share = m.groups()
            ok = float(share) >= 50 and float(prec) >= 0.97 and float(hn_share) <= 2
            rows.append(["answers: realistic measure split, %s, own mailbox" % lang,
                         "%s%% answered right, precision %s, %s of %s hard negatives" % (share, prec, hn, hn_all), "", "",
                         ">= 50%, >= 0.97, <= 2%", "yes" if ok else "no"])
        return rows or None
    if name == "analyze":
        m = re.search(r"^ratio mailtriage/python \(([^)]*) messages\): ([0-9.]+) x the rate", text, re.M)
        if m:
            return [["analyze: mbox of %s messages, rate" % m.group(1), "%s x" % m.group(2), "python peer 1 x", m.group(2), "", ""]]
    if name == "hostile":
        rows = re.findall(r"^(\S+\.eml) +\d+ bytes +([0-9.]+) s +peak RSS +([0-9.]+) MiB", text, re.M)
        if rows:
            slow = max(rows, key=lambda r: float(r[1]))
            big = max(rows, key=lambda r: float(r[2]))
            return [["hostile: %d messages decided by classify" % len(rows), "slowest %s s (%s), peak RSS %s MiB (%s)" % (slow[1], slow[0], big[2], big[0]),
                     "", "", "", ""]]
    if name == "ingest":
        ours = [float(x) for x in re.findall(r"^mailtriage(?: \(pipelined\))?: .*?, ([0-9.]+) msg/s", text, re.M)]
        peer = [float(x) for x in re.findall(r"^python imaplib: .*?, ([0-9.]+) msg/s", text, re.M)]
        n = re.search(r"^# ([0-9]+) messages", text, re.M)
        if ours and peer:
            o, p = statistics.median(ours), statistics.median(peer)
            return [["ingest: %s messages over IMAPS, end to end (median of %d rounds)" % ("{:,}".format(int(n.group(1))) if n else "?", len(ours)),
                     "%.0f msg/s" % o, "imaplib %.0f msg/s" % p, "%.2f" % (o / p), ">= 2x imaplib", "yes" if o >= 2 * p else "no"]]
    return None


def classify_quality(text):
    """The issue's bars from `classify.sh`'s output: each setup's "shipped" line of each file through a shop's mailbox."""
    rows = []
    for setup in re.split(r"^== ", text, flags=re.M)[1:]:
        trained = setup.startswith("trained")
        if not (trained or setup.startswith("out of the box")):
            continue
        for f, body in re.findall(r"^-- mailtriage eval --data (\S+)\.jsonl\n(.*?)(?=^-- mailtriage eval|^-- scikit|\Z)", setup, re.M | re.S):
            shop = re.search(r"^-- the same, decided by a shop's mailbox.*?^shipped +\d+ +[0-9.]+ +([0-9.]+) +([0-9.]+) +([0-9.]+)", body, re.M | re.S)
            if not shop:
                continue
            precision, automatable, other = (float(x) for x in shop.groups())
            what = "trained" if trained else "out of the box"
            if f == "bitext-test":
                need = 0.80 if trained else 0.25
                rows.append(["classify: Bitext 20%%, %s, shop's mailbox" % what, "%.1f%% automated, precision %.3f" % (100 * automatable, precision),
                             "", "", ">= %d%%, >= 0.97" % (100 * need), "yes" if automatable >= need and precision >= 0.97 else "no"])
            elif f.startswith("banking77") or f == "german-tickets":
                bar = 0.005 if trained and f.startswith("banking77") else 0.01
                rows.append(["classify: %s false automation, %s" % ("German tickets" if f == "german-tickets" else "Banking77 other", what),
                             "%.2f%%" % (100 * other), "", "", "<= %.1f%%" % (100 * bar), "yes" if other <= bar else "no"])
    return rows


def main():
    d = sys.argv[1]
    names = [n for n in ORDER if any(os.path.exists(os.path.join(d, n + ext)) for ext in (".tsv", ".out", ".failed"))]
    names += sorted({f.rsplit(".", 1)[0] for f in os.listdir(d)} - set(names))
    rows = []
    for n in names:
        tsv, out = os.path.join(d, n + ".tsv"), os.path.join(d, n + ".out")
        if os.path.exists(os.path.join(d, n + ".failed")):
            rows.append(["%s: FAILED (see %s)" % (n, out), "", "", "", "", "no"])
        got = None
        if os.path.exists(tsv):
            got = [(line.rstrip("\n").split("\t") + [""] * 6)[:6] for line in open(tsv, encoding="utf-8") if line.strip()]
        elif os.path.exists(out):
            got = from_output(n, open(out, encoding="utf-8", errors="replace").read())
            if got is None and not os.path.exists(os.path.join(d, n + ".failed")):
                got = [["%s: see %s" % (n, out), "", "", "", "", ""]]
        rows += got or []
    rows = [[c if c not in ("", "-") else "-" for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows + [HEAD]) for i in range(6)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    print()
    print(line(HEAD))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


main()
