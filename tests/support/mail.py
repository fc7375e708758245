"""A real SMTP server on loopback (aiosmtpd, in a thread) with a certificate from a test certificate authority
(trustme): it offers STARTTLS, or speaks TLS from the start, signs in one user, and keeps every message it accepted
as the recipients' mail program would read it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

PASSWORD = "s3cret-pass-42"


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope's sender and recipients, the message, whether it came encrypted."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    encrypted: bool


@dataclass
class MailServer:
    """The server as a test sees it: where it listens, the CA file that trusts it, what it accepted. `refuse`
    makes it answer DATA with that reply (e.g. "554 5.7.1 Rejected") instead of accepting."""

    host: str
    port: int
    ca_file: Path
    user: str
    password: str
    received: list[Received] = field(default_factory=list)
    refuse: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse is not None:
            return self.refuse
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, _encrypted(server, session))
            )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user.encode(),
            self.password.encode(),
        )
        return AuthResult(success=good, handled=False)  # aiosmtpd answers 535 itself


def _encrypted(server: SMTP, session: Session) -> bool:
    """Whether the message came over TLS: after STARTTLS (session.ssl), or on a connection TLS from the start."""
    if session.ssl is not None:
        return True
    return server.transport is not None and server.transport.get_extra_info("ssl_object") is not None


class _LoopbackController(Controller):
    """aiosmtpd's controller on a port the system picks (port 0), read back before it checks the server is up."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@contextmanager
def mail_server(
    folder: Path, *, security: str = "starttls", user: str = "alerts", password: str = PASSWORD
) -> Iterator[MailServer]:
    """An SMTP server on 127.0.0.1 for the block's duration, its certificate issued by a fresh test CA written to
    folder/ca.pem. `security` as NEWTON_SMTP_SECURITY names it: "starttls" (required before sign-in and mail),
    "tls" (TLS from the start) or "none" (no encryption, and so no sign-in: a relay that takes mail as it comes)."""
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(tls)
    ca_file = folder / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    server = MailServer("127.0.0.1", 0, ca_file, user, password)
    encryption: dict[str, Any] = {
        "starttls": {"tls_context": tls, "require_starttls": True},
        # aiosmtpd sees only STARTTLS as encryption; from the start, the whole connection is TLS before AUTH.
        "tls": {"ssl_context": tls, "auth_require_tls": False},
        "none": {},
    }[security]
    controller = _LoopbackController(
        server, hostname="127.0.0.1", port=0, authenticator=server.authenticate, **encryption
    )
    controller.start()
    server.port = controller.port
    try:
        yield server
    finally:
        controller.stop()


def untrusted_ca(folder: Path) -> Path:
    """The certificate of another test CA, one that issued nothing the server shows."""
    path = folder / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path
