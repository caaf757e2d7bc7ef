"""Time each stage of the analysis on the demo and on larger generated datasets.

Usage: .venv/bin/python bench/bench_analyze.py [PATIENTS ...]
(default 3000 and 30000 patients, about ten times as many infusions).
Prints wall and CPU seconds per stage; no assertion — figures for the
issue notes. On a shared machine the CPU time (this process, all its
threads) is the steadier figure; Arrow's reader and kernels use several
threads, so it can exceed the wall time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from timing import REPO, analyze_in_stages, timed

STAGES = {"load": "load", "validate": "validate", "cohort": "cohort", "statistics": "analyze", "write": "write results"}
"""The stages of :func:`timing.analyze_in_stages` timed here, by label (reading study.yml and the provenance are
not)."""


def bench(dataset: Path) -> None:
    def step(stage, action):
        if stage not in STAGES:
            return action()
        value = timed(STAGES[stage], action)
        if stage == "load":
            print(f"  ({len(value.patients.frame)} patients, {len(value.infusions.frame)} infusions)")
        return value

    analyze_in_stages(dataset, step)


def main() -> None:
    start, cpu = time.perf_counter(), time.process_time()
    import ketareport.pipeline  # noqa: F401  (the import cost a command pays)
    print(f"import ketareport.pipeline {time.perf_counter() - start:.3f} s wall {time.process_time() - cpu:.3f} s CPU")
    from ketareport.demo import write_demo

    print("demo dataset (data/demo)")
    bench(REPO / "data" / "demo")
    sizes = [int(arg) for arg in sys.argv[1:]] or [3000, 30000]
    for patients in sizes:
        with tempfile.TemporaryDirectory() as folder:
            print(f"generated dataset, {patients} patients")
            timed("generate", lambda: write_demo(Path(folder), patients=patients))
            bench(Path(folder))


if __name__ == "__main__":
    main()
