"""Project commands: `fn0 new` for each template, `fn0 build`, `fn0 deploy`
from the project folder, and `fn0 dev` rebuilding on a change."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from node import TOKEN
from http_client import free_port, fetch

EXPECTED = {"c": b"Hello from app-c!\n", "js": b"Hello from app-js!\n"}


def run(build_dir, cwd, *args, node=None, timeout=300):
    env = dict(os.environ)
    if node:
        env.update(FN0_SERVER=f"http://127.0.0.1:{node.port}", FN0_TOKEN=TOKEN)
    return subprocess.run([str(build_dir / "fn0"), *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.mark.parametrize("template", ["c", "js", "ts"])
def test_new_build_deploy_and_logs(build_dir, tmp_path, node, template):
    name = f"app-{template}"
    r = run(build_dir, tmp_path, "new", name, "--template", template)
    assert r.returncode == 0, r.stderr
    proj = tmp_path / name
    assert (proj / "fn0.toml").is_file() and (proj / "README.md").is_file()
    if template == "c":
        assert "wasi:http/proxy@0.2." in (proj / "wit" / "world.wit").read_text()
    else:  # JS/TS projects build against fn0's own world unless they bring one
        assert not (proj / "wit").exists()
    b = run(build_dir, proj, "build")
    assert b.returncode == 0, b.stderr + b.stdout
    assert (proj / "build" / f"{name}.wasm").is_file()
    d = run(build_dir, proj, "deploy", "--json", node=node)
    assert d.returncode == 0, d.stderr
    first = json.loads(d.stdout)
    assert first["function"] == name
    # Built again from the same sources: the same bytes, so no new version.
    again = run(build_dir, proj, "deploy", "--json", node=node)
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["version"] == first["version"] and second["created"] is False, second
    reply = node.get(f"/{name}/hi")
    assert reply.status == 200
    if template == "ts":
        assert json.loads(reply.body) == {"message": f"Hello from {name}!", "path": "/hi"}
    else:
        assert reply.body == EXPECTED[template]
    if template in ("js", "ts"):
        # The counter in the function's key-value bucket, also seen by `fn0 kv`.
        counts = [json.loads(node.get(f"/{name}/count").body)["visits"] for _ in range(3)]
        assert counts == [1, 2, 3]
        kv = run(build_dir, proj, "kv", name, "get", "visits", node=node)
        assert kv.returncode == 0 and kv.stdout == "3", kv.stderr
    time.sleep(0.3)
    logs = run(build_dir, proj, "logs", name, node=node)
    assert reply.header("fn0-request-id") in logs.stdout, logs.stdout


def test_project_errors(build_dir, tmp_path):
    r = run(build_dir, tmp_path, "build")
    assert r.returncode == 1 and "no fn0.toml" in r.stderr
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    r = run(build_dir, tmp_path, "new", "taken")
    assert r.returncode == 2 and "not empty" in r.stderr
    r = run(build_dir, tmp_path, "new", "Bad_Name")
    assert r.returncode == 2


def test_dev_serves_and_reloads_on_change(build_dir, tmp_path):
    assert run(build_dir, tmp_path, "new", "live", "--template", "c").returncode == 0
    proj = tmp_path / "live"
    port = free_port()
    dev = subprocess.Popen([str(build_dir / "fn0"), "dev", "--port", str(port)], cwd=proj,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/live/"
        deadline = time.monotonic() + 60
        while fetch(url) != b"Hello from live!\n" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert fetch(url) == b"Hello from live!\n"
        handler = proj / "src" / "handler.c"
        handler.write_text(handler.read_text().replace("Hello from live!", "Edited live!"))
        deadline = time.monotonic() + 60
        while fetch(url) != b"Edited live!\n" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert fetch(url) == b"Edited live!\n"
        dev.send_signal(signal.SIGINT)
        out, err = dev.communicate(timeout=30)
        assert dev.returncode == 0, err
        assert b"handled a request" in out  # the guest's output, printed live
    finally:
        if dev.poll() is None:
            dev.kill()


def test_doctor_lists_every_language(build_dir, tmp_path):
    r = run(build_dir, tmp_path, "doctor", "--json")
    langs = {l["language"]: l for l in json.loads(r.stdout)["languages"]}
    assert {"js", "ts", "c"} <= set(langs)
    for l in langs.values():
        assert l["ready"] == (not l["missing"]), l
    # On the machines make test runs on, setup.sh installed every toolchain.
    assert r.returncode == 0, [l for l in langs.values() if not l["ready"]]
    human = run(build_dir, tmp_path, "doctor")
    assert human.returncode == 0 and f"{len(langs)} of {len(langs)} ready" in human.stdout


def test_a_missing_toolchain_is_named_with_its_fix(build_dir, tmp_path):
    assert run(build_dir, tmp_path, "new", "nodeless", "--template", "js").returncode == 0
    # No node on PATH (fn0's own tools are found by their full paths).
    env = dict(os.environ, PATH="/nonexistent")
    r = subprocess.run([str(build_dir / "fn0"), "build"], cwd=tmp_path / "nodeless", capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 1
    assert "missing node (not on PATH)" in r.stderr and "fix: apt-get install nodejs" in r.stderr, r.stderr
    j = subprocess.run([str(build_dir / "fn0"), "build", "--json"], cwd=tmp_path / "nodeless",
                       capture_output=True, text=True, env=env, timeout=60)
    assert json.loads(j.stdout)["error"] == "toolchain-missing"
    d = subprocess.run([str(build_dir / "fn0"), "doctor"], cwd=tmp_path, capture_output=True, text=True,
                       env=env, timeout=60)
    assert d.returncode == 1 and "NOT READY" in d.stdout and "fix: apt-get install nodejs" in d.stdout, d.stdout
