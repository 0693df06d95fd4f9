"""Hardening of the admin API and the invoker (issue 10): bounded route
matching, range-checked settings, checked variable names, per-function
concurrency shares, deploys that store nothing when rejected and do not
wait for each other, a CPU limit hit mid-upload, and a metrics token. Each
test drives the real node over loopback, with real components."""
from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import urllib.parse

from node import TOKEN

METRICS_TOKEN = "metrics-token-0123456789"


def metric(text: str, line_prefix: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.split()[-1])
    return 0.0


def metrics(node, token: str | None = None) -> str:
    headers = [("Authorization", f"Bearer {token}")] if token else []
    r = node.get("/_fn0/metrics", headers=headers)
    assert r.status == 200, r.body
    return r.body.decode()


def wait_for(predicate, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    """One whole HTTP/1.1 response with a Content-Length (what the node sends
    for platform errors); raises if the connection ends before it is whole."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed inside the head: {data[:200]!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"truncated body: {len(body)} of {length} bytes")
        body += chunk
    return status, headers, body[:length]


def raw_request(port: int, data: bytes, timeout: float = 30) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_response(s)


# ---- A: route matching ---------------------------------------------------------


def test_a_megabyte_api_path_segment_gets_a_4xx_and_the_node_lives(node_factory):
    # Headers big enough that the request reaches the admin API (the default
    # 128 KiB would stop it in the HTTP layer).
    node = node_factory("--max-header-kb", "4096")
    for path in ("/_fn0/api/v1/functions/" + "a" * (1 << 20),
                 "/_fn0/api/v1/functions/" + "a/" * 200_000 + "env",
                 "/_fn0/api/v1/functions/" + "%" * 100_000):
        req = (f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
               "Connection: close\r\n\r\n").encode()
        status, _, _ = raw_request(node.port, req)
        assert 400 <= status < 500, status
        assert node.get("/_fn0/healthz").status == 200
    assert node.proc.poll() is None
    # Ordinary paths still route, with their parameters percent-decoded.
    assert node.api("GET", "/functions/nope").status == 404
    assert node.api("GET", "/functions/%6eope/env").status == 404
    r = node.api("DELETE", "/functions/x/env/%zz")
    assert r.status == 400 and r.header("fn0-error") == "bad-request"


# ---- B: settings and variables ---------------------------------------------------


def test_settings_out_of_range_are_refused_with_the_range(node, guests_dir):
    node.deploy("g", guests_dir / "hostile-c.wasm")
    for bad in ({"cpu_ms": 2**64 - 1}, {"cpu_ms": -1}, {"cpu_ms": 1.5}, {"cpu_ms": "10"}, {"cpu_ms": 2**64},
                {"cpu_ms": 0}):
        r = node.api("PUT", "/functions/g/settings", bad)
        assert r.status == 400 and r.header("fn0-error") == "bad-request", (bad, r.body)
        assert "cpu_ms must be an integer between 1 and 600000" in json.loads(r.body)["message"], r.body
    r = node.api("PUT", "/functions/g/settings", {"duration_ms": 2**64 - 1})
    assert r.status == 400 and b"duration_ms must be an integer between 1 and 3600000" in r.body
    r = node.api("PUT", "/functions/g/settings", {"memory_mb": 2**63})
    assert r.status == 400 and b"memory_mb must be an integer between 1 and 65536" in r.body
    assert json.loads(node.api("GET", "/functions/g/settings").body) == {}  # nothing was stored
    # The node's maxima hold: 10 ms of CPU, however the settings were tried.
    start = time.monotonic()
    assert node.get("/g/loop").header("fn0-error") == "cpu-limit"
    assert time.monotonic() - start < 5
    # A valid tightening is stored and enforced.
    r = node.api("PUT", "/functions/g/settings", {"duration_ms": 300})
    assert r.status == 200, r.body
    assert json.loads(node.api("GET", "/functions/g/settings").body) == {"duration_ms": 300}
    r = node.get("/g/sleep?ms=5000")
    assert r.status == 504 and r.header("fn0-error") == "duration-limit"
    assert node.get("/g/sleep?ms=10").status == 200


def test_bad_variable_names_and_values_are_refused_and_the_function_keeps_answering(node, guests_dir):
    node.deploy("g", guests_dir / "hostile-c.wasm")
    for kind in ("env", "secrets"):
        for key in ("a=b", "%00", "A%00B", "%FF", "", "2X", "A-B", "%C3%A9", "x" * 257):
            r = node.api("PUT", f"/functions/g/{kind}/{key}", {"value": "v"})
            assert r.status == 400 and r.header("fn0-error") == "bad-request", (kind, key, r.status, r.body)
        for value in ("a\u0000b", "x" * 32769):
            r = node.api("PUT", f"/functions/g/{kind}/OK", {"value": value})
            assert r.status == 400, (kind, value[:8], r.body)
    # Raw bytes that are not UTF-8, not percent-encoded.
    status, _, _ = raw_request(node.port, b"PUT /_fn0/api/v1/functions/g/env/\xff\xfe HTTP/1.1\r\nHost: x\r\n"
                               b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: 13\r\n"
                               b"Connection: close\r\n\r\n{\"value\":\"v\"}")
    assert status == 400
    assert json.loads(node.api("GET", "/functions/g/env").body) == {}
    assert json.loads(node.api("GET", "/functions/g/secrets").body) == {"secrets": []}
    assert node.api("PUT", "/functions/g/env/GOOD_1", {"value": "yes = é"}).status == 200
    r = node.get("/g/env?name=GOOD_1")
    assert r.status == 200 and r.body == "yes = é".encode()


def test_a_bad_name_already_in_the_registry_does_not_break_the_function(node_factory, guests_dir, tmp_path):
    data = tmp_path / "d"
    node = node_factory(data_dir=data)
    node.deploy("g", guests_dir / "hostile-c.wasm")
    assert node.api("PUT", "/functions/g/env/GOOD", {"value": "1"}).status == 200
    node.stop()
    # As an older fn0 (or a hand edit) could have left it.
    db = sqlite3.connect(data / "registry.db")
    db.execute("INSERT INTO env(function, name, value) VALUES ('g', CAST(X'FF3D' AS TEXT), 'v')")
    db.execute("INSERT INTO secrets(function, name, value) VALUES ('g', 'A=B', 'v')")
    db.commit()
    db.close()
    node = node_factory(data_dir=data)
    r = node.get("/g/env?name=GOOD")
    assert r.status == 200 and r.body == b"1", r.body
    assert node.api("DELETE", "/functions/g/secrets/A%3DB").status == 200  # and it can be removed


# ---- C: per-function concurrency shares ---------------------------------------------


def test_one_function_cannot_take_every_slot(node_factory, guests_dir):
    node = node_factory("--max-concurrency", "4")  # a function's share: 2
    node.deploy("hog", guests_dir / "hostile-c.wasm")
    node.deploy("other", guests_dir / "hostile-c.wasm")
    results = []
    threads = [threading.Thread(target=lambda: results.append(node.get("/hog/sleep?ms=4000")))
               for _ in range(4)]
    for t in threads:
        t.start()

    def decided():
        t = metrics(node)
        running = metric(t, 'fn0_instances{function="hog"}')
        refused = metric(t, 'fn0_overloads_total{function="hog"}')
        return running + refused == 4 and (running, refused)

    running, refused = wait_for(decided, what="all four hog requests admitted or refused")
    assert (running, refused) == (2, 2)
    r = node.get("/other/count")  # the other function still has room
    assert r.status == 200, (r.status, r.body)
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == [200, 200, 503, 503]
    for r in results:
        if r.status == 503:
            assert r.header("fn0-error") == "overloaded" and r.header("retry-after")
            assert b"function 'hog' is at its concurrency limit" in r.body
    t = metrics(node)
    assert metric(t, 'fn0_instances{function="hog"}') == 0
    assert metric(t, 'fn0_overloads_total{function="other"}') == 0


def test_trickling_bodies_fill_only_their_functions_share(node_factory, examples_dir, guests_dir):
    node = node_factory("--max-concurrency", "4", "--max-function-concurrency", "2")
    node.deploy("echo", examples_dir / "echo-c.wasm")
    node.deploy("other", guests_dir / "hostile-c.wasm")
    socks = []
    try:
        for _ in range(4):  # bodies that never finish
            s = socket.create_connection(("127.0.0.1", node.port), timeout=10)
            s.sendall(b"POST /echo/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 100)
            socks.append(s)

        def decided():
            t = metrics(node)
            running = metric(t, 'fn0_instances{function="echo"}')
            refused = metric(t, 'fn0_overloads_total{function="echo"}')
            return running + refused == 4 and (running, refused)

        assert wait_for(decided, what="the trickling uploads admitted or refused") == (2, 2)
        assert node.get("/other/count").status == 200
        # A per-function setting tightens the share further, for that function only.
        assert node.api("PUT", "/functions/other/settings", {"max_concurrency": 1}).status == 200
        slow = threading.Thread(target=lambda: node.get("/other/sleep?ms=2000"))
        slow.start()
        wait_for(lambda: metric(metrics(node), 'fn0_instances{function="other"}') == 1, what="other's sleeper")
        r = node.get("/other/count")
        assert r.status == 503 and r.header("fn0-error") == "overloaded"
        slow.join()
    finally:
        for s in socks:
            s.close()
    # Clients that vanish mid-body give their slots back.
    wait_for(lambda: metric(metrics(node), 'fn0_instances{function="echo"}') == 0, what="echo's slots back")
    assert node.client().request("POST", "/echo/", body=b"hello").body == b"hello"


# ---- D: deploys ---------------------------------------------------------------------


def stored_files(data):
    return sorted(str(p.relative_to(data)) for p in (data / "blobs").rglob("*") if p.is_file())


def test_a_rejected_upload_stores_nothing(node_factory, examples_dir, guests_dir, tmp_path):
    data = tmp_path / "d"
    node = node_factory(data_dir=data)
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    before = stored_files(data)
    assert len(before) == 1
    for junk in (b"not wasm at all", (examples_dir / "hello-c.core.wasm").read_bytes(),
                 (guests_dir / "no-export.wasm").read_bytes(), b"\0asm\x01\0\0\0" + b"\xff" * 1000):
        r = node.api("POST", "/functions/junk/versions", junk, content_type="application/wasm")
        assert r.status == 400 and r.header("fn0-error") == "invalid-component", r.body
    assert stored_files(data) == before
    assert node.api("GET", "/functions/junk").status == 404
    assert node.get("/hello/").status == 200


def test_a_slow_deploy_does_not_hold_a_small_one(node, examples_dir):
    done = []
    slow = threading.Thread(target=lambda: done.append(("js", node.deploy("js", examples_dir / "hello-js.wasm"))))
    slow.start()

    def compiling():
        return json.loads(node.api("GET", "/status").body).get("deploys", {}).get("compiling", 0) >= 1

    wait_for(compiling, what="the JavaScript component compiling")
    small = node.deploy("c", examples_dir / "hello-c.wasm")
    done.append(("c", small))
    slow.join()
    assert small.status == 201
    # The small deploy finished while the big one was still compiling.
    assert [name for name, _ in done] == ["c", "js"]
    assert done[1][1].status == 201
    assert node.get("/c/").status == 200 and node.get("/js/").status == 200


# ---- E: a CPU limit mid-upload; metrics access -----------------------------------------


def test_a_cpu_limit_while_the_client_uploads_is_answered_and_counted(node, guests_dir):
    node.deploy("hostile", guests_dir / "hostile-c.wasm")
    with socket.create_connection(("127.0.0.1", node.port), timeout=30) as s:
        s.sendall(b"POST /hostile/loop HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 1000)
        stop = threading.Event()

        def trickle():
            try:
                while not stop.is_set():
                    s.sendall(b"y" * 100)
                    time.sleep(0.02)
            except OSError:
                pass  # the node closed the connection after answering

        t = threading.Thread(target=trickle)
        t.start()
        try:
            status, headers, body = read_response(s)
        finally:
            stop.set()
            t.join()
    assert status == 503 and headers["fn0-error"] == "cpu-limit", (status, headers, body)
    assert json.loads(body)["error"] == "cpu-limit"

    def counted():
        t = metrics(node)
        return (metric(t, 'fn0_limit_hits_total{function="hostile",reason="cpu-limit"}') == 1
                and metric(t, 'fn0_requests_total{function="hostile",code="5xx"}') == 1 and t)

    t = wait_for(counted, what="the request counted")
    assert metric(t, 'fn0_instances{function="hostile"}') == 0
    wait_for(lambda: [l for l in node.access_log() if l.get("function") == "hostile" and l.get("outcome") == "cpu-limit"
                      and l.get("status") == 503], what="the access log line with the outcome")
    assert node.get("/hostile/count").status == 200


def test_metrics_are_open_without_a_token(node, examples_dir):
    node.deploy("hello", examples_dir / "hello-c.wasm")
    node.get("/hello/")
    wait_for(lambda: 'fn0_requests_total{function="hello",code="2xx"} 1' in metrics(node), what="the count")


def test_a_metrics_token_guards_the_metrics(node_factory, examples_dir, tmp_path):
    token_file = tmp_path / "metrics-token"
    token_file.write_text(METRICS_TOKEN + "\n")
    for node in (node_factory(env={"FN0_METRICS_TOKEN": METRICS_TOKEN}),
                 node_factory("--metrics-token-file", str(token_file))):
        node.deploy("hello", examples_dir / "hello-c.wasm")
        for headers in ([], [("Authorization", "Bearer wrong-token-0123456789")],
                        [("Authorization", "Bearer ")], [("Authorization", METRICS_TOKEN)]):
            r = node.get("/_fn0/metrics", headers=headers)
            assert r.status == 401 and r.header("fn0-error") == "unauthorized", headers
            assert b"fn0_requests_total" not in r.body and b"hello" not in r.body
        assert "fn0_requests_total" in metrics(node, METRICS_TOKEN)
        assert "fn0_requests_total" in metrics(node, TOKEN)  # the admin token works too
        # The metrics token opens nothing else.
        assert node.api("GET", "/functions", token=METRICS_TOKEN).status == 401
        assert node.get("/_fn0/healthz").status == 200
