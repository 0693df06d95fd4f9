"""`fn0 serve` end to end: deploy, routing, versions, aliases, env, secrets,
export, auth, limits on the wire, restarts and graceful shutdown."""
from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time

from node import TOKEN


def test_deploy_then_call_by_path_and_by_host(node, examples_dir):
    r = node.deploy("hello", examples_dir / "hello-c.wasm")
    assert r.status == 201, r.body
    d = json.loads(r.body)
    assert d["version"] == "v1" and d["created"] is True and d["live"] is True
    assert d["urls"]["live"] == f"http://hello.fn0.localhost:{node.port}/"
    by_path = node.get("/hello/")
    assert by_path.status == 200 and by_path.body == b"Hello from fn0 (C)!\n"
    assert len(by_path.header("fn0-request-id")) == 16
    by_host = node.get("/anything", host=f"hello.fn0.localhost:{node.port}")
    assert by_host.status == 200 and by_host.body == b"Hello from fn0 (C)!\n"


def test_redeploying_identical_bytes_is_idempotent(node, examples_dir):
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    again = node.deploy("hello", examples_dir / "hello-c.wasm")
    assert again.status == 200
    assert json.loads(again.body)["version"] == "v1"
    versions = json.loads(node.api("GET", "/functions/hello/versions").body)["versions"]
    assert [v["version"] for v in versions] == ["v1"]


def test_echo_streams_a_1mb_body_and_sees_the_routed_path(node, examples_dir):
    assert node.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    body = os.urandom(1 << 20)
    r = node.client().request("POST", "/echo/some/path?q=1", body=body)
    assert r.status == 200
    assert r.body == body
    assert r.header("x-echo-path") == "/some/path"
    assert r.header("x-echo-query") == "q=1"
    seen = dict((k.lower(), v) for k, v in json.loads(r.header("x-echo-headers")))
    assert seen["fn0-original-path"] == "/echo/some/path?q=1"
    assert seen["fn0-request-id"] == r.header("fn0-request-id")


def test_chunked_upload_streams_through(node, examples_dir):
    assert node.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    chunks = [os.urandom(n) for n in (10, 70000, 3, 200000)]
    r = node.client().request("PUT", "/echo/", body=iter(chunks))
    assert r.status == 200 and r.body == b"".join(chunks)


def test_versions_rollback_and_aliases(node, examples_dir):
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    v2 = node.deploy("hello", examples_dir / "hello-js.wasm")
    assert json.loads(v2.body)["version"] == "v2"
    assert node.get("/hello/").body == b"Hello from fn0 (JavaScript)!\n"
    # Pinned versions, by path and by host.
    assert node.get("/hello@v1/").body == b"Hello from fn0 (C)!\n"
    assert node.get("/", host=f"v2.hello.fn0.localhost:{node.port}").body == b"Hello from fn0 (JavaScript)!\n"
    # Rollback = move live.
    assert node.api("PUT", "/functions/hello/aliases/live", {"version": "v1"}).status == 200
    assert node.get("/hello/").body == b"Hello from fn0 (C)!\n"
    # A named alias.
    assert node.api("PUT", "/functions/hello/aliases/canary", {"version": 2}).status == 200
    assert node.get("/hello@canary/").body == b"Hello from fn0 (JavaScript)!\n"
    assert node.api("PUT", "/functions/hello/aliases/live", {"version": "v9"}).status == 400
    info = json.loads(node.api("GET", "/functions/hello").body)
    assert info["live"] == "v1" and info["aliases"]["canary"] == "v2"


def test_deploy_without_going_live(node, examples_dir):
    node.deploy("hello", examples_dir / "hello-c.wasm")
    r = node.deploy("hello", examples_dir / "hello-js.wasm", live=False)
    assert json.loads(r.body)["live"] is False
    assert node.get("/hello/").body == b"Hello from fn0 (C)!\n"
    assert node.get("/hello@v2/").body == b"Hello from fn0 (JavaScript)!\n"


def test_env_vars_and_secrets_reach_the_guest_but_secrets_never_come_back(node, guests_dir):
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    assert node.api("PUT", "/functions/hostile/env/GREETING", {"value": "hej"}).status == 200
    assert node.api("PUT", "/functions/hostile/secrets/API_KEY", {"value": "s3cret-value"}).status == 200
    assert node.get("/hostile/env?name=GREETING").body == b"hej"
    assert node.get("/hostile/env?name=API_KEY").body == b"s3cret-value"
    for path in ("/functions/hostile", "/functions/hostile/secrets", "/functions/hostile/env", "/functions"):
        body = node.api("GET", path).body
        assert b"s3cret-value" not in body, path
    assert json.loads(node.api("GET", "/functions/hostile/secrets").body)["secrets"] == ["API_KEY"]
    assert b"s3cret-value" not in bytes(node._out), "a secret reached the access log"
    assert node.api("DELETE", "/functions/hostile/env/GREETING").status == 200
    assert node.get("/hostile/env?name=GREETING").status == 404


def test_export_returns_the_uploaded_bytes(node, examples_dir):
    wasm = (examples_dir / "hello-c.wasm").read_bytes()
    node.deploy("hello", examples_dir / "hello-c.wasm")
    r = node.api("GET", "/functions/hello/versions/v1/component")
    assert r.status == 200 and r.header("content-type") == "application/wasm"
    assert r.body == wasm
    assert node.api("GET", "/functions/hello/versions/v7/component").status == 404


def test_delete_removes_the_function(node, examples_dir):
    node.deploy("hello", examples_dir / "hello-c.wasm")
    assert node.api("DELETE", "/functions/hello").status == 200
    r = node.get("/hello/")
    assert r.status == 404 and r.header("fn0-error") == "not-found"
    assert node.api("DELETE", "/functions/hello").status == 404


def test_api_needs_a_valid_token_and_leaks_nothing(node, examples_dir):
    node.deploy("hello", examples_dir / "hello-c.wasm")
    for tok in (None, "wrong-token-000000000000"):
        r = node.api("GET", "/functions", token=tok)
        assert r.status == 401 and r.header("fn0-error") == "unauthorized"
        assert b"hello" not in r.body
        assert node.api("POST", "/functions/x/versions", b"\0asm", token=tok).status == 401
    assert node.get("/hello/").status == 200  # functions themselves are public


def test_unknown_function_and_platform_paths(node):
    r = node.get("/nope/")
    assert r.status == 404 and r.header("fn0-error") == "not-found" and r.header("fn0-request-id")
    assert json.loads(r.body)["request_id"] == r.header("fn0-request-id")
    assert node.get("/").status == 404
    assert node.get("/_fn0/healthz").status == 200
    assert node.get("/_fn0/readyz").status == 200


def test_bad_components_are_rejected_with_a_clear_message(node, examples_dir, guests_dir):
    r = node.api("POST", "/functions/bad/versions", b"not wasm at all", content_type="application/wasm")
    assert r.status == 400 and b"not a WebAssembly binary" in r.body
    core = (examples_dir / "hello-c.core.wasm").read_bytes()
    r = node.api("POST", "/functions/bad/versions", core, content_type="application/wasm")
    assert r.status == 400 and b"wasm-tools component new" in r.body
    r = node.deploy("bad", guests_dir / "no-export.wasm")
    assert r.status == 400 and b"does not export wasi:http/incoming-handler" in r.body
    assert node.get("/bad/").status == 404  # nothing half-made is visible
    r = node.api("POST", "/functions/Bad_Name/versions", b"\0asm", content_type="application/wasm")
    assert r.status == 400 and b"invalid function name" in r.body


def test_a_failed_deploy_leaves_the_previous_version_serving(node, examples_dir, guests_dir):
    node.deploy("hello", examples_dir / "hello-c.wasm")
    assert node.deploy("hello", guests_dir / "no-export.wasm").status == 400
    assert node.get("/hello/").body == b"Hello from fn0 (C)!\n"


def test_guest_failures_map_to_platform_errors(node, guests_dir):
    node.deploy("hostile", guests_dir / "hostile-c.wasm")
    cases = {"/hostile/loop": (503, "cpu-limit"), "/hostile/trap": (500, "trap"),
             "/hostile/no-response": (502, "invalid-response")}
    for path, (status, reason) in cases.items():
        r = node.get(path)
        assert (r.status, r.header("fn0-error")) == (status, reason), path
        assert json.loads(r.body)["request_id"] == r.header("fn0-request-id")
    assert node.get("/hostile/count").status == 200  # still serving


def test_guest_logs_are_kept_with_the_request_id(node, guests_dir):
    node.deploy("hostile", guests_dir / "hostile-c.wasm")
    r = node.get("/hostile/log?lines=2")
    rid = r.header("fn0-request-id")
    time.sleep(0.1)  # output is flushed as the guest finishes, just after the response
    logs = json.loads(node.api("GET", "/functions/hostile/logs").body)["entries"]
    mine = [e for e in logs if e["request_id"] == rid]
    assert [e["line"] for e in mine if e["stream"] == "stdout"] == ["stdout line 0", "stdout line 1"]
    assert [e["line"] for e in mine if e["stream"] == "stderr"] == ["stderr line"]
    trap = node.get("/hostile/trap")
    time.sleep(0.1)
    logs = json.loads(node.api("GET", "/functions/hostile/logs").body)["entries"]
    assert any(e["request_id"] == trap.header("fn0-request-id") and "trap" in e["line"] for e in logs)


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except socket.timeout:
            pass
        return out


def test_oversized_and_malformed_requests_are_refused_and_the_node_stays_up(node_factory, examples_dir):
    node = node_factory("--max-body-mb", "1", "--max-header-kb", "8")
    node.deploy("echo", examples_dir / "echo-c.wasm")
    r = node.get("/echo/", headers=[("x-big", "h" * 9000)])
    assert r.status == 431 and r.header("fn0-error") == "headers-too-large"
    r = node.client().request("POST", "/echo/", body=b"x" * 1_000_001)
    assert r.status == 413 and r.header("fn0-error") == "body-too-large"
    # Chunked, so the size is only known mid-stream.
    r = node.client().request("POST", "/echo/", body=iter([b"y" * 300_000] * 5))
    assert r.status == 413 or r.status == 200 and len(r.body) < 1_500_000
    for junk in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 40):
        out = raw_exchange(node.port, junk)
        assert out.startswith(b"HTTP/1.1 400"), out[:80]
    assert node.get("/echo/").status == 200


def test_a_restart_keeps_everything_and_does_not_recompile(node_factory, examples_dir, tmp_path):
    data = tmp_path / "node-data"
    first = node_factory(data_dir=data)
    first.deploy("hello", examples_dir / "hello-c.wasm")
    first.deploy("echo", examples_dir / "echo-c.wasm")
    first.api("PUT", "/functions/hello/env/A", {"value": "1"})
    assert first.stop() == 0
    second = node_factory(data_dir=data)
    assert second.get("/hello/").body == b"Hello from fn0 (C)!\n"
    assert second.client().request("POST", "/echo/", body=b"abc").body == b"abc"
    status = json.loads(second.api("GET", "/status").body)
    assert status["functions"] == 2
    assert status["cache"]["compiles"] == 0 and status["cache"]["loads"] >= 1


def test_sigterm_lets_in_flight_requests_finish(node, guests_dir):
    node.deploy("hostile", guests_dir / "hostile-c.wasm")
    result = {}

    def call():
        result["reply"] = node.get("/hostile/sleep?ms=1500")

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.5)
    code = node.stop(signal.SIGTERM)
    t.join()
    assert code == 0
    assert result["reply"].status == 200 and result["reply"].body == b"slept 1500 ms\n"


def test_a_generated_token_is_written_with_mode_0600(node_factory, tmp_path):
    data = tmp_path / "gen"
    n = node_factory(data_dir=data, token=None)
    token_file = data / "admin-token"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = token_file.read_text().strip()
    assert n.api("GET", "/functions", token=token).status == 200
    assert n.api("GET", "/functions", token=TOKEN).status == 401


def test_access_log_is_structured(node, examples_dir):
    node.deploy("hello", examples_dir / "hello-c.wasm")
    r = node.get("/hello/")
    deadline = time.monotonic() + 5
    while True:  # the line is written just after the response
        entries = [e for e in node.access_log() if e.get("request_id") == r.header("fn0-request-id")]
        if entries or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert entries and entries[0]["status"] == 200 and entries[0]["function"] == "hello"
    assert entries[0]["version"] == "v1" and entries[0]["outcome"] == "ok"


def metric(text: str, line_prefix: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_what_happened(node, examples_dir, guests_dir):
    node.deploy("hello", examples_dir / "hello-c.wasm")
    node.deploy("hostile", guests_dir / "hostile-c.wasm")
    for _ in range(3):
        assert node.get("/hello/").status == 200
    assert node.get("/hostile/loop").status == 503
    # A request is counted just after its last byte is sent: poll briefly.
    deadline = time.monotonic() + 5
    while True:
        r = node.get("/_fn0/metrics")
        t = r.body.decode()
        if metric(t, 'fn0_requests_total{function="hostile",code="5xx"}') == 1 and \
                metric(t, 'fn0_requests_total{function="hello",code="2xx"}') == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.status == 200 and r.header("content-type").startswith("text/plain")
    assert metric(t, 'fn0_requests_total{function="hello",code="2xx"}') == 3
    assert metric(t, 'fn0_requests_total{function="hostile",code="5xx"}') == 1
    assert metric(t, 'fn0_limit_hits_total{function="hostile",reason="cpu-limit"}') == 1
    assert metric(t, 'fn0_request_duration_seconds_count{function="hello"}') == 3
    assert metric(t, 'fn0_cpu_seconds_total{function="hostile"}') >= 0.01
    assert metric(t, 'fn0_instances{function="hello"}') == 0
    assert metric(t, "fn0_cache_entries") == 2
    assert "fn0_overloads_total" in t and "fn0_cold_starts_total" in t


def test_every_documented_route_is_served(node, examples_dir):
    node.deploy("hello", examples_dir / "hello-c.wasm")
    node.api("PUT", "/functions/hello/env/K", {"value": "v"})
    node.api("PUT", "/functions/hello/secrets/S", {"value": "v"})
    node.api("PUT", "/functions/hello/aliases/beta", {"version": 1})
    doc = json.loads(node.get("/_fn0/api/v1/openapi.json").body)
    fill = {"{name}": "hello", "{version}": "v1", "{alias}": "beta", "{key}": "K"}
    checked = 0
    for path, item in doc["paths"].items():
        for method in item:
            if method == "parameters" or path.endswith("/versions") and method == "post":
                continue
            concrete = path
            for k, v in fill.items():
                concrete = concrete.replace(k, v)
            if "/secrets/" in concrete:
                concrete = concrete.replace("/K", "/S")
            body = {"value": "x"} if "/env/" in path or "/secrets/" in path else {"version": 1}
            r = node.api(method.upper(), concrete, body if method == "put" else None)
            assert r.header("fn0-error") != "method-not-allowed", (method, path)
            assert b"no API route" not in r.body, (method, path, r.body)
            assert r.status < 500, (method, path, r.body)
            checked += 1
    assert checked >= 16
    assert node.api("PATCH", "/functions/hello").status == 405


def test_logs_can_be_followed_live(node, guests_dir):
    import http.client
    node.deploy("hostile", guests_dir / "hostile-c.wasm")
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    conn.request("GET", "/_fn0/api/v1/functions/hostile/logs?follow=true",
                 headers={"Authorization": f"Bearer {TOKEN}"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("content-type") == "text/event-stream"
    r = node.get("/hostile/log?lines=3")
    rid = r.header("fn0-request-id")
    events = []
    deadline = time.monotonic() + 10
    while len([e for e in events if e["request_id"] == rid]) < 4 and time.monotonic() < deadline:
        line = resp.fp.readline().decode()
        if line.startswith("data: "):
            events.append(json.loads(line[6:]))
    mine = [e["line"] for e in events if e["request_id"] == rid]
    assert mine[:3] == ["stdout line 0", "stdout line 1", "stdout line 2"] or sorted(mine) == sorted(
        ["stdout line 0", "stdout line 1", "stdout line 2", "stderr line"])
    conn.close()


def test_readyz_and_config_file(node_factory, examples_dir, tmp_path):
    cfg = tmp_path / "fn0.toml"
    cfg.write_text('[serve]\nbase-domain = "apps.test"\ncpu-ms = 50\n')
    node = node_factory("--config", str(cfg))
    node.deploy("hello", examples_dir / "hello-c.wasm")
    assert node.get("/", host=f"hello.apps.test:{node.port}").status == 200
    assert node.get("/_fn0/readyz").status == 200


def test_a_client_that_never_finishes_its_head_is_dropped(node_factory):
    node = node_factory("--header-timeout-s", "1")
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(b"GET /hello/ HTTP/1.1\r\nHost: x\r\n")  # ...and nothing more
        start = time.monotonic()
        data = s.recv(100)
        assert data == b"" and time.monotonic() - start < 5
    assert node.get("/_fn0/healthz").status == 200


def test_overload_answers_503_with_retry_after_and_is_counted(node_factory, guests_dir):
    node = node_factory("--max-concurrency", "1")
    node.deploy("hostile", guests_dir / "hostile-c.wasm")
    slow = {}
    t = threading.Thread(target=lambda: slow.setdefault("r", node.get("/hostile/sleep?ms=1500")))
    t.start()
    time.sleep(0.5)
    r = node.get("/hostile/count")
    t.join()
    assert slow["r"].status == 200
    assert r.status == 503 and r.header("fn0-error") == "overloaded" and r.header("retry-after")
    assert metric(node.get("/_fn0/metrics").body.decode(), 'fn0_overloads_total{function="hostile"}') == 1


def test_per_function_settings_tighten_limits_and_open_destinations(node, guests_dir):
    import http.server

    from http_client import EmptyOk

    target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmptyOk)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{target.server_address[1]}/"
    try:
        node.deploy("g", guests_dir / "hostile-c.wasm")
        assert node.get(f"/g/fetch?url={url}").body == b"error=destination-ip-prohibited"
        r = node.api("PUT", "/functions/g/settings", {"allow": ["127.0.0.1/32"], "max_subrequests": 2,
                                                      "reuse_instance_requests": 5, "cpu_ms": 100000})
        assert r.status == 200, r.body
        assert json.loads(node.api("GET", "/functions/g/settings").body)["max_subrequests"] == 2
        assert node.get(f"/g/fetch?url={url}").body == b"status=200"
        assert node.get(f"/g/subrequests?n=3&url={url}").body == b"ok=2 first_error_at=3 error=internal-error"
        assert [node.get("/g/count").body for _ in range(2)] == [b"count=1", b"count=2"]  # reuse opted in
        start = time.monotonic()
        assert node.get("/g/loop").header("fn0-error") == "cpu-limit"  # clamped to the node's 10 ms
        assert time.monotonic() - start < 3
        for bad in ({"cpu_ms": -1}, {"allow": ["not-an-ip"]}, {"frobnicate": 1}, [1, 2]):
            r = node.api("PUT", "/functions/g/settings", bad)
            assert r.status == 400 and r.header("fn0-error") == "bad-request", bad
    finally:
        target.shutdown()
