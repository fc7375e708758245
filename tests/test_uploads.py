"""Uploads are refused before sign-in: Streamlit's upload endpoint stores files only for sessions the door let in.

Against `streamlit run streamlit_app.py` as a person starts it: a websocket session speaking Streamlit's protocol
(tests/support/load.py) and httpx sending the upload the way the browser's file uploader does (a multipart
PUT to /_stcore/upload_file/<session id>/<file id> with the XSRF cookie and its X-Xsrftoken header).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.ui import uploads
from tests.conftest import ENTRY
from tests.support.load import Server, serve, session

pytestmark = pytest.mark.slow  # real processes: uploads sent to `streamlit run`

EDITOR_PASSWORD = "correct horse battery staple"
VIEWER_PASSWORD = "viewer horse battery staple"
CSV = b"channel,price\npaid_search,1500\n"
FILE_NAME = "prices-<script>.csv"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard with an editor password in a secrets.toml of its own."""
    folder = tmp_path_factory.mktemp("uploads-locked")
    secrets = folder / "secrets.toml"
    secrets.write_text(f'[access]\neditor_password = "{EDITOR_PASSWORD}"\n', encoding="utf-8")
    with serve(folder / "demo.duckdb", options=("--secrets.files", str(secrets))) as started:
        yield started


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The dashboard with no access settings on loopback: open mode, for the person on this machine."""
    folder = tmp_path_factory.mktemp("uploads-open")
    with serve(folder / "demo.duckdb", options=("--secrets.files", str(folder / "absent.toml"))) as started:
        yield started


def upload(server: Server, session_id: str, file_id: str = "file-1") -> httpx.Response:
    """What the file uploader sends: the XSRF cookie, echoed in X-Xsrftoken, and the file as multipart."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        client.get("/_stcore/health").raise_for_status()  # where the page gets its XSRF cookie before it connects
        token = client.cookies["_streamlit_xsrf"]
        return client.put(
            f"/_stcore/upload_file/{session_id}/{file_id}",
            files={"file": (FILE_NAME, CSV, "text/csv")},
            headers={"X-Xsrftoken": token},
        )


def refused(answer: httpx.Response) -> bool:
    """403, and nothing of the request (file name, content, session) comes back."""
    return answer.status_code == 403 and b"paid_search" not in answer.content and b"<script>" not in answer.content


def test_a_session_that_has_not_entered_the_password_cannot_upload(locked: Server) -> None:
    with session(locked) as tab:
        shown = tab.open()
        assert "Enter the password you were given." in shown.texts and not shown.metrics  # at the door
        assert tab.session_id
        assert refused(upload(locked, tab.session_id))


def test_the_same_session_uploads_once_the_password_is_in_and_not_after_signing_out(locked: Server) -> None:
    with session(locked) as tab:
        tab.open()
        assert refused(upload(locked, tab.session_id))
        inside = tab.submit({"Password": EDITOR_PASSWORD}, "Enter")
        assert inside.metrics and not inside.errors  # the Overview: the door opened
        assert upload(locked, tab.session_id).status_code == 204
        tab.click("sign_out")
        assert refused(upload(locked, tab.session_id))


def test_a_wrong_password_opens_nothing(locked: Server) -> None:
    with session(locked) as tab:
        tab.open()
        shown = tab.submit({"Password": "not the password at all"}, "Enter")
        assert "That password is not right." in shown.errors
        assert refused(upload(locked, tab.session_id))


def test_made_up_and_malformed_session_ids_are_refused(locked: Server) -> None:
    for session_id in ("00000000-0000-0000-0000-000000000000", "a%2Fb", "x" * 300, ""):
        assert refused(upload(locked, session_id))


def test_open_mode_lets_the_person_on_this_machine_upload(open_server: Server) -> None:
    with session(open_server) as tab:
        shown = tab.open()
        assert shown.metrics and not shown.errors
        assert upload(open_server, tab.session_id).status_code == 204
    with session(open_server) as tab:  # connected but never run: the door never saw it
        assert tab.session_id == ""  # Streamlit names the session in the first run's messages
    with httpx.Client(base_url=open_server.url) as client:
        assert client.get("/_stcore/health").text == "ok"


# ------------------------------------------------------------------------------------ the registry, in process


@pytest.fixture
def password_app(app_env: Path) -> AppTest:
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.secrets = {"access": {"editor_password": EDITOR_PASSWORD, "idle_minutes": 30}}
    test.run()
    assert not test.exception
    return test


APP_SESSION = "test session id"  # what AppTest's script runner calls every session


def _enter(test: AppTest) -> None:
    test.text_input[0].input(EDITOR_PASSWORD)
    test.button(key="FormSubmitter:password_gate-Enter").click().run()
    assert not test.exception, test.exception


def test_a_password_session_may_upload_until_its_idle_time_ends_even_without_a_click(
    password_app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [5000.0]
    monkeypatch.setattr(uploads.ADMITTED, "clock", lambda: now[0])
    uploads.ADMITTED.forget(APP_SESSION)
    password_app.run()
    assert not uploads.ADMITTED.allows(APP_SESSION)
    _enter(password_app)
    assert uploads.ADMITTED.allows(APP_SESSION)
    now[0] += 30 * 60 - 1
    assert uploads.ADMITTED.allows(APP_SESSION)
    now[0] += 2
    assert not uploads.ADMITTED.allows(APP_SESSION)


def test_a_viewer_session_may_not_upload(app_env: Path) -> None:
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.secrets = {"access": {"editor_password": EDITOR_PASSWORD, "viewer_password": VIEWER_PASSWORD}}
    test.run()
    test.text_input[0].input(VIEWER_PASSWORD)
    test.button(key="FormSubmitter:password_gate-Enter").click().run()
    assert not test.exception and test.get("metric")  # the viewer is in and sees the dashboard ...
    assert not uploads.ADMITTED.allows(APP_SESSION)  # ... but there is no uploader for them, and no upload


def test_signing_out_ends_uploads(password_app: AppTest) -> None:
    _enter(password_app)
    assert uploads.ADMITTED.allows(APP_SESSION)
    password_app.sidebar.button(key="sign_out").click().run()
    assert not uploads.ADMITTED.allows(APP_SESSION)


def test_the_registry_is_bounded_and_keeps_the_sessions_seen_last() -> None:
    admitted = uploads.AdmittedSessions(capacity=3)
    for name in ("a", "b", "c"):
        admitted.admit(name)
    admitted.admit("a")  # seen again
    admitted.admit("d")
    assert [name for name in "abcd" if admitted.allows(name)] == ["a", "c", "d"]
    assert len(admitted) == 3
