"""The server side of the dashboard on a real node: the embedded page with
its Content-Security-Policy, session login (cookie attributes, wrong
tokens, the limit on failed logins), CSRF and same-origin checks on
cookie-carried changes, logout, and the time series behind the charts
(/series, /functions/{name}/series, /stats) counting real requests.
The page itself is tested in a browser by test_dashboard.py."""
from __future__ import annotations

import json
import re
import time

import pytest

from node import TOKEN


def login(node, token=TOKEN, headers=()):
    r = node.client().request("POST", "/_fn0/api/v1/session", body=json.dumps({"token": token}).encode(),
                              headers=[("Content-Type", "application/json"), *headers])
    return r


def cookie_of(reply) -> str:
    m = re.match(r"fn0_session=([^;]*)", reply.header("set-cookie") or "")
    assert m, reply.headers
    return m.group(1)


def with_cookie(node, method, path, cookie, csrf=None, body=None, origin=None):
    headers = [("Cookie", f"fn0_session={cookie}")]
    if csrf:
        headers.append(("X-CSRF-Token", csrf))
    if origin:
        headers.append(("Origin", origin))
    if body is not None:
        headers.append(("Content-Type", "application/json"))
        body = json.dumps(body).encode()
    elif method in ("PUT", "POST"):
        body = b""
    return node.client().request(method, "/_fn0/api/v1" + path, body=body, headers=headers)


def test_the_page_and_its_assets_come_with_a_strict_csp(node):
    r = node.get("/_fn0/")
    assert r.status == 200
    assert r.header("content-type").startswith("text/html")
    csp = r.header("content-security-policy")
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert r.header("x-content-type-options") == "nosniff"
    assert r.header("cache-control") == "no-cache"
    html = r.body.decode()
    assert "<script>" not in html and "style=" not in html  # nothing inline
    assets = re.findall(r'(?:src|href)="(/_fn0/assets/[^"]+)"', html)
    for a in assets:
        got = node.get(a)
        assert got.status == 200, a
        assert "immutable" in got.header("cache-control")
        assert got.header("content-security-policy") == csp
    assert node.get("/_fn0/assets/nothing.js").status == 404
    redirect = node.get("/_fn0")
    assert redirect.status == 308 and redirect.header("location") == "/_fn0/"
    assert node.client().request("POST", "/_fn0/", body=b"").status == 405


def test_login_sets_a_strict_cookie_and_the_session_reads_the_api(node):
    assert json.loads(node.get("/_fn0/api/v1/session").body) == {"authenticated": False, "methods": ["token"]}
    r = login(node)
    assert r.status == 200, r.body
    setc = r.header("set-cookie")
    for attr in ("Path=/_fn0/", "HttpOnly", "SameSite=Strict", "Max-Age=43200"):
        assert attr in setc
    assert "Secure" not in setc  # plain HTTP here
    body = json.loads(r.body)
    assert body["authenticated"] and body["role"] == "admin" and len(body["csrf"]) >= 32
    assert body["expires_at"] > time.time() + 12 * 3600 - 60
    cookie = cookie_of(r)
    assert TOKEN not in setc and len(cookie) >= 32
    me = with_cookie(node, "GET", "/session", cookie)
    assert json.loads(me.body)["csrf"] == body["csrf"]
    assert with_cookie(node, "GET", "/functions", cookie).status == 200
    assert with_cookie(node, "GET", "/functions", "not-a-session").status == 401
    # Behind a TLS-terminating proxy the cookie is Secure.
    tls = login(node, headers=[("X-Forwarded-Proto", "https")])
    assert "; Secure" in tls.header("set-cookie")


def test_wrong_tokens_are_refused_and_then_limited(node):
    for _ in range(5):
        r = login(node, token="wrong-token-0000000000")
        assert r.status == 401 and r.header("fn0-error") == "unauthorized"
        assert r.header("set-cookie") is None
    r = login(node, token="wrong-token-0000000000")
    assert r.status == 429 and r.header("fn0-error") == "too-many-logins"
    assert 1 <= int(r.header("retry-after")) <= 60
    # Even the right token waits out the window from that address.
    assert login(node).status == 429
    assert node.api("GET", "/functions").status == 200  # bearer tokens are not affected


def test_changes_with_the_cookie_need_the_csrf_token_and_this_origin(node, examples_dir):
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    r = login(node)
    cookie, csrf = cookie_of(r), json.loads(r.body)["csrf"]
    own = f"http://127.0.0.1:{node.port}"
    # A cross-site form post carries the cookie but not the token.
    no_token = with_cookie(node, "PUT", "/functions/hello/env/A", cookie, body={"value": "1"}, origin="https://evil.example")
    assert no_token.status == 403 and no_token.header("fn0-error") == "csrf"
    wrong = with_cookie(node, "PUT", "/functions/hello/env/A", cookie, csrf="0" * len(csrf), body={"value": "1"})
    assert wrong.status == 403
    foreign = with_cookie(node, "PUT", "/functions/hello/env/A", cookie, csrf=csrf, body={"value": "1"},
                          origin="https://evil.example")
    assert foreign.status == 403
    assert "A" not in json.loads(node.api("GET", "/functions/hello/env").body)
    ok = with_cookie(node, "PUT", "/functions/hello/env/A", cookie, csrf=csrf, body={"value": "1"}, origin=own)
    assert ok.status == 200, ok.body
    assert json.loads(node.api("GET", "/functions/hello/env").body)["A"] == "1"
    # A login from another site's page is refused too.
    assert login(node, headers=[("Origin", "https://evil.example")]).status == 403


def test_logout_ends_the_session_for_good(node):
    r = login(node)
    cookie, csrf = cookie_of(r), json.loads(r.body)["csrf"]
    assert with_cookie(node, "DELETE", "/session", cookie).status == 403  # logout needs the token too
    out = with_cookie(node, "DELETE", "/session", cookie, csrf=csrf)
    assert out.status == 200
    assert "Max-Age=0" in out.header("set-cookie")
    assert with_cookie(node, "GET", "/functions", cookie).status == 401
    assert json.loads(with_cookie(node, "GET", "/session", cookie).body)["authenticated"] is False


def test_sessions_survive_a_restart_and_live_in_the_registry_hashed(node_factory, tmp_path):
    data = tmp_path / "data-restart"
    n = node_factory(data_dir=data)
    r = login(n)
    cookie = cookie_of(r)
    n.stop()
    n2 = node_factory(data_dir=data)
    assert with_cookie(n2, "GET", "/functions", cookie).status == 200
    raw = (data / "registry.db").read_bytes()
    assert cookie.encode() not in raw  # only its hash is stored


def series(node, path="/series", **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    r = node.api("GET", path + (f"?{qs}" if qs else ""))
    assert r.status == 200, r.body
    return json.loads(r.body)


def series_once(node, recorded, path="/series", **q):
    """The series once `recorded(points)` holds, or after 5 s: the node
    records a request once its answer is written, so a client can ask
    before that. A record that never comes still fails the caller's check."""
    deadline = time.monotonic() + 5
    while True:
        s = series(node, path, **q)
        if recorded(s["points"]) or time.monotonic() > deadline:
            return s
        time.sleep(0.05)


def test_series_and_stats_count_real_requests(node, examples_dir):
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert node.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    for _ in range(20):
        assert node.get("/hello/").status == 200
    for _ in range(3):
        assert node.get("/echo/").status == 200
    assert node.get("/nothing-here/").status == 404  # not a function: not counted
    s = series_once(node, lambda pts: sum(p["requests"] for p in pts) >= 23)
    assert s["step_s"] == 10 and len(s["points"]) == 360
    ts = [p["t"] for p in s["points"]]
    assert ts == sorted(ts) and all(b - a == 10 for a, b in zip(ts, ts[1:]))
    assert s["points"][-1]["partial"] is True and s["points"][0]["partial"] is False
    assert sum(p["requests"] for p in s["points"]) == 23
    busy = [p for p in s["points"] if p["requests"]]
    assert all(p["p50_ms"] is not None and 0 < p["p50_ms"] <= p["p99_ms"] < 1000 for p in busy)
    assert all(p["p50_ms"] is None for p in s["points"] if not p["requests"])
    f = series(node, "/functions/hello/series", minutes=5)
    assert len(f["points"]) == 30 and sum(p["requests"] for p in f["points"]) == 20
    assert f["function"] == "hello"
    st = json.loads(node.api("GET", "/stats?window_s=60").body)
    assert st["functions"]["hello"]["requests"] == 20 and st["functions"]["echo"]["requests"] == 3
    assert st["node"]["requests"] == 23 and st["node"]["errors"] == 0
    assert st["functions"]["hello"]["rps"] > 0
    assert node.api("GET", "/functions/nope/series").status == 404
    assert node.api("GET", "/series?minutes=61").status == 400
    assert node.api("GET", "/stats?window_s=abc").status == 400


def test_errors_and_limit_hits_show_in_the_series(node, guests_dir):
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    r = node.get("/hostile/loop")
    assert r.status >= 500
    pts = series_once(node, lambda pts: sum(p["errors"] for p in pts) >= 1, "/functions/hostile/series",
                      minutes=1)["points"]
    assert sum(p["errors"] for p in pts) == 1
    assert sum(p["limit_hits"] for p in pts) == 1


def test_deleting_a_function_with_data_says_how_much_in_fields_too(node, examples_dir):
    assert node.deploy("full", examples_dir / "hello-c.wasm").status == 201
    for k in ("a", "bb"):
        assert node.api("PUT", f"/functions/full/kv/{k}", b"value", content_type="application/octet-stream").status == 200
    r = node.api("DELETE", "/functions/full")
    assert r.status == 409 and r.header("fn0-error") == "has-data", (r.status, r.body)
    body = json.loads(r.body)
    assert body["error"] == "has-data" and body["keys"] == 2 and body["bytes"] >= len("a" "bb" "value" "value")
    assert f"has 2 keys ({body['bytes']} bytes)" in body["message"] and body["request_id"]
    assert node.api("DELETE", "/functions/full?kv=keep").status == 200
