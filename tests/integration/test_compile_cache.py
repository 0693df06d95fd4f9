"""The incremental compilation cache through a real node: deploys leave
their compiled functions in <data-dir>/compile-cache (one pack per compile
that made new entries), and --compile-cache-mb 0
turns it off. Speed is bench/deploy_cache.py's business, not this test's."""
from __future__ import annotations

from pathlib import Path


def packs(data: Path) -> list[Path]:
    return sorted((data / "compile-cache").glob("*.pack"))


def test_deploys_share_compiled_functions(node_factory, examples_dir, tmp_path):
    data = tmp_path / "cached"
    node = node_factory(data_dir=data)
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    first = packs(data)
    assert len(first) == 1, first
    assert first[0].stat().st_size > 10_000  # ~100 functions' compiled code
    # echo-c adds a pack of its own functions (what it shares with hello-c,
    # the libc and adapter code, it takes from the first: CompileCache.*
    # in runtime_test counts those hits).
    assert node.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    now = packs(data)
    assert len(now) == 2, now
    assert first[0] in now
    second = [p for p in now if p not in first][0]
    assert second.stat().st_size > 0
    # Both serve.
    c = node.client()
    assert c.get("/hello/").status == 200
    assert c.request("POST", "/echo/", body=b"ping").body == b"ping"


def test_zero_megabytes_turns_it_off(node_factory, examples_dir, tmp_path):
    data = tmp_path / "uncached"
    node = node_factory("--compile-cache-mb", "0", data_dir=data)
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert node.client().get("/hello/").status == 200
    assert not (data / "compile-cache").exists()
