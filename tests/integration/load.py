"""Steady load for the cluster tests and benchmarks: a fixed request rate
from a few threads (each one request at a time), every answer recorded."""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from http_client import HttpClient


@dataclass
class Outcome:
    start: float  # time.monotonic()
    end: float
    target: str
    status: int  # 0: no HTTP answer (connection refused, reset, timeout)
    node: str | None
    error: str | None


def steady(host: str, port: int, targets: list[str], rate: float, seconds: float, workers: int = 4,
           timeout: float = 10) -> list[Outcome]:
    """`rate` requests per second over `seconds`, spread over `workers` threads,
    each request for a target picked at random."""
    out: list[Outcome] = []
    lock = threading.Lock()
    t0 = time.monotonic()
    every = workers / rate

    def work(seed: int):
        rnd = random.Random(seed)
        client = HttpClient(host, port, timeout=timeout)
        n = 0
        while True:
            due = t0 + seed * every / workers + n * every
            if due > t0 + seconds:
                return
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            n += 1
            target = rnd.choice(targets)
            start = time.monotonic()
            try:
                r = client.get(target)
                o = Outcome(start, time.monotonic(), target, r.status, r.header("fn0-node"), None)
            except OSError as e:
                o = Outcome(start, time.monotonic(), target, 0, None, repr(e))
            with lock:
                out.append(o)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(out, key=lambda o: o.start)


def leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def variant(wasm: bytes, i: int) -> bytes:
    """The same component with a custom section appended: different bytes,
    so a different hash, artifact and pre-linked component per function."""
    name = b"fn0-bench-tenant"
    payload = leb(len(name)) + name + str(i).encode()
    return wasm + b"\x00" + leb(len(payload)) + payload
