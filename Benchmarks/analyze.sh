#!/usr/bin/env bash
# Archive analysis (`mailtriage analyze`): the shared MIME corpus, a generated mbox of COUNT messages (200,000 of
# about 3 KB, 0.57 GB) and one of SMALL_COUNT (20,000) under /usr/bin/time -v (speed, peak memory: it should not
# grow with the archive), and the Python peer (Benchmarks/analyze_peer.py: email + scikit-learn, same answer
# training set, same number of processes) on the large mbox, in the same run; then a table.
# Usage: Benchmarks/analyze.sh BIN_DIR SHARED_DIR
# Environment: OUT (work folder, default /tmp/mailtriage-analyze-UID), COUNT (200000), SMALL_COUNT (20000),
# SEED (1), WORKERS (2: the peer's processes; mailtriage uses its default, one thread a core).
# The mbox files are kept in OUT and made again only when their count, seed or make_mbox.py changed.
set -euo pipefail
BIN=$(realpath "$1")
SHARED=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
ROOT=$(dirname "$HERE")
OUT=${OUT:-/tmp/mailtriage-analyze-$(id -u)}
COUNT=${COUNT:-200000}
SMALL_COUNT=${SMALL_COUNT:-20000}
SEED=${SEED:-1}
WORKERS=${WORKERS:-2}
M="$BIN/mailtriage"
KB="$ROOT/knowledge-base"
RULES="$ROOT/config/rules.toml"
mkdir -p "$OUT"

# /usr/bin/time (Debian's time package) and scikit-learn, as Tests/Servers/install-deps.sh (WITH_BENCH=1) and
# the Makefile's bench targets install them.
if [ ! -x /usr/bin/time ]; then
  SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo)
  echo "installing: time"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends time >/dev/null
fi
python3 -c "import sklearn" 2>/dev/null || pip install -q scikit-learn

label() { # 200000 -> 200k, 5000 -> 5k, 1500 -> 1500
  if [ $(($1 % 1000)) = 0 ]; then echo "$(($1 / 1000))k"; else echo "$1"; fi
}

# make_mbox FILE N: generates FILE unless its stamp (count, seed, generator checksum, size) says it is there.
make_mbox() {
  local f=$1 n=$2 want
  want="$n $SEED $(sha256sum "$HERE/make_mbox.py" | cut -c1-16)"
  if [ -f "$f" ] && [ -f "$f.stamp" ] && [ "$(cat "$f.stamp")" = "$want $(stat -c %s "$f")" ]; then
    echo "$f: $n messages, $(stat -c %s "$f") bytes (kept from an earlier run)"
  else
    rm -f "$f.stamp"
    python3 "$HERE/make_mbox.py" "$f" "$n" --seed "$SEED"
    echo "$want $(stat -c %s "$f")" > "$f.stamp"
  fi
}

BIG="$OUT/archive-$(label "$COUNT").mbox"
SMALL="$OUT/archive-$(label "$SMALL_COUNT").mbox"
echo "# mailtriage analyze: $(nproc) cores, $(date -u +%F); $M"
echo "== archives"
make_mbox "$BIG" "$COUNT"
make_mbox "$SMALL" "$SMALL_COUNT"

echo "== model: the shipped knowledge base and our examples"
"$M" train --knowledge-base "$KB" --rules "$RULES" --model "$OUT/model" --export-answers "$OUT/answers.jsonl" > "$OUT/train.txt"
grep -E "^trained|^answer model" "$OUT/train.txt" || cat "$OUT/train.txt"
A=(--knowledge-base "$KB" --rules "$RULES" --model "$OUT/model" --quiet --json)
: > "$OUT/rows.tsv"

# summarize NAME JSON [TIME_FILE EXPECTED]: messages, outcome shares, speed (and wall clock and peak RSS
# from /usr/bin/time -v); a row for the table goes to rows.tsv.
summarize() {
  python3 - "$@" "$OUT/rows.tsv" <<'PY'
import json, re, sys
args = sys.argv[1:]
rows = args.pop()
name, path = args[0], args[1]
tfile = args[2] if len(args) > 2 else None
expected = int(args[3]) if len(args) > 3 else None
r = json.load(open(path))
n, s, o = r["messages"], r["seconds"], r["outcomes"]
total = o.get("total") or 1
print("  %d messages in %d files (%.1f MiB), %d files skipped; analysis %.2f s, %.0f msg/s"
      % (n, r.get("files", 0), r.get("bytes", 0) / 1048576, len(r.get("skippedFiles", [])), s, n / s if s else 0))
print("  outcomes: " + ", ".join("%s %d (%.1f%%)" % (k, o.get(k, 0), 100.0 * o.get(k, 0) / total)
                                 for k in ("automatic", "semi_automatic", "shadow", "manual", "refused", "failed")))
# Outcomes are of new tickets; follow-ups that join a ticket of the archive are counted apart.
follow = r.get("followUps", 0) + r.get("automatedFollowUps", 0)
if follow:
    print("  follow-ups joining a ticket of the archive: %d" % follow)
if o.get("total", 0) + follow != n:
    print("  NOTE: outcomes.total %s and %d follow-ups differ from messages %d" % (o.get("total"), follow, n))
if expected is not None and n != expected:
    print("  NOTE: the mbox holds %d messages, analyze counted %d" % (expected, n))
wall = rss = None
if tfile:
    t = open(tfile).read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", t)
    if m:
        wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
    if m:
        rss = int(m.group(1)) / 1024
    print("  wall clock %.2f s (%.0f msg/s, with start-up and model loading); peak RSS %.1f MiB" % (wall, n / wall, rss))
    with open(rows, "a") as f:
        f.write("%s\t%d\t%.2f\t%.0f\t%.2f\t%.0f\t%.1f\n" % (name, n, s, n / s if s else 0, wall, n / wall, rss))
PY
}

echo "== (a) the shared MIME corpus: $SHARED/datasets/mime"
"$M" analyze "${A[@]}" "$SHARED/datasets/mime" > "$OUT/mime.json"
summarize "mime corpus" "$OUT/mime.json"

for f in "$BIG:$COUNT" "$SMALL:$SMALL_COUNT"; do
  path=${f%:*}; n=${f##*:}
  echo "== ($([ "$path" = "$BIG" ] && echo b || echo c)) $(basename "$path"): /usr/bin/time -v mailtriage analyze --quiet --json"
  base=$(basename "$path" .mbox)
  /usr/bin/time -v -o "$OUT/time-$base.txt" "$M" analyze "${A[@]}" "$path" > "$OUT/$base.json"
  summarize "mailtriage $(label "$n")" "$OUT/$base.json" "$OUT/time-$base.txt" "$n"
done

echo "== (d) Python peer on $(basename "$BIG"), $WORKERS processes, the same answer training set"
python3 "$HERE/analyze_peer.py" "$BIG" --train "$OUT/answers.jsonl" --workers "$WORKERS" | tee "$OUT/peer.txt"

echo "== (e) summary"
python3 - "$OUT/rows.tsv" "$OUT/peer.txt" <<'PY'
import re, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
peer = re.search(r"python peer: (\d+) messages, ([\d.]+) s, ([\d.]+) msg/s, peak RSS ([\d.]+) MiB", open(sys.argv[2]).read())
print("| tool | messages | seconds | msg/s | wall s | msg/s (wall) | peak RSS MiB |")
print("|---|---|---|---|---|---|---|")
for name, n, s, rate, wall, wrate, rss in rows:
    print("| %s | %s | %s | %s | %s | %s | %s |" % (name, n, s, rate, wall, wrate, rss))
if peer:
    n, s, rate, rss = peer.groups()
    print("| python peer | %s | %s | %s | | | %s |" % (n, s, rate, rss))
    big = rows[0]
    print("ratio mailtriage/python (%s messages): %.2f x the rate (analysis time), %.2f x (mailtriage wall clock); "
          "peak RSS %.2f x" % (big[1], float(big[3]) / float(rate), float(big[5]) / float(rate), float(big[6]) / float(rss)))
if len(rows) > 1:
    print("mailtriage peak RSS, %s vs %s messages: %s vs %s MiB (%.2f x for %.0f x the messages)"
          % (rows[0][1], rows[1][1], rows[0][6], rows[1][6], float(rows[0][6]) / float(rows[1][6]),
             int(rows[0][1]) / int(rows[1][1])))
PY
