#!/usr/bin/env python3
"""Peer for the ingest benchmark: Python's imaplib fetching every message of a folder, one
UID FETCH BODY[] per message over one connection (the same server work as mailtriage), and writing
each into SQLite in batches of 50 (the same commit pattern). Prints messages per second."""
import argparse, imaplib, sqlite3, ssl, time, os

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1"); ap.add_argument("--port", type=int, required=True)
ap.add_argument("--user", required=True); ap.add_argument("--password", required=True)
ap.add_argument("--ca-file", required=True); ap.add_argument("--database", required=True)
a = ap.parse_args()

for s in ("", "-wal", "-shm"):
    try: os.remove(a.database + s)
    except FileNotFoundError: pass
db = sqlite3.connect(a.database)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE message (uid INTEGER PRIMARY KEY, raw BLOB NOT NULL)")
start = time.perf_counter()
ctx = ssl.create_default_context(cafile=a.ca_file)
m = imaplib.IMAP4_SSL(a.host, a.port, ssl_context=ctx)
m.login(a.user, a.password)
m.select("INBOX")
typ, data = m.uid("SEARCH", None, "ALL")
uids = data[0].split()
batch = []
for uid in uids:
    typ, resp = m.uid("FETCH", uid, "(BODY[])")
    batch.append((int(uid), resp[0][1]))
    if len(batch) == 50:
        with db: db.executemany("INSERT INTO message VALUES (?, ?)", batch)
        batch = []
if batch:
    with db: db.executemany("INSERT INTO message VALUES (?, ?)", batch)
m.logout()
secs = time.perf_counter() - start
print("python imaplib: %d messages stored, %.3f s, %.0f msg/s" % (len(uids), secs, len(uids) / secs))
