"""wasi:keyvalue@0.2.0-draft2 (Spin's version) on the same store: compare-
and-swap, the signed increment and string cursors (tests/guests/kv-draft2),
on SQLite and on PostgreSQL with two nodes; a draft guest and a draft2
guest see the same bucket."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from cluster import metric, wait_for
from http_client import HttpClient
from test_kv import NODE_ARGS, call, deploy, error_of

NAME = "kv-draft2"


def setup(node, guests_dir, **kw):
    deploy(node, guests_dir, name=NAME, guest=NAME, **kw)


def kv(node, method, target, body=None):
    return call(node, method, target, body, name=NAME)


def test_compare_and_swap_semantics(node_factory, guests_dir):
    node = node_factory(*NODE_ARGS)
    setup(node, guests_dir)
    # Swap into a missing key only once.
    assert kv(node, "POST", "/cas-create?key=lock", b"owner-1").body == b"created"
    assert kv(node, "POST", "/cas-create?key=lock", b"owner-2").body == b"exists: owner-1"
    assert kv(node, "GET", "/get?key=lock").body == b"owner-1"
    # A handle read before another write loses, and comes back with the value now stored.
    assert kv(node, "POST", "/cas-stale?key=doc").body == b"lost: other"
    assert kv(node, "GET", "/get?key=doc").body == b"other"
    assert kv(node, "POST", "/cas-stale?key=lock").body == b"lost: other"
    # An uncontended loop swaps at the first try.
    assert kv(node, "POST", "/cas-add?key=n&by=5").body == b"5 0"
    assert kv(node, "POST", "/cas-add?key=n&by=-7").body == b"-2 0"
    assert metric(node, 'fn0_kv_operations_total{op="swap"}') == 5  # the second create did not swap


def test_signed_increment_and_string_cursors(node_factory, guests_dir, tmp_path):
    node = node_factory(*NODE_ARGS)
    setup(node, guests_dir)
    assert kv(node, "POST", "/incr?key=c&by=-5").body == b"-5"
    assert kv(node, "POST", "/incr?key=c&by=12").body == b"7"
    assert kv(node, "POST", "/incr?key=c&by=-9223372036854775807").body == b"-9223372036854775800"
    assert "kvnotanumber" in error_of(kv(node, "POST", "/incr?key=c&by=-9"))  # below -2^63
    assert kv(node, "GET", "/get?key=c").body == b"-9223372036854775800"
    # 2,500 keys (imported in one call) over three pages of string cursors.
    lines = [json.dumps({"key": f"k{i:05}", "value": "eA=="}) for i in range(2500)]
    backup = tmp_path / "keys.ndjson"
    backup.write_text("\n".join(lines) + "\n")
    r = node.cli("kv", NAME, "import", str(backup))
    assert r.returncode == 0, r.stderr
    keys = json.loads(kv(node, "GET", "/keys").body)
    assert len(keys) == 2501 and len(set(keys)) == 2501 and "c" in keys
    assert "kvinvalidcursor" in error_of(kv(node, "GET", "/keys?cursor=page-two"))


def test_a_draft_guest_and_a_draft2_guest_share_a_bucket(node_factory, guests_dir):
    node = node_factory(*NODE_ARGS)
    setup(node, guests_dir, settings={"kv_buckets": ["team"]})
    deploy(node, guests_dir, settings={"kv_buckets": ["team"]})  # kv-rust, draft
    assert call(node, "PUT", "/set?key=k&bucket=team", b"41").status == 204
    assert kv(node, "POST", "/cas-add?key=k&by=1&bucket=team").body == b"42 0"
    assert call(node, "POST", "/incr?key=k&by=8&bucket=team").body == b"50"
    assert "accessdenied" in error_of(kv(node, "GET", "/get?key=k&bucket=other"))


def concurrent_cas_adds(nodes, n=1000):
    def one(i):
        node = nodes[i % len(nodes)]
        r = HttpClient("127.0.0.1", node.port, timeout=120).request("POST", f"/{NAME}/cas-add?key=total&by=1")
        return r.status, int(r.body.split()[1]) if r.status == 200 else r.body

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, range(n)))
    bad = [r for r in results if r[0] != 200]
    assert not bad, bad[:5]
    return sum(r[1] for r in results)


def test_a_thousand_concurrent_compare_and_swap_loops_are_exact(node_factory, guests_dir):
    node = node_factory(*NODE_ARGS)
    setup(node, guests_dir)
    retries = concurrent_cas_adds([node])
    assert kv(node, "GET", "/get?key=total").body == b"1000"
    # Every lost swap was one retry: swaps = adds + retries.
    assert metric(node, 'fn0_kv_operations_total{op="swap"}') == 1000 + retries
    print(f"1000 CAS adds on SQLite: {retries} retries")


def test_postgres_two_nodes_compare_and_swap_is_exact(cluster, guests_dir):
    a = cluster.node("a", *NODE_ARGS)
    b = cluster.node("b", *NODE_ARGS)
    setup(a, guests_dir)
    # The guest's own 404 (no such key), not the node's (no such function yet on B).
    wait_for(lambda: (lambda r: r.status == 404 and r.header("fn0-error") is None)(kv(b, "GET", "/get?key=x")),
             timeout=15)
    retries = concurrent_cas_adds([a, b])
    assert kv(a, "GET", "/get?key=total").body == b"1000"
    assert kv(b, "GET", "/get?key=total").body == b"1000"
    swaps = metric(a, 'fn0_kv_operations_total{op="swap"}') + metric(b, 'fn0_kv_operations_total{op="swap"}')
    assert swaps == 1000 + retries
    print(f"1000 CAS adds on PostgreSQL, two nodes: {retries} retries")
