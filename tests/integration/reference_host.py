"""The reference host as a test fixture: `wasmtime serve` on a free loopback
port, serving one component. Later tests send the same requests to fn0 and to
this host and compare the answers.

Configured like fn0 runs guests: pooling allocator, a fresh instance per
request (wasmtime serve's default for WASIp2), and `-Scli` so components made
through the WASI preview1 adapter (which import wasi:cli, wasi:filesystem, ...)
link.
"""
from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

from http_client import HttpClient

_SERVING = re.compile(rb"Serving HTTP on http://([0-9.]+):(\d+)/")


class ReferenceHost:
    def __init__(self, component: Path, *, extra_args: list[str] | None = None,
                 start_timeout: float = 120.0):
        self.component = Path(component)
        self.args = [
            "wasmtime", "serve",
            "--addr", "127.0.0.1:0",       # the kernel picks a free port
            "-O", "pooling-allocator=y",
            "-Scli",
            "-Skeyvalue",  # an in-memory store for components that import wasi:keyvalue
            *(extra_args or []),
            str(self.component),
        ]
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = bytearray()
        self._log_lock = threading.Lock()

    def start(self) -> "ReferenceHost":
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        found = threading.Event()

        def pump() -> None:
            assert self.proc and self.proc.stdout
            for line in self.proc.stdout:
                with self._log_lock:
                    self._log += line
                m = _SERVING.search(line)
                if m and not found.is_set():
                    self.port = int(m.group(2))
                    found.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + self.start_timeout
        while not found.wait(0.05):
            if self.proc.poll() is not None:
                raise RuntimeError(f"wasmtime serve exited {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"wasmtime serve did not start:\n{self.log()}")
        return self

    def log(self) -> str:
        with self._log_lock:
            return self._log.decode(errors="replace")

    def client(self) -> HttpClient:
        assert self.port is not None, "not started"
        return HttpClient("127.0.0.1", self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "ReferenceHost":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
