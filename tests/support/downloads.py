"""Downloads a page makes only when their button is clicked (`st.download_button` given a function): what the
page handed over, and the file a click would give."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

Made = list[tuple[str | None, Callable[[], Any]]]  # (file name, what makes the file), in the order handed over


def spy_on_deferred(monkeypatch: pytest.MonkeyPatch) -> Made:
    """Note the downloads made only when clicked, as the pages hand them over (the `on_click` fixture)."""
    handed: Made = []
    original = MediaFileManager.add_deferred

    def spy(self: MediaFileManager, make: Callable[[], Any], mimetype: str | None, coordinates: str,
            file_name: str | None = None, **kwargs: Any) -> str:  # fmt: skip
        handed.append((file_name, make))
        return original(self, make, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return handed


def made_when_clicked(handed: Made, file_name: str) -> str:
    """The text of the last download of that name handed over, as a click makes it."""
    made = [make for name, make in handed if name == file_name]
    assert made, f"no download named {file_name}"
    data = made[-1]()
    return str(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
