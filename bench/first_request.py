#!/usr/bin/env python3
"""Guest CPU time of the first request after a restart, against the next
ones: what one-time start-up work (page faults of a freshly mapped
artifact, lazy initialisation) charges to a request's CPU budget.

    bench/first_request.py [FN0_BINARY [EXAMPLES_DIR]] [--cold file|all] [--rounds N] [--next N]

(default: this build's, FN0_BUILD_DIR or build/: `make bench` runs it so)

Deploys hello-js, echo-js and hello-ts once into a fresh data directory,
then per round: stops the node, makes the page cache cold (`--cold file`:
evicts the artifacts only, with posix_fadvise; `--cold all`: drops the
whole page cache, `echo 3 > /proc/sys/vm/drop_caches`, root only; default:
leaves it warm), starts the node, sends one request to each function and
`--next` more, and reads each request's guest CPU (`cpu_us`) and
instantiation time (`instantiate_us`) from the access log.
"""
from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time

TOKEN = "bench-token-0123456789abcdef"
FUNCTIONS = [("hello-js", "GET", None), ("echo-js", "POST", b"hello echo " * 10), ("hello-ts", "GET", None)]


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, binary: str, data: str):
        self.binary, self.data, self.port = binary, data, free_port()

    def start(self) -> "Node":
        env = dict(os.environ, FN0_ADMIN_TOKEN=TOKEN)
        # The optimized artifacts are what is measured, not tiered
        # compilation's baseline ones (a node stopped mid-optimization).
        self.proc = subprocess.Popen([self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
                                      self.data, "--no-tiered-compile"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        for _ in range(300):
            try:
                if self.request("GET", "/_fn0/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the node did not start")

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()

    def stop(self) -> list[dict]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        return [json.loads(l) for l in out.decode().splitlines() if l.startswith("{")]


def make_cold(how: str, data: str) -> None:
    if how == "all":
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    elif how == "file":
        for path in glob.glob(f"{data}/artifacts/*.cwasm"):
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build = os.environ.get("FN0_BUILD_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    ap.add_argument("binary", nargs="?", default=os.path.join(build, "fn0"))
    ap.add_argument("examples", nargs="?", default=os.path.join(build, "examples"))
    ap.add_argument("--cold", choices=["file", "all"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--next", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fn0-first-request-") as data:
        node = Node(a.binary, data).start()
        for name, _, _ in FUNCTIONS:
            with open(f"{a.examples}/{name}.wasm", "rb") as f:
                status, body = node.request("POST", f"/_fn0/api/v1/functions/{name}/versions", f.read(),
                                            {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/wasm"})
            assert status == 201, (name, status, body)
        node.stop()
        firsts = {n: [] for n, _, _ in FUNCTIONS}
        nexts = {n: [] for n, _, _ in FUNCTIONS}
        for r in range(a.rounds):
            make_cold(a.cold, data)
            node = Node(a.binary, data).start()
            try:
                for name, method, body in FUNCTIONS:
                    for i in range(1 + a.next):
                        status, answer = node.request(method, f"/{name}/", body)
                        if status != 200:
                            print(f"  {name} request {i}: {status} {answer[:200]!r}")
            finally:
                log = node.stop()
            for name, _, _ in FUNCTIONS:
                lines = [l for l in log if l.get("function") == name]
                cpu = [int(l.get("cpu_us", -1)) for l in lines]
                firsts[name].append(cpu[0])
                nexts[name] += cpu[1:]
                print(f"round {r} {name}: first cpu_us {cpu[0]} (instantiate_us {lines[0].get('instantiate_us')}, "
                      f"{lines[0].get('outcome')}), next {cpu[1:]}")
        print(f"guest CPU per request, µs (page cache: {a.cold or 'warm'}):")
        for name, _, _ in FUNCTIONS:
            print(f"  {name}: first {firsts[name]} (median {statistics.median(firsts[name]):.0f}), "
                  f"next median {statistics.median(nexts[name]):.0f}, max {max(nexts[name])}")


if __name__ == "__main__":
    main()
