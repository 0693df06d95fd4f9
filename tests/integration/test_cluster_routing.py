"""Cluster routing between real nodes on a real PostgreSQL and S3 server: a
request goes to a node that holds the function warm (power of two choices),
a full node's requests cold-start elsewhere, 503 only when every node is
full, a dead node is skipped at once, bodies stream through the hop."""
from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time

from cluster import C_BODY, members, metric, node_id, wait_for
from http_client import free_port


def served_by(node, target: str = "/hello/") -> str:
    r = node.get(target)
    assert r.status == 200, (r.status, r.body)
    return r.header("fn0-node")


def instances(node, function: str) -> float:
    body = node.get("/_fn0/metrics").body.decode()
    m = re.search(rf'^fn0_instances{{function="{function}"}} ([0-9.]+)$', body, re.M)
    return float(m.group(1)) if m else 0.0


def entry(node, request_id: str) -> dict:
    found, _ = wait_for(lambda: next((e for e in node.access_log() if e.get("request_id") == request_id), None))
    return found


def warm_on(node, holder, count: int = 1):
    """Waits until `node` has read `holder`'s beat saying it holds `count` warm."""
    wait_for(lambda: members(node).get(node_id(holder), {}).get("warm") == count, timeout=5, every=0.05)


def test_requests_to_other_nodes_run_on_the_node_that_holds_the_function_warm(cluster, examples_dir):
    a, b, c = cluster.node("a"), cluster.node("b"), cluster.node("c")
    assert a.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert served_by(a) == node_id(a)  # warm on A now
    # Once B and C have read A's beat, they send A the requests they get.
    for n in (b, c):
        warm_on(n, a)
    for n in (b, c):
        before = metric(n, 'fn0_cluster_forwards_total{outcome="ok"}')
        for _ in range(20):
            assert served_by(n) == node_id(a)
        assert metric(n, 'fn0_cluster_forwards_total{outcome="ok"}') == before + 20
        # B and C never loaded the code: no cold start, no download.
        assert metric(n, "fn0_cache_entries") == 0
        assert metric(n, "fn0_artifact_downloads_total") == 0
    assert metric(a, "fn0_cluster_ran_for_peers_total") >= 40
    # One request, one id on both nodes; the client's address reaches A.
    r = b.get("/hello/")
    rid = r.header("fn0-request-id")
    on_b, on_a = entry(b, rid), entry(a, rid)
    assert on_b["node"] == node_id(a) and on_b["forwarded_to"] == node_id(a)
    assert on_a["node"] == node_id(a) and on_a["forwarded_by"] == node_id(b)
    assert on_a["remote"] == on_b["remote"] and on_a["remote"].startswith("127.0.0.1:")
    # The cluster view: three nodes up, A holding one function warm.
    seen = members(c)
    assert {m["state"] for m in seen.values()} == {"up"} and len(seen) == 3
    assert seen[node_id(a)]["warm"] == 1 and seen[node_id(c)]["self"] is True


def test_a_client_cannot_pose_as_a_peer(cluster, examples_dir):
    a, b = cluster.node("a"), cluster.node("b")
    assert a.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    assert a.get("/echo/").status == 200  # warm on A
    warm_on(b, a)
    forged = [("fn0-forwarded", "0" * 64), ("fn0-request-id", "forged"), ("fn0-client", "10.9.8.7:1")]
    r = b.get("/echo/", headers=forged)
    assert r.status == 200
    # Not taken for a peer's request: forwarded as usual, with its own id,
    # and the guest never sees any fn0-* header but the platform's own.
    assert r.header("fn0-node") == node_id(a) and r.header("fn0-request-id") != "forged"
    seen = r.header("x-echo-headers").lower()
    assert "fn0-forwarded" not in seen and "fn0-client" not in seen and "10.9.8.7" not in seen
    assert f'"fn0-request-id","{r.header("fn0-request-id")}"' in seen


def sleep_request(node, ms: int, results: list, started: threading.Event | None = None):
    def run():
        r = node.client(timeout=60).request("GET", f"/slow/sleep?ms={ms}")
        results.append((r.status, r.header("fn0-node"), r.header("fn0-error")))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_full_nodes_send_work_to_nodes_with_room_and_503_comes_only_when_all_are_full(cluster, guests_dir):
    args = ["--max-concurrency", "2", "--max-function-concurrency", "2"]
    a, b, c = (cluster.node(n, *args) for n in "abc")
    nodes = (a, b, c)
    assert a.deploy("slow", guests_dir / "hostile-c.wasm").status == 201
    assert a.get("/slow/count").status == 200  # warm on A
    for n in (b, c):
        warm_on(n, a)
        assert n.get("/slow/count").header("fn0-node") == node_id(a)
    # A full: a request to B runs on B or C, never a 503.
    results: list = []
    threads = [sleep_request(a, 6000, results) for _ in range(2)]
    wait_for(lambda: instances(a, "slow") == 2, timeout=10)
    r = b.get("/slow/count")
    assert r.status == 200 and r.header("fn0-node") in (node_id(b), node_id(c)), (r.status, r.header("fn0-node"))
    # Two more on each of B and C: six slots in the cluster, six requests,
    # all admitted somewhere, whatever each node's view of the others.
    threads += [sleep_request(n, 6000, results) for n in (b, b, c, c)]
    wait_for(lambda: sum(instances(n, "slow") for n in nodes) == 6, timeout=10)
    assert results == [], results  # none answered yet: none refused
    # Now the cluster is full: 503 overloaded, with Retry-After, counted.
    for n in nodes:
        before = metric(n, "fn0_cluster_overloaded_total")
        r = n.get("/slow/count")
        assert r.status == 503 and r.header("fn0-error") == "overloaded", (r.status, r.body)
        assert r.header("retry-after")
        assert metric(n, "fn0_cluster_overloaded_total") == before + 1
    for t in threads:
        t.join(30)
    assert sorted(s for s, _, _ in results) == [200] * 6, results
    # Each node ran exactly its two.
    ran = [node for _, node, _ in results]
    assert sorted(ran.count(node_id(n)) for n in nodes) == [2, 2, 2], ran


def test_a_killed_node_is_skipped_at_once_and_rejoins_under_its_address(cluster, examples_dir):
    port = free_port()
    a = cluster.node("a", listen=f"127.0.0.1:{port}")
    b = cluster.node("b")
    assert a.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert served_by(a) == node_id(a)
    warm_on(b, a)
    assert served_by(b) == node_id(a)
    a.kill()  # SIGKILL: no goodbye
    # The next request finds A's port closed, runs on B, and B stops
    # choosing A without waiting for the heartbeat timeout.
    start = time.monotonic()
    assert served_by(b) == node_id(b)
    assert metric(b, 'fn0_cluster_forwards_total{outcome="unreachable"}') == 1
    assert all(served_by(b) == node_id(b) for _ in range(10))
    assert metric(b, 'fn0_cluster_forwards_total{outcome="unreachable"}') == 1
    assert members(b)[node_id(a)]["state"] in ("suspect", "gone")
    _, took = wait_for(lambda: members(b)[node_id(a)]["state"] == "gone", timeout=5, every=0.05)
    print(f"A seen gone by B {time.monotonic() - start:.2f} s after the kill")
    assert time.monotonic() - start < 4.0
    # Restarted on the same address, A is a member again.
    a.start()
    wait_for(lambda: members(b)[node_id(a)]["state"] == "up", timeout=5, every=0.05)


def test_a_node_stopped_with_sigterm_leaves_at_once(cluster, examples_dir):
    a, b = cluster.node("a"), cluster.node("b")
    wait_for(lambda: members(b).get(node_id(a), {}).get("state") == "up", timeout=5, every=0.05)
    a_id = node_id(a)
    assert a.stop() == 0
    state, _ = wait_for(lambda: members(b)[a_id]["state"] if members(b)[a_id]["state"] != "up" else None,
                        timeout=3, every=0.05)
    assert state == "left"


def test_a_100_mb_upload_streams_through_a_hop_in_bounded_memory(cluster, examples_dir):
    args = ["--max-body-mb", "200", "--cpu-ms", "2000", "--duration-ms", "60000"]  # 100 MB in, 100 MB out
    a, b = cluster.node("a", *args), cluster.node("b", *args)
    assert a.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    assert a.get("/echo/").status == 200
    warm_on(b, a)
    before = {n: peak_rss_mb(n) for n in (a, b)}
    size, piece = 100 * 1000 * 1000, os.urandom(1 << 20)
    sent, got = hashlib.sha256(), hashlib.sha256()
    received = 0
    with socket.create_connection(("127.0.0.1", b.port), timeout=60) as s:
        s.sendall(b"POST /echo/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % size)

        def reader():
            nonlocal received
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, rest = buf.split(b"\r\n\r\n", 1)
            assert b" 200 " in head.split(b"\r\n")[0] and b"fn0-node: " + node_id(a).encode() in head, head
            # chunked: strip the framing as it comes
            data = rest
            while True:
                while b"\r\n" not in data:
                    data += s.recv(65536)
                line, data = data.split(b"\r\n", 1)
                n = int(line, 16)
                if n == 0:
                    return
                while len(data) < n + 2:
                    more = s.recv(1 << 20)
                    assert more, "connection closed early"
                    data += more
                got.update(data[:n])
                received += n
                data = data[n + 2:]

        t = threading.Thread(target=reader)
        t.start()
        left = size
        while left and t.is_alive():
            chunk = piece[:min(left, len(piece))]
            s.sendall(chunk)
            sent.update(chunk)
            left -= len(chunk)
        t.join(120)
    if received != size:
        print("B:", b.access_log()[-2:], b.stderr()[-1500:], "\nA:", a.access_log()[-2:], a.stderr()[-1500:])
    assert received == size and got.hexdigest() == sent.hexdigest()
    growth = {n: peak_rss_mb(n) - before[n] for n in (a, b)}
    print(f"peak RSS growth during a 100 MB echo through a hop: forwarder {growth[b]:.1f} MB, runner {growth[a]:.1f} MB")
    assert growth[b] < 40 and growth[a] < 40, growth


def test_deploy_through_one_node_and_rollback_through_another_reach_every_node_within_a_second(
        cluster, examples_dir, guests_dir):
    a, b, c = cluster.node("a"), cluster.node("b"), cluster.node("c")
    nodes = (a, b, c)
    assert a.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    for n in nodes:
        wait_for(lambda: n.get("/hello/").body == C_BODY)
    # v2 through B, rollback to v1 through C: each one served everywhere
    # (through whichever node runs it) within a second.
    assert b.deploy("hello", guests_dir / "hostile-c.wasm").status == 201
    start = time.monotonic()
    for n in nodes:
        wait_for(lambda: n.get("/hello/count").body.startswith(b"count="), timeout=1, every=0.005)
    took_deploy = time.monotonic() - start
    assert c.api("PUT", "/functions/hello/aliases/live", {"version": "v1"}).status == 200
    start = time.monotonic()
    for n in nodes:
        wait_for(lambda: n.get("/hello/").body == C_BODY, timeout=1, every=0.005)
    print(f"new state on all three nodes: deploy {took_deploy * 1000:.0f} ms, "
          f"rollback {(time.monotonic() - start) * 1000:.0f} ms")


def peak_rss_mb(node) -> float:
    for line in open(f"/proc/{node.proc.pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")
