"""`DemoTransport`: the demo Newton inside an `httpx.Client`, with no socket, for demo mode, tests and benchmarks."""

from __future__ import annotations

import httpx

from dashboard.demo.newton import DemoNewton, accepts_path

_NOT_FOUND = b"<html><body><h1>404 Not Found</h1></body></html>"
_NOT_ALLOWED = b"<html><body><h1>405 Method Not Allowed</h1></body></html>"


class DemoTransport(httpx.BaseTransport):
    """Answers like the HTTP server: POST to a path ending in `/json` reaches the API, anything else is an error.

    Use it as `httpx.Client(transport=DemoTransport(newton), base_url="https://eyenewton.ru")`.
    """

    def __init__(self, newton: DemoNewton) -> None:
        self.newton = newton

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not accepts_path(request.url.path):
            return _html(404, _NOT_FOUND, request)
        if request.method != "POST":
            return _html(405, _NOT_ALLOWED, request, allow="POST")
        status, headers, body = self.newton.handle(request.read())
        return httpx.Response(status, headers=headers, content=body, request=request)


def _html(status: int, body: bytes, request: httpx.Request, *, allow: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "text/html; charset=UTF-8"}
    if allow:
        headers["Allow"] = allow
    return httpx.Response(status, headers=headers, content=body, request=request)
