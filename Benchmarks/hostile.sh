#!/usr/bin/env bash
# Hostile input (issue 15): each message of Benchmarks/hostile.py decided by `mailtriage classify` (parse,
# request text, both models, rules), with its time and peak RSS. The baseline is the same command on a
# message that is only a header (the process: model and knowledge base loaded).
# Usage: Benchmarks/hostile.sh BIN_DIR
set -euo pipefail
BIN=$1
OUT=${OUT:-/tmp/mailtriage-hostile-$(id -u)}
rm -rf "$OUT"; mkdir -p "$OUT"
python3 "$(dirname "$0")/hostile.py" "$OUT"
"$BIN/mailtriage" train --knowledge-base knowledge-base --rules config/rules.toml --model "$OUT/model" > /dev/null
for f in "$OUT"/*.eml; do
  /usr/bin/time -f "%e s %M" -o "$OUT/time" "$BIN/mailtriage" classify --knowledge-base knowledge-base --rules config/rules.toml \
    --model "$OUT/model" "$f" --json > "$OUT/out.json"
  read -r secs _ kib < "$OUT/time"
  degree=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["degree"])' "$OUT/out.json")
  printf '%-22s %10d bytes  %6s s  peak RSS %6.1f MiB  %s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$secs" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$degree"
done
