"""A live progress line for long runs on a terminal.

When stderr is a terminal, :class:`TerminalProgress` prints each stage as a
line, as elsewhere; once the run passes ``DELAY`` seconds it also keeps a
live line below them up to date — a spinner, the current stage and the
elapsed time — and when the run ends it replaces that line with the total
elapsed time (a quick run shows neither). What the
command prints on stdout meanwhile (the paths written) clears the line first,
so the two never share a line. The command line decides whether to use it
(not under ``--quiet``, not when stderr is a file or a pipe, where the stages
stay plain lines).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

DELAY = 2.0
"""Seconds before the line appears."""
TICK = 0.1
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
CLEAR = "\r\x1b[K"


class TerminalProgress:
    def __init__(self, started: float, stream: TextIO | None = None):
        """``started``: ``time.monotonic()`` when the command began (its imports count too)."""
        self.stream = stream if stream is not None else sys.stderr
        self.stage = "starting"
        self.started = started
        self.shown = False
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker = threading.Thread(target=self._run, name="ketareport-progress", daemon=True)
        self.stdout: TextIO | None = None

    def start(self) -> TerminalProgress:
        self.stdout = sys.stdout
        sys.stdout = _ClearingStream(self.stdout, self)  # type: ignore[assignment]
        self.ticker.start()
        return self

    def update(self, stage: str) -> None:
        """Print the stage as a line (it stays) and show it on the live line."""
        with self.lock:
            self.stream.write(f"{CLEAR if self.shown else ''}ketareport: {stage}\n")
            self.stream.flush()
            self.shown = False
            self.stage = stage

    def finish(self, success: bool = True) -> None:
        """Stop; after a run long enough to have shown the line, say how long it took."""
        self.stopped.set()
        self.ticker.join()
        if self.stdout is not None:
            sys.stdout = self.stdout
        elapsed = time.monotonic() - self.started
        with self.lock:
            if self.shown:
                self.stream.write(CLEAR)
            if success and elapsed >= DELAY:
                self.stream.write(f"ketareport: done in {_elapsed(elapsed)}\n")
            self.stream.flush()
            self.shown = False

    def _run(self) -> None:
        frame = 0
        while not self.stopped.wait(TICK):
            elapsed = time.monotonic() - self.started
            if elapsed < DELAY:
                continue
            with self.lock:
                self.stream.write(f"{CLEAR}{SPINNER[frame % len(SPINNER)]} {self.stage} … {_elapsed(elapsed)}")
                self.stream.flush()
                self.shown = True
            frame += 1


def _elapsed(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:04.1f} s" if minutes else f"{rest:.1f} s"


class _ClearingStream:
    """stdout while the line is shown: every write clears the line first."""

    def __init__(self, stream: TextIO, progress: TerminalProgress):
        self._stream = stream
        self._progress = progress

    def write(self, text: str) -> int:
        with self._progress.lock:  # the ticker waits: it draws the line again on its next tick
            if self._progress.shown:
                self._progress.stream.write(CLEAR)
                self._progress.stream.flush()
            written = self._stream.write(text)
            self._stream.flush()
            return written

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
