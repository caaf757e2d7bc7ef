"""The start-up of a new ketareport process: ``analyze data/demo`` and ``--help``, checkouts taking turns.

Usage: .venv/bin/python bench/bench_startup.py [--runs N] [CHECKOUT ...]
       .venv/bin/python bench/bench_startup.py --stages

Each CHECKOUT (default: this one) is a ketareport source tree; its package
is run as ``python -m ketareport`` with the checkout as the working
directory, by this interpreter, so that two checkouts (say main in a
``git worktree`` and a branch) share one environment and differ only in
their code. Their bytecode is compiled first (where PYTHONDONTWRITEBYTECODE
is set, an uncompiled module is compiled again on every run). The checkouts
take turns, run after run, so that a load other work puts on a shared
machine falls on each alike.

Prints, per checkout and command, the median, minimum and maximum of the
wall time and of the CPU time (user + system of the child, from getrusage),
with the load average before and after. No assertion: figures for the
README and the issue notes. On a loaded machine the CPU time is the
steadier figure.

``--stages`` instead prints where the time of one new process goes, in
this checkout: the imports (numpy; pandas, which imports pyarrow; the rest
of ketareport.pipeline), then each stage of ``analyze data/demo``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import REPO, analyze_in_stages, run_ketareport, timed

STAGE_LINE = "  {label:<34} {cpu:6.3f} s CPU {wall:6.3f} s wall"
STAGES = {"config": "read study.yml", "load": "read the CSV files", "validate": "validate", "cohort": "cohort",
          "statistics": "statistics, Tables 1-2", "provenance": "provenance", "write": "write the three result files"}
"""The labels of ``analyze``'s stages (:func:`timing.analyze_in_stages`)."""


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def stages() -> None:
    """CPU and wall time of the imports and of each stage of ``analyze data/demo`` in this (new) process."""
    import importlib

    print(f"this process before its first import: {time.process_time():.3f} s CPU (interpreter start-up)")
    timed("import click", lambda: importlib.import_module("click"), STAGE_LINE)
    from ketareport.console import imports_without_gc

    with imports_without_gc():  # as `ketareport analyze` imports the engine
        for module in ("numpy", "pandas", "yaml", "ketareport.statistics", "ketareport.pipeline"):
            timed(f"import {module}", lambda module=module: importlib.import_module(module), STAGE_LINE)
    analyze_in_stages(REPO / "data" / "demo", lambda stage, action: timed(STAGES[stage], action, STAGE_LINE))
    print(f"this process in all: {time.process_time():.3f} s CPU (the interpreter's exit not included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command per checkout (default 7)")
    parser.add_argument("--stages", action="store_true", help="where the time of one new process goes (this checkout)")
    parser.add_argument("checkouts", nargs="*", type=Path, default=[REPO])
    options = parser.parse_args()
    if options.stages:
        stages()
        return
    checkouts = [checkout.resolve() for checkout in options.checkouts]
    for checkout in checkouts:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "ketareport"], cwd=checkout, check=True,
                       stdout=subprocess.DEVNULL)
    commands = {"--help": ["--help"], "analyze data/demo": ["analyze", "data/demo", "--quiet", "--out"]}
    times = {(checkout, name): ([], []) for checkout in checkouts for name in commands}
    print(f"load average before: {load()}")
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(options.runs):
            for name, arguments in commands.items():
                for number, checkout in enumerate(checkouts):
                    command = arguments  # with --out last: a new, empty output folder for every run of every checkout
                    if arguments[-1] == "--out":
                        command = [*arguments, str(Path(scratch) / f"{run}-{number}")]
                    wall, cpu, _ = run_ketareport(command, checkout)
                    times[checkout, name][0].append(wall)
                    times[checkout, name][1].append(cpu)
    print(f"load average after:  {load()}")
    for (checkout, name), (walls, cpus) in times.items():
        print(f"{checkout}  {name:<18} wall {spread(walls)}  CPU {spread(cpus)}  ({len(walls)} runs)")


if __name__ == "__main__":
    main()
