"""Faults of the shared servers, each: stop it while nodes serve, check the
answers, start it again, check that the nodes recover by themselves (no
node restart). Also: start-up errors that name the problem."""
from __future__ import annotations

import os
import subprocess

import pytest

from cluster import C_BODY, JS_BODY, metric, wait_for


@pytest.fixture
def cluster(cluster):
    """These tests are about shared code and registry: every node runs what it
    receives itself (--no-forward), so each one has to get the code."""
    cluster.default_args = ["--no-forward"]
    return cluster


def test_postgres_away_functions_serve_writes_503_and_nodes_resync_when_it_returns(cluster, examples_dir):
    # A tiny memory cache: "cold" (on disk, not in memory) stays cold.
    a, b = cluster.node("a", "--cache-mb", "1"), cluster.node("b")
    assert a.deploy("cold", examples_dir / "hello-c.wasm").status == 201
    assert a.deploy("warm", examples_dir / "hello-js.wasm").status == 201
    assert a.get("/warm/").body == JS_BODY
    wait_for(lambda: b.get("/cold/").body == C_BODY)

    cluster.pg.stop("immediate")
    # Serving: from the last catalog and the code on local disk.
    for _ in range(3):
        assert a.get("/warm/").body == JS_BODY
        assert a.get("/cold/").body == C_BODY
        assert b.get("/cold/").body == C_BODY
    # Writes: 503 registry-unavailable, through either node.
    for node, req in ((a, lambda n: n.deploy("cold", examples_dir / "hello-js.wasm")),
                      (b, lambda n: n.api("PUT", "/functions/cold/aliases/live", {"version": "v1"})),
                      (a, lambda n: n.api("PUT", "/functions/cold/env/X", {"value": "1"})),
                      (b, lambda n: n.api("DELETE", "/functions/warm"))):
        r = req(node)
        assert r.status == 503, r.body
        assert r.header("fn0-error") == "registry-unavailable", r.body
    wait_for(lambda: metric(b, "fn0_registry_connected") == 0)

    cluster.pg.restart()
    # Both nodes reconnect and resync on their own; a write works again and
    # reaches the other node.
    wait_for(lambda: metric(a, "fn0_registry_connected") == 1 and metric(b, "fn0_registry_connected") == 1,
             timeout=15)
    r = a.deploy("cold", examples_dir / "hello-js.wasm")
    assert r.status == 201, r.body
    wait_for(lambda: b.get("/cold/").body == JS_BODY)
    assert metric(b, "fn0_registry_reconnects_total") >= 1


def test_s3_away_local_code_serves_downloads_and_deploys_503_then_recovery(cluster, examples_dir):
    a, b = cluster.node("a"), cluster.node("b")
    assert a.deploy("local", examples_dir / "hello-c.wasm").status == 201
    assert a.deploy("remote", examples_dir / "hello-js.wasm").status == 201
    wait_for(lambda: b.get("/local/").body == C_BODY)  # B has "local" on disk now, not "remote"

    cluster.s3.stop()
    assert a.get("/local/").body == C_BODY and a.get("/remote/").body == JS_BODY
    assert b.get("/local/").body == C_BODY
    r = b.get("/remote/")  # needs a download
    assert r.status == 503 and r.header("fn0-error") == "store-unavailable", r.body
    assert b"code store" in r.body
    # A deploy fails cleanly: nothing registered.
    r = a.deploy("newfn", examples_dir / "echo-c.wasm")
    assert r.status == 503 and r.header("fn0-error") == "store-unavailable", r.body
    assert a.api("GET", "/functions/newfn").status == 404
    assert b.api("GET", "/functions/newfn").status == 404

    cluster.s3.restart()
    wait_for(lambda: b.get("/remote/").body == JS_BODY, timeout=15)
    assert a.deploy("newfn", examples_dir / "echo-c.wasm").status == 201
    wait_for(lambda: b.get("/newfn/").status == 200)


def start_fails(cluster, *args: str, env: dict | None = None) -> str:
    cmd = [str(cluster.build_dir / "fn0"), "serve", "--listen", "127.0.0.1:0",
           "--data-dir", str(cluster.workdir / "bad"), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env={**os.environ, **cluster.s3.env(), **(env or {})})
    assert p.returncode != 0, p.stderr
    assert "Traceback" not in p.stderr and "terminate called" not in p.stderr
    return p.stderr


def test_startup_errors_name_the_problem(cluster):
    store = cluster.s3.url(cluster.bucket)
    err = start_fails(cluster, "--registry", cluster.pg.url(), "--store", store,
                      env={"AWS_SECRET_ACCESS_KEY": "wrong-secret-0123456789"})
    assert "credentials" in err and store.split("?")[0] in err, err
    missing = cluster.s3.url("no-such-bucket")
    err = start_fails(cluster, "--registry", cluster.pg.url(), "--store", missing)
    assert "no-such-bucket" in err and "does not exist" in err, err
    err = start_fails(cluster, "--registry", "mysql://fn0@127.0.0.1/x")
    assert "--registry must be postgres://" in err, err
    err = start_fails(cluster, "--registry", f"postgres://fn0@127.0.0.1:{cluster.pg.port + 1}/fn0")
    assert "cannot connect to the registry" in err, err
    err = start_fails(cluster, "--registry", cluster.pg.url("nodb"))
    assert '"nodb" does not exist' in err, err
    err = start_fails(cluster, "--store", "ftp://x")
    assert "--store" in err, err
    cluster.s3.stop()
    err = start_fails(cluster, "--store", store)
    assert "cannot reach" in err, err
    short = cluster.workdir / "short.key"
    short.write_text("abc")
    cluster.s3.restart()
    err = start_fails(cluster, "--store", store, "--cluster-key-file", str(short))
    assert "shorter than 32" in err, err
