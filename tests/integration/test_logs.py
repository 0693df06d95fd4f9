"""Persistent function logs on a real node and its real log file
(<data-dir>/logs.db): lines survive a restart and cursors keep their place;
search by request id, text and time; retention by size and by age deletes
the oldest lines and keeps the newest; a flood through a tiny queue is
dropped and counted, never waited for; deleting a function deletes its
lines; `--log-retention-mb 0` keeps them in memory only."""
from __future__ import annotations

import datetime
import json
import re
import sqlite3
import time
import urllib.parse

import pytest

from cluster import wait_for


def page(node, name: str = "hostile", **params) -> dict:
    q = urllib.parse.urlencode(params)
    r = node.api("GET", f"/functions/{name}/logs" + (f"?{q}" if q else ""))
    assert r.status == 200, r.body
    return json.loads(r.body)


def every_line(node, name: str = "hostile", **params) -> list[dict]:
    """All of a function's lines, page after page."""
    out, cursor = [], ""
    while True:
        p = page(node, name, limit=10000, **params, **({"cursor": cursor} if cursor else {}))
        out += p["entries"]
        cursor = p["cursor"]
        if not p["more"]:
            return out


def write(node, lines: int, name: str = "hostile") -> str:
    """`lines` stdout lines and one stderr line; the request's id."""
    r = node.get(f"/{name}/log?lines={lines}")
    assert r.status == 200, r.body
    return r.header("fn0-request-id")


def lines_of(node, rid: str, name: str = "hostile") -> list[str]:
    return [e["line"] for e in page(node, name, request_id=rid, limit=10000)["entries"]]


def wait_lines(node, rid: str, n: int, name: str = "hostile") -> list[str]:
    """A guest's output reaches the log just after its response."""
    wait_for(lambda: len(lines_of(node, rid, name)) >= n, timeout=10, every=0.05)
    return lines_of(node, rid, name)


def metric(node, name: str) -> float:
    text = node.get("/_fn0/metrics").body.decode()
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    assert m, f"{name} not in /_fn0/metrics"
    return float(m.group(1))


def restart(node_factory, node, *args):
    """The same node again: its data directory and address (a cursor names
    the node by its address)."""
    node.stop()
    return node_factory(*args, data_dir=node.data_dir, listen=f"127.0.0.1:{node.port}")


def test_lines_survive_a_restart_and_cursors_keep_their_place(node_factory, guests_dir):
    node = node_factory()
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    before = time.time()
    rid1 = write(node, 3)
    # (stderr is unbuffered in the guest: its line may come before stdout's)
    assert sorted(wait_lines(node, rid1, 4)) == ["stderr line", "stdout line 0", "stdout line 1", "stdout line 2"]
    first = page(node)
    assert first["persistent"] is True
    seqs = [e["seq"] for e in first["entries"]]
    assert (node.data_dir / "logs.db").exists()

    node = restart(node_factory, node)
    again = page(node)
    assert again["epoch"] == first["epoch"]  # the same log: cursors from before still hold
    assert [(e["seq"], e["line"], e["request_id"]) for e in again["entries"]] == \
           [(e["seq"], e["line"], e["request_id"]) for e in first["entries"]]
    rid2 = write(node, 1)
    wait_lines(node, rid2, 2)
    # The cursor from before the restart gives exactly what came after it.
    after = page(node, cursor=first["cursor"])
    assert [e["request_id"] for e in after["entries"]] == [rid2, rid2]
    assert min(e["seq"] for e in after["entries"]) > max(seqs)  # numbers went on
    # Small pages from the start: every line once, across the restart.
    seen, cursor = [], ""
    for _ in range(10):
        p = page(node, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [e["seq"] for e in p["entries"]]
        cursor = p["cursor"]
        if not p["more"]:
            break
    assert seen == seqs + [e["seq"] for e in after["entries"]]

    # The CLI across the restart: --since (a duration and an RFC 3339
    # time), --request-id, --json.
    out = node.cli("logs", "hostile", "--since", "1h").stdout.decode()
    assert rid1 in out and rid2 in out and "stdout line 2" in out
    stamp = datetime.datetime.fromtimestamp(before - 60, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert node.cli("logs", "hostile", "--since", stamp).stdout.decode().count(rid1) == 4
    future = datetime.datetime.fromtimestamp(time.time() + 3600, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rid1 not in node.cli("logs", "hostile", "--since", future).stdout.decode()
    js = [json.loads(l) for l in node.cli("logs", "hostile", "--request-id", rid1, "--json").stdout.splitlines()]
    assert sorted(e["line"] for e in js) == ["stderr line", "stdout line 0", "stdout line 1", "stdout line 2"]
    bad = node.cli("logs", "hostile", "--since", "yesterday")
    assert bad.returncode == 2 and b"'yesterday' is not a valid value for --since" in bad.stderr
    # Following from a cursor taken before the restart.
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    conn.request("GET", "/_fn0/api/v1/functions/hostile/logs?follow=true&cursor=" +
                 urllib.parse.quote(first["cursor"]), headers={"Authorization": f"Bearer {node.token}"})
    resp = conn.getresponse()
    events = []
    while len(events) < 2:
        line = resp.fp.readline().decode()
        if line.startswith("data: "):
            events.append(json.loads(line[6:]))
    assert [e["request_id"] for e in events] == [rid2, rid2]
    conn.close()


def test_search_by_request_id_text_and_time(node, guests_dir):
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    rids = [write(node, n) for n in (1, 2, 3, 4)]
    wait_lines(node, rids[-1], 5)
    everything = page(node)["entries"]
    assert len(everything) == 2 + 3 + 4 + 5
    assert sorted(e["line"] for e in page(node, request_id=rids[2])["entries"]) == \
           ["stderr line", "stdout line 0", "stdout line 1", "stdout line 2"]
    # Text: a substring, case-sensitive; '+' and %20 both mean a space.
    hits = page(node, q="line 2")["entries"]
    assert [e["request_id"] for e in hits] == [rids[2], rids[3]]
    assert node.api("GET", "/functions/hostile/logs?q=line+3").status == 200
    assert [e["request_id"] for e in page(node, q="line 3")["entries"]] == [rids[3]]
    assert page(node, q="Line 3")["entries"] == []
    # Paged search: one match per page, the cursor moves past the rest.
    got, cursor = [], ""
    for _ in range(10):
        p = page(node, q="stderr", limit=1, **({"cursor": cursor} if cursor else {}))
        got += [e["request_id"] for e in p["entries"]]
        cursor = p["cursor"]
        if not p["more"]:
            break
    assert got == rids
    # Time: since and until cut between requests (unix seconds, as written).
    t = [e["time"] for e in everything]
    start_of = {rid: min(e["time"] for e in everything if e["request_id"] == rid) for rid in rids}
    window = page(node, since=f"{start_of[rids[1]]:.6f}", until=f"{start_of[rids[3]]:.6f}")["entries"]
    assert {e["request_id"] for e in window} == {rids[1], rids[2]}
    assert len(page(node, since="1h")["entries"]) == len(everything)
    assert page(node, since=f"{max(t) + 1:.6f}")["entries"] == []
    tail = page(node, tail="true", limit=3)["entries"]
    assert [e["line"] for e in tail] == [e["line"] for e in everything[-3:]]
    for bad in ("since=yesterday", "until=2026-13-01T00:00:00Z", "q=%zz"):
        r = node.api("GET", f"/functions/hostile/logs?{bad}")
        assert r.status == 400 and r.header("fn0-error") == "bad-request", bad
    # The CLI: --grep, --tail.
    out = node.cli("logs", "hostile", "--grep", "stdout line 3").stdout.decode()
    assert out.count("stdout line 3") == 1 and rids[3] in out
    assert len(node.cli("logs", "hostile", "--tail", "2").stdout.decode().splitlines()) == 2


def test_retention_by_size_keeps_the_newest(node_factory, guests_dir):
    node = node_factory()
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    # ~3800 lines a request (its 64 KiB output budget), five requests: more
    # than 1 MiB as retention counts (text, request id, 64 bytes a line).
    rids = [write(node, 3800) for _ in range(5)]
    wait_lines(node, rids[-1], 3801)
    before = page(node, limit=1)["entries"][0]
    assert before["request_id"] == rids[0]
    # Back with a tighter budget: the pass at start deletes the oldest.
    node = restart(node_factory, node, "--log-retention-mb", "1")
    wait_for(lambda: page(node, limit=1)["entries"][0]["request_id"] != rids[0], timeout=15, every=0.1)
    kept = every_line(node)
    assert kept[-1]["request_id"] == rids[-1]  # the newest stays
    assert len([e for e in kept if e["request_id"] == rids[-1]]) == 3801
    assert rids[0] not in {e["request_id"] for e in kept}
    cost = sum(len(e["line"].encode()) + len(e["request_id"].encode()) + 64 for e in kept)
    assert 1024 * 1024 - 1000 < cost <= 1024 * 1024, cost
    seqs = [e["seq"] for e in kept]
    assert seqs == sorted(seqs) and seqs[0] > before["seq"]  # the oldest went, in order
    assert metric(node, "fn0_log_lines_deleted_total") >= 5 * 3801 - len(kept)


def test_retention_by_age_follows_the_functions_setting(node_factory, guests_dir):
    node = node_factory()
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    assert node.api("PUT", "/functions/hostile/settings", {"log_retention_hours": 1}).status == 200
    old, new = write(node, 2), write(node, 2)
    wait_lines(node, new, 3)
    node.stop()
    # The clock moved: the first request's lines were written two hours ago.
    db = sqlite3.connect(node.data_dir / "logs.db")
    with db:
        n = db.execute("UPDATE lines SET time_us = time_us - 7200000000 WHERE request_id = ?", (old,)).rowcount
    db.close()
    assert n == 3
    node = node_factory(data_dir=node.data_dir)
    wait_for(lambda: lines_of(node, old) == [], timeout=15, every=0.1)
    assert sorted(lines_of(node, new)) == ["stderr line", "stdout line 0", "stdout line 1"]
    status = json.loads(node.api("GET", "/status").body)
    assert status["function_limits"]["log_retention_hours"] == {"default": 168, "max": 168}


def test_a_flood_through_a_tiny_queue_is_dropped_and_counted(node_factory, guests_dir):
    node = node_factory("--log-queue-kb", "1")  # a handful of lines
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    start = time.monotonic()
    statuses = [node.get("/hostile/log?lines=3800").status for _ in range(20)]
    took = time.monotonic() - start
    assert statuses == [200] * 20
    wait_for(lambda: metric(node, "fn0_log_lines_dropped_total") > 0, timeout=10, every=0.1)
    # Every dropped line is accounted for by a marker in the log, once the
    # writer has caught up.
    def marked():
        entries = page(node, q="dropped here", limit=10000)["entries"]
        return sum(int(e["line"].split()[1]) for e in entries)
    wait_for(lambda: marked() == metric(node, "fn0_log_lines_dropped_total"), timeout=15, every=0.2)
    written = metric(node, "fn0_log_lines_written_total")
    markers = len(page(node, q="dropped here", limit=10000)["entries"])
    assert written - markers + metric(node, "fn0_log_lines_dropped_total") == 20 * 3801
    print(f"20 requests of 3801 lines each through a 1 KiB queue: {took:.2f} s, "
          f"{metric(node, 'fn0_log_lines_dropped_total'):.0f} lines dropped")


def test_deleting_a_function_deletes_its_stored_lines(node_factory, guests_dir):
    node = node_factory()
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    assert node.deploy("other", guests_dir / "hostile-c.wasm").status == 201
    gone, kept = write(node, 2), write(node, 2, name="other")
    wait_lines(node, gone, 3)
    wait_lines(node, kept, 3, name="other")
    assert node.api("DELETE", "/functions/hostile").status == 200
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    assert page(node)["entries"] == []  # a new function of the same name starts empty
    node = restart(node_factory, node)
    assert page(node)["entries"] == []
    assert sorted(lines_of(node, kept, "other")) == ["stderr line", "stdout line 0", "stdout line 1"]
    node.stop()
    db = sqlite3.connect(node.data_dir / "logs.db")
    assert db.execute("SELECT count(*) FROM lines WHERE request_id = ?", (gone,)).fetchone()[0] == 0
    db.close()


def test_no_persistent_logs_keeps_them_in_memory(node_factory, guests_dir):
    node = node_factory("--log-retention-mb", "0")
    assert node.deploy("hostile", guests_dir / "hostile-c.wasm").status == 201
    rid = write(node, 1)
    assert sorted(wait_lines(node, rid, 2)) == ["stderr line", "stdout line 0"]
    assert page(node)["persistent"] is False
    assert not (node.data_dir / "logs.db").exists()
    assert [e["line"] for e in page(node, q="stderr")["entries"]] == ["stderr line"]
    node = restart(node_factory, node, "--log-retention-mb", "0")
    assert page(node)["entries"] == []
