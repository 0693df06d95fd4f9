"""Shared fixtures: where the build put things, and the reference host."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reference_host import ReferenceHost  # noqa: E402

BUILD_DIR = Path(os.environ.get("FN0_BUILD_DIR", Path(__file__).parents[2] / "build"))


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
