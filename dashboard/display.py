"""Outside text (visitors' values, Newton's words) as it may be shown anywhere: in a table, a chart, a label.

Characters that would reorder or hide what is shown become a visible marker; see `visible`.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import polars as pl

# The bidirectional embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069) make a browser draw the text
# after them in another order ("Trojan Source"): `photo\u202egpj.exe` shows as `photoexe.jpg`, and a URL can show
# a host it does not have. Control characters (C0 but tab and newline, DEL, C1) draw as nothing or as boxes, and
# a lone surrogate cannot even be sent to the browser. Carriage returns are line ends and become newlines.
_HIDDEN = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# The same class for polars (Rust's regex engine), to find the columns that need the Python pass at all.
_HIDDEN_POLARS = r"[\x{202A}-\x{202E}\x{2066}-\x{2069}\x{0}-\x{8}\x{B}-\x{1F}\x{7F}-\x{9F}\r]"
REPLACEMENT = "\ufffd"  # what a lone surrogate becomes: it has no code point to name


def _marker(match: re.Match[str]) -> str:
    code = ord(match.group())
    return REPLACEMENT if 0xD800 <= code <= 0xDFFF else f"[U+{code:04X}]"


def visible(text: str) -> str:
    """`text` as it may be shown: every bidi control and control character replaced by `[U+XXXX]`, tabs and line
    ends kept (CR LF and CR become LF), everything else (emoji, Cyrillic, Arabic) untouched."""
    if not _HIDDEN.search(text) and "\r" not in text:
        return text  # nearly every value: no copy
    return _HIDDEN.sub(_marker, text.replace("\r\n", "\n").replace("\r", "\n"))


def visible_frame(frame: pl.DataFrame, *, keep: Collection[str] = ()) -> pl.DataFrame:
    """The frame for `st.dataframe`/`st.data_editor`: every text column passed through `visible`, except `keep`
    (say a key column the page matches edits on). Columns without such characters are left as they are."""
    changed = []
    for name, dtype in frame.schema.items():
        if name in keep or dtype != pl.String:
            continue
        column = frame[name]
        if column.str.contains(_HIDDEN_POLARS).any():
            values = [None if value is None else visible(value) for value in column.to_list()]
            changed.append(pl.Series(name, values, dtype=pl.String))
    return frame.with_columns(changed) if changed else frame
