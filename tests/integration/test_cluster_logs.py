"""A function's logs and metrics are the cluster's: any node answers with
every up node's lines (merged by time, each tagged with its node, paged by
one cursor) and counters (summed); a peer that does not answer is named and
left out, quickly; `fn0 logs --follow` and `fn0 status` show every node.
Real nodes on PostgreSQL + versitygw, started with --no-forward so that
each request runs on the node it was sent to."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest

from cluster import wait_for
from node import TOKEN


def nid(node) -> str:
    return f"127.0.0.1:{node.port}"


def logs(node, **params) -> dict:
    q = urllib.parse.urlencode(params)
    r = node.api("GET", "/functions/hostile/logs" + (f"?{q}" if q else ""))
    assert r.status == 200, r.body
    return json.loads(r.body)


def metrics(node, local: bool = False) -> dict:
    r = node.api("GET", "/functions/hostile/metrics" + ("?local=true" if local else ""))
    assert r.status == 200, r.body
    return json.loads(r.body)


def log_lines(node, n: int) -> str:
    """n stdout lines and one stderr line written on `node`; its request id."""
    r = node.get(f"/hostile/log?lines={n}")
    assert r.status == 200, r.body
    return r.header("fn0-request-id")


def three_nodes(cluster, guests_dir):
    nodes = [cluster.node(name, "--no-forward") for name in ("a", "b", "c")]
    assert nodes[0].deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    for n in nodes:
        wait_for(lambda: n.get("/hostile/count").status == 200, timeout=30, every=0.05)
    # Every node sees the other two up (membership beats once a second).
    wait_for(lambda: all(sum(m["state"] == "up" for m in json.loads(n.api("GET", "/cluster").body)["nodes"]) == 3
                         for n in nodes), timeout=15, every=0.1)
    return nodes


def cli(build_dir, tmp_path, node, *args, **kw):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), FN0_SERVER=f"http://127.0.0.1:{node.port}",
               FN0_TOKEN=TOKEN)
    return subprocess.run([str(build_dir / "fn0"), *args], capture_output=True, text=True, env=env, timeout=60, **kw)


def test_every_nodes_lines_through_any_node_paged_by_one_cursor_and_metrics_summed(cluster, guests_dir):
    a, b, c = three_nodes(cluster, guests_dir)
    before = {nid(n): metrics(n, local=True)["nodes"][0]["requests"] for n in (a, b, c)}
    rid_a, rid_b = log_lines(a, 3), log_lines(b, 2)
    time.sleep(0.2)  # a guest's output is flushed just after its response
    page = logs(c)
    assert page["clustered"] is True and page["unreachable"] == []
    assert sorted(page["nodes"]) == sorted(nid(n) for n in (a, b, c))
    by_rid = lambda rid: [e for e in page["entries"] if e["request_id"] == rid]  # noqa: E731
    assert [e["line"] for e in by_rid(rid_a) if e["stream"] == "stdout"] == [f"stdout line {i}" for i in range(3)]
    assert [e["line"] for e in by_rid(rid_b) if e["stream"] == "stdout"] == [f"stdout line {i}" for i in range(2)]
    assert {e["node"] for e in by_rid(rid_a)} == {nid(a)} and {e["node"] for e in by_rid(rid_b)} == {nid(b)}
    times = [e["time"] for e in page["entries"]]
    assert times == sorted(times)
    # A node asked for its own part answers with its lines only.
    mine = logs(a, local="true")
    assert {e["node"] for e in mine["entries"]} == {nid(a)} and mine["nodes"] == [nid(a)]

    # Lines from all three, read back through B in small pages: every line
    # once, none lost, in time order within each page.
    for i in range(6):
        log_lines((a, b, c)[i % 3], 2)  # 3 lines each
    time.sleep(0.2)
    everything = logs(b, limit=10000)
    assert not everything["more"]
    expected = [(e["node"], e["seq"]) for e in everything["entries"]]
    assert len(expected) == 4 + 3 + 6 * 3 and len(set(expected)) == len(expected)
    seen, cursor, pages = [], "", 0
    while True:
        p = logs(b, limit=4, cursor=cursor) if cursor else logs(b, limit=4)
        seen += [(e["node"], e["seq"]) for e in p["entries"]]
        assert len(p["entries"]) <= 4
        cursor, pages = p["cursor"], pages + 1
        if not p["more"]:
            break
        assert pages < 50
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert pages >= len(expected) // 4
    # The cursor of the last page gives only what came after it.
    assert logs(b, cursor=cursor)["entries"] == []
    rid_c = log_lines(c, 1)
    time.sleep(0.2)
    new = logs(a, cursor=cursor)["entries"]
    assert [(e["node"], e["request_id"]) for e in new] == [(nid(c), rid_c)] * 2

    # Metrics: each node counts what ran there; any node sums them all.
    sent = {nid(a): 5, nid(b): 7, nid(c): 4}
    for n in (a, b, c):
        for _ in range(sent[nid(n)]):
            assert n.get("/hostile/count").status == 200
    after = {nid(n): metrics(n, local=True)["nodes"][0]["requests"] for n in (a, b, c)}
    ran_before = {k: after[k] - before[k] for k in after}
    # Besides the batch: the requests that wrote lines above (3 on each).
    assert ran_before == {nid(a): 5 + 3, nid(b): 7 + 3, nid(c): 4 + 3}
    whole = metrics(c)
    assert whole["clustered"] is True and whole["unreachable"] == []
    per_node = {n["node"]: n["requests"] for n in whole["nodes"]}
    assert per_node == after
    assert whole["total"]["requests"] == sum(after.values())
    assert whole["total"]["responses"]["2xx"] == sum(n["responses"]["2xx"] for n in whole["nodes"])
    assert whole["total"]["errors"] == 0


def test_silent_or_dead_peers_are_named_and_the_others_lines_come_quickly(cluster, guests_dir):
    a, b, c = three_nodes(cluster, guests_dir)
    rid_a, rid_b = log_lines(a, 1), log_lines(b, 1)
    time.sleep(0.2)
    assert {e["request_id"] for e in logs(a)["entries"]} >= {rid_a, rid_b}  # A has pooled connections now
    # B and C stop answering (their sockets still accept): A gives up on
    # both after 2 s, not 2 s each (they are asked at once), and answers
    # with its own lines.
    for n in (b, c):
        n.proc.send_signal(signal.SIGSTOP)
    try:
        start = time.monotonic()
        page = logs(a)
        took = time.monotonic() - start
        assert sorted(page["unreachable"]) == sorted([nid(b), nid(c)]), page
        assert set(page["peer_errors"]) == {nid(b), nid(c)}
        assert {e["request_id"] for e in page["entries"]} == {rid_a}
        assert 1.5 < took < 3.5, took
        start = time.monotonic()
        m = metrics(a)
        assert time.monotonic() - start < 3.5
        # Each stopped peer is named, or (its beats overdue by now on a loaded
        # machine) already gone from A's view and not asked at all.
        assert set(m["unreachable"]) <= {nid(b), nid(c)} and [n["node"] for n in m["nodes"]] == [nid(a)]
        for peer in {nid(b), nid(c)} - set(m["unreachable"]):
            view = {n["id"]: n["state"] for n in json.loads(a.api("GET", "/cluster").body)["nodes"]}
            assert view.get(peer) != "up", (peer, view)
        # Once their beats are overdue they are gone from A's view: not
        # asked, not waited for.
        def states():
            return {n["id"]: n["state"] for n in json.loads(a.api("GET", "/cluster").body)["nodes"]}
        wait_for(lambda: states()[nid(b)] != "up" and states()[nid(c)] != "up", timeout=10, every=0.1)
        start = time.monotonic()
        page = logs(a)
        assert page["unreachable"] == [] and page["nodes"] == [nid(a)]
        assert time.monotonic() - start < 1.0
    finally:
        for n in (b, c):
            n.proc.send_signal(signal.SIGCONT)
    # Back: their lines are there again, from where the cursor left them.
    wait_for(lambda: len(logs(a)["nodes"]) == 3, timeout=10, every=0.1)
    assert {e["request_id"] for e in logs(a)["entries"]} >= {rid_a, rid_b}
    # Killed outright: refused at once, named (until A sees it gone), and
    # the call is quick.
    b.kill()
    start = time.monotonic()
    page = logs(a)
    assert time.monotonic() - start < 1.0
    assert page["unreachable"] in ([nid(b)], [])
    assert rid_a in {e["request_id"] for e in page["entries"]} and nid(c) in page["nodes"]


def test_cli_follow_prints_every_nodes_lines_and_status_lists_the_nodes(cluster, guests_dir, build_dir, tmp_path):
    a, b, c = three_nodes(cluster, guests_dir)
    status = cli(build_dir, tmp_path, a, "status")
    assert status.returncode == 0, status.stderr
    assert "cluster: 3 nodes, 3 up" in status.stdout, status.stdout
    rows = [l.split() for l in status.stdout.splitlines() if l.strip().startswith("127.0.0.1:")]
    assert sorted(r[0] for r in rows) == sorted(nid(n) for n in (a, b, c))
    assert all("up" in r for r in rows)
    js = json.loads(cli(build_dir, tmp_path, a, "status", "--json").stdout)
    assert [n["state"] for n in js["cluster"]["nodes"]] == ["up"] * 3 and "functions" in js

    old = log_lines(b, 1)  # before the CLI starts: in its first page
    time.sleep(0.2)
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), FN0_SERVER=f"http://127.0.0.1:{a.port}",
               FN0_TOKEN=TOKEN)
    proc = subprocess.Popen([str(build_dir / "fn0"), "logs", "hostile", "--follow"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    out: list[str] = []
    threading.Thread(target=lambda: [out.append(l) for l in proc.stdout], daemon=True).start()
    try:
        wait_for(lambda: any(old in l for l in out), timeout=10, every=0.05)
        rids = [log_lines(b, 2), log_lines(c, 1)]
        wait_for(lambda: all(sum(r in l for l in out) >= 2 for r in rids), timeout=10, every=0.05)
    finally:
        proc.terminate()
        proc.wait(10)
    b_lines = [l for l in out if rids[0] in l]
    assert all(l.startswith(nid(b) + " ") for l in b_lines), b_lines
    assert any(l.rstrip().endswith("stdout line 1") for l in b_lines)
    assert all(l.startswith(nid(c) + " ") for l in out if rids[1] in l)
    assert sum(old in l for l in out) == 2  # the first page's lines, not again from the stream

    shown = cli(build_dir, tmp_path, c, "metrics", "hostile")
    assert shown.returncode == 0, shown.stderr
    assert "on 3 nodes" in shown.stdout and all(nid(n) in shown.stdout for n in (a, b, c))


def test_a_node_alone_says_so_and_keeps_the_single_node_log_api(node, guests_dir, build_dir, tmp_path):
    node.deploy("hostile", guests_dir / "hostile-c.wasm")
    status = cli(build_dir, tmp_path, node, "status")
    assert status.returncode == 0 and "cluster: a single node" in status.stdout, status.stdout
    rid = log_lines(node, 3)
    time.sleep(0.2)
    page = logs(node)
    assert page["clustered"] is False and page["unreachable"] == []
    assert page["last_seq"] == 4 and [e["seq"] for e in page["entries"]] == [1, 2, 3, 4]
    assert {e["node"] for e in page["entries"]} == {nid(node)} and {e["request_id"] for e in page["entries"]} == {rid}
    # `after` (a seq) and `cursor` say the same thing on one node.
    assert [e["seq"] for e in logs(node, after=2)["entries"]] == [3, 4]
    first = logs(node, limit=2)
    assert [e["seq"] for e in first["entries"]] == [1, 2] and first["more"] is True
    assert [e["seq"] for e in logs(node, cursor=first["cursor"])["entries"]] == [3, 4]
    assert node.api("GET", "/functions/hostile/logs?cursor=nonsense").status == 400
    assert node.api("GET", "/functions/nope/logs").status == 404
    m = metrics(node)
    assert m["clustered"] is False and m["total"]["requests"] == 1 and m["nodes"][0]["node"] == nid(node)
    assert node.api("GET", "/functions/nope/metrics").status == 404
