#!/usr/bin/env bash
# Parse throughput: mailtriage's MIME parser and Python's email package on the same corpus, same run.
# Usage: Benchmarks/parse.sh BIN_DIR [CORPUS_DIR]
set -euo pipefail
BIN=$1
CORPUS=${2:-../shared/datasets/mime}
ROUNDS=${ROUNDS:-5}
echo "corpus: $CORPUS ($(find "$CORPUS" -type f | wc -l) files, $(du -sh "$CORPUS" | cut -f1))"
for i in 1 2 3; do
  echo "run $i"
  /usr/bin/time -f "  peak RSS %M KiB" "$BIN/mailtriage-bench" parse --rounds "$ROUNDS" "$CORPUS"
  /usr/bin/time -f "  peak RSS %M KiB" python3 "$(dirname "$0")/email_parse.py" --rounds "$ROUNDS" "$CORPUS"
done
