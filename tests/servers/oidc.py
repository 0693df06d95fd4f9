#!/usr/bin/env python3
"""A real OpenID provider for tests: oidc-provider (a certified
implementation, pinned by tests/servers/oidc/package-lock.json, installed by
scripts/setup.sh --test) on a free loopback port, with the clients and
accounts a test gives. Its development login page accepts any login name;
`Browser` signs a person in there without a real browser, the way one would:
it follows the redirects and submits the forms the provider shows (login,
the device code, its confirmation), with its own cookie jar.

    p = OidcProvider(tmp, clients=[client("fn0", redirect_uris=[...])],
                     accounts={"admin@example.com": {"groups": ["ops"]}}).start()
    callback = Browser(p).authorize(authorization_url, "admin@example.com")
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path

import processes

HERE = Path(__file__).resolve().parent / "oidc"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(client_id: str, redirect_uris: list[str], secret: str | None = None, alg: str = "RS256") -> dict:
    """A client registration: the code flow (PKCE) and the device flow; a
    public client without `secret`."""
    c = {"client_id": client_id, "redirect_uris": redirect_uris, "response_types": ["code"],
         "grant_types": ["authorization_code", DEVICE_GRANT], "id_token_signed_response_alg": alg,
         "token_endpoint_auth_method": "none"}
    if secret:
        c["client_secret"] = secret
        c["token_endpoint_auth_method"] = "client_secret_basic"
    return c


class OidcProvider:
    def __init__(self, workdir: Path, clients: list[dict], accounts: dict | None = None,
                 id_token_claims: bool = False, https: dict | None = None, port: int | None = None,
                 host: str = "127.0.0.1"):
        """host: the issuer's host name; "localhost" makes the provider
        another site than a node on 127.0.0.1 for a browser (it listens on
        127.0.0.1 either way)."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.https = https  # {"cert": path, "key": path, "ca": path}
        scheme = "https" if https else "http"
        self.issuer = f"{scheme}://{host}:{self.port}"
        self.config = {"port": self.port, "issuer": self.issuer, "clients": clients, "accounts": accounts or {},
                       "id_token_claims": id_token_claims, "https": https}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "OidcProvider":
        # 90 s: once, on a loaded 2-core machine (the suites in parallel and
        # a Rust build), this Node.js process did not listen within 30 s.
        script = HERE / "provider.mjs"
        if not (HERE / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(f"{HERE}/node_modules/oidc-provider is missing: run scripts/setup.sh --test")
        node = shutil.which("node")
        if not node:
            raise RuntimeError("node is not on PATH")
        cfg = self.workdir / "provider.json"
        cfg.write_text(json.dumps(self.config))
        log = open(self.workdir / "provider.log", "ab")
        self.proc = subprocess.Popen([node, str(script), str(cfg)], stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log, cwd=HERE)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited ({self.proc.returncode}):\n{self.log()}")
            if "listening " in self.log():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the OpenID provider did not start within {timeout} s:\n{self.log()}")

    def restart(self) -> "OidcProvider":
        """Stops and starts it on the same port: new signing keys (new key
        ids), every session and code forgotten."""
        self.stop()
        (self.workdir / "provider.log").write_text("")
        return self.start()

    def log(self) -> str:
        try:
            return (self.workdir / "provider.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        processes.stop(self.proc)
        self.proc = None

    def discovery(self) -> dict:
        with urllib.request.urlopen(self.issuer + "/.well-known/openid-configuration", timeout=10,
                                    context=self._ssl()) as r:
            return json.load(r)

    def _ssl(self):
        if not self.https:
            return None
        return ssl.create_default_context(cafile=self.https.get("ca", self.https["cert"]))


class _Forms(HTMLParser):
    """The forms of a page: action, method, inputs (name -> value)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": (a.get("method") or "get").lower(),
                               "id": a.get("id", ""), "inputs": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["inputs"][a["name"]] = a.get("value") or ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A person's browser at the provider, without a browser: follows
    redirects and fills in the provider's forms, stopping at the first
    redirect that leaves the provider (fn0's callback)."""

    def __init__(self, provider: OidcProvider):
        self.provider = provider
        self.jar = CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()]
        if provider.https:
            handlers.append(urllib.request.HTTPSHandler(context=provider._ssl()))
        self.opener = urllib.request.build_opener(*handlers)

    def _open(self, url: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body)
        try:
            with self.opener.open(req, timeout=20) as r:
                return r.status, r.headers.get("location", ""), r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("location", ""), e.read().decode(errors="replace")

    def _walk(self, url: str, login: str, user_code: str | None = None, abort: bool = False,
              max_steps: int = 20) -> tuple[str, str]:
        """(the URL outside the provider it ended at, or "", the last page)."""
        data = None
        page = ""
        for _ in range(max_steps):
            status, location, page = self._open(url, data)
            data = None
            if status in (301, 302, 303, 307, 308) and location:
                url = urllib.parse.urljoin(url, location)
                if not url.startswith(self.provider.issuer + "/"):
                    return url, page
                continue
            if status >= 400:
                return "", page
            parser = _Forms()
            parser.feed(page)
            if not parser.forms:
                return "", page  # a final page (device flow: "Sign-in Success")
            form = parser.forms[0]
            fields = dict(form["inputs"])
            if "login" in fields:
                fields["login"], fields["password"] = login, "any"
            if "user_code" in fields and user_code is not None:
                fields["user_code"] = user_code
            url = urllib.parse.urljoin(url, form["action"])
            if abort and form["id"] == "op.deviceConfirmForm":
                # The provider answers an abort with its code page again
                # (saying so): that page is the end.
                fields["abort"] = "yes"
                return "", self._open(url, fields)[2]
            data = fields
        raise RuntimeError(f"no end after {max_steps} steps; last page:\n{page[:2000]}")

    def authorize(self, authorization_url: str, login: str) -> str:
        """Signs `login` in from the authorization request; returns the URL
        the provider sent the browser back to (fn0's callback with code and
        state)."""
        out, page = self._walk(authorization_url, login)
        if not out:
            raise RuntimeError(f"the provider did not redirect back:\n{page[:2000]}")
        return out

    def approve_device(self, verification_uri: str, user_code: str, login: str, abort: bool = False) -> str:
        """Enters the user code at the verification page, signs in, confirms
        (or aborts); returns the provider's last page."""
        out, page = self._walk(verification_uri, login, user_code=user_code, abort=abort)
        return page
