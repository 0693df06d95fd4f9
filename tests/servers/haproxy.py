#!/usr/bin/env python3
"""A real haproxy (Debian's 2.6) in front of fn0 nodes, on loopback: for
tests (the HAProxy class) and for scripts/cluster.sh, which takes its config
from this file so both run the same one:

    haproxy.py --config --port P --socket S [--balance B] NAME=HOST:PORT...
    haproxy.py --servers SOCKET      # one "NAME STATE" line per backend server

haproxy runs in the foreground (-db) under Popen, as whoever runs the tests
(root is fine: no user, group or chroot is configured), and logs every
request and every health-check change to <workdir>/haproxy.log."""
from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import processes

BINARY = os.environ.get("FN0_HAPROXY", "/usr/sbin/haproxy")
BALANCES = ("roundrobin", "leastconn")
BACKEND = "nodes"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(port: int, servers: list[tuple[str, str, int]], sock: str, balance: str = "roundrobin") -> str:
    if balance not in BALANCES:
        raise ValueError(f"balance {balance!r}: use one of {', '.join(BALANCES)}")
    lines = [
        "global",
        "  log stdout format raw local0",
        f"  stats socket {sock} mode 600 level admin",
        # Without it haproxy sizes itself from `ulimit -n`, which can be huge.
        "  maxconn 4096",
        "",
        "defaults",
        "  mode http",
        "  log global",
        "  option httplog",
        "  option http-keep-alive",
        # A connect refused by a dead node is tried once more, on another
        # server: requests keep working in the ~1 s before checks mark it DOWN.
        "  retries 1",
        "  option redispatch",
        "  timeout connect 1s",
        "  timeout client 60s",
        "  timeout server 60s",
        "  timeout http-request 10s",
        "",
        "frontend fn0",
        f"  bind 127.0.0.1:{port}",
        f"  default_backend {BACKEND}",
        "",
        f"backend {BACKEND}",
        f"  balance {balance}",
        # readyz answers 503 while a node shuts down, so it leaves the
        # rotation before it stops accepting. HTTP/1.1 with a Host: fn0
        # answers 400 to haproxy's default HTTP/1.0 check, which has none.
        "  option httpchk GET /_fn0/readyz HTTP/1.1",
        "  http-check send hdr Host fn0-check",
        "  default-server inter 500ms fall 2 rise 1",
        # A deploy answers once compiled: a JavaScript one took 48 s on a busy
        # 2-core machine, and a node allows --compile-timeout-s (300).
        "  http-request set-timeout server 330s if METH_POST { path_reg ^/_fn0/api/v1/functions/[^/]+/versions$ }",
    ]
    lines += [f"  server {name} {host}:{p} check" for name, host, p in servers]
    return "\n".join(lines) + "\n"


def admin(sock: str, command: str, timeout: float = 5) -> str:
    """One command on the stats socket; haproxy closes it after answering."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(sock)
        s.sendall(command.encode() + b"\n")
        out = bytearray()
        while chunk := s.recv(65536):
            out += chunk
    return out.decode(errors="replace")


def server_stats(sock: str) -> list[dict[str, str]]:
    """`show stat` rows of the backend's servers (CSV; status, stot, ...)."""
    text = admin(sock, "show stat").lstrip("# ")
    rows = csv.DictReader(io.StringIO(text))
    return [r for r in rows if r["pxname"] == BACKEND and r["svname"] not in ("FRONTEND", "BACKEND")]


def server_states(sock: str) -> dict[str, str]:
    # "UP 1/2" is still UP (one failed check of two); "DOWN 1/1" still DOWN.
    return {r["svname"]: r["status"].split()[0] for r in server_stats(sock)}


class HAProxy:
    """backends: (host, port) pairs, named n1, n2, ... in order, or (name,
    host, port) triples."""

    def __init__(self, backends, workdir: Path | None = None, balance: str = "roundrobin",
                 port: int | None = None):
        self.backends = [(b if len(b) == 3 else (f"n{i + 1}", *b)) for i, b in enumerate(backends)]
        self.backends = [(n, h, int(p)) for n, h, p in self.backends]
        self.balance = balance
        self._own_dir = workdir is None
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="fn0-haproxy-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        # A unix socket path is at most 107 bytes; a deep workdir falls back to /tmp.
        sock = self.dir / "haproxy.sock"
        self.sock = str(sock) if len(str(sock)) < 100 else tempfile.mkdtemp(prefix="fn0-hap-") + "/haproxy.sock"
        self.cfg = self.dir / "haproxy.cfg"
        self.cfg.write_text(config(self.port, self.backends, self.sock, balance))
        self.logfile = self.dir / "haproxy.log"
        self.proc: subprocess.Popen | None = None
        if not Path(BINARY).exists():
            raise RuntimeError(f"haproxy is not installed ({BINARY} missing): run scripts/setup.sh")

    def check(self) -> None:
        """`haproxy -c`: raises with haproxy's complaint if the config is invalid."""
        r = subprocess.run([BINARY, "-c", "-f", str(self.cfg)], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"haproxy -c failed:\n{r.stdout}{r.stderr}")

    def start(self, timeout: float = 10) -> "HAProxy":
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([BINARY, "-db", "-f", str(self.cfg)], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited ({self.proc.returncode}):\n{self.log()}")
            if self._answers():
                return self
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"haproxy did not answer on {self.url()} and {self.sock} within {timeout} s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            server_stats(self.sock)
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET /_fn0/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                return s.recv(12).startswith(b"HTTP/1.")
        except OSError:
            return False

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def servers(self) -> dict[str, str]:
        """{server name: "UP" | "DOWN" | "MAINT" | ...} as haproxy sees them now."""
        return server_states(self.sock)

    def stats(self) -> list[dict[str, str]]:
        return server_stats(self.sock)

    def wait_states(self, want: dict[str, str], timeout: float = 10) -> float:
        """Polls until every named server is in the wanted state; returns the seconds it took."""
        start = time.monotonic()
        while True:
            now = self.servers()
            if all(now.get(n) == s for n, s in want.items()):
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"haproxy servers {now}, wanted {want} within {timeout} s:\n{self.log()}")
            time.sleep(0.02)

    def log(self) -> str:
        return self.logfile.read_text(errors="replace")[-4000:] if self.logfile.exists() else ""

    def stop(self) -> None:
        processes.stop(self.proc)
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def destroy(self) -> None:
        self.kill()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="haproxy config for fn0 nodes, or the state of its servers")
    ap.add_argument("--config", action="store_true", help="print the config")
    ap.add_argument("--servers", metavar="SOCKET", help="print each backend server's state, via the stats socket")
    ap.add_argument("--port", type=int, help="frontend port on 127.0.0.1")
    ap.add_argument("--socket", help="stats socket path")
    ap.add_argument("--balance", default="roundrobin", choices=BALANCES)
    ap.add_argument("backends", nargs="*", metavar="NAME=HOST:PORT")
    a = ap.parse_args(argv)
    if a.servers:
        for name, state in server_states(a.servers).items():
            print(name, state)
        return 0
    if not (a.config and a.port and a.socket and a.backends):
        ap.error("--config needs --port, --socket and at least one NAME=HOST:PORT")
    servers = []
    for b in a.backends:
        name, _, addr = b.partition("=")
        host, _, port = addr.rpartition(":")
        if not (name and host and port.isdigit()):
            ap.error(f"backend {b!r}: want NAME=HOST:PORT")
        servers.append((name, host, int(port)))
    sys.stdout.write(config(a.port, servers, a.socket, a.balance))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
