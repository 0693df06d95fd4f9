"""`fn0 --version` names fn0's version and the wasmtime it embeds, which must
be the same wasmtime as the reference host so comparisons are fair."""
from __future__ import annotations

import re
import subprocess


def run(build_dir, *args):
    return subprocess.run([str(build_dir / "fn0"), *args], capture_output=True, text=True)


def test_version_names_fn0_and_wasmtime(build_dir):
    r = run(build_dir, "--version")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"fn0 (\d+\.\d+\.\d+) \(wasmtime (\d+\.\d+\.\d+)\)\n", r.stdout)
    assert m, r.stdout
    ref = subprocess.run(["wasmtime", "--version"], capture_output=True, text=True, check=True).stdout
    assert ref.split()[1] == m.group(2), f"reference host {ref!r} != embedded {m.group(2)}"


def test_help_exits_zero_and_shows_an_example(build_dir):
    r = run(build_dir, "--help")
    assert r.returncode == 0
    assert "Example" in r.stdout


def test_unknown_flag_is_a_usage_error(build_dir):
    r = run(build_dir, "--no-such-flag")
    assert r.returncode == 2
    assert "no-such-flag" in r.stderr
