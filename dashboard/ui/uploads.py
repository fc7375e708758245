"""Uploads only from sessions the door let in: a registry of admitted sessions and the middleware that asks it.

Streamlit's upload endpoint (`PUT /_stcore/upload_file/<session id>/<file id>`) stores a file for any open session
that passes the XSRF check, signed in or not, and keeps it in memory until the session ends. `streamlit_app.py`
serves the dashboard as an `st.App` with `UploadsAfterTheDoor` in front of Streamlit's own routes: a request there
for a session the door has not admitted is answered 403 before Streamlit sees it (its body is read and dropped).

The registry is a plain module-level object, not `st.cache_resource`: any client can clear Streamlit's caches
with a websocket message, and that must not shut out (or let in) anybody. The door (`dashboard.ui.access.admit`)
admits an editor's session on every run that gets past it (viewers have no uploader) and forgets it on every run
that does not; a password session is admitted only until its idle time would end it, so an upload after that is
refused even before the next run.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from streamlit import config
from streamlit.runtime.scriptrunner import get_script_run_ctx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CAPACITY: Final = 10_000  # admitted sessions remembered; the least recently seen goes first beyond this
_UPLOAD_ROUTE: Final = "_stcore/upload_file"


class AdmittedSessions:
    """Streamlit session ids the door let in, each until a moment on `clock` (None: until it is forgotten).

    Bounded: beyond `capacity` the session seen longest ago is dropped; its next run (every click is one) admits it
    again. Safe to use from script threads and the server's event loop at once.
    """

    def __init__(self, capacity: int = CAPACITY, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.clock = clock
        self._until: OrderedDict[str, float | None] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, session_id: str, until: float | None = None) -> None:
        with self._lock:
            self._until[session_id] = until
            self._until.move_to_end(session_id)
            while len(self._until) > self.capacity:
                self._until.popitem(last=False)

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._until.pop(session_id, None)

    def allows(self, session_id: str) -> bool:
        with self._lock:
            if session_id not in self._until:
                return False
            until = self._until[session_id]
            if until is not None and self.clock() >= until:
                del self._until[session_id]  # its idle time is over: the door would ask for the password again
                return False
            return True

    def __len__(self) -> int:
        return len(self._until)


ADMITTED = AdmittedSessions()


def current_session_id() -> str | None:
    """The id of the Streamlit session running this script, or None outside a script run.

    `get_script_run_ctx` is Streamlit's own accessor for the running script's context; reading its `session_id`
    changes nothing in Streamlit (no internals are patched). It is the id the browser puts in upload URLs.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else str(ctx.session_id)


def _upload_session(path: str) -> str | None:
    """The session id an upload URL names, or None when `path` is not under Streamlit's upload route."""
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}/{_UPLOAD_ROUTE}/" if base else f"/{_UPLOAD_ROUTE}/"
    if path.startswith(prefix):
        return path[len(prefix) :].split("/", 1)[0]
    if f"/{_UPLOAD_ROUTE}" in path:
        return ""  # a spelling of the route this check does not expect: nobody's session, so refused
    return None


_SESSION_ID: Final = re.compile(r"[0-9A-Za-z-]{1,64}")  # Streamlit's are UUIDs
_REFUSAL: Final = b"Uploads need a session signed in as editor."
_FRAMING: Final = 1024 * 1024  # a multipart body is a little larger than its file (Streamlit allows the same)


class UploadsAfterTheDoor:
    """ASGI middleware: requests to the upload route for a session the door has not admitted get 403.

    Everything but a CORS preflight (OPTIONS) is checked: PUT and POST store files, and a DELETE from a session
    that may not upload has nothing of its own to delete. The answer echoes nothing from the request.
    """

    def __init__(self, app: ASGIApp, admitted: AdmittedSessions | None = None) -> None:
        self.app = app
        self.admitted = admitted if admitted is not None else ADMITTED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") != "OPTIONS":
            session_id = _upload_session(str(scope.get("path", "")))
            if session_id is not None and not (_SESSION_ID.fullmatch(session_id) and self.admitted.allows(session_id)):
                await _refuse(receive, send)
                return
        await self.app(scope, receive, send)


async def _refuse(receive: Receive, send: Send) -> None:
    """403 once the body is read and dropped chunk by chunk (nothing kept), so the client hears the answer instead
    of a reset connection; a body beyond Streamlit's own upload limit is not waited for: the connection closes."""
    limit = int(config.get_option("server.maxUploadSize")) * 1024 * 1024 + _FRAMING
    dropped, more = 0, True
    while more and dropped <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away
        dropped += len(message.get("body", b""))
        more = bool(message.get("more_body", False))
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(_REFUSAL)).encode())]
    if more:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": _REFUSAL})
