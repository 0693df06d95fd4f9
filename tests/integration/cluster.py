"""A small cluster for tests: PostgreSQL + versitygw (both real, on loopback,
from tests/servers/) and fn0 nodes sharing them, each with its own data
directory, all with the same admin token and cluster key."""
from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))

from node import Node  # noqa: E402
from postgres import Postgres  # noqa: E402
from s3 import VersityGW  # noqa: E402
from haproxy import HAProxy  # noqa: E402


C_BODY = b"Hello from fn0 (C)!\n"
JS_BODY = b"Hello from fn0 (JavaScript)!\n"


class Cluster:
    def __init__(self, build_dir: Path, workdir: Path):
        self.build_dir, self.workdir = Path(build_dir), Path(workdir)
        self.pg = Postgres().start()
        self.s3 = VersityGW(self.workdir / "s3").start()
        self.bucket = "fn0-" + secrets.token_hex(4)
        self.s3.create_bucket(self.bucket)
        self.key_file = self.workdir / "cluster.key"
        self.key_file.write_text(secrets.token_hex(32) + "\n")
        # The keys that seal secrets in the registry: one file for every node,
        # as in a real cluster (a node with another key is refused at start).
        self.secrets_key_file = self.workdir / "secrets.key"
        subprocess.run([str(self.build_dir / "fn0"), "secrets-key", "add", "--secrets-key-file",
                        str(self.secrets_key_file)], check=True, capture_output=True)
        self.nodes: list[Node] = []
        self.default_args: list[str] = []  # given to every node this cluster starts
        self.balancers: list[HAProxy] = []

    def node_args(self, *extra: str, key: bool = True, secrets_key: bool = True) -> list[str]:
        args = ["--registry", self.pg.url(), "--store", self.s3.url(self.bucket), *self.default_args]
        if key:
            args += ["--cluster-key-file", str(self.key_file)]
        if secrets_key:
            args += ["--secrets-key-file", str(self.secrets_key_file)]
        return args + list(extra)

    def node(self, name: str, *extra: str, key: bool = True, secrets_key: bool = True, env: dict | None = None,
             start: bool = True, listen: str = "127.0.0.1:0") -> Node:
        n = Node(self.build_dir, self.workdir / name, *self.node_args(*extra, key=key, secrets_key=secrets_key),
                 env=dict(self.s3.env(), **(env or {})), listen=listen)
        self.nodes.append(n)
        return n.start() if start else n

    def balancer(self, nodes: list[Node], balance: str = "roundrobin") -> HAProxy:
        """haproxy in front of `nodes` (n1, n2, ... in that order), all of them UP."""
        h = HAProxy([("127.0.0.1", n.port) for n in nodes], workdir=self.workdir / f"haproxy{len(self.balancers)}",
                    balance=balance)
        self.balancers.append(h)
        h.start()
        h.wait_states({f"n{i + 1}": "UP" for i in range(len(nodes))}, timeout=10)
        return h

    def artifact_objects(self) -> list[Path]:
        root = self.s3.object_path(self.bucket, "artifacts")
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    def close(self) -> None:
        for h in self.balancers:
            h.kill()
        for n in self.nodes:
            n.kill()
        self.s3.kill()
        self.pg.destroy()


def wait_shared(node: Node, uploads: int) -> None:
    """Until `node` has shared `uploads` artifacts. A big component (a
    JavaScript one) is compiled by the baseline compiler at its deploy, and
    its optimized artifact is shared when the background compile made it."""
    wait_for(lambda: metric(node, "fn0_artifact_uploads_total") >= uploads, timeout=180)


def node_id(node: Node) -> str:
    """How the cluster names a node: its advertised address (here: where it listens)."""
    return f"127.0.0.1:{node.port}"


def members(node: Node) -> dict[str, dict]:
    """The cluster as `node` sees it, by node id."""
    import json
    return {m["id"]: m for m in json.loads(node.api("GET", "/cluster").body)["nodes"]}


def metric(node: Node, name: str) -> float:
    body = node.get("/_fn0/metrics").body.decode()
    m = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", body, re.M)
    assert m, f"no metric {name} in:\n{body}"
    return float(m.group(1))


def wait_for(pred, timeout: float = 10.0, every: float = 0.002):
    """Polls `pred` until it is truthy; returns (value, seconds taken)."""
    start = time.monotonic()
    while True:
        v = pred()
        if v:
            return v, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(every)
