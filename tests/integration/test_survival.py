"""One node, every kind of abuse from issue 10 in turn (hostile clients,
hostile guests, hostile admin input and uploads), interleaved with healthy
requests: the same process answers throughout, counts no escaped exception,
and its memory stays bounded. The per-finding tests are in
test_http_hardening.py, test_guest_hardening.py and test_admin_hardening.py;
this one checks that their kinds do not add up to a crash on one node."""
from __future__ import annotations

import json
import socket
import threading
import time

from node import TOKEN
from test_http_hardening import complete_response


def raw(port: int, data: bytes, timeout: float = 10, source: str = "127.0.0.1") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as s:
        try:
            s.sendall(data)
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        except (socket.timeout, ConnectionResetError, BrokenPipeError):
            pass
        return out


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def metric_value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


def test_one_node_survives_every_kind_of_abuse(node_factory, examples_dir, guests_dir, tmp_path):
    node = node_factory("--max-client-connections", "64", "--body-grace-s", "1", "--body-min-rate", "1000")
    pid = node.proc.pid
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert node.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    assert node.deploy("g", guests_dir / "hostile-c.wasm").status == 201

    def healthy():
        assert node.proc.poll() is None and node.proc.pid == pid, node.stderr()[-3000:]
        r = node.get("/hello/")
        assert r.status == 200 and b"Hello" in r.body

    def healthy_soon():
        # Closed connections are released as the node sees them close.
        deadline = time.monotonic() + 10
        while not raw(node.port, b"GET /hello/ HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        healthy()

    token = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
    clients = [
        b"GET /hello/ HTTP/1.1\r\nHost: x\r\nX: " + b"v" * 70_000 + b"\r\n\r\n",
        b"GET /hello/ HTTP/1.1\r\nHost: " + b"h" * 70_000 + b"\r\n\r\n",
        b"POST /echo/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + b"t" * 70_000 + b"\r\n\r\n",
        b"POST /echo/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\nGET /hello/ HTTP/1.1\r\n\r\n",
        b"POST /echo/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
        b"GET /hello/ HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        b"GET /hello/ HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n",
        b"GET http://x/hello/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /_fn0/api/v1/functions/" + b"a" * 1_000_000 + b" HTTP/1.1\r\nHost: x\r\n" + token + b"\r\n",
        b"GET /hello@v" + b"9" * 60 + b"/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64,
    ]
    # Each hostile guest request and the status it must get.
    guests = [("/g/loop", 503), ("/g/alloc", 503), ("/g/recurse", 500), ("/g/trap", 500),
              ("/g/no-response", 502), ("/g/status?code=101", 502), ("/g/status?code=999", 502),
              ("/g/many-headers?n=300", 502), ("/g/big-headers?kb=400", 502), ("/g/big?mb=8", 200),
              ("/g/header?name=fn0-error&value=forged", 200)]
    admin = [
        ("PUT", "/functions/g/settings", {"cpu_ms": 2**64 - 1}),
        ("PUT", "/functions/g/settings", {"duration_ms": -1}),
        ("PUT", "/functions/g/env/a%3Db", {"value": "x"}),
        ("PUT", "/functions/g/env/%FF", {"value": "x"}),
        ("PUT", "/functions/g/secrets/%00", {"value": "x"}),
        ("POST", "/functions/junk/versions", b"\0asm\x01\0\0\0" + b"\xff" * 1000),
        ("POST", "/functions/junk/versions", b"not wasm at all"),
        ("POST", "/functions/greedy/versions", (guests_dir / "many-instances.wasm").read_bytes()),
    ]

    baseline_rss = None
    for round_ in range(3):
        for req in clients:
            reply = raw(node.port, req)
            # Refused; or, from a guest that streams, a 200 that visibly breaks off.
            assert not reply.startswith(b"HTTP/1.1 200") or not complete_response(reply), (req[:60], reply[:100])
            healthy()
        for path, status in guests:
            r = node.get(path)
            assert r.status == status, (path, r.status, r.body[:200])
            assert r.header("fn0-error") != "forged"
            healthy()
        for method, path, body in admin:
            r = node.api(method, path, body)
            assert 400 <= r.status < 500, (path, r.status, r.body[:200])
            healthy()
        # A burst of slow bodies and many connections from one client, with
        # healthy requests in between.
        held = []
        try:
            for _ in range(80):
                try:
                    s = socket.create_connection(("127.0.0.1", node.port), timeout=5)
                    s.sendall(b"POST /echo/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nx")
                    held.append(s)
                except OSError:
                    pass
            # That client is at its connection cap; another is served.
            answers = []
            threads = [threading.Thread(target=lambda: answers.append(
                raw(node.port, b"GET /hello/ HTTP/1.1\r\nHost: x\r\n\r\n", source="127.0.0.2")))
                for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len(answers) == 4 and all(a.startswith(b"HTTP/1.1 200") for a in answers), answers
        finally:
            for s in held:
                s.close()
        healthy_soon()
        if round_ == 0:
            baseline_rss = rss_kb(pid)

    healthy()
    text = node.get("/_fn0/metrics").body.decode()
    assert metric_value(text, "fn0_http_connection_failures_total") == 0
    # Rounds 2 and 3 repeat round 1: what a round leaves behind must not grow.
    assert rss_kb(pid) - baseline_rss < 64 * 1024, (baseline_rss, rss_kb(pid))
    status = json.loads(node.api("GET", "/status").body)
    assert status["functions"] == 3  # nothing rejected was registered
