"""examples/image-resize (Rust, `image` crate): every input format to every
output format, the fit modes, the error statuses, ?url= through a subrequest
to a local HTTP server; on an fn0 node and under `wasmtime serve`, which must
give the same statuses and output dimensions. Images are generated here
(images.py); output dimensions are read from the output's own header."""
from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from images import dimensions, jpeg_grey, png, png_header_only

NAME = "image-resize"
# The node's own cap on CPU and memory per request is raised so the
# function's [settings] (fn0.toml) apply.
NODE_ARGS = ["--cpu-ms", "1000", "--memory-mb", "256"]


@pytest.fixture(scope="module")
def component(build_dir) -> Path:
    path = build_dir / "examples" / f"{NAME}.wasm"
    assert path.is_file(), f"{path} missing: run `make examples`"
    return path


@pytest.fixture(scope="module")
def origin():
    """A local HTTP server with the images ?url= fetches: /<name> -> bytes."""
    files: dict[str, tuple[bytes, str]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            f = files.get(self.path)
            if not f:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", f[1])
            self.send_header("content-length", str(len(f[0])))
            self.end_headers()
            self.wfile.write(f[0])

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.files = files
    yield server
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def inputs():
    """PNG and greyscale JPEG made here; colour JPEG and WebP are made by the
    component from the PNG (their headers are checked when they are made)."""
    return {"png": png(320, 240), "png-alpha": png(200, 100, alpha=True), "jpeg-grey": jpeg_grey(160, 120)}


def deploy(node, component, allow):
    r = node.deploy(NAME, component)
    assert r.status in (200, 201), r.body
    r = node.api("PUT", f"/functions/{NAME}/settings", {"cpu_ms": 500, "memory_mb": 256, "allow": allow})
    assert r.status == 200, r.body


class Target:
    """The component behind a node (/image-resize/...) or wasmtime serve (/...)."""

    def __init__(self, client, prefix=""):
        self.c, self.prefix = client, prefix

    def post(self, query, body, content_type="application/octet-stream"):
        return self.c.request("POST", self.prefix + "/" + query, body=body,
                              headers=[("content-type", content_type)])

    def get(self, target):
        return self.c.request("GET", self.prefix + target)


def convert(t: Target, data: bytes, fmt: str) -> bytes:
    r = t.post(f"?format={fmt}", data)
    assert r.status == 200, r.body
    assert r.header("content-type") == f"image/{fmt}"
    return r.body


def cases(t: Target, inputs, origin):
    """(label, reply) for every request; the same list against both hosts."""
    out = []
    src = dict(inputs)
    src["jpeg"] = convert(t, inputs["png"], "jpeg")
    src["webp"] = convert(t, inputs["png"], "webp")
    src["webp-alpha"] = convert(t, inputs["png-alpha"], "webp")
    for k in ("jpeg", "webp"):
        assert dimensions(src[k])[1:] == (320, 240), k
    assert dimensions(src["webp-alpha"])[1:] == (200, 100)
    # Every input to every output, resized to 100 wide.
    for name in ("png", "png-alpha", "jpeg", "jpeg-grey", "webp", "webp-alpha"):
        for fmt in ("jpeg", "png", "webp"):
            out.append((f"{name}->{fmt}", t.post(f"?w=100&format={fmt}", src[name])))
        out.append((f"{name} same format", t.post("?h=50", src[name])))
    # Fit modes on 320x240 into 100x100.
    for fit in ("contain", "cover", "fill"):
        out.append((f"fit={fit}", t.post(f"?w=100&h=100&fit={fit}&format=png", src["png"])))
    out.append(("quality", t.post("?w=64&format=jpeg&quality=30", src["png"])))
    # Errors.
    out.append(("garbage", t.post("?w=10", b"this is not an image" * 10)))
    out.append(("empty body", t.post("?w=10", b"")))
    out.append(("truncated png", t.post("?w=10", src["png"][:200])))
    out.append(("bomb header", t.post("?w=10", png_header_only(100000, 100000))))
    out.append(("input above 4096", t.post("?w=10", png_header_only(5000, 10))))
    for q in ("w=abc", "w=0", "w=-3", "h=1.5", "fit=zoom&w=5&h=5", "format=gif", "quality=0", "width=10", "w=%zz"):
        out.append((f"bad {q}", t.post("?" + q, src["png"])))
    for q in ("w=5000", "h=99999999999"):
        out.append((f"large {q}", t.post("?" + q, src["png"])))
    out.append(("GET without url", t.get("/?w=10")))
    out.append(("PUT", t.c.request("PUT", t.prefix + "/", body=src["png"])))
    out.append(("other path", t.post("x?w=10", src["png"])))
    # ?url=: a subrequest to the local server.
    base = f"http://127.0.0.1:{origin.server_port}"
    out.append(("url png", t.get(f"/?url={base}/a.png&w=64&format=webp")))
    out.append(("url jpeg", t.get(f"/?url={base}/a.jpg&w=80&h=80&fit=cover")))
    out.append(("url 404", t.get(f"/?url={base}/missing.png&w=10")))
    out.append(("url not an image", t.get(f"/?url={base}/text&w=10")))
    out.append(("url unreachable", t.get(f"/?url=http://127.0.0.1:{closed_port()}/a.png&w=10")))
    out.append(("url bad scheme", t.get("/?url=ftp://example.com/a.png")))
    return out


EXPECTED = {
    "fit=contain": (200, (100, 75)),
    "fit=cover": (200, (100, 100)),
    "fit=fill": (200, (100, 100)),
    "quality": (200, (64, 48)),
    "garbage": (415, None),
    "empty body": (415, None),
    "truncated png": (400, None),
    "bomb header": (413, None),
    "input above 4096": (413, None),
    "large w=5000": (413, None),
    "large h=99999999999": (413, None),
    "GET without url": (400, None),
    "PUT": (405, None),
    "other path": (404, None),
    "url png": (200, (64, 48)),
    "url jpeg": (200, (80, 80)),
    "url 404": (502, None),
    "url not an image": (415, None),
    "url unreachable": (502, None),
    "url bad scheme": (400, None),
}


def expected(label: str):
    if label in EXPECTED:
        return EXPECTED[label]
    if label.startswith("bad "):
        return 400, None
    src = label.split("->")[0].split(" ")[0]
    small = src in ("png-alpha", "webp-alpha")  # 200x100; the others are 320x240 or 160x120
    if "->" in label:
        return 200, (100, 50 if small else 75)
    return 200, ((100 if small else 67), 50)  # ?h=50


FORMAT_OF = {"png": "png", "png-alpha": "png", "jpeg": "jpeg", "jpeg-grey": "jpeg", "webp": "webp",
             "webp-alpha": "webp"}


def check(label, reply):
    status, dims = expected(label)
    assert reply.status == status, f"{label}: {reply.status} {reply.body[:300]!r}"
    if status != 200:
        assert reply.header("content-type") == "application/json", label
        err = json.loads(reply.body)
        assert err["error"] and err["message"], label
        return None
    fmt, w, h = dimensions(reply.body)
    assert (w, h) == dims, f"{label}: {w}x{h}, expected {dims}"
    want = label.split("->")[1] if "->" in label else FORMAT_OF.get(label.split(" ")[0], fmt)
    if label == "url png":
        want = "webp"
    if label in ("quality",):
        want = "jpeg"
    if label.startswith("fit="):
        want = "png"
    assert fmt == want, f"{label}: {fmt}, expected {want}"
    assert reply.header("content-type") == f"image/{fmt}", label
    return fmt, w, h


def summary(results):
    return {label: (r.status, dimensions(r.body) if r.status == 200 else None) for label, r in results}


def serve_origin(origin, t: Target, inputs):
    origin.files["/a.png"] = (inputs["png"], "image/png")
    origin.files["/a.jpg"] = (convert(t, inputs["png"], "jpeg"), "image/jpeg")
    origin.files["/text"] = (b"hello, not an image\n", "text/plain")


def test_on_a_node_and_under_the_reference_host(node_factory, reference_host, component, inputs, origin):
    node = node_factory(*NODE_ARGS)
    deploy(node, component, ["127.0.0.1/32"])
    on_node = Target(node.client(), f"/{NAME}")
    serve_origin(origin, on_node, inputs)
    node_results = cases(on_node, inputs, origin)
    for label, reply in node_results:
        check(label, reply)

    host = reference_host(component)
    ref = Target(host.client())
    ref_results = cases(ref, inputs, origin)
    for label, reply in ref_results:
        check(label, reply)
    assert summary(node_results) == summary(ref_results)


def test_url_needs_allow_on_a_node(node_factory, component, inputs, origin):
    """Without `allow`, a node refuses outbound requests to loopback: 502."""
    node = node_factory(*NODE_ARGS)
    deploy(node, component, [])
    origin.files["/a.png"] = (inputs["png"], "image/png")
    r = node.get(f"/{NAME}/?url=http://127.0.0.1:{origin.server_port}/a.png&w=10")
    assert r.status == 502, r.body
    assert json.loads(r.body)["error"] == "fetch-failed"


def test_cpu_for_a_typical_resize(node_factory, component, build_dir):
    """A 1024x768 photo-like JPEG to 256 wide: guest CPU from the access log,
    and the memory the instance grew to from its log line."""
    node = node_factory(*NODE_ARGS)
    deploy(node, component, [])
    t = Target(node.client(), f"/{NAME}")
    photo = convert(t, png(1024, 768, noise=12), "jpeg")
    assert dimensions(photo) == ("jpeg", 1024, 768)
    for _ in range(10):
        r = t.post("?w=256", photo)
        assert r.status == 200 and dimensions(r.body) == ("jpeg", 256, 192)
    cpus = sorted(int(e["cpu_us"]) for e in node.access_log_lines(
        lambda e: e.get("function") == NAME and "cpu_us" in e and "w=256" in e.get("target", ""), 10))
    assert len(cpus) == 10
    time.sleep(0.3)
    entries = json.loads(node.api("GET", f"/functions/{NAME}/logs").body)["entries"]
    # "1024x768 Jpeg -> 256x192 Jpeg, 12 MiB memory"
    mem = [int(e["line"].rsplit(", ", 1)[1].split()[0]) for e in entries if "1024x768 Jpeg -> 256x192" in e["line"]]
    out = build_dir / "language-figures"
    out.mkdir(exist_ok=True)
    (out / "image-resize.json").write_text(json.dumps({
        "component_bytes": component.stat().st_size, "input_jpeg_bytes": len(photo),
        "cpu_us_median": cpus[len(cpus) // 2], "cpu_us_max": cpus[-1],
        "memory_mib": max(mem) if mem else None}, indent=1) + "\n")
    # fn0.toml asks for 200 ms; the median must be well inside it.
    assert cpus[len(cpus) // 2] < 200_000
