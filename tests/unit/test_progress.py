"""The live progress line: stages stay as lines, the live line appears past the delay, the end says how long."""

from __future__ import annotations

import io
import sys
import time

from ketareport.progress import CLEAR, DELAY, TerminalProgress


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_long_run_shows_its_stage_spinner_and_elapsed_time():
    stream = io.StringIO()
    live = TerminalProgress(time.monotonic() - DELAY - 1, stream).start()
    try:
        live.update("validating 3 patients")
        wait_until(lambda: "validating 3 patients …" in stream.getvalue())
        print("/out/estimates.csv")  # stdout clears the live line first
    finally:
        live.finish()
    text = stream.getvalue()
    assert text.startswith("ketareport: validating 3 patients\n")
    assert "validating 3 patients … " in text
    assert text.rsplit("\n", 2)[-2].endswith(" s") and f"{CLEAR}ketareport: done in " in text.rsplit("\n", 2)[-2]
    assert sys.stdout is live.stdout  # restored


def test_a_quick_run_shows_only_its_stages():
    stream = io.StringIO()
    live = TerminalProgress(time.monotonic(), stream).start()
    live.update("reading data/demo")
    live.finish()
    assert stream.getvalue() == "ketareport: reading data/demo\n"


def test_a_failed_run_leaves_no_line_and_no_time():
    stream = io.StringIO()
    live = TerminalProgress(time.monotonic() - DELAY - 1, stream).start()
    live.update("analysing")
    wait_until(lambda: "analysing …" in stream.getvalue())
    live.finish(success=False)
    assert "done in" not in stream.getvalue() and stream.getvalue().endswith(CLEAR)
