"""What the bench scripts share: timing a step in this process, timing one ketareport command in a new process,
and ``ketareport analyze``'s stages run one by one.

A script run as ``python bench/NAME.py`` has bench/ first on its path, so it imports this module as ``timing``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
STEP_LINE = "  {label:<22} {wall:8.3f} s wall {cpu:8.3f} s CPU"
"""How :func:`timed` prints a step unless the script chooses its own line."""


def timed(label: str, action: Callable[[], Any], line: str = STEP_LINE) -> Any:
    """Run ``action`` and print ``line`` with its ``label``, ``wall`` and ``cpu`` seconds (CPU: this process, all
    its threads); returns what ``action`` returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = action()
    print(line.format(label=label, wall=time.perf_counter() - wall, cpu=time.process_time() - cpu))
    return value


def run_ketareport(arguments: list[str], code: Path = REPO) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MB of one ``python -m ketareport ARGUMENTS`` in a new process (its children
    included); exits with the command's stderr when it fails.

    CPU seconds say what the run costs on a shared machine, where the wall
    time also counts other processes' turns. The figures are that process's
    own (``wait4``), not the largest of every run so far. ``code``: the
    checkout whose ketareport runs (``-m`` imports it from the working
    directory first), in this environment.
    """
    command = [sys.executable, "-m", "ketareport", *arguments]
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, cwd=code)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{code}: {' '.join(command)} failed ({process.returncode}):\n"
                             f"{errors.read().decode(errors='replace')}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def analyze_in_stages(dataset: Path, step: Callable[[str, Callable[[], Any]], Any]) -> None:
    """``ketareport analyze DATASET`` on files, one stage at a time, as :func:`ketareport.pipeline.run_analysis` and
    :func:`~ketareport.pipeline.write_results` run it; ``step(stage, action)`` runs each stage's action (timing
    it, or not) and returns its value. The stages: ``config``, ``load``, ``validate``, ``cohort``,
    ``statistics``, ``provenance``, ``write``."""
    from ketareport import pipeline
    from ketareport.analyze import analyze_cohort
    from ketareport.cohort import build_cohort
    from ketareport.load import load_dataset
    from ketareport.output import StagedOutput
    from ketareport.provenance import provenance
    from ketareport.validate import validate_dataset

    config = step("config", lambda: pipeline.resolve_config(dataset))
    tables = {"patients": config.data.patients, "infusions": config.data.infusions}
    raw = step("load", lambda: pipeline.rename_columns(load_dataset(dataset, tables), config.data.columns))
    valid = step("validate", lambda: validate_dataset(raw, pipeline.infusion_date_limits(config)))
    cohort = step("cohort", lambda: build_cohort(valid, config.analysis, config.labels))
    results = step("statistics", lambda: analyze_cohort(cohort))
    origin = step("provenance", lambda: provenance(dataset, raw, config, None))
    run = pipeline.AnalysisRun(config, raw, valid, cohort, results, origin)
    with tempfile.TemporaryDirectory() as folder, StagedOutput(Path(folder) / "out") as staged:
        step("write", lambda: pipeline.write_results(run, staged))
