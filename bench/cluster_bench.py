#!/usr/bin/env python3
"""`make bench`, cluster part: nodes on a real PostgreSQL and S3 server
(versitygw), haproxy in front, all on this machine. Two comparisons, each
measured in the same run:

1. What a forward hop costs: hello-c through a node that forwards every
   request to the peer holding it warm, versus that peer answering directly
   (wrk, throughput and p50/p99).
2. Warm routing versus plain load balancing: 3 nodes behind haproxy, 200
   functions (distinct hello-c variants), each node with 8 MB of component
   cache (about 90 of them). Cold starts per 1,000 requests and the warm-hit
   ratio after a warm-up, with forwarding and with --no-forward (every node
   cold-starts what it receives).

Prints a table and writes build/bench/cluster.json.
"""
from __future__ import annotations

import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("FN0_BUILD_DIR", ROOT / "build")).resolve()
TOOLS = Path(os.environ.get("FN0_CACHE", Path.home() / ".cache" / "fn0")) / "tools" / "bin"
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))
from bench import ROUNDS, best, wrk  # noqa: E402
from cluster import Cluster, members, node_id, wait_for  # noqa: E402
from http_client import HttpClient  # noqa: E402
from load import variant  # noqa: E402

FUNCTIONS = 200


def cold_starts(node) -> int:
    body = node.get("/_fn0/metrics").body.decode()
    return sum(int(float(v)) for v in re.findall(r'^fn0_cold_starts_total\{function="[^"]+"\} ([0-9.e+]+)$', body, re.M))


def hop_cost(examples: Path) -> dict:
    with_cluster = Cluster(BUILD, Path(tempfile.mkdtemp(prefix="fn0-bench-hop-")))
    try:
        args = ["--no-access-log", "--cpu-ms", "1000"]
        a, b = with_cluster.node("a", *args), with_cluster.node("b", *args)
        assert a.deploy("hello-c", examples / "hello-c.wasm").status == 201
        assert a.get("/hello-c/").status == 200  # warm on A
        wait_for(lambda: members(b)[node_id(a)]["warm"] == 1, timeout=10, every=0.05)
        assert b.get("/hello-c/").header("fn0-node") == node_id(a)
        direct, hop = [], []
        for _ in range(ROUNDS):
            direct.append(wrk(f"http://127.0.0.1:{a.port}/hello-c/"))
            hop.append(wrk(f"http://127.0.0.1:{b.port}/hello-c/"))
        # Every hop request ran on A: B holds nothing warm.
        assert members(a)[node_id(b)]["warm"] == 0
        return {"direct": best(direct), "hop": best(hop)}
    finally:
        with_cluster.close()


def placement(examples: Path, forward: bool) -> dict:
    c = Cluster(BUILD, Path(tempfile.mkdtemp(prefix="fn0-bench-place-")))
    try:
        args = ["--no-access-log", "--cache-mb", "8"] + ([] if forward else ["--no-forward"])
        nodes = [c.node(n, *args) for n in "abc"]
        base = (examples / "hello-c.wasm").read_bytes()
        for i in range(FUNCTIONS):
            r = nodes[i % 3].api("POST", f"/functions/f{i}/versions", variant(base, i),
                                 content_type="application/wasm")
            assert r.status == 201, r.body
        lb = c.balancer(nodes)
        client = HttpClient("127.0.0.1", lb.port, timeout=30)
        warm = [f"/f{i}/" for i in range(FUNCTIONS)] * 3
        random.Random(1).shuffle(warm)
        for t in warm:
            assert client.get(t).status == 200
        time.sleep(1.5)
        script = BUILD / "bench" / "functions200.lua"
        script.write_text(f'request = function()\n  return wrk.format("GET", "/f" .. math.random(0, {FUNCTIONS - 1}) '
                          f'.. "/")\nend\n')
        before = sum(cold_starts(n) for n in nodes)
        run = wrk(lb.url("/"), script)
        total = run["rps"] * float(os.environ.get("FN0_BENCH_DURATION", "5s").rstrip("s"))
        cold = sum(cold_starts(n) for n in nodes) - before
        warm_sets = [m["warm"] for m in members(nodes[0]).values()]
        return dict(run, cold_starts=cold, requests=round(total), cold_per_1000=1000 * cold / max(total, 1),
                    warm_hit=1 - cold / max(total, 1), warm_per_node=warm_sets)
    finally:
        c.close()


def main() -> int:
    out = BUILD / "bench"
    out.mkdir(parents=True, exist_ok=True)
    os.environ["PATH"] = f"{TOOLS}:{os.environ['PATH']}"
    examples = BUILD / "examples"
    results = {"hop": hop_cost(examples), "warm_routing": placement(examples, True),
               "plain_balancing": placement(examples, False)}
    (out / "cluster.json").write_text(json.dumps(results, indent=2) + "\n")
    h = results["hop"]
    print("\ncluster: a forward hop (hello-c, 2 nodes on this machine, wrk through the forwarding node vs the warm one)")
    print(f"  {'':24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for k in ("direct", "hop"):
        print(f"  {k:24}{h[k]['rps']:>10.0f}{h[k]['p50_ms']:>10.2f}{h[k]['p99_ms']:>10.2f}")
    print(f"  hop / direct: throughput {h['hop']['rps'] / h['direct']['rps']:.2f}x, "
          f"p50 {h['hop']['p50_ms'] / h['direct']['p50_ms']:.2f}x, p99 {h['hop']['p99_ms'] / h['direct']['p99_ms']:.2f}x")
    print(f"\ncluster: 3 nodes behind haproxy, {FUNCTIONS} functions, 8 MB component cache per node (wrk, random function)")
    print(f"  {'':24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'cold/1000':>11}{'warm hit':>10}  warm per node")
    for k in ("warm_routing", "plain_balancing"):
        r = results[k]
        print(f"  {k:24}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['cold_per_1000']:>11.1f}"
              f"{100 * r['warm_hit']:>9.1f}%  {r['warm_per_node']}")
    w, p = results["warm_routing"], results["plain_balancing"]
    print(f"  warm routing / plain: throughput {w['rps'] / p['rps']:.2f}x, p99 {w['p99_ms'] / p['p99_ms']:.2f}x, "
          f"cold starts {w['cold_per_1000'] / max(p['cold_per_1000'], 1e-9):.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
