"""Shared fixtures: where the build put things, and the reference host."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reference_host import ReferenceHost  # noqa: E402

BUILD_DIR = Path(os.environ.get("FN0_BUILD_DIR", Path(__file__).parents[2] / "build")).resolve()


@pytest.fixture(scope="session")
def build_dir() -> Path:
    return BUILD_DIR


@pytest.fixture(scope="session")
def examples_dir(build_dir: Path) -> Path:
    d = build_dir / "examples"
    if not d.is_dir():
        pytest.fail(f"{d} missing: run `make examples` first")
    return d


@pytest.fixture
def reference_host():
    """Factory: reference_host(path) -> a started ReferenceHost, stopped after
    the test."""
    started: list[ReferenceHost] = []

    def start(component: Path, **kw) -> ReferenceHost:
        host = ReferenceHost(component, **kw).start()
        started.append(host)
        return host

    yield start
    for host in started:
        host.stop()


@pytest.fixture(scope="session")
def guests_dir(build_dir: Path) -> Path:
    d = build_dir / "tests" / "guests"
    if not d.is_dir():
        pytest.fail(f"{d} missing: run `make test` (it builds the test guests)")
    return d


@pytest.fixture
def node_factory(build_dir, tmp_path):
    """node_factory(*args, data_dir=..., token=...) -> a started Node, stopped after the test."""
    from node import Node

    started = []

    def make(*args, data_dir=None, token="default", **kw):
        kwargs = dict(kw)
        if token != "default":
            kwargs["token"] = token
        n = Node(build_dir, data_dir or tmp_path / f"data{len(started)}", *args, **kwargs).start()
        started.append(n)
        return n

    yield make
    for n in started:
        n.kill()


@pytest.fixture
def node(node_factory):
    return node_factory()


@pytest.fixture
def cluster(build_dir: Path, tmp_path: Path):
    """PostgreSQL + versitygw on loopback and a factory for nodes sharing them
    (cluster.py); everything is stopped after the test."""
    from cluster import Cluster
    c = Cluster(build_dir, tmp_path)
    yield c
    c.close()
