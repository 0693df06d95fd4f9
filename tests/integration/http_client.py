"""A small HTTP/1.1 client over the standard library, returning raw status,
ordered header pairs and body bytes: what differential tests compare."""
from __future__ import annotations

import http.client
import http.server
import socket
import urllib.request
from dataclasses import dataclass
from typing import Iterable


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


class HttpClient:
    def __init__(self, host: str, port: int, timeout: float = 60.0):
        self.host, self.port, self.timeout = host, port, timeout

    def request(self, method: str, target: str, *, body: bytes | Iterable[bytes] | None = None,
                headers: list[tuple[str, str]] | None = None) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            has_host = any(k.lower() == "host" for k, _ in headers or [])
            conn.putrequest(method, target, skip_host=has_host, skip_accept_encoding=True)
            for k, v in headers or []:
                conn.putheader(k, v)
            if isinstance(body, (bytes, bytearray)):
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
            elif body is not None:  # an iterable of chunks: chunked upload
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                for chunk in body:
                    conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                conn.send(b"0\r\n\r\n")
            else:
                conn.endheaders()
            resp = conn.getresponse()
            data = resp.read()
            return Reply(resp.status, list(resp.getheaders()), data)
        finally:
            conn.close()

    def get(self, target: str, **kw) -> Reply:
        return self.request("GET", target, **kw)


class EmptyOk(http.server.BaseHTTPRequestHandler):
    """A local HTTP target for outbound-request tests: every GET gets an empty 200."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def free_port() -> int:
    """A loopback port nothing listens on (for a process that needs a fixed one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> bytes | None:
    """GET url's body, or None when it cannot be had yet (polling a server that starts)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read()
    except Exception:
        return None
