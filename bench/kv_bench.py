#!/usr/bin/env python3
"""`make bench`, the key-value store: get and set latency (p50/p99, one
connection, so no queueing) and the throughput of a counter function (one
`increment` per request, 32 connections) as a ratio of hello-c's measured
in the same run on the same node, on SQLite (one node) and on PostgreSQL
(one node of a cluster). wrk on loopback; writes build/bench/kv.json."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "servers"))
from bench import BUILD, wrk  # noqa: E402
from node import Node  # noqa: E402
from postgres import Postgres  # noqa: E402

SET_SCRIPT = """wrk.method = "PUT"
wrk.body = string.rep("v", 100)
"""


def one_connection(url: str, script: Path | None = None) -> dict:
    return wrk(url, script, connections=1)


def measure(label: str, *node_args: str, env: dict | None = None) -> dict:
    examples, guests = BUILD / "examples", BUILD / "tests" / "guests"
    # The data directory under the build dir (a real disk, whatever /tmp is).
    (BUILD / "bench").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD / "bench") as tmp:
        node = Node(BUILD, Path(tmp) / "data", "--no-access-log", *node_args, env=env).start()
        try:
            assert node.deploy("hello-c", examples / "hello-c.wasm").status in (200, 201)
            assert node.deploy("kv", guests / "kv-rust.wasm").status in (200, 201)
            base = f"http://127.0.0.1:{node.port}"
            script = Path(tmp) / "set.lua"
            script.write_text(SET_SCRIPT)
            assert node.client().request("PUT", "/kv/set?key=k", body=b"v" * 100).status == 204
            out = {
                "get": one_connection(f"{base}/kv/get?key=k"),
                "set": one_connection(f"{base}/kv/set?key=k", script),
                "hello-c": wrk(f"{base}/hello-c/"),
                "counter": wrk(f"{base}/kv/count"),
                # The same guest answering without a store call (a 404 after
                # open(), which the node answers at once): what the guest
                # itself costs, apart from the store.
                "guest_only": wrk(f"{base}/kv/none"),
            }
            visits = node.client().request("GET", "/kv/get?key=visits").body.decode()
            out["counter_final_value"] = int(visits)
            out["counter_vs_hello_c"] = out["counter"]["rps"] / out["hello-c"]["rps"]
            out["counter_vs_guest_only"] = out["counter"]["rps"] / out["guest_only"]["rps"]
        finally:
            node.stop()
    print(f"\nkey-value store, {label}:")
    for op in ("get", "set"):
        r = out[op]
        print(f"  {op}: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms (one connection, {r['rps']:.0f} req/s)")
    print(f"  counter: {out['counter']['rps']:.0f} req/s = {out['counter_vs_hello_c']:.2f}x hello-c "
          f"({out['hello-c']['rps']:.0f} req/s), p99 {out['counter']['p99_ms']:.1f} ms; "
          f"final value {out['counter_final_value']}")
    print(f"  the same guest without a store call: {out['guest_only']['rps']:.0f} req/s "
          f"(the counter is {out['counter_vs_guest_only']:.2f}x that)")
    return out


def main() -> int:
    results = {"sqlite": measure("SQLite")}
    pg = Postgres().start()
    try:
        results["postgres"] = measure("PostgreSQL", "--registry", pg.url())
    finally:
        pg.stop()
    out_dir = BUILD / "bench"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "kv.json").write_text(json.dumps(results, indent=2))
    print(f"written to {out_dir / 'kv.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
