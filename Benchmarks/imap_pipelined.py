#!/usr/bin/env python3
"""The protocol limit for the ingest benchmark: one TLS connection, LOGIN, SELECT and a single
`UID FETCH 1:* BODY.PEEK[]`, every literal read and thrown away. Nothing is parsed or stored: this is how
fast the server hands out the folder over one connection. Prints messages per second."""
import argparse, socket, ssl, time, re

ap = argparse.ArgumentParser()
ap.add_argument("--host", default="127.0.0.1"); ap.add_argument("--port", type=int, required=True)
ap.add_argument("--user", required=True); ap.add_argument("--password", required=True)
ap.add_argument("--ca-file", required=True)
a = ap.parse_args()

LITERAL = re.compile(rb"\{(\d+)\}\r\n$")

def quoted(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

start = time.perf_counter()
ctx = ssl.create_default_context(cafile=a.ca_file)
sock = ctx.wrap_socket(socket.create_connection((a.host, a.port)), server_hostname=a.host)
f = sock.makefile("rb", buffering=1 << 20)
f.readline()  # greeting
sock.sendall(("a LOGIN %s %s\r\nb SELECT INBOX\r\nc UID FETCH 1:* BODY.PEEK[]\r\n"
              % (quoted(a.user), quoted(a.password))).encode())
messages = 0
nbytes = 0
while True:
    line = f.readline()
    if not line:
        raise SystemExit("connection closed early")
    m = LITERAL.search(line)
    if m:
        n = int(m.group(1))
        nbytes += len(f.read(n))
        messages += 1
        continue
    if line.startswith((b"a ", b"b ")) and not line[2:].startswith(b"OK"):
        raise SystemExit("refused: %r" % line)
    if line.startswith(b"c "):
        if not line[2:].startswith(b"OK"):
            raise SystemExit("refused: %r" % line)
        break
sock.sendall(b"d LOGOUT\r\n")
sock.close()
secs = time.perf_counter() - start
print("pipelined UID FETCH 1:* (protocol limit): %d messages read, %.1f MiB, %.3f s, %.0f msg/s"
      % (messages, nbytes / 1048576, secs, messages / secs))
