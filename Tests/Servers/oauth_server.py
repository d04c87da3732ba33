#!/usr/bin/env python3
"""A throwaway OAuth2 authorization server for mailtriage's tests (standard library only).

Serves HTTPS on 127.0.0.1 with DIR/tls/server.pem + server.key:
  POST /token          RFC 6749 token endpoint: grant_type=client_credentials and grant_type=refresh_token
  POST /introspect     RFC 7662 introspection (what Dovecot's oauth2 passdb and smtp_oauth.py ask)
  POST /admin/revoke   client_id=...: the client and every token it holds stop working
  POST /admin/expire   every access token issued so far is expired from now on
  GET  /admin/stats    counters as JSON
Clients and refresh tokens come from DIR/oauth/clients.json and DIR/oauth/clients.d/*.json, read again whenever
they change (see oauth-README.md).
Issued tokens, used refresh tokens and revocations live in memory only: a restart forgets them.
"""
import argparse
import base64
import binascii
import json
import os
import secrets
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus


class Config:
    """DIR/oauth/clients.json plus any DIR/oauth/clients.d/*.json (merged in name order over it), parsed again
    whenever one of them appears, goes or changes (inode, size, modification time). A file caught half-written
    (or otherwise broken) leaves the last good version in force."""

    def __init__(self, path, log):
        self.path = path
        self.extra = os.path.join(os.path.dirname(path), "clients.d")
        self.log = log
        self.stamp = None
        self.data = {"clients": {}, "refresh_tokens": {}}
        self.lock = threading.Lock()

    def files(self):
        try:
            more = sorted(os.path.join(self.extra, n) for n in os.listdir(self.extra) if n.endswith(".json"))
        except FileNotFoundError:
            more = []
        return [self.path] + more

    @staticmethod
    def stamp_of(paths):
        out = []
        for p in paths:
            st = os.stat(p)
            out.append((p, st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def get(self):
        with self.lock:
            err = None
            for _ in range(5):
                try:
                    paths = self.files()
                    stamp = self.stamp_of(paths)
                    if stamp == self.stamp:
                        return self.data
                    merged = {"clients": {}, "refresh_tokens": {}}
                    for p in paths:
                        with open(p, "rb") as f:
                            part = json.load(f)
                        if not isinstance(part, dict):
                            raise ValueError(f"{p}: the top level is not an object")
                        for k, v in part.items():
                            if k in ("clients", "refresh_tokens"):
                                if not isinstance(v, dict):
                                    raise ValueError(f"{p}: {k} is not an object")
                                merged[k].update(v)
                            else:
                                merged[k] = v
                    self.data, self.stamp = merged, stamp
                    return merged
                except (OSError, ValueError) as e:
                    err = e
                    time.sleep(0.02)
            self.log(f"config unreadable ({err}); keeping the last good version")
            return self.data


class State:
    """Everything the server has handed out, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.access = {}            # token -> {"client", "user", "exp", "iat", "scope", "grant"}
        self.refresh = {}           # refresh tokens issued by rotation: token -> {"client", "user", "scope"}
        self.used_refresh = set()   # refresh tokens that were rotated away (from the file or issued here)
        self.revoked = set()        # client ids revoked through /admin/revoke
        self.stats = {
            "requests": 0,
            "tokens_issued": {"client_credentials": 0, "refresh_token": 0},
            "introspections": {"total": 0, "active": 0, "inactive": 0},
            "failures": {"total": 0},
        }

    def count_failure(self, error):
        f = self.stats["failures"]
        f["total"] += 1
        f[error] = f.get(error, 0) + 1


class OAuthError(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def client_is_usable(cfg, state, client_id):
    c = cfg["clients"].get(client_id)
    return isinstance(c, dict) and not c.get("revoked") and client_id not in state.revoked


class Handler(BaseHTTPRequestHandler):
    server_version = "mailtriage-test-oauth/1"
    protocol_version = "HTTP/1.0"   # one request per connection: no idle keep-alive sockets to go stale
    timeout = 15

    def setup(self):
        # The TLS handshake runs here, in the request's own thread, so a stuck client cannot hold up accept().
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    # -- plumbing --------------------------------------------------------------------------------------
    def log_message(self, fmt, *args):   # the default goes to stderr; we keep our own log
        pass

    def write_log(self, status, note):
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {self.client_address[0]} {self.command} {self.path} {status} {note}\n"
        with self.server.log_lock:
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(line)

    def reply(self, status, body, note="", headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.write_log(status, note)

    def form(self):
        """The request body as a dict of single values; a repeated parameter is an invalid_request (RFC 6749 §3.1)."""
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if raw and ctype != "application/x-www-form-urlencoded":
            raise OAuthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        try:
            parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise OAuthError(400, "invalid_request", "the body is not UTF-8")
        out = {}
        for k, v in parsed.items():
            if len(v) > 1:
                raise OAuthError(400, "invalid_request", f"parameter {k} given more than once")
            out[k] = v[0]
        return out

    def basic_credentials(self):
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "basic":
            raise OAuthError(401, "invalid_client", f"unsupported authorization scheme {scheme}")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError(401, "invalid_client", "malformed Basic credentials")
        cid, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError(401, "invalid_client", "malformed Basic credentials")
        # RFC 6749 §2.3.1: both halves are form-encoded before they are joined.
        return unquote_plus(cid), unquote_plus(secret)

    # -- routing ---------------------------------------------------------------------------------------
    def do_GET(self):
        self.route({"/admin/stats": self.admin_stats})

    def do_POST(self):
        self.route({"/token": self.token, "/introspect": self.introspect,
                    "/admin/revoke": self.admin_revoke, "/admin/expire": self.admin_expire})

    def route(self, table):
        st = self.server.state
        with st.lock:
            st.stats["requests"] += 1
        fn = table.get(self.path.split("?")[0])
        if fn is None:
            with st.lock:
                st.count_failure("not_found")
            return self.reply(404, {"error": "not_found", "error_description": f"no {self.command} {self.path}"}, "not found")
        try:
            fn()
        except OAuthError as e:
            with st.lock:
                st.count_failure(e.error)
            headers = [("WWW-Authenticate", 'Basic realm="mailtriage-test"')] if e.status == 401 else []
            self.reply(e.status, {"error": e.error, "error_description": e.description},
                       f"{e.error}: {e.description}", headers)
        except Exception as e:   # e.g. a clients.json with "lifetime": "soon"
            with st.lock:
                st.count_failure("server_error")
            self.reply(500, {"error": "server_error", "error_description": f"{type(e).__name__}: {e}"},
                       f"server_error: {e!r}")

    # -- token endpoint --------------------------------------------------------------------------------
    def token(self):
        cfg = self.server.config.get()
        st = self.server.state
        form = self.form()
        basic = self.basic_credentials()
        if basic and ("client_secret" in form):
            raise OAuthError(400, "invalid_request", "client credentials in both the Authorization header and the body")
        if basic:
            cid, secret = basic
            if form.get("client_id") not in (None, cid):
                raise OAuthError(400, "invalid_request", "client_id in the body differs from the Authorization header")
        else:
            cid, secret = form.get("client_id"), form.get("client_secret")
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError(400, "invalid_request", "grant_type is missing")
        if grant not in ("client_credentials", "refresh_token"):
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant} is not supported here")
        if not cid:
            raise OAuthError(401, "invalid_client", "client_id is missing")

        client = cfg["clients"].get(cid)
        if not isinstance(client, dict):
            raise OAuthError(401, "invalid_client", f"unknown client {cid}")
        want = client.get("secret")
        if want:   # a confidential client
            if secret is None:
                raise OAuthError(401, "invalid_client", "client_secret is missing")
            if not secrets.compare_digest(str(want).encode(), secret.encode()):
                raise OAuthError(401, "invalid_client", "wrong client_secret")
        if not client_is_usable(cfg, st, cid):
            raise OAuthError(401, "invalid_client", f"client {cid} has been revoked")

        scope = form.get("scope")
        lifetime = int(cfg.get("lifetime", 3600))
        rotate = bool(cfg.get("rotate_refresh_tokens", True))
        nbytes = int(cfg.get("token_bytes", 32))
        body = {}
        with st.lock:
            if grant == "client_credentials":
                if not want:
                    raise OAuthError(400, "unauthorized_client", "a public client cannot use client_credentials")
                user = client.get("user")
                if not user:
                    raise OAuthError(400, "unauthorized_client", f"client {cid} has no user to act for")
                note_extra = ""
            else:
                rt = form.get("refresh_token")
                if not rt:
                    raise OAuthError(400, "invalid_request", "refresh_token is missing")
                entry = st.refresh.get(rt) or cfg["refresh_tokens"].get(rt)
                if not isinstance(entry, dict) or rt in st.used_refresh:
                    raise OAuthError(400, "invalid_grant", "unknown, used or revoked refresh token")
                if entry.get("client") != cid:
                    raise OAuthError(400, "invalid_grant", "the refresh token was issued to another client")
                user = entry.get("user") or client.get("user")
                if not user:
                    raise OAuthError(400, "invalid_grant", "the refresh token has no user")
                scope = scope or entry.get("scope")
                if rotate:
                    st.used_refresh.add(rt)
                    st.refresh.pop(rt, None)
                    new_rt = secrets.token_urlsafe(nbytes)
                    st.refresh[new_rt] = {"client": cid, "user": user, "scope": scope}
                    body["refresh_token"] = new_rt
                note_extra = f" rt={rt[:6]}…" + (f" new_rt={body['refresh_token'][:6]}…" if rotate else "")
            now = int(time.time())
            tok = secrets.token_urlsafe(nbytes)
            st.access[tok] = {"client": cid, "user": user, "iat": now, "exp": now + lifetime,
                              "scope": scope, "grant": grant}
            st.stats["tokens_issued"][grant] += 1
        body = {"access_token": tok, "token_type": "Bearer", "expires_in": lifetime, **body}
        if scope:
            body["scope"] = scope
        self.reply(200, body, f"issued grant={grant} client={cid} user={user} token={tok[:6]}…{note_extra}")

    # -- introspection ---------------------------------------------------------------------------------
    def introspect(self):
        cfg = self.server.config.get()
        st = self.server.state
        form = self.form()
        tok = form.get("token")
        if tok is None:
            # Dovecot in introspection_mode=auth sends the token as a Bearer header instead; take that too.
            auth = self.headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                tok = auth[7:].strip()
        if not tok:
            raise OAuthError(400, "invalid_request", "token is missing")
        now = int(time.time())
        with st.lock:
            st.stats["introspections"]["total"] += 1
            info = st.access.get(tok)
            why = None
            if info is None:
                why = "unknown token"
            elif info["exp"] <= now:
                why = "expired"
            elif not client_is_usable(cfg, st, info["client"]):
                why = f"client {info['client']} revoked or removed"
            st.stats["introspections"]["inactive" if why else "active"] += 1
        if why:
            return self.reply(200, {"active": False}, f"inactive token={tok[:6]}… ({why}) asked by {form.get('client_id') or '-'}")
        body = {"active": True, "username": info["user"], "sub": info["user"], "client_id": info["client"],
                "token_type": "Bearer", "exp": info["exp"], "iat": info["iat"]}
        if info.get("scope"):
            body["scope"] = info["scope"]
        self.reply(200, body, f"active token={tok[:6]}… user={info['user']} asked by {form.get('client_id') or '-'}")

    # -- admin -----------------------------------------------------------------------------------------
    def admin_revoke(self):
        form = self.form()
        cid = form.get("client_id")
        if not cid:
            raise OAuthError(400, "invalid_request", "client_id is missing")
        st = self.server.state
        with st.lock:
            st.revoked.add(cid)
            gone = [rt for rt, e in st.refresh.items() if e["client"] == cid]
            for rt in gone:
                st.used_refresh.add(rt)
                del st.refresh[rt]
            live = sum(1 for a in st.access.values() if a["client"] == cid)
        self.reply(200, {"revoked": cid, "access_tokens": live, "refresh_tokens": len(gone)}, f"revoked client={cid}")

    def admin_expire(self):
        self.form()
        st = self.server.state
        past = int(time.time()) - 1
        with st.lock:
            for a in st.access.values():
                a["exp"] = min(a["exp"], past)
            n = len(st.access)
        self.reply(200, {"expired": n}, f"expired {n} access tokens")

    def admin_stats(self):
        st = self.server.state
        with st.lock:
            body = json.loads(json.dumps(st.stats))
            now = int(time.time())
            body["access_tokens"] = {"issued": len(st.access), "live": sum(1 for a in st.access.values() if a["exp"] > now)}
            body["revoked_clients"] = sorted(st.revoked)
        self.reply(200, body, "stats")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Failed handshakes (a client that does not trust the CA, a port probe) get one log line, no traceback.
        err = sys.exc_info()[1]
        if isinstance(err, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError)):
            return   # mailservers.sh's port check connects and hangs up at once
        with self.log_lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {client_address[0]} connection error: {err!r}\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", help="the test server directory (tls/ and oauth/ inside)")
    p.add_argument("--port", type=int, default=int(os.environ.get("OAUTH_PORT", "10443")))
    p.add_argument("--host", default="127.0.0.1")
    a = p.parse_args()
    d = os.path.abspath(a.dir)
    os.makedirs(os.path.join(d, "oauth"), exist_ok=True)

    srv = Server((a.host, a.port), Handler)
    srv.log_path = os.path.join(d, "oauth", "oauth.log")
    srv.log_lock = threading.Lock()

    def log(msg):
        with srv.log_lock, open(srv.log_path, "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {msg}\n")

    srv.config = Config(os.path.join(d, "oauth", "clients.json"), log)
    srv.state = State()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "tls", "server.pem"), os.path.join(d, "tls", "server.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    log(f"listening on https://{a.host}:{a.port}")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
