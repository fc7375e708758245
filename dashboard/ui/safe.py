"""Text from outside (visitors' values, Newton's messages, a proxy's page) shown as inert, visible text.

`visible` is for any visitor text a page shows, in a table cell, a label or `st.text`: characters that would
reorder or hide what is shown become a visible marker. `literal` is for such text inside Streamlit's Markdown
elements (`st.error`, `st.caption`, ...): visible, and with every Markdown character escaped.
"""

from __future__ import annotations

import re

from dashboard.display import visible, visible_frame

# Every ASCII punctuation character can be backslash-escaped in CommonMark, which makes it plain text: no link,
# no image, no emphasis, no HTML tag.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")

__all__ = ["literal", "visible", "visible_frame"]


def literal(text: str) -> str:
    """`text` as Markdown that renders exactly as written (made `visible`), on one line."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(visible(text).split()))
