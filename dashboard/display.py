"""Outside text (visitors' values, Newton's words) as it may be shown anywhere: in a table, a chart, a label.

Characters that would reorder or hide what is shown become a visible marker; see `visible`.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Collection

import polars as pl

# Format characters (Unicode category Cf) draw as nothing but change what is shown or what is compared:
# the bidirectional embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069) and marks (U+200E, U+200F,
# U+061C) make a browser draw the text after them in another order ("Trojan Source"): `photo\u202egpj.exe` shows as
# `photoexe.jpg`, and a URL can show a host it does not have; zero-width spaces and joiners (U+200B to U+200D,
# U+2060, U+FEFF), the soft hyphen and the tag characters hide text inside text, or make two values that look the
# same differ. The prepended concatenation marks (U+0600 to U+0605 and a few more) are Cf too but are drawn, so they
# are left alone. The Hangul fillers U+3164 and U+FFA0 are letters that draw as blank space: a favourite disguise.
_DRAWN_FORMAT = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd")
INVISIBLE = "".join(
    sorted(
        {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"} - _DRAWN_FORMAT
        | {"\u3164", "\uffa0"}
    )
)
# Control characters (C0 but tab and newline, DEL, C1) draw as nothing or as boxes, and a lone surrogate cannot even
# be sent to the browser. Carriage returns are line ends and become newlines.
CONTROLS = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in "\t\n\r")


def character_class(characters: str) -> str:
    """A regular-expression class of exactly `characters`, read the same by Python's `re` and by the Rust regex
    engine behind polars (both take `\\uXXXX` and `\\UXXXXXXXX`), in ranges where the characters run on."""
    codes = sorted({ord(c) for c in characters})
    parts: list[str] = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code != previous + 1:
            parts.append(_escape(start) if start == previous else f"{_escape(start)}-{_escape(previous)}")
            start = code
        previous = code
    return "[" + "".join(parts) + "]"


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


# A subdivision flag (🏴, two to six tag letters or digits, the cancel tag: 🏴󠁧󠁢󠁳󠁣󠁴󠁿) is an emoji: matched first, and kept.
# Tags anywhere else, or more of them, are text hidden inside text.
_FLAG = "\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,6}\U000e007f"
_HIDDEN = re.compile(f"({_FLAG})|{character_class(INVISIBLE + CONTROLS)}|[\ud800-\udfff]")
# The same class for polars (which has no surrogates), to find the columns that need the Python pass at all.
_HIDDEN_POLARS = character_class(INVISIBLE + CONTROLS + "\r")
REPLACEMENT = "\ufffd"  # what a lone surrogate becomes: it has no code point to name
_ZWJ = "\u200d"


def _marker(match: re.Match[str]) -> str:
    character = match.group()
    if match.group(1) or (character == _ZWJ and _joins_emoji(match.string, match.start())):
        return character
    code = ord(character)
    return REPLACEMENT if 0xD800 <= code <= 0xDFFF else f"[U+{code:04X}]"


def _joins_emoji(text: str, at: int) -> bool:
    """Whether the zero-width joiner at `at` joins two pictographs into one emoji (👨‍👩‍👧, ❤️‍🔥)."""
    before = at - 1
    while before >= 0 and text[before] == "\ufe0f":  # a variation selector may follow the pictograph
        before -= 1
    return before >= 0 and at + 1 < len(text) and _pictograph(text[before]) and _pictograph(text[at + 1])


def _pictograph(character: str) -> bool:
    # Emoji are symbols (So); a skin tone is a modifier symbol (Sk) that may end one too.
    return ord(character) >= 0x2000 and unicodedata.category(character) in ("So", "Sk")


def visible(text: str) -> str:
    """`text` as it may be shown: every format character (bidi controls, zero-width characters and the like, but
    those that join an emoji) and control character replaced by `[U+XXXX]`, tabs and line ends kept (CR LF and CR
    become LF), everything else (emoji, Cyrillic, Arabic) untouched."""
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
