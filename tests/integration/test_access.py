"""Scoped API tokens and the audit log on a real node: a deployer token
deploys and rolls back its own functions and nothing else, a viewer only
reads, tokens are created, listed (never with their secret) and revoked
(refused at once, on every node of a cluster), and every change and login
lands in the audit log with who, what, when and from where."""
from __future__ import annotations

import json
import time

from cluster import wait_for
from node import TOKEN


def make_token(node, name, role="admin", functions=()):
    r = node.api("POST", "/tokens", {"name": name, "role": role, "functions": list(functions)})
    assert r.status == 201, r.body
    body = json.loads(r.body)
    assert body["token"].startswith("fn0_") and body["role"] == role
    return body


def test_a_deployer_token_deploys_its_function_and_nothing_else(node, examples_dir):
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert node.deploy("other", examples_dir / "hello-c.wasm").status == 201
    ci = make_token(node, "ci-hello", "deployer", ["hello"])["token"]
    wasm = (examples_dir / "echo-c.wasm").read_bytes()

    def as_ci(method, path, body=None, **kw):
        return node.api(method, path, body, token=ci, **kw)

    r = as_ci("POST", "/functions/hello/versions", wasm, content_type="application/wasm")
    assert r.status == 201, r.body
    assert node.get("/hello/", headers=[("x-probe", "1")]).header("x-echo-method") == "GET"  # echo-c is live
    assert as_ci("PUT", "/functions/hello/aliases/live", {"version": "v1"}).status == 200  # roll back
    assert b"Hello from fn0" in node.get("/hello/").body
    assert as_ci("GET", "/functions/hello/versions/v1/component").status == 200
    refused = {
        ("POST", "/functions/other/versions"): wasm,
        ("PUT", "/functions/other/aliases/live"): {"version": "v1"},
        ("PUT", "/functions/hello/env/A"): {"value": "1"},
        ("PUT", "/functions/hello/secrets/S"): {"value": "1"},
        ("PUT", "/functions/hello/settings"): {},
        ("DELETE", "/functions/hello"): None,
        ("GET", "/functions/other"): None,
        ("GET", "/functions/hello/kv"): None,
        ("GET", "/tokens"): None,
        ("POST", "/tokens"): {"name": "x"},
        ("GET", "/audit"): None,
    }
    for (method, path), body in refused.items():
        kw = {"content_type": "application/wasm"} if isinstance(body, bytes) else {}
        r = as_ci(method, path, body, **kw)
        assert r.status == 403, (method, path, r.status, r.body)
        assert r.header("fn0-error") == "forbidden"
    listed = [f["name"] for f in json.loads(as_ci("GET", "/functions").body)["functions"]]
    assert listed == ["hello"]
    # The refused calls changed nothing.
    env = json.loads(node.api("GET", "/functions/hello/env").body)
    assert env == {}
    assert len(json.loads(node.api("GET", "/functions/other").body)["versions"]) == 1


def test_a_prefix_scope_and_a_viewer(node, examples_dir):
    api_token = make_token(node, "ci-api", "deployer", ["api-*"])["token"]
    wasm = (examples_dir / "hello-c.wasm").read_bytes()
    assert node.api("POST", "/functions/api-users/versions", wasm, token=api_token,
                    content_type="application/wasm").status == 201
    assert node.api("POST", "/functions/apix/versions", wasm, token=api_token,
                    content_type="application/wasm").status == 403
    viewer = make_token(node, "dash", "viewer")["token"]
    for path in ("/functions", "/functions/api-users", "/functions/api-users/logs", "/status", "/series",
                 "/stats", "/functions/api-users/series"):
        assert node.api("GET", path, token=viewer).status == 200, path
    for method, path in (("POST", "/functions/api-users/versions"), ("PUT", "/functions/api-users/aliases/live"),
                         ("GET", "/functions/api-users/versions/v1/component"), ("GET", "/functions/api-users/kv"),
                         ("GET", "/tokens"), ("GET", "/audit")):
        assert node.api(method, path, {} if method == "PUT" else None, token=viewer).status == 403, path


def test_tokens_are_listed_without_secrets_and_revocation_is_immediate(node):
    made = make_token(node, "temp", "viewer")
    assert node.api("GET", "/status", token=made["token"]).status == 200
    listed = json.loads(node.api("GET", "/tokens").body)["tokens"]
    assert made["token"] not in json.dumps(listed)
    mine = next(t for t in listed if t["id"] == made["id"])
    assert mine["name"] == "temp" and mine["role"] == "viewer" and mine["created_by"] == "configured"
    assert mine["last_used_at"] is not None and abs(mine["last_used_at"] - time.time()) < 60
    admin = next(t for t in listed if t["name"] == "configured")
    assert admin["role"] == "admin"
    r = node.api("DELETE", f"/tokens/{made['id']}")
    assert r.status == 200
    assert node.api("GET", "/status", token=made["token"]).status == 401
    assert node.api("DELETE", f"/tokens/{made['id']}").status == 404
    # The only admin token stays.
    last = node.api("DELETE", f"/tokens/{admin['id']}")
    assert last.status == 409 and last.header("fn0-error") == "last-admin-token"
    assert node.api("GET", "/status").status == 200
    for bad in ({"name": ""}, {"name": "a b"}, {"name": "x", "role": "root"},
                {"name": "x", "role": "viewer", "functions": ["hello"]}, {"name": "x", "role": "deployer",
                                                                        "functions": ["Bad_Name"]}):
        assert node.api("POST", "/tokens", bad).status == 400, bad


def audit(node, **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    r = node.api("GET", "/audit" + (f"?{qs}" if qs else ""))
    assert r.status == 200, r.body
    return json.loads(r.body)["entries"]


def test_every_change_and_login_is_audited(node, examples_dir):
    assert node.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    assert node.deploy("hello", examples_dir / "echo-c.wasm").status == 201
    assert node.api("PUT", "/functions/hello/aliases/live", {"version": "v1"}).status == 200
    assert node.api("PUT", "/functions/hello/aliases/beta", {"version": "v2"}).status == 200
    assert node.api("PUT", "/functions/hello/env/MODE", {"value": "prod"}).status == 200
    assert node.api("PUT", "/functions/hello/secrets/API_KEY", {"value": "hunter2-secret-value"}).status == 200
    assert node.api("PUT", "/functions/hello/settings", {"cpu_ms": 5}).status == 200
    ci = make_token(node, "ci", "deployer", ["hello"])
    assert node.api("PUT", "/functions/hello/env/X", {"value": "1"}, token=ci["token"]).status == 403
    assert node.api("DELETE", f"/tokens/{ci['id']}").status == 200
    login = node.client().request("POST", "/_fn0/api/v1/session", body=json.dumps({"token": TOKEN}).encode(),
                                  headers=[("Content-Type", "application/json")])
    assert login.status == 200
    bad = node.client().request("POST", "/_fn0/api/v1/session", body=b'{"token": "nope-nope-nope-nope"}',
                                headers=[("Content-Type", "application/json")])
    assert bad.status == 401
    assert node.api("DELETE", "/functions/hello?kv=delete").status == 200

    entries = audit(node)
    actions = [e["action"] for e in reversed(entries)]
    assert actions == ["deploy", "deploy", "alias.set", "alias.set", "env.set", "secret.set", "settings.set",
                       "token.create", "env.set", "token.revoke", "login", "login.failed", "function.delete"]
    first = entries[-1]
    assert first["actor"] == "configured" and first["via"] == "token" and first["role"] == "admin"
    assert first["function"] == "hello" and first["detail"]["version"] == "v1" and first["status"] == 201
    assert first["client"] == "127.0.0.1" and first["request_id"]
    assert abs(first["time"] - time.time()) < 300
    secret = next(e for e in entries if e["action"] == "secret.set")
    assert secret["detail"] == {"name": "API_KEY"}
    assert "hunter2-secret-value" not in json.dumps(entries)
    refused = next(e for e in entries if e["action"] == "env.set" and e["actor"] == "ci")
    assert refused["status"] == 403 and refused["role"] == "deployer"
    assert any(e["action"] == "alias.set" and e["detail"] == {"alias": "beta"} for e in entries)
    assert next(e for e in entries if e["action"] == "login.failed")["actor"] == "anonymous"
    # Filters and pages.
    assert {e["action"] for e in audit(node, action="deploy")} == {"deploy"}
    assert len(audit(node, function="hello")) == 9
    page = json.loads(node.api("GET", "/audit?limit=5").body)
    assert len(page["entries"]) == 5 and page["next_before"] == page["entries"][-1]["id"]
    rest = json.loads(node.api("GET", f"/audit?limit=100&before={page['next_before']}").body)["entries"]
    assert len(rest) == len(entries) - 5
    assert json.dumps(entries) == json.dumps(page["entries"] + rest)


def test_the_cli_manages_tokens_and_reads_the_audit_log(node, examples_dir):
    r = node.cli("token", "create", "ci-hello", "--role", "deployer", "--function", "hello", "--json")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["functions"] == ["hello"]
    assert node.api("POST", "/functions/hello/versions", (examples_dir / "hello-c.wasm").read_bytes(),
                    token=made["token"], content_type="application/wasm").status == 201
    versions = json.loads(node.api("GET", "/functions/hello/versions").body)["versions"]
    assert versions[0]["created_by"] == "ci-hello"  # who deployed it
    assert b"ci-hello" in node.cli("versions", "hello").stdout
    listed = node.cli("token", "list")
    assert listed.returncode == 0 and b"ci-hello" in listed.stdout and b"deployer" in listed.stdout
    assert made["token"].encode() not in listed.stdout
    assert node.cli("token", "create", "x", "--function", "hello").returncode == 2  # not a deployer
    assert node.cli("token", "create", "x", "--role", "root").returncode == 2
    out = node.cli("audit", "--function", "hello", "--json")
    assert out.returncode == 0, out.stderr
    entries = json.loads(out.stdout)["entries"]
    assert entries[0]["action"] == "deploy" and entries[0]["actor"] == "ci-hello"
    text = node.cli("audit", "-n", "5")
    assert b"deploy hello" in text.stdout and b"ci-hello" in text.stdout
    assert node.cli("token", "revoke", made["id"]).returncode == 0
    assert node.api("GET", "/status", token=made["token"]).status == 401


def test_a_revoked_token_is_refused_on_every_node(cluster, examples_dir):
    a = cluster.node("a")
    b = cluster.node("b")
    made = make_token(a, "temp", "viewer")
    wait_for(lambda: b.api("GET", "/status", token=made["token"]).status == 200, timeout=10, every=0.05)
    assert a.api("DELETE", f"/tokens/{made['id']}").status == 200
    wait_for(lambda: b.api("GET", "/status", token=made["token"]).status == 401, timeout=5, every=0.05)
    # Both nodes write to the one audit log.
    entries = json.loads(b.api("GET", "/audit").body)["entries"]
    assert [e["action"] for e in entries][:2] == ["token.revoke", "token.create"]
