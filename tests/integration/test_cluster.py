"""Two and three nodes sharing a real PostgreSQL registry and a real S3 code
store (versitygw, SigV4 enforced): changes through one node reach the
others, a node serves what another deployed without compiling it (the
sealed artifact came from the bucket), a tampered artifact is never loaded."""
from __future__ import annotations

import json
import statistics
import time

import pytest

from cluster import C_BODY, JS_BODY, metric, wait_for, wait_shared
from node import Node


@pytest.fixture
def cluster(cluster):
    """These tests are about shared code and registry: every node runs what it
    receives itself (--no-forward), so each one has to get the code."""
    cluster.default_args = ["--no-forward"]
    return cluster


def test_deploy_through_a_serves_on_b_without_compiling_and_rollback_through_b_reaches_a(cluster, examples_dir):
    a = cluster.node("a")
    # B takes the shared settings from its config file instead of flags.
    config = cluster.workdir / "b.toml"
    config.write_text(f'[serve]\nregistry = "{cluster.pg.url()}"\nstore = "{cluster.s3.url(cluster.bucket)}"\n'
                      f'cluster-key-file = "{cluster.key_file}"\nsecrets-key-file = "{cluster.secrets_key_file}"\n')
    b = Node(cluster.build_dir, cluster.workdir / "b", "--config", str(config), "--no-forward",
             env=cluster.s3.env()).start()
    cluster.nodes.append(b)
    assert "registry postgres" in b.stderr()
    assert a.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert a.deploy("hello", examples_dir / "hello-js.wasm").status == 201
    wait_shared(a, 2)  # the JavaScript one once optimized
    # B never saw these deploys: its catalog came by NOTIFY, the code from S3.
    # B's catalog first catches up (on a loaded machine a request sent before
    # the NOTIFY arrives would still find v1 live and download it too).
    generation = json.loads(a.api("GET", "/status").body)["registry"]["generation"]
    wait_for(lambda: json.loads(b.api("GET", "/status").body)["registry"]["generation"] >= generation)
    wait_for(lambda: b.get("/hello/").body == JS_BODY)
    assert metric(b, "fn0_compiles_total") == 0
    assert metric(b, "fn0_artifact_downloads_total") == 1
    assert metric(b, "fn0_artifact_rejected_total") == 0
    assert metric(a, "fn0_artifact_uploads_total") == 2
    assert len(cluster.artifact_objects()) == 2
    # The registry API through B shows A's deploys.
    versions = json.loads(b.api("GET", "/functions/hello/versions").body)["versions"]
    assert [v["version"] for v in versions] == ["v1", "v2"]
    # A rollback through B reaches A.
    assert b.api("PUT", "/functions/hello/aliases/live", {"version": "v1"}).status == 200
    wait_for(lambda: a.get("/hello/").body == C_BODY)
    assert b.get("/hello/").body == C_BODY
    assert metric(b, "fn0_compiles_total") == 0  # v1 downloaded too
    # A delete through B: gone on A.
    assert b.api("DELETE", "/functions/hello").status == 200
    wait_for(lambda: a.get("/hello/").status == 404)


def test_every_kind_of_change_reaches_the_other_node_within_a_second(cluster, examples_dir, build_dir):
    a, b = cluster.node("a"), cluster.node("b")
    assert a.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert a.deploy("hello", examples_dir / "hello-js.wasm").status == 201
    wait_for(lambda: b.get("/hello/").body == JS_BODY)
    wait_for(lambda: b.get("/hello@v1/").body == C_BODY)
    # 50 alias moves through A, alternating; each timed until B serves it.
    times = []
    for i in range(50):
        version, body = ("v1", C_BODY) if i % 2 == 0 else ("v2", JS_BODY)
        start = time.monotonic()
        assert a.api("PUT", "/functions/hello/aliases/live", {"version": version}).status == 200
        wait_for(lambda: b.get("/hello/").body == body, timeout=5, every=0.001)
        times.append(time.monotonic() - start)
    med, worst = statistics.median(times), max(times)
    report = f"propagation of 50 alias moves A -> B: median {med * 1000:.1f} ms, max {worst * 1000:.1f} ms"
    print(report)
    (build_dir / "cluster-propagation.txt").write_text(report + "\n")
    assert worst < 1.0, report
    # Env, secrets and settings reach B too (the echo function shows env).
    assert a.deploy("echo", examples_dir / "echo-c.wasm").status == 201
    assert a.api("PUT", "/functions/echo/env/GREETING", {"value": "hi"}).status == 200
    assert a.api("PUT", "/functions/echo/settings", {"max_subrequests": 0}).status == 200
    wait_for(lambda: json.loads(b.api("GET", "/functions/echo/settings").body) == {"max_subrequests": 0})
    assert json.loads(b.api("GET", "/functions/echo/env").body) == {"GREETING": "hi"}
    status = json.loads(b.api("GET", "/status").body)["registry"]
    assert status["kind"] == "postgres" and status["connected"] is True


def test_a_tampered_artifact_in_the_bucket_is_rejected_and_recompiled(cluster, examples_dir):
    a = cluster.node("a")
    assert a.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    [obj] = cluster.artifact_objects()
    data = bytearray(obj.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one bit pattern in the native code
    obj.write_bytes(bytes(data))
    b = cluster.node("b")
    r = b.get("/hello/")
    assert r.status == 200 and r.body == C_BODY
    assert metric(b, "fn0_artifact_rejected_total") == 1
    assert metric(b, "fn0_artifact_downloads_total") == 0
    assert metric(b, "fn0_fetch_compiles_total") == 1
    assert "does not verify" in b.stderr()
    # A node with another key rejects even an intact artifact.
    assert a.deploy("hello2", examples_dir / "hello-js.wasm").status == 201
    wait_shared(a, 2)
    other_key = cluster.workdir / "other.key"
    other_key.write_text("x" * 64)
    c = cluster.node("c", "--cluster-key-file", str(other_key), key=False)
    assert c.get("/hello2/").body == JS_BODY
    assert metric(c, "fn0_artifact_rejected_total") == 1 and metric(c, "fn0_compiles_total") == 1


def test_a_big_deploy_answers_before_its_optimized_artifact_is_shared_and_others_download_it_later(
        cluster, examples_dir):
    """Tiered compilation in a cluster: A answers the deploy of a JavaScript
    function with baseline code; B, asked before A shared the optimized
    artifact, compiles baseline code too, then takes A's optimized artifact
    from the bucket instead of compiling its own."""
    # A's background compile waits 5 s first, so B surely asks before A shares.
    a = cluster.node("a", env={"FN0_PAUSEPOINT": "tiered:persist:5000"})
    b = cluster.node("b")
    assert a.deploy("big", examples_dir / "hello-js.wasm").status == 201
    assert metric(a, "fn0_baseline_compiles_total") == 1 and metric(a, "fn0_artifact_uploads_total") == 0
    assert a.get("/big/").body == JS_BODY
    wait_for(lambda: b.get("/big/").body == JS_BODY)
    assert metric(b, "fn0_baseline_compiles_total") == 1 and metric(b, "fn0_fetch_compiles_total") == 1
    assert metric(b, "fn0_artifact_downloads_total") == 0
    wait_shared(a, 1)
    wait_for(lambda: metric(b, "fn0_baseline_optimized_total") == 1, timeout=30)
    assert metric(b, "fn0_artifact_downloads_total") == 1, "B compiled its own optimized artifact"
    assert metric(b, "fn0_artifact_uploads_total") == 0 and metric(b, "fn0_baseline_optimize_failures_total") == 0
    assert metric(a, "fn0_baseline_optimized_total") == 1
    assert len(cluster.artifact_objects()) == 1
    assert b.get("/big/").body == JS_BODY and a.get("/big/").body == JS_BODY


@pytest.mark.parametrize("example,body", [("hello-c", C_BODY), ("hello-js", JS_BODY)])
def test_cold_node_first_request_download_versus_compile(cluster, examples_dir, build_dir, example, body):
    """Times a cold node's first request (figures for docs/cluster.md): with
    the shared artifact downloaded, and with the original compiled locally
    (a node without the cluster key). Asserts only which path was taken."""
    a = cluster.node("a")
    assert a.deploy("f", examples_dir / f"{example}.wasm").status == 201
    wait_shared(a, 1)
    shared, alone = cluster.node("shared"), cluster.node("alone", key=False)
    t0 = time.monotonic()
    assert shared.get("/f/").body == body
    t_download = time.monotonic() - t0
    t0 = time.monotonic()
    assert alone.get("/f/").body == body
    t_compile = time.monotonic() - t0
    assert metric(shared, "fn0_compiles_total") == 0 and metric(shared, "fn0_artifact_downloads_total") == 1
    assert metric(alone, "fn0_compiles_total") == 1 and metric(alone, "fn0_component_downloads_total") == 1
    line = f"{example}: cold first request {t_download * 1000:.0f} ms with the downloaded artifact, " \
           f"{t_compile * 1000:.0f} ms compiling locally"
    print(line)
    with open(build_dir / "cluster-cold-start.txt", "a") as f:
        f.write(line + "\n")


def test_a_shared_directory_store_works_like_a_bucket(cluster, examples_dir):
    """--store file:///shared/path (an NFS mount, say): two nodes, one
    directory; B serves A's deploy from the sealed artifact A left there."""
    shared = cluster.workdir / "shared"
    store = f"file://{shared}"
    args = ["--registry", cluster.pg.url(), "--store", store, "--cluster-key-file", str(cluster.key_file),
            "--secrets-key-file", str(cluster.secrets_key_file)]
    a = Node(cluster.build_dir, cluster.workdir / "fa", *args).start()
    b = Node(cluster.build_dir, cluster.workdir / "fb", *args).start()
    cluster.nodes += [a, b]
    assert a.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    wait_for(lambda: b.get("/hello/").body == C_BODY)
    assert metric(b, "fn0_compiles_total") == 0 and metric(b, "fn0_artifact_downloads_total") == 1
    assert list(shared.glob("sha256/*/*")) and list(shared.glob("artifacts/*/*.cwasm"))
    # Nothing half-written is left behind by the writers (temporary files).
    assert not [p for p in shared.rglob("*") if ".tmp." in p.name]
