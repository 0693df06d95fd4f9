"""Garbage collection (`fn0 gc`, POST /_fn0/api/v1/gc) on a real node
(SQLite + blobs directory) and on a real cluster (PostgreSQL + versitygw):
exactly the files no version references go, aliased and shared ones stay,
a dry run lists the same set and deletes nothing, a deploy racing a
collection loses nothing, a second node keeps serving what it holds.

Distinct components are made cheaply: a small C example with a custom
section appended (a custom section keeps a component valid and changes its
hash). The expected sets are computed here from the bytes' sha256, not
taken from fn0's answers."""
from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

from cluster import C_BODY, metric, wait_for


def leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def variant(wasm: bytes, tag: str) -> bytes:
    """`wasm` with a custom section named fn0-test holding `tag`."""
    name, payload = b"fn0-test", tag.encode()
    body = leb128(len(name)) + name + payload
    return wasm + b"\x00" + leb128(len(body)) + body


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def deploy(node, name: str, data: bytes, status: int = 201):
    r = node.api("POST", f"/functions/{name}/versions", data, content_type="application/wasm", timeout=300)
    assert r.status == status, r.body
    return json.loads(r.body)


def files(root: Path, *folders: str) -> set[str]:
    """Files under `root` (only under `folders` when given), relative paths."""
    if not root.exists():
        return set()
    out = set()
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and (not folders or rel.split("/")[0] in folders):
            out.add(rel)
    return out


def original_key(h: str) -> str:
    return f"sha256/{h[:2]}/{h}"


def local_artifacts(data_dir: Path, h: str) -> set[str]:
    return {p.name for p in (data_dir / "artifacts").glob(f"{h}-*.cwasm")}


def gc(node, dry_run: bool, status: int = 200) -> dict:
    r = node.api("POST", f"/gc?dry_run={'true' if dry_run else 'false'}", timeout=120)
    assert r.status == status, r.body
    return json.loads(r.body)


def listed(report: dict) -> set[tuple[str, str]]:
    """(node or "store", key) of every object a report names."""
    return {(o.get("node", "store"), o["key"]) for o in report["objects"]}


@pytest.fixture(scope="module")
def small(examples_dir) -> bytes:
    return (examples_dir / "hello-c.wasm").read_bytes()


# ---- one node: SQLite and the data directory's blobs/ -----------------------

def test_gc_removes_exactly_the_unreferenced_files_and_a_dry_run_lists_the_same(node_factory, small, tmp_path):
    data = tmp_path / "node"
    node = node_factory("--keep-versions", "2", "--gc-grace-s", "0", data_dir=data)
    a = [variant(small, f"a{i}") for i in range(1, 5)]
    shared, doomed_fn = variant(small, "shared"), variant(small, "d")
    for v in a:
        deploy(node, "a", v)
    assert node.api("PUT", "/functions/a/aliases/old", {"version": "v1"}).status == 200
    deploy(node, "b", shared)
    deploy(node, "c", shared)  # the same bytes as b: one object
    deploy(node, "d", doomed_fn)
    assert node.api("DELETE", "/functions/c").status == 200
    assert node.api("DELETE", "/functions/d").status == 200
    # a keeps v4, v3 (newest two) and v1 (aliased): v2 goes, and d's code.
    gone_hashes = [sha(a[1]), sha(doomed_fn)]
    expect_blobs = {original_key(h) for h in gone_hashes}
    expect_local = set().union(*(local_artifacts(data, h) for h in gone_hashes))
    assert len(expect_local) == 2  # each was compiled here
    blobs_before, local_before = files(data / "blobs", "sha256"), files(data / "artifacts")
    assert expect_blobs <= blobs_before

    dry = json.loads(node.cli("gc", "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True
    assert listed(dry) == {("store", k) for k in expect_blobs} | {(f"127.0.0.1:{node.port}", k) for k in expect_local}
    assert [(v["function"], v["version"]) for v in dry["versions"]] == [("a", "v2")]
    assert dry["totals"]["versions_by_function"] == {"a": ["v2"]}
    assert files(data / "blobs", "sha256") == blobs_before and files(data / "artifacts") == local_before
    assert len(json.loads(node.api("GET", "/functions/a/versions").body)["versions"]) == 4

    real = gc(node, dry_run=False)
    assert listed(real) == listed(dry)
    assert real["failures"] == []
    assert files(data / "blobs", "sha256") == blobs_before - expect_blobs
    assert files(data / "artifacts") == local_before - expect_local
    freed = sum(o["size"] for o in real["objects"])
    assert real["totals"]["bytes"] == freed and freed > 2 * len(small)
    assert real["totals"]["by_kind"]["original"]["count"] == 2
    assert real["totals"]["by_kind"]["local_artifact"]["count"] == 2
    # Registry: a@v2 is gone, the aliased v1 and b (sharing c's bytes) serve.
    versions = [v["version"] for v in json.loads(node.api("GET", "/functions/a/versions").body)["versions"]]
    assert versions == ["v1", "v3", "v4"]
    assert node.get("/a@old/").body == C_BODY
    assert node.get("/a@v2/").status == 404
    assert node.get("/b/").body == C_BODY
    assert node.get("/d/").status == 404
    assert node.api("GET", "/functions/b/versions/v1/component").body == shared
    assert metric(node, "fn0_gc_runs_total") == 1
    assert metric(node, "fn0_gc_freed_bytes_total") == freed
    assert metric(node, "fn0_gc_deleted_versions_total") == 1
    # Nothing left to collect; the CLI says so.
    again = node.cli("gc")
    assert again.returncode == 0 and "deleted 0 version(s), 0 object(s)" in again.stdout.decode()


def test_the_grace_period_keeps_fresh_code(node_factory, small, tmp_path):
    data = tmp_path / "node"
    node = node_factory("--gc-grace-s", "3600", data_dir=data)
    deploy(node, "x", variant(small, "x"))
    assert node.api("DELETE", "/functions/x").status == 200
    before = files(data / "blobs", "sha256")
    report = gc(node, dry_run=False)
    assert report["objects"] == [] and report["kept_young"] == 2  # the original and the local artifact
    assert files(data / "blobs", "sha256") == before


def test_a_deploy_storing_while_a_gc_runs_loses_nothing(node_factory, small, tmp_path):
    """The deploy has stored its code (skipping the write: the bytes were
    already there, left by a deleted function) but has no version row yet
    when the collection runs: the deploy's mark keeps the object."""
    data = tmp_path / "node"
    node = node_factory("--gc-grace-s", "0", data_dir=data, env={"FN0_PAUSEPOINT": "deploy:stored:3000"})
    old, new = variant(small, "old"), variant(small, "new")
    deploy(node, "x", old)
    assert node.api("DELETE", "/functions/x").status == 200
    results = {}
    threads = [threading.Thread(target=lambda n=n, d=d: results.__setitem__(n, deploy(node, n, d)))
               for n, d in (("y", old), ("z", new))]
    for t in threads:
        t.start()
    time.sleep(1.0)  # both deploys are paused after storing
    report = gc(node, dry_run=False)
    for t in threads:
        t.join()
    assert {o["hash"] for o in report["objects"]} & {sha(old), sha(new)} == set(), report
    assert results["y"]["hash"] == sha(old) and results["z"]["hash"] == sha(new)
    for d in (old, new):
        assert (data / "blobs" / original_key(sha(d))).read_bytes() == d
    assert node.get("/y/").body == C_BODY and node.get("/z/").body == C_BODY


def test_a_deploy_waits_while_a_gc_deletes_and_stores_its_code_again(node_factory, small, tmp_path):
    """The collection announced a batch that deletes the object a deploy is
    about to reuse: the deploy waits for the batch, then writes it again."""
    data = tmp_path / "node"
    node = node_factory("--gc-grace-s", "0", data_dir=data, env={"FN0_PAUSEPOINT": "gc:deleting:3000"})
    code = variant(small, "again")
    deploy(node, "x", code)
    assert node.api("DELETE", "/functions/x").status == 200
    report = {}
    collector = threading.Thread(target=lambda: report.update(gc(node, dry_run=False)))
    collector.start()
    time.sleep(0.8)  # the batch is announced and paused
    started = time.monotonic()
    deployed = deploy(node, "y", code)
    waited = time.monotonic() - started
    collector.join()
    assert original_key(sha(code)) in {o["key"] for o in report["objects"]}  # the batch deleted it...
    assert waited > 1.5, waited  # ...while the deploy waited
    assert deployed["hash"] == sha(code)
    assert (data / "blobs" / original_key(sha(code))).read_bytes() == code  # ...and it was written again
    assert node.get("/y/").body == C_BODY


# ---- a cluster: PostgreSQL registry, S3 store, two nodes ---------------------

def bucket_files(cluster) -> set[str]:
    return files(cluster.s3.object_path(cluster.bucket, ""), "sha256", "artifacts")


def test_cluster_gc_removes_exactly_the_unreferenced_objects_everywhere(cluster, small):
    args = ["--no-forward", "--keep-versions", "1", "--gc-grace-s", "0"]
    a, b = cluster.node("a", *args), cluster.node("b", *args)
    # Each node sweeps the other's files only once it sees it up (membership
    # is read once a second; on an idle machine the test gets there sooner).
    wait_for(lambda: all(sum(m["state"] == "up" for m in json.loads(n.api("GET", "/cluster").body)["nodes"]) == 2
                         for n in (a, b)), timeout=15, every=0.1)
    f1, f2, f3, g = (variant(small, t) for t in ("f1", "f2", "f3", "g"))
    for v in (f1, f2, f3):
        deploy(a, "f", v)
    assert a.api("PUT", "/functions/f/aliases/old", {"version": "v1"}).status == 200
    deploy(a, "h", f3)  # shares f@v3's bytes
    deploy(a, "g", g)
    # B fetches (downloads the sealed artifacts of) everything it serves.
    for path in ("/f@v1/", "/f@v2/", "/f/", "/g/", "/h/"):
        wait_for(lambda: b.get(path).body == C_BODY)
    assert a.api("DELETE", "/functions/g").status == 200
    wait_for(lambda: b.get("/g/").status == 404)
    gone = [sha(f2), sha(g)]
    fp_dirs = {p.split("/")[1] for p in bucket_files(cluster) if p.startswith("artifacts/")}
    assert len(fp_dirs) == 1
    fp = fp_dirs.pop()
    expect_store = {original_key(h) for h in gone} | {f"artifacts/{fp}/{h}.cwasm" for h in gone}
    # A compiled and keeps a copy of each original it deployed; B downloaded
    # the sealed artifacts only.
    expect_a = set().union(*(local_artifacts(a.data_dir, h) for h in gone)) | {original_key(h) for h in gone}
    expect_b = set().union(*(local_artifacts(b.data_dir, h) for h in gone))
    assert len(expect_a) == 4 and len(expect_b) == 2
    assert {original_key(h) for h in gone} <= files(a.data_dir / "blobs", "sha256")
    assert not files(b.data_dir / "blobs", "sha256")
    store_before = bucket_files(cluster)
    assert expect_store <= store_before
    local_before = {n: files(n.data_dir / "artifacts") | files(n.data_dir / "blobs", "sha256") for n in (a, b)}
    ids = {n: f"127.0.0.1:{n.port}" for n in (a, b)}
    expected = ({("store", k) for k in expect_store} | {(ids[a], k) for k in expect_a} |
                {(ids[b], k) for k in expect_b})

    dry = gc(b, dry_run=True)  # any node answers for the cluster
    assert listed(dry) == expected
    assert [(v["function"], v["version"]) for v in dry["versions"]] == [("f", "v2")]
    assert bucket_files(cluster) == store_before
    assert {n: files(n.data_dir / "artifacts") | files(n.data_dir / "blobs", "sha256") for n in (a, b)} == local_before

    real = gc(a, dry_run=False)
    assert listed(real) == expected and real["failures"] == []
    assert {n["node"] for n in real["nodes"]} == set(ids.values())
    assert bucket_files(cluster) == store_before - expect_store
    for n, expect in ((a, expect_a), (b, expect_b)):
        assert files(n.data_dir / "artifacts") | files(n.data_dir / "blobs", "sha256") == local_before[n] - expect
    # B keeps serving what it holds; the retention's victim is a 404 everywhere.
    assert b.get("/f/").body == C_BODY and b.get("/f@old/").body == C_BODY and b.get("/h/").body == C_BODY
    wait_for(lambda: b.get("/f@v2/").status == 404)
    # A third node, which never held anything, gets all of it from the store.
    c = cluster.node("c", *args)
    assert c.get("/f@old/").body == C_BODY and c.get("/h/").body == C_BODY
    assert metric(a, "fn0_gc_runs_total") == 1 and metric(b, "fn0_gc_runs_total") == 1
    # Nothing left to collect.
    assert gc(b, dry_run=False)["objects"] == []


def test_cluster_deploy_racing_a_gc_on_another_node_loses_nothing(cluster, small):
    args = ["--no-forward", "--gc-grace-s", "0"]
    a = cluster.node("a", *args)
    b = cluster.node("b", *args, env={"FN0_PAUSEPOINT": "deploy:stored:3000"})
    code = variant(small, "race")
    deploy(a, "x", code)
    assert a.api("DELETE", "/functions/x").status == 200
    result = {}
    t = threading.Thread(target=lambda: result.update(deploy(b, "y", code)))
    t.start()
    time.sleep(1.0)  # B stored (the object was there: no write) and waits before its version row
    report = gc(a, dry_run=False)
    t.join()
    assert sha(code) not in {o["hash"] for o in report["objects"] if "node" not in o}, report
    assert cluster.s3.object_path(cluster.bucket, original_key(sha(code))).read_bytes() == code
    wait_for(lambda: a.get("/y/").body == C_BODY)
