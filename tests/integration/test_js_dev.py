"""`fn0 dev` for JavaScript and TypeScript: the project is served by fn0's dev
engine and reloaded on every save without componentize or compile; local
secrets come from .dev.vars; each request is printed on one line; a first
build that fails says so instead of printing a URL; errors name the file
and line. (How fast an edit shows is measured by bench/dev_loop.py.)"""
from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from http_client import free_port

MODULE = """\
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/boom') explode();
    if (url.pathname === '/secret') return new Response(`secret=${env.API_KEY}\\n`);
    console.log(`saw ${url.pathname}`);
    return new Response(`${env.GREETING} from version one\\n`);
  },
};
function explode() {
  throw new TypeError('dev broke');
}
"""

TS_APP = """\
interface Env {
  GREETING: string;
  API_KEY?: string;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const who: string = new URL(request.url).searchParams.get('who') ?? 'ts';
    return Response.json({ greeting: `${env.GREETING}, ${who}`, secret: env.API_KEY ?? null });
  },
} satisfies ExportedHandler<Env>;
"""

EVENT = """\
addEventListener('fetch', (event) => {
  event.respondWith(new Response('event style in dev\\n'));
});
"""


class Dev:
    """A running `fn0 dev`, its stdout and stderr collected as they come."""

    def __init__(self, build_dir: Path, proj: Path):
        self.port = free_port()
        self.proc = subprocess.Popen([str(build_dir / "fn0"), "dev", "--port", str(self.port)], cwd=proj,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, k=sink: [k.append(line) for line in s], daemon=True).start()

    def wait_for(self, sink: list[str], pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(sink):
                if re.search(pattern, line):
                    return line
            assert self.proc.poll() is None, "".join(self.err)
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} in:\n{''.join(sink)}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def until(self, path: str, want: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        body = ""
        while time.monotonic() < deadline:
            try:
                _, body = self.get(path)
            except OSError:
                body = ""
            if want in body:
                return body
            time.sleep(0.05)
        raise AssertionError(f"{path} never answered {want!r} (last: {body!r})\n{''.join(self.err)}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def new(build_dir, root: Path, name: str, template: str) -> Path:
    r = subprocess.run([str(build_dir / "fn0"), "new", name, "--template", template], cwd=root,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return root / name


def test_js_dev_reloads_without_rebuilding_and_reads_dev_vars(build_dir, tmp_path):
    proj = new(build_dir, tmp_path, "devjs", "js")
    (proj / "src" / "index.js").write_text(MODULE)
    (proj / ".dev.vars").write_text("# local secrets\nAPI_KEY=local-one\n")
    assert ".dev.vars" in (proj / ".gitignore").read_text()
    dev = Dev(build_dir, proj)
    try:
        # A cold machine builds the dev engine once (~1 min); later runs reuse it.
        dev.wait_for(dev.err, r"serving devjs at http://127\.0\.0\.1:\d+/devjs/", timeout=400)
        assert dev.until("/devjs/", "Hello from version one") == "Hello from version one\n"
        assert dev.until("/devjs/secret", "secret=") == "secret=local-one\n"
        # One line per request: method, path, status, time, CPU.
        dev.wait_for(dev.out, r"^GET /devjs/ -> 200 in [0-9.]+ ms, cpu [0-9.]+ ms$", timeout=10)
        dev.wait_for(dev.out, r"saw /", timeout=10)  # the guest's output, live

        src = proj / "src" / "index.js"
        src.write_text(src.read_text().replace("version one", "version two"))
        dev.until("/devjs/", "version two")
        dev.wait_for(dev.err, r"fn0 dev: reloaded in \d+ ms", timeout=10)
        (proj / ".dev.vars").write_text("API_KEY=local-two\n")
        dev.until("/devjs/secret", "secret=local-two")

        status, body = dev.get("/devjs/boom")
        assert status == 500 and "uncaught-exception" in body
        dev.wait_for(dev.out, r"TypeError: dev broke \(at src/index\.js:11:\d+\)", timeout=10)

        src.write_text(EVENT)
        assert dev.until("/devjs/", "event style in dev") == "event style in dev\n"
        # Not one of those saves built or loaded an engine again.
        assert sum("preparing the JavaScript engine" in line for line in dev.err) == 1, "".join(dev.err)
    finally:
        code = dev.stop()
    assert code == 0, "".join(dev.err)


def test_ts_dev_with_a_failing_first_build_says_so(build_dir, tmp_path):
    proj = new(build_dir, tmp_path, "devts", "ts")
    src = proj / "src" / "index.ts"
    good = src.read_text()
    src.write_text(good.replace("return Response.json(reply(request, env));", "return Response.json(reply(request, env);"))
    dev = Dev(build_dir, proj)
    try:
        dev.wait_for(dev.err, r"the first build failed", timeout=400)
        assert any("src/index.ts:" in line for line in dev.err), "".join(dev.err)
        assert not any("serving devts" in line for line in dev.err)
        src.write_text(good)
        dev.wait_for(dev.err, r"serving devts at", timeout=30)
        assert '"message":"Hello from devts!"' in dev.until("/devts/hi", "Hello from devts")
        # A typed module reads [vars] and a .dev.vars secret from env.
        (proj / ".dev.vars").write_text("API_KEY='ts-local'\n")
        src.write_text(TS_APP)
        assert dev.until("/devts/?who=you", "ts-local") == '{"greeting":"Hello, you","secret":"ts-local"}'
    finally:
        code = dev.stop()
    assert code == 0, "".join(dev.err)
