#!/usr/bin/env python3
"""A throwaway OAuth2 authorization server for mailtriage's tests (standard library only).

Serves HTTPS on 127.0.0.1 with DIR/tls/server.pem + server.key:
  POST /token          RFC 6749 token endpoint: grant_type=client_credentials and grant_type=refresh_token;
                       clients authenticate with a secret, or with a certificate-signed JWT (RFC 7523
                       client_assertion, as Microsoft Entra ID's "certificate credentials")
  POST /introspect     RFC 7662 introspection (what Dovecot's oauth2 passdb and smtp_oauth.py ask)
  POST /admin/revoke   client_id=...: the client and every token it holds stop working
  POST /admin/restore  client_id=...: a revoked client works again (its spent refresh tokens stay spent)
  POST /admin/expire   every access token issued so far is expired from now on
  GET  /admin/stats    counters as JSON
Clients and refresh tokens come from DIR/oauth/clients.json and DIR/oauth/clients.d/*.json, read again whenever
they change (see oauth-README.md).
Issued tokens, used refresh tokens, seen assertion jti values and revocations live in memory only: a restart
forgets them.
RS256 signatures are checked with the openssl command line, so the server needs no Python package beyond the
standard library (mailservers.sh needs openssl anyway).
"""
import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import tempfile
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
        self.seen_jti = {}          # (client id, jti) of accepted client assertions -> their exp
        self.stats = {
            "requests": 0,
            "tokens_issued": {"client_credentials": 0, "refresh_token": 0},
            "client_assertions": {"accepted": 0, "rejected": 0},
            "introspections": {"total": 0, "active": 0, "inactive": 0},
            "failures": {"total": 0},
            "token_requests": {},   # client id -> requests at the token endpoint, answered or refused
            "introspections_by_client": {},   # client id -> {"active": n, "inactive": n} for its known tokens
        }

    def count_failure(self, error):
        f = self.stats["failures"]
        f["total"] += 1
        f[error] = f.get(error, 0) + 1


class OAuthError(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_SKEW = 60            # seconds an assertion's nbf may lie in the future
ASSERTION_MAX_LIFETIME = 3600  # seconds from nbf (or from now, without nbf) to exp


def bad_assertion(why):
    return OAuthError(401, "invalid_client", f"client_assertion rejected: {why}")


def b64url_strict(part, what):
    """base64url without '=' padding (RFC 7515 §2), as a JWS compact serialization has it."""
    if not part or not re.fullmatch(r"[A-Za-z0-9_-]+", part) or len(part) % 4 == 1:
        raise bad_assertion(f"malformed JWT: {what} is not base64url without padding")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse_jwt(text):
    """Splits and decodes a compact JWS; checks the shape only, nothing is trusted yet."""
    parts = text.split(".")
    if len(parts) != 3:
        raise bad_assertion(f"malformed JWT: {len(parts)} dot-separated parts instead of 3")
    header_b, payload_b = b64url_strict(parts[0], "the header"), b64url_strict(parts[1], "the payload")
    signature = b64url_strict(parts[2], "the signature")
    try:
        header, payload = json.loads(header_b), json.loads(payload_b)
    except (ValueError, UnicodeDecodeError):
        raise bad_assertion("malformed JWT: the header or the payload is not JSON")
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise bad_assertion("malformed JWT: the header or the payload is not a JSON object")
    return {"header": header, "payload": payload, "signature": signature,
            "signed": (parts[0] + "." + parts[1]).encode("ascii")}


class Certificates:
    """The certificates named in clients.json, read (and their public keys extracted with openssl) once per
    version of each file. A public key goes to DIR/oauth/keys/ for `openssl dgst -verify`."""

    PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)
    PEM_PUBKEY = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----\n?", re.S)

    def __init__(self, keydir):
        self.keydir = keydir
        self.cache = {}   # path -> (stamp, info)
        self.lock = threading.Lock()

    def load(self, path):
        """{"path", "x5t", "x5t#S256" (raw digests), "pubkey" (file), "not_before", "not_after"}, or OSError /
        ValueError saying why the file is no good."""
        st = os.stat(path)
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self.lock:
            hit = self.cache.get(path)
            if hit and hit[0] == stamp:
                return hit[1]
        with open(path, "rb") as f:
            m = self.PEM_CERT.search(f.read())
        if not m:
            raise ValueError("no PEM CERTIFICATE block in it")
        try:
            der = base64.b64decode(b"".join(m.group(1).split()), validate=True)
        except binascii.Error:
            raise ValueError("the PEM CERTIFICATE block is not base64")
        r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-text", "-pubkey"],
                           input=der, capture_output=True, timeout=10)
        out = r.stdout.decode("utf-8", "replace")
        if r.returncode != 0:
            raise ValueError("openssl cannot read it: " + r.stderr.decode("utf-8", "replace").strip()[:200])
        if not re.search(r"Public Key Algorithm:\s*rsaEncryption", out):
            raise ValueError("its key is not an RSA key, so it cannot verify RS256")
        key = self.PEM_PUBKEY.search(out)
        nb = re.search(r"Not Before\s*:\s*(.+?)\s*$", out, re.M)
        na = re.search(r"Not After\s*:\s*(.+?)\s*$", out, re.M)
        if not (key and nb and na):
            raise ValueError("openssl did not print its public key and dates")
        sha1, sha256 = hashlib.sha1(der).digest(), hashlib.sha256(der).digest()
        keyfile = os.path.join(self.keydir, sha256.hex() + ".pem")
        tmp = keyfile + f".{os.getpid()}.{threading.get_ident()}"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(key.group(0))
        os.replace(tmp, keyfile)
        info = {"path": path, "x5t": sha1, "x5t#S256": sha256, "pubkey": keyfile,
                "not_before": ssl.cert_time_to_seconds(nb.group(1)),
                "not_after": ssl.cert_time_to_seconds(na.group(1))}
        with self.lock:
            self.cache[path] = (stamp, info)
        return info

    def verify_rs256(self, info, signed, signature):
        """RSASSA-PKCS1-v1_5 with SHA-256 over `signed`, by `openssl dgst -verify`."""
        with tempfile.NamedTemporaryFile(dir=self.keydir, prefix="sig.") as f:
            f.write(signature)
            f.flush()
            r = subprocess.run(["openssl", "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pkcs1",
                                "-verify", info["pubkey"], "-signature", f.name],
                               input=signed, capture_output=True, timeout=10)
        return r.returncode == 0 and b"Verified OK" in r.stdout


def certificate_paths(client, base):
    """A client's "certificate": one path or a list of them (several while a certificate is rolled over),
    relative paths taken from DIR/oauth."""
    c = client.get("certificate")
    if not c:
        return []
    paths = [c] if isinstance(c, str) else list(c) if isinstance(c, list) else []
    return [os.path.join(base, p) for p in paths if isinstance(p, str) and p]


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


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
                    "/admin/revoke": self.admin_revoke, "/admin/restore": self.admin_restore,
                    "/admin/expire": self.admin_expire})

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
        assertion, atype = form.get("client_assertion"), form.get("client_assertion_type")
        jwt = None
        if assertion is not None or atype is not None:
            if basic or "client_secret" in form:   # RFC 6749 §2.3: one authentication method per request
                raise OAuthError(400, "invalid_request", "client_assertion together with a client secret: use one of them")
            if not assertion or not atype:
                raise OAuthError(400, "invalid_request", "client_assertion and client_assertion_type go together")
        if basic:
            cid, secret = basic
            if form.get("client_id") not in (None, cid):
                raise OAuthError(400, "invalid_request", "client_id in the body differs from the Authorization header")
        else:
            cid, secret = form.get("client_id"), form.get("client_secret")
        if cid:
            with st.lock:
                st.stats["token_requests"][cid] = st.stats["token_requests"].get(cid, 0) + 1
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError(400, "invalid_request", "grant_type is missing")
        if grant not in ("client_credentials", "refresh_token"):
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant} is not supported here")
        if assertion:
            try:
                if atype != JWT_BEARER:
                    raise OAuthError(401, "invalid_client", f"client_assertion_type {atype} is not supported; use {JWT_BEARER}")
                jwt = parse_jwt(assertion)
            except OAuthError:
                with st.lock:
                    st.stats["client_assertions"]["rejected"] += 1
                raise
            if not cid:   # RFC 7521 §4.2: client_id may be left out; the assertion's sub names the client
                sub = jwt["payload"].get("sub")
                cid = sub if isinstance(sub, str) else None
        client = cfg["clients"].get(cid) if cid else None
        if not isinstance(client, dict):
            if jwt is not None:
                with st.lock:
                    st.stats["client_assertions"]["rejected"] += 1
            raise OAuthError(401, "invalid_client", f"unknown client {cid}" if cid else "client_id is missing")
        want = client.get("secret")
        certs = certificate_paths(client, os.path.dirname(self.server.config.path))
        auth_note = ""
        if jwt is not None:
            try:
                auth_note = self.check_assertion(jwt, cid, certs)
            except OAuthError:
                with st.lock:
                    st.stats["client_assertions"]["rejected"] += 1
                raise
            with st.lock:
                st.stats["client_assertions"]["accepted"] += 1
        elif want:   # a client with a secret (maybe a certificate too)
            if secret is None:
                raise OAuthError(401, "invalid_client",
                                 "client_secret (or a client_assertion) is missing" if certs else "client_secret is missing")
            if not secrets.compare_digest(str(want).encode(), secret.encode()):
                raise OAuthError(401, "invalid_client", "wrong client_secret")
        elif certs:   # a certificate-only client
            if secret is not None:
                raise OAuthError(401, "invalid_client",
                                 f"client {cid} has no secret; it authenticates with a client_assertion signed by its certificate")
            raise OAuthError(401, "invalid_client", f"client_assertion is missing: client {cid} authenticates with a certificate")
        if not client_is_usable(cfg, st, cid):
            raise OAuthError(401, "invalid_client", f"client {cid} has been revoked")

        scope = form.get("scope")
        lifetime = int(client.get("lifetime", cfg.get("lifetime", 3600)))   # a client's own, for short-lived tokens
        rotate = bool(cfg.get("rotate_refresh_tokens", True))
        nbytes = int(cfg.get("token_bytes", 32))
        body = {}
        with st.lock:
            if grant == "client_credentials":
                if not want and not certs:
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
        self.reply(200, body, f"issued grant={grant} client={cid} user={user} token={tok[:6]}…{note_extra}{auth_note}")

    def check_assertion(self, jwt, cid, cert_paths):
        """RFC 7523 §3 checks of a client assertion for client `cid`, in this order: header (alg RS256, x5t
        and/or x5t#S256), the certificate it names, the signature, then iss/sub, aud, exp, nbf, lifetime and jti.
        The jti is remembered only once everything else has passed. Returns a note for the log."""
        h, p = jwt["header"], jwt["payload"]
        if h.get("alg") != "RS256":
            raise bad_assertion(f"alg must be RS256, not {h.get('alg')!r}")
        if "typ" in h and str(h["typ"]).upper() != "JWT":
            raise bad_assertion(f"typ must be JWT, not {h['typ']!r}")
        wanted = {}   # header name -> raw digest
        for name, size, algo in (("x5t", 20, "SHA-1"), ("x5t#S256", 32, "SHA-256")):
            if name in h:
                v = h[name]
                raw = b64url_strict(v, f"header {name}") if isinstance(v, str) else None
                if raw is None or len(raw) != size:
                    got = f"{len(raw)} bytes" if raw is not None else "not a string"
                    raise bad_assertion(f"malformed JWT: header {name} must be the base64url of the {size}-byte {algo} "
                                        f"digest of the certificate's DER, got {got}")
                wanted[name] = raw
        if not wanted:
            raise bad_assertion("malformed JWT: the header has neither x5t nor x5t#S256")
        if not cert_paths:
            raise bad_assertion(f"client {cid} has no certificate configured")
        cert, known, unreadable = None, [], []
        for path in cert_paths:
            try:
                info = self.server.certs.load(path)
            except (OSError, ValueError, subprocess.SubprocessError) as e:
                unreadable.append(f"{path}: {e}")
                continue
            known.append(", ".join(f"{n}={b64url(info[n])}" for n in wanted))
            if all(info[n] == raw for n, raw in wanted.items()):
                cert = info
                break
        if unreadable:
            self.server.log_line(f"client {cid}: certificate unusable: {'; '.join(unreadable)}")
        if cert is None and not known:
            raise bad_assertion(f"no usable certificate for client {cid}: {'; '.join(unreadable)}")
        if cert is None:
            shown = ", ".join(f"{n}={b64url(raw)}" for n, raw in wanted.items())
            extra = f" (unusable: {'; '.join(unreadable)})" if unreadable else ""
            raise bad_assertion(f"unknown thumbprint {shown}: no certificate of client {cid} has it; "
                                f"known: {' | '.join(known) or 'none'}{extra}")
        if not self.server.certs.verify_rs256(cert, jwt["signed"], jwt["signature"]):
            raise bad_assertion(f"bad signature: it does not verify (RS256) with the public key of {cert['path']}")

        now = time.time()
        if not (cert["not_before"] <= now < cert["not_after"]):
            raise bad_assertion(f"the certificate {cert['path']} is outside its validity period")
        for claim in ("iss", "sub"):
            if p.get(claim) != cid:
                raise bad_assertion(f"{claim} must be the client_id {cid!r}, got {p.get(claim)!r}")
        host = self.headers.get("Host")
        audiences = [f"https://{self.server.server_address[0]}:{self.server.server_address[1]}/token"]
        if host and f"https://{host}/token" not in audiences:
            audiences.append(f"https://{host}/token")
        aud = p.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in audiences for a in auds):
            raise bad_assertion(f"wrong audience: aud {aud!r} is not this token endpoint ({' or '.join(audiences)})")

        def number(claim, required):
            v = p.get(claim)
            if v is None and not required:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise bad_assertion(f"malformed JWT: {claim} must be a number (seconds since 1970), got {v!r}")
            return v
        exp, nbf = number("exp", True), number("nbf", False)
        if exp <= now:
            raise bad_assertion(f"expired: exp {exp} is not after now ({int(now)})")
        if nbf is not None and nbf > now + ASSERTION_SKEW:
            raise bad_assertion(f"not yet valid: nbf {nbf} is more than {ASSERTION_SKEW} s after now ({int(now)})")
        start = nbf if nbf is not None else now
        if exp - start > ASSERTION_MAX_LIFETIME:
            raise bad_assertion(f"lifetime too long: exp - {'nbf' if nbf is not None else 'now'} = {int(exp - start)} s, "
                                f"at most {ASSERTION_MAX_LIFETIME} s")
        jti = p.get("jti")
        if not isinstance(jti, str) or not jti:
            raise bad_assertion("malformed JWT: jti (a unique id for replay detection) is missing")
        st = self.server.state
        with st.lock:
            for k in [k for k, e in st.seen_jti.items() if e <= now]:
                del st.seen_jti[k]   # an expired assertion is refused for its exp anyway
            if (cid, jti) in st.seen_jti:
                raise bad_assertion(f"replayed: jti {jti!r} has been used before")
            st.seen_jti[(cid, jti)] = exp
        used = next(iter(wanted))
        return f" auth=client_assertion {used}={b64url(cert[used])[:8]}… jti={jti[:12]}"

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
            if info is not None:
                per = st.stats["introspections_by_client"].setdefault(info["client"], {"active": 0, "inactive": 0})
                per["inactive" if why else "active"] += 1
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

    def admin_restore(self):
        cid = self.form().get("client_id")
        if not cid:
            raise OAuthError(400, "invalid_request", "client_id is missing")
        st = self.server.state
        with st.lock:
            was = cid in st.revoked
            st.revoked.discard(cid)
        self.reply(200, {"restored": cid, "was_revoked": was}, f"restored client={cid}")

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

    srv.log_line = log
    srv.config = Config(os.path.join(d, "oauth", "clients.json"), log)
    keydir = os.path.join(d, "oauth", "keys")
    os.makedirs(keydir, exist_ok=True)
    srv.certs = Certificates(keydir)
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
