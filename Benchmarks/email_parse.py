#!/usr/bin/env python3
"""Peer for `mailtriage-bench parse`: Python's email package on the same files, best of N passes.

Each file is read, parsed with policy.default, and its body text taken with get_body() (plain
preferred, then html) and get_content(), as the issue that asked for this comparison specifies.
"""
import email
import os
import sys
import time
from email import policy


def files(paths):
    out = []
    for p in paths:
        if os.path.isfile(p):
            out.append(p)
            continue
        for root, _, names in os.walk(p):
            out.extend(os.path.join(root, n) for n in names)
    return sorted(out)


def main():
    rounds = 5
    args = sys.argv[1:]
    if args[:1] == ["--rounds"]:
        rounds = int(args[1])
        args = args[2:]
    todo = files(args)
    best = float("inf")
    failures = 0
    for _ in range(rounds):
        total = 0
        text = 0
        failures = 0
        start = time.perf_counter()
        for f in todo:
            with open(f, "rb") as fh:
                data = fh.read()
            total += len(data)
            try:
                msg = email.message_from_bytes(data, policy=policy.default)
                body = msg.get_body(preferencelist=("plain", "html"))
                if body is not None:
                    text += len(body.get_content())
            except Exception:
                failures += 1
        best = min(best, time.perf_counter() - start)
    print("python email: %d files, %.1f MB, best of %d: %.3f s, %.0f msg/s, %.1f MB/s (%d raised)"
          % (len(todo), total / 1e6, rounds, best, len(todo) / best, total / 1e6 / best, failures))


if __name__ == "__main__":
    main()
