"""A real S3 server for tests: versitygw (posix backend, enforces SigV4) on a
free loopback port with a random access key and secret. A bucket is a
directory under <workdir>/.root, an object a file below it (object_path), so
a test can tamper with what the server stores."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_versitygw() -> str:
    cache = Path(os.environ.get("FN0_CACHE", Path.home() / ".cache/fn0"))
    found = shutil.which("versitygw") or shutil.which("versitygw", path=str(cache / "tools/bin"))
    if not found:
        raise RuntimeError("versitygw is not on PATH (nor in ~/.cache/fn0/tools/bin): run scripts/setup.sh --test, "
                           "which installs it with `go install`")
    return found


class VersityGW:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.root = self.workdir / ".root"
        self.port = free_port()
        self.access_key = "fn0" + secrets.token_hex(8)
        self.secret_key = secrets.token_urlsafe(24)
        self.binary = find_versitygw()
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "VersityGW":
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "versitygw.log", "ab")
        # Keys through the environment, not argv (visible in ps).
        env = {**os.environ, "ROOT_ACCESS_KEY_ID": self.access_key, "ROOT_SECRET_ACCESS_KEY": self.secret_key}
        self.proc = subprocess.Popen(
            [self.binary, "--port", f"127.0.0.1:{self.port}", "--quiet", "posix", str(self.root)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"versitygw exited ({self.proc.returncode}):\n{self.log()}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"versitygw did not answer on {self.endpoint} within 15 s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                return s.recv(12).startswith(b"HTTP/1.")
        except OSError:
            return False

    def stop(self) -> None:
        processes.stop(self.proc)
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> "VersityGW":
        """Same port, keys and data."""
        self.stop()
        return self.start()

    def create_bucket(self, name: str) -> None:
        # The posix backend serves every directory under its root as a bucket.
        (self.root / name).mkdir(parents=True, exist_ok=True)

    def url(self, bucket: str) -> str:
        return f"s3://{bucket}?endpoint={self.endpoint}"

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_REGION": "us-east-1"}

    def object_path(self, bucket: str, key: str) -> Path:
        return self.root / bucket / key

    def log(self) -> str:
        p = self.workdir / "versitygw.log"
        return p.read_text(errors="replace")[-4000:] if p.exists() else ""
