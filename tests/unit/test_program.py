"""The ``ketareport`` program ends without Python's teardown (console.run_program): nothing else may change."""

from __future__ import annotations

import subprocess
import sys

import pytest

COMMAND = """
import atexit, click, sys
from ketareport.console import run_program

@click.command()
def command():
    atexit.register(lambda: print("handler ran", file=sys.stderr))
    click.echo("said")
    {ending}

run_program(command)
"""


@pytest.mark.parametrize(("ending", "status", "stderr"), [
    ("pass", 0, "handler ran\n"),
    ("sys.exit(3)", 3, "handler ran\n"),
    ("sys.exit('stopped')", 1, "stopped\nhandler ran\n"),
])
def test_the_status_the_output_and_the_exit_handlers_are_kept(ending, status, stderr):
    completed = subprocess.run([sys.executable, "-c", COMMAND.format(ending=ending)], capture_output=True, text=True)
    assert (completed.returncode, completed.stdout, completed.stderr) == (status, "said\n", stderr)


def test_an_unexpected_exception_still_ends_with_its_traceback():
    completed = subprocess.run([sys.executable, "-c", COMMAND.format(ending="raise KeyError('lost')")],
                               capture_output=True, text=True)
    assert completed.returncode == 1
    assert "KeyError: 'lost'" in completed.stderr and "handler ran" in completed.stderr


def test_the_engine_is_imported_with_the_collector_paused_and_collected_again_after():
    import gc

    from ketareport.console import imports_without_gc

    assert gc.isenabled()
    try:
        with imports_without_gc():
            assert not gc.isenabled()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
