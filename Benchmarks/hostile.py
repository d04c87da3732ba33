#!/usr/bin/env python3
"""Writes the hostile-input set of issue 15 into DIR: a 50 MB message, a 1,000-level nested multipart, a
100,000-part message, a 1 MB header line, a message of NUL bytes and a message that is only a header.
Usage: hostile.py DIR"""
import base64
import os
import sys


def header(extra=""):
    return ("From: a@example.com\r\nTo: support@example.com\r\nSubject: test\r\nMessage-ID: <x@example.com>\r\n"
            "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n" + extra)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    multipart = 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="%s"\r\n\r\n'
    blob = base64.encodebytes(os.urandom(37 << 20)).replace(b"\n", b"\r\n")
    with open(os.path.join(out, "big-50mb.eml"), "wb") as f:
        f.write((header(multipart % "b") + "--b\r\nContent-Type: text/plain\r\n\r\nHello, see the attachment.\r\n--b\r\n"
                 "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n").encode())
        f.write(blob + b"\r\n--b--\r\n")
    s = header(multipart % "b0")
    for i in range(1, 1001):
        s += '--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i - 1, i)
    s += "--b1000\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b1000--\r\n" + "".join("--b%d--\r\n" % i for i in range(999, -1, -1))
    open(os.path.join(out, "nested-1000.eml"), "w").write(s)
    parts = "".join("--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(100000))
    open(os.path.join(out, "parts-100k.eml"), "w").write(header(multipart % "b") + parts + "--b--\r\n")
    open(os.path.join(out, "header-line-1mb.eml"), "w").write(header("X-Long: " + "a" * (1 << 20) + "\r\n\r\nbody\r\n"))
    open(os.path.join(out, "nul-bytes.eml"), "wb").write(b"\0" * (1 << 20))
    open(os.path.join(out, "header-only.eml"), "w").write(header())


if __name__ == "__main__":
    main()
