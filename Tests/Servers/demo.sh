#!/usr/bin/env bash
# `make demo`: a throwaway Dovecot and SMTP receiver on 127.0.0.1, the first poll as a baseline, then six
# mails arriving: what mailtriage answers, drafts, acknowledges and queues, and how the team is doing.
# Usage: demo.sh DEMO_DIR BIN_DIR
set -euo pipefail
DEMO=$1; BIN=$2/mailtriage
cd "$(dirname "$0")/../.."
export IMAP_PORT=11143 IMAPS_PORT=11993 SMTP_PORT=11025
SERVERS=Tests/Servers/mailservers.sh
"$SERVERS" stop "$DEMO/servers" >/dev/null 2>&1 || true
rm -rf "$DEMO"; mkdir -p "$DEMO"; chmod 755 "$DEMO"
trap '"$SERVERS" stop "$DEMO/servers" >/dev/null 2>&1' EXIT
"$SERVERS" start "$DEMO/servers" >/dev/null
printf 'demopw\n' > "$DEMO/demo.password"; chmod 600 "$DEMO/demo.password"
sed -e "s#@DEMO@#$DEMO#g" -e "s#@REPO@#$PWD#g" Tests/Servers/demo.toml.tmpl > "$DEMO/mailtriage.toml"
CONF=(--config "$DEMO/mailtriage.toml")
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "check-config"
"$BIN" check-config "${CONF[@]}"
step "1. the first poll takes a baseline: mail already in the folder is never answered automatically"
"$BIN" serve --once "${CONF[@]}" --log-level error
step "2. six mails arrive; one poll decides, answers, drafts and acknowledges"
/usr/bin/python3 Tests/Servers/deliver.py "$DEMO/servers" demo Tests/Servers/demo-mail/*.eml >/dev/null
"$BIN" serve --once "${CONF[@]}" --log-level error
step "3. what the SMTP receiver got"
/usr/bin/python3 - "$DEMO/servers/smtp/captured/new" <<'PY'
import email, email.policy, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d), key=lambda f: os.path.getmtime(os.path.join(d, f))):
    m = email.message_from_bytes(open(os.path.join(d, f), "rb").read(), policy=email.policy.default)
    body = m.get_body(preferencelist=("plain",)).get_content().strip().splitlines()
    print("-- to %s: %s" % (m["X-RcptTo"], m["Subject"]))
    for line in [l for l in body if l.strip()][:4]:
        print("   " + line)
PY
step "4. the queue, by due time (drafts waiting for approval first)"
"$BIN" queue list "${CONF[@]}"
DRAFT=$("$BIN" queue list --json "${CONF[@]}" | /usr/bin/python3 -c 'import json,sys; t=[x["id"] for x in json.load(sys.stdin) if x["state"]=="awaiting_approval"]; print(t[0] if t else "")')
if [ -n "$DRAFT" ]; then
  step "5. a draft waiting for approval: mailtriage queue show $DRAFT"
  "$BIN" queue show "$DRAFT" "${CONF[@]}"
  step "6. an agent approves it: mailtriage queue approve $DRAFT --as anna"
  "$BIN" queue approve "$DRAFT" "${CONF[@]}" --as anna
  "$BIN" serve --once "${CONF[@]}" --log-level error | grep outbox
fi
step "7. how the team is doing: mailtriage stats"
"$BIN" stats "${CONF[@]}"
