"""``python -m ketareport`` is the ``ketareport`` command."""

from .cli import run

run()
