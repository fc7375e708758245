"""The demo Newton over real HTTP/1.1, answering like eyenewton.ru: chunked JSON labelled `text/html`.

POST on any path whose last segment is `json` (`/api/v1/json` as the real one, `/json`, ...) reaches the API;
other paths answer 404 and other methods 405. Logging goes through `logging` at DEBUG (one line per request:
method, path without query, status) and never includes a request body, a query string or the token.

Given a `Faults` plan (`dashboard.demo.faults`), the server injects the failures a real service and the network
between show: slow answers, 429 with Retry-After, 5xx pages, dropped connections (before or after Newton handled
the request), HTML pages with status 200 and truncated JSON.

A `latency` (seconds) delays every answer, as the network to the real service does; the delay holds no lock, so
answers to concurrent requests wait side by side. `requests` counts the requests received (for benchmarks).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final

from dashboard.demo.faults import Fault, Faults, Injection
from dashboard.demo.newton import ANSWER_HEADERS, API_PATH, DemoNewton, accepts_path

log = logging.getLogger(__name__)

DEFAULT_PORT: Final = 8765
MAX_BODY_BYTES: Final = 1 << 20
CHUNK_BYTES: Final = 64 * 1024
_NOT_FOUND: Final = b"<html><body><h1>404 Not Found</h1></body></html>"
_NOT_ALLOWED: Final = b"<html><body><h1>405 Method Not Allowed</h1></body></html>"
_TOO_LARGE: Final = b"<html><body><h1>413 Request Entity Too Large</h1></body></html>"
_BAD_FRAMING: Final = b"<html><body><h1>400 Bad Request</h1></body></html>"
_FAULT_PAGES: Final = {
    429: b"<html><body><h1>429 Too Many Requests</h1></body></html>",
    500: b"<html><body><h1>500 Internal Server Error</h1></body></html>",
    502: b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    b"<hr><center>nginx</center></body></html>",
    503: b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
}
# What a PHP backend prints when it dies before its JSON: HTML with status 200, as Newton labels its answers.
_HTML_200_PAGE: Final = (
    "<html><head><title>Ошибка</title></head><body><h1>Сервис временно недоступен</h1>"
    "<p>Попробуйте повторить запрос позже.</p></body></html>"
).encode()


class _BadBody(Exception):
    """The request body is too large or its framing is broken; answer `status` and close the connection."""

    def __init__(self, status: int, page: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.page = page


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], newton: DemoNewton, faults: Faults | None = None, latency: float = 0.0
    ) -> None:
        self.newton = newton
        self.faults = faults
        self.latency = latency
        self.requests = 0
        self._counting = threading.Lock()
        super().__init__(address, _Handler)

    def received(self) -> None:
        """Count one request, then wait out the latency (no lock held, so other requests wait alongside)."""
        with self._counting:
            self.requests += 1
        if self.latency > 0:
            time.sleep(self.latency)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is normal; the stdlib would print a traceback to stderr.
        log.debug("demo Newton: connection from %s ended with an error", client_address[0], exc_info=True)


class _DemoHTTPServer6(_DemoHTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "newton-demo"
    sys_version = ""
    # An idle keep-alive connection is closed after this many seconds, freeing its thread.
    timeout = 60
    # Small writes on a keep-alive socket otherwise meet Nagle's algorithm and delayed ACKs: ~40 ms per answer.
    disable_nagle_algorithm = True
    server: _DemoHTTPServer

    def do_POST(self) -> None:
        self.server.received()
        if not accepts_path(self.path):
            self._answer(404, _NOT_FOUND)
            return
        try:
            body = self._read_body()
        except _BadBody as bad:
            self.close_connection = True
            self._answer(bad.status, bad.page)
            return
        faults = self.server.faults
        injection = faults.draw() if faults is not None else None
        if faults is not None and injection is not None:
            self._inject(faults, injection, body)
            return
        status, headers, payload = self.server.newton.handle(body)
        self._answer(status, payload, headers)

    def _inject(self, faults: Faults, injection: Injection, body: bytes) -> None:
        """Answer `body` through a fault: instead of Newton's answer, or around it."""
        fault = injection.fault
        log.debug("demo Newton: injecting %s", fault.value)
        if fault is Fault.TOO_MANY_REQUESTS:
            self._answer(429, _FAULT_PAGES[429], {"Retry-After": str(faults.retry_after)})
        elif fault is Fault.SERVER_ERROR:
            self._answer(injection.status, _FAULT_PAGES[injection.status])
        elif fault is Fault.HTML_200:
            self._answer(200, _HTML_200_PAGE)
        elif fault is Fault.DROP_BEFORE:
            self.close_connection = True  # the socket closes with nothing written: no status line, no body
        else:
            status, headers, payload = self.server.newton.handle(body)  # Newton does the work (a write happens)
            if fault is Fault.DROP_AFTER:
                self.close_connection = True
            elif fault is Fault.TRUNCATED:
                self._answer(status, injection.cut(payload), headers)
            else:  # Fault.SLOW
                time.sleep(faults.delay)
                self._answer(status, payload, headers)

    def do_GET(self) -> None:
        self.server.received()
        if not accepts_path(self.path):
            self._answer(404, _NOT_FOUND)
            return
        self._answer(405, _NOT_ALLOWED, {"Allow": "POST"})

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BadBody(400, _BAD_FRAMING) from None
        if length < 0:
            raise _BadBody(400, _BAD_FRAMING)
        if length > MAX_BODY_BYTES:
            raise _BadBody(413, _TOO_LARGE)
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise _BadBody(400, _BAD_FRAMING) from None
            if size == 0:
                break
            if len(body) + size > MAX_BODY_BYTES:
                raise _BadBody(413, _TOO_LARGE)
            body += self.rfile.read(size)
            self.rfile.readline(8)
        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return bytes(body)

    def _answer(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        """Send `payload` chunked, as the real service does."""
        self.send_response(status)
        for name, value in {**ANSWER_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        # One write for the whole chunked body: many small writes cost a system call and a packet each.
        view = memoryview(payload)
        framed = bytearray()
        for start in range(0, len(view), CHUNK_BYTES):
            chunk = view[start : start + CHUNK_BYTES]
            framed += b"%X\r\n" % len(chunk)
            framed += chunk
            framed += b"\r\n"
        framed += b"0\r\n\r\n"
        self.wfile.write(framed)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        del size
        log.debug("demo Newton: %s %s -> %s", self.command, self.path.split("?", 1)[0][:200], code)

    def log_error(self, format: str, *args: Any) -> None:
        # The stdlib's messages may quote the request line; keep only the status code, if any.
        del format
        code = args[0] if args and isinstance(args[0], int) else "-"
        log.info("demo Newton: bad HTTP request from %s (%s)", self.client_address[0], code)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


class DemoServer:
    """A demo Newton listening on a real socket, served from a daemon thread until `shutdown()`."""

    def __init__(
        self,
        newton: DemoNewton,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        latency: float = 0.0,
    ) -> None:
        server_class = _DemoHTTPServer6 if ":" in host else _DemoHTTPServer
        self._httpd = server_class((host, port), newton, faults, latency)
        self.faults = faults
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-newton", daemon=True
        )

    @property
    def url(self) -> str:
        """The API endpoint, e.g. `http://127.0.0.1:8765/api/v1/json`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{API_PATH}"

    @property
    def latency(self) -> float:
        """Seconds every answer is delayed by."""
        return self._httpd.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._httpd.latency = seconds

    @property
    def requests(self) -> int:
        """How many HTTP requests the server has received."""
        return self._httpd.requests

    def start(self) -> None:
        self._thread.start()

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.5)

    def shutdown(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.shutdown()


def serve_in_thread(
    newton: DemoNewton,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Faults | None = None,
    latency: float = 0.0,
) -> DemoServer:
    """Serve `newton` from a background thread; returns once the socket is listening (port 0: any free port).

    With `faults`, some requests meet an injected failure (see `dashboard.demo.faults`); with `latency`, every
    answer comes that many seconds late."""
    server = DemoServer(newton, host, port, faults, latency)
    server.start()
    log.debug("demo Newton serving at %s", server.url)
    return server


def run_forever(
    newton: DemoNewton,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    faults: Faults | None = None,
    latency: float = 0.0,
) -> None:
    """Serve `newton` in this thread until interrupted (the CLI's `newton-dashboard demo-server`)."""
    server = DemoServer(newton, host, port, faults, latency)
    log.info("Demo Newton listening on %s", server.url)
    if latency > 0:
        log.info("Every answer delayed by %.0f ms", latency * 1000)
    if faults is not None:
        log.info("Injecting faults: %s", faults.describe())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("Demo Newton stopped")
    finally:
        server.shutdown()
