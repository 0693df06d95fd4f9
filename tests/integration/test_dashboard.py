"""The web dashboard at /_fn0/ in a real browser (Debian's chromium, headless,
driven by Playwright) against a real node and real components: login and
logout, deploy by upload, live numbers and logs, rollback, env vars,
secrets, settings, delete, CSRF, accessibility (axe-core), and every page
free of console errors and CSP violations. Screenshots of every page go to
build/dashboard-screenshots/."""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as e:  # a failure, not a skip: make test must run these
    raise ImportError("Playwright for Python is missing: scripts/setup.sh --test installs it") from e

from dashboard_browser import AXE, CHROMIUM, Dashboard, http_login, launch, run_axe, with_cookie  # noqa: E402
from http_client import free_port  # noqa: E402
from node import TOKEN, Node  # noqa: E402

HELLO = b"Hello from fn0 (C)!\n"
# A refused login or a call after logout is a 4xx the browser reports on
# its console; a test that provokes one says so.
REFUSED_LOGIN = r"status of 401"

expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: scripts/setup.sh --test installs Debian's chromium")
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: scripts/setup.sh --test installs axe-core")
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def node(build_dir, tmp_path):
    n = Node(build_dir, tmp_path / "data").start()
    yield n
    n.kill()


@pytest.fixture
def dash(browser, node):
    d = Dashboard(browser, node, TOKEN)
    yield d
    d.close()


@pytest.fixture(scope="session")
def shots(build_dir) -> Path:
    d = build_dir / "dashboard-screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


def deployed(node, name: str, wasm: Path) -> dict:
    r = node.deploy(name, wasm)
    assert r.status in (200, 201), (r.status, r.body)
    return json.loads(r.body)


def eventually(fn, timeout: float = 10.0, interval: float = 0.1):
    """fn()'s first truthy value within timeout (for state outside the page,
    where Playwright's expect cannot wait)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def assert_clean(page, watch) -> None:
    problems = watch.problems(page)
    assert not problems, "\n".join(problems)


# ---- login, session, logout ---------------------------------------------------

def test_a_wrong_token_is_refused_and_the_right_one_signs_in_without_storing_it(dash, node):
    ctx, page, watch = dash.open(logged_in=False)
    watch.expected.append(REFUSED_LOGIN)
    page.goto(dash.url)
    expect(page).to_have_url(re.compile(r"#/login$"))
    token_field = page.get_by_label("Admin token")
    expect(token_field).to_be_focused()
    expect(token_field).to_have_attribute("type", "password")

    token_field.fill("not-the-token-0123456789")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not accepted")
    assert not [c for c in ctx.cookies() if c["name"] == "fn0_session"]

    token_field.fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/$"))
    cookie = next(c for c in ctx.cookies() if c["name"] == "fn0_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/_fn0/"
    # The token reached the node once; nothing in the page's storage holds it,
    # and the session cookie is out of the scripts' reach.
    kept = page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
                         " document.cookie])")
    assert TOKEN not in kept and cookie["value"] not in kept
    assert TOKEN not in page.content()
    expect(page.get_by_text("admin", exact=True)).to_be_visible()  # the role next to who is signed in
    assert_clean(page, watch)


def test_failed_logins_are_rate_limited_and_the_page_says_how_long_to_wait(dash):
    ctx, page, watch = dash.open(logged_in=False)
    watch.expected += [REFUSED_LOGIN, r"status of 429"]
    dash.goto(page, "/login")
    alert = page.get_by_role("alert")
    for attempt in range(1, 8):
        page.get_by_label("Admin token").fill(f"wrong-{attempt}-0123456789")
        page.get_by_role("button", name="Sign in").click()
        expect(alert).to_contain_text(re.compile("not accepted|Too many"))
        expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
        if "Too many" in alert.inner_text():
            break
    assert attempt == 6, f"the limit answered after {attempt} attempts, not the 6th"
    expect(alert).to_contain_text(re.compile(r"Too many failed logins.*Try again in \d+ s"))
    assert_clean(page, watch)


def test_logout_ends_the_session_and_the_old_cookie_is_refused(dash, node):
    cookie, session, _ = http_login(node, TOKEN)
    ctx, page, watch = dash.open(cookie=cookie)
    watch.expected.append(REFUSED_LOGIN)
    dash.goto(page, "/functions")
    expect(page.get_by_role("heading", name="Functions", level=1)).to_be_visible()
    assert with_cookie(node, "GET", "/functions", cookie).status == 200

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Admin token")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/login$"))
    # Replayed by another client, the old cookie opens nothing.
    r = with_cookie(node, "GET", "/functions", cookie)
    assert r.status == 401 and json.loads(r.body)["error"] == "unauthorized"
    assert json.loads(with_cookie(node, "GET", "/session", cookie).body)["authenticated"] is False
    assert not [c for c in ctx.cookies() if c["name"] == "fn0_session" and c["value"] == cookie]
    assert_clean(page, watch)


def test_a_session_ended_elsewhere_sends_the_page_to_the_login(dash, node):
    cookie, session, _ = http_login(node, TOKEN)
    ctx, page, watch = dash.open(cookie=cookie)
    watch.expected.append(REFUSED_LOGIN)
    dash.goto(page, "/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    r = with_cookie(node, "DELETE", "/session", cookie, csrf=session["csrf"], origin=dash.origin)
    assert r.status == 200, r.body
    # The next poll (every 5 s) gets 401 and the page goes to the login.
    expect(page.get_by_label("Admin token")).to_be_visible()
    assert_clean(page, watch)


# ---- CSRF -----------------------------------------------------------------------

class _Attacker(BaseHTTPRequestHandler):
    """A page on another origin (another port of 127.0.0.1: same site, so the
    SameSite cookie goes along and only the node's Origin/CSRF check stands
    in the way) that posts to the node in the background."""
    page = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *a):
        pass


def test_a_cross_site_post_without_the_csrf_token_is_refused(dash, node, examples_dir):
    deployed(node, "victim", examples_dir / "hello-c.wasm")
    cookie, session, _ = http_login(node, TOKEN)
    line = json.dumps({"key": "pwned", "value": base64.b64encode(b"x").decode()}) + "\n"

    # Replayed with the cookie alone, every write is refused...
    for method, path, body in (("PUT", "/functions/victim/env/K", b'{"value": "v"}'),
                               ("POST", "/functions/victim/kv-import", line.encode()),
                               ("DELETE", "/functions/victim", None),
                               ("DELETE", "/session", None)):
        r = with_cookie(node, method, path, cookie, body=body, content_type="application/json")
        assert r.status == 403 and json.loads(r.body)["error"] == "csrf", (method, path, r.status, r.body)
        # ...and with the token but from another origin too.
        r = with_cookie(node, method, path, cookie, csrf=session["csrf"], origin="http://evil.example",
                        body=body, content_type="application/json")
        assert r.status == 403 and json.loads(r.body)["error"] == "csrf", (method, path, r.status, r.body)
    r = with_cookie(node, "PUT", "/functions/victim/env/K", cookie, csrf="0" * len(session["csrf"]),
                    origin=dash.origin, body=b'{"value": "v"}', content_type="application/json")
    assert r.status == 403, r.body
    assert "K" not in json.loads(node.api("GET", "/functions/victim").body)["env"]
    assert node.api("GET", "/functions/victim").status == 200  # the DELETEs did nothing

    # A real browser on another origin, holding the session cookie, posts
    # to the node: refused, nothing written.
    ctx, page, watch = dash.open(cookie=cookie)
    dash.goto(page, "/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    port = free_port()
    attack = (f"<!doctype html><title>x</title><script>fetch('{dash.origin}/_fn0/api/v1/functions/victim/kv-import',"
              f"{{method: 'POST', mode: 'no-cors', credentials: 'include', body: {json.dumps(line)}}})"
              f".then(() => document.title = 'sent', () => document.title = 'failed');</script>")
    _Attacker.page = attack.encode()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Attacker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        evil = ctx.new_page()
        evil.goto(f"http://127.0.0.1:{port}/")
        expect(evil).to_have_title("sent")
    finally:
        server.shutdown()
    # Two refused replays above, then the browser's.
    posts = node.access_log_lines(lambda e: e.get("method") == "POST" and e.get("target", "").endswith("kv-import"), 3)
    assert len(posts) == 3 and all(e["status"] == 403 for e in posts), posts
    assert node.api("GET", "/functions/victim/kv/pwned").status == 404

    # The same call with the page's own token goes through: the refusals
    # above were the CSRF check, not a broken route.
    r = with_cookie(node, "POST", "/functions/victim/kv-import", cookie, csrf=session["csrf"], origin=dash.origin,
                    body=line.encode(), content_type="application/x-ndjson")
    assert r.status == 200, r.body
    assert node.api("GET", "/functions/victim/kv/pwned").body == b"x"


# ---- functions: deploy by upload -----------------------------------------------

def test_deploy_by_upload_shows_progress_and_the_url_that_then_answers(dash, node, examples_dir, guests_dir):
    ctx, page, watch = dash.open()
    dash.goto(page, "/functions")
    expect(page.get_by_text("No functions yet")).to_be_visible()
    expect(page.get_by_text("fn0 deploy").first).to_be_visible()

    # Not a component: said before anything is uploaded.
    page.locator("#deploy-file").set_input_files(
        files=[{"name": "app.js", "mimeType": "text/javascript", "buffer": b"export default {}\n"}])
    expect(page.get_by_role("alert")).to_contain_text("app.js is not WebAssembly")

    # Uploads slowed down so the progress can be seen.
    wasm = examples_dir / "hello-c.wasm"
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": max(20_000, wasm.stat().st_size // 3)})
    page.locator("#deploy-file").set_input_files(str(wasm))
    name = page.get_by_label("Function name")
    expect(name).to_have_value("hello-c")  # made from the file name, as fn0 deploy does
    name.fill("Web")
    expect(page.get_by_text("Use lowercase letters")).to_be_visible()
    name.fill("web")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.get_by_text(re.compile(r"Uploading \d+%"))).to_be_visible()
    progress = page.get_by_label("Upload progress")
    expect(progress).to_have_attribute("value", re.compile(r"^[1-9]\d*$"))
    result = page.locator(".deploy-result")
    expect(result).to_contain_text("web v1 deployed and live.")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    live_path = result.locator('a[href$="/web/"]').first.inner_text()
    assert live_path == f"http://127.0.0.1:{node.port}/web/"
    assert node.get("/web/").body == HELLO

    # The table shows it, and the search finds it.
    row = page.locator('tr[data-function="web"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("v1")

    # Drag and drop a second component onto the drop zone.
    data = base64.b64encode((guests_dir / "hostile-c.wasm").read_bytes()).decode()
    dt = page.evaluate_handle("""(b64) => {
      const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'Hostile_C.wasm', {type: 'application/wasm'}));
      return dt;
    }""", data)
    if not page.get_by_label("Function name").is_visible():
        page.get_by_role("button", name="Deploy a function").click()
    page.get_by_label("Function name").fill("")
    page.locator(".drop").dispatch_event("drop", {"dataTransfer": dt})
    expect(page.locator(".drop")).to_contain_text("Hostile_C.wasm")
    expect(page.get_by_label("Function name")).to_have_value("hostile-c")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.locator(".deploy-result")).to_contain_text("hostile-c v1 deployed and live.")
    assert node.get("/hostile-c/env?name=NOPE").status == 404  # hostile's answer for an unset variable

    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_label("Search functions").fill("host")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator('tr[data-function="hostile-c"]')).to_be_visible()
    page.get_by_label("Search functions").fill("zzz")
    expect(page.get_by_text('No function matches "zzz"')).to_be_visible()
    assert_clean(page, watch)


# ---- live numbers and logs -----------------------------------------------------

def test_requests_show_as_a_live_rate_and_their_log_lines_stream_in(dash, node, guests_dir):
    deployed(node, "shop", guests_dir / "hostile-c.wasm")
    ctx, page, watch = dash.open()
    dash.goto(page, "/functions/shop")
    rate = page.locator("figure", has=page.get_by_text("Request rate", exact=True)).locator(".chart-summary")
    expect(rate).to_have_text("now 0/s")
    # Traffic while the page is open: the rate shows within a poll (5 s),
    # not after the 10 s step (the newest point is the one in progress).
    stop = threading.Event()
    statuses = []

    def traffic():
        while not stop.is_set():
            statuses.append(node.get("/shop/log?lines=1").status)
            stop.wait(0.1)

    sender = threading.Thread(target=traffic, daemon=True)
    sender.start()
    try:
        expect(rate).to_have_text(re.compile(r"now (?!0/s)[\d.]+/s"))
        expect(page.locator(".stat", has_text="Requests").locator(".stat-value")).not_to_have_text("0/s")
    finally:
        stop.set()
        sender.join()
    assert statuses and set(statuses) == {200}

    dash.goto(page, "/functions")
    expect(page.locator('tr[data-function="shop"] [data-col="rate"]')).not_to_have_text("0/s")
    dash.goto(page, "/")
    expect(page.locator("tr", has=page.get_by_role("link", name="shop"))).to_be_visible()

    # The log tail: lines of a new request arrive while the page is open.
    page.get_by_role("link", name="shop").click()
    page.get_by_role("link", name="Logs").click()
    expect(page).to_have_url(re.compile(r"#/functions/shop\?tab=logs$"))
    expect(page.locator(".card-head .badge")).to_have_text("Live")
    r = node.get("/shop/log?lines=3")
    rid = r.header("fn0-request-id")
    assert rid
    lines = page.locator(".log-line", has_text=rid[:12])
    expect(lines).to_have_count(4)  # three on stdout, one on stderr
    expect(lines.filter(has_text="stdout line 2")).to_have_count(1)
    expect(lines.filter(has_text="stderr line")).to_have_class(re.compile("log-err"))

    # Filter by request id, then by text.
    page.get_by_label("Request id").fill(rid)
    expect(page.locator(".log-line")).to_have_count(4)
    page.get_by_label("Request id").fill("")
    page.get_by_label("Filter by text").fill("stdout line 2")
    expect(page.locator(".log-line")).to_have_count(1)
    page.get_by_label("Filter by text").fill("")

    # Paused, new lines are counted but not shown; resumed, they are.
    page.get_by_role("button", name="Pause").click()
    rid2 = node.get("/shop/log?lines=2").header("fn0-request-id")
    expect(page.get_by_text(re.compile(r"\d+ new lines while paused"))).to_be_visible()
    expect(page.locator(".log-line", has_text=rid2[:12])).to_have_count(0)
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".log-line", has_text=rid2[:12])).to_have_count(3)
    assert_clean(page, watch)


def test_the_log_tail_keeps_a_bounded_number_of_lines_in_the_page(dash, node, guests_dir):
    deployed(node, "chatty", guests_dir / "hostile-c.wasm")
    ctx, page, watch = dash.open()
    dash.goto(page, "/functions/chatty?tab=logs")
    expect(page.locator(".card-head .badge")).to_have_text("Live")
    for _ in range(6):
        assert node.get("/chatty/log?lines=100").status == 200  # 101 lines each
    expect(page.get_by_text(re.compile(r"newest 400 shown of 606 held"))).to_be_visible()
    assert page.locator(".log-line").count() == 400
    assert_clean(page, watch)


# ---- versions: rollback, promote, aliases, export ------------------------------

def test_rollback_and_promote_change_the_served_answer(dash, node, examples_dir, guests_dir):
    deployed(node, "flip", examples_dir / "hello-c.wasm")
    deployed(node, "flip", guests_dir / "hostile-c.wasm")
    assert node.get("/flip/").body != HELLO
    ctx, page, watch = dash.open()
    dash.goto(page, "/functions/flip?tab=versions")
    expect(page.locator('tr[data-version="v2"]')).to_contain_text("live")

    page.get_by_role("button", name="Roll back to v1").click()
    expect(page.get_by_text("v1 is live.")).to_be_visible()
    assert eventually(lambda: node.get("/flip/").body == HELLO)
    expect(page.locator("h1 .badge")).to_have_text("live v1")
    expect(page.locator('tr[data-version="v1"]')).to_contain_text("live")

    page.get_by_role("button", name="Promote to v2").click()
    expect(page.get_by_text("v2 is live.")).to_be_visible()
    assert eventually(lambda: node.get("/flip/").body != HELLO)

    # An alias of its own, then gone again.
    page.get_by_label("New alias").fill("canary")
    page.get_by_label("Points to").select_option("v1")
    page.get_by_role("button", name="Add alias").click()
    expect(page.locator('tr[data-alias="canary"]')).to_be_visible()
    assert eventually(lambda: node.get("/flip@canary/").body == HELLO)
    page.get_by_label("Version of canary").select_option("v2")
    assert eventually(lambda: node.get("/flip@canary/").body != HELLO)
    page.get_by_role("button", name="Delete alias canary").click()
    expect(page.locator('tr[data-alias="canary"]')).to_have_count(0)
    assert eventually(lambda: node.get("/flip@canary/").status == 404)

    # Export: the download is the uploaded component, byte for byte.
    href = page.get_by_role("link", name="Download v1").get_attribute("href")
    got = page.request.get(dash.origin + href)
    assert got.ok and got.body() == (examples_dir / "hello-c.wasm").read_bytes()
    assert_clean(page, watch)


# ---- env vars, secrets, settings -------------------------------------------------

def test_an_env_var_set_in_the_page_is_what_the_guest_reads(dash, node, guests_dir):
    deployed(node, "envy", guests_dir / "hostile-c.wasm")
    ctx, page, watch = dash.open()
    dash.goto(page, "/functions/envy?tab=env")
    expect(page.get_by_text("No environment variables")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("1BAD")
    page.get_by_role("button", name="Add variable").click()
    expect(page.get_by_text("not starting with a digit").first).to_be_visible()
    assert json.loads(node.api("GET", "/functions/envy").body)["env"] == {}

    page.get_by_label("Name", exact=True).fill("GREETING")
    page.get_by_label("Value", exact=True).fill("hej från fn0")
    page.get_by_role("button", name="Add variable").click()
    expect(page.locator('tr[data-env="GREETING"]')).to_contain_text("hej från fn0")
    assert eventually(lambda: node.get("/envy/env?name=GREETING").body == "hej från fn0".encode())

    page.get_by_role("button", name="Edit GREETING").click()
    page.get_by_label("Value of GREETING").fill("second")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('tr[data-env="GREETING"]')).to_contain_text("second")
    assert eventually(lambda: node.get("/envy/env?name=GREETING").body == b"second")

    page.get_by_role("button", name="Delete GREETING").click()
    expect(page.get_by_text("No environment variables")).to_be_visible()
    assert eventually(lambda: node.get("/envy/env?name=GREETING").status == 404)
    assert_clean(page, watch)


def test_a_secret_reaches_the_guest_but_its_value_never_appears_in_the_page(dash, node, guests_dir):
    deployed(node, "vault", guests_dir / "hostile-c.wasm")
    first, second = "s3cret-" + secrets.token_hex(8), "s3cret-" + secrets.token_hex(8)
    ctx, page, watch = dash.open()
    dash.goto(page, "/functions/vault?tab=secrets")
    expect(page.get_by_text("No secrets")).to_be_visible()

    value = page.get_by_label("Value", exact=True)
    expect(value).to_have_attribute("type", "password")
    page.get_by_label("Name", exact=True).fill("API_KEY")
    value.fill(first)
    page.get_by_role("button", name="Set secret").click()
    expect(page.get_by_text("Set API_KEY. Its value is not shown again.")).to_be_visible()
    expect(page.locator('tr[data-secret="API_KEY"]')).to_be_visible()
    expect(value).to_have_value("")
    assert eventually(lambda: node.get("/vault/env?name=API_KEY").body == first.encode())

    page.get_by_role("button", name="Replace API_KEY").click()
    page.get_by_label("New value of API_KEY").fill(second)
    page.get_by_role("button", name="Replace", exact=True).click()
    expect(page.get_by_text("Replaced API_KEY.")).to_be_visible()
    assert eventually(lambda: node.get("/vault/env?name=API_KEY").body == second.encode())

    def shown_anywhere() -> str:
        return page.content() + page.evaluate(
            "() => JSON.stringify([[...document.querySelectorAll('input, textarea')].map(e => e.value),"
            " Object.entries(localStorage), Object.entries(sessionStorage)])")

    for tab in ("secrets", "env", "overview", "settings"):
        dash.goto(page, f"/functions/vault?tab={tab}")
        expect(page.locator(".tab[aria-current=page]")).to_be_visible()
        page.wait_for_load_state("networkidle")
        seen = shown_anywhere()
        assert first not in seen and second not in seen, tab

    dash.goto(page, "/functions/vault?tab=secrets")
    page.get_by_role("button", name="Delete API_KEY").click()
    expect(page.get_by_text("No secrets")).to_be_visible()
    assert eventually(lambda: node.get("/vault/env?name=API_KEY").status == 404)
    assert_clean(page, watch)


def test_settings_are_saved_whole_and_show_the_nodes_limits(dash, node, guests_dir):
    deployed(node, "tune", guests_dir / "hostile-c.wasm")
    node_cpu = json.loads(node.api("GET", "/status").body)["function_limits"]["cpu_ms"]["max"]
    ctx, page, watch = dash.open()
    watch.expected.append(r"status of 400")  # the refused allow-list entry below
    dash.goto(page, "/functions/tune?tab=settings")
    cpu = page.get_by_label("CPU time")
    expect(cpu).to_have_attribute("placeholder", str(node_cpu))
    expect(page.locator("#set-cpu_ms-help")).to_contain_text(f"Node: {node_cpu:,} ms")

    cpu.fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#set-cpu_ms-help")).to_have_text("Between 1 and 600000.")
    cpu.fill(str(node_cpu + 5))
    expect(page.locator("#set-cpu_ms-help")).to_contain_text(f"{node_cpu:,} applies")

    cpu.fill("5")
    page.get_by_label("Memory").fill("32")
    page.get_by_label("Instance reuse").fill("4")
    page.get_by_label(re.compile("Address ranges")).fill("not-a-range")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_contain_text("not an address range")
    page.get_by_label(re.compile("Address ranges")).fill("127.0.0.1/32:9\n10.0.0.0/8")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert json.loads(node.api("GET", "/functions/tune/settings").body) == {
        "cpu_ms": 5, "memory_mb": 32, "reuse_instance_requests": 4, "allow": ["127.0.0.1/32:9", "10.0.0.0/8"]}

    # An emptied field goes back to the node's value: left out of the PUT.
    cpu.fill("")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert "cpu_ms" not in json.loads(node.api("GET", "/functions/tune/settings").body)
    assert_clean(page, watch)


# ---- delete ------------------------------------------------------------------------

def test_delete_asks_for_the_name_and_offers_keep_or_delete_for_key_value_data(dash, node, examples_dir):
    deployed(node, "gone", examples_dir / "hello-c.wasm")
    assert node.api("PUT", "/functions/gone/kv/k", b"v", content_type="application/octet-stream").status == 200
    ctx, page, watch = dash.open()
    watch.expected.append(r"status of 409")  # has-data, on purpose
    dash.goto(page, "/functions/gone?tab=settings")
    opener = page.get_by_role("button", name="Delete gone…")
    opener.click()
    dialog = page.get_by_role("dialog", name="Delete gone?")
    expect(dialog).to_be_visible()
    confirm = dialog.get_by_label("Function name")
    expect(confirm).to_be_focused()
    delete = dialog.get_by_role("button", name="Delete function")
    expect(delete).to_be_disabled()
    confirm.fill("gon")
    expect(delete).to_be_disabled()
    # Escape closes the dialog and gives the focus back.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert node.get("/gone/").body == HELLO

    opener.click()
    dialog.get_by_label("Function name").fill("gone")
    dialog.get_by_role("button", name="Delete function").click()
    expect(dialog.get_by_role("alert")).to_contain_text(re.compile(r"gone has 1 key \(\d+ B\) in its key-value bucket"))
    assert node.get("/gone/").body == HELLO  # nothing deleted yet
    dialog.get_by_role("button", name="Keep the data").click()
    expect(page).to_have_url(re.compile(r"#/functions$"))
    assert node.api("GET", "/functions/gone").status == 404
    assert eventually(lambda: node.get("/gone/").status == 404)
    expect(page.locator('tr[data-function="gone"]')).to_have_count(0)
    assert_clean(page, watch)


# ---- the whole thing: every page, both themes, two widths ---------------------------

PAGES = [  # (route, file name, what shows when it has loaded)
    ("/", "overview", "Top functions"),
    ("/functions", "functions", "All functions"),
    ("/functions/hello", "function", "Last hour"),
    ("/functions/hello?tab=versions", "function-versions", "Aliases"),
    ("/functions/hello?tab=logs", "function-logs", "stdout line"),
    ("/functions/hello?tab=env", "function-env", "MODE"),
    ("/functions/hello?tab=secrets", "function-secrets", "API_KEY"),
    ("/functions/hello?tab=settings", "function-settings", "Delete this function"),
    ("/cluster", "cluster", "Not a cluster"),
    ("/nowhere", "not-found", "There is no page"),
]
BOTH_THEMES = {"overview", "function", "function-versions", "function-logs", "functions"}


@pytest.fixture
def busy_node(node, examples_dir, guests_dir):
    """A node with a few functions, versions, env, a secret and traffic."""
    deployed(node, "hello", examples_dir / "hello-c.wasm")
    deployed(node, "hello", guests_dir / "hostile-c.wasm")
    deployed(node, "echo", examples_dir / "echo-c.wasm")
    deployed(node, "image-resize", guests_dir / "hostile-c.wasm")
    node.api("PUT", "/functions/hello/aliases/staging", {"version": "v1"})
    node.api("PUT", "/functions/hello/env/MODE", {"value": "production"})
    node.api("PUT", "/functions/hello/env/GREETING", {"value": "hej"})
    node.api("PUT", "/functions/hello/secrets/API_KEY", {"value": "never-shown-" + secrets.token_hex(4)})
    node.api("PUT", "/functions/hello/settings", {"cpu_ms": 8, "allow": ["10.0.0.0/8"]})
    for i in range(30):
        node.get(f"/hello/log?lines={1 + i % 3}")
        node.get("/echo/", headers=[("x-n", str(i))])
        if i % 3 == 0:
            node.get("/image-resize/status?code=503")
        if i % 10 == 0:
            node.get("/hello/nope")  # a 404 from the guest
    return node


def test_every_page_renders_without_errors_or_csp_violations_and_is_screenshotted(browser, busy_node, shots):
    node = busy_node
    d = Dashboard(browser, node, TOKEN)
    r = node.get("/_fn0/")
    assert r.status == 200 and "script-src 'self'" in (r.header("content-security-policy") or "")
    assert "'unsafe-inline'" not in r.header("content-security-policy")
    for m in re.findall(r'(?:src|href)="(/_fn0/assets/[^"]+)"', r.body.decode()):
        assert re.search(r"\.[0-9A-Za-z]{8,}\.(js|css|svg)$", m), m
        asset = node.get(m)
        assert asset.status == 200 and "immutable" in (asset.header("cache-control") or ""), m
    try:
        cookie = http_login(node, TOKEN)[0]
        for scheme in ("light", "dark"):
            for width, height in ((1280, 900), (390, 844)):
                ctx, page, watch = d.open(logged_in=False, width=width, height=height, scheme=scheme)
                watch.expected.append(REFUSED_LOGIN)
                page.goto(d.url)
                expect(page.get_by_label("Admin token")).to_be_visible()
                if scheme == "light":
                    page.screenshot(path=str(shots / f"login-{width}-{scheme}.png"), full_page=True)
                ctx.add_cookies([{"name": "fn0_session", "value": cookie, "domain": "127.0.0.1", "path": "/_fn0/"}])
                page.reload()  # the page asks for its session when it loads
                expect(page.get_by_role("button", name="Log out")).to_be_visible()
                for route, name, marker in PAGES:
                    if scheme == "dark" and name not in BOTH_THEMES:
                        continue
                    d.goto(page, route)
                    expect(page.get_by_text(marker).first).to_be_visible()
                    expect(page.locator(".loading")).to_have_count(0)
                    if name in ("overview", "function"):
                        expect(page.locator(".chart-box canvas")).to_have_count(3)
                    # Nothing wider than the screen: tables scroll in their own box.
                    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
                    assert overflow <= 0, f"{route} at {width} px is {overflow} px too wide"
                    page.screenshot(path=str(shots / f"{name}-{width}-{scheme}.png"), full_page=True)
                assert_clean(page, watch)
                ctx.close()
    finally:
        d.close()
    assert len(list(shots.glob("*.png"))) >= 2 * len(PAGES) + 2 * len(BOTH_THEMES)


def test_keyboard_use_and_the_theme_switch(dash, node, examples_dir):
    deployed(node, "hello", examples_dir / "hello-c.wasm")
    ctx, page, watch = dash.open()
    dash.goto(page, "/functions")
    expect(page.get_by_role("heading", name="Functions", level=1)).to_be_visible()
    # The first Tab reaches the skip link; it moves focus to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    # Links and buttons are reachable and work from the keyboard.
    link = page.get_by_role("link", name="hello", exact=True)
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="hello", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Function sections")).to_be_visible()

    # The theme switch: stored (the only thing kept in localStorage), kept on reload.
    light_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    page.get_by_role("button", name="Switch to dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    dark_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert dark_bg != light_bg
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate("() => Object.keys(localStorage)") == ["fn0-theme"]
    page.get_by_role("button", name="Switch to light theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert_clean(page, watch)


# ---- accessibility ---------------------------------------------------------------------

def test_every_page_passes_axe_without_serious_violations(browser, busy_node):
    node = busy_node
    d = Dashboard(browser, node, TOKEN)
    found = {}
    try:
        for scheme in ("light", "dark"):
            # axe is injected as a script: only this context runs without the CSP.
            ctx, page, watch = d.open(logged_in=False, scheme=scheme, bypass_csp=True)
            page.goto(d.url)
            expect(page.get_by_label("Admin token")).to_be_visible()
            found[f"login ({scheme})"] = run_axe(page)
            page.get_by_label("Admin token").fill(TOKEN)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
            for route, name, marker in PAGES:
                d.goto(page, route)
                expect(page.get_by_text(marker).first).to_be_visible()
                expect(page.locator(".loading")).to_have_count(0)
                found[f"{name} ({scheme})"] = run_axe(page)
            # The delete dialog, open.
            d.goto(page, "/functions/hello?tab=settings")
            page.get_by_role("button", name="Delete hello…").click()
            expect(page.get_by_role("dialog")).to_be_visible()
            found[f"delete dialog ({scheme})"] = run_axe(page)
            ctx.close()
    finally:
        d.close()
    assert len(found) == 2 * (len(PAGES) + 2)
    bad = {k: v for k, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1)
