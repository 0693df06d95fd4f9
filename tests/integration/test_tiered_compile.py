"""Tiered compilation through a real node: a big WASI 0.2 deploy answers
from the baseline compiler's code (Winch), the optimizing compile runs in
the background in a child process and its artifact replaces the baseline
one; a node stopped in the middle resumes it after a restart;
--no-tiered-compile compiles optimized before answering. Speed is
bench/deploy_cache.py's business, not this test's."""
from __future__ import annotations

import time
from pathlib import Path

from cluster import metric, wait_for

JS_BODY = b"Hello from fn0 (JavaScript)!\n"


def artifacts(data: Path) -> list[str]:
    return sorted(p.name.split("-", 2)[-1].split(".", 1)[1] for p in (data / "artifacts").iterdir()
                  if ".tmp." not in p.name)


def wait_optimized(node, data: Path, timeout: float = 240):
    # The counter first: the baseline file may not be written yet (it is
    # served from memory, and written by the background thread).
    wait_for(lambda: metric(node, "fn0_baseline_optimized_total") == 1, timeout=timeout, every=0.2)
    wait_for(lambda: "baseline.cwasm" not in artifacts(data), timeout=10, every=0.1)


def test_a_big_deploy_answers_first_from_baseline_code(node_factory, examples_dir, tmp_path):
    data = tmp_path / "node"
    node = node_factory(data_dir=data)
    # hello-c (72 KB) is under the 1 MiB threshold: optimized at once.
    assert node.deploy("small", examples_dir / "hello-c.wasm").status == 201
    assert metric(node, "fn0_baseline_compiles_total") == 0
    assert node.deploy("js", examples_dir / "hello-js.wasm").status == 201
    assert metric(node, "fn0_baseline_compiles_total") == 1
    r = node.get("/js/")
    assert r.status == 200 and r.body == JS_BODY
    wait_optimized(node, data)
    assert artifacts(data) == ["cwasm", "cwasm"]
    assert metric(node, "fn0_baseline_optimize_failures_total") == 0
    # Served by the optimized code now, same answer; nothing compiled again.
    compiles = metric(node, "fn0_compiles_total")
    r = node.get("/js/")
    assert r.status == 200 and r.body == JS_BODY
    assert metric(node, "fn0_compiles_total") == compiles


def test_a_restart_resumes_an_optimization_cut_short(node_factory, examples_dir, tmp_path):
    data = tmp_path / "node"
    node = node_factory(data_dir=data)
    assert node.deploy("js", examples_dir / "hello-js.wasm").status == 201
    # The baseline artifact is served from memory and written to its file
    # by the background thread, before its optimizing compile.
    wait_for(lambda: artifacts(data) == ["baseline.cwasm"], timeout=30, every=0.05)
    node.stop()  # the optimizing compile (seconds of work) had no time to end
    assert artifacts(data) == ["baseline.cwasm"], artifacts(data)
    node = node_factory(data_dir=data)
    r = node.get("/js/")
    assert r.status == 200 and r.body == JS_BODY
    wait_optimized(node, data)
    assert artifacts(data) == ["cwasm"]
    assert node.get("/js/").body == JS_BODY
    assert metric(node, "fn0_compiles_total") == 0  # the background compile is not a deploy's


def test_a_node_killed_before_the_baseline_file_is_written_compiles_it_again(node_factory, examples_dir, tmp_path):
    data = tmp_path / "node"
    # The background thread waits before it writes the baseline artifact.
    node = node_factory(data_dir=data, env={"FN0_PAUSEPOINT": "tiered:persist:60000"})
    assert node.deploy("js", examples_dir / "hello-js.wasm").status == 201
    assert node.get("/js/").body == JS_BODY  # served from memory
    assert artifacts(data) == [], artifacts(data)
    node.kill()
    node = node_factory(data_dir=data)
    r = node.get("/js/")
    assert r.status == 200 and r.body == JS_BODY
    assert metric(node, "fn0_baseline_compiles_total") == 1  # compiled again from the original


def test_the_flag_turns_it_off(node_factory, examples_dir, tmp_path):
    data = tmp_path / "node"
    node = node_factory("--no-tiered-compile", data_dir=data)
    t0 = time.monotonic()
    assert node.deploy("js", examples_dir / "hello-js.wasm").status == 201
    assert artifacts(data) == ["cwasm"], (artifacts(data), time.monotonic() - t0)
    assert metric(node, "fn0_baseline_compiles_total") == 0
    assert node.get("/js/").body == JS_BODY
