#!/usr/bin/env bash
# Answer quality on realistic mail (see BENCHMARKS.md): the shipped knowledge base and our own examples
# only ("out of the box"), every mail of ../shared/datasets/realistic decided by `mailtriage classify`,
# scored with the hand-written mapping Benchmarks/data/realistic-answers.tsv, beside the scikit-learn peer
# trained on the same answer training set.
# Usage: Benchmarks/answers.sh BIN_DIR SHARED_DIR
set -euo pipefail
BIN=$1
SHARED=$2
OUT=${OUT:-/tmp/mailtriage-answers-$(id -u)}
rm -rf "$OUT"; mkdir -p "$OUT"
M="$BIN/mailtriage"
echo "== out of the box: trained on the shipped knowledge base and our examples"
"$M" train --knowledge-base knowledge-base --rules config/rules.toml --model "$OUT/model" \
  --export-answers "$OUT/answers-train.jsonl" | grep -E "^trained|^answer model"
# Each business through its own mailbox (`audiences` in Benchmarks/data/realistic-mailboxes.toml: the entries
# written for a shop, an IT service desk or a software vendor), then one mailbox answering for all three.
for mode in mailboxes one; do
  for split in tune measure; do
    echo "-- $split split (tune: looked at while writing the knowledge base; measure: only measured)"
    opts=()
    [ "$mode" = mailboxes ] && opts=(--mailboxes "$(dirname "$0")/data/realistic-mailboxes.toml")
    python3 "$(dirname "$0")/answers.py" "$M" "$SHARED" "$OUT" --split "$split" "${opts[@]}" -- \
      --knowledge-base knowledge-base --rules config/rules.toml --model "$OUT/model"
  done
done
