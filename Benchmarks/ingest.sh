#!/usr/bin/env bash
# Ingest throughput: 2,000 messages of about 5 KB in the local Dovecot, fetched and committed by
# mailtriage and by a Python imaplib loop, alternating, three rounds each, in the same run.
# Usage: Benchmarks/ingest.sh SERVER_DIR RELEASE_BIN_DIR   (run through `make bench`)
set -euo pipefail
D=$1; BIN=$2; HERE=$(dirname "$(realpath "$0")")
N=${BENCH_MESSAGES:-2000}; PORT=${IMAPS_PORT:-12993}
USER=bench; PASS=benchpw
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
printf '%s' "$PASS" > "$W/pw"; chmod 600 "$W/pw"
/usr/bin/python3 "$HERE/../Tests/Servers/deliver.py" "$D" "$USER" --generate "$N" --size 5000 >/dev/null
reset() { curl -sS --cacert "$D/tls/ca.pem" --user "$USER:$PASS" "imaps://127.0.0.1:$PORT/INBOX" -X 'UID STORE 1:* -FLAGS.SILENT (\Seen)' >/dev/null; }
echo "# $N messages of ~5 KB, imaps://127.0.0.1:$PORT, $(nproc) cores; $(date -u +%F)"
for round in 1 2 3; do
  reset
  /usr/bin/time -f "  peak RSS %M KiB" "$BIN/mailtriage-bench" ingest --url "imaps://127.0.0.1:$PORT/INBOX" --user "$USER" \
    --password-file "$W/pw" --ca-file "$D/tls/ca.pem" --database "$W/bench.sqlite" 2>&1
  reset
  /usr/bin/time -f "  peak RSS %M KiB" python3 "$HERE/imaplib_fetch.py" --port "$PORT" --user "$USER" --password "$PASS" \
    --ca-file "$D/tls/ca.pem" --database "$W/py.sqlite" 2>&1
done
