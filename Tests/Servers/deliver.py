#!/usr/bin/env python3
"""Delivers test mail into a user's Maildir of the throwaway Dovecot, unseen, as Dovecot itself would.

Usage: deliver.py DIR USER (--generate N [--size BYTES] [--start K] | FILE...)
Generated messages have unique Message-IDs and are about --size bytes each. Files are written as they are.
Files and folders are given to the owner of DIR/mail, which Dovecot runs as.
"""
import argparse, os, socket, time

def maildir(base, user):
    md = os.path.join(base, "mail", user, "Maildir")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    return md

def generated(i, size):
    body_line = "Hello support team, this is test message number %d. Please help me with my order.\n" % i
    body = (body_line * (max(1, size // len(body_line))))[:max(0, size - 400)]
    return ("From: Customer %d <customer%d@example.org>\r\nTo: support@example.com\r\n"
            "Subject: Test message %d\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <test-%d-%s@example.org>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" % (i, i, i, i, os.urandom(4).hex())
            + body.replace("\n", "\r\n")).encode()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir"); ap.add_argument("user")
    ap.add_argument("--generate", type=int, default=0); ap.add_argument("--size", type=int, default=1500)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    md = maildir(a.dir, a.user)
    st = os.stat(os.path.join(a.dir, "mail"))
    msgs = [generated(a.start + i, a.size) for i in range(a.generate)] + [open(f, "rb").read() for f in a.files]
    host = socket.gethostname()
    for path in (os.path.join(a.dir, "mail", a.user), md, *(os.path.join(md, s) for s in ("tmp", "new", "cur"))):
        os.chown(path, st.st_uid, st.st_gid)
    for n, data in enumerate(msgs):
        name = "%d.M%dP%dQ%d.%s" % (time.time(), time.time_ns() % 1000000, os.getpid(), n, host)
        tmp = os.path.join(md, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.chown(tmp, st.st_uid, st.st_gid)
        os.rename(tmp, os.path.join(md, "new", name))
    print(len(msgs))

if __name__ == "__main__":
    main()
