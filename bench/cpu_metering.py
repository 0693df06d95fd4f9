#!/usr/bin/env python3
"""What fair CPU metering costs and what it changes: two nodes of one build,
one metering only the guest's own code (the default: the store's call hook
pauses the meter while the host works on the guest's behalf), the other
every polled nanosecond (FN0_CPU_METER=polls, what fn0 did before).

    python3 bench/cpu_metering.py [example ...]   (default hello-c hello-js echo-c)

Per example: req/s under wrk (alternating between the nodes, best and
median of FN0_BENCH_ROUNDS rounds, default 3; echo-c posts 64 KiB), then
the guest CPU the access log reports (cpu_us) for one request each:
echo-c with a 100 MB body, hello-js, hello-c.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import subprocess
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BUILD, wrk  # noqa: E402
from node import Node  # noqa: E402  (bench puts tests/integration on the path)

MODES = {"guest only": {}, "polls": {"FN0_CPU_METER": "polls"}}


def post_script(tmp: Path, size: int) -> Path:
    p = tmp / f"post-{size}.lua"
    p.write_text(f'wrk.method = "POST"\nwrk.body = string.rep("x", {size})\n')
    return p


def cpu_us(node: Node, example: str, body: Path | None, n: int = 5) -> int:
    mine = lambda e: e.get("function") == example and "cpu_us" in e  # noqa: E731
    before = len([e for e in node.access_log() if mine(e)])
    for _ in range(n):
        # curl reads the echo while it sends the body (urllib would not).
        data = ["--data-binary", f"@{body}"] if body else []
        subprocess.run(["curl", "-sS", "-o", "/dev/null", *data, f"http://127.0.0.1:{node.port}/{example}/"],
                       check=True, timeout=120)
    lines = node.access_log_lines(mine, before + n)
    return int(statistics.median(int(e["cpu_us"]) for e in lines[before:]))


def main() -> int:
    examples = sys.argv[1:] or ["hello-c", "hello-js", "echo-c"]
    rounds = int(os.environ.get("FN0_BENCH_ROUNDS", "3"))
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        nodes = {}
        try:
            for label, env in MODES.items():
                node = Node(BUILD, tmp / label.replace(" ", "-"), "--cpu-ms", "1000", "--no-tiered-compile",
                            env=env).start()
                for ex in examples:
                    r = node.deploy(ex, BUILD / "examples" / f"{ex}.wasm")
                    assert r.status in (200, 201), r.body
                nodes[label] = node
            if os.environ.get("FN0_BENCH_CPU_ONLY"):
                examples_rps = []
            else:
                examples_rps = examples
            print(f"{'example':9} {'meter':11} {'best req/s':>10} {'median':>8}")
            for ex in examples_rps:
                script = post_script(tmp, 64 << 10) if ex.startswith("echo") else None
                runs = {label: [] for label in MODES}
                for _ in range(rounds):
                    for label, node in nodes.items():
                        runs[label].append(wrk(f"http://127.0.0.1:{node.port}/{ex}/", script)["rps"])
                for label in MODES:
                    print(f"{ex:9} {label:11} {max(runs[label]):10.0f} {statistics.median(runs[label]):8.0f}")
                g, p = runs["guest only"], runs["polls"]
                print(f"{ex:9} guest only / polls: best {max(g) / max(p):.3f}, "
                      f"median {statistics.median(g) / statistics.median(p):.3f}")
            print("\nguest CPU per request (access log cpu_us, median of 5):")
            big = tmp / "body"
            big.write_bytes(b"x" * 100_000_000)
            for ex, body in (("echo-c", big), ("hello-js", None), ("hello-c", None)):
                if ex not in examples:
                    continue
                figures = {label: cpu_us(node, ex, body) for label, node in nodes.items()}
                what = f"{ex} (100 MB body)" if body else ex
                print(f"  {what}: " + ", ".join(f"{label} {v} us" for label, v in figures.items()))
        finally:
            for node in nodes.values():
                node.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
