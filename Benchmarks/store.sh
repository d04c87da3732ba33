#!/usr/bin/env bash
# The store at scale (issue 15): a SQLite store of STORE_TICKETS (1,000,000) tickets over two years written by
# `mailtriage-bench store-gen` (the store's migrations; the real processor deciding the first and the last
# STORE_DECIDED / 2 tickets, the time between filled with copies of the first window), then
# `queue list` (default view and one filtered by category), `queue show` (a ticket with history), `stats` and
# `stats --json` with the release binary, RUNS times each (median and p95 of the wall time, process start
# included), beside the sqlite3 CLI running the same queries on the same file (the lower bound for the query);
# the database size; and the daemon's memory with this store (serve against an empty mailbox on the local
# Dovecot, VmRSS/VmHWM after its first poll and metrics pass).
# Usage: Benchmarks/store.sh SERVER_DIR RELEASE_BIN_DIR   (run through `make bench-store`; IMAPS_PORT as started)
# The generated store is kept in STORE_DIR and made again only when the generator or the ticket count changes.
set -euo pipefail
D=$1; BIN=$2; HERE=$(dirname "$(realpath "$0")"); REPO=$(dirname "$HERE")
# shellcheck source=Benchmarks/lib.sh
. "$HERE/lib.sh"
N=${STORE_TICKETS:-1000000}; DECIDED=${STORE_DECIDED:-10000}; RUNS=${RUNS:-21}; PORT=${IMAPS_PORT:-13993}
OUT=${STORE_DIR:-/tmp/mailtriage-store-$(id -u)}
mkdir -p "$OUT"; chmod 755 "$OUT"
DB=$OUT/store-$N.sqlite
W=$(mktemp -d); chmod 755 "$W"
DAEMON=
cleanup() { [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

# --- The store -------------------------------------------------------------------------------------------
stamp=$(cat "$REPO/Sources/mailtriage-bench/StoreGen.swift" "$HERE/make_mbox.py" | sha256sum | cut -c1-16)-$N-$DECIDED
if [ ! -f "$DB" ] || [ "$(cat "$DB.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.lock" "$DB.stamp"
  G=$OUT/gen; rm -rf "$G"; mkdir -p "$G"
  python3 "$HERE/make_mbox.py" "$G/templates.mbox" 20000 --seed 15
  printf 'unused\n' > "$G/pw"; chmod 600 "$G/pw"
  {
    echo "state_dir = \"$G/state\""
    echo "knowledge_base = \"$REPO/knowledge-base\""
    echo "service_levels = \"$REPO/config/service-levels.toml\""
    printf '[classifier]\nrules_file = "%s"\n' "$REPO/config/rules.toml"
    printf '[smtp]\nurl = "smtp://127.0.0.1:9"\n'
    printf '[answers]\nmessage_id_domain = "support.example.com"\n'
    echo 'placeholders = { company = "Example GmbH", shop_url = "https://shop.example.com", password_reset_url = "https://shop.example.com/password", support_hours = "Monday to Friday, 8:00 to 18:00" }'
    for mb in support sales service; do
      printf '[[mailbox]]\nname = "%s"\nurl = "imaps://127.0.0.1:9/INBOX"\nusername = "%s"\npassword_file = "%s"\naddress = "%s@example.com"\ndisplay_name = "Example %s"\n' \
        "$mb" "$mb" "$G/pw" "$mb" "$mb"
    done
  } > "$G/mailtriage.toml"
  echo "generating $N tickets into $DB, $DECIDED of them decided by the processor (once; kept for the next run)"
  /usr/bin/time -f "  store-gen: %e s, peak RSS %M KiB" "$BIN/mailtriage-bench" store-gen --config "$G/mailtriage.toml" \
    --mbox "$G/templates.mbox" --database "$DB" --tickets "$N" --decided "$DECIDED"
  echo "$stamp" > "$DB.stamp"
fi
# The schema is the store's: every migration this build knows is applied (a command opening the store applies
# new ones), and the tables are the ones the migrations made.
"$BIN/mailtriage" queue list --database "$DB" --limit 1 > /dev/null
sqlite3 "$DB" "SELECT count(*) FROM grdb_migrations" | grep -qx "$(grep -c 'registerMigration("' "$REPO/Sources/TriageStore/Migrations.swift")" ||
  { echo "the store's schema is not the one of Sources/TriageStore/Migrations.swift" >&2; exit 1; }
bytes=$(( $(stat -c %s "$DB") + $( [ -f "$DB-wal" ] && stat -c %s "$DB-wal" || echo 0) ))
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
echo "# $(sqlite3 "$DB" "SELECT (SELECT count(*) FROM ticket) || ' tickets, ' || (SELECT count(*) FROM message) || ' messages, ' ||
  (SELECT count(*) FROM event) || ' events, ' || (SELECT count(*) FROM outbox) || ' outbox rows, ' || (SELECT count(*) FROM draft) || ' drafts'"); $mib MiB; $(nproc) cores; $(date -u +%F)"
sqlite3 "$DB" "SELECT '  states: ' || group_concat(state || ' ' || n, ', ') FROM (SELECT state, count(*) AS n FROM ticket GROUP BY state ORDER BY n DESC)"
result "store: database size, $N tickets" "$mib MiB" "" "" "" ""

# --- The queries -----------------------------------------------------------------------------------------
SHOW=$(sqlite3 "$DB" "SELECT ticket_id FROM event WHERE ticket_id IN (SELECT ticket_id FROM ticket_message ORDER BY rowid DESC LIMIT 2000)
  GROUP BY ticket_id ORDER BY count(*) DESC, ticket_id DESC LIMIT 1")
CATEGORY=$(sqlite3 "$DB" "SELECT category FROM ticket WHERE state IN ('open','claimed','awaiting_approval') AND category IS NOT NULL
  GROUP BY category ORDER BY count(*) DESC LIMIT 1 OFFSET 1")
LIMIT=$(grep -o 'defaultLimit = [0-9]*' "$REPO/Sources/mailtriage/Commands/Queue.swift" | grep -o '[0-9]*$' || echo -1)
echo "# queue show $SHOW ($(sqlite3 "$DB" "SELECT count(*) FROM event WHERE ticket_id = $SHOW") events); filtered list: --category $CATEGORY"
AWAIT="'open','claimed','awaiting_approval','waiting'"
LIST_SQL="SELECT ticket.*, (SELECT state FROM outbox o WHERE o.ticket_id = ticket.id ORDER BY o.id DESC LIMIT 1) AS answer_state,
  (SELECT last_error FROM outbox o WHERE o.ticket_id = ticket.id ORDER BY o.id DESC LIMIT 1) AS answer_error FROM ticket
  WHERE state IN ($AWAIT) %s
  ORDER BY CASE WHEN state = 'awaiting_approval' THEN 0 ELSE 1 END, first_response_due IS NULL, first_response_due,
  CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 2 END, received_at, ticket.id LIMIT $LIMIT;"
# shellcheck disable=SC2059
printf "$LIST_SQL" "" > "$W/list.sql"
# shellcheck disable=SC2059
printf "$LIST_SQL" "AND category IN ('$CATEGORY')" > "$W/list-filtered.sql"
cat > "$W/show.sql" <<SQL
SELECT ticket.*, (SELECT state FROM outbox o WHERE o.ticket_id = ticket.id ORDER BY o.id DESC LIMIT 1) AS answer_state,
  (SELECT last_error FROM outbox o WHERE o.ticket_id = ticket.id ORDER BY o.id DESC LIMIT 1) AS answer_error FROM ticket WHERE ticket.id IN ($SHOW);
SELECT assignee, decision, message_row FROM ticket WHERE id = $SHOW;
SELECT m.id, m.received_at, r.raw, 0 FROM message m JOIN message_raw r ON r.message_row = m.id WHERE m.id = (SELECT message_row FROM ticket WHERE id = $SHOW)
UNION ALL SELECT m.id, m.received_at, r.raw, tm.informational FROM ticket_message tm JOIN message m ON m.id = tm.message_row
  JOIN message_raw r ON r.message_row = m.id WHERE tm.ticket_id = $SHOW ORDER BY 2, 1;
SELECT created_at, state, recipient, kb_entry, raw, last_error FROM outbox WHERE ticket_id = $SHOW ORDER BY id;
SELECT kb_entry, body, state, agent, reason FROM draft WHERE ticket_id = $SHOW ORDER BY id;
SELECT at, kind, actor, detail FROM event WHERE ticket_id = $SHOW ORDER BY id;
SQL
# What `stats` reads (SQLiteTicketStore.statsRows): the same statements, every row fetched.
cat > "$W/stats.sql" <<'SQL'
SELECT DISTINCT ticket_id FROM event WHERE kind = 'answer.queued' AND ticket_id IS NOT NULL;
SELECT DISTINCT ticket_id FROM event WHERE kind = 'answer.shadowed' AND ticket_id IS NOT NULL;
SELECT DISTINCT r.ticket_id FROM event r JOIN event q ON q.ticket_id = r.ticket_id AND q.kind = 'answer.queued'
  WHERE r.kind = 'ticket.reply_received' AND r.at >= q.at AND r.at <= q.at + 7 * 86400;
SELECT ticket_id, state, reason, kb_entry FROM draft ORDER BY id;
SELECT ticket_id, raw FROM outbox WHERE state = 'shadow' ORDER BY id;
SELECT o.ticket_id, o.raw FROM outbox o WHERE o.message_id IN
  (SELECT json_extract(detail, '$.message_id') FROM event WHERE kind IN ('agent.replied', 'draft.approved')) ORDER BY o.id;
SELECT id, received_at, category, sla_group, language, answer_entry, first_responded_at, first_response_due,
  CASE WHEN instr(decision, '{"loopGuard":{') > 0 OR id IN (SELECT ticket_id FROM outbox WHERE state = 'shadow') THEN decision END
  FROM ticket ORDER BY id;
SQL

declare -A OURS=(
  [list]="queue list --database $DB"
  [list-filtered]="queue list --database $DB --category $CATEGORY"
  [show]="queue show --database $DB $SHOW"
  [stats]="stats --database $DB"
  [stats-json]="stats --json --database $DB"
)
declare -A PEER=([list]=list [list-filtered]=list-filtered [show]=show [stats]=stats [stats-json]=stats)
declare -A WHAT=(
  [list]="queue list (default view)" [list-filtered]="queue list --category" [show]="queue show (ticket with history)"
  [stats]="stats" [stats-json]="stats --json"
)
declare -A TARGET=([list]=100 [list-filtered]=100 [show]=100)
printf '%-36s %12s %12s %12s %12s %8s %16s\n' "$N tickets, $RUNS runs" "ours median" "ours p95" "sqlite3 med" "sqlite3 p95" "ratio" "CPU ours/sqlite3"
# The floor: starting the program (the Swift runtime, Foundation, ICU) beside starting sqlite3.
OURS[start]="--help"; WHAT[start]="start-up (mailtriage --help)"; echo "SELECT 1;" > "$W/start.sql"; PEER[start]=start
for k in start list list-filtered show stats stats-json; do
  rm -f "$W/ours" "$W/peer"
  # shellcheck disable=SC2086  # the command line is meant to be split
  "$BIN/mailtriage" ${OURS[$k]} > "$W/$k.out"   # warm-up (page cache), and the output to look at
  sqlite3 "$DB" < "$W/${PEER[$k]}.sql" > /dev/null
  runs=$RUNS; case $k in stats*) runs=$(( RUNS < 3 ? RUNS : 3 ));; esac
  for _ in $(seq "$runs"); do
    # shellcheck disable=SC2086
    time_ms "$W/ours" "$BIN/mailtriage" ${OURS[$k]}
    time_ms "$W/peer" sqlite3 "$DB" < "$W/${PEER[$k]}.sql"
  done
  read -r om op < <(ms_stats "$W/ours"); read -r pm pp < <(ms_stats "$W/peer")
  read -r oc _ < <(ms_stats "$W/ours" 2); read -r pc _ < <(ms_stats "$W/peer" 2)
  r=$(ratio "$om" "$pm")
  printf '%-36s %9s ms %9s ms %9s ms %9s ms %7sx %7s/%s ms\n' "${WHAT[$k]}" "$om" "$op" "$pm" "$pp" "$r" "$oc" "$pc"
  if [ -n "${TARGET[$k]:-}" ]; then
    result "store: ${WHAT[$k]}, $N tickets (median/p95 wall; CPU)" "$om/$op ms; CPU $oc ms" "sqlite3 $pm ms; CPU $pc ms" "$r" "< ${TARGET[$k]} ms" "$(below "$op" "${TARGET[$k]}")"
  else
    result "store: ${WHAT[$k]}, $N tickets (median wall; CPU)" "$om ms; CPU $oc ms" "sqlite3 $pm ms; CPU $pc ms" "$r" "" ""
  fi
done
echo "  (queue list: $(grep -cE '^[0-9]+  ' "$W/list.out") tickets shown, $(grep -o '[0-9]* of [0-9]* tickets' "$W/list.out" || echo all);" \
  "with --category: $(grep -cE '^[0-9]+  ' "$W/list-filtered.out"), $(grep -o '[0-9]* of [0-9]* tickets' "$W/list-filtered.out" || echo all))"

# --- The daemon with this store ---------------------------------------------------------------------------
printf 'test\n' > "$W/pw"; chmod 644 "$W/pw"
cat > "$W/serve.toml" <<EOF
state_dir = "$W/state"
database = "$DB"
poll_interval = "30s"
knowledge_base = "$REPO/knowledge-base"
service_levels = "$REPO/config/service-levels.toml"
[classifier]
rules_file = "$REPO/config/rules.toml"
[[mailbox]]
name = "support"
url = "imaps://127.0.0.1:$PORT/INBOX"
username = "store-bench-$$"
password_file = "$W/pw"
ca_file = "$D/tls/ca.pem"
address = "support@example.com"
EOF
# The model, trained from the knowledge base once and kept beside the store (the daemon saves it on its first start).
if [ ! -f "$OUT/classifier.model" ]; then
  grep -v '^database = ' "$W/serve.toml" | sed "s#^state_dir = .*#state_dir = \"$W/train\"#" > "$W/train.toml"
  "$BIN/mailtriage" train --config "$W/train.toml" --model "$OUT/classifier.model" > /dev/null
fi
mkdir -p "$W/state"; cp "$OUT/classifier.model" "$W/state/classifier.model"
"$BIN/mailtriage" serve --config "$W/serve.toml" --log-level notice > "$W/serve.log" 2>&1 &
DAEMON=$!
for _ in $(seq 600); do
  [ -f "$W/state/mailtriage.prom" ] && sqlite3 "$DB" "SELECT 1 FROM mailbox_cursor WHERE mailbox = 'support'" 2>/dev/null | grep -q 1 && break
  kill -0 "$DAEMON" 2>/dev/null || { cat "$W/serve.log"; exit 1; }
  sleep 0.5
done
sleep 2
rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$DAEMON/status"); hwm=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$DAEMON/status")
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$DAEMON/stat")
kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; DAEMON=
echo "daemon with this store, after its first poll and metrics file: VmRSS $rss MiB, VmHWM $hwm MiB, CPU $cpu s since start"
result "store: daemon RSS after the first poll, $N tickets (VmRSS/VmHWM)" "$rss/$hwm MiB" "" "" "" ""
