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
    assert down.returncode == 1 and "cannot reach the fn0 node at http://127.0.0.1:1: connection refused" in down.stderr
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
    for cmd in ("login", "new", "build", "deploy", "list", "info", "versions", "rollback", "alias", "delete", "env",
                "secret", "settings", "logs", "export", "metrics", "status", "version", "serve", "secrets-key"):
        r = fn0(build_dir, tmp_path, cmd, "--help")
        assert r.returncode == 0 and "Example" in r.stdout, cmd


# ---- papercuts: what a wrangler or Spin user expects of a CLI --------------

NAME_RULE = ("a function name is a DNS label: lowercase letters, digits and hyphens, at most 63 characters, "
             "not starting or ending with a hyphen")


def one_json(r):
    """stdout is exactly one JSON document (json.loads refuses anything after it)."""
    return json.loads(r.stdout)


def test_mistyped_commands_and_options_get_a_suggestion(build_dir, tmp_path, node):
    r = fn0(build_dir, tmp_path, "deplyo")
    assert r.returncode == 2 and r.stdout == ""
    assert "unknown command 'deplyo'; did you mean 'deploy'?" in r.stderr
    r = fn0(build_dir, tmp_path, "deplyo", "--json")
    assert r.returncode == 2
    assert one_json(r) == {"error": "usage", "message": "unknown command 'deplyo'; did you mean 'deploy'?",
                           "suggestion": "deploy"}
    r = fn0(build_dir, tmp_path, "frobnicate")
    assert r.returncode == 2 and "did you mean" not in r.stderr and "fn0 --help" in r.stderr
    # The misspelt option is the cause, not the FILE it made of "x".
    r = fn0(build_dir, tmp_path, "deploy", "--nmae", "x")
    assert r.returncode == 2 and "unknown option '--nmae' for `fn0 deploy`; did you mean '--name'?" in r.stderr
    r = fn0(build_dir, tmp_path, "logs", "hello", "--folow")
    assert r.returncode == 2 and "did you mean '--follow'?" in r.stderr
    r = fn0(build_dir, tmp_path, "settings", "hello", "cpu_sm=5", node=node)
    assert r.returncode == 2 and "unknown setting 'cpu_sm'; did you mean 'cpu_ms'?" in r.stderr
    # CLI11's own texts are reworded, never shown raw.
    r = fn0(build_dir, tmp_path, "info")
    assert r.returncode == 2 and "NAME is missing; see `fn0 info --help`" in r.stderr
    r = fn0(build_dir, tmp_path, "alias", "x", "frob")
    assert r.returncode == 2 and "ACTION must be one of set, list, delete, not 'frob'" in r.stderr
    r = fn0(build_dir, tmp_path, "logs", "x", "--since", "soon")
    assert r.returncode == 2 and "'soon' is not a valid value for --since" in r.stderr
    assert "Could not convert" not in r.stderr and "Run with --help" not in r.stderr
    top = fn0(build_dir, tmp_path, "--help")
    assert "Exit codes: 0 done; 1 failed" in top.stdout and "2 the command line is wrong" in top.stdout


def test_every_command_speaks_json_errors_included(build_dir, tmp_path, node, examples_dir):
    wasm = str(examples_dir / "hello-c.wasm")
    ok = {
        ("version",): lambda j: j["fn0"] and j["wasmtime"],
        ("new", "proj", "--template", "c", "--dir", str(tmp_path / "proj")): lambda j: j["created"] == "proj",
        ("deploy", wasm, "--name", "hello"): lambda j: j["version"] == "v1",
        ("list",): lambda j: j["functions"][0]["name"] == "hello",
        ("info", "hello"): lambda j: j["live"] == "v1" and j["settings"] == {},
        ("versions", "hello"): lambda j: j["versions"][0]["live"] is True,
        ("alias", "hello", "set", "canary", "v1"): lambda j: j["alias"] == "canary",
        ("alias", "hello", "list"): lambda j: j == {"live": "v1", "canary": "v1"},
        ("env", "hello", "set", "A=1"): lambda j: j == {"set": ["A"]},
        ("env", "hello", "list"): lambda j: j == {"A": "1"},
        ("secret", "hello", "list"): lambda j: j == {"secrets": []},
        ("settings", "hello"): lambda j: j["settings"] == {},
        ("metrics", "hello"): lambda j: j["function"] == "hello",
        ("status",): lambda j: j["functions"] == 1,
        ("export", "hello", "-o", str(tmp_path / "out.wasm")): lambda j: j["version"] == "v1" and j["bytes"] > 0,
        ("rollback", "hello", "v1"): lambda j: j["version"] == "v1",
        ("logs", "hello"): lambda j: True,  # no lines yet: nothing at all on stdout (checked below)
        ("delete", "hello", "--yes"): lambda j: j == {"deleted": "hello"},
    }
    for args, check in ok.items():
        r = fn0(build_dir, tmp_path, *args, "--json", node=node)
        assert r.returncode == 0, (args, r.stderr)
        if args[0] == "logs":
            assert r.stdout == "", r.stdout
            continue
        assert check(one_json(r)), (args, r.stdout)
    login = fn0(build_dir, tmp_path, "login", "--server", f"http://127.0.0.1:{node.port}", "--json", stdin=TOKEN)
    assert login.returncode == 0 and one_json(login)["server"] == f"http://127.0.0.1:{node.port}"
    # Failures: one object on stdout, nothing else there, and the exit code.
    failures = [
        (("info", "nope"), {}, 1, "not-found", 404),
        (("list",), {"FN0_TOKEN": "wrong"}, 1, "unauthorized", 401),
        (("status",), {"FN0_SERVER": "http://127.0.0.1:1"}, 1, "unreachable", None),
        (("rollback", "nope"), {}, 1, "not-found", 404),
        (("settings", "nope", "cpu_ms=5"), {}, 1, "not-found", 404),
        (("info", "Not_Valid"), {}, 2, "invalid-name", None),
        (("deploy", "--nmae", "x"), {}, 2, "usage", None),
        (("logs", "nope", "--follow"), {}, 1, "not-found", 404),
        (("delete", "nope"), {}, 2, "usage", None),
    ]
    for args, env, code, error, status in failures:
        r = fn0(build_dir, tmp_path, *args, "--json", node=node, env=env)
        assert r.returncode == code, (args, r.stdout, r.stderr)
        j = one_json(r)
        assert j["error"] == error and j["message"] and j.get("status") == status, (args, j)
    build = fn0(build_dir, tmp_path, "build", "--dir", str(tmp_path / "nowhere"), "--json")
    assert build.returncode == 1 and "no fn0.toml" in one_json(build)["message"]


def test_source_files_and_non_components_are_explained_before_any_upload(build_dir, tmp_path, node, examples_dir):
    (tmp_path / "app.js").write_text("export default {}\n")
    (tmp_path / "app.ts").write_text("export default {}\n")
    (tmp_path / "main.py").write_text("print('hi')\n")
    (tmp_path / "notes.wasm").write_text("not wasm at all")
    r = fn0(build_dir, tmp_path, "deploy", str(tmp_path / "app.js"), node=node)
    assert r.returncode == 2
    assert ("app.js is JavaScript source, not a component: run `fn0 deploy` in a project folder (fn0.toml), "
            "or `fn0 new NAME --template js` to make one") in r.stderr
    r = fn0(build_dir, tmp_path, "deploy", str(tmp_path / "app.ts"), "--json", node=node)
    assert r.returncode == 2 and one_json(r)["error"] == "source-file" and "--template ts" in r.stdout
    r = fn0(build_dir, tmp_path, "deploy", str(tmp_path / "main.py"), node=node)
    assert r.returncode == 2 and "main.py is Python source" in r.stderr
    # In a project, the source points to that project.
    assert fn0(build_dir, tmp_path, "new", "proj", "--template", "c", "--dir", str(tmp_path / "proj")).returncode == 0
    r = fn0(build_dir, tmp_path, "deploy", str(tmp_path / "proj" / "src" / "handler.c"), node=node)
    assert r.returncode == 2 and f"run `fn0 deploy` in {tmp_path / 'proj'}" in r.stderr
    r = fn0(build_dir, tmp_path, "deploy", str(tmp_path / "notes.wasm"), node=node)
    assert r.returncode == 1 and "notes.wasm is not a WebAssembly file" in r.stderr
    r = fn0(build_dir, tmp_path, "deploy", str(examples_dir / "hello-c.core.wasm"), "--json", node=node)
    assert r.returncode == 1 and one_json(r)["error"] == "core-module"
    assert "is a core WebAssembly module, not a component" in r.stdout and "wasm-tools component new" in r.stdout
    # Refused before the upload: the node never heard of any of them.
    assert json.loads(node.api("GET", "/functions").body) == {"functions": []}
    import time
    deadline = time.monotonic() + 5
    while not any(l.get("target") == "/_fn0/api/v1/functions" for l in node.access_log()):  # the log is written
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not [l for l in node.access_log() if l["method"] == "POST"]


def test_names_from_files_are_announced_and_bad_names_state_the_rule(build_dir, tmp_path, node, examples_dir):
    wasm = tmp_path / "Hello_World.wasm"
    wasm.write_bytes((examples_dir / "hello-c.wasm").read_bytes())
    r = fn0(build_dir, tmp_path, "deploy", str(wasm), "--json", node=node)
    assert r.returncode == 0, r.stderr
    assert one_json(r)["function"] == "hello-world"
    assert r.stderr.count("function name: hello-world (from Hello_World.wasm; --name to choose)") == 1
    assert node.get("/hello-world/").status == 200
    # Given names are not announced.
    r = fn0(build_dir, tmp_path, "deploy", str(wasm), "--name", "chosen", node=node)
    assert r.returncode == 0 and "function name:" not in r.stderr
    # Every command refuses a bad name with the same sentence and a suggestion.
    for args in (("info", "Hello_World"), ("logs", "Hello_World"), ("settings", "Hello_World"),
                 ("delete", "Hello_World", "--yes"), ("env", "Hello_World", "list"), ("new", "Hello_World"),
                 ("deploy", str(wasm), "--name", "Hello_World")):
        r = fn0(build_dir, tmp_path, *args, node=node)
        assert r.returncode == 2, args
        assert f"invalid function name 'Hello_World': {NAME_RULE}; try 'hello-world'" in r.stderr, (args, r.stderr)
    # The node's own refusal says the same.
    api = node.api("POST", "/functions/Hello_World/versions", wasm.read_bytes(), content_type="application/wasm")
    assert api.status == 400 and NAME_RULE in json.loads(api.body)["message"]


def test_project_deploy_checks_the_node_before_building(build_dir, tmp_path, node):
    assert fn0(build_dir, tmp_path, "new", "app", "--template", "c", "--dir", str(tmp_path / "app")).returncode == 0
    proj = tmp_path / "app"
    import time
    t0 = time.monotonic()
    r = fn0(build_dir, tmp_path, "deploy", "--dir", str(proj), env={"FN0_SERVER": "http://127.0.0.1:1", "FN0_TOKEN": "x"})
    assert r.returncode == 1
    assert ("cannot reach the fn0 node at http://127.0.0.1:1: connection refused. Start one with `fn0 serve` or "
            "`make run`, or set FN0_SERVER / run `fn0 login") in r.stderr
    assert time.monotonic() - t0 < 5
    assert not (proj / "build").exists() and "building" not in r.stderr  # nothing was built
    # A folder given as the file is that project; a refused token stops it just as early.
    r = fn0(build_dir, tmp_path, "deploy", str(proj), "--json", node=node, env={"FN0_TOKEN": "wrong"})
    assert r.returncode == 1 and one_json(r)["error"] == "unauthorized" and one_json(r)["status"] == 401
    assert "rejected the admin token (401)" in r.stdout
    assert not (proj / "build").exists()


def test_logs_show_time_and_the_version_that_wrote_them(build_dir, tmp_path, node, guests_dir, examples_dir):
    assert fn0(build_dir, tmp_path, "deploy", str(guests_dir / "hostile-c.wasm"), "--name", "g", node=node).returncode == 0
    assert fn0(build_dir, tmp_path, "deploy", str(examples_dir / "hello-c.wasm"), "--name", "g", node=node).returncode == 0
    old = node.get("/g@v1/log?lines=1")  # v2 is live; v1 still answers by name
    import re
    import time
    time.sleep(0.3)
    logs = fn0(build_dir, tmp_path, "logs", "g", node=node, env={"TZ": "UTC"})
    rid = old.header("fn0-request-id")
    line = [l for l in logs.stdout.splitlines() if "stdout line 0" in l]
    assert line and re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} v1 " + rid + r"   stdout line 0", line[0]), logs.stdout
    assert re.search(r"^\d\d:\d\d:\d\d\.\d{3} v1 " + rid + r" ! stderr line$", logs.stdout, re.M), logs.stdout
    entries = [json.loads(l) for l in fn0(build_dir, tmp_path, "logs", "g", "--json", node=node).stdout.splitlines()]
    assert entries and all(e["version"] == "v1" and e["time"] > 1.6e9 for e in entries)


def test_versions_mark_the_live_one_with_dates_and_aliases(build_dir, tmp_path, node, examples_dir):
    for wasm in ("hello-c.wasm", "hello-js.wasm"):
        assert fn0(build_dir, tmp_path, "deploy", str(examples_dir / wasm), "--name", "hello", node=node).returncode == 0
    assert fn0(build_dir, tmp_path, "alias", "hello", "set", "canary", "v1", node=node).returncode == 0
    r = fn0(build_dir, tmp_path, "versions", "hello", node=node, env={"TZ": "UTC"})
    assert r.returncode == 0, r.stderr
    rows = {l.split()[1] if l.startswith("*") else l.split()[0]: l for l in r.stdout.splitlines()[1:]}
    import re
    date = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    assert rows["v2"].startswith("* v2") and re.search(date, rows["v2"]) and rows["v2"].endswith("live"), r.stdout
    assert rows["v1"].startswith("  v1") and re.search(date, rows["v1"]) and rows["v1"].endswith("canary"), r.stdout
    j = one_json(fn0(build_dir, tmp_path, "versions", "hello", "--json", node=node))
    assert j["live"] == "v2"
    assert [(v["version"], v["live"], v["aliases"]) for v in j["versions"]] == [("v1", False, ["canary"]),
                                                                                ("v2", True, ["live"])]
    assert all(isinstance(v["created_at"], int) and v["created_at"] > 1.6e9 for v in j["versions"])


def test_settings_show_change_one_keep_the_others_and_reset(build_dir, tmp_path, node, examples_dir):
    assert fn0(build_dir, tmp_path, "deploy", str(examples_dir / "hello-c.wasm"), "--name", "s", node=node).returncode == 0
    stored = lambda: json.loads(node.api("GET", "/functions/s/settings").body)  # noqa: E731
    shown = fn0(build_dir, tmp_path, "settings", "s", node=node)
    assert shown.returncode == 0, shown.stderr
    assert any(l.split()[:3] == ["cpu_ms", "-", "10"] and "node default" in l for l in shown.stdout.splitlines()), shown.stdout
    r = fn0(build_dir, tmp_path, "settings", "s", "cpu_ms=50", "memory_mb=64", node=node)
    assert r.returncode == 0, r.stderr
    assert stored() == {"cpu_ms": 50, "memory_mb": 64}
    assert "s: cpu_ms - -> 50" in r.stdout
    assert any(l.split()[:3] == ["cpu_ms", "50", "10"] and "the node's maximum" in l for l in r.stdout.splitlines())
    # PUT replaces the object: changing one key must keep the others.
    r = fn0(build_dir, tmp_path, "settings", "s", "allow=127.0.0.1/32:8080,10.0.0.0/8:443", node=node)
    assert r.returncode == 0, r.stderr
    assert stored() == {"cpu_ms": 50, "memory_mb": 64, "allow": ["127.0.0.1/32:8080", "10.0.0.0/8:443"]}
    r = fn0(build_dir, tmp_path, "settings", "s", "cpu_ms=", node=node)
    assert r.returncode == 0 and stored() == {"memory_mb": 64, "allow": ["127.0.0.1/32:8080", "10.0.0.0/8:443"]}
    # The node's range errors as the node says them; nothing changes.
    r = fn0(build_dir, tmp_path, "settings", "s", "duration_ms=0", node=node)
    assert r.returncode == 1 and "duration_ms must be an integer between 1 and 3600000" in r.stderr
    assert stored() == {"memory_mb": 64, "allow": ["127.0.0.1/32:8080", "10.0.0.0/8:443"]}
    j = one_json(fn0(build_dir, tmp_path, "settings", "s", "cpu_ms=500", "--json", node=node))
    assert j["settings"]["cpu_ms"] == 500 and j["effective"]["cpu_ms"] == 10 and j["changed"] == ["cpu_ms"]
    assert j["effective"]["memory_mb"] == 64 and j["effective"]["duration_ms"] == 15000
    assert j["node"]["cpu_ms"] == {"default": 10, "max": 10}
    info = fn0(build_dir, tmp_path, "info", "s", node=node)
    assert "settings cpu_ms=500 memory_mb=64 allow=127.0.0.1/32:8080,10.0.0.0/8:443" in info.stdout, info.stdout
    assert one_json(fn0(build_dir, tmp_path, "info", "s", "--json", node=node))["settings"]["cpu_ms"] == 500
    r = fn0(build_dir, tmp_path, "settings", "s", "--reset", node=node)
    assert r.returncode == 0 and stored() == {}
    assert "Examples:" in fn0(build_dir, tmp_path, "settings", "--help").stdout


def test_logs_follow_says_when_the_node_goes_away(build_dir, tmp_path, node_factory, guests_dir):
    import time
    for how in ("stop", "kill"):
        n = node_factory()
        assert fn0(build_dir, tmp_path, "deploy", str(guests_dir / "hostile-c.wasm"), "--name", "g",
                   node=n).returncode == 0
        e = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), FN0_SERVER=f"http://127.0.0.1:{n.port}",
                 FN0_TOKEN=TOKEN)
        args = ["logs", "g", "--follow"] + (["--json"] if how == "kill" else [])
        follow = subprocess.Popen([str(build_dir / "fn0"), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=e)
        try:
            time.sleep(1)
            n.get("/g/log?lines=1")
            time.sleep(1)
            n.stop() if how == "stop" else n.kill()
            out, err = follow.communicate(timeout=30)
        finally:
            if follow.poll() is None:
                follow.kill()
        assert follow.returncode == 1, (how, out, err)
        assert "stdout line 0" in out
        if how == "stop":
            assert f"the node at http://127.0.0.1:{n.port} closed the log stream" in err, err
        else:
            last = json.loads(out.splitlines()[-1])
            assert last["error"] == "stream-ended" and f"the node at http://127.0.0.1:{n.port} went away" in last["message"]
    assert "exits with code 1" in fn0(build_dir, tmp_path, "logs", "--help").stdout


def test_readme_walkthrough_in_a_folder_outside_the_checkout(build_dir, tmp_path, node):
    """README "Your first function", C template, from a temp folder: new,
    build, login with the token file, deploy (progress on a terminal and in
    a pipe), the URL answers, logs."""
    import pty
    import re
    import time
    repo = build_dir.parent.resolve()
    assert repo not in tmp_path.resolve().parents
    e = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), PATH=f"{build_dir}:{os.environ['PATH']}")
    e.pop("FN0_SERVER", None)
    e.pop("FN0_TOKEN", None)

    def sh(*args, cwd, stdin=None):
        return subprocess.run(["fn0", *args], cwd=cwd, env=e, capture_output=True, text=True, stdin=stdin,
                              timeout=300)

    assert sh("new", "hello", "--template", "c", cwd=tmp_path).returncode == 0
    proj = tmp_path / "hello"
    b = sh("build", "--json", cwd=proj)
    assert b.returncode == 0, b.stderr
    assert one_json(b)["built"] == str(proj / "build" / "hello.wasm") and (proj / "build" / "hello.wasm").is_file()
    assert "building hello (c)…" in b.stderr and "built hello in" in b.stderr
    token = tmp_path / "admin-token"
    token.write_text(TOKEN + "\n")
    with open(token) as f:
        login = sh("login", "--server", f"http://127.0.0.1:{node.port}", cwd=proj, stdin=f)
    assert login.returncode == 0, login.stderr
    # On a terminal: the phase line redrawn with its time, then the result.
    master, slave = pty.openpty()
    d = subprocess.Popen(["fn0", "deploy"], cwd=proj, env=e, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    out = d.communicate(timeout=300)[0].decode()
    os.close(master)
    assert d.returncode == 0, tty
    text = tty.decode(errors="replace")
    assert re.search(r"\r\x1b\[Kbuilding hello \(c\)… \d+s", text), text
    assert "\r\x1b[Kbuilt hello in" in text and "compiling hello on the node…" in text, text
    assert out.startswith("deployed hello v1 (live)") and f"http://127.0.0.1:{node.port}/hello/" in out
    # In a pipe: a line per phase on stderr; with --json only the result on stdout.
    d = sh("deploy", "--json", cwd=proj)
    assert d.returncode == 0, d.stderr
    assert one_json(d)["function"] == "hello"
    order = ["building hello (c)…\n", "built hello in ", "uploading hello (", "compiling hello on the node…\n"]
    at = [d.stderr.find(p) for p in order]
    assert -1 not in at and at == sorted(at), d.stderr
    assert "\r" not in d.stderr
    assert node.get("/hello/").body == b"Hello from hello!\n"
    time.sleep(0.3)
    logs = sh("logs", "hello", cwd=proj)
    assert "handled a request" in logs.stdout, logs.stdout + logs.stderr
