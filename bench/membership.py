#!/usr/bin/env python3
"""What cluster membership costs PostgreSQL, at several cluster sizes.

    bench/membership.py [--build DIR] [--nodes 10,50,100,200,400,1000]
                        [--functions 10000] [--churn 0.01,0.1] [--seconds 20]
                        [--max-rate 100] [--check 100]

Starts a PostgreSQL 15 (tests/servers/postgres.py, max_connections raised
above the largest N), runs build/bench/membership_bench once per N (both
churn rates on the same nodes) with F functions and W = min(F, 3F/N) warm
per node (three warm copies of each function), prints a table and writes
every measured line to BUILD/bench/membership.json.

All N nodes run in the bench process, on the machine PostgreSQL runs on, and
each costs it about as much CPU per beat as PostgreSQL does (every node
parses every row). So a size whose beats at 1 s would exceed --max-rate
beats/s runs with a longer interval and its churn divided by the same factor
(so that each beat carries the work of a 1 s beat); its "at 1 s" columns are
its per-beat costs times N beats/s. --check N (0: none) also runs that size
at 5 s, beside its real 1 s run, to show the two agree.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))
from postgres import Postgres  # noqa: E402


def parse_line(line: str) -> dict:
    out = {}
    for field in line.split()[1:]:
        key, _, value = field.partition("=")
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def run_bench(binary: Path, url: str, nodes: int, functions: int, churns: list[float], seconds: float,
              interval_ms: int) -> list[dict]:
    scale = interval_ms / 1000
    cmd = [str(binary), "--registry", url, "--nodes", str(nodes), "--functions", str(functions),
           "--churn", ",".join(f"{c / scale:g}" for c in churns), "--interval-ms", str(interval_ms),
           "--seconds", str(max(seconds, 4 * scale)), "--warmup", str(max(3.0, 1.5 * scale))]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    errors = [l for l in r.stderr.splitlines() if "cannot beat" in l]
    rows = []
    for line, churn in zip([l for l in r.stdout.splitlines() if l.startswith("membership ")], churns):
        row = parse_line(line)
        row["churn_per_s"] = churn  # the simulated churn, whatever the interval
        row["scale"] = scale
        row["beat_errors_logged"] = len(errors)
        row["run_s"] = round(time.monotonic() - t0, 1)
        rows.append(row)
    return rows


def at_one_second(row: dict) -> dict:
    """Per-beat costs times N beats/s: what the size costs at one beat a second."""
    n, beats = row["nodes"], row["beats_per_s"]
    per_beat = lambda key: row[key] / beats if beats else float("nan")  # noqa: E731
    pg_ms = row["pg_cpu_ms_per_beat"] if isinstance(row["pg_cpu_ms_per_beat"], float) else float("nan")
    from_pg = row["wire_from_pg_mb_per_s"] if isinstance(row["wire_from_pg_mb_per_s"], float) else float("nan")
    return {
        "pg_cores": pg_ms * n / 1000,
        "bench_cores": row["bench_cpu_ms_per_beat"] * n / 1000,
        "stmts_per_s": row["stmts_per_beat"] * n,
        "rows_per_s": row["rows_per_beat"] * n,
        "warm_fetches_per_s": row["warm_fetches_per_beat"] * n,
        "mb_from_pg_per_s": from_pg / beats * n if beats else float("nan"),
        "wal_mb_per_s": per_beat("wal_mb_per_s") * n,
    }


def fit(rows: list[dict]) -> tuple[float, float]:
    """Least squares over N >= 50: PostgreSQL ms per beat = a + b * N (the N rows
    every beat reads; the warm sets re-read, about 3F x 16 bytes a beat while
    every set changes within a second, are in a)."""
    pts = [(r["nodes"], r["pg_cpu_ms_per_beat"]) for r in rows
           if r["nodes"] >= 50 and isinstance(r["pg_cpu_ms_per_beat"], float)]
    n = len(pts)
    mx, my = sum(x for x, _ in pts) / n, sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    b = sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else float("nan")
    return my - b * mx, b


def fmt(v: float, digits: int = 0) -> str:
    if v != v:  # nan
        return "–"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.{max(digits, 1)}f} M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f} k"
    return f"{v:.{digits}f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("FN0_BUILD_DIR", str(ROOT / "build")))
    ap.add_argument("--nodes", default="10,50,100,200,400,1000")
    ap.add_argument("--functions", type=int, default=10000)
    ap.add_argument("--churn", default="0.01,0.1")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--max-rate", type=float, default=100, help="most beats/s simulated at once")
    ap.add_argument("--check", type=int, default=100, help="this size also at 5 s, to check the scaling (0: none)")
    args = ap.parse_args()

    binary = Path(args.build) / "bench" / "membership_bench"
    if not binary.exists():
        print(f"membership.py: {binary} is missing: cmake --build {args.build} --target membership_bench",
              file=sys.stderr)
        return 2
    sizes = [int(n) for n in args.nodes.split(",")]
    churns = [float(c) for c in args.churn.split(",")]
    plan = [(n, max(1000, 1000 * math.ceil(n / args.max_rate)), churns) for n in sizes]
    if args.check:
        plan.append((args.check, 5000, churns[:1]))

    pg = Postgres()
    started = time.monotonic()
    results = []
    try:
        pg.start()
        pg.psql(f"ALTER SYSTEM SET max_connections = {max(sizes) + 100}")
        pg.stop()
        pg.restart()
        print(f"PostgreSQL {pg.psql('SHOW server_version').strip()} at {pg.url()}, "
              f"max_connections {pg.psql('SHOW max_connections').strip()}, fsync off (the test fixture)",
              flush=True)
        for n, interval_ms, run_churns in plan:
            rows = run_bench(binary, pg.url(), n, args.functions, run_churns, args.seconds, interval_ms)
            for r in rows:
                r["at_1s"] = at_one_second(r)
                results.append(r)
                print(f"  N={n} churn={r['churn_per_s']:g}/s interval={interval_ms} ms: "
                      f"{r['beats_per_s']:.0f}/{r['expected_per_s']:.0f} beats/s, "
                      f"PostgreSQL {r['pg_cpu_ms_per_beat']} ms/beat, bench {r['bench_cpu_ms_per_beat']:.2f} ms/beat, "
                      f"machine {r['machine_busy_cores']:.2f} cores busy ({r['run_s']:.0f} s)", flush=True)
    finally:
        pg.destroy()

    out = Path(args.build) / "bench" / "membership.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))

    print()
    print(f"F={args.functions} functions, W=min(F, 3F/N) warm per node; churn = share of a node's warm set "
          "replaced per second. 'at 1 s' = per-beat cost x N beats/s.")
    print()
    print("| N | W | churn/s | interval | beats/s (got/expected) | period p50/p99 ms | gone % | "
          "PG ms/beat | PG cores at 1 s | bench ms/beat | rows/s at 1 s | warm sets read/s | "
          "MB/s from PG at 1 s | WAL MB/s at 1 s | PG memory MB | bench cores | machine busy |")
    print("|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        a = r["at_1s"]
        interval = f"{r['interval_ms'] / 1000:g} s" + (" (scaled)" if r["scale"] > 1 else "")
        print(f"| {r['nodes']:.0f} | {r['warm']:.0f} | {r['churn_per_s'] * 100:g} % | {interval} | "
              f"{r['beats_per_s']:.0f} / {r['expected_per_s']:.0f} | "
              f"{r['period_ms_p50']:.0f} / {r['period_ms_p99']:.0f} | {r['gone_pct']:.2f} | "
              f"{r['pg_cpu_ms_per_beat']} | {fmt(a['pg_cores'], 2)} | {r['bench_cpu_ms_per_beat']:.2f} | "
              f"{fmt(a['rows_per_s'])} | {fmt(a['warm_fetches_per_s'])} | {fmt(a['mb_from_pg_per_s'], 1)} | "
              f"{fmt(a['wal_mb_per_s'], 2)} | {r['pg_pss_mb']:.0f} | {r['bench_cpu_cores']:.2f} | "
              f"{r['machine_busy_cores']:.2f} |")
    if len({r["nodes"] for r in results if r["nodes"] >= 50}) >= 2:
        a, b = fit(results)
        print()
        print(f"Fit, N >= 50: PostgreSQL CPU per beat = {a:.2f} ms + {b * 1000:.2f} us x N, so at one beat a second "
              f"N x that = " + ", ".join(f"{n * (a + b * n) / 1000:.2f} cores at N={n}" for n in (10, 100, 1000, 2000)))
        for cores in (1, 2, 4, 8):
            # b N^2 + a N = 1000 cores
            n = (-a + math.sqrt(a * a + 4 * b * 1000 * cores)) / (2 * b) if b > 0 else float("nan")
            print(f"  {cores} core{'s' if cores > 1 else ''} of PostgreSQL at N = {n:.0f}")
    print(f"\n{len(plan)} runs in {time.monotonic() - started:.0f} s; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
