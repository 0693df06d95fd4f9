#!/usr/bin/env python3
"""`make bench`, the edit loop: how long `fn0 dev` takes from saving a file to
serving the new response, for a js, a ts and a c project made by `fn0 new`,
against the reference measured in the same run: a full `fn0 build` of the
same project (what a reload cost before the dev engine: componentize, then a
compile of the ~13 MB component by the node on top).

Also: `fn0 deploy` of the js project, cold (new source) and unchanged.
Writes build/bench/dev_loop.json.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("FN0_BUILD_DIR", ROOT / "build")).resolve()
FN0 = BUILD / "fn0"
EDITS = int(os.environ.get("FN0_BENCH_EDITS", "5"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from node import Node, TOKEN  # noqa: E402

SOURCES = {"js": "src/index.js", "ts": "src/index.ts", "c": "src/handler.c"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.read().decode()
    except Exception:
        return ""


def edit_loop(root: Path, template: str) -> dict:
    name = f"loop-{template}"
    subprocess.run([str(FN0), "new", name, "--template", template], cwd=root, check=True, capture_output=True)
    proj = root / name
    port = free_port()
    dev = subprocess.Popen([str(FN0), "dev", "--port", str(port)], cwd=proj, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    threading.Thread(target=lambda: [err.append(line) for line in dev.stderr], daemon=True).start()
    url = f"http://127.0.0.1:{port}/{name}/"
    try:
        t0 = time.monotonic()
        while "from" not in get(url):
            if time.monotonic() - t0 > 600 or dev.poll() is not None:
                raise RuntimeError("fn0 dev never served:\n" + "".join(err))
            time.sleep(0.05)
        first = time.monotonic() - t0
        src = proj / SOURCES[template]
        times = []
        for i in range(EDITS):
            marker = f"Edit{i}x"
            text = re.sub(r"from (Edit\d+x )?", f"from {marker} ", src.read_text(), count=1)
            src.write_text(text)
            t0 = time.monotonic()
            while marker not in get(url):
                if time.monotonic() - t0 > 600:
                    raise RuntimeError("an edit never showed:\n" + "".join(err))
                time.sleep(0.02)
            times.append(time.monotonic() - t0)
            time.sleep(0.3)
    finally:
        dev.send_signal(signal.SIGINT)
        try:
            dev.wait(timeout=30)
        except subprocess.TimeoutExpired:
            dev.kill()
    t0 = time.monotonic()
    subprocess.run([str(FN0), "build"], cwd=proj, check=True, capture_output=True)
    full_build = time.monotonic() - t0
    return {"first_response_s": first, "edit_s": statistics.median(times), "edits_s": times,
            "full_build_s": full_build, "proj": str(proj)}


def deploy_times(root: Path, proj: Path) -> dict:
    node = Node(BUILD, root / "deploy-node").start()
    env = dict(os.environ, FN0_SERVER=f"http://127.0.0.1:{node.port}", FN0_TOKEN=TOKEN)
    try:
        src = proj / SOURCES["js"]
        src.write_text(src.read_text().replace("from ", "from deployed ", 1))
        out = {}
        for what in ("new source", "unchanged"):
            t0 = time.monotonic()
            subprocess.run([str(FN0), "deploy"], cwd=proj, env=env, check=True, capture_output=True)
            out[what] = time.monotonic() - t0
        return out
    finally:
        node.kill()


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory(prefix="fn0-devloop-") as tmp:
        root = Path(tmp)
        for template in ("js", "ts", "c"):
            results[template] = edit_loop(root, template)
        results["deploy_js"] = deploy_times(root, Path(results["js"]["proj"]))
    print("\nfn0 dev: save -> new response (median of %d edits), vs a full `fn0 build` of the same project" % EDITS)
    print(f"{'project':8} {'edit':>9} {'full build':>11} {'ratio':>7} {'first response':>15}")
    for t in ("js", "ts", "c"):
        r = results[t]
        print(f"{t:8} {r['edit_s'] * 1000:7.0f}ms {r['full_build_s']:10.1f}s {r['full_build_s'] / r['edit_s']:6.0f}x"
              f" {r['first_response_s']:14.1f}s")
    d = results["deploy_js"]
    print(f"fn0 deploy (js): new source {d['new source']:.1f} s, unchanged {d['unchanged']:.1f} s")
    out = BUILD / "bench" / "dev_loop.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    for r in results.values():
        r.pop("proj", None)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
