"""The go template's two runtime workarounds (templates/go/fn0.go) are needed
and sufficient, on an fn0 node where one instance serves every request
(`reuse_instance_requests`):

- as generated, 300 requests (every third a 4 MB POST /echo) all succeed on
  one reused instance, under a memory limit a leak would hit within a few
  dozen of them;
- without `debug.SetGCPercent(-1)`, a garbage collection runs inside
  cabi_realloc (the host copying a request body in) and reads the clock,
  which the component model forbids there: the 4 MB echo traps;
- without the per-request `Unpin()`, every buffer the host allocated stays
  pinned: the instance's memory grows until it hits the memory limit.

Each variant is the template with fn0.go edited. (Seen by hand under
`wasmtime serve` too: without the GC workaround every 4 MB echo traps in
wasi:clocks/wall-clock `now`, called from the adapter's clock_time_get by the
GC inside cabi_realloc during input-stream.blocking-read; the status line has
gone out by then, so the client sees a 200 with a truncated body.)"""
from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

import pytest

from node import Node
from test_languages import fn0

REQUESTS = 300
BIG = 4 << 20
MEMORY_MB = 64  # the template settles near 20 MB; a 4 MB leak per big echo outgrows this within 16 of them
SETTINGS = f"""
[settings]
reuse_instance_requests = 1000
cpu_ms = 5000
memory_mb = {MEMORY_MB}
"""
# Each variant: (text in fn0.go, what it becomes). Go's default GC percent
# (100) brings automatic collections back; without Unpin its import goes too.
NO_GC = [("debug.SetGCPercent(-1)", "debug.SetGCPercent(100)")]
NO_UNPIN = [("\t\twitRuntime.Unpin()\n", ""),
            ('\twitRuntime "go.bytecodealliance.org/pkg/wit/runtime"\n', "")]


@pytest.fixture(scope="module")
def go_node(build_dir, tmp_path_factory):
    # The node lets a function raise its CPU budget up to --cpu-ms (4 MB
    # bodies through a Go guest take more than the default 10 ms).
    n = Node(build_dir, tmp_path_factory.mktemp("node"), "--cpu-ms", "5000", "--duration-ms", "60000").start()
    yield n
    n.kill()


def variant(build_dir, root: Path, name: str, edits: list) -> Path:
    """`fn0 new --template go`, fn0.go edited, built."""
    r = fn0(build_dir, root, "new", name, "--template", "go")
    assert r.returncode == 0, r.stderr
    proj = root / name
    src = proj / "fn0.go"
    text = src.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"fn0.go must hold {old!r} once"
        text = text.replace(old, new)
    src.write_text(text)
    with open(proj / "fn0.toml", "a") as f:
        f.write(SETTINGS)
    b = fn0(build_dir, proj, "build")
    assert b.returncode == 0, b.stderr + b.stdout
    return proj


def deploy(build_dir, node, proj: Path) -> str:
    d = fn0(build_dir, proj, "deploy", "--json", node=node)
    assert d.returncode == 0, d.stderr
    settings = json.loads(node.api("GET", f"/functions/{proj.name}/settings").body)
    assert settings["reuse_instance_requests"] == 1000 and settings["memory_mb"] == MEMORY_MB, settings
    return proj.name


def hammer(node, name: str, stop_at_failure: bool = True) -> list[dict]:
    """REQUESTS requests in turn, every third a 4 MB echo; one dict each."""
    client = node.client(timeout=120)
    big = bytearray(os.urandom(BIG))
    seen = []
    for i in range(REQUESTS):
        echo = i % 3 == 1
        try:
            if echo:
                big[:8] = i.to_bytes(8, "little")  # a different body each time
                r = client.request("POST", f"/{name}/echo", body=bytes(big),
                                   headers=[("content-type", "application/x-test")])
                ok = r.status == 200 and r.body == big
            else:
                r = client.request("GET", f"/{name}/")
                ok = r.status == 200 and json.loads(r.body)["language"] == "go"
            seen.append({"i": i, "echo": echo, "ok": ok, "status": r.status, "error": r.header("fn0-error")})
        except (OSError, http.client.HTTPException) as e:  # the body ended early (a trap mid-response)
            seen.append({"i": i, "echo": echo, "ok": False, "status": None, "error": repr(e)})
        if stop_at_failure and not seen[-1]["ok"]:
            break
    return seen


def outcomes(node, name: str, count: int) -> list[dict]:
    """The access-log lines of `name`'s requests, once all `count` are there."""
    return node.access_log_lines(lambda e: e.get("function") == name and "outcome" in e, count)


def logs(build_dir, node, proj: Path) -> str:
    return fn0(build_dir, proj, "logs", proj.name, node=node).stdout


def test_template_serves_300_requests_with_4mb_bodies_on_one_instance(build_dir, go_node, tmp_path):
    proj = variant(build_dir, tmp_path, "go-rt-ok", edits=[])
    name = deploy(build_dir, go_node, proj)
    seen = hammer(go_node, name)
    assert all(s["ok"] for s in seen) and len(seen) == REQUESTS, [s for s in seen if not s["ok"]][:3]
    entries = outcomes(go_node, name, REQUESTS)
    assert len(entries) == REQUESTS and {e["outcome"] for e in entries} == {"ok"}
    # One instance: only the first request instantiated the component.
    inst = [int(e["instantiate_us"]) for e in entries]
    assert inst[0] > 10 * max(1, sorted(inst[1:])[len(inst) // 2]), inst[:10]


def test_without_the_gc_workaround_a_4mb_echo_traps(build_dir, go_node, tmp_path):
    proj = variant(build_dir, tmp_path, "go-rt-nogc", edits=NO_GC)
    name = deploy(build_dir, go_node, proj)
    seen = hammer(go_node, name)
    failed = seen[-1]
    assert not failed["ok"], "all 300 requests succeeded without the GC workaround"
    assert failed["echo"], failed  # a big body, not a GET
    entries = outcomes(go_node, name, len(seen))
    assert entries[-1]["outcome"] == "trap", entries[-1]
    assert "cannot leave component instance" in entries[-1].get("detail", "") + logs(build_dir, go_node, proj), \
        entries[-1]


def test_without_unpin_memory_grows_to_the_limit(build_dir, go_node, tmp_path):
    proj = variant(build_dir, tmp_path, "go-rt-nounpin", edits=NO_UNPIN)
    name = deploy(build_dir, go_node, proj)
    seen = hammer(go_node, name)
    failed = seen[-1]
    assert not failed["ok"], "all 300 requests succeeded without Unpin"
    # The echo answers its status line before it reads the body, so the
    # client sees a 503 or a cut-off 200; the node's log says which limit.
    assert failed["status"] in (503, None), failed
    assert outcomes(go_node, name, len(seen))[-1]["outcome"] == "memory-limit", failed
    # It served some big echoes first: the memory grew request by request.
    assert sum(s["echo"] and s["ok"] for s in seen) >= 2, seen
