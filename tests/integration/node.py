"""The real `build/fn0 serve` as a test fixture: a node on a free loopback
port with its own data directory, plus a small admin-API client."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from http_client import HttpClient, Reply

_LISTENING = re.compile(r"listening on http://([0-9.]+):(\d+)/")
TOKEN = "test-admin-token-0123456789"


class Node:
    def __init__(self, build_dir: Path, data_dir: Path, *args: str, token: str | None = TOKEN,
                 env: dict | None = None, preexec_fn=None, listen: str = "127.0.0.1:0"):
        self.build_dir, self.data_dir, self.args = Path(build_dir), Path(data_dir), list(args)
        self.listen = listen  # a fixed port lets a restarted node come back under the same address
        self.preexec_fn = preexec_fn  # e.g. to set resource limits on the node
        self.token = token
        self.env = dict(os.environ, **(env or {}))
        if token:
            self.env["FN0_ADMIN_TOKEN"] = token
        else:
            self.env.pop("FN0_ADMIN_TOKEN", None)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._out = bytearray()
        self._err = bytearray()

    def start(self, timeout: float = 30) -> "Node":
        cmd = [str(self.build_dir / "fn0"), "serve", "--listen", self.listen,
               "--data-dir", str(self.data_dir), *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env,
                                     preexec_fn=self.preexec_fn)
        found = threading.Event()

        def pump(stream, sink, watch):
            for line in stream:
                sink += line
                if watch and not found.is_set():
                    m = _LISTENING.search(line.decode(errors="replace"))
                    if m:
                        self.port = int(m.group(2))
                        found.set()

        threading.Thread(target=pump, args=(self.proc.stderr, self._err, True), daemon=True).start()
        threading.Thread(target=pump, args=(self.proc.stdout, self._out, False), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.05):
            if self.proc.poll() is not None:
                raise RuntimeError(f"fn0 serve exited {self.proc.returncode}:\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"fn0 serve did not start:\n{self.stderr()}")
        return self

    def stderr(self) -> str:
        return self._err.decode(errors="replace")

    def access_log(self) -> list[dict]:
        return [json.loads(l) for l in self._out.decode(errors="replace").splitlines() if l.startswith("{")]

    def access_log_lines(self, keep, count: int, timeout: float = 10) -> list[dict]:
        """The access-log lines `keep` accepts, once there are `count` of them:
        a line is written after its response went out, so a client can read
        the log before the last line is there."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [e for e in self.access_log() if keep(e)]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def client(self, timeout: float = 60) -> HttpClient:
        return HttpClient("127.0.0.1", self.port, timeout=timeout)

    def get(self, target: str, host: str | None = None, **kw) -> Reply:
        headers = list(kw.pop("headers", []))
        if host:
            headers.append(("Host", host))
        return self.client().request("GET", target, headers=headers, **kw)

    # ---- admin API ---------------------------------------------------------
    def api(self, method: str, path: str, body=None, token: str | None = "default",
            content_type: str | None = None, timeout: float = 60) -> Reply:
        headers = []
        tok = self.token if token == "default" else token
        if tok:
            headers.append(("Authorization", f"Bearer {tok}"))
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            content_type = content_type or "application/json"
        if content_type:
            headers.append(("Content-Type", content_type))
        if body is None and method in ("POST", "PUT"):
            body = b""
        return self.client(timeout).request(method, "/_fn0/api/v1" + path, body=body, headers=headers)

    def deploy(self, name: str, wasm: Path, live: bool = True) -> Reply:
        q = "" if live else "?live=false"
        # A JS component compiles for 5 s idle, minutes on a loaded 2-core machine.
        return self.api("POST", f"/functions/{name}/versions{q}", Path(wasm).read_bytes(),
                        content_type="application/wasm", timeout=300)

    def cli(self, *args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """`fn0 ARGS...` against this node (FN0_SERVER, FN0_TOKEN); output as bytes."""
        env = dict(os.environ, FN0_SERVER=f"http://127.0.0.1:{self.port}", FN0_TOKEN=self.token or "")
        return subprocess.run([str(self.build_dir / "fn0"), *args], input=stdin, capture_output=True, env=env,
                              timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else 0

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
