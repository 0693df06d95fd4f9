#!/usr/bin/env python3
"""Two fn0 builds side by side on one function: what a change on the request
path costs. Both nodes run at once (idle while the other is measured); wrk
alternates between them, so drift on the machine hits both alike.

    bench/ab.py OLD_BUILD_DIR NEW_BUILD_DIR [example]   (default hello-c)

Prints req/s (best and median of FN0_BENCH_ROUNDS rounds, default 5) and
the ratio new/old. Build the old one from a worktree, e.g.
`git worktree add /tmp/old <commit>` and `cmake -S /tmp/old -B /tmp/old/build`.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import wrk  # noqa: E402
from node import Node  # noqa: E402  (bench puts tests/integration on the path)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    old, new = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    example = sys.argv[3] if len(sys.argv) > 3 else "hello-c"
    rounds = int(os.environ.get("FN0_BENCH_ROUNDS", "5"))
    wasm = new / "examples" / f"{example}.wasm"
    with tempfile.TemporaryDirectory() as tmp:
        nodes = {}
        for label, build in (("old", old), ("new", new)):
            node = Node(build, Path(tmp) / label, "--no-access-log").start()
            r = node.deploy(example, wasm)
            assert r.status in (200, 201), r.body
            nodes[label] = node
        runs = {"old": [], "new": []}
        try:
            for _ in range(rounds):
                for label, node in nodes.items():
                    runs[label].append(wrk(f"http://127.0.0.1:{node.port}/{example}/")["rps"])
        finally:
            for node in nodes.values():
                node.kill()
    for label in ("old", "new"):
        print(f"{label}: best {max(runs[label]):9.0f} req/s, median {statistics.median(runs[label]):9.0f} req/s  "
              f"({', '.join(f'{x:.0f}' for x in runs[label])})")
    print(f"new/old: best {max(runs['new']) / max(runs['old']):.3f}, "
          f"median {statistics.median(runs['new']) / statistics.median(runs['old']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
