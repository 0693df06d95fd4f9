"""The dashboard in a real browser (Debian's chromium through Playwright) for
what test_dashboard.py does not cover: a viewer's session shows every page
with no control that changes anything (and the API refuses a change anyway),
and the cluster page against a real two-node cluster (PostgreSQL + versitygw)
lists every node with its state, load and warm count."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as e:  # a failure, not a skip: make test must run these
    raise ImportError("Playwright for Python is missing: scripts/setup.sh --test installs it") from e

from cluster import members, node_id, wait_for  # noqa: E402
from dashboard_browser import CHROMIUM, Dashboard, http_login, launch, with_cookie  # noqa: E402
from node import TOKEN  # noqa: E402

expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: scripts/setup.sh --test installs Debian's chromium")
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def assert_clean(page, watch) -> None:
    problems = watch.problems(page)
    assert not problems, "\n".join(problems)


def make_token(node, name: str, role: str) -> str:
    r = node.api("POST", "/tokens", {"name": name, "role": role})
    assert r.status == 201, r.body
    return json.loads(r.body)["token"]


def test_a_viewer_sees_every_page_but_no_control_that_changes_anything(browser, node, examples_dir):
    # Two versions: v1 could be rolled back to, by someone allowed to.
    for wasm in ("hello-c.wasm", "echo-c.wasm"):
        assert node.deploy("hello", examples_dir / wasm).status in (200, 201)
    assert node.api("PUT", "/functions/hello/env/MODE", {"value": "visible"}).status in (200, 204)
    viewer = make_token(node, "watcher", "viewer")
    d = Dashboard(browser, node, viewer)
    try:
        _, page, watch = d.open()
        d.goto(page, "/functions")
        expect(page.locator("a", has_text="hello").first).to_be_visible()
        expect(page.locator(".who")).to_contain_text("viewer")
        expect(page.get_by_role("button", name="Deploy a function")).to_have_count(0)

        d.goto(page, "/functions/hello?tab=versions")
        expect(page.locator("#versions-table tr[data-version=v1]")).to_be_visible()
        expect(page.get_by_role("button", name="Roll back to v1")).to_have_count(0)

        d.goto(page, "/functions/hello?tab=env")
        expect(page.locator("#env-table")).to_contain_text("visible")
        expect(page.locator("#env-new-key")).to_have_count(0)
        expect(page.get_by_role("button", name="Delete MODE")).to_have_count(0)

        d.goto(page, "/functions/hello?tab=secrets")
        expect(page.get_by_role("form", name="Set a secret")).to_have_count(0)

        d.goto(page, "/functions/hello?tab=settings")
        expect(page.get_by_role("spinbutton", name="CPU time (ms)")).to_be_disabled()
        expect(page.locator("#set-allow")).to_be_disabled()
        expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
        expect(page.get_by_role("button", name="Delete hello…")).to_have_count(0)
        assert_clean(page, watch)
    finally:
        d.close()
    # What the page hides the API refuses: the viewer's own cookie and CSRF
    # token cannot roll back.
    cookie, session, _ = http_login(node, viewer)
    r = with_cookie(node, "PUT", "/functions/hello/aliases/live", cookie, csrf=session["csrf"],
                    body=json.dumps({"version": "v1"}).encode(), content_type="application/json")
    assert r.status == 403, (r.status, r.body)
    assert json.loads(node.api("GET", "/functions/hello").body)["live"] == "v2"


def test_the_cluster_page_lists_every_node_with_state_load_and_warm_count(browser, cluster, examples_dir):
    a, b = cluster.node("a", "--no-forward"), cluster.node("b", "--no-forward")
    assert a.deploy("hello", examples_dir / "hello-c.wasm").status == 201
    for n in (a, b):
        wait_for(lambda: n.get("/hello").status == 200, timeout=30, every=0.05)
    ids = sorted(node_id(n) for n in (a, b))
    # Both see both up, and each holds hello warm (it answered on each).
    wait_for(lambda: all(sorted(m for m, v in members(n).items() if v["state"] == "up") == ids
                         and all(v["warm"] >= 1 for v in members(n).values()) for n in (a, b)),
             timeout=15, every=0.1)
    d = Dashboard(browser, a, TOKEN)
    try:
        _, page, watch = d.open()
        d.goto(page, "/cluster")
        rows = page.locator("#nodes-table tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator(".page-sub")).to_contain_text(f"2 of 2 nodes up · this node: {node_id(a)}")
        seen = members(a)
        for nid in ids:
            row = page.locator(f'#nodes-table tr[data-node="{nid}"]')
            expect(row).to_contain_text("up")
            expect(row.locator("td.num").first).to_have_text(str(seen[nid]["warm"]))
            expect(row.locator(".load .num")).to_have_text(f"{seen[nid]['running']:,} / {seen[nid]['capacity']:,}")
        expect(page.locator(f'#nodes-table tr[data-node="{node_id(a)}"]')).to_contain_text("this node")
        expect(page.locator(f'#nodes-table tr[data-node="{node_id(b)}"]')).not_to_contain_text("this node")
        # A node that stops shows as no longer up, without a reload (the page polls).
        b.kill()
        expect(page.locator(f'#nodes-table tr[data-node="{node_id(b)}"] .badge').first).not_to_have_text(
            "up", timeout=30_000)
        assert_clean(page, watch)
    finally:
        d.close()
