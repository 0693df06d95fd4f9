"""Small helpers over the wasi:http bindings (the `wit_world` module, which
`fn0 build` generates under build/): a request with its method, path and
headers, its body read in chunks, and a response written in chunks."""
from __future__ import annotations

from typing import Iterator

from componentize_py_types import Err, Ok
from wit_world.imports import streams, types

CHUNK = 64 * 1024  # bytes asked for per read
WRITE = 4096  # what blocking_write_and_flush takes at most per call


class Request:
    def __init__(self, request: types.IncomingRequest):
        self._request = request
        self.method = _method(request.method())
        target = request.path_with_query() or "/"
        self.path, _, self.query = target.partition("?")
        self.headers = {k.lower(): v.decode("latin-1") for k, v in request.headers().entries()}

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def chunks(self) -> Iterator[bytes]:
        """The body, as it arrives."""
        body = self._request.consume()
        stream = body.stream()
        try:
            while True:
                try:
                    yield stream.blocking_read(CHUNK)
                except Err as e:
                    if isinstance(e.value, streams.StreamError_Closed):
                        return
                    raise
        finally:
            stream.__exit__(None, None, None)
            types.IncomingBody.finish(body)

    def body(self) -> bytes:
        return b"".join(self.chunks())


class Response:
    """`with Response(out, 200, {...}) as r: r.write(b"...")` sends the
    status and headers at once, the body as it is written, and ends it when
    the block ends."""

    def __init__(self, response_out: types.ResponseOutparam, status: int, headers: dict[str, str]):
        fields = types.Fields.from_list([(k, v.encode()) for k, v in headers.items()])
        response = types.OutgoingResponse(fields)
        response.set_status_code(status)
        self._body = response.body()
        self._stream = self._body.write()
        types.ResponseOutparam.set(response_out, Ok(response))

    def write(self, data: bytes) -> None:
        for i in range(0, len(data), WRITE):
            self._stream.blocking_write_and_flush(data[i:i + WRITE])

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc) -> None:
        self._stream.__exit__(None, None, None)
        types.OutgoingBody.finish(self._body, None)


def respond(response_out: types.ResponseOutparam, status: int, body: bytes, content_type: str) -> None:
    with Response(response_out, status, {"content-type": content_type}) as r:
        r.write(body)


def _method(m: types.Method) -> str:
    if isinstance(m, types.Method_Other):
        return m.value
    return type(m).__name__.removeprefix("Method_").upper()
