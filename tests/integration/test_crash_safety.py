"""Crash safety of deploys: the node is killed (SIGKILL, via the FN0_FAILPOINT
fault injection) at each stage of a deploy, restarted, and must show a
consistent registry, no half-made version, the previous version serving,
and a retry that succeeds."""
from __future__ import annotations

import json
import sqlite3

import pytest

from node import Node

# In deploy order: compiled (validated) first, the original stored only then.
STAGES = ["deploy:received", "deploy:compiled", "deploy:blob-stored", "registry:in-transaction",
          "deploy:registered"]


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_during_a_deploy(build_dir, examples_dir, tmp_path, stage):
    data = tmp_path / "data"
    first = Node(build_dir, data).start()
    try:
        assert first.deploy("hello", examples_dir / "hello-c.wasm").status == 201
        first.stop()
    finally:
        first.kill()

    doomed = Node(build_dir, data, env={"FN0_FAILPOINT": stage}).start()
    try:
        with pytest.raises(Exception):
            doomed.deploy("hello", examples_dir / "hello-js.wasm")
        doomed.proc.wait(10)
        assert doomed.proc.returncode == -9, f"the node did not die at {stage}"
    finally:
        doomed.kill()

    db = sqlite3.connect(data / "registry.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()

    node = Node(build_dir, data).start()
    try:
        versions = [v["version"] for v in json.loads(node.api("GET", "/functions/hello/versions").body)["versions"]]
        live = json.loads(node.api("GET", "/functions/hello").body)["live"]
        if stage == "deploy:registered":
            # The transaction committed before the crash: v2 exists whole.
            assert versions == ["v1", "v2"] and live == "v2"
            assert node.get("/hello/").body == b"Hello from fn0 (JavaScript)!\n"
        else:
            assert versions == ["v1"] and live == "v1"
            assert node.get("/hello/").body == b"Hello from fn0 (C)!\n"
        for v in versions:  # every visible version is complete and serves
            assert node.get(f"/hello@{v}/").status == 200
        retry = node.deploy("hello", examples_dir / "hello-js.wasm")
        assert retry.status in (200, 201), retry.body
        assert json.loads(retry.body)["version"] == "v2"
        assert node.get("/hello/").body == b"Hello from fn0 (JavaScript)!\n"
    finally:
        node.kill()
