"""The dashboard's browser tests' tools: Debian's chromium driven by Playwright
(never a browser download), a session cookie got over HTTP, a watch on each
page for console errors, CSP violations and requests to other origins, and
axe-core for the accessibility check."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from http_client import HttpClient, Reply

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SESSION_COOKIE = "fn0_session"

# Runs before the page's own scripts (through the DevTools protocol, so the
# CSP does not apply to it): every CSP violation the page causes is kept.
_CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample});
});
"""


@dataclass
class Watch:
    """What went wrong on one page: console errors, uncaught exceptions,
    requests to any origin but the node's, and (read on demand) CSP
    violations."""
    origin: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    # Console errors a test provokes on purpose (a refused login is a 401
    # the browser reports); matched as regular expressions.
    expected: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith((self.origin, "data:", "blob:"))
                else self.foreign.append(r.url))

    def problems(self, page) -> list[str]:
        csp = page.evaluate("() => window.__cspViolations || []")
        unexpected = [c for c in self.console if not any(re.search(p, c) for p in self.expected)]
        return ([f"console {c}" for c in unexpected] + [f"exception {e}" for e in self.errors]
                + [f"request to another origin: {u}" for u in self.foreign]
                + [f"CSP violation: {json.dumps(v)}" for v in csp])


def http_login(node, token: str) -> tuple[str, dict, Reply]:
    """POST /session over plain HTTP: (cookie value, session body, reply)."""
    r = node.client().request("POST", "/_fn0/api/v1/session", body=json.dumps({"token": token}).encode(),
                              headers=[("Content-Type", "application/json")])
    assert r.status == 200, (r.status, r.body)
    cookie = session_cookie_of(r)
    assert cookie, r.headers
    return cookie, json.loads(r.body), r


def session_cookie_of(reply: Reply) -> str | None:
    for k, v in reply.headers:
        if k.lower() == "set-cookie" and v.startswith(SESSION_COOKIE + "="):
            return v.split(";", 1)[0].split("=", 1)[1]
    return None


def with_cookie(node, method: str, path: str, cookie: str, *, csrf: str | None = None, origin: str | None = None,
                body: bytes | None = None, content_type: str | None = None) -> Reply:
    """An API call carrying the session cookie, as another client (or a
    forged cross-site request) would send it."""
    headers = [("Cookie", f"{SESSION_COOKIE}={cookie}")]
    if csrf:
        headers.append(("X-CSRF-Token", csrf))
    if origin:
        headers.append(("Origin", origin))
    if content_type:
        headers.append(("Content-Type", content_type))
    if body is None and method in ("POST", "PUT"):
        body = b""
    return HttpClient("127.0.0.1", node.port).request(method, "/_fn0/api/v1" + path, body=body, headers=headers)


class Dashboard:
    """One node's dashboard in one browser: pages with or without a session."""

    def __init__(self, browser, node, token: str):
        self.browser, self.node, self.token = browser, node, token
        self.origin = f"http://127.0.0.1:{node.port}"
        self.url = f"{self.origin}/_fn0/"
        self._contexts = []

    def open(self, *, logged_in: bool = True, width: int = 1280, height: int = 900, scheme: str = "light",
             bypass_csp: bool = False, cookie: str | None = None):
        """-> (context, page, watch). bypass_csp only for the axe run."""
        ctx = self.browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme,
                                       bypass_csp=bypass_csp, reduced_motion="reduce")
        self._contexts.append(ctx)
        ctx.add_init_script(_CSP_RECORDER)
        if logged_in:
            cookie = cookie or http_login(self.node, self.token)[0]
            ctx.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "domain": "127.0.0.1", "path": "/_fn0/",
                              "httpOnly": True, "sameSite": "Strict"}])
        page = ctx.new_page()
        watch = Watch(self.origin)
        watch.attach(page)
        return ctx, page, watch

    def goto(self, page, route: str) -> None:
        page.goto(self.url + "#" + route)

    def close(self) -> None:
        for c in self._contexts:
            c.close()
        self._contexts.clear()


def run_axe(page) -> list[dict]:
    """axe-core on the page as it is: the serious and critical violations.
    The page must come from a context with bypass_csp=True (axe is injected
    as a script the CSP would refuse)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
