"""The JavaScript/TypeScript developer experience, end to end with the real
toolchain (esbuild + componentize-js) and a real node: Workers-style modules
with `env` and `ctx`, a Workers app built on Hono from npm, the fetch-event
style, errors that name the project's file and line, fn0.toml's [vars] and
[settings] applied on deploy, and an unchanged rebuild creating no version.

The projects are built once per module, concurrently (a JS build takes
10-60 s on these machines)."""
from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from node import TOKEN

HONO_VERSION = "4.13.19"

MODULE_JS = """\
import { helper } from './lib.js';

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/env':
        return Response.json({ greeting: env.GREETING, secret: env.API_KEY ?? null, keys: Object.keys(env).sort() });
      case '/throw':
        helper();
        break;
      case '/reject':
        return Promise.reject(new RangeError('nope'));
      case '/wait':
        ctx.waitUntil(new Promise((r) => setTimeout(r, 20)).then(() => console.log('after the response')));
        return new Response('waiting\\n');
      case '/wait-fails':
        ctx.waitUntil(Promise.reject(new Error('late failure')));
        return new Response('ok\\n');
      case '/not-a-response':
        return 'just a string';
    }
    return new Response('module ok\\n');
  },
};
"""
LIB_JS = """\
export function helper() {
  throw new TypeError('helper broke');
}
"""
MODULE_TOML_EXTRA = """
[settings]
cpu_ms = 60
max_subrequests = 5
"""

EVENT_JS = """\
addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.pathname === '/throw') throw new Error('listener broke');
  event.waitUntil(Promise.resolve().then(() => console.log('event waitUntil ran')));
  event.respondWith(new Response('event style ok\\n'));
});
"""

HONO_APP = """\
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello Hono!'));
app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), greeting: c.env.GREETING }));
app.post('/echo', async (c) => c.json(await c.req.json(), 201));
app.get('/later', (c) => {
  c.executionCtx.waitUntil(Promise.resolve().then(() => console.log('hono waitUntil ran')));
  return c.text('later');
});
app.notFound((c) => c.text('no such route', 404));
export default app;
"""


def fn0(build_dir, cwd, *args, node=None, timeout=600, stdin=None):
    env = dict(os.environ)
    if node:
        env.update(FN0_SERVER=f"http://127.0.0.1:{node.port}", FN0_TOKEN=TOKEN)
    return subprocess.run([str(build_dir / "fn0"), *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout, input=stdin)


def new_project(build_dir, root: Path, name: str, template: str, files: dict[str, str], toml_extra: str = ""):
    r = fn0(build_dir, root, "new", name, "--template", template)
    assert r.returncode == 0, r.stderr
    proj = root / name
    for rel, text in files.items():
        (proj / rel).parent.mkdir(parents=True, exist_ok=True)
        (proj / rel).write_text(text)
    if toml_extra:
        with open(proj / "fn0.toml", "a") as f:
            f.write(toml_extra)
    return proj


@pytest.fixture(scope="module")
def projects(build_dir, tmp_path_factory):
    """Three projects, built concurrently: name -> (folder, build result)."""
    root = tmp_path_factory.mktemp("js-dx")
    made = {
        "mod-js": new_project(build_dir, root, "mod-js", "js", {"src/index.js": MODULE_JS, "src/lib.js": LIB_JS},
                              MODULE_TOML_EXTRA),
        "event-js": new_project(build_dir, root, "event-js", "js", {"src/index.js": EVENT_JS}),
        "hono-app": new_project(build_dir, root, "hono-app", "js", {"src/index.js": HONO_APP}),
    }
    hono = made["hono-app"]
    (hono / "package.json").write_text(json.dumps(
        {"name": "hono-app", "private": True, "type": "module", "dependencies": {"hono": HONO_VERSION}}))
    npm = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=hono,
                         capture_output=True, text=True, timeout=300)
    assert npm.returncode == 0, npm.stderr

    def build(item):
        name, proj = item
        return name, (proj, fn0(build_dir, proj, "build"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(build, made.items()))


@pytest.fixture(scope="module")
def node(build_dir, tmp_path_factory, projects):
    """One node for the module, every project deployed once (each deploy
    compiles a ~13 MB component)."""
    from node import Node

    n = Node(build_dir, tmp_path_factory.mktemp("js-dx-node")).start()
    n.deployed = {}
    for name, (proj, r) in projects.items():
        if r.returncode == 0:
            n.deployed[name] = deploy(build_dir, proj, n)
    yield n
    n.kill()


def built(projects, name) -> Path:
    proj, r = projects[name]
    assert r.returncode == 0, r.stderr + r.stdout
    return proj


def deploy(build_dir, proj, node):
    d = fn0(build_dir, proj, "deploy", "--json", node=node)
    assert d.returncode == 0, d.stderr + d.stdout
    return json.loads(d.stdout), d.stderr


def logs_for(node, name, request_id, want, timeout=10.0) -> list[str]:
    """The function's log lines of one request, once `want` is among them."""
    deadline = time.monotonic() + timeout
    while True:
        r = node.api("GET", f"/functions/{name}/logs")
        assert r.status == 200, r.body
        lines = [e["line"] for e in json.loads(r.body)["entries"] if e.get("request_id") == request_id]
        if any(want in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def test_a_workers_module_gets_env_secrets_and_the_toml_settings(build_dir, projects, node):
    built(projects, "mod-js")
    out, _ = node.deployed["mod-js"]
    assert out["function"] == "mod-js" and out["live"] is True
    settings = json.loads(node.api("GET", "/functions/mod-js/settings").body)
    assert settings["cpu_ms"] == 60 and settings["max_subrequests"] == 5
    assert node.api("PUT", "/functions/mod-js/secrets/API_KEY", {"value": "s3cret"}).status == 200
    r = node.get("/mod-js/env")
    assert r.status == 200, r.body
    body = json.loads(r.body)
    assert body["greeting"] == "Hello" and body["secret"] == "s3cret"
    assert not [k for k in body["keys"] if k.startswith("FN0_")], body["keys"]


def test_uncaught_exceptions_name_the_file_and_line(build_dir, projects, node):
    built(projects, "mod-js")
    r = node.get("/mod-js/throw")
    # A guest cannot set fn0-* headers (the node drops them): the reason is in the body.
    assert r.status == 500 and r.header("fn0-error") is None
    body = json.loads(r.body)
    assert body["error"] == "uncaught-exception" and body["request_id"] == r.header("fn0-request-id")
    assert "helper broke" not in r.body.decode()  # the details go to the logs, not to the caller
    lines = logs_for(node, "mod-js", r.header("fn0-request-id"), "helper broke")
    assert any("TypeError: helper broke (at src/lib.js:2:" in line for line in lines), lines
    assert any("src/index.js:10:" in line for line in lines), lines  # the caller's frame, mapped too
    assert not any("fn0-runtime" in line for line in lines), lines  # fn0's own frames are left out

    r = node.get("/mod-js/reject")
    assert r.status == 500 and json.loads(r.body)["error"] == "uncaught-exception"
    lines = logs_for(node, "mod-js", r.header("fn0-request-id"), "nope")
    assert any("RangeError: nope (at src/index.js:13:" in line for line in lines), lines

    r = node.get("/mod-js/not-a-response")
    assert r.status == 500 and json.loads(r.body)["error"] == "invalid-response"
    lines = logs_for(node, "mod-js", r.header("fn0-request-id"), "not a Response")
    assert any("fetch() returned a string, not a Response" in line for line in lines), lines


def test_ctx_wait_until_runs_after_the_response_and_reports_failures(build_dir, projects, node):
    built(projects, "mod-js")
    r = node.get("/mod-js/wait")
    assert r.status == 200 and r.body == b"waiting\n"
    assert "after the response" in logs_for(node, "mod-js", r.header("fn0-request-id"), "after the response")
    r = node.get("/mod-js/wait-fails")
    assert r.status == 200
    lines = logs_for(node, "mod-js", r.header("fn0-request-id"), "late failure")
    assert any("Uncaught rejection in ctx.waitUntil(): Error: late failure (at src/index.js:" in line
               for line in lines), lines


def test_the_fetch_event_style_keeps_working(build_dir, projects, node):
    built(projects, "event-js")
    r = node.get("/event-js/")
    assert r.status == 200 and r.body == b"event style ok\n"
    assert "event waitUntil ran" in logs_for(node, "event-js", r.header("fn0-request-id"), "event waitUntil ran")
    r = node.get("/event-js/throw")
    assert r.status == 500 and json.loads(r.body)["error"] == "uncaught-exception"
    lines = logs_for(node, "event-js", r.header("fn0-request-id"), "listener broke")
    assert any("Error: listener broke (at src/index.js:3:" in line for line in lines), lines


def test_a_workers_app_on_hono_from_npm_runs_unchanged(build_dir, projects, node):
    built(projects, "hono-app")
    r = node.get("/hono-app/")
    assert r.status == 200 and r.body == b"Hello Hono!"
    r = node.get("/hono-app/users/42")
    assert r.status == 200 and json.loads(r.body) == {"id": "42", "greeting": "Hello"}
    r = node.client().request("POST", "/hono-app/echo", body=b'{"a": [1, 2]}',
                              headers=[("content-type", "application/json")])
    assert r.status == 201 and json.loads(r.body) == {"a": [1, 2]}
    r = node.get("/hono-app/later")
    assert r.status == 200
    assert "hono waitUntil ran" in logs_for(node, "hono-app", r.header("fn0-request-id"), "hono waitUntil ran")
    assert node.get("/hono-app/nowhere").status == 404


def test_an_unchanged_rebuild_creates_no_version(build_dir, projects, node):
    proj = built(projects, "event-js")
    first, _ = node.deployed["event-js"]
    again = fn0(build_dir, proj, "build")
    assert again.returncode == 0 and "nothing changed" in again.stderr, again.stderr
    second, _ = deploy(build_dir, proj, node)
    assert second["version"] == first["version"] and second["created"] is False
    versions = json.loads(node.api("GET", "/functions/event-js/versions").body)
    assert len(versions["versions"]) == 1, versions


def test_a_syntax_error_points_to_file_and_line(build_dir, tmp_path):
    proj = new_project(build_dir, tmp_path, "broken", "js",
                       {"src/index.js": "export default {\n  fetch() {\n    return new Response('x';\n  },\n};\n"})
    r = fn0(build_dir, proj, "build")
    assert r.returncode == 1
    assert "src/index.js:3:" in r.stderr, r.stderr
    assert not (proj / "build" / "broken.wasm").exists()


def test_fn0_toml_mistakes_are_named(build_dir, tmp_path):
    proj = new_project(build_dir, tmp_path, "conf", "js", {}, "\n[settings]\ncpu_ms = 0\n")
    r = fn0(build_dir, proj, "build")
    assert r.returncode != 0 and "cpu_ms must be an integer between 1 and" in r.stderr, r.stderr
    (proj / "fn0.toml").write_text('name = "conf"\nlanguage = "js"\nentry = "src/index.js"\nlanguge = "x"\n')
    r = fn0(build_dir, proj, "build")
    assert r.returncode != 0 and "fn0.toml:4: unknown key 'languge'" in r.stderr, r.stderr
    (proj / "fn0.toml").write_text('name = "conf"\nlanguage = "js\n')
    r = fn0(build_dir, proj, "build")
    assert r.returncode != 0 and "fn0.toml:2:" in r.stderr, r.stderr
