"""The ``ketareport`` program: ``python -m ketareport``, and :func:`run` for the installed ``ketareport`` script."""

from .cli import main
from .console import run_program


def run() -> None:
    """:func:`ketareport.cli.main` as a program, ended at once when done (:func:`~ketareport.console.run_program`);
    tests call ``main`` itself."""
    run_program(main)


if __name__ == "__main__":
    run()
