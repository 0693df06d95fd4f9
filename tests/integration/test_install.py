"""An installed fn0 (`make install`, i.e. cmake --install with
cmake/install.cmake) builds and deploys projects outside the checkout, from
its own files only, and keeps working when its prefix is moved. The service
examples (packaging/) are checked with the tools that are here.

The install is of this test run's build (the install rules are the same as
`make install`'s, which builds a Release fn0 of its own first)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from node import Node, TOKEN

REPO = Path(__file__).resolve().parents[2]
EXPECTED = {"c": b"Hello from app-c!\n", "js": b"Hello from app-js!\n"}


def install(build_dir: Path, prefix: Path) -> None:
    r = subprocess.run(["cmake", "--install", str(build_dir), "--prefix", str(prefix), "--strip"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


def clean_env(prefix: Path, home: Path, node: Node | None = None) -> dict:
    """The environment of a user who has only the install: PATH has its bin/
    and the system's folders (node, clang-16), no checkout, no fn0 cache, no
    FN0_* variable, another HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FN0_")}
    env.update(PATH=f"{prefix}/bin:/usr/bin:/bin", HOME=str(home))
    env.pop("XDG_CACHE_HOME", None)
    env.pop("CARGO_TARGET_DIR", None)
    if node:
        env.update(FN0_SERVER=f"http://127.0.0.1:{node.port}", FN0_TOKEN=TOKEN)
    return env


def fn0(prefix: Path, cwd: Path, *args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["fn0", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def check_doctor(prefix: Path, work: Path, env: dict) -> dict:
    r = fn0(prefix, work, "doctor", "--json", env=env)
    doc = json.loads(r.stdout)
    where = doc["toolchains"]
    assert where["layout"] == "installed" and where["root"] == str(prefix), where
    # Every file fn0 brings along is looked for inside the prefix.
    for key in ("tools_bin", "js_tools", "wit_c", "wit_js", "preview1_adapter", "go_wit_runtime",
                "componentize_py"):
        assert where[key].startswith(f"{prefix}/"), (key, where[key])
    langs = {l["language"]: l for l in doc["languages"]}
    for lang in ("c", "js", "ts"):
        assert langs[lang]["ready"], langs[lang]
    return langs


def new_build_deploy(prefix: Path, work: Path, node: Node, template: str, env: dict) -> dict:
    name = f"app-{template}"
    if not (work / name).exists():
        r = fn0(prefix, work, "new", name, "--template", template, env=env)
        assert r.returncode == 0, r.stderr
    proj = work / name
    b = fn0(prefix, proj, "build", env=env)
    assert b.returncode == 0, b.stderr + b.stdout
    d = fn0(prefix, proj, "deploy", "--json", env=clean_env(prefix, env["HOME"], node))
    assert d.returncode == 0, d.stdout + d.stderr
    deployed = json.loads(d.stdout)
    assert deployed["function"] == name, deployed
    deployed["build_stderr"] = b.stderr
    return deployed


def test_installed_fn0_builds_and_deploys_outside_the_checkout(build_dir, tmp_path):
    prefix = tmp_path / "prefix"
    install(build_dir, prefix)
    assert (prefix / "bin/fn0").is_file()
    # --strip: no symbol table left in the installed binary.
    nm = subprocess.run(["nm", str(prefix / "bin/fn0")], capture_output=True, text=True)
    assert "no symbols" in nm.stderr, nm.stderr[:200]
    # The JS tools' .bin links stay relative, so they move with the prefix.
    esbuild = prefix / "share/fn0/js/node_modules/.bin/esbuild"
    assert esbuild.is_symlink() and not os.readlink(esbuild).startswith("/"), os.readlink(esbuild)

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = clean_env(prefix, home)
    langs = check_doctor(prefix, work, env)
    if (Path(os.environ.get("FN0_CACHE", Path.home() / ".cache/fn0")) / "tools/componentize-py").is_dir():
        assert langs["python"]["ready"], langs["python"]  # copied out of setup.sh's venv

    node = Node(prefix / "bin", tmp_path / "data").start()
    try:
        for template in ("c", "js"):
            new_build_deploy(prefix, work, node, template, env)
            reply = node.get(f"/app-{template}/")
            assert reply.status == 200 and reply.body == EXPECTED[template], (reply.status, reply.body)

        # Moved: everything follows the prefix (the old one is gone). The
        # node is started again from there: a running node starts its
        # compile workers from the path it was started from.
        node.stop()
        moved = tmp_path / "elsewhere" / "fn0"
        moved.parent.mkdir()
        prefix.rename(moved)
        node = Node(moved / "bin", tmp_path / "data").start()
        assert node.get("/app-c/").body == EXPECTED["c"]  # deployed before the move
        env = clean_env(moved, home)
        check_doctor(moved, work, env)
        shutil.rmtree(work / "app-c")
        c = new_build_deploy(moved, work, node, "c", env)
        assert node.get("/app-c/").body == EXPECTED["c"]
        # The JS project built anew (no build/ left), with another greeting.
        shutil.rmtree(work / "app-js" / "build")
        toml = work / "app-js" / "fn0.toml"
        toml.write_text(toml.read_text().replace('GREETING = "Hello"', 'GREETING = "Moved"'))
        js = new_build_deploy(moved, work, node, "js", env)
        assert "componentize-js is embedding" in js["build_stderr"], js["build_stderr"]
        assert node.get("/app-js/").body == b"Moved from app-js!\n"
        assert c["function"] == "app-c"
    finally:
        node.stop()


def test_the_systemd_unit_verifies(build_dir, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed here (Debian package systemd)")
    unit = (REPO / "packaging/systemd/fn0.service").read_text()
    assert "ExecStart=/usr/local/bin/fn0 serve" in unit
    # verify checks that ExecStart's program exists: point it at this build's.
    path = tmp_path / "fn0.service"
    path.write_text(unit.replace("/usr/local/bin/fn0", str(build_dir / "fn0")))
    r = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, timeout=60)
    # Lines about other units on this machine are not this unit's business.
    ours = [l for l in (r.stdout + r.stderr).splitlines() if "fn0.service" in l]
    assert r.returncode == 0 and not ours, r.stdout + r.stderr


def container_engine() -> str | None:
    """docker or podman, if one here can build (a client alone cannot)."""
    for tool in ("podman", "docker"):
        if shutil.which(tool) and subprocess.run([tool, "info"], capture_output=True, timeout=30).returncode == 0:
            return tool
    return None


def test_the_container_image_builds_and_serves(tmp_path):
    if os.environ.get("FN0_TEST_CONTAINER") != "1":
        pytest.skip("building the image takes about half an hour: FN0_TEST_CONTAINER=1 asks for it")
    engine = container_engine()
    if not engine:
        pytest.skip("no container engine that can build here (docker/podman without a daemon)")
    tag = "fn0-test:latest"
    b = subprocess.run([engine, "build", "-f", str(REPO / "packaging/container/Containerfile"), "-t", tag, str(REPO)],
                       capture_output=True, text=True, timeout=7200)
    assert b.returncode == 0, b.stdout[-4000:] + b.stderr[-4000:]
    r = subprocess.run([engine, "run", "--rm", tag, "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("fn0 "), r.stdout + r.stderr
