"""The key-value store through real HTTP: test guests in Rust
(tests/guests/kv-rust, wasi:keyvalue@0.2.0-draft through wit-bindgen) and
JavaScript (tests/guests/kv-js, env.KV and the batch interface) answer the
same URLs on a node, SQLite in its data directory or PostgreSQL shared by
two nodes."""
from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from cluster import metric
from http_client import HttpClient

NAME = "kv-rust"
GUESTS = ["kv-rust", "kv-js"]
# A JS guest listing 2,500 keys takes more than the default 10 ms of CPU.
NODE_ARGS = ("--cpu-ms", "500")


@pytest.fixture
def node(node_factory):
    return node_factory(*NODE_ARGS)


def deploy(node, guests_dir, name=NAME, settings=None, guest="kv-rust"):
    r = node.deploy(name, guests_dir / f"{guest}.wasm")
    assert r.status in (200, 201), r.body
    if settings is not None:
        r = node.api("PUT", f"/functions/{name}/settings", settings)
        assert r.status == 200, r.body


def call(node, method, target, body=None, name=NAME):
    return node.client().request(method, f"/{name}{target}", body=body)


def error_of(reply) -> str:
    """The guest's report of a store error, lowercased without '-' and '_'
    (Rust prints the WIT variant as Other("kv-..."), JS as "...: kv-...")."""
    assert reply.status == 500, (reply.status, reply.body)
    return json.loads(reply.body)["error"].lower().replace("-", "").replace("_", "")


@pytest.mark.parametrize("guest", GUESTS)
def test_crud_binary_values_and_batches(node, guests_dir, guest):
    deploy(node, guests_dir, guest=guest)
    value = bytes(range(256)) * 3 + b"\x00\xff"
    assert call(node, "PUT", "/set?key=bin", value).status == 204
    r = call(node, "GET", "/get?key=bin")
    assert r.status == 200 and r.body == value
    assert call(node, "GET", "/exists?key=bin").body == b"true"
    assert call(node, "GET", "/get?key=nope").status == 404
    assert call(node, "DELETE", "/delete?key=bin").status == 204
    assert call(node, "GET", "/exists?key=bin").body == b"false"
    assert call(node, "GET", "/get?key=bin").status == 404
    # An empty value is a value.
    assert call(node, "PUT", "/set?key=empty", b"").status == 204
    r = call(node, "GET", "/get?key=empty")
    assert r.status == 200 and r.body == b""

    assert call(node, "POST", "/set-many?keys=a,b,c").status == 204
    got = json.loads(call(node, "GET", "/get-many?keys=a,zz,c").body)
    assert got == {"a": "value-of-a", "zz": None, "c": "value-of-c"}
    assert call(node, "DELETE", "/delete-many?keys=a,c").status == 204
    assert json.loads(call(node, "GET", "/get-many?keys=a,b").body) == {"a": None, "b": "value-of-b"}

    assert call(node, "POST", "/incr?key=n&by=5").body == b"5"
    assert call(node, "POST", "/incr?key=n&by=2").body == b"7"
    assert call(node, "GET", "/get?key=n").body == b"7"
    assert "kvnotanumber" in error_of(call(node, "POST", "/incr?key=b"))

    assert sorted(json.loads(call(node, "GET", "/keys").body)) == ["b", "empty", "n"]


def test_the_same_calls_give_the_same_results_as_wasmtime_serve(node, guests_dir, reference_host):
    """The guest is a plain wasi:keyvalue component: on `wasmtime serve -S
    keyvalue` (its in-memory store, bucket "") it sees what it sees on fn0."""
    deploy(node, guests_dir)
    ours = call(node, "GET", "/selftest?bucket=")
    host = reference_host(guests_dir / "kv-rust.wasm")
    theirs = host.client().request("GET", "/selftest?bucket=")
    assert ours.status == theirs.status == 200, (ours.body, theirs.body)
    assert json.loads(ours.body) == json.loads(theirs.body)
    assert json.loads(ours.body)["incr"] == [3, 6]


@pytest.mark.parametrize("guest", GUESTS)
def test_list_keys_follows_the_cursor_over_pages(node, guests_dir, guest):
    deploy(node, guests_dir, guest=guest)
    # 1,000 keys per page: 2,500 keys take three pages (one set-many each 250).
    for start in range(0, 2500, 250):
        keys = ",".join(f"k{i:05}" for i in range(start, start + 250))
        assert call(node, "POST", f"/set-many?keys={keys}").status == 204
    keys = json.loads(call(node, "GET", "/keys").body)
    assert len(keys) == 2500 and len(set(keys)) == 2500


@pytest.mark.parametrize("guest", GUESTS)
def test_a_thousand_concurrent_increments_are_exact(node, guests_dir, guest):
    deploy(node, guests_dir, guest=guest)

    def one(_):
        c = HttpClient("127.0.0.1", node.port, timeout=60)
        return c.request("GET", f"/{NAME}/count").status

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(one, range(1000)))
    assert statuses.count(200) == 1000, {s: statuses.count(s) for s in set(statuses)}
    assert call(node, "GET", "/get?key=visits").body == b"1000"
    assert metric(node, 'fn0_kv_operations_total{op="increment"}') >= 1000


def test_a_write_survives_sigkill_right_after_it_returned(node_factory, guests_dir, tmp_path):
    data = tmp_path / "data"
    node = node_factory(*NODE_ARGS, data_dir=data)
    deploy(node, guests_dir)
    assert call(node, "PUT", "/set?key=durable", b"still here").status == 204
    node.proc.send_signal(signal.SIGKILL)
    node.proc.wait()
    again = node_factory(*NODE_ARGS, data_dir=data)
    assert call(again, "GET", "/get?key=durable").body == b"still here"


@pytest.mark.parametrize("guest", GUESTS)
def test_buckets_are_per_function_and_shared_ones_need_a_grant(node, guests_dir, guest):
    deploy(node, guests_dir, "kv-a")
    deploy(node, guests_dir, "kv-b", guest=guest)
    assert call(node, "PUT", "/set?key=secret", b"of a", name="kv-a").status == 204
    assert call(node, "GET", "/get?key=secret", name="kv-b").status == 404
    # A shared bucket: refused until granted, then one bucket for both.
    assert "accessdenied" in error_of(call(node, "PUT", "/set?key=k&bucket=team", b"x", name="kv-a"))
    for name in ("kv-a", "kv-b"):
        assert node.api("PUT", f"/functions/{name}/settings", {"kv_buckets": ["team"]}).status == 200
    assert call(node, "PUT", "/set?key=k&bucket=team", b"from a", name="kv-a").status == 204
    assert call(node, "GET", "/get?key=k&bucket=team", name="kv-b").body == b"from a"
    assert call(node, "GET", "/get?key=secret&bucket=team", name="kv-b").status == 404
    assert "accessdenied" in error_of(call(node, "GET", "/get?key=k&bucket=other", name="kv-b"))


def test_limits_are_errors_the_guest_receives(node_factory, guests_dir):
    node = node_factory(*NODE_ARGS, "--kv-max-key-bytes", "64", "--kv-max-value-bytes", "4096")
    deploy(node, guests_dir, settings={"kv_max_operations": 10, "kv_max_bytes": 10_000})
    e = error_of(call(node, "PUT", "/set?key=" + "k" * 65, b"x"))
    assert "kvkeytoolarge" in e and "64" in e
    assert call(node, "PUT", "/set?key=full", b"v" * 4096).status == 204  # at the limit
    e = error_of(call(node, "PUT", "/set?key=big", b"v" * 4097))
    assert "kvvaluetoolarge" in e
    assert call(node, "GET", "/get?key=full").body == b"v" * 4096
    # Operations per request: the 11th fails, and the guest goes on.
    assert call(node, "POST", "/ops?n=10").body == b"ok"
    r = call(node, "POST", "/ops?n=20")
    assert r.status == 200 and r.body.startswith(b"10: ") and b"kv-too-many-operations" in r.body, r.body
    # Bytes per bucket: 10,000.
    assert call(node, "PUT", "/set?key=a", b"v" * 4000).status == 204
    e = error_of(call(node, "PUT", "/set?key=b", b"v" * 4000))
    assert "kvbucketfull" in e
    assert metric(node, 'fn0_kv_errors_total{code="kv-bucket-full"}') == 1
    assert metric(node, 'fn0_kv_errors_total{code="kv-value-too-large"}') == 1
    assert metric(node, 'fn0_kv_errors_total{code="kv-too-many-operations"}') == 1


def test_postgres_two_nodes_share_buckets_and_increments_are_exact(cluster, guests_dir):
    a = cluster.node("a", *NODE_ARGS)
    b = cluster.node("b", *NODE_ARGS)
    deploy(a, guests_dir)
    # B learns of the deploy through the registry's notifications.
    from cluster import wait_for
    wait_for(lambda: call(b, "GET", "/exists?key=x").status == 200, timeout=15)
    assert call(a, "PUT", "/set?key=shared", b"written on a").status == 204
    assert call(b, "GET", "/get?key=shared").body == b"written on a"

    def one(i):
        n = a if i % 2 else b
        c = HttpClient("127.0.0.1", n.port, timeout=60)
        return c.request("GET", f"/{NAME}/count").status

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(one, range(1000)))
    assert statuses.count(200) == 1000, {s: statuses.count(s) for s in set(statuses)}
    assert call(a, "GET", "/get?key=visits").body == b"1000"
    assert call(b, "GET", "/get?key=visits").body == b"1000"




def test_cli_reads_writes_exports_and_imports_a_bucket(node, guests_dir, build_dir, tmp_path):
    deploy(node, guests_dir)
    assert node.cli("kv", NAME, "set", "user/1", "ann").returncode == 0
    binary = bytes(range(256))
    r = node.cli("kv", NAME, "set", "user/2", stdin=binary)
    assert r.returncode == 0, r.stderr
    assert call(node, "GET", "/get?key=user/2").body == binary  # the guest reads what the CLI wrote
    assert call(node, "PUT", "/set?key=other", b"x").status == 204
    r = node.cli("kv", NAME, "get", "user/2")
    assert r.returncode == 0 and r.stdout == binary
    listed = json.loads(node.cli("kv", NAME, "list", "--prefix", "user/", "--json").stdout)
    assert [k["key"] for k in listed["keys"]] == ["user/1", "user/2"] and listed["usage"]["keys"] == 3
    assert node.cli("kv", NAME, "get", "nope").returncode == 1

    backup = tmp_path / "backup.jsonl"
    assert node.cli("kv", NAME, "export", "-f", str(backup)).returncode == 0
    lines = [json.loads(l) for l in backup.read_text().splitlines()]
    assert [l["key"] for l in lines] == ["other", "user/1", "user/2"]
    # Into another function: the same entries.
    deploy(node, guests_dir, "kv-copy")
    r = node.cli("kv", "kv-copy", "import", str(backup), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["imported"] == 3, r.stderr
    assert call(node, "GET", "/get?key=user/2", name="kv-copy").body == binary
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": "a", "value": "not base64!"}\n')
    r = node.cli("kv", "kv-copy", "import", str(bad))
    assert r.returncode == 1 and b"line 1" in r.stderr

    assert node.cli("kv", NAME, "delete", "user/1").returncode == 0
    assert call(node, "GET", "/exists?key=user/1").body == b"false"

    # Deleting a function whose bucket holds data: asked, or told how to choose.
    r = node.cli("delete", NAME, "--yes")
    assert r.returncode == 1 and b"--delete-data" in r.stderr, r.stderr
    assert node.api("GET", f"/functions/{NAME}").status == 200  # nothing deleted
    r = node.cli("delete", "kv-copy", "--yes", "--keep-data")
    assert r.returncode == 0, r.stderr
    assert node.cli("kv", "kv-copy", "get", "other").stdout == b"x"  # kept
    r = node.cli("delete", NAME, "--yes", "--delete-data")
    assert r.returncode == 0, r.stderr
    assert node.cli("kv", NAME, "get", "other").returncode == 1  # gone
