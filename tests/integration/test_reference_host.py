"""The reference-host fixture itself: it must start, fail loudly, and clean up."""
from __future__ import annotations

import pytest

from reference_host import ReferenceHost


def test_two_hosts_get_distinct_free_ports(examples_dir):
    path = examples_dir / "hello-c.wasm"
    with ReferenceHost(path) as a, ReferenceHost(path) as b:
        assert a.port and b.port and a.port != b.port
        assert a.client().get("/").status == 200
        assert b.client().get("/").status == 200


def test_a_broken_component_fails_with_the_host_log(tmp_path):
    bogus = tmp_path / "not-wasm.wasm"
    bogus.write_bytes(b"this is not webassembly")
    with pytest.raises(RuntimeError) as err:
        ReferenceHost(bogus, start_timeout=60).start()
    assert "exited" in str(err.value)


def test_stop_ends_the_process(examples_dir):
    host = ReferenceHost(examples_dir / "hello-c.wasm").start()
    host.stop()
    assert host.proc.poll() is not None
