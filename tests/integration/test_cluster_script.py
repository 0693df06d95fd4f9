"""scripts/cluster.sh (`make cluster-up`): `up --examples` starts PostgreSQL,
versitygw, three nodes and haproxy; the example answers through haproxy and
on every node; `status` sees it all; `down` leaves no process and no port
behind. The ports are a free block outside the ephemeral range, so neither a
user's cluster (8090-8095) nor the other suites' servers collide."""
from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from pathlib import Path

import pytest

from cluster import C_BODY
from http_client import HttpClient

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cluster.sh"
PARTS = ("postgres", "versitygw", "node1", "node2", "node3", "haproxy")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_base() -> int:
    for _ in range(100):
        base = random.randrange(20000, 30000, 10)
        if all(port_free(base + i) for i in range(6)):
            return base
    raise RuntimeError("no 6 free ports in 20000-30000")


def gone(pid: int) -> bool:
    # A zombie (nobody reaped it yet) has exited too.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_until(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def script(build_dir):
    state = Path(os.environ.get("FN0_CLUSTER_DIR", build_dir / "test-cluster"))
    env = dict(os.environ, FN0_BUILD_DIR=str(build_dir), FN0_CLUSTER_DIR=str(state),
               FN0_CLUSTER_PORT=str(free_base()), FN0_CLUSTER_EXAMPLES="hello-c echo-c")

    def run(*args: str, timeout: float = 180, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRIPT), *args], env=dict(env, **kw), capture_output=True, text=True,
                              timeout=timeout)

    run.state, run.base = state, int(env["FN0_CLUSTER_PORT"])
    run("down", "--clean")  # what a crashed earlier run may have left
    yield run
    run("down", "--clean")


def test_up_serves_everywhere_status_then_down_leaves_nothing(script, build_dir):
    base = script.base
    up = script("up", "--examples")
    assert up.returncode == 0, up.stdout + up.stderr
    token = (script.state / "admin-token").read_text().strip()
    assert f"load balancer  http://127.0.0.1:{base}/" in up.stdout
    assert f"export FN0_SERVER=http://127.0.0.1:{base} FN0_TOKEN={token}" in up.stdout
    assert f"http://127.0.0.1:{base}/hello-c/" in up.stdout, up.stdout
    for i in (1, 2, 3):
        assert f"node{i}          http://127.0.0.1:{base + i}/" in up.stdout
    pids = {p: int((script.state / "run" / f"{p}.pid").read_text()) for p in PARTS}
    assert not any(gone(pid) for pid in pids.values()), pids

    # Through haproxy (path and host routing), then on each node directly.
    lb = HttpClient("127.0.0.1", base)
    for _ in range(6):
        r = lb.get("/hello-c/")
        assert (r.status, r.body) == (200, C_BODY), r
    r = lb.get("/", headers=[("Host", f"hello-c.fn0.localhost:{base}")])
    assert (r.status, r.body) == (200, C_BODY), r
    for i in (1, 2, 3):
        r = HttpClient("127.0.0.1", base + i).get("/hello-c/")
        assert (r.status, r.body) == (200, C_BODY), (i, r)
    echo = lb.request("POST", "/echo-c/x", body=b"through haproxy")
    assert (echo.status, echo.body) == (200, b"through haproxy"), echo

    # The printed export works for the CLI.
    cli = subprocess.run([str(build_dir / "fn0"), "list"], capture_output=True, text=True,
                         env=dict(os.environ, FN0_SERVER=f"http://127.0.0.1:{base}", FN0_TOKEN=token))
    assert cli.returncode == 0 and "hello-c" in cli.stdout, cli.stdout + cli.stderr

    st = script("status")
    assert st.returncode == 0, st.stdout + st.stderr
    for p in PARTS:
        assert f"{p:<10} running  pid {pids[p]}" in st.stdout, st.stdout
    assert "n1 UP n2 UP n3 UP" in st.stdout, st.stdout

    again = script("up")
    assert again.returncode == 1 and "already up" in again.stderr, again.stdout + again.stderr

    down = script("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert wait_until(lambda: all(gone(pid) for pid in pids.values()), 5), \
        {p: pid for p, pid in pids.items() if not gone(pid)}
    taken = [base + i for i in range(6) if not port_free(base + i)]
    assert not taken, f"ports still bound after down: {taken}"
    st = script("status")
    assert st.returncode == 1 and st.stdout.count(" stopped") == len(PARTS), st.stdout
    # down keeps the state (a later up brings the functions back) unless --clean.
    assert (script.state / "node1").is_dir() and (script.state / "admin-token").exists()
    assert script("down", "--clean").returncode == 0
    assert not script.state.exists()


def test_up_refuses_clearly_without_fn0_or_with_a_port_taken(script, tmp_path):
    r = script("up", FN0_BUILD_DIR=str(tmp_path))
    assert r.returncode == 1 and "run make build first" in r.stderr, r.stderr

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", script.base + 2))
        s.listen()
        r = script("up")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"port {script.base + 2} (node2)" in r.stderr, r.stderr
    # Refused before anything started.
    assert not list((script.state / "run").glob("*.pid"))
