"""People's logins through a real OpenID provider (oidc-provider, started on
loopback by tests/servers/oidc.py; no mock): the dashboard's code flow with
PKCE and the CLI's device login, each as admin, as viewer (who cannot
deploy) and as somebody no rule names; replayed and forged callbacks; key
rotation at the provider; a confidential client whose provider signs with
ES256; TLS with a private CA; a cluster where the login ends on another
node; the audit log of all of it; and the dashboard in a real browser.
The ID token's own checks (tampered, expired, another audience...) are
unit tests with keys made in the test: src/oidc/oidc_test.cc."""
from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))

from cluster import Cluster  # noqa: E402
from http_client import HttpClient, free_port  # noqa: E402
from node import TOKEN, Node  # noqa: E402
from oidc import Browser, OidcProvider, client  # noqa: E402

ACCOUNTS = {
    "admin@example.com": {"groups": ["ops"]},
    "viewer@example.com": {"groups": ["staff"]},
    "dev@example.com": {"groups": ["api-team"]},
    "unverified@example.com": {"email_verified": False},
}
SECRET = "fn0-test-client-secret-0123456789"
RULES = ("--oidc-admin", "group:ops", "--oidc-deployer", "group:api-team=api-*", "--oidc-viewer", "*@example.com")
SCOPES = "openid email groups"


@pytest.fixture(scope="module")
def node_port() -> int:
    """The port every node of this module listens on (the provider knows its
    redirect URI in advance, as a real one would)."""
    return free_port()


@pytest.fixture(scope="module")
def redirect_uri(node_port) -> str:
    return f"http://127.0.0.1:{node_port}/_fn0/auth/oidc/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory, redirect_uri):
    p = OidcProvider(tmp_path_factory.mktemp("oidc"), accounts=ACCOUNTS, clients=[
        client("fn0", [redirect_uri]),
        client("fn0-secret", [redirect_uri], secret=SECRET, alg="ES256"),
    ]).start()
    yield p
    p.stop()


@pytest.fixture
def start_node(build_dir, tmp_path, provider, node_port):
    """start_node(*extra, client_id=..., rules=RULES, data=...) -> a Node with
    OIDC login, on the module's port; killed after the test."""
    started: list[Node] = []

    def make(*extra, client_id="fn0", rules=RULES, data=None, issuer=None, env=None):
        for n in started:
            n.kill()
        args = ["--oidc-issuer", issuer or provider.issuer, "--oidc-client-id", client_id, "--oidc-scopes", SCOPES,
                *rules, *extra]
        n = Node(build_dir, data or tmp_path / "data", *args, listen=f"127.0.0.1:{node_port}", env=env).start()
        started.append(n)
        return n

    yield make
    for n in started:
        n.kill()


# ---- helpers -------------------------------------------------------------------

def set_cookies(reply) -> dict[str, str]:
    out = {}
    for k, v in reply.headers:
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            out[name] = rest.split(";", 1)[0]
    return out


def begin(node) -> tuple[str, str]:
    """GET /start: (the provider URL it sends the browser to, the binding cookie)."""
    r = node.get("/_fn0/auth/oidc/start")
    assert r.status == 302, (r.status, r.body)
    binding = set_cookies(r).get("fn0_oidc")
    assert binding, r.headers
    return r.header("location"), binding


def callback(node, url: str, binding: str | None):
    u = urllib.parse.urlparse(url)
    headers = [("Cookie", f"fn0_oidc={binding}")] if binding else []
    return node.get(u.path + "?" + u.query, headers=headers)


def login_error(reply) -> str:
    """The error code a refused callback sends the dashboard."""
    assert reply.status == 303, (reply.status, reply.body)
    loc = reply.header("location")
    assert loc.startswith("/_fn0/#/login?error="), loc
    assert "fn0_session" not in set_cookies(reply)
    return loc.split("=", 1)[1]


def dashboard_login(node, provider, who: str) -> tuple[str, dict]:
    """The whole code flow as a browser does it: (session cookie, GET /session)."""
    location, binding = begin(node)
    r = callback(node, Browser(provider).authorize(location, who), binding)
    assert r.status == 303, (r.status, r.body, r.header("location"))
    assert r.header("location") == "/_fn0/"
    cookies = set_cookies(r)
    assert cookies.get("fn0_oidc") == "", "the binding cookie is cleared"
    cookie = cookies["fn0_session"]
    s = node.get("/_fn0/api/v1/session", headers=[("Cookie", f"fn0_session={cookie}")])
    return cookie, json.loads(s.body)


def with_session(node, method, path, cookie, csrf=None, body=None, content_type=None):
    headers = [("Cookie", f"fn0_session={cookie}"), ("Origin", f"http://127.0.0.1:{node.port}")]
    if csrf:
        headers.append(("X-CSRF-Token", csrf))
    if content_type:
        headers.append(("Content-Type", content_type))
    if body is None and method in ("POST", "PUT"):
        body = b""
    return node.client().request(method, "/_fn0/api/v1" + path, body=body, headers=headers)


def audit(node, **query) -> list[dict]:
    r = node.api("GET", "/audit?" + urllib.parse.urlencode(query))
    assert r.status == 200, r.body
    return json.loads(r.body)["entries"]


# ---- the dashboard's code flow -------------------------------------------------

def test_admin_logs_in_on_the_dashboard_and_deploys(start_node, provider, examples_dir):
    node = start_node()
    anonymous = json.loads(node.get("/_fn0/api/v1/session").body)
    assert anonymous["methods"] == ["token", "oidc"] and anonymous["oidc_provider"] == "SSO"
    location, _ = begin(node)
    q = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    assert location.startswith(provider.issuer + "/auth?")
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["redirect_uri"] == [f"http://127.0.0.1:{node.port}/_fn0/auth/oidc/callback"]
    assert q["client_id"] == ["fn0"] and q["scope"] == [SCOPES] and q["state"] and q["nonce"]

    cookie, session = dashboard_login(node, provider, "admin@example.com")
    assert session["authenticated"] and session["role"] == "admin"
    assert session["subject"] == "admin@example.com"
    wasm = (examples_dir / "hello-c.wasm").read_bytes()
    r = with_session(node, "POST", "/functions/hello/versions", cookie, session["csrf"], wasm, "application/wasm")
    assert r.status == 201, r.body
    assert b"Hello from fn0" in node.get("/hello/").body
    # A change without the CSRF token is still refused: an OIDC session is a session.
    assert with_session(node, "PUT", "/functions/hello/env/A", cookie, None, b'{"value":"1"}',
                        "application/json").status == 403
    logins = audit(node, action="login")
    assert logins[0]["actor"] == "admin@example.com" and logins[0]["via"] == "session"
    assert logins[0]["role"] == "admin" and logins[0]["detail"] == {"method": "oidc", "flow": "code"}
    deploy = audit(node, action="deploy")[0]
    assert deploy["actor"] == "admin@example.com" and deploy["status"] == 201
    # Logging out ends it.
    assert with_session(node, "DELETE", "/session", cookie, session["csrf"]).status == 200
    assert with_session(node, "GET", "/functions", cookie).status == 401


def test_a_viewer_reads_and_cannot_deploy(start_node, provider, examples_dir):
    node = start_node()
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    cookie, session = dashboard_login(node, provider, "viewer@example.com")
    assert session["role"] == "viewer" and session["subject"] == "viewer@example.com"
    assert with_session(node, "GET", "/functions", cookie).status == 200
    assert with_session(node, "GET", "/functions/hello/logs", cookie).status == 200
    wasm = (examples_dir / "hello-c.wasm").read_bytes()
    r = with_session(node, "POST", "/functions/hello/versions", cookie, session["csrf"], wasm, "application/wasm")
    assert r.status == 403 and r.header("fn0-error") == "forbidden", r.body
    assert "viewer@example.com" in json.loads(r.body)["message"]
    refused = audit(node, action="deploy")[0]
    assert refused["actor"] == "viewer@example.com" and refused["status"] == 403


def test_a_deployer_rule_scopes_functions(start_node, provider, examples_dir):
    node = start_node()
    cookie, session = dashboard_login(node, provider, "dev@example.com")
    assert session["role"] == "deployer"
    wasm = (examples_dir / "hello-c.wasm").read_bytes()
    for name, want in (("api-users", 201), ("billing", 403)):
        r = with_session(node, "POST", f"/functions/{name}/versions", cookie, session["csrf"], wasm, "application/wasm")
        assert r.status == want, (name, r.body)


def test_somebody_no_rule_names_is_refused(start_node, provider):
    node = start_node()
    for who, reason in (("stranger@other.org", "no rule"), ("unverified@example.com", "no rule")):
        location, binding = begin(node)
        assert login_error(callback(node, Browser(provider).authorize(location, who), binding)) == "oidc-unmapped"
        failed = audit(node, action="login.failed")[0]
        assert failed["actor"] == who and failed["detail"]["method"] == "oidc"
        assert reason in failed["detail"]["reason"], failed
    assert not audit(node, action="login")


def test_replayed_forged_and_foreign_callbacks_are_refused(start_node, provider):
    node = start_node()
    location, binding = begin(node)
    back = Browser(provider).authorize(location, "admin@example.com")
    # Another browser (no binding cookie, or another one) cannot finish it...
    assert login_error(callback(node, back, None)) == "oidc-state"
    # ...and the attempt used the login up: the right browser now cannot either.
    assert login_error(callback(node, back, binding)) == "oidc-state"

    location, binding = begin(node)
    back = Browser(provider).authorize(location, "admin@example.com")
    assert callback(node, back, binding).status == 303
    assert login_error(callback(node, back, binding)) == "oidc-state"  # replayed

    # A state this node never made; a right state with a made-up code.
    u = urllib.parse.urlparse(back)
    forged = back.replace(urllib.parse.parse_qs(u.query)["state"][0], "0" * 32)
    assert login_error(callback(node, forged, binding)) == "oidc-state"
    location, binding = begin(node)
    state = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["state"][0]
    made_up = f"/_fn0/auth/oidc/callback?code=made-up&state={state}"
    assert login_error(callback(node, "http://x" + made_up, binding)) == "oidc-failed"
    # The provider's answer names another issuer (a mix-up).
    location, binding = begin(node)
    back = Browser(provider).authorize(location, "admin@example.com")
    mixed = re.sub(r"iss=[^&]+", "iss=" + urllib.parse.quote("https://evil.example", safe=""), back)
    assert login_error(callback(node, mixed, binding)) == "oidc-failed"
    reasons = [e["detail"]["reason"] for e in audit(node, action="login.failed")]
    assert any("another browser" in r for r in reasons)
    assert any("used or expired" in r for r in reasons)
    assert any("refused the code" in r for r in reasons)
    assert any("another issuer" in r for r in reasons)
    assert len(audit(node, action="login")) == 1


def test_the_provider_rotating_its_keys(start_node, provider):
    node = start_node()
    assert dashboard_login(node, provider, "admin@example.com")[1]["role"] == "admin"
    old = provider.discovery()
    provider.restart()  # new keys, new key ids; the node holds the old set
    assert provider.discovery()["jwks_uri"] == old["jwks_uri"]
    assert dashboard_login(node, provider, "admin@example.com")[1]["role"] == "admin"


def test_a_confidential_client_and_es256(start_node, provider, tmp_path):
    secret_file = tmp_path / "client-secret"
    secret_file.write_text(SECRET + "\n")
    node = start_node("--oidc-client-secret-file", str(secret_file), client_id="fn0-secret")
    assert dashboard_login(node, provider, "viewer@example.com")[1]["role"] == "viewer"
    # The wrong secret: the provider refuses the code.
    secret_file.write_text("not-the-secret\n")
    node = start_node("--oidc-client-secret-file", str(secret_file), client_id="fn0-secret", data=tmp_path / "d2")
    location, binding = begin(node)
    assert login_error(callback(node, Browser(provider).authorize(location, "viewer@example.com"), binding)) == "oidc-failed"


def test_the_rules_in_force_apply_to_open_sessions(start_node, provider, tmp_path):
    node = start_node(data=tmp_path / "d")
    cookie, session = dashboard_login(node, provider, "admin@example.com")
    assert session["role"] == "admin"
    # Restarted with ops demoted to viewers: the same session is a viewer's now.
    node = start_node(rules=("--oidc-viewer", "group:ops"), data=tmp_path / "d")
    s = json.loads(with_session(node, "GET", "/session", cookie).body)
    assert s["authenticated"] and s["role"] == "viewer"
    # Restarted without a rule for them: the session stands for nobody.
    node = start_node(rules=("--oidc-admin", "group:other"), data=tmp_path / "d")
    assert with_session(node, "GET", "/functions", cookie).status == 401


def test_configuration_mistakes(build_dir, tmp_path, provider):
    def serve(*args):
        return subprocess.run([str(build_dir / "fn0"), "serve", "--listen", "127.0.0.1:0", "--data-dir",
                               str(tmp_path / "d"), *args], capture_output=True, text=True, timeout=30)
    r = serve("--oidc-issuer", "http://id.example.com", "--oidc-client-id", "fn0", "--oidc-admin", "a@b.c")
    assert r.returncode == 2 and "https" in r.stderr, r.stderr
    r = serve("--oidc-issuer", provider.issuer, "--oidc-client-id", "fn0")
    assert r.returncode == 2 and "--oidc-admin" in r.stderr, r.stderr
    r = serve("--oidc-issuer", provider.issuer, "--oidc-client-id", "fn0", "--oidc-admin", "not-an-address")
    assert r.returncode == 2 and "not an e-mail" in r.stderr, r.stderr
    r = serve("--oidc-admin", "a@b.c")
    assert r.returncode == 2 and "--oidc-issuer" in r.stderr, r.stderr


def test_an_unreachable_provider(start_node, provider):
    dead = f"http://127.0.0.1:{free_port()}"
    node = start_node(issuer=dead)
    assert login_error(node.get("/_fn0/auth/oidc/start")) == "oidc-unavailable"
    r = node.client().request("POST", "/_fn0/auth/oidc/device", body=b"")
    assert r.status == 502 and r.header("fn0-error") == "oidc-unavailable", r.body
    assert "discovery" in audit(node, action="login.failed")[0]["detail"]["reason"]


def test_without_oidc_the_endpoints_are_not_there(node):
    assert json.loads(node.get("/_fn0/api/v1/session").body) == {"authenticated": False, "methods": ["token"]}
    assert node.get("/_fn0/auth/oidc/start").status == 404


# ---- the CLI's device login ------------------------------------------------------

class CliLogin:
    """`fn0 login --oidc` running; `url`/`code` once it printed them."""

    def __init__(self, build_dir, node, home: Path):
        self.env = {k: v for k, v in os.environ.items() if k not in ("FN0_SERVER", "FN0_TOKEN")}
        self.env["XDG_CONFIG_HOME"] = str(home)
        self.build_dir = build_dir
        self.proc = subprocess.Popen([str(build_dir / "fn0"), "login", "--server", f"http://127.0.0.1:{node.port}",
                                      "--oidc", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env, text=True)
        self.err = ""
        deadline = time.monotonic() + 30
        while "code " not in self.err and time.monotonic() < deadline and self.proc.poll() is None:
            self.err += self.proc.stderr.readline()
        m = re.search(r"open (\S+)\nand check that it shows the code (\S+)", self.err)
        assert m, self.err + (self.proc.stdout.read() if self.proc.poll() is not None else "")
        self.url, self.code = m.group(1), m.group(2)

    def wait(self) -> tuple[int, dict | None, str]:
        out, err = self.proc.communicate(timeout=90)
        self.err += err
        if self.proc.returncode != 0:
            self.err += out  # with --json the failure is a JSON object on stdout
        try:
            body = json.loads(out)
        except ValueError:
            body = None
        return self.proc.returncode, body, self.err

    def fn0(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.build_dir / "fn0"), *args], capture_output=True, text=True, env=self.env,
                              timeout=120)


def test_cli_device_login_as_admin(build_dir, start_node, provider, tmp_path, examples_dir):
    node = start_node()
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    cli = CliLogin(build_dir, node, tmp_path / "home")
    assert cli.code in cli.url and cli.url.startswith(provider.issuer + "/device")
    page = Browser(provider).approve_device(cli.url, cli.code, "admin@example.com")
    assert "Sign-in Success" in page, page[-500:]
    code, body, err = cli.wait()
    assert code == 0, err
    assert body["subject"] == "admin@example.com" and body["role"] == "admin"
    assert 12 * 3600 - 60 < body["expires_at"] - time.time() <= 12 * 3600
    config = (tmp_path / "home" / "fn0" / "config.toml").read_text()
    token = re.search(r'token = "(fn0s_[0-9a-f]+)"', config).group(1)
    listed = cli.fn0("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "hello" in listed.stdout
    deployed = cli.fn0("deploy", str(examples_dir / "echo-c.wasm"), "--name", "hello")
    assert deployed.returncode == 0, deployed.stderr
    # The credential works as a bearer without CSRF, and as a cookie it can change nothing.
    assert node.api("GET", "/functions", token=token).status == 200
    assert with_session(node, "GET", "/functions", token).status == 200
    assert with_session(node, "PUT", "/functions/hello/env/A", token, None, b'{"value":"1"}',
                        "application/json").status == 403
    login = audit(node, action="login")[0]
    assert login["actor"] == "admin@example.com" and login["detail"] == {"method": "oidc", "flow": "device"}
    assert audit(node, action="deploy")[0]["actor"] == "admin@example.com"


def test_cli_device_login_as_viewer_cannot_deploy(build_dir, start_node, provider, tmp_path, examples_dir):
    node = start_node()
    cli = CliLogin(build_dir, node, tmp_path / "home")
    Browser(provider).approve_device(cli.url, cli.code, "viewer@example.com")
    code, body, err = cli.wait()
    assert code == 0 and body["role"] == "viewer", err
    assert cli.fn0("list").returncode == 0
    r = cli.fn0("deploy", str(examples_dir / "hello-c.wasm"), "--name", "hello")
    assert r.returncode != 0
    assert "403" in r.stderr or "may only read" in r.stderr, r.stderr


def test_cli_device_login_refused(build_dir, start_node, provider, tmp_path):
    node = start_node()
    cli = CliLogin(build_dir, node, tmp_path / "home")
    Browser(provider).approve_device(cli.url, cli.code, "admin@example.com", abort=True)
    code, _, err = cli.wait()
    assert code != 0 and "refused at the provider" in err, err
    cli = CliLogin(build_dir, node, tmp_path / "home")
    Browser(provider).approve_device(cli.url, cli.code, "stranger@other.org")
    code, _, err = cli.wait()
    assert code != 0 and "no rule" in err, err
    assert not (tmp_path / "home" / "fn0" / "config.toml").exists()
    failed = audit(node, action="login.failed")
    assert failed[0]["actor"] == "stranger@other.org" and failed[0]["detail"]["flow"] == "device"
    assert "refused at the provider" in failed[1]["detail"]["reason"]
    # An unknown handle.
    r = node.client().request("POST", "/_fn0/auth/oidc/device/poll", body=b'{"handle": "nope"}',
                              headers=[("Content-Type", "application/json")])
    assert r.status == 410


# ---- TLS, a cluster, a browser -------------------------------------------------------

def make_ca(d: Path) -> tuple[Path, Path, Path]:
    """A private CA and a certificate for 127.0.0.1 it signed: (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fn0 test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = d / "ca.pem", d / "cert.pem", d / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_an_https_provider_with_a_private_ca(start_node, tmp_path, redirect_uri):
    ca, cert, key = make_ca(tmp_path)
    p = OidcProvider(tmp_path / "tls", accounts=ACCOUNTS, clients=[client("fn0", [redirect_uri])],
                     https={"cert": str(cert), "key": str(key), "ca": str(ca)}).start()
    try:
        assert p.issuer.startswith("https://")
        # Not trusted by the system's store: refused.
        node = start_node(issuer=p.issuer)
        assert login_error(node.get("/_fn0/auth/oidc/start")) == "oidc-unavailable"
        assert "TLS" in audit(node, action="login.failed")[0]["detail"]["reason"]
        node = start_node("--oidc-ca-file", str(ca), issuer=p.issuer, data=tmp_path / "d2")
        assert dashboard_login(node, p, "admin@example.com")[1]["role"] == "admin"
    finally:
        p.stop()


def test_a_login_ends_on_another_node_of_a_cluster(build_dir, tmp_path, provider, node_port):
    c = Cluster(build_dir, tmp_path)
    try:
        args = ["--oidc-issuer", provider.issuer, "--oidc-client-id", "fn0", "--oidc-scopes", SCOPES, *RULES,
                "--public-url", f"http://127.0.0.1:{node_port}"]
        a = c.node("a", *args, listen=f"127.0.0.1:{node_port}")
        b = c.node("b", *args)
        location, binding = begin(a)
        back = Browser(provider).authorize(location, "admin@example.com")
        r = callback(b, back, binding)  # the balancer sent the callback to b
        assert r.status == 303 and r.header("location") == "/_fn0/", (r.status, r.header("location"))
        cookie = set_cookies(r)["fn0_session"]
        for n in (a, b):
            s = json.loads(with_session(n, "GET", "/session", cookie).body)
            assert s["role"] == "admin" and s["subject"] == "admin@example.com"
        # The device login: begun on b, polled on a.
        r = b.client().request("POST", "/_fn0/auth/oidc/device", body=b"")
        assert r.status == 200, r.body
        d = json.loads(r.body)
        Browser(provider).approve_device(d["verification_uri_complete"], d["user_code"], "viewer@example.com")
        body = json.dumps({"handle": d["handle"]}).encode()
        deadline = time.monotonic() + 60
        while True:
            r = a.client().request("POST", "/_fn0/auth/oidc/device/poll", body=body)
            assert r.status == 200, r.body
            p = json.loads(r.body)
            if p["status"] == "done" or time.monotonic() > deadline:
                break
            time.sleep(p["interval"])
        assert p["status"] == "done" and p["role"] == "viewer"
        assert b.api("GET", "/functions", token=p["token"]).status == 200
    finally:
        c.close()


def test_the_dashboard_in_a_browser(start_node, tmp_path, redirect_uri):
    """Chromium follows the real redirects, with the provider on another site
    (localhost, the node on 127.0.0.1): the binding cookie comes back with
    the provider's redirect, and the session cookie set at the end of that
    cross-site chain reaches the API; a refused sign-in is said on the
    login page."""
    from dashboard_browser import CHROMIUM, launch
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: scripts/setup.sh --test installs Debian's chromium")
    provider = OidcProvider(tmp_path / "idp", accounts=ACCOUNTS, clients=[client("fn0", [redirect_uri])],
                            host="localhost").start()
    node = start_node("--oidc-name", "Example ID", issuer=provider.issuer)
    try:
        _browse(node, provider, expect, sync_playwright, launch)
    finally:
        provider.stop()


def _browse(node, provider, expect, sync_playwright, launch):
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            for who, role in (("admin@example.com", "admin"), ("stranger@other.org", None)):
                ctx = browser.new_context()
                page = ctx.new_page()
                page.goto(f"http://127.0.0.1:{node.port}/_fn0/")
                page.get_by_role("link", name="Sign in with Example ID").click()
                page.wait_for_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
                page.fill("input[name=login]", who)
                page.fill("input[name=password]", "any")
                page.click("button[type=submit]")
                if role:
                    page.wait_for_url(re.compile(r"/_fn0/(#/)?$"), timeout=20_000)
                    s = page.evaluate("() => fetch('/_fn0/api/v1/session').then(r => r.json())")
                    assert s["authenticated"] and s["role"] == role and s["subject"] == who, s
                    expect(page.get_by_text(who).first).to_be_visible(timeout=20_000)
                else:
                    page.wait_for_url(re.compile(r"#/login\?error=oidc-unmapped"))
                    expect(page.get_by_role("alert")).to_contain_text("gives your account no role")
                ctx.close()
        finally:
            browser.close()
