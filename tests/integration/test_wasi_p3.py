"""WASI 0.3 (`wasi:http@0.3`, the async component model) on a real node:
tests/guests/p3-rust deployed over the admin API and called over HTTP next
to the same requests to `wasmtime serve`, with the node's limits as errors
on the wire."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest


@pytest.fixture
def p3(node, guests_dir):
    r = node.deploy("p3", guests_dir / "p3-rust.wasm")
    assert r.status == 201, r.body
    return node


def settings(node, body: dict):
    r = node.api("PUT", "/functions/p3/settings", body)
    assert r.status == 200, r.body


def test_answers_like_the_reference_host(p3, guests_dir, reference_host):
    ref = reference_host(guests_dir / "p3-rust.wasm").client()
    body = os.urandom(3 << 20)
    for method, target, payload in (("GET", "/", None), ("GET", "/stream?n=300", None),
                                    ("POST", "/echo", body), ("GET", "/sleep?ms=5", None),
                                    ("GET", "/missing", None)):
        want = ref.request(method, target, body=payload, headers=[("content-type", "application/x-p3")])
        got = p3.client().request(method, "/p3" + target, body=payload,
                                  headers=[("content-type", "application/x-p3")])
        assert (got.status, got.body) == (want.status, want.body), target
        assert got.header("content-type") == want.header("content-type"), target


def test_requests_in_flight_at_once_do_not_wait_for_each_other(p3):
    # Each gets a fresh instance; four half-second waits end together.
    results = []

    def one():
        results.append(p3.get("/p3/sleep?ms=500"))

    started = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    assert [r.status for r in results] == [200] * 4
    assert all(r.body == b"slept 500\n" for r in results)
    assert took < 1.5, took


def test_a_busy_loop_is_a_cpu_limit_error(p3):
    r = p3.get("/p3/spin")
    assert (r.status, r.header("fn0-error")) == (503, "cpu-limit"), (r.status, r.body)
    assert json.loads(r.body)["message"] == "function 'p3' exceeded its CPU time limit of 10 ms"
    assert p3.get("/p3/").status == 200


def test_memory_past_the_setting_is_a_memory_limit_error(p3):
    settings(p3, {"memory_mb": 32})
    assert p3.get("/p3/alloc?mb=8").body == b"allocated 8\n"
    r = p3.get("/p3/alloc?mb=64")
    assert (r.status, r.header("fn0-error")) == (503, "memory-limit"), (r.status, r.body)
    assert p3.get("/p3/").status == 200


def test_a_wait_past_the_duration_limit_is_a_timeout(p3):
    settings(p3, {"duration_ms": 300})
    r = p3.get("/p3/sleep?ms=5000")
    assert (r.status, r.header("fn0-error")) == (504, "duration-limit"), (r.status, r.body)


def test_outbound_requests_follow_the_allow_list(p3):
    target = f"http://127.0.0.1:{p3.port}/_fn0/ping"
    refused = p3.get(f"/p3/fetch?url={target}")
    assert refused.status == 502 and b"DestinationIpProhibited" in refused.body, refused.body


def test_with_the_setting_requests_share_an_instance(p3):
    # Without reuse the setting is refused, with a reason.
    r = p3.api("PUT", "/functions/p3/settings", {"instance_concurrency": 4})
    assert r.status == 400 and b"reuse_instance_requests" in r.body, (r.status, r.body)
    settings(p3, {"reuse_instance_requests": 100, "instance_concurrency": 4})
    results = []

    def one():
        results.append(p3.get("/p3/sleep?ms=500"))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [200] * 4, [r.body for r in results]
    # Each instance counts its own sleepers: more than one means shared.
    assert max(int(r.header("x-in-flight")) for r in results) >= 2
    assert p3.get("/p3/count").body != p3.get("/p3/count").body  # state kept between requests
