#!/usr/bin/env bash
# Installs what building, testing and the demo need, if it is missing (Debian/Ubuntu, as root or via sudo).
set -euo pipefail
# pkg-config finds libcurl for the CCurl target (libssl-dev: libcrypto for CCrypto, OAuth2 client assertions); g++ brings the C++ standard library headers TOMLKit's
# toml++ needs (libstdc++-12-dev on Debian 12): a clean Debian with only the Swift toolchain lacks both.
# python3-prometheus-client parses the metrics file in the tests; tmux gives them a real terminal; man-db and
# systemd (systemd-analyze) check the installed man page and unit; chromium (with a font) opens the page
# `analyze --html` writes, headless, for a screenshot. WITH_BENCH=1 (the make bench-* targets) adds curl, GNU time,
# libgmime-3.0-dev (GMime 3, the C peer Benchmarks/parse.sh builds), isync (mbsync, a peer of the ingest benchmark) and
# sqlite3 (the CLI, the peer of Benchmarks/store.sh).
NEED="pkg-config g++ libcurl4-openssl-dev libssl-dev libsqlite3-dev libstemmer-dev libpcre2-dev dovecot-imapd python3-aiosmtpd python3-prometheus-client tmux man-db systemd openssl ca-certificates chromium fonts-dejavu-core"
[ "${WITH_BENCH:-0}" = 1 ] && NEED="$NEED curl time libgmime-3.0-dev isync sqlite3"
missing=()
for p in $NEED; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo)
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A policy-rc.d that forbids starting services keeps the system-wide Dovecot from starting on 143/993.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
    trap '"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
