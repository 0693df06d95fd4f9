#!/usr/bin/env python3
"""Deploy -> first response of large components, measured in the same run
on fresh nodes in three modes: "no cache" (`--no-tiered-compile
--compile-cache-mb 0`: every deploy compiled by Cranelift from scratch, as
before issue 18), "cache" (`--no-tiered-compile`: Cranelift with the
incremental compilation cache) and "tiered" (the default: the baseline
compiler first, Cranelift with the cache in the background).

    python3 bench/deploy_cache.py [--languages js,python] [--rounds N]

Per language, three components made by `fn0 new` + `fn0 build` (built once,
before anything is timed): `a` (the template), `b` (another project, its
greeting changed: a second, distinct function) and `a2` (`a` with one line
changed). Per node, in order: deploy `a` as function A (the first deploy
of that language on the node), `b` as function B, then `a2` as a new
version of A. Each figure is the time from the upload's first byte to the
first 200 answer carrying the new text; beside it, the CPU time of the
node's compile worker for that deploy (its children's CPU time from
/proc, which the machine's load does not inflate; in "tiered" mode it
includes the background compiles that ended meanwhile). Writes
build/bench/deploy_cache.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("FN0_BUILD_DIR", ROOT / "build")).resolve()
FN0 = BUILD / "fn0"
# What runs `fn0 new` / `fn0 build` (a worktree without tools/js installed
# can borrow another checkout's fn0: building is not what is measured).
BUILDER = os.environ.get("FN0_BENCH_BUILDER", str(FN0))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from node import Node, TOKEN  # noqa: E402

ENTRY = {"js": "src/index.js", "python": "app.py"}
STEPS = ("first deploy", "second function", "one-line change")


def build(root: Path, lang: str, name: str, replace: list[tuple[str, str]]) -> Path:
    proj = root / name
    if not proj.exists():
        subprocess.run([BUILDER, "new", name, "--template", lang], cwd=root, check=True, capture_output=True)
    src = proj / ENTRY[lang]
    text = src.read_text()
    for old, new in replace:
        assert old in text, (old, src)
        text = text.replace(old, new, 1)
    src.write_text(text)
    subprocess.run([BUILDER, "build"], cwd=proj, check=True, capture_output=True, timeout=1200)
    return proj / "build" / f"{name}.wasm"


def components(root: Path, lang: str) -> dict[str, tuple[bytes, str]]:
    """name -> (component bytes, a text only its answer holds)."""
    out = {}
    a = build(root, lang, f"{lang}a", [])
    out["a"] = (a.read_bytes(), f"from {lang}a")
    b = build(root, lang, f"{lang}b", [(f" from {lang}b!", f" from second {lang}b!")])
    out["b"] = (b.read_bytes(), f"from second {lang}b")
    a2 = build(root, lang, f"{lang}a", [(f" from {lang}a!", f" from changed {lang}a!")])
    out["a2"] = (a2.read_bytes(), f"from changed {lang}a")
    return out


def children_cpu_s(node: Node) -> float:
    """CPU time of the node's finished children (its compile workers)."""
    fields = Path(f"/proc/{node.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime


def deploy_to_first_response(node: Node, function: str, wasm: bytes, marker: str) -> tuple[float, float]:
    """(seconds to the first new answer, CPU seconds of the compile worker)."""
    cpu0 = children_cpu_s(node)
    t0 = time.monotonic()
    req = urllib.request.Request(f"http://127.0.0.1:{node.port}/_fn0/api/v1/functions/{function}/versions",
                                 data=wasm, method="POST",
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/wasm"})
    with urllib.request.urlopen(req, timeout=600) as r:
        assert r.status == 201, r.status
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/{function}/", timeout=60) as r:
                if marker in r.read().decode():
                    return time.monotonic() - t0, children_cpu_s(node) - cpu0
        except OSError:
            pass
        if time.monotonic() - t0 > 600:
            raise RuntimeError(f"{function} never answered with {marker!r}")
        time.sleep(0.01)


MODES = {"no cache": ["--no-tiered-compile", "--compile-cache-mb", "0"], "cache": ["--no-tiered-compile"],
         "tiered": []}


def run_node(tmp: Path, comps: dict, mode: str) -> dict[str, tuple[float, float]]:
    args = ["--cpu-ms", "200"] + MODES[mode]
    node = Node(BUILD, Path(tempfile.mkdtemp(dir=tmp)), *args).start()
    try:
        return {
            "first deploy": deploy_to_first_response(node, "fa", *comps["a"]),
            "second function": deploy_to_first_response(node, "fb", *comps["b"]),
            "one-line change": deploy_to_first_response(node, "fa", *comps["a2"]),
        }
    finally:
        node.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--languages", default="js,python")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    results: dict = {}
    # A deploy fsyncs its original: the previous bench's writes (density's
    # 1.6 GB of artifacts in `make bench`) are flushed first, not in there.
    os.sync()
    with tempfile.TemporaryDirectory(prefix="fn0-deploy-cache-") as t:
        tmp = Path(t)
        for lang in a.languages.split(","):
            comps = components(tmp, lang)
            runs = {mode: [] for mode in MODES}
            for _ in range(a.rounds):
                # Alternated, so load from other processes hits all alike.
                for mode in MODES:
                    r = run_node(tmp, comps, mode)
                    runs[mode].append(r)
                    print(f"{lang} {mode}: " + ", ".join(f"{k} {v[0]:.2f}s (compile CPU {v[1]:.1f}s)"
                                                         for k, v in r.items()), flush=True)
            results[lang] = {
                "component_bytes": len(comps["a"][0]),
                **{mode: {s: statistics.median(r[s][0] for r in rs) for s in STEPS} for mode, rs in runs.items()},
                **{f"{mode} compile cpu": {s: statistics.median(r[s][1] for r in rs) for s in STEPS}
                   for mode, rs in runs.items()},
                "runs": runs,
            }
    print("\ndeploy -> first response, median of %d rounds (fresh node each)" % a.rounds)
    print(f"{'':8} {'step':16} {'no cache':>9} {'cache':>8} {'tiered':>8} {'x no cache':>11}   compile CPU: "
          f"{'no cache':>9} {'cache':>8} {'tiered':>8}")
    for lang, r in results.items():
        for s in STEPS:
            off, on, tiered = r["no cache"][s], r["cache"][s], r["tiered"][s]
            coff, con, ctier = (r[f"{m} compile cpu"][s] for m in MODES)
            print(f"{lang:8} {s:16} {off:8.2f}s {on:7.2f}s {tiered:7.2f}s {off / tiered:10.1f}x                "
                  f"{coff:8.1f}s {con:7.1f}s {ctier:7.1f}s")
    out = BUILD / "bench" / "deploy_cache.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
