"""examples/ssr (TypeScript, Preact rendered on the server, posts in the
function's key-value bucket): the list and detail pages, their links under
path and host routing, cache headers and ETags, the 404 page, HTML escaping
of stored data, posts added with `fn0 kv`; the same pages, byte for byte,
under `wasmtime serve -Skeyvalue`."""
from __future__ import annotations

import html.parser
import json
import tomllib
from pathlib import Path

import pytest

NAME = "ssr"
PROJECT = Path(__file__).resolve().parents[2] / "examples" / NAME
DOMAIN = "apps.test"
SEEDED = {"hello-fn0": "Hello from fn0", "state-in-a-stateless-world": "State in a stateless world",
          "write-your-own-post": "Write your own post"}
# Newest first (the samples' dates).
SEEDED_ORDER = ["write-your-own-post", "state-in-a-stateless-world", "hello-fn0"]


@pytest.fixture(scope="module")
def component(build_dir) -> Path:
    path = build_dir / "examples" / f"{NAME}.wasm"
    assert path.is_file(), f"{path} missing: run `make examples`"
    return path


class Page(html.parser.HTMLParser):
    """The parts of a page the tests look at: <title>, <h1>, links, <p> texts."""

    def __init__(self, body: bytes):
        super().__init__()
        self.title = self.h1 = ""
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.paragraphs: list[str] = []
        self._tag, self._href, self._text = None, None, ""
        self.feed(body.decode())

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "h1", "p"):
            self._tag, self._text = tag, ""
        if tag == "a":
            self._href, self._link = dict(attrs).get("href"), ""

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._link))
            self._href = None
        if tag == self._tag:
            if tag == "title":
                self.title = self._text
            elif tag == "h1":
                self.h1 = self._text
            else:
                self.paragraphs.append(self._text)
            self._tag = None

    def handle_data(self, data):
        if self._tag:
            self._text += data
        if self._href is not None:
            self._link += data


def start(node_factory, component):
    """A node with the function deployed as `fn0 deploy` would: fn0.toml's
    [settings] applied (the node's cap raised to allow them)."""
    settings = tomllib.loads((PROJECT / "fn0.toml").read_text())["settings"]
    node = node_factory("--base-domain", DOMAIN, "--cpu-ms", str(settings["cpu_ms"]))
    r = node.deploy(NAME, component)
    assert r.status in (200, 201), r.body
    r = node.api("PUT", f"/functions/{NAME}/settings", settings)
    assert r.status == 200, r.body
    r = node.api("PUT", f"/functions/{NAME}/env/SITE_TITLE", {"value": "Test journal"})
    assert r.status == 200, r.body
    return node


def by_path(node, target, method="GET", headers=()):
    return node.client().request(method, f"/{NAME}{target}", headers=list(headers))


def by_host(node, target, method="GET", headers=()):
    return node.client().request(method, target, headers=[("Host", f"{NAME}.{DOMAIN}"), *headers])


def post_links(page: Page) -> list[str]:
    return [href for href, _ in page.links if "/posts/" in href]




def test_list_and_detail_pages_follow_their_links(node_factory, component):
    node = start(node_factory, component)
    for get, base in ((by_path, f"/{NAME}"), (by_host, "")):
        r = get(node, "/")
        assert r.status == 200, r.body
        assert r.header("content-type") == "text/html; charset=utf-8"
        assert r.header("cache-control") == "public, max-age=30"
        assert r.body.startswith(b"<!doctype html><html lang=\"en\">")
        page = Page(r.body)
        assert page.title == page.h1 == "Test journal"  # the function's variable
        # The seeded posts, newest first, linked under the mount point.
        assert post_links(page) == [f"{base}/posts/{s}" for s in SEEDED_ORDER]
        for href, text in page.links:
            if "/posts/" in href:
                assert text == SEEDED[href.rsplit("/", 1)[1]]
        # Follow each link as a browser would: the detail page and back.
        for href in post_links(page):
            d = node.client().request("GET", href, headers=[] if base else [("Host", f"{NAME}.{DOMAIN}")])
            assert d.status == 200, (href, d.body)
            detail = Page(d.body)
            slug = href.rsplit("/", 1)[1]
            assert detail.h1 == SEEDED[slug]
            assert detail.title == f"{SEEDED[slug]} \u2014 Test journal"
            assert len(detail.paragraphs) >= 3  # meta + two paragraphs
            assert (f"{base}/", "All posts") in detail.links
            assert (f"{base}/", "Test journal") in detail.links


def test_etag_head_405_and_the_404_page(node_factory, component):
    node = start(node_factory, component)
    r = by_path(node, "/posts/hello-fn0")
    etag = r.header("etag")
    assert r.status == 200 and etag and etag.startswith('"')
    for inm in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        nm = by_path(node, "/posts/hello-fn0", headers=[("If-None-Match", inm)])
        assert nm.status == 304, inm
        assert nm.body == b"" and nm.header("etag") == etag
    assert by_path(node, "/posts/hello-fn0", headers=[("If-None-Match", '"other"')]).status == 200
    # Another page has another validator.
    assert by_path(node, "/").header("etag") != etag

    head = by_path(node, "/posts/hello-fn0", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.header("etag") == etag

    for target in ("/posts/no-such-post", "/nothing/here", "/posts/%zz", "/posts/UPPER", "/posts/a/b"):
        nf = by_path(node, target)
        assert nf.status == 404, target
        assert nf.header("content-type") == "text/html; charset=utf-8"
        assert nf.header("cache-control") == "public, max-age=10"
        page = Page(nf.body)
        assert page.h1 == "Not found"
        assert (f"/{NAME}/", "All posts") in page.links

    for method in ("POST", "PUT", "DELETE"):
        r = by_path(node, "/", method=method)
        assert r.status == 405 and r.header("allow") == "GET, HEAD", method


def test_posts_come_from_the_key_value_store(node_factory, component, build_dir, tmp_path):
    """Seeded once (an atomic increment), then `fn0 kv` adds, changes and
    deletes posts; stored text is escaped, a malformed value is skipped."""
    node = start(node_factory, component)
    assert by_path(node, "/").status == 200
    listed = node.cli("kv", NAME, "list", "--prefix", "post/", "--json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(k["key"] for k in json.loads(listed.stdout)["keys"]) == sorted(f"post/{s}" for s in SEEDED)

    post = {"title": "<script>alert(1)</script> & more", "author": "Ann", "date": "2026-12-24",
            "body": ["First <b>paragraph</b>.", "Second."]}
    f = tmp_path / "post.json"
    f.write_text(json.dumps(post))
    assert node.cli("kv", NAME, "set", "post/new-one", "--file", str(f)).returncode == 0
    assert node.cli("kv", NAME, "set", "post/broken", "{not json").returncode == 0
    assert node.cli("kv", NAME, "delete", "post/hello-fn0").returncode == 0

    r = by_path(node, "/")
    assert b"<script>" not in r.body and b"&lt;script>alert(1)&lt;/script> &amp; more" in r.body
    page = Page(r.body)
    assert post_links(page) == [f"/{NAME}/posts/{s}" for s in
                                ["new-one", "write-your-own-post", "state-in-a-stateless-world"]]
    d = by_path(node, "/posts/new-one")
    assert d.status == 200
    assert Page(d.body).h1 == post["title"]
    assert b"First &lt;b>paragraph&lt;/b>." in d.body
    assert by_path(node, "/posts/hello-fn0").status == 404  # deleted
    assert by_path(node, "/posts/broken").status == 404  # not a post
    # Deleting every post does not seed them again.
    for s in ("new-one", "write-your-own-post", "state-in-a-stateless-world", "broken"):
        assert node.cli("kv", NAME, "delete", f"post/{s}").returncode == 0
    empty = Page(by_path(node, "/").body)
    assert post_links(empty) == [] and "No posts yet." in empty.paragraphs


def test_same_pages_as_wasmtime_serve(node_factory, component, reference_host, build_dir):
    """Host routing (mount point "") against the reference host's in-memory
    store, which starts empty for each request: the first request seeds it."""
    node = start(node_factory, component)
    ref = reference_host(component, extra_args=["--env", "SITE_TITLE=Test journal"])
    targets = ["/", "/posts/hello-fn0", "/posts/write-your-own-post", "/posts/missing", "/x/y", "/posts/%zz"]
    for target in targets:
        a = by_host(node, target)
        b = ref.client().request("GET", target)
        assert (a.status, a.body) == (b.status, b.body), target
        for h in ("content-type", "cache-control", "etag"):
            assert a.header(h) == b.header(h), (target, h)
    for method in ("POST", "DELETE"):
        a, b = by_host(node, "/", method=method), ref.client().request(method, "/")
        assert (a.status, a.header("allow"), a.body) == (b.status, b.header("allow"), b.body)


def test_cpu_per_page(node_factory, component, build_dir):
    """Guest CPU per rendered page from the access log, into
    build/language-figures/ssr.json."""
    node = start(node_factory, component)
    assert by_path(node, "/").status == 200  # seeds the bucket
    for _ in range(10):
        assert by_path(node, "/").status == 200
        assert by_path(node, "/posts/hello-fn0").status == 200

    def cpus(target):
        lines = node.access_log_lines(lambda e: e.get("function") == NAME and e.get("target") == target
                                      and e.get("status") == 200, 11 if target == f"/{NAME}/" else 10)
        return sorted(int(e["cpu_us"]) for e in lines)[-10:]

    lst, detail = cpus(f"/{NAME}/"), cpus(f"/{NAME}/posts/hello-fn0")
    assert len(lst) == len(detail) == 10
    out = build_dir / "language-figures"
    out.mkdir(exist_ok=True)
    (out / "ssr.json").write_text(json.dumps({
        "component_bytes": component.stat().st_size,
        "cpu_us_median_list": lst[5], "cpu_us_median_detail": detail[5]}, indent=1) + "\n")
    # fn0.toml's settings ask for 25 ms a page.
    assert lst[5] < 25_000 and detail[5] < 25_000
