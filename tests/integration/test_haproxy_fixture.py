"""tests/servers/haproxy.py: a real haproxy in front of two real nodes spreads
requests over both, marks a killed node DOWN within ~2 s, and no request
fails meanwhile (a refused connect is retried on the other node)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from cluster import C_BODY
from http_client import HttpClient

SERVERS = Path(__file__).resolve().parents[1] / "servers"
sys.path.insert(0, str(SERVERS))

import haproxy  # noqa: E402
from haproxy import HAProxy  # noqa: E402


def hello_count(node) -> int:
    return sum(1 for e in node.access_log() if e.get("target") == "/hello-c/" and e.get("status") == 200)


def wait_counts(nodes, total: int, timeout: float = 5) -> list[int]:
    # Access log lines reach the fixture through a pipe: a moment after the reply.
    deadline = time.monotonic() + timeout
    while (counts := [hello_count(n) for n in nodes]) and sum(counts) < total and time.monotonic() < deadline:
        time.sleep(0.02)
    return counts


@pytest.fixture
def lb(tmp_path):
    started = []

    def make(*args, **kw) -> HAProxy:
        h = HAProxy(*args, workdir=tmp_path / f"haproxy{len(started)}", **kw)
        started.append(h)
        return h.start()

    yield make
    for h in started:
        h.kill()


def test_spreads_over_both_nodes_and_survives_one_killed(node_factory, examples_dir, lb):
    a, b = node_factory(), node_factory()
    for n in (a, b):
        assert n.deploy("hello-c", examples_dir / "hello-c.wasm").status == 201
    h = lb([("127.0.0.1", a.port), ("127.0.0.1", b.port)])
    h.wait_states({"n1": "UP", "n2": "UP"}, timeout=5)
    client = HttpClient("127.0.0.1", h.port, timeout=10)

    for _ in range(20):
        r = client.get("/hello-c/")
        assert (r.status, r.body) == (200, C_BODY), r
    counts = wait_counts((a, b), 20)
    assert sum(counts) == 20 and min(counts) >= 5, f"roundrobin sent {counts}"
    stot = {s["svname"]: int(s["stot"]) for s in h.stats()}
    assert stot["n1"] >= 5 and stot["n2"] >= 5, stot

    before_b = hello_count(b)
    a.kill()
    killed = time.monotonic()
    # Keep calling until haproxy sees n1 DOWN: every call must succeed.
    calls = 0
    while h.servers()["n1"] != "DOWN":
        assert time.monotonic() - killed < 2.5, f"n1 still {h.servers()['n1']} 2.5 s after the kill:\n{h.log()}"
        r = client.get("/hello-c/")
        assert (r.status, r.body) == (200, C_BODY), (calls, r)
        calls += 1
        time.sleep(0.02)
    took = time.monotonic() - killed
    assert h.servers() == {"n1": "DOWN", "n2": "UP"}
    for _ in range(10):
        r = client.get("/hello-c/")
        assert (r.status, r.body) == (200, C_BODY), r
    assert wait_counts((b,), before_b + calls + 10)[0] == before_b + calls + 10
    assert "Server nodes/n1 is DOWN" in h.log()
    print(f"n1 DOWN {took:.2f} s after the kill, {calls} calls meanwhile, all answered by n2")


def test_config_is_valid_for_both_balances_and_the_cli_prints_the_same(tmp_path):
    servers = [("a", "127.0.0.1", 1), ("b", "127.0.0.1", 2)]
    for balance in haproxy.BALANCES:
        h = HAProxy([s for s in servers], workdir=tmp_path / balance, balance=balance, port=3)
        h.check()
        assert f"  balance {balance}\n" in h.cfg.read_text()
        out = subprocess.run([sys.executable, str(SERVERS / "haproxy.py"), "--config", "--port", "3",
                              "--socket", h.sock, "--balance", balance, "a=127.0.0.1:1", "b=127.0.0.1:2"],
                             capture_output=True, text=True, check=True).stdout
        assert out == h.cfg.read_text()
    with pytest.raises(ValueError):
        HAProxy(servers, workdir=tmp_path / "bad", balance="random")
