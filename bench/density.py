#!/usr/bin/env python3
"""`make bench`, density: one node holding 1, 100, 1,000 and 10,000 deployed
functions (distinct components: hello-c with a custom section that differs
per function, so each has its own hash, artifact and cache entry), requests
spread evenly over all of them by wrk. Per count: throughput as a ratio of
one function's, p99, the node's RSS, and how fast the functions were
deployed. Then, with every function on disk, a restart: seconds from the
process start to "listening", to the last-deployed function's first answer,
and to every function having answered once (a sweep over all of them).

One node is filled step by step (1 -> 100 -> 1,000 -> 10,000): 10,000
deploys in all, not 11,101. FN0_BENCH_DENSITY=1,1000 picks other counts.
Writes build/bench/density.json."""
from __future__ import annotations

import concurrent.futures as cf
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BUILD, DURATION, ROUNDS, TOOLS, best, rss_mb, wrk  # noqa: E402
from load import variant  # noqa: E402  (bench put tests/integration on the path)
from node import TOKEN, Node  # noqa: E402

COUNTS = [int(x) for x in os.environ.get("FN0_BENCH_DENSITY", "1,100,1000,10000").split(",")]
DEPLOYERS = 4  # concurrent deploy calls (the node compiles at most 8 at once)


def deploy_range(node: Node, base: bytes, lo: int, hi: int) -> float:
    """Deploys t{lo}..t{hi-1}; the seconds it took."""
    def one(i: int) -> None:
        r = node.api("POST", f"/functions/t{i}/versions", variant(base, i), content_type="application/wasm")
        assert r.status == 201, (i, r.status, r.body)

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(DEPLOYERS) as ex:
        list(ex.map(one, range(lo, hi)))
    return time.monotonic() - t0


def sweep(port: int, n: int, workers: int = 8) -> float:
    """Seconds until every one of t0..t{n-1} answered 200 once (keep-alive
    connections, `workers` at a time)."""
    def part(k: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(k, n, workers):
            c.request("GET", f"/t{i}/")
            r = c.getresponse()
            r.read()
            assert r.status == 200, (i, r.status)
        c.close()

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(workers) as ex:
        list(ex.map(part, range(workers)))
    return time.monotonic() - t0


def restart(data: Path, n: int) -> dict:
    """Starts a node on `data` (n functions on disk): seconds from the
    process start to 'listening', to t{n-1}'s first 200, and to a sweep
    over all n having answered."""
    env = dict(os.environ, FN0_ADMIN_TOKEN=TOKEN)
    t0 = time.monotonic()
    proc = subprocess.Popen([str(BUILD / "fn0"), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data),
                             "--no-access-log"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    port: dict = {}

    def watch():
        for line in proc.stderr:
            s = line.decode(errors="replace")
            if "listening on http://" in s and "port" not in port:
                port["t"] = time.monotonic()
                port["port"] = int(s.split("listening on http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])

    threading.Thread(target=watch, daemon=True).start()
    try:
        while "port" not in port:
            if proc.poll() is not None or time.monotonic() - t0 > 120:
                raise RuntimeError("the node did not start")
            time.sleep(0.0005)
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port["port"], timeout=10)
                c.request("GET", f"/t{n - 1}/")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - t0 > 120:
                raise TimeoutError("the last function never answered")
            time.sleep(0.0005)
        last = time.monotonic()
        swept = sweep(port["port"], n)
        return {"listening_s": port["t"] - t0, "last_function_s": last - t0,
                "all_answered_s": last - t0 + swept, "sweep_s": swept, "rss_mb": rss_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait()


def main() -> int:
    os.environ["PATH"] = f"{TOOLS}:{os.environ['PATH']}"
    out_dir = BUILD / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    base = (BUILD / "examples" / "hello-c.wasm").read_bytes()
    data = Path(tempfile.mkdtemp(prefix="fn0-bench-density-"))
    results: dict = {"config": {"duration": DURATION, "rounds": ROUNDS, "counts": COUNTS}, "counts": {}}
    node = Node(BUILD, data, "--no-access-log").start()
    try:
        have = 0
        for n in sorted(COUNTS):
            took = deploy_range(node, base, have, n)
            added, have = n - have, n
            script = out_dir / f"density{n}.lua"
            script.write_text(f'request = function()\n  return wrk.format("GET", "/t" .. math.random(0, {n - 1}) .. "/")\nend\n')
            runs = [wrk(f"http://127.0.0.1:{node.port}/", script) for _ in range(ROUNDS)]
            results["counts"][n] = dict(best(runs), rss_mb=rss_mb(node.proc.pid), deploys_per_s=added / took)
            print(f"  {n:6} functions: {results['counts'][n]['rps']:.0f} req/s", file=sys.stderr, flush=True)
    finally:
        node.stop()
    results["restart"] = restart(data, have)
    results["data_dir_mb"] = sum(f.stat().st_size for f in data.rglob("*") if f.is_file()) / 1e6
    shutil.rmtree(data, ignore_errors=True)

    c = results["counts"]
    one = c[min(c)]["rps"]
    print(f"\nfn0 density — hello-c variants, requests spread evenly, wrk -d{DURATION}, best of {ROUNDS}\n")
    print(f"{'functions':>10} {'req/s':>9} {'x of 1':>7} {'p50':>8} {'p99':>8} {'RSS':>8} {'deploys/s':>10}")
    for n, r in c.items():
        print(f"{n:10} {r['rps']:9.0f} {r['rps'] / one:7.2f} {r['p50_ms']:6.2f}ms {r['p99_ms']:6.2f}ms "
              f"{r['rss_mb']:6.0f}MB {r['deploys_per_s']:10.1f}")
    rs = results["restart"]
    print(f"\nrestart with {have} functions on disk ({results['data_dir_mb']:.0f} MB): listening after "
          f"{rs['listening_s']:.2f} s, the last function answers after {rs['last_function_s']:.2f} s, every "
          f"function has answered after {rs['all_answered_s']:.2f} s (sweep {rs['sweep_s']:.2f} s), "
          f"RSS then {rs['rss_mb']:.0f} MB")
    (out_dir / "density.json").write_text(json.dumps(results, indent=2))
    print(f"written to {out_dir / 'density.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
