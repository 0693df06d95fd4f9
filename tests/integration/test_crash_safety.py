"""Crash safety of deploys: the node is killed (SIGKILL, via the FN0_FAILPOINT
fault injection) at each stage of a deploy, restarted, and must show a
consistent registry, no half-made version, the previous version serving,
and a retry that succeeds. On both registries: SQLite in the data directory,
and PostgreSQL with the S3 code store (a cluster node)."""
from __future__ import annotations

import json
import sqlite3

import pytest

from cluster import Cluster
from node import Node

# In deploy order: compiled (validated) first, the original stored only then.
STAGES = ["deploy:received", "deploy:compiled", "deploy:blob-stored", "registry:in-transaction",
          "deploy:registered"]


# The version the doomed deploy brings: small, so the test spends its time
# on the crash and not on compiling.
NEW = "echo-c.wasm"


def serves_new(node) -> bool:
    return node.get("/hello/").header("x-echo-method") == "GET"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, build_dir, tmp_path):
    """(node arguments, environment, check of the registry's integrity)."""
    if request.param == "sqlite":
        def check():
            db = sqlite3.connect(tmp_path / "data" / "registry.db")
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            db.close()
        yield [], {}, check
        return
    cluster = Cluster(build_dir, tmp_path / "cluster")

    def check():
        # Every version row has its function; every alias names a version.
        assert cluster.pg.psql("SELECT count(*) FROM versions v LEFT JOIN functions f ON f.name = v.function "
                               "WHERE f.name IS NULL").strip() == "0"
        assert cluster.pg.psql("SELECT count(*) FROM aliases a LEFT JOIN versions v ON v.function = a.function "
                               "AND v.number = a.version WHERE v.number IS NULL").strip() == "0"
    yield cluster.node_args(), cluster.s3.env(), check
    cluster.close()


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_during_a_deploy(build_dir, examples_dir, tmp_path, stage, backend):
    args, env, check_registry = backend
    data = tmp_path / "data"
    first = Node(build_dir, data, *args, env=env).start()
    try:
        assert first.deploy("hello", examples_dir / "hello-c.wasm").status == 201
        first.stop()
    finally:
        first.kill()

    doomed = Node(build_dir, data, *args, env=dict(env, FN0_FAILPOINT=stage)).start()
    try:
        with pytest.raises(Exception):
            doomed.deploy("hello", examples_dir / NEW)
        doomed.proc.wait(10)
        assert doomed.proc.returncode == -9, f"the node did not die at {stage}"
    finally:
        doomed.kill()

    check_registry()

    node = Node(build_dir, data, *args, env=env).start()
    try:
        versions = [v["version"] for v in json.loads(node.api("GET", "/functions/hello/versions").body)["versions"]]
        live = json.loads(node.api("GET", "/functions/hello").body)["live"]
        if stage == "deploy:registered":
            # The transaction committed before the crash: v2 exists whole.
            assert versions == ["v1", "v2"] and live == "v2"
            assert serves_new(node)
        else:
            assert versions == ["v1"] and live == "v1"
            assert node.get("/hello/").body == b"Hello from fn0 (C)!\n"
        for v in versions:  # every visible version is complete and serves
            assert node.get(f"/hello@{v}/").status == 200
        retry = node.deploy("hello", examples_dir / NEW)
        assert retry.status in (200, 201), retry.body
        assert json.loads(retry.body)["version"] == "v2"
        assert serves_new(node)
    finally:
        node.kill()
