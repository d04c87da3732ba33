#!/usr/bin/env python3
"""Servers that misbehave on command, for mailtriage's fault tests (Tests/IntegrationTests/FaultIntegrationTests.swift).

  faults.py smtp  --cert PEM --key PEM   an SMTP receiver (STARTTLS) whose replies the test scripts
  faults.py proxy --target HOST:PORT     a TCP proxy that forwards, stalls or refuses on command
  faults.py lock  DATABASE SECONDS       holds the SQLite write lock (BEGIN IMMEDIATE) for SECONDS

smtp and proxy listen on 127.0.0.1 on free ports and print one line, "ready PORT CONTROL_PORT", when they accept
connections. The control port takes one command line per connection and answers one line:

  smtp:  plan STAGE:CODE[,STAGE:CODE...]  the next transactions fail at STAGE (MAIL, RCPT, DATA: the DATA command,
                                           DOT: after the message) with CODE, one entry per transaction; then
                                           transactions are accepted again
         gone                              closes the listener and every connection (the port refuses)
         back                              listens again on the same port
         log                               JSON list of transactions: stage reached, code, recipients, Message-ID, time
  proxy: stall                             stops forwarding in both directions (connections stay open, new ones are
                                           accepted and get no byte); what was read is held
         forward                           forwards again (also what was held)
         refuse                            closes the listener and every connection (a stopped server)
         back                              listens again and forwards
         stats                             JSON: connections accepted, open, bytes forwarded
         cut BYTES                         the next connection to forward BYTES bytes from the server is closed right
                                           there (both ways, in the middle of whatever was being sent); once
Both stop on SIGTERM or when their standard input closes (the test process died).
"""
import argparse
import asyncio
import json
import re
import signal
import sqlite3
import ssl
import sys
import time


class Listener:
    """A server on one fixed loopback port that can be closed (and its connections cut) and opened again."""

    def __init__(self, handler):
        self.handler = handler
        self.server = None
        self.port = 0
        self.conns = set()

    async def open(self):
        async def handle(reader, writer):
            self.conns.add(writer)
            try:
                await self.handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
                pass
            finally:
                self.conns.discard(writer)
                writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self):
        if self.server:
            self.server.close()
            self.server = None
        for w in list(self.conns):
            # An abort (RST), as when the process on the other end is killed.
            w.transport.abort()
        self.conns.clear()


async def control_server(commands):
    async def handle(reader, writer):
        line = (await reader.readline()).decode().strip()
        try:
            answer = await commands(line)
        except Exception as e:  # the test sees the error instead of a hang
            answer = "error " + repr(e)
        writer.write((answer + "\n").encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def until_stopped():
    """Returns on SIGTERM or when stdin closes."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.buffer.read1(4096) else None)
    await stop.wait()


# ---------------------------------------------------------------------------------------------------- SMTP


async def smtp_main(args):
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    plan = []  # (stage, code) per coming transaction
    log = []

    async def session(reader, writer):
        async def say(text):
            writer.write((text + "\r\n").encode())
            await writer.drain()

        await say("220 faults.test ESMTP")
        secure = False
        tx = None  # the current transaction: {"stage", "code", "rcpt", "fail"}

        def finish(stage, code):
            tx["stage"], tx["code"], tx["t"] = stage, code, time.time()
            log.append({k: v for k, v in tx.items() if k != "fail"})

        while True:
            line = await reader.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                ext = ["8BITMIME", "SIZE 100000000"] + ([] if secure else ["STARTTLS"])
                await say("\r\n".join(["250-faults.test"] + ["250-" + e for e in ext[:-1]] + ["250 " + ext[-1]]))
            elif verb == "STARTTLS" and not secure:
                await say("220 go ahead")
                await writer.start_tls(tls)
                secure = True
            elif verb == "MAIL":
                if not secure:
                    await say("530 STARTTLS first")
                    continue
                fail = plan.pop(0) if plan else None
                tx = {"from": re.sub(r"^MAIL FROM:\s*<?([^>]*)>?.*$", r"\1", cmd, flags=re.I), "rcpt": [], "fail": fail,
                      "message_id": None}
                if fail and fail[0] == "MAIL":
                    finish("MAIL", fail[1])
                    await say(f"{fail[1]} MAIL refused by the fault plan")
                    tx = None
                else:
                    await say("250 OK")
            elif verb == "RCPT":
                if tx is None:
                    await say("503 MAIL first")
                    continue
                tx["rcpt"].append(re.sub(r"^RCPT TO:\s*<?([^>]*)>?.*$", r"\1", cmd, flags=re.I))
                if tx["fail"] and tx["fail"][0] == "RCPT":
                    code = tx["fail"][1]
                    finish("RCPT", code)
                    tx = None
                    await say(f"{code} recipient refused by the fault plan")
                else:
                    await say("250 OK")
            elif verb == "DATA":
                if tx is None or not tx["rcpt"]:
                    await say("503 no valid recipients")
                    continue
                if tx["fail"] and tx["fail"][0] == "DATA":
                    code = tx["fail"][1]
                    finish("DATA", code)
                    tx = None
                    await say(f"{code} DATA refused by the fault plan")
                    continue
                await say("354 end with <CRLF>.<CRLF>")
                data = bytearray()
                while True:
                    l = await reader.readline()
                    if not l:
                        return
                    if l in (b".\r\n", b".\n"):
                        break
                    data += l
                m = re.search(rb"^Message-ID:\s*<([^>]*)>", bytes(data), re.I | re.M)
                tx["message_id"] = m.group(1).decode() if m else None
                tx["size"] = len(data)
                if tx["fail"] and tx["fail"][0] == "DOT":
                    code = tx["fail"][1]
                    finish("DOT", code)
                    await say(f"{code} message refused by the fault plan")
                else:
                    finish("accepted", 250)
                    await say("250 queued")
                tx = None
            elif verb == "RSET":
                tx = None
                await say("250 OK")
            elif verb == "NOOP":
                await say("250 OK")
            elif verb == "QUIT":
                await say("221 bye")
                return
            else:
                await say("502 not implemented")

    listener = Listener(session)
    await listener.open()

    async def commands(line):
        word, _, rest = line.partition(" ")
        if word == "plan":
            for item in rest.split(","):
                stage, code = item.strip().split(":")
                assert stage in ("MAIL", "RCPT", "DATA", "DOT"), stage
                plan.append((stage, int(code)))
            return "ok"
        if word == "gone":
            await listener.close()
            return "ok"
        if word == "back":
            if listener.server is None:
                await listener.open()
            return "ok"
        if word == "log":
            return json.dumps(log)
        return "error unknown command " + word

    control, cport = await control_server(commands)
    print(f"ready {listener.port} {cport}", flush=True)
    await until_stopped()
    await listener.close()
    control.close()


# ---------------------------------------------------------------------------------------------------- proxy


async def proxy_main(args):
    host, port = args.target.rsplit(":", 1)
    flowing = asyncio.Event()
    flowing.set()
    stats = {"accepted": 0, "open": 0, "bytes": 0}
    cut = {"after": None}

    async def pump(src, dst, from_server=False, other=None):
        sent = 0
        try:
            while True:
                data = await src.read(65536)
                await flowing.wait()  # stalled: what was read waits here, nothing more is read
                if not data:
                    break
                limit = cut["after"] if from_server else None
                if limit is not None and sent + len(data) >= limit:
                    cut["after"] = None
                    dst.write(data[:limit - sent])
                    await dst.drain()
                    other.close()
                    break
                dst.write(data)
                await dst.drain()
                sent += len(data)
                stats["bytes"] += len(data)
        except (ConnectionError, OSError):
            pass
        finally:
            dst.close()

    async def session(reader, writer):
        stats["accepted"] += 1
        stats["open"] += 1
        try:
            await flowing.wait()  # while stalled a new connection is accepted but never reaches the server
            up_r, up_w = await asyncio.open_connection(host, int(port))
            listener.conns.add(up_w)
            try:
                await asyncio.gather(pump(reader, up_w), pump(up_r, writer, from_server=True, other=up_w))
            finally:
                listener.conns.discard(up_w)
        finally:
            stats["open"] -= 1

    listener = Listener(session)
    await listener.open()

    async def commands(line):
        if line == "stall":
            flowing.clear()
        elif line == "forward":
            flowing.set()
        elif line == "refuse":
            await listener.close()
        elif line == "back":
            if listener.server is None:
                await listener.open()
            flowing.set()
        elif line == "stats":
            return json.dumps(stats)
        elif line.startswith("cut "):
            cut["after"] = int(line[4:])
        else:
            return "error unknown command " + line
        return "ok"

    control, cport = await control_server(commands)
    print(f"ready {listener.port} {cport}", flush=True)
    await until_stopped()
    await listener.close()
    control.close()


# ---------------------------------------------------------------------------------------------------- lock


def lock_main(args):
    """BEGIN IMMEDIATE (the write lock; readers of a WAL database go on), a real write, hold, commit: what a long
    write transaction of another process (the CLI) does to the daemon."""
    db = sqlite3.connect(args.database, timeout=30, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    # A write that changes no value but makes every other connection's snapshot stale after the commit.
    db.execute("UPDATE mailbox_cursor SET last_uid = last_uid")
    print("locked", flush=True)
    time.sleep(args.seconds)
    db.execute("COMMIT")
    print("released", flush=True)


def main():
    # Started by the test process (Foundation's Process), we inherit its blocked signals, SIGTERM among them.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("smtp")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    x = sub.add_parser("proxy")
    x.add_argument("--target", required=True)
    k = sub.add_parser("lock")
    k.add_argument("database")
    k.add_argument("seconds", type=float)
    args = p.parse_args()
    if args.cmd == "smtp":
        asyncio.run(smtp_main(args))
    elif args.cmd == "proxy":
        asyncio.run(proxy_main(args))
    else:
        lock_main(args)


if __name__ == "__main__":
    main()
