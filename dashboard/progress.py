"""Sync progress for the terminal: a bar that redraws in place, or plain lines when output is a file or a pipe."""

from __future__ import annotations

from typing import TextIO

from dashboard.sync import SyncProgress

WIDTH = 30


class ProgressBar:
    """Shows `SyncProgress` on a stream; a redrawn bar on a terminal, a line per tenth otherwise (or always with
    `lines`: several syncs at once share the stream). `account` names whose sync it is, when there are several."""

    def __init__(self, stream: TextIO, account: str = "", *, lines: bool = False) -> None:
        self._stream = stream
        self._tty = stream.isatty() and not lines
        self._label = f"sync {account}" if account else "sync"
        self._bar_label = f"{self._label}: " if account else ""
        self._last_tenth = -1
        self._drawn = False

    def show(self, progress: SyncProgress) -> None:
        """Draw the latest progress."""
        total = max(progress.windows_total, 1)
        text = (
            f"{progress.windows_done}/{progress.windows_total} windows, "
            f"{progress.records} records, {progress.chats} chats"
        )
        if progress.days_total:  # how much of the history is complete, the days loaded before this sync included
            text += f", {progress.days_done} of {progress.days_total} days complete"
        if self._tty:
            filled = WIDTH * progress.windows_done // total
            self._stream.write(f"\r{self._bar_label}[{'#' * filled}{'.' * (WIDTH - filled)}] {text}")
            self._drawn = True
        else:
            tenth = 10 * progress.windows_done // total
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                self._stream.write(f"{self._label}: {text}\n")
        self._stream.flush()

    def stop(self) -> None:
        """End the bar's line."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
