"""``python -m ketareport`` is the ``ketareport`` command."""

from .cli import main

main(prog_name="ketareport")
