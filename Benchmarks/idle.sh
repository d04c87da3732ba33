#!/usr/bin/env bash
# The idle daemon (issue 15): the release daemon polling 10 mailboxes on the local Dovecot every 30 s (with the
# knowledge base, model, rules, service levels and an SMTP receiver, as deployed) for IDLE_SECONDS (600),
# beside a minimal Python imaplib loop polling the same mailboxes the same way, in the same window.
# CPU: utime+stime from /proc/PID/stat over the window, as a share of one core; memory: VmRSS sampled every
# 5 s (the largest and the last) and VmHWM at the end.
# Usage: Benchmarks/idle.sh SERVER_DIR RELEASE_BIN_DIR   (run through `make bench-idle`; IMAPS_PORT, SMTP_PORT as started)
set -euo pipefail
D=$1; BIN=$2; HERE=$(dirname "$(realpath "$0")"); REPO=$(dirname "$HERE")
# shellcheck source=Benchmarks/lib.sh
. "$HERE/lib.sh"
SECS=${IDLE_SECONDS:-600}; PORT=${IMAPS_PORT:-14993}; SMTP=${SMTP_PORT:-14025}; BOXES=${IDLE_MAILBOXES:-10}
W=$(mktemp -d); chmod 755 "$W"
DAEMON=; PEER=
cleanup() { for p in $DAEMON $PEER; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

users=()
printf 'test\n' > "$W/pw"; chmod 644 "$W/pw"
{
  echo "state_dir = \"$W/state\""
  echo 'poll_interval = "30s"'
  echo "knowledge_base = \"$REPO/knowledge-base\""
  echo "service_levels = \"$REPO/config/service-levels.toml\""
  printf '[classifier]\nrules_file = "%s"\n' "$REPO/config/rules.toml"
  printf '[smtp]\nurl = "smtp://localhost:%s"\nca_file = "%s"\n' "$SMTP" "$D/tls/ca.pem"
  printf '[answers]\nmessage_id_domain = "support.example.com"\n'
  echo 'placeholders = { company = "Example GmbH", shop_url = "https://shop.example.com", password_reset_url = "https://shop.example.com/password", support_hours = "Monday to Friday, 8:00 to 18:00" }'
  for i in $(seq "$BOXES"); do
    u="idle-$$-$i"; users+=("$u")
    printf '[[mailbox]]\nname = "box%s"\nurl = "imaps://127.0.0.1:%s/INBOX"\nusername = "%s"\npassword_file = "%s"\nca_file = "%s"\naddress = "box%s@example.com"\n' \
      "$i" "$PORT" "$u" "$W/pw" "$D/tls/ca.pem" "$i"
  done
} > "$W/mailtriage.toml"
# Each mailbox holds a few messages from before the start (the first poll takes them as its baseline).
for u in "${users[@]}"; do python3 "$REPO/Tests/Servers/deliver.py" "$D" "$u" --generate 5 > /dev/null; done
"$BIN/mailtriage" train --config "$W/mailtriage.toml" > /dev/null   # the model the daemon loads (saved by its first start otherwise)

"$BIN/mailtriage" serve --config "$W/mailtriage.toml" --log-level notice > "$W/serve.log" 2>&1 &
DAEMON=$!
python3 "$HERE/imaplib_idle.py" --port "$PORT" --ca-file "$D/tls/ca.pem" --users "$(IFS=,; echo "${users[*]}")" --password test \
  --interval 30 --seconds $((SECS + 120)) &
PEER=$!
# The window starts once every mailbox has been polled (a cursor each) and the start-up is over.
for _ in $(seq 240); do
  [ -f "$W/state/mailtriage.sqlite" ] && [ "$(sqlite3 "$W/state/mailtriage.sqlite" "SELECT count(*) FROM mailbox_cursor" 2>/dev/null || echo 0)" = "$BOXES" ] && break
  kill -0 "$DAEMON" 2>/dev/null || { cat "$W/serve.log"; exit 1; }
  sleep 0.5
done
sleep 10
echo "# $BOXES mailboxes, poll_interval 30 s, imaps://127.0.0.1:$PORT, ${SECS} s window; $(nproc) cores; $(date -u +%F)"
d0=$(ticks "$DAEMON"); p0=$(ticks "$PEER"); t0=$(date +%s%N)
dmax=0; pmax=0; drss=0; prss=0
end=$(( $(date +%s) + SECS ))
while [ "$(date +%s)" -lt "$end" ]; do
  kill -0 "$DAEMON" 2>/dev/null || { echo "the daemon stopped"; cat "$W/serve.log"; exit 1; }
  drss=$(kib "$DAEMON" VmRSS); prss=$(kib "$PEER" VmRSS)
  [ "$drss" -gt "$dmax" ] && dmax=$drss; [ "$prss" -gt "$pmax" ] && pmax=$prss
  sleep 5
done
d1=$(ticks "$DAEMON"); p1=$(ticks "$PEER"); t1=$(date +%s%N)
dhwm=$(kib "$DAEMON" VmHWM); threads=$(kib "$DAEMON" Threads); danon=$(kib "$DAEMON" RssAnon); dfile=$(kib "$DAEMON" RssFile)
# What the resident memory is: private memory (heap, stacks) and pages of mapped files (the program, shared libraries).
top=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { n = $6 } /^Rss:/ && n != "" { r[n] += $2 } END { for (k in r) print r[k], k }' "/proc/$DAEMON/smaps" |
  sort -rn | head -6 | awk '{ sub(".*/", "", $2); printf "%s%s %.1f", (NR > 1 ? ", " : ""), $2, $1 / 1024 }')
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')
dcpu=$(awk -v t=$((d1 - d0)) -v hz="$HZ" -v s="$secs" 'BEGIN { printf "%.3f", t / hz / s * 100 }')
pcpu=$(awk -v t=$((p1 - p0)) -v hz="$HZ" -v s="$secs" 'BEGIN { printf "%.3f", t / hz / s * 100 }')
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf '%-34s %10s %14s %14s %12s\n' "" "CPU (core)" "VmRSS max/last" "VmHWM" "CPU seconds"
printf '%-34s %9s%% %8s/%-5s %10s MiB %12s\n' "mailtriage serve ($threads threads)" "$dcpu" "$(mib "$dmax")" "$(mib "$drss")" "$(mib "$dhwm")" \
  "$(awk -v t=$((d1 - d0)) -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')"
printf '%-34s %9s%% %8s/%-5s %10s MiB %12s\n' "python3 imaplib loop" "$pcpu" "$(mib "$pmax")" "$(mib "$prss")" "$(mib "$(kib "$PEER" VmHWM)")" \
  "$(awk -v t=$((p1 - p0)) -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')"
echo "  serve's resident memory at the end: $(mib "$danon") MiB private (RssAnon), $(mib "$dfile") MiB of mapped files (RssFile): $top MiB"
polls=$(sqlite3 "$W/state/mailtriage.sqlite" "SELECT count(*) FROM event" 2>/dev/null || echo "?")
echo "  (events in the store: $polls; log lines: $(wc -l < "$W/serve.log"))"
result "idle: serve, $BOXES mailboxes every 30 s, ${SECS} s: CPU" "$dcpu% of a core" "imaplib $pcpu%" "$(ratio "$dcpu" "$pcpu")" "< 1%" "$(below "$dcpu" 1)"
result "idle: serve, $BOXES mailboxes every 30 s, ${SECS} s: RSS max (VmHWM)" "$(mib "$dmax") MiB ($(mib "$dhwm"))" "imaplib $(mib "$pmax") MiB" \
  "$(ratio "$dmax" "$pmax")" "< 40 MiB" "$(below "$(mib "$dmax")" 40)"
