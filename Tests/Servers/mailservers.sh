#!/usr/bin/env bash
# Starts or stops the throwaway mail servers for tests and the demo, on 127.0.0.1 only:
#   Dovecot IMAP (plain+STARTTLS on $IMAP_PORT, implicit TLS on $IMAPS_PORT) and an aiosmtpd receiver
#   on $SMTP_PORT that stores what it receives as a Maildir in DIR/smtp/captured.
# OAuth2 (see oauth-README.md): a token server on https://127.0.0.1:$OAUTH_PORT (clients in DIR/oauth/clients.json),
#   which Dovecot asks about XOAUTH2/OAUTHBEARER logins, and an SMTP receiver on $SMTP_OAUTH_PORT that takes
#   AUTH XOAUTH2 only (after STARTTLS) and stores into DIR/smtp-oauth/captured.
# Usage: mailservers.sh start|stop DIR
#        mailservers.sh dovecot-start|dovecot-stop DIR: only Dovecot (IMAP_PORT, IMAPS_PORT), e.g. a private second
#        instance on other ports under another DIR that a test stops and starts again without disturbing the others
# The TLS certificate is issued by a throwaway CA: DIR/tls/ca.pem is what clients must trust.
set -euo pipefail
cmd=${1:?usage: mailservers.sh start|stop|dovecot-start|dovecot-stop DIR}
D=$(realpath -m "${2:?usage: mailservers.sh start|stop|dovecot-start|dovecot-stop DIR}")
HERE=$(dirname "$(realpath "$0")")
IMAP_PORT=${IMAP_PORT:-10143}; IMAPS_PORT=${IMAPS_PORT:-10993}; SMTP_PORT=${SMTP_PORT:-10025}
# Derived from the ports above unless set (10443 and 10026 by default), so that a run that moves only those
# (the demo, the benchmark) does not collide with another on the OAuth2 ports either.
OAUTH_PORT=${OAUTH_PORT:-$((IMAP_PORT + 300))}; SMTP_OAUTH_PORT=${SMTP_OAUTH_PORT:-$((SMTP_PORT + 1))}
if [ "$(id -u)" = 0 ]; then RUNU=nobody; RUNG=nogroup; AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
else RUNU=$(id -un); RUNG=$(id -gn); AS=(); fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 500); do port_open "$1" && return 0; sleep 0.02; done; echo "port $1 did not open" >&2; return 1; }
wait_closed() { for _ in $(seq 1 500); do port_open "$1" || return 0; sleep 0.02; done; return 0; }

make_tls() {
  mkdir -p "$D/tls"
  [ -f "$D/tls/server.pem" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mailtriage test CA" \
    -keyout "$D/tls/ca.key" -out "$D/tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$D/tls/server.key" -out "$D/tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$D/tls/ext.cnf"
  openssl x509 -req -in "$D/tls/server.csr" -CA "$D/tls/ca.pem" -CAkey "$D/tls/ca.key" -CAcreateserial -days 3650 \
    -extfile "$D/tls/ext.cnf" -out "$D/tls/server.pem" 2>/dev/null
}

# Dovecot's oauth2 passdb settings: introspect every token by POST (token=...), verifying the server with our CA.
write_oauth2_conf() {
  cat > "$D/dovecot-oauth2.conf.ext" <<EOF
introspection_mode = post
introspection_url = https://127.0.0.1:$OAUTH_PORT/introspect
# Sent along in the POST body; the test token server does not check them.
client_id = dovecot
client_secret = dovecot-introspection
username_attribute = username
active_attribute = active
active_value = true
tls_ca_cert_file = $D/tls/ca.pem
timeout_msecs = 5000
EOF
}

# Who may get tokens. Tests may rewrite this file, or drop more files into DIR/oauth/clients.d/, at any time.
write_clients() {
  cat > "$D/oauth/clients.json" <<'EOF'
{
  "clients": {
    "mailtriage-test": {"secret": "mailtriage-test-secret", "user": "alice", "revoked": false}
  },
  "refresh_tokens": {
    "alice-refresh-1": {"client": "mailtriage-test", "user": "alice"}
  },
  "lifetime": 3600,
  "rotate_refresh_tokens": true
}
EOF
}

# Dovecot alone, with its configuration, users and certificate under DIR.
start_dovecot() {
  rm -rf "$D/run"   # a stale anvil socket stalls the first login
  mkdir -p "$D"/{run,state,mail}
  make_tls
  write_oauth2_conf
  sed -e "s#@D@#$D#g" -e "s#@U@#$RUNU#g" -e "s#@G@#$RUNG#g" -e "s#@IMAP_PORT@#$IMAP_PORT#" -e "s#@IMAPS_PORT@#$IMAPS_PORT#" \
    "$HERE/dovecot.conf.tmpl" > "$D/dovecot.conf"
  printf 'alice:{PLAIN}alicepw\nbench:{PLAIN}benchpw\ndemo:{PLAIN}demopw\n' > "$D/users"
  chmod 755 "$D"
  if [ "$(id -u)" = 0 ]; then chown -R "$RUNU:$RUNG" "$D"; fi
  "${AS[@]}" /usr/sbin/dovecot -c "$D/dovecot.conf"
}

# Like `systemctl stop`: the master and every process it started. The master alone would leave the imap and
# imap-login processes of open connections serving them.
stop_dovecot() {
  if [ -f "$D/dovecot.conf" ] && [ -f "$D/run/master.pid" ]; then
    local pid; pid=$(cat "$D/run/master.pid")
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true   # its process group (the master calls setsid)
  fi
}

case $cmd in
start)
  for p in "$IMAP_PORT" "$IMAPS_PORT" "$SMTP_PORT" "$OAUTH_PORT" "$SMTP_OAUTH_PORT"; do
    if port_open "$p"; then echo "port $p on 127.0.0.1 is already in use" >&2; exit 1; fi
  done
  mkdir -p "$D"/{smtp,smtp-oauth,oauth/clients.d}
  write_clients
  start_dovecot
  "${AS[@]}" /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
      --tlscert "$D/tls/server.pem" --tlskey "$D/tls/server.key" \
      -c aiosmtpd.handlers.Mailbox "$D/smtp/captured" > "$D/smtp/aiosmtpd.log" 2>&1 &
  echo $! > "$D/smtp/aiosmtpd.pid"
  # The servers run as an unprivileged user, who may not be able to read a checkout (under a 0700 directory):
  # they run from copies in DIR.
  mkdir -p "$D/bin" && cp "$HERE/oauth_server.py" "$HERE/smtp_oauth.py" "$D/bin/" && chmod 755 "$D/bin" && chmod 644 "$D/bin/"*.py
  if [ "$(id -u)" = 0 ]; then chown -R "$RUNU:$RUNG" "$D/bin"; fi
  "${AS[@]}" /usr/bin/python3 "$D/bin/oauth_server.py" "$D" --port "$OAUTH_PORT" > "$D/oauth/oauth-server.log" 2>&1 &
  echo $! > "$D/oauth-server.pid"
  "${AS[@]}" /usr/bin/python3 "$D/bin/smtp_oauth.py" "$D" --port "$SMTP_OAUTH_PORT" \
      --introspect "https://127.0.0.1:$OAUTH_PORT/introspect" --idle-timeout 3 > "$D/oauth/smtp-oauth.log" 2>&1 &
  echo $! > "$D/smtp-oauth.pid"
  wait_port "$IMAP_PORT"; wait_port "$IMAPS_PORT"; wait_port "$SMTP_PORT"; wait_port "$OAUTH_PORT"; wait_port "$SMTP_OAUTH_PORT"
  echo "mail servers up in $D: imap://127.0.0.1:$IMAP_PORT (STARTTLS), imaps://127.0.0.1:$IMAPS_PORT, smtp://127.0.0.1:$SMTP_PORT," \
    "smtp://127.0.0.1:$SMTP_OAUTH_PORT (STARTTLS, AUTH XOAUTH2), OAuth2 token server https://127.0.0.1:$OAUTH_PORT"
  ;;
stop)
  stop_dovecot
  for f in "$D/smtp/aiosmtpd.pid" "$D/oauth-server.pid" "$D/smtp-oauth.pid"; do
    if [ -f "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; fi
  done
  wait_closed "$IMAP_PORT"; wait_closed "$IMAPS_PORT"; wait_closed "$SMTP_PORT"; wait_closed "$OAUTH_PORT"; wait_closed "$SMTP_OAUTH_PORT"
  ;;
dovecot-start)
  for p in "$IMAP_PORT" "$IMAPS_PORT"; do
    if port_open "$p"; then echo "port $p on 127.0.0.1 is already in use" >&2; exit 1; fi
  done
  start_dovecot
  wait_port "$IMAP_PORT"; wait_port "$IMAPS_PORT"
  echo "dovecot up in $D: imap://127.0.0.1:$IMAP_PORT (STARTTLS), imaps://127.0.0.1:$IMAPS_PORT"
  ;;
dovecot-stop)
  stop_dovecot
  wait_closed "$IMAP_PORT"; wait_closed "$IMAPS_PORT"
  ;;
*) echo "usage: mailservers.sh start|stop|dovecot-start|dovecot-stop DIR" >&2; exit 2 ;;
esac
