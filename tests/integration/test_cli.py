"""The `fn0` client commands against a real node."""
from __future__ import annotations

import json
import os
import subprocess

from node import TOKEN


def fn0(build_dir, tmp_path, *args, node=None, stdin=None, env=None):
    e = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    e.pop("FN0_SERVER", None)
    e.pop("FN0_TOKEN", None)
    if node:
        e.update(FN0_SERVER=f"http://127.0.0.1:{node.port}", FN0_TOKEN=TOKEN)
    e.update(env or {})
    return subprocess.run([str(build_dir / "fn0"), *args], input=stdin, capture_output=True, text=True, env=e,
                          timeout=120)


def test_login_saves_a_private_config_and_checks_the_token(build_dir, tmp_path, node):
    bad = fn0(build_dir, tmp_path, "login", "--server", f"http://127.0.0.1:{node.port}", stdin="wrong-token\n")
    assert bad.returncode == 1 and "rejected the admin token" in bad.stderr
    ok = fn0(build_dir, tmp_path, "login", "--server", f"http://127.0.0.1:{node.port}", stdin=TOKEN + "\n")
    assert ok.returncode == 0, ok.stderr
    cfg = tmp_path / "config" / "fn0" / "config.toml"
    assert oct(cfg.stat().st_mode & 0o777) == "0o600"
    assert fn0(build_dir, tmp_path, "list").returncode == 0  # uses the saved config


def test_deploy_list_versions_rollback_export(build_dir, tmp_path, node, examples_dir):
    d = fn0(build_dir, tmp_path, "deploy", str(examples_dir / "hello-c.wasm"), "--name", "hello", "--json", node=node)
    assert d.returncode == 0, d.stderr
    assert json.loads(d.stdout)["version"] == "v1"
    fn0(build_dir, tmp_path, "deploy", str(examples_dir / "hello-js.wasm"), "--name", "hello", node=node)
    assert node.get("/hello/").body == b"Hello from fn0 (JavaScript)!\n"
    listed = json.loads(fn0(build_dir, tmp_path, "list", "--json", node=node).stdout)
    assert [f["name"] for f in listed["functions"]] == ["hello"]
    versions = json.loads(fn0(build_dir, tmp_path, "versions", "hello", "--json", node=node).stdout)
    assert [v["version"] for v in versions["versions"]] == ["v1", "v2"]
    rb = fn0(build_dir, tmp_path, "rollback", "hello", node=node)
    assert rb.returncode == 0 and "v1" in rb.stdout
    assert node.get("/hello/").body == b"Hello from fn0 (C)!\n"
    out = tmp_path / "exported.wasm"
    assert fn0(build_dir, tmp_path, "export", "hello", "v2", "-o", str(out), node=node).returncode == 0
    assert out.read_bytes() == (examples_dir / "hello-js.wasm").read_bytes()
    alias = fn0(build_dir, tmp_path, "alias", "hello", "set", "canary", "v2", node=node)
    assert alias.returncode == 0 and node.get("/hello@canary/").body == b"Hello from fn0 (JavaScript)!\n"


def test_env_secret_and_logs_reach_the_guest(build_dir, tmp_path, node, guests_dir):
    assert fn0(build_dir, tmp_path, "deploy", str(guests_dir / "hostile-c.wasm"), "--name", "g",
               "--env", "MODE=prod", node=node).returncode == 0
    assert node.get("/g/env?name=MODE").body == b"prod"
    s = fn0(build_dir, tmp_path, "secret", "g", "set", "API_KEY", node=node, stdin="s3cret\n")
    assert s.returncode == 0, s.stderr
    assert node.get("/g/env?name=API_KEY").body == b"s3cret"
    listed = fn0(build_dir, tmp_path, "secret", "g", "list", node=node)
    assert listed.stdout.strip() == "API_KEY" and "s3cret" not in listed.stdout
    r = node.get("/g/log?lines=2")
    import time
    time.sleep(0.2)
    logs = fn0(build_dir, tmp_path, "logs", "g", node=node)
    assert r.header("fn0-request-id") in logs.stdout and "stdout line 1" in logs.stdout
    entries = [json.loads(l) for l in fn0(build_dir, tmp_path, "logs", "g", "--json", node=node).stdout.splitlines()]
    assert any(e["line"] == "stderr line" and e["stream"] == "stderr" for e in entries)


def test_errors_say_what_to_do_with_the_right_exit_codes(build_dir, tmp_path, node, examples_dir):
    none = fn0(build_dir, tmp_path, "list")
    assert none.returncode == 1 and "run `fn0 login" in none.stderr
    down = fn0(build_dir, tmp_path, "list", env={"FN0_SERVER": "http://127.0.0.1:1", "FN0_TOKEN": "x"})
    assert down.returncode == 1 and "cannot reach the fn0 server" in down.stderr
    wrong = fn0(build_dir, tmp_path, "list", node=node, env={"FN0_TOKEN": "wrong"})
    assert wrong.returncode == 1 and "rejected the admin token" in wrong.stderr
    missing = fn0(build_dir, tmp_path, "deploy", str(tmp_path / "nope.wasm"), node=node)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    core = fn0(build_dir, tmp_path, "deploy", str(examples_dir / "hello-c.core.wasm"), "--name", "x", node=node)
    assert core.returncode == 1 and "wasm-tools component new" in core.stderr
    assert "Traceback" not in core.stderr and "terminate" not in core.stderr
    usage = fn0(build_dir, tmp_path, "alias", "x", "frobnicate", node=node)
    assert usage.returncode == 2
    fn0(build_dir, tmp_path, "deploy", str(examples_dir / "hello-c.wasm"), "--name", "hello", node=node)
    refused = fn0(build_dir, tmp_path, "delete", "hello", node=node, stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert fn0(build_dir, tmp_path, "delete", "hello", "--yes", node=node).returncode == 0
    assert node.get("/hello/").status == 404


def test_every_command_has_help_with_an_example(build_dir, tmp_path):
    for cmd in ("login", "deploy", "list", "info", "versions", "rollback", "alias", "delete", "env", "secret",
                "logs", "export", "status", "serve"):
        r = fn0(build_dir, tmp_path, cmd, "--help")
        assert r.returncode == 0 and "Example" in r.stdout, cmd
