"""A row of an uploaded file, checked: what is wrong with it by field, and whether it can be used."""

from __future__ import annotations

from collections.abc import Mapping

from dashboard import i18n


class CheckedRow:
    """What a checked row of a file says about itself (lead prices, costs): mixed into its frozen dataclass,
    which holds `problems` (field → message; none: the row is ready)."""

    problems: Mapping[str, str]

    @property
    def ready(self) -> bool:
        """Whether this row will be used (sent, stored)."""
        return not self.problems

    @property
    def status(self) -> str:
        """'' when ready, else every problem as `field: message`."""
        return self.status_in("en")

    def status_in(self, lang: str) -> str:
        """The status with our own checks' words in `lang`."""
        return i18n.fields_message(self.problems, lang)
