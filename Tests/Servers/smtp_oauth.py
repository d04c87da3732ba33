#!/usr/bin/env python3
"""SMTP receiver for mailtriage's tests that only takes OAuth2 bearer tokens (SASL XOAUTH2).

Listens on 127.0.0.1, offers STARTTLS (DIR/tls/server.pem + server.key) and, once TLS is on, AUTH XOAUTH2 only
(PLAIN and LOGIN are neither offered nor accepted). MAIL FROM, RCPT TO and DATA need a successful AUTH.
Each token is checked with the token server's RFC 7662 endpoint (HTTPS, trusting DIR/tls/ca.pem) on every AUTH,
and must belong to the user named in the XOAUTH2 response. Accepted mail goes into the Maildir
DIR/smtp-oauth/captured with "X-Authenticated-User: USER" (and X-MailFrom, X-RcptTo, X-Peer) on top.

A refused token gets the XOAUTH2 error convention: "334 <base64 JSON status>", and after the client's
(empty) reply "535 5.7.8". With --mechanisms XOAUTH2,OAUTHBEARER the RFC 7628 mechanism is offered as well.
"""
import argparse
import asyncio
import base64
import binascii
import collections
import json
import logging
import mailbox
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

from aiosmtpd.smtp import SMTP, AuthResult

log = logging.getLogger("smtp-oauth")

# XOAUTH2 carries the token in the first AUTH line or in one continuation line; real provider tokens run to
# a few kilobytes, far past aiosmtpd's 512-byte command and 1001-byte line limits.
LONG_LINE = 64 * 1024


class OAuthSMTP(SMTP):
    line_length_limit = LONG_LINE   # the StreamReader's limit, so a long continuation line can be read

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        # aiosmtpd keeps these limits in a dict shared by the class; give each connection its own.
        self.command_size_limits = collections.defaultdict(lambda: self.command_size_limit)
        self.command_size_limits["AUTH"] = LONG_LINE


class Introspector:
    def __init__(self, url, cafile):
        self.url = url
        self.ctx = ssl.create_default_context(cafile=cafile)
        # No proxy from the environment: the token server is on loopback.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPSHandler(context=self.ctx))

    def check(self, token):
        """The introspection answer as a dict; raises OSError/ValueError when the token server cannot say."""
        body = urllib.parse.urlencode({"token": token, "token_type_hint": "access_token",
                                       "client_id": "smtp-oauth"}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with self.opener.open(req, timeout=10) as r:
            answer = json.load(r)
        if not isinstance(answer, dict):
            raise ValueError("introspection answer is not a JSON object")
        return answer


class Handler:
    def __init__(self, maildir, introspector, scope):
        self.box = mailbox.Maildir(maildir, create=True)
        self.introspector = introspector
        self.scope = scope

    # -- SASL ------------------------------------------------------------------------------------------
    async def initial_response(self, server, args):
        """The client's first SASL message: from the AUTH line, or asked for with an empty 334."""
        if len(args) > 1:
            if args[1] == "=":
                return b""
            try:
                return base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return None
        data = await server.challenge_auth("")
        return None if not isinstance(data, bytes) else data   # MISSING: challenge_auth already answered

    async def verify(self, server, user, token):
        """None when the token is good for the user, else a short reason; raises on a token server failure."""
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(None, self.introspector.check, token)
        if answer.get("active") is not True:
            return "token not active (unknown, expired or revoked)"
        owner = str(answer.get("username") or answer.get("sub") or "")
        if owner.lower() != user.lower():
            return f"token belongs to {owner!r}, not {user!r}"
        return None

    async def finish(self, server, mech, user, token, error_json):
        peer = server.session.peer
        try:
            why = await self.verify(server, user, token)
        except (OSError, ValueError) as e:
            log.error("%s %s user=%s: introspection failed: %s", peer, mech, user, e)
            return AuthResult(success=False, handled=False, message="454 4.7.0 Temporary authentication failure")
        if why is None:
            log.info("%s %s user=%s: accepted", peer, mech, user)
            return AuthResult(success=True, auth_data=user)
        log.info("%s %s user=%s: refused: %s", peer, mech, user, why)
        # The error goes out as a challenge; whatever the client answers (XOAUTH2: an empty line, OAUTHBEARER:
        # ^A), the exchange ends with 535. A client that cancels with "*" gets 501 from challenge_auth.
        reply = await server.challenge_auth(json.dumps(error_json, separators=(",", ":")))
        if not isinstance(reply, bytes):
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

    async def auth_XOAUTH2(self, server, args):
        # user=USER ^A auth=Bearer TOKEN ^A ^A
        data = await self.initial_response(server, args)
        if data is None:
            return AuthResult(success=False, handled=True)
        fields = {}
        for part in data.split(b"\x01"):
            k, sep, v = part.partition(b"=")
            if sep:
                fields[k.decode("ascii", "replace").lower()] = v.decode("utf-8", "replace")
        user, auth = fields.get("user", ""), fields.get("auth", "")
        if not user or auth[:7].lower() != "bearer " or not auth[7:].strip():
            log.info("%s XOAUTH2: malformed response", server.session.peer)
            return AuthResult(success=False, handled=False, message="501 5.5.2 Malformed XOAUTH2 response")
        return await self.finish(server, "XOAUTH2", user, auth[7:].strip(),
                                 {"status": "401", "schemes": "bearer", "scope": self.scope})

    async def auth_OAUTHBEARER(self, server, args):
        # RFC 7628: GS2 header "n,a=USER," then ^A-separated key=value pairs, auth=Bearer TOKEN among them.
        data = await self.initial_response(server, args)
        if data is None:
            return AuthResult(success=False, handled=True)
        parts = data.split(b"\x01")
        gs2 = parts[0].decode("utf-8", "replace").split(",")
        user = ""
        for g in gs2[1:]:
            if g.startswith("a="):
                user = g[2:].replace("=2C", ",").replace("=3D", "=")
        auth = ""
        for part in parts[1:]:
            if part[:5].lower() == b"auth=":
                auth = part[5:].decode("utf-8", "replace")
        if not gs2 or gs2[0] not in ("n", "y") or not user or auth[:7].lower() != "bearer " or not auth[7:].strip():
            log.info("%s OAUTHBEARER: malformed response", server.session.peer)
            return AuthResult(success=False, handled=False, message="501 5.5.2 Malformed OAUTHBEARER response")
        return await self.finish(server, "OAUTHBEARER", user, auth[7:].strip(),
                                 {"status": "invalid_token", "scope": self.scope})

    # -- storing ---------------------------------------------------------------------------------------
    async def handle_DATA(self, server, session, envelope):
        user = session.auth_data
        if not session.authenticated or not user:   # check_auth_needed guards this already; be sure anyway
            return "530 5.7.0 Authentication required"
        head = (f"X-Authenticated-User: {user}\r\n"
                f"X-MailFrom: {envelope.mail_from}\r\n"
                f"X-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
                f"X-Peer: {session.peer[0]}\r\n").encode()
        key = self.box.add(head + envelope.original_content)
        log.info("%s stored %s for %s from %s to %s", session.peer, key, user, envelope.mail_from,
                 ",".join(envelope.rcpt_tos))
        return "250 2.0.0 OK"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", help="the test server directory (tls/ inside; mail goes to smtp-oauth/captured)")
    p.add_argument("--port", type=int, default=int(os.environ.get("SMTP_OAUTH_PORT", "10026")))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--introspect", help="introspection URL (default https://127.0.0.1:$OAUTH_PORT/introspect)")
    p.add_argument("--mechanisms", default=os.environ.get("SMTP_OAUTH_MECHS", "XOAUTH2"),
                   help="SASL mechanisms to offer, comma-separated, out of XOAUTH2 and OAUTHBEARER")
    p.add_argument("--scope", default="https://mail.google.com/", help="the scope named in error challenges")
    p.add_argument("--idle-timeout", type=float, default=float(os.environ.get("SMTP_OAUTH_IDLE_TIMEOUT", "300")),
                   help="seconds before an idle connection is closed (short: a client's next message logs in again)")
    a = p.parse_args()
    d = os.path.abspath(a.dir)
    url = a.introspect or f"https://127.0.0.1:{os.environ.get('OAUTH_PORT', '10443')}/introspect"
    offer = {m.strip().upper() for m in a.mechanisms.split(",") if m.strip()}
    if not offer or offer - {"XOAUTH2", "OAUTHBEARER"}:
        p.error("--mechanisms takes XOAUTH2 and/or OAUTHBEARER")

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.ERROR)   # aiosmtpd's own per-command chatter

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.check_hostname = False
    tls.load_cert_chain(os.path.join(d, "tls", "server.pem"), os.path.join(d, "tls", "server.key"))
    handler = Handler(os.path.join(d, "smtp-oauth", "captured"), Introspector(url, os.path.join(d, "tls", "ca.pem")),
                      a.scope)
    exclude = ["PLAIN", "LOGIN"] + sorted({"XOAUTH2", "OAUTHBEARER"} - offer)

    def factory():
        return OAuthSMTP(handler, hostname="localhost", tls_context=tls, require_starttls=True,
                         auth_required=True, auth_require_tls=True, auth_exclude_mechanism=exclude, timeout=a.idle_timeout)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(factory, host=a.host, port=a.port))
    log.info("listening on %s:%d, AUTH %s, introspecting at %s", a.host, a.port, " ".join(sorted(offer)), url)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())


if __name__ == "__main__":
    main()
