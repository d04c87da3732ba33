#!/usr/bin/env python3
"""The idle peer of Benchmarks/idle.sh: polls mailboxes as the daemon does (every --interval seconds, per mailbox:
TLS connection, LOGIN, SELECT INBOX, UID SEARCH for UIDs above the last one seen, LOGOUT) for --seconds.

Usage: imaplib_idle.py --port P --ca-file CA --users U1,U2,... --password PW --interval 30 --seconds 600
"""
import argparse, imaplib, ssl, time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True); ap.add_argument("--ca-file", required=True)
ap.add_argument("--users", required=True); ap.add_argument("--password", required=True)
ap.add_argument("--interval", type=float, default=30); ap.add_argument("--seconds", type=float, default=600)
a = ap.parse_args()
ctx = ssl.create_default_context(cafile=a.ca_file)
last = {u: 0 for u in a.users.split(",")}
end = time.monotonic() + a.seconds
while True:
    start = time.monotonic()
    for u in last:
        c = imaplib.IMAP4_SSL("127.0.0.1", a.port, ssl_context=ctx)
        c.login(u, a.password)
        c.select("INBOX", readonly=True)
        _, data = c.uid("SEARCH", "UID %d:*" % (last[u] + 1))
        uids = [int(x) for x in data[0].split()]
        if uids:
            last[u] = max(last[u], max(uids))
        c.logout()
    left = end - time.monotonic()
    if left <= 0:
        break
    time.sleep(min(left, max(0.0, a.interval - (time.monotonic() - start))))
