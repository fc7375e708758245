"""A fake Telegram Bot API on loopback: a real HTTP server in a thread that takes `sendMessage` as Telegram does,
keeps every message it accepted, and can be told to fail (an error, a 429 with `retry_after`, a page that is not
JSON) for the next requests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MOST_CHARS = 4096  # the longest text sendMessage takes


@dataclass(frozen=True)
class Failure:
    """What the fake answers instead of accepting: an HTTP status and Telegram's `description`; `retry_after`
    for a 429; `body` to answer something that is not the Bot API's JSON at all; `delay` to answer late."""

    status: int
    description: str = "Bad Request"
    retry_after: int | None = None
    body: bytes | None = None
    delay: float = 0.0  # seconds before answering: longer than the client waits is a timeout


@dataclass
class FakeTelegram:
    """The bot `token` may send; `received` holds each accepted sendMessage body, `requests` every request's path
    (the token is part of it, as in Telegram's)."""

    token: str
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, *failures: Failure) -> None:
        """Answer the next requests with these failures, in order, then accept again."""
        with self.lock:
            self.failures.extend(failures)

    def texts(self) -> list[str]:
        return [str(body["text"]) for body in self.received]

    def answer(self, path: str, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            self.requests.append(path)
            if path != f"/bot{self.token}/sendMessage":
                return _error(404, "Not Found")
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            time.sleep(failure.delay)  # outside the lock: other requests are answered meanwhile
            if failure.body is not None:
                return failure.status, failure.body
            return _error(failure.status, failure.description, failure.retry_after)
        message = json.loads(body)
        text = str(message.get("text", ""))
        if not text.strip() or "chat_id" not in message:
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) > 2 * MOST_CHARS:  # Telegram counts UTF-16 code units
            return _error(400, "Bad Request: message is too long")
        with self.lock:
            self.received.append(message)
            result = {"message_id": len(self.received), "chat": {"id": message["chat_id"]}, "text": text}
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _error(status: int, description: str, retry_after: int | None = None) -> tuple[int, bytes]:
    answer: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        answer["parameters"] = {"retry_after": retry_after}
    return status, json.dumps(answer).encode()


@contextmanager
def fake_telegram(token: str) -> Iterator[FakeTelegram]:
    """A FakeTelegram for `token`, served on a free loopback port while the block runs; `url` is its base URL."""
    fake = FakeTelegram(token)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer = fake.answer(self.path, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nobody is left to answer

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads `requests`
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
