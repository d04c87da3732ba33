#!/usr/bin/env python3
"""Python peer for `mailtriage analyze` (see Benchmarks/analyze.sh): the same archive, the same answer training set.

Usage: analyze_peer.py MBOX --train ANSWERS.jsonl [--workers 2] [--chunk 250]

Trains a scikit-learn answer classifier (TF-IDF word 1-2-grams + logistic regression) on the JSONL file that
`mailtriage train --export-answers` writes (one object a line: "text", optional "subject", "label": a knowledge-base
entry id or "(none)"), then streams the mbox (read line by line, split on "From " separator lines, mboxrd
">From " unquoted; never the whole file in memory), parses every message with the email package
(policy.default, get_body(preferencelist=("plain", "html")), get_content(), HTML tags stripped crudely) and
classifies subject + body text: top label and its probability. Counts messages per predicted label and how many
have a probability of at least 0.9. --workers processes (forked after training) parse and classify chunks of
messages; the parent reads and splits the file and merges the results in order, with at most 2 chunks a worker in
flight. Training time is printed apart and not part of the rate.

Peak RSS (of the analysis, not of the training): L-BFGS over 187 labels x ~27,000 features holds about 1.5 GiB
while it trains, so after training the parent's high-water mark is reset to its current RSS (Linux:
/proc/self/clear_refs "5"); the training peak is printed on the training line. The figure on the result line is
the parent's peak plus each worker's own peak (each worker reports getrusage(RUSAGE_SELF) with its results): a sum
of per-process peaks, so pages shared after the fork (the model, the libraries) count once per process, an upper
bound of the real total. Also printed: getrusage SELF + CHILDREN, which counts only the largest worker.
"""
import argparse
import collections
import gc
import json
import multiprocessing
import os
import re
import resource
import sys
import time
from email import policy
from email.parser import BytesParser

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

MODEL = None
PARSER = BytesParser(policy=policy.default)
TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
SPACE = re.compile(r"[ \t\r\f\v]+")
THRESHOLD = 0.9


def mbox_chunks(path, size):
    """Lists of `size` raw messages (bytes), read line by line: a message starts at a line beginning with
    "From " (that line is dropped); ">From ", ">>From " ... lose one ">" (mboxrd)."""
    chunk, lines = [], None
    with open(path, "rb", buffering=1 << 20) as f:
        for line in f:
            if line.startswith(b"From "):
                if lines is not None:
                    chunk.append(b"".join(lines))
                    if len(chunk) >= size:
                        yield chunk
                        chunk = []
                lines = []
                continue
            if lines is None:
                lines = []  # text before the first separator: one message, as mailtriage reads it
            if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                line = line[1:]
            lines.append(line)
    if lines:
        chunk.append(b"".join(lines))
    if chunk:
        yield chunk


def text_of(raw):
    msg = PARSER.parsebytes(raw)
    subject = str(msg.get("subject") or "")
    part = msg.get_body(preferencelist=("plain", "html"))
    body = ""
    if part is not None:
        body = part.get_content()
        if not isinstance(body, str):
            body = ""
        elif part.get_content_subtype() == "html":
            body = SPACE.sub(" ", TAGS.sub(" ", body))
    return (subject + " " + body).strip()


def work(chunk):
    """Parse and classify one chunk: (messages, failed, Counter of labels, confident, own peak RSS KiB, pid)."""
    texts, failed = [], 0
    for raw in chunk:
        try:
            texts.append(text_of(raw))
        except Exception:  # a message the email package cannot take apart: counted, not classified
            failed += 1
    labels = collections.Counter()
    confident = 0
    if texts:
        p = MODEL.predict_proba(texts)
        best = p.argmax(axis=1)
        top = p[range(len(texts)), best]
        classes = MODEL.classes_
        for b in best:
            labels[classes[b]] += 1
        confident = int((top >= THRESHOLD).sum())
    return len(chunk), failed, labels, confident, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, os.getpid()


def one_thread():
    """A worker uses one core: no BLAS or OpenMP threads of its own beside the other workers."""
    threadpool_limits(1)


def train(path):
    xs, ys = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                xs.append(((r.get("subject") or "") + " " + (r.get("text") or "")).strip())
                ys.append(r["label"])
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                          LogisticRegression(max_iter=2000, C=10))
    model.fit(xs, ys)
    return model, len(xs), len(set(ys))


def main():
    global MODEL
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mbox")
    ap.add_argument("--train", required=True, help="JSONL from `mailtriage train --export-answers`")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=250, help="messages a worker takes at a time")
    ap.add_argument("--top", type=int, default=8, help="labels to list")
    a = ap.parse_args()

    t0 = time.perf_counter()
    MODEL, examples, classes = train(a.train)
    fit = time.perf_counter() - t0
    train_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = ""
    except OSError as e:
        reset = " (peak could not be reset: %s; the figure below includes training)" % e.strerror
    print("python peer: trained on %d examples, %d labels in %.2f s, peak RSS %.0f MiB (not counted below)%s"
          % (examples, classes, fit, train_peak / 1024, reset))
    sys.stdout.flush()

    messages = failed = confident = 0
    labels = collections.Counter()
    worker_peak = {}
    t0 = time.perf_counter()

    def merge(r):
        nonlocal messages, failed, confident
        n, fl, lb, conf, rss, pid = r
        messages += n
        failed += fl
        confident += conf
        labels.update(lb)
        if pid != os.getpid():
            worker_peak[pid] = max(worker_peak.get(pid, 0), rss)

    if a.workers <= 1:
        for chunk in mbox_chunks(a.mbox, a.chunk):
            merge(work(chunk))
    else:
        # Forked after training: the workers inherit the model. Results are taken in submission order, and no
        # more than 2 chunks a worker wait, so the file is never read far ahead of the parsing.
        with multiprocessing.get_context("fork").Pool(a.workers, initializer=one_thread) as pool:
            pending = collections.deque()
            for chunk in mbox_chunks(a.mbox, a.chunk):
                pending.append(pool.apply_async(work, (chunk,)))
                while len(pending) >= 2 * a.workers:
                    merge(pending.popleft().get())
            while pending:
                merge(pending.popleft().get())
    seconds = time.perf_counter() - t0

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if a.workers <= 1:
        peak = own
    else:
        peak = own + sum(worker_peak.values())
    print("python peer: %d messages, %.1f s, %.0f msg/s, peak RSS %.0f MiB"
          % (messages, seconds, messages / seconds if seconds > 0 else 0, peak / 1024))
    print("  %d workers; parent %.0f MiB, workers %s MiB; getrusage SELF+CHILDREN %.0f MiB; %d not parsed"
          % (a.workers, own / 1024, "+".join("%.0f" % (v / 1024) for v in worker_peak.values()) or "-",
             (own + children) / 1024, failed))
    print("  probability >= %.1f: %d (%.1f%%); top labels: %s"
          % (THRESHOLD, confident, 100.0 * confident / max(1, messages),
             ", ".join("%s %d" % kv for kv in labels.most_common(a.top))))


if __name__ == "__main__":
    main()
