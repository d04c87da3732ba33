#!/usr/bin/env bash
# Ingest throughput: a backlog of BENCH_MESSAGES (default 50,000) messages of about 5 KB in one folder of the local
# Dovecot, taken end to end by four clients in turn, BENCH_ROUNDS rounds (default 3), in the same run:
#   mailtriage        mailtriage-bench ingest: fetch, record (SQLite), flag \Seen, decide every message into a ticket
#   mailtriage (one transfer per message)  the same with `pipelining = false` (only with BENCH_BOTH_PATHS=1)
#   imaplib           Benchmarks/imaplib_fetch.py: one UID FETCH per message over one connection, into SQLite
#   mbsync            isync's mbsync pulling the folder into a Maildir (its defaults: pipelined, fsync per message)
#   pipelined limit   Benchmarks/imap_pipelined.py: one UID FETCH 1:* BODY.PEEK[], bytes read and dropped
# Usage: Benchmarks/ingest.sh SERVER_DIR RELEASE_BIN_DIR   (run through `make bench-ingest`; BENCH_MESSAGES=2000 for
# a quick run)
set -euo pipefail
D=$1; BIN=$2; HERE=$(dirname "$(realpath "$0")")
N=${BENCH_MESSAGES:-50000}; ROUNDS=${BENCH_ROUNDS:-3}; PORT=${IMAPS_PORT:-12993}
USER=bench; PASS=benchpw
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
printf '%s' "$PASS" > "$W/pw"; chmod 600 "$W/pw"
have=$( (find "$D/mail/$USER/Maildir/new" "$D/mail/$USER/Maildir/cur" -type f 2>/dev/null || true) | wc -l)
if [ "$have" -lt "$N" ]; then
  /usr/bin/python3 "$HERE/../Tests/Servers/deliver.py" "$D" "$USER" --generate "$((N - have))" --start "$have" --size 5000 >/dev/null
fi
CURL=(curl -sS --cacert "$D/tls/ca.pem" --user "$USER:$PASS")
reset() { "${CURL[@]}" "imaps://127.0.0.1:$PORT/INBOX" -X 'UID STORE 1:* -FLAGS.SILENT (\Seen)' >/dev/null; }
# Dovecot indexes a new Maildir on first access, and the first read brings the files into the page cache: that
# happens here, in one untimed pass, not in the first client's time.
python3 "$HERE/imap_pipelined.py" --port "$PORT" --user "$USER" --password "$PASS" --ca-file "$D/tls/ca.pem" >/dev/null
cat > "$W/mbsyncrc" <<EOF
IMAPAccount bench
Host localhost
Port $PORT
User $USER
Pass $PASS
SSLType IMAPS
CertificateFile $D/tls/ca.pem

IMAPStore remote
Account bench

MaildirStore local
Path $W/mbsync/
Inbox $W/mbsync/INBOX

Channel bench
Far :remote:INBOX
Near :local:INBOX
Sync Pull
Create Near
SyncState *
EOF
rate() { awk -v n="$N" -v s="$1" 'BEGIN { printf "%.0f msg/s", n / s }'; }
echo "# $N messages of ~5 KB, imaps://127.0.0.1:$PORT, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%F %H:%M')"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round"
  reset
  /usr/bin/time -f "  peak RSS %M KiB" "$BIN/mailtriage-bench" ingest --url "imaps://127.0.0.1:$PORT/INBOX" --user "$USER" \
    --password-file "$W/pw" --ca-file "$D/tls/ca.pem" --database "$W/bench.sqlite" 2>&1
  if [ "${BENCH_BOTH_PATHS:-0}" = 1 ]; then
    reset
    /usr/bin/time -f "  peak RSS %M KiB" "$BIN/mailtriage-bench" ingest --no-pipelining --url "imaps://127.0.0.1:$PORT/INBOX" \
      --user "$USER" --password-file "$W/pw" --ca-file "$D/tls/ca.pem" --database "$W/bench.sqlite" 2>&1
  fi
  rm -rf "$W/mbsync"; mkdir -p "$W/mbsync"
  start=$(date +%s.%N)
  /usr/bin/time -f "  peak RSS %M KiB" mbsync -q -c "$W/mbsyncrc" bench 2>&1
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  got=$(find "$W/mbsync/INBOX/new" "$W/mbsync/INBOX/cur" -type f | wc -l)
  echo "mbsync: $got messages in the Maildir, $secs s, $(rate "$secs")"
  /usr/bin/time -f "  peak RSS %M KiB" python3 "$HERE/imap_pipelined.py" --port "$PORT" --user "$USER" --password "$PASS" \
    --ca-file "$D/tls/ca.pem" 2>&1
  reset
  /usr/bin/time -f "  peak RSS %M KiB" python3 "$HERE/imaplib_fetch.py" --port "$PORT" --user "$USER" --password "$PASS" \
    --ca-file "$D/tls/ca.pem" --database "$W/py.sqlite" 2>&1
done
