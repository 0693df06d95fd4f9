"""Errors that explain themselves, and no first-request penalty (issue
"JavaScript and TypeScript developer experience"), against a real node:
every platform error body names the limit and its value for the request
(the function's settings clamped to the node's) and never carries a wasm
backtrace, which goes to the function's log instead; Retry-After only where
retrying can help; a refused outbound request is logged with its
destination, the reason and how to allow it; the first request after a
restart fits a CPU budget its steady-state requests fit."""
from __future__ import annotations

import glob
import http.server
import json
import os
import re
import socket
import threading
import time

import pytest

from http_client import EmptyOk

# What a wasm backtrace looks like in wasmtime's words or ours.
BACKTRACE_TEXT = ("wasm backtrace", "error while executing", "wasm function", "0x", "#0", "#1")


def error_message(r, status: int, reason: str) -> str:
    """The `message` of a platform error, after checking its shape: status,
    `fn0-error`, the JSON body (error, message, request_id) and no backtrace."""
    assert (r.status, r.header("fn0-error")) == (status, reason), (r.status, r.body[:300])
    body = json.loads(r.body)
    assert set(body) == {"error", "message", "request_id"}, body
    assert body["error"] == reason and body["request_id"] == r.header("fn0-request-id"), body
    for text in BACKTRACE_TEXT:
        assert text not in body["message"], (text, body["message"])
    return body["message"]


def log_lines(node, function: str, request_id: str, expect: int = 1, timeout: float = 10) -> list[str]:
    """The function's log lines of one request (at least `expect` of them)."""
    deadline = time.monotonic() + timeout
    while True:
        entries = json.loads(node.api("GET", f"/functions/{function}/logs").body)["entries"]
        lines = [e["line"] for e in entries if e["request_id"] == request_id]
        if len(lines) >= expect or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.fixture
def hostile(node, guests_dir):
    assert node.deploy("g", guests_dir / "hostile-c.wasm").status == 201
    return node


def settings(node, body: dict, function: str = "g"):
    r = node.api("PUT", f"/functions/{function}/settings", body)
    assert r.status == 200, r.body


# ---- limits, named with their values ----------------------------------------------

def test_a_cpu_overrun_names_the_limit_and_logs_where_the_guest_was(hostile):
    r = hostile.get("/g/loop")
    assert error_message(r, 503, "cpu-limit") == "function 'g' exceeded its CPU time limit of 10 ms"
    assert r.header("retry-after") is None  # it would overrun again
    lines = log_lines(hostile, "g", r.header("fn0-request-id"), expect=2)
    assert lines[0] == ("[fn0] cpu-limit: function 'g' exceeded its CPU time limit of 10 ms; "
                        "interrupted at (innermost frame first):"), lines
    assert re.fullmatch(r"\[fn0\]   #0 exports_wasi_http_incoming_handler_handle \+0x[0-9a-f]+", lines[1]), lines


def test_limits_tightened_by_settings_name_the_effective_value_and_the_setting(node_factory, guests_dir):
    node = node_factory("--cpu-ms", "2000")
    assert node.deploy("g", guests_dir / "hostile-c.wasm").status == 201
    settings(node, {"memory_mb": 16, "duration_ms": 300})
    r = node.get("/g/alloc")
    assert error_message(r, 503, "memory-limit") == (
        "function 'g' exceeded its memory limit of 16 MiB (its memory_mb setting; this node allows up to 128 MiB)")
    assert r.header("retry-after") is None
    lines = log_lines(node, "g", r.header("fn0-request-id"), expect=1)
    assert lines[0].startswith("[fn0] memory-limit: function 'g' exceeded its memory limit of 16 MiB"), lines
    r = node.get("/g/sleep?ms=5000")
    assert error_message(r, 504, "duration-limit") == (
        "function 'g' exceeded its duration limit of 300 ms (its duration_ms setting; this node allows up to 15 s)")
    assert r.header("retry-after") is None
    settings(node, {"cpu_ms": 5})
    r = node.get("/g/loop")
    assert error_message(r, 503, "cpu-limit") == (
        "function 'g' exceeded its CPU time limit of 5 ms (its cpu_ms setting; this node allows up to 2 s)")
    # A setting above the node's maximum is clamped: the message names what applied.
    settings(node, {"cpu_ms": 100000})
    r = node.get("/g/loop")
    assert error_message(r, 503, "cpu-limit") == "function 'g' exceeded its CPU time limit of 2 s"


def test_a_trap_points_to_the_logs_where_its_backtrace_is(hostile):
    r = hostile.get("/g/trap")
    assert error_message(r, 500, "trap") == (
        "function 'g' crashed (wasm trap: unreachable); the backtrace is in its logs: fn0 logs g")
    assert r.header("retry-after") is None
    lines = log_lines(hostile, "g", r.header("fn0-request-id"), expect=2)
    assert lines[0] == "[fn0] trap: function 'g' crashed (wasm trap: unreachable); backtrace (innermost frame first):"
    # Frames are named from the component's name section, one line each.
    assert re.fullmatch(r"\[fn0\]   #0 exports_wasi_http_incoming_handler_handle \+0x[0-9a-f]+", lines[1]), lines
    assert any("__wasm_export_exports_wasi_http_incoming_handler_handle" in l for l in lines[2:]), lines


def test_a_runaway_recursion_has_a_short_backtrace(hostile):
    r = hostile.get("/g/recurse")
    message = error_message(r, 500, "trap")
    assert message.startswith("function 'g' crashed (wasm trap: ") and message.endswith("fn0 logs g"), message
    lines = log_lines(hostile, "g", r.header("fn0-request-id"), expect=2)
    frames = [l for l in lines if l.startswith("[fn0]   ")]
    # The same frame over and over is one line; the whole block stays small.
    assert any(re.search(r"#1-\d+ recurse \+0x[0-9a-f]+ \(\d+ times\)", l) for l in frames), lines
    assert len(frames) <= 22 and sum(map(len, lines)) < 8192, lines


def test_response_headers_over_the_limits_name_them(hostile):
    r = hostile.get("/g/big-headers?kb=70")
    message = error_message(r, 502, "invalid-response")
    assert message.startswith("function 'g' sent an invalid response: the guest's response header `x-big` is "), message
    assert "over the limit of 64 KiB for one header" in message, message
    r = hostile.get("/g/many-headers?n=300")
    assert "has 300 headers, over the limit of 256" in error_message(r, 502, "invalid-response")
    assert r.header("retry-after") is None


def test_request_sizes_over_the_limits_name_them(node_factory, examples_dir):
    node = node_factory("--max-body-mb", "1", "--max-header-kb", "8")
    assert node.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    r = node.get("/echo/", headers=[("x-big", "h" * 9000)])
    assert error_message(r, 431, "headers-too-large") == "the request head is larger than this node's limit of 8 KiB"
    assert r.header("retry-after") is None
    r = node.client().request("POST", "/echo/", body=b"x" * 1_000_001)
    assert error_message(r, 413, "body-too-large") == "the request body exceeds this node's limit of 1 MB"
    assert r.header("retry-after") is None
    # Chunked: found out mid-stream, by the function's limit (the node's).
    r = node.client().request("POST", "/echo/", body=iter([b"y" * 300_000] * 5))
    if r.status == 413:
        assert error_message(r, 413, "body-too-large") == "the request body exceeds the limit of 1 MB for function 'echo'"


# ---- Retry-After: only where retrying helps -----------------------------------------

def test_retry_after_comes_with_overload_and_connection_caps(node_factory, guests_dir):
    node = node_factory("--max-concurrency", "4", "--max-function-concurrency", "1", "--max-client-connections", "2")
    assert node.deploy("g", guests_dir / "hostile-c.wasm").status == 201
    slow = {}
    t = threading.Thread(target=lambda: slow.setdefault("r", node.get("/g/sleep?ms=1500")))
    t.start()
    time.sleep(0.5)
    r = node.get("/g/count")
    t.join()
    assert slow["r"].status == 200
    assert error_message(r, 503, "overloaded") == (
        "function 'g' is at its concurrency limit of 1 request at once (this node's share per function); retry shortly")
    assert r.header("retry-after") == "1"
    held = [socket.create_connection(("127.0.0.1", node.port), timeout=10) for _ in range(2)]
    try:
        # The node counts a connection once it has accepted it: on a loaded
        # machine that can lag, and a request that gets in first is served.
        deadline = time.monotonic() + 10
        r = node.get("/g/count")
        while r.status == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            r = node.get("/g/count")
        assert "too many open connections (this node allows 2)" in error_message(r, 429, "too-many-connections")
        assert r.header("retry-after") == "1"
    finally:
        for s in held:
            s.close()


# ---- outbound requests: refusals logged with how to allow them ----------------------

@pytest.fixture
def targets():
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmptyOk) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield [s.server_address[1] for s in servers]
    for s in servers:
        s.shutdown()


def hint(*entries: str) -> str:
    quoted = ", ".join(f'"{e}"' for e in entries)
    return f"allow it with: fn0 settings g allow={','.join(entries)} (or [settings] allow = [{quoted}] in fn0.toml)"


def test_a_refused_destination_is_logged_with_the_reason_and_how_to_allow_it(hostile, targets):
    node, (a, b) = hostile, targets
    r = node.get(f"/g/fetch?url=http://127.0.0.1:{a}/")
    assert r.body == b"error=destination-ip-prohibited"  # what the guest sees is unchanged
    lines = log_lines(node, "g", r.header("fn0-request-id"))
    assert lines == [f"[fn0] outbound request to 127.0.0.1:{a} (127.0.0.1:{a}) refused: "
                     f"loopback address, denied by default; {hint(f'127.0.0.1/32:{a}')}"], lines
    # A name: the line has the name and the address it resolved to.
    r = node.get(f"/g/fetch?url=http://localhost:{a}/")
    assert r.body == b"error=destination-ip-prohibited"
    line = log_lines(node, "g", r.header("fn0-request-id"))[0]
    assert re.match(rf"\[fn0\] outbound request to localhost:{a} \((127\.0\.0\.1|\[::1\]):{a}(, (127\.0\.0\.1|\[::1\]):{a})?\) "
                    r"refused: "
                    r"loopback address, denied by default; allow it with: fn0 settings g allow=", line), line
    # The hint works as written...
    settings(node, {"allow": [f"127.0.0.1/32:{a}"]})
    assert node.get(f"/g/fetch?url=http://127.0.0.1:{a}/").body == b"status=200"
    # ...and another port is still refused, the hint keeping the entries there are.
    r = node.get(f"/g/fetch?url=http://127.0.0.1:{b}/")
    assert r.body == b"error=destination-ip-prohibited"
    assert log_lines(node, "g", r.header("fn0-request-id")) == [
        f"[fn0] outbound request to 127.0.0.1:{b} (127.0.0.1:{b}) refused: loopback address, not in the "
        f"function's allow list; {hint(f'127.0.0.1/32:{a}', f'127.0.0.1/32:{b}')}"]
    # The node's own listener says so.
    r = node.get(f"/g/fetch?url=http://127.0.0.1:{node.port}/_fn0/healthz")
    line = log_lines(node, "g", r.header("fn0-request-id"))[0]
    assert f"refused: the node's own listener (port {node.port}), reachable only through an allow-list entry" in line


def test_the_subrequest_limit_is_logged_once_with_its_value(hostile, targets):
    node, (a, _) = hostile, targets
    settings(node, {"allow": [f"127.0.0.1/32:{a}"], "max_subrequests": 2})
    r = node.get(f"/g/subrequests?n=5&url=http://127.0.0.1:{a}/")
    assert r.body == b"ok=2 first_error_at=3 error=internal-error"
    lines = log_lines(node, "g", r.header("fn0-request-id"))
    assert lines == [f"[fn0] subrequest 3 (to 127.0.0.1:{a}) refused: the limit is 2 subrequests per request "
                     "(setting max_subrequests); later ones are refused too"], lines


# ---- the first request after a restart ----------------------------------------------

def evict_from_page_cache(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def artifact_rss(pid: int, artifact: str) -> tuple[int, int]:
    """Size and resident bytes of the executable mapping of `artifact`."""
    size = rss = 0
    current = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                current = fields[-1] == artifact and fields[1] == "r-xp"
                if current:
                    lo, hi = (int(x, 16) for x in fields[0].split("-"))
                    size += hi - lo
            elif current and fields[0] == "Rss:":
                rss += int(fields[1]) * 1024
    return size, rss


def test_the_first_request_after_a_restart_fits_the_budget_of_the_next_ones(node_factory, examples_dir, tmp_path):
    """hello-js uses ~1-2 ms of CPU per request. Before its artifact (36 MB)
    was brought into memory when loaded, the first request after a restart
    with the artifact out of the page cache needed 6.3-11 ms (page faults
    charged to the guest: with cpu_ms=5 it was interrupted every time), the
    fixed node 1.2-3.7 ms on a loaded 2-core machine (docs/performance.md):
    a 5 ms budget tells them apart. Two restarts, so one noisy measurement
    does not fail the test (the old node failed every one). The optimized
    artifact (not tiered compilation's baseline one) is what is measured."""
    data = tmp_path / "node"
    node = node_factory("--no-tiered-compile", data_dir=data)
    assert node.deploy("hello-js", examples_dir / "hello-js.wasm").status == 201
    settings(node, {"cpu_ms": 5}, function="hello-js")
    node.stop()
    [artifact] = glob.glob(str(data / "artifacts" / "*.cwasm"))
    seen = []
    for _ in range(2):
        evict_from_page_cache(artifact)
        node = node_factory("--no-tiered-compile", data_dir=data)
        r = node.get("/hello-js/")
        # The mechanism: the whole executable mapping is resident once loaded
        # (a request touches a quarter of it; the rest used to stay on disk).
        size, rss = artifact_rss(node.proc.pid, artifact)
        assert size > 0 and rss >= 0.95 * size, (size, rss)
        deadline = time.monotonic() + 5
        while not [l for l in node.access_log() if l.get("function") == "hello-js"] and time.monotonic() < deadline:
            time.sleep(0.05)
        [line] = [l for l in node.access_log() if l.get("function") == "hello-js"]
        seen.append((r.status, int(line["cpu_us"])))
        node.stop()
        if r.status == 200 and int(line["cpu_us"]) < 5000:
            break
    else:
        pytest.fail(f"the first request after a restart exceeded 5 ms of CPU: {seen} (status, cpu_us)")
    print(f"first request after a restart (status, cpu_us): {seen}")
