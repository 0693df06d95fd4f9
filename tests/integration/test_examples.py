"""Every example component is a real wasi:http component: it validates,
exports the incoming handler, and answers HTTP under the reference host."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

EXAMPLES = ["hello-c", "echo-c", "hello-js", "echo-js", "hello-ts"]
HELLO_TEXT = {
    "hello-c": b"Hello from fn0 (C)!\n",
    "hello-js": b"Hello from fn0 (JavaScript)!\n",
}
ECHOES = ["echo-c", "echo-js"]


def component(examples_dir: Path, name: str) -> Path:
    path = examples_dir / f"{name}.wasm"
    assert path.is_file(), f"{path} was not built"
    return path


@pytest.mark.parametrize("name", EXAMPLES)
def test_component_validates(examples_dir, name):
    path = component(examples_dir, name)
    run = subprocess.run(["wasm-tools", "validate", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("name", EXAMPLES)
def test_component_exports_incoming_handler(examples_dir, name):
    path = component(examples_dir, name)
    wit = subprocess.run(["wasm-tools", "component", "wit", str(path)],
                         capture_output=True, text=True, check=True).stdout
    exports = [l.strip() for l in wit.splitlines() if l.strip().startswith("export ")]
    assert any(e.startswith("export wasi:http/incoming-handler@0.2.") for e in exports), wit


@pytest.mark.parametrize("name", sorted(HELLO_TEXT))
def test_hello_answers(examples_dir, reference_host, name):
    host = reference_host(component(examples_dir, name))
    reply = host.client().get("/")
    assert reply.status == 200
    assert reply.body == HELLO_TEXT[name]
    assert reply.header("content-type").startswith("text/plain")


def test_hello_ts_answers_json(examples_dir, reference_host):
    host = reference_host(component(examples_dir, "hello-ts"))
    reply = host.client().get("/some/path?name=Ada")
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert json.loads(reply.body) == {
        "greeting": "Hello, Ada, from fn0 (TypeScript)!",
        "method": "GET", "path": "/some/path", "name": "Ada",
    }


@pytest.mark.parametrize("name", ECHOES)
def test_echo_streams_a_1mb_upload_back(examples_dir, reference_host, name):
    host = reference_host(component(examples_dir, name))
    body = os.urandom(1 << 20)
    reply = host.client().request("POST", "/upload/here?x=1&y=two", body=body,
                                  headers=[("content-type", "application/octet-stream")])
    assert reply.status == 200
    assert len(reply.body) == len(body)
    assert reply.body == body
    assert reply.header("x-echo-method") == "POST"
    assert reply.header("x-echo-path") == "/upload/here"
    assert reply.header("x-echo-query") == "x=1&y=two"


@pytest.mark.parametrize("name", ECHOES)
def test_echo_streams_a_chunked_upload_back(examples_dir, reference_host, name):
    host = reference_host(component(examples_dir, name))
    chunks = [os.urandom(n) for n in (1, 1000, 65536, 7)]
    reply = host.client().request("PUT", "/chunks", body=iter(chunks))
    assert reply.status == 200
    assert reply.body == b"".join(chunks)
    assert reply.header("x-echo-method") == "PUT"


@pytest.mark.parametrize("name", ECHOES)
def test_echo_reports_headers_as_json(examples_dir, reference_host, name):
    host = reference_host(component(examples_dir, name))
    reply = host.client().get("/h", headers=[("x-one", "1"), ("x-Two", "zwei, deux")])
    assert reply.status == 200
    assert reply.body == b""
    pairs = json.loads(reply.header("x-echo-headers"))
    as_dict = {k.lower(): v for k, v in pairs}
    assert as_dict["x-one"] == "1"
    assert as_dict["x-two"] == "zwei, deux"
    assert reply.header("x-echo-query") == ""


def test_echo_c_keeps_repeated_headers_apart(examples_dir, reference_host):
    # The C echo reads wasi:http fields directly, so repeated headers arrive
    # as separate entries in order (JS's Headers object merges them).
    host = reference_host(component(examples_dir, "echo-c"))
    reply = host.client().get("/", headers=[("x-rep", "a"), ("x-rep", "b")])
    pairs = json.loads(reply.header("x-echo-headers"))
    assert [v for k, v in pairs if k.lower() == "x-rep"] == ["a", "b"]
