"""examples/rest-api (Go): a CRUD resource, notes, in the function's
key-value bucket. On an fn0 node through real HTTP: the CRUD round trip,
every validation rule, conditional requests, pagination over 250 notes, a
store error, a node restart, and `fn0 kv` reading the notes. The same
single-request cases under `wasmtime serve -S keyvalue` (whose in-memory
store starts empty for every request) must give the same statuses and error
codes. CPU per request goes to build/language-figures/rest-api.json."""
from __future__ import annotations

import base64
import http.client
import json
import re
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from http_client import HttpClient, Reply

NAME = "rest-api"
PROJECT = Path(__file__).parents[2] / "examples" / NAME
JSON = [("content-type", "application/json")]


def toml_settings() -> dict:
    """fn0.toml's [settings]: what `fn0 deploy` applies (empty: the node's defaults)."""
    return tomllib.loads((PROJECT / "fn0.toml").read_text()).get("settings", {})


def node_args() -> list[str]:
    """The node's own caps, raised just enough for the function's settings."""
    s = toml_settings()
    return ["--cpu-ms", str(max(10, s.get("cpu_ms", 10))), "--memory-mb", str(max(128, s.get("memory_mb", 128)))]


@pytest.fixture(scope="module")
def component(build_dir) -> Path:
    path = build_dir / "examples" / f"{NAME}.wasm"
    assert path.is_file(), f"{path} missing: run `make examples`"
    return path


def deploy(node, component, extra_settings: dict | None = None):
    r = node.deploy(NAME, component)
    assert r.status in (200, 201), r.body
    settings = dict(toml_settings(), **(extra_settings or {}))
    if settings:
        r = node.api("PUT", f"/functions/{NAME}/settings", settings)
        assert r.status == 200, r.body


@pytest.fixture
def api(node_factory, component):
    node = node_factory(*node_args())
    deploy(node, component)
    return Api(node.client(), f"/{NAME}", node)


class Api:
    """The function behind a node (/rest-api/...) or wasmtime serve (/...)."""

    def __init__(self, client: HttpClient, prefix: str = "", node=None):
        self.c, self.prefix, self.node = client, prefix, node

    def call(self, method, path, body=None, headers=None, json_body=None) -> Reply:
        headers = list(headers or [])
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers += JSON
        return self.c.request(method, self.prefix + path, body=body, headers=headers)

    def create(self, note: dict) -> dict:
        r = self.call("POST", "/notes", json_body=note)
        assert r.status == 201, (r.status, r.body)
        return json.loads(r.body)

    def list(self, query="") -> dict:
        r = self.call("GET", "/notes" + query)
        assert r.status == 200, (r.status, r.body)
        assert r.header("content-type") == "application/json"
        return json.loads(r.body)

    def all_pages(self, limit: int) -> list[list[dict]]:
        pages, query = [], f"?limit={limit}"
        while True:
            page = self.list(query)
            pages.append(page["notes"])
            if page["next_cursor"] is None:
                return pages
            assert isinstance(page["next_cursor"], str) and page["next_cursor"]
            query = f"?limit={limit}&cursor={page['next_cursor']}"
            assert len(pages) < 1000, "the cursor never ends"


def error(r: Reply) -> dict:
    """The function's JSON error (not one of the node's: no fn0-error header)."""
    assert r.header("fn0-error") is None, (r.status, r.body)
    assert r.header("content-type") == "application/json", r.headers
    e = json.loads(r.body)
    assert isinstance(e["error"], str) and isinstance(e["message"], str) and e["message"], e
    return e


def rfc3339(s: str) -> float:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", s), s
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


# ---- the CRUD round trip ----------------------------------------------------

def test_crud_round_trip(api):
    before = time.time()
    r = api.call("POST", "/notes", json_body={"title": "Groceries", "body": "milk, eggs", "tags": ["home", "todo"]})
    assert r.status == 201, r.body
    note = json.loads(r.body)
    assert set(note) == {"id", "title", "body", "tags", "created_at", "updated_at"}
    assert (note["title"], note["body"], note["tags"]) == ("Groceries", "milk, eggs", ["home", "todo"])
    assert isinstance(note["id"], int) and note["id"] >= 1
    assert note["created_at"] == note["updated_at"]
    assert before - 120 < rfc3339(note["created_at"]) < time.time() + 120  # the node's wall clock
    nid = note["id"]
    assert r.header("location") == f"/{NAME}/notes/{nid}"  # the client's path, not the function's
    etag = r.header("etag")
    assert re.fullmatch(r'"[0-9a-f]{16,}"', etag), etag  # strong, quoted
    # Through its own host name the function's path is the client's.
    r = api.c.request("POST", "/notes", body=b'{"title": "by host"}',
                      headers=JSON + [("host", f"{NAME}.fn0.localhost")])
    assert r.status == 201 and r.header("location") == f"/notes/{nid + 1}", (r.status, r.headers)
    assert api.call("DELETE", f"/notes/{nid + 1}").status == 204

    r = api.call("GET", f"/notes/{nid}")
    assert r.status == 200 and json.loads(r.body) == note
    assert r.header("etag") == etag and r.header("content-type") == "application/json"
    head = api.call("HEAD", f"/notes/{nid}")
    assert head.status == 200 and head.body == b"" and head.header("etag") == etag

    # Optional fields default to empty; a full replace keeps id and created_at.
    other = api.create({"title": "Second"})
    assert (other["body"], other["tags"], other["id"]) == ("", [], nid + 2)

    time.sleep(0.01)
    r = api.call("PUT", f"/notes/{nid}", json_body={"title": "Groceries (Saturday)", "tags": ["home"]})
    assert r.status == 200, r.body
    put = json.loads(r.body)
    assert put["id"] == nid and put["title"] == "Groceries (Saturday)"
    assert put["body"] == "" and put["tags"] == ["home"]  # replaced, not merged
    assert put["created_at"] == note["created_at"] and rfc3339(put["updated_at"]) > rfc3339(note["updated_at"])
    assert r.header("etag") not in (None, etag)
    r2 = api.call("GET", f"/notes/{nid}")
    assert json.loads(r2.body) == put and r2.header("etag") == r.header("etag")
    # A PUT may send back the whole note it read: id and times are ignored.
    echo = dict(put, title="Again", id=999, created_at="1999-01-01T00:00:00Z")
    r = api.call("PUT", f"/notes/{nid}", json_body=echo)
    assert r.status == 200 and json.loads(r.body)["id"] == nid, r.body
    assert json.loads(r.body)["created_at"] == note["created_at"]

    assert [n["id"] for n in api.list()["notes"]] == [nid, nid + 2]
    r = api.call("DELETE", f"/notes/{nid}")
    assert r.status == 204 and r.body == b""
    for method in ("GET", "DELETE"):
        r = api.call(method, f"/notes/{nid}")
        assert r.status == 404 and error(r)["error"] == "not-found", (method, r.body)
    r = api.call("PUT", f"/notes/{nid}", json_body={"title": "back?"})
    assert r.status == 404 and error(r)["error"] == "not-found"
    assert [n["id"] for n in api.list()["notes"]] == [nid + 2]
    # Ids are never reused.
    assert api.create({"title": "Third"})["id"] == nid + 3

    # One log line per request: method, path, status.
    want = {"POST /notes 201", f"GET /notes/{nid} 200", f"HEAD /notes/{nid} 200", f"PUT /notes/{nid} 200",
            f"DELETE /notes/{nid} 204", f"GET /notes/{nid} 404", "GET /notes 200"}
    deadline = time.monotonic() + 30
    while True:
        logs = json.loads(api.node.api("GET", f"/functions/{NAME}/logs").body)["entries"]
        lines = {e["line"].strip() for e in logs}
        if want <= lines or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert want <= lines, want - lines


# ---- the single-request cases: on a node and under wasmtime serve ----------

BIG = 64 * 1024


def padded(size: int) -> bytes:
    """A valid note body of exactly `size` bytes (spaces after the object)."""
    doc = json.dumps({"title": "padded"}).encode()
    return doc + b" " * (size - len(doc))


def chunks(data: bytes, n: int = 8192):
    return [data[i:i + n] for i in range(0, len(data), n)]


# (label, method, path, headers, body, expected status, error code, field).
# The store must be empty at the start (wasmtime serve's is for every
# request): the reads of note 1 and the empty list come first.
CASES = [
    ("empty list", "GET", "/notes", [], None, 200, None, None),
    ("get missing", "GET", "/notes/1", [], None, 404, "not-found", None),
    ("put missing", "PUT", "/notes/1", JSON, b'{"title": "x"}', 404, "not-found", None),
    ("delete missing", "DELETE", "/notes/1", [], None, 404, "not-found", None),
    ("id not a number", "GET", "/notes/abc", [], None, 404, "not-found", None),
    ("id zero", "GET", "/notes/0", [], None, 404, "not-found", None),
    ("id with a leading zero", "GET", "/notes/01", [], None, 404, "not-found", None),
    ("below a note", "GET", "/notes/1/x", [], None, 404, "not-found", None),
    ("trailing slash", "GET", "/notes/", [], None, 404, "not-found", None),
    ("root", "GET", "/", [], None, 404, "not-found", None),
    ("other path", "POST", "/tasks", JSON, b'{"title": "x"}', 404, "not-found", None),
    ("DELETE /notes", "DELETE", "/notes", [], None, 405, "method-not-allowed", None),
    ("PATCH a note", "PATCH", "/notes/1", JSON, b"{}", 405, "method-not-allowed", None),
    ("POST a note", "POST", "/notes/1", JSON, b'{"title": "x"}', 405, "method-not-allowed", None),
    ("limit 0", "GET", "/notes?limit=0", [], None, 400, "invalid-parameter", "limit"),
    ("limit 101", "GET", "/notes?limit=101", [], None, 400, "invalid-parameter", "limit"),
    ("limit abc", "GET", "/notes?limit=abc", [], None, 400, "invalid-parameter", "limit"),
    ("limit -1", "GET", "/notes?limit=-1", [], None, 400, "invalid-parameter", "limit"),
    ("limit empty", "GET", "/notes?limit=", [], None, 400, "invalid-parameter", "limit"),
    ("cursor garbage", "GET", "/notes?cursor=!!", [], None, 400, "invalid-parameter", "cursor"),
    ("cursor not ours", "GET", "/notes?cursor=" + base64.urlsafe_b64encode(b"x1").decode().rstrip("="),
     [], None, 400, "invalid-parameter", "cursor"),
    ("cursor empty", "GET", "/notes?cursor=", [], None, 400, "invalid-parameter", "cursor"),
    ("limit 100", "GET", "/notes?limit=100", [], None, 200, None, None),
    ("no content-type", "POST", "/notes", [], b'{"title": "x"}', 415, "unsupported-media-type", None),
    ("text/plain", "POST", "/notes", [("content-type", "text/plain")], b'{"title": "x"}', 415,
     "unsupported-media-type", None),
    ("put text/plain", "PUT", "/notes/1", [("content-type", "text/plain")], b'{"title": "x"}', 415,
     "unsupported-media-type", None),
    ("not JSON", "POST", "/notes", JSON, b'{"title": ', 400, "invalid-json", None),
    ("not an object", "POST", "/notes", JSON, b'["title"]', 400, "invalid-json", None),
    ("null", "POST", "/notes", JSON, b"null", 400, "invalid-json", None),
    ("empty body", "POST", "/notes", JSON, b"", 400, "invalid-json", None),
    ("two objects", "POST", "/notes", JSON, b'{"title": "a"} {"title": "b"}', 400, "invalid-json", None),
    ("no title", "POST", "/notes", JSON, b'{"body": "x"}', 400, "invalid-field", "title"),
    ("null title", "POST", "/notes", JSON, b'{"title": null}', 400, "invalid-field", "title"),
    ("empty title", "POST", "/notes", JSON, b'{"title": ""}', 400, "invalid-field", "title"),
    ("title a number", "POST", "/notes", JSON, b'{"title": 5}', 400, "invalid-field", "title"),
    ("title 201", "POST", "/notes", JSON, json.dumps({"title": "t" * 201}).encode(), 400, "invalid-field", "title"),
    ("title 201 runes", "POST", "/notes", JSON, json.dumps({"title": "é" * 201}).encode(), 400,
     "invalid-field", "title"),
    ("body a list", "POST", "/notes", JSON, b'{"title": "x", "body": ["a"]}', 400, "invalid-field", "body"),
    ("body 10001", "POST", "/notes", JSON, json.dumps({"title": "x", "body": "b" * 10001}).encode(), 400,
     "invalid-field", "body"),
    ("tags a string", "POST", "/notes", JSON, b'{"title": "x", "tags": "a"}', 400, "invalid-field", "tags"),
    ("tags of numbers", "POST", "/notes", JSON, b'{"title": "x", "tags": [1]}', 400, "invalid-field", "tags"),
    ("11 tags", "POST", "/notes", JSON, json.dumps({"title": "x", "tags": list("abcdefghijk")}).encode(), 400,
     "invalid-field", "tags"),
    ("empty tag", "POST", "/notes", JSON, b'{"title": "x", "tags": ["a", ""]}', 400, "invalid-field", "tags"),
    ("tag of 33", "POST", "/notes", JSON, json.dumps({"title": "x", "tags": ["t" * 33]}).encode(), 400,
     "invalid-field", "tags"),
    ("unknown field", "POST", "/notes", JSON, b'{"title": "x", "colour": "red"}', 400, "invalid-field", "colour"),
    ("put invalid", "PUT", "/notes/1", JSON, b'{"title": ""}', 404, "not-found", None),  # no note 1 yet
    ("over 64 KiB", "POST", "/notes", JSON, padded(BIG + 1), 413, "body-too-large", None),
    ("over 64 KiB chunked", "POST", "/notes", JSON, chunks(padded(BIG + 1)), 413, "body-too-large", None),
    ("put over 64 KiB", "PUT", "/notes/1", JSON, padded(BIG + 1), 413, "body-too-large", None),
    # What is allowed, at each limit.
    ("create", "POST", "/notes", JSON, b'{"title": "hello", "body": "world", "tags": ["a"]}', 201, None, None),
    ("64 KiB exactly", "POST", "/notes", JSON, padded(BIG), 201, None, None),
    ("64 KiB chunked", "POST", "/notes", JSON, chunks(padded(BIG), 1000), 201, None, None),
    ("charset", "POST", "/notes", [("content-type", "Application/JSON; charset=utf-8")], b'{"title": "x"}', 201,
     None, None),
    ("title 200 runes", "POST", "/notes", JSON, json.dumps({"title": "é" * 200}).encode(), 201, None, None),
    ("body 10000", "POST", "/notes", JSON, json.dumps({"title": "x", "body": "β" * 10000}).encode(), 201, None,
     None),
    ("10 tags of 32", "POST", "/notes", JSON, json.dumps({"title": "x", "tags": ["t" * 32] * 10}).encode(), 201,
     None, None),
    ("nulls", "POST", "/notes", JSON, b'{"title": "x", "body": null, "tags": null}', 201, None, None),
]


def run_cases(api: Api) -> dict[str, Reply]:
    return {label: api.call(method, path, body=body, headers=headers)
            for label, method, path, headers, body, *_ in CASES}


def summary(replies: dict[str, Reply]) -> dict:
    out = {}
    for label, r in replies.items():
        doc = json.loads(r.body) if r.body else None
        if r.status >= 400:
            out[label] = (r.status, doc.get("error"), doc.get("field"))
        elif r.status == 201:
            out[label] = (r.status, sorted(doc))
        else:
            out[label] = (r.status, doc)
    return out


def check_cases(replies: dict[str, Reply]):
    for label, method, path, headers, body, status, code, field in CASES:
        r = replies[label]
        assert r.status == status, f"{label}: {r.status} {r.body[:300]!r}"
        if status >= 400:
            e = error(r)
            assert (e["error"], e.get("field")) == (code, field), f"{label}: {e}"
        if status == 405:
            allow = {m.strip() for m in r.header("allow").split(",")}
            assert method not in allow and "GET" in allow, (label, allow)
            assert allow == ({"GET", "HEAD", "POST"} if path == "/notes" else {"GET", "HEAD", "PUT", "DELETE"})
        if status == 415:
            assert r.header("accept") == "application/json", label
        if status == 201:
            note = json.loads(r.body)
            sent = json.loads(body if isinstance(body, bytes) else b"".join(body))
            assert note["title"] == sent["title"] and note["body"] == (sent.get("body") or ""), label
            assert note["tags"] == (sent.get("tags") or []), label
            assert r.header("location").endswith(f"/notes/{note['id']}") and r.header("etag"), label
    assert json.loads(replies["empty list"].body) == {"notes": [], "next_cursor": None}


def test_single_requests_on_a_node_and_under_the_reference_host(api, component, reference_host):
    on_node = run_cases(api)
    check_cases(on_node)
    host = reference_host(component)
    on_host = run_cases(Api(host.client()))
    check_cases(on_host)
    assert summary(on_node) == summary(on_host)
    # Everything the node accepted is in its store; nothing that was refused is.
    created = [label for label, *rest in CASES if rest[4] == 201]
    assert len(api.list("?limit=100")["notes"]) == len(created)


# ---- conditional requests ---------------------------------------------------

def test_conditional_requests(api):
    note = api.create({"title": "cached"})
    path = f"/notes/{note['id']}"
    etag = api.call("GET", path).header("etag")
    other = '"0123456789abcdef0123456789abcdef"'
    for inm in (etag, f"W/{etag}", "*", f'{other}, {etag}', f'{other},{etag}'):
        r = api.call("GET", path, headers=[("if-none-match", inm)])
        assert r.status == 304 and r.body == b"" and r.header("etag") == etag, (inm, r.status, r.body)
    for inm in (other, f"W/{other}", etag[:-2] + '"', "garbage"):
        r = api.call("GET", path, headers=[("if-none-match", inm)])
        assert r.status == 200 and json.loads(r.body) == note, (inm, r.status)
    # Two If-None-Match lines are one list.
    r = api.call("GET", path, headers=[("if-none-match", other), ("if-none-match", etag)])
    assert r.status == 304, r.status

    # If-Match: strong comparison; stale -> 412 and nothing changes.
    for im in (other, f"W/{etag}"):
        r = api.call("PUT", path, headers=[("if-match", im)], json_body={"title": "lost update"})
        assert r.status == 412 and error(r)["error"] == "precondition-failed", (im, r.status, r.body)
        r = api.call("DELETE", path, headers=[("if-match", im)])
        assert r.status == 412 and error(r)["error"] == "precondition-failed", (im, r.status)
    r = api.call("GET", path)
    assert json.loads(r.body) == note and r.header("etag") == etag
    # The precondition comes before the body is looked at (RFC 9110 13.2.1).
    r = api.call("PUT", path, headers=[("if-match", other)], json_body={"title": ""})
    assert r.status == 412, r.status
    r = api.call("PUT", path, headers=[("if-none-match", "*")], json_body={"title": "create only"})
    assert r.status == 412, r.status

    r = api.call("PUT", path, headers=[("if-match", f"{other}, {etag}")], json_body={"title": "v2"})
    assert r.status == 200, r.body
    etag2 = r.header("etag")
    assert etag2 != etag
    r = api.call("PUT", path, headers=[("if-match", etag)], json_body={"title": "v3 from a stale copy"})
    assert r.status == 412
    assert api.call("GET", path, headers=[("if-none-match", etag)]).status == 200  # the old tag is stale
    assert api.call("GET", path, headers=[("if-none-match", etag2)]).status == 304
    r = api.call("PUT", path, headers=[("if-match", "*")], json_body={"title": "v3"})
    assert r.status == 200
    r = api.call("DELETE", path, headers=[("if-match", etag2)])
    assert r.status == 412
    r = api.call("DELETE", path, headers=[("if-match", api.call("GET", path).header("etag"))])
    assert r.status == 204
    assert api.call("GET", path, headers=[("if-none-match", "*")]).status == 404


def test_bodiless_answers_keep_the_connection_usable(api):
    """304 and 204 carry no body bytes: the next answer on the same
    keep-alive connection parses."""
    note = api.create({"title": "keep-alive"})
    path = f"{api.prefix}/notes/{note['id']}"
    etag = api.call("GET", f"/notes/{note['id']}").header("etag")
    conn = http.client.HTTPConnection("127.0.0.1", api.node.port, timeout=60)
    try:
        sock = None
        for method, headers, status in (("GET", {"if-none-match": etag}, 304), ("GET", {}, 200),
                                        ("DELETE", {}, 204), ("GET", {}, 404), ("HEAD", {}, 404)):
            conn.request(method, path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            assert r.status == status, (method, r.status, body)
            assert (body == b"") == (status in (204, 304) or method == "HEAD"), (method, status, body)
            assert r.getheader("transfer-encoding") is None or status not in (204, 304)
            sock = sock or conn.sock
            assert conn.sock is sock and not r.will_close, "the node closed the connection"
    finally:
        conn.close()


# ---- pagination -------------------------------------------------------------

def test_pages_over_250_notes(api):
    with ThreadPoolExecutor(max_workers=6) as pool:
        made = list(pool.map(lambda i: api.create({"title": f"note {i}", "tags": [f"t{i % 7}"]}), range(250)))
    ids = sorted(n["id"] for n in made)
    assert ids == list(range(1, 251)), "concurrent creates got every id once"
    by_id = {n["id"]: n for n in made}

    pages = api.all_pages(100)
    assert [len(p) for p in pages] == [100, 100, 50]
    listed = [n for p in pages for n in p]
    assert [n["id"] for n in listed] == ids
    assert all(n == by_id[n["id"]] for n in listed)
    assert len(api.list()["notes"]) == 20  # the default limit
    assert [n["id"] for n in api.list("?limit=1")["notes"]] == [1]

    # Deleted notes are gone from every page; the pages stay full.
    for nid in (1, 150, 250):
        assert api.call("DELETE", f"/notes/{nid}").status == 204
    pages = api.all_pages(100)
    listed = [n["id"] for p in pages for n in p]
    assert listed == [i for i in ids if i not in (1, 150, 250)]
    assert [len(p) for p in pages] == [100, 100, 47]

    # A cursor stays right while the list changes: no note on a later page
    # is skipped or repeated when earlier ones go or new ones come.
    first = api.list("?limit=10")
    assert [n["id"] for n in first["notes"]] == list(range(2, 12))
    assert api.call("DELETE", "/notes/12").status == 204
    assert api.call("DELETE", "/notes/5").status == 204
    new = api.create({"title": "late"})
    assert new["id"] == 251
    second = api.list(f"?limit=10&cursor={first['next_cursor']}")
    assert [n["id"] for n in second["notes"]] == list(range(13, 23))
    rest = api.all_pages(100)
    assert [n["id"] for p in rest for n in p][-1] == 251

    # Many deleted ids in a row: a page may come back short, but following
    # the cursors still lists every note once.
    for nid in range(20, 140):
        assert api.call("DELETE", f"/notes/{nid}").status == 204
    pages = api.all_pages(5)
    listed = [n["id"] for p in pages for n in p]
    gone = {1, 5, 12, 150, 250, *range(20, 140)}
    assert listed == [i for i in range(1, 252) if i not in gone]


def test_a_page_stops_after_a_mebibyte(api):
    """Big notes: a page holds fewer than `limit` once it passes 1 MiB; the
    cursors still reach every note once."""
    big = "𝄞" * 10000  # 40,000 bytes of UTF-8, the most characters a body may have
    for i in range(30):
        body = json.dumps({"title": f"big {i}", "body": big}, ensure_ascii=False).encode()
        r = api.call("POST", "/notes", body=body, headers=JSON)
        assert r.status == 201, (r.status, r.body[:200])
    r = api.call("GET", "/notes?limit=100")
    assert r.status == 200, r.body[:200]
    first = json.loads(r.body)
    assert 20 <= len(first["notes"]) < 30 and first["next_cursor"], len(first["notes"])
    assert len(r.body) <= (1 << 20) + 64 * 1024, len(r.body)
    pages = api.all_pages(100)
    assert [n["id"] for p in pages for n in p] == list(range(1, 31))
    assert all(n["body"] == big for p in pages for n in p)


def test_a_store_error_is_a_500_with_its_text(node_factory, component):
    """Limits tightened so the store refuses: its error text reaches the client."""
    node = node_factory(*node_args())
    deploy(node, component, {"kv_max_value_bytes": 300, "kv_max_operations": 5})
    api = Api(node.client(), f"/{NAME}", node)
    small = api.create({"title": "fits"})
    r = api.call("POST", "/notes", json_body={"title": "too big", "body": "x" * 400})
    assert r.status == 500, r.body
    e = error(r)
    assert e["error"] == "store-error" and "kv-value-too-large" in e["message"], e
    r = api.call("PUT", f"/notes/{small['id']}", json_body={"title": "too big", "body": "x" * 400})
    assert r.status == 500 and "kv-value-too-large" in error(r)["message"]
    assert json.loads(api.call("GET", f"/notes/{small['id']}").body) == small
    more = [api.create({"title": f"n{i}"})["id"] for i in range(4)]
    assert more == [3, 4, 5, 6]  # id 2 went to the note that was refused
    # A page of 10 reads the counter and 6 notes: more than 5 operations.
    r = api.call("GET", "/notes?limit=10")
    assert r.status == 500 and "kv-too-many-operations" in error(r)["message"], r.body
    page = api.list("?limit=2")  # the counter and 3 notes
    assert [n["id"] for n in page["notes"]] == [1, 3] and page["next_cursor"]


# ---- durability and the CLI -------------------------------------------------



def test_notes_survive_a_restart_and_fn0_kv_sees_them(node_factory, component, build_dir, tmp_path):
    data = tmp_path / "data"
    node = node_factory(*node_args(), data_dir=data)
    deploy(node, component)
    api = Api(node.client(), f"/{NAME}", node)
    made = [api.create({"title": f"kept {i}", "body": "é" * i}) for i in range(5)]
    assert api.call("DELETE", f"/notes/{made[2]['id']}").status == 204
    kept = [n for n in made if n["id"] != made[2]["id"]]
    stored = {n["id"]: api.call("GET", f"/notes/{n['id']}") for n in kept}
    node.stop()

    again = node_factory(*node_args(), data_dir=data)
    api = Api(again.client(), f"/{NAME}", again)
    for n in kept:
        r = api.call("GET", f"/notes/{n['id']}")
        assert r.status == 200 and r.body == stored[n["id"]].body, r.body
        assert r.header("etag") == stored[n["id"]].header("etag")
    assert api.list()["notes"] == kept
    assert api.create({"title": "after the restart"})["id"] == made[-1]["id"] + 1

    r = again.cli("kv", NAME, "list", "--json")
    assert r.returncode == 0, r.stderr
    keys = [k["key"] for k in json.loads(r.stdout)["keys"]]
    note_keys = [k for k in keys if k.startswith("note/")]
    assert note_keys == [f"note/{i:010d}" for i in (*[n["id"] for n in kept], made[-1]["id"] + 1)]
    assert set(keys) - set(note_keys) == {"last-id"}
    r = again.cli("kv", NAME, "get", "last-id")
    assert r.returncode == 0 and r.stdout == str(made[-1]["id"] + 1).encode()

    backup = tmp_path / "notes.jsonl"
    r = again.cli("kv", NAME, "export", "-f", str(backup))
    assert r.returncode == 0, r.stderr
    exported = {l["key"]: base64.b64decode(l["value"]) for l in map(json.loads, backup.read_text().splitlines())}
    for n in kept:
        assert exported[f"note/{n['id']:010d}"] == stored[n["id"]].body
    # What the CLI writes, the function serves (with an ETag of those bytes).
    r = again.cli("kv", NAME, "delete", f"note/{kept[0]['id']:010d}")
    assert r.returncode == 0, r.stderr
    assert api.call("GET", f"/notes/{kept[0]['id']}").status == 404


# ---- figures ----------------------------------------------------------------

def test_cpu_per_request(node_factory, component, build_dir):
    """Guest CPU from the access log: the function as fn0.toml deploys it
    (instances reused) and the same component on a fresh instance per request."""
    node = node_factory(*node_args())
    n = 20
    figures = {"component_bytes": component.stat().st_size, "requests_each": n, "settings": toml_settings()}
    for name, extra in ((NAME, {}), (f"{NAME}-fresh", {"reuse_instance_requests": 0})):
        r = node.deploy(name, component)
        assert r.status in (200, 201), r.body
        r = node.api("PUT", f"/functions/{name}/settings", dict(toml_settings(), **extra))
        assert r.status == 200, r.body
        api = Api(node.client(), f"/{name}", node)
        ids = [api.create({"title": f"figure {i}", "body": "lorem ipsum " * 40, "tags": ["a", "b"]})["id"]
               for i in range(n)]
        for i in ids:
            assert api.call("GET", f"/notes/{i}").status == 200
        for _ in range(n):
            assert len(api.list("?limit=20")["notes"]) == 20

        def median(method, pattern, field="cpu_us"):
            lines = node.access_log_lines(lambda e: e.get("function") == name and e.get("method") == method
                                          and "cpu_us" in e and re.fullmatch(pattern, e.get("target", "")), n, 30)
            values = sorted(int(e[field]) for e in lines)
            assert len(values) == n, (name, method, pattern, len(values))
            return values[n // 2]

        mode = "fresh" if extra else "reused"
        figures[mode] = {
            "post_cpu_us_median": median("POST", rf"/{name}/notes"),
            "get_cpu_us_median": median("GET", rf"/{name}/notes/\d+"),
            "list20_cpu_us_median": median("GET", rf"/{name}/notes\?limit=20"),
            "get_instantiate_us_median": median("GET", rf"/{name}/notes/\d+", "instantiate_us"),
        }
    out = build_dir / "language-figures"
    out.mkdir(exist_ok=True)
    (out / f"{NAME}.json").write_text(json.dumps(figures, indent=1) + "\n")
