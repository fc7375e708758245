"""Text from outside (Newton's messages, a proxy's page) inside Streamlit's Markdown elements, made literal."""

from __future__ import annotations

import re

# Every ASCII punctuation character can be backslash-escaped in CommonMark, which makes it plain text: no link,
# no image, no emphasis, no HTML tag.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def literal(text: str) -> str:
    """`text` as Markdown that renders exactly as written, on one line."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(text.split()))
