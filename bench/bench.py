#!/usr/bin/env python3
"""`make bench`: fn0 and the reference host (`wasmtime serve`, pooling
allocator, a fresh instance per request) side by side on the same components,
the same machine and the same load generator (wrk on loopback), alternating
runs. Prints a table with ratios and writes build/bench/results.json.

Covered so far: throughput and p50/p99 latency for hello-c, hello-js,
echo-c with a 64 KiB body and a WASI 0.3 hello (tests/guests/p3-rust);
the raw HTTP stack (fixed response, no wasm);
deploy -> first response (new bytes, compiled on deploy); restart -> first
response (artifact on disk); p50/p99 of hello-c at half of fn0's maximum
throughput, at a constant rate (oha, installed by `setup.sh --bench`);
what persistent logs cost a C function that writes a line per request
(persistent logs on vs off, alternating runs). Many functions on one node
(1 to 10,000): bench/density.py.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("FN0_BUILD_DIR", ROOT / "build")).resolve()
TOOLS = Path(os.environ.get("FN0_CACHE", Path.home() / ".cache" / "fn0")) / "tools" / "bin"
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from node import Node  # noqa: E402
from reference_host import ReferenceHost  # noqa: E402
from load import variant  # noqa: E402

DURATION = os.environ.get("FN0_BENCH_DURATION", "5s")
CONNECTIONS = int(os.environ.get("FN0_BENCH_CONNECTIONS", "32"))
ROUNDS = int(os.environ.get("FN0_BENCH_ROUNDS", "2"))
# More `fn0 serve` flags for the throughput node (A/B runs of a setting).
NODE_ARGS = os.environ.get("FN0_BENCH_NODE_ARGS", "").split()


def wrk(url: str, script: Path | None = None, connections: int | None = None) -> dict:
    c = connections or CONNECTIONS
    cmd = ["wrk", f"-t{min(2, c)}", f"-c{c}", f"-d{DURATION}", "--latency", url]
    if script:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": pct(50), "p99_ms": pct(99), "errors": int(non2xx.group(1)) if non2xx else 0}


def oha_at_rate(url: str, rps: float, duration: str = DURATION, connections: int = CONNECTIONS) -> dict:
    """p50/p99 at a constant request rate (oha holds the rate; wrk cannot)."""
    cmd = ["oha", "-z", duration, "-q", str(int(rps)), "-c", str(connections), "--no-tui",
           "--output-format", "json", url]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    pct = out["latencyPercentiles"]
    return {"rate": int(rps), "achieved_rps": out["summary"]["requestsPerSec"],
            "p50_ms": pct["p50"] * 1000, "p99_ms": pct["p99"] * 1000,
            "success_rate": out["summary"]["successRate"], "connections": connections}


def best(runs: list[dict]) -> dict:
    return max(runs, key=lambda r: r["rps"])


def first_response(start_cmd, url: str, env=None) -> tuple[float, float]:
    """(seconds from process start to the first 200 answer, seconds from the
    node saying it listens to that answer)."""
    import threading
    t0 = time.monotonic()
    proc = subprocess.Popen(start_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    listening = {}

    def watch():
        for line in proc.stderr:
            if b"listening on" in line and "t" not in listening:
                listening["t"] = time.monotonic()

    threading.Thread(target=watch, daemon=True).start()
    try:
        while time.monotonic() - t0 < 60:
            if "t" in listening:
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        if r.status == 200:
                            t = time.monotonic()
                            return t - t0, t - listening["t"]
                except Exception:
                    pass
            time.sleep(0.0005)
        raise TimeoutError(url)
    finally:
        proc.terminate()
        proc.wait()


def deploy_to_first_response(node, name: str, wasm: bytes) -> dict:
    """Seconds from sending never-seen component bytes (so the node really
    compiles them) to the first 200 answer from the new function."""
    t0 = time.monotonic()
    r = node.api("POST", f"/functions/{name}/versions", wasm, content_type="application/wasm")
    assert r.status == 201, r.body
    deployed = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/{name}/", timeout=30) as resp:
        assert resp.status == 200
        resp.read()
    t = time.monotonic()
    return {"deploy_ms": (deployed - t0) * 1000, "first_response_ms": (t - t0) * 1000}


def settle(node, timeout: float = 600) -> None:
    """Waits until tiered compilation has optimized every deploy (big
    components answer from baseline code at first, docs/performance.md):
    the throughput cases measure the code a function runs on for good, and
    no background compile runs under the next measurement."""
    def value(body: str, name: str) -> float:
        m = re.search(rf"^{name} ([0-9.e+-]+)$", body, re.M)
        return float(m.group(1)) if m else 0.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = node.get("/_fn0/metrics").body.decode()
        done = value(body, "fn0_baseline_optimized_total") + value(body, "fn0_baseline_optimize_failures_total")
        if done >= value(body, "fn0_baseline_compiles_total"):
            return
        time.sleep(0.2)
    raise TimeoutError("the background optimizing compiles did not end")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def logging_cost(guest: Path, lines: int = 0) -> dict:
    """Throughput of a C guest (tests/guests/hostile-c, `/log?lines=0`:
    one stderr line per request; `lines` more on stdout) with the lines stored on disk (the
    default) and kept in memory only (--log-retention-mb 0): two nodes up at
    once, wrk alternating between them, best of ROUNDS each."""
    nodes, dirs = {}, []
    try:
        for mode, args in (("disk", ()), ("memory", ("--log-retention-mb", "0"))):
            data = Path(tempfile.mkdtemp(prefix=f"fn0-bench-logs-{mode}-"))
            dirs.append(data)
            nodes[mode] = Node(BUILD, data, "--no-access-log", *args).start()
            assert nodes[mode].deploy("logger", guest).status in (200, 201)
        runs = {mode: [] for mode in nodes}
        for _ in range(ROUNDS):
            for mode, node in nodes.items():
                runs[mode].append(wrk(f"http://127.0.0.1:{node.port}/logger/log?lines={lines}"))
        res = {mode: best(r) for mode, r in runs.items()}
        res["all_rps"] = {mode: [round(x["rps"]) for x in r] for mode, r in runs.items()}
        dropped = nodes["disk"].get("/_fn0/metrics").body.decode()
        m = re.search(r"^fn0_log_lines_dropped_total (\S+)$", dropped, re.M)
        res["disk_dropped_lines"] = float(m.group(1)) if m else None
        m = re.search(r"^fn0_log_lines_written_total (\S+)$", dropped, re.M)
        res["disk_written_lines"] = float(m.group(1)) if m else None
        res["disk_db_mb"] = sum(f.stat().st_size for f in dirs[0].glob("logs.db*")) / 1e6
        return res
    finally:
        for node in nodes.values():
            node.stop()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def main() -> int:
    out_dir = BUILD / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PATH"] = f"{TOOLS}:{os.environ['PATH']}"
    if sys.argv[1:2] == ["logging"]:  # only the persistent-logs case: `bench.py logging [LINES]`
        lines = int(sys.argv[2]) if len(sys.argv) > 2 else 0
        lg = logging_cost(BUILD / "tests" / "guests" / "hostile-c.wasm", lines)
        print(json.dumps(lg, indent=2))
        print(f"{lines + 1} lines per request: persistent / in memory: {lg['disk']['rps'] / lg['memory']['rps']:.2f}x")
        return 0
    post = out_dir / "post64k.lua"
    post.write_text('wrk.method = "POST"\nwrk.body = string.rep("x", 65536)\n'
                    'wrk.headers["Content-Type"] = "application/octet-stream"\n')
    examples = BUILD / "examples"
    # hello-p3: the WASI 0.3 test guest's `/` (tests/guests/p3-rust, Rust,
    # wasi:http@0.3 async), next to the 0.2 hellos: a fresh instance per
    # request on both hosts (wasmtime serve's default for 0.3 is reuse, 128
    # requests and 16 at once, so it is told --max-instance-reuse-count 1);
    # hello-p3-reuse: reuse on both (fn0: reuse_instance_requests = 128, one
    # request at a time; wasmtime serve: its default, 128 and 16 at once);
    # hello-p3-shared: the same as wasmtime serve's default on both (fn0:
    # also instance_concurrency = 16).
    paths = {name: examples / f"{name}.wasm" for name in ("hello-c", "hello-js", "echo-c")}
    paths["hello-p3"] = paths["hello-p3-reuse"] = paths["hello-p3-shared"] = BUILD / "tests" / "guests" / "p3-rust.wasm"
    ref_args = {"hello-p3": ["--max-instance-reuse-count", "1"]}
    cases = [("hello-c", None), ("hello-js", None), ("echo-c 64KiB", post), ("hello-p3", None),
             ("hello-p3-reuse", None), ("hello-p3-shared", None)]
    results: dict = {"config": {"duration": DURATION, "connections": CONNECTIONS, "rounds": ROUNDS}, "cases": {}}

    data = Path(tempfile.mkdtemp(prefix="fn0-bench-"))
    # No access log: wasmtime serve writes nothing per request either.
    node = Node(BUILD, data, "--cpu-ms", "1000", "--no-access-log", *NODE_ARGS).start()
    for name, path in paths.items():
        assert node.deploy(name, path).status in (200, 201)
    assert node.api("PUT", "/functions/hello-p3-reuse/settings", {"reuse_instance_requests": 128}).status == 200
    assert node.api("PUT", "/functions/hello-p3-shared/settings",
                    {"reuse_instance_requests": 128, "instance_concurrency": 16}).status == 200
    settle(node)
    try:
        for case, script in cases:
            comp = case.split()[0]
            fn0_runs, ref_runs = [], []
            for _ in range(ROUNDS):
                with ReferenceHost(paths[comp], extra_args=ref_args.get(comp)) as ref:
                    ref_runs.append(wrk(f"http://127.0.0.1:{ref.port}/", script))
                fn0_runs.append(wrk(f"http://127.0.0.1:{node.port}/{comp}/", script))
            results["cases"][case] = {"fn0": best(fn0_runs), "reference": best(ref_runs)}
        results["cases"]["raw (no wasm)"] = {"fn0": best([wrk(f"http://127.0.0.1:{node.port}/_fn0/ping")
                                                          for _ in range(ROUNDS)])}
        results["deploy_first_response"] = {
            comp: deploy_to_first_response(node, f"cold-{comp}", variant((examples / f"{comp}.wasm").read_bytes(), 0))
            for comp in ("hello-c", "hello-js")}
        settle(node)
        if shutil.which("oha"):
            # The target's figure uses the bench's connection count; 8
            # connections (less queueing inside the load generator sharing
            # the cores) is shown next to it.
            half = results["cases"]["hello-c"]["fn0"]["rps"] / 2
            results["half_load"], results["half_load_8_connections"] = {}, {}
            with ReferenceHost(examples / "hello-c.wasm") as ref:
                for key, conns in (("half_load", CONNECTIONS), ("half_load_8_connections", 8)):
                    results[key]["fn0"] = oha_at_rate(f"http://127.0.0.1:{node.port}/hello-c/", half, connections=conns)
                    results[key]["reference"] = oha_at_rate(f"http://127.0.0.1:{ref.port}/", half, connections=conns)
    finally:
        node.stop()

    restart, after_listen = first_response([str(BUILD / "fn0"), "serve", "--listen", "127.0.0.1:18999", "--data-dir", str(data)],
                             "http://127.0.0.1:18999/hello-c/",
                             env=dict(os.environ, FN0_ADMIN_TOKEN="bench-token-000000000000"))
    results["restart_first_response_ms"] = restart * 1000
    results["restart_listen_to_first_response_ms"] = after_listen * 1000
    shutil.rmtree(data, ignore_errors=True)

    guest = BUILD / "tests" / "guests" / "hostile-c.wasm"
    if guest.exists():
        results["logging"] = logging_cost(guest)

    raw = results["cases"]["raw (no wasm)"]["fn0"]["rps"]
    print(f"\nfn0 bench — wrk -t2 -c{CONNECTIONS} -d{DURATION}, best of {ROUNDS}, loopback, {os.cpu_count()} cores\n")
    print(f"{'case':16} {'fn0 req/s':>10} {'ref req/s':>10} {'fn0/ref':>8} {'fn0/raw':>8} "
          f"{'fn0 p50':>8} {'fn0 p99':>8} {'ref p50':>8} {'ref p99':>8}")
    for case, r in results["cases"].items():
        f, ref = r["fn0"], r.get("reference")
        print(f"{case:16} {f['rps']:10.0f} {ref['rps'] if ref else float('nan'):10.0f} "
              f"{f['rps'] / ref['rps'] if ref else float('nan'):8.2f} {f['rps'] / raw:8.2f} "
              f"{f['p50_ms']:7.2f}ms {f['p99_ms']:7.2f}ms "
              f"{ref['p50_ms'] if ref else float('nan'):7.2f}ms {ref['p99_ms'] if ref else float('nan'):7.2f}ms")
    for comp, d in results["deploy_first_response"].items():
        print(f"\ndeploy -> first response ({comp}, compiled on deploy): {d['first_response_ms']:.1f} ms "
              f"(deploy call {d['deploy_ms']:.1f} ms)", end="")
    print(f"\nrestart -> first response (hello-c, artifact on disk): {results['restart_first_response_ms']:.1f} ms "
          f"from process start, {results['restart_listen_to_first_response_ms']:.1f} ms from 'listening'")
    for key in ("half_load", "half_load_8_connections"):
        if key in results:
            h = results[key]
            print(f"\nhello-c at half of fn0's maximum ({h['fn0']['rate']} req/s, constant rate, oha, "
                  f"{h['fn0']['connections']} connections): "
                  f"fn0 p50 {h['fn0']['p50_ms']:.2f} ms p99 {h['fn0']['p99_ms']:.2f} ms; "
                  f"reference p50 {h['reference']['p50_ms']:.2f} ms p99 {h['reference']['p99_ms']:.2f} ms", end="")
    print()
    if "logging" in results:
        lg = results["logging"]
        print(f"\na line per request (hostile-c /log?lines=0): persistent logs {lg['disk']['rps']:.0f} req/s "
              f"(p99 {lg['disk']['p99_ms']:.2f} ms), in memory only {lg['memory']['rps']:.0f} req/s "
              f"(p99 {lg['memory']['p99_ms']:.2f} ms): {lg['disk']['rps'] / lg['memory']['rps']:.2f}x; "
              f"{lg['disk_written_lines']:.0f} lines written, {lg['disk_dropped_lines']:.0f} dropped, "
              f"logs.db {lg['disk_db_mb']:.1f} MB")
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    print(f"written to {out_dir / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
