#!/usr/bin/env bash
# Parse throughput: mailtriage's MIME parser, GMime 3 (C, Benchmarks/gmime_parse.c) and Python's email package
# on the same corpus, same run, alternating.
# Usage: Benchmarks/parse.sh BIN_DIR [CORPUS_DIR]   (GMime: libgmime-3.0-dev, see Tests/Servers/install-deps.sh)
set -euo pipefail
BIN=$1
CORPUS=${2:-../shared/datasets/mime}
ROUNDS=${ROUNDS:-5}
HERE=$(dirname "$0")
if ! pkg-config --exists gmime-3.0; then
  echo "GMime 3 not found (pkg-config gmime-3.0): WITH_BENCH=1 Tests/Servers/install-deps.sh installs libgmime-3.0-dev" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck disable=SC2046  # pkg-config's flags are meant to be split
cc -O2 -o "$TMP/gmime_parse" "$HERE/gmime_parse.c" $(pkg-config --cflags --libs gmime-3.0)
echo "corpus: $CORPUS ($(find "$CORPUS" -type f | wc -l) files, $(du -sh "$CORPUS" | cut -f1))"
for i in 1 2 3; do
  echo "run $i"
  /usr/bin/time -f "  peak RSS %M KiB" "$BIN/mailtriage-bench" parse --rounds "$ROUNDS" "$CORPUS"
  /usr/bin/time -f "  peak RSS %M KiB" "$TMP/gmime_parse" --rounds "$ROUNDS" "$CORPUS"
  /usr/bin/time -f "  peak RSS %M KiB" python3 "$HERE/email_parse.py" --rounds "$ROUNDS" "$CORPUS"
done
