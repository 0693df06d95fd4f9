"""The incremental compilation cache through a real node: deploys leave
their compiled functions in <data-dir>/compile-cache (one pack per compile
that made new entries), later deploys reuse them, and --compile-cache-mb 0
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
    # echo-c links the same libc and adapter: it adds a pack of what differs,
    # smaller than the first.
    assert node.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    now = packs(data)
    assert len(now) == 2, now
    second = [p for p in now if p not in first][0]
    assert 0 < second.stat().st_size < first[0].stat().st_size
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
