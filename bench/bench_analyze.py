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

REPO = Path(__file__).resolve().parents[1]


def timed(label: str, action):
    start, cpu = time.perf_counter(), time.process_time()
    value = action()
    print(f"  {label:<22} {time.perf_counter() - start:8.3f} s wall {time.process_time() - cpu:8.3f} s CPU")
    return value


def bench(dataset: Path) -> None:
    from ketareport.analyze import analyze_cohort
    from ketareport.cohort import build_cohort
    from ketareport.config import find_config, load_config
    from ketareport.load import load_dataset
    from ketareport.output import StagedOutput
    from ketareport.pipeline import run_analysis, write_results
    from ketareport.validate import validate_dataset

    config = load_config(find_config(dataset))
    raw = timed("load", lambda: load_dataset(dataset))
    print(f"  ({len(raw.patients.frame)} patients, {len(raw.infusions.frame)} infusions)")
    valid = timed("validate", lambda: validate_dataset(raw))
    cohort = timed("cohort", lambda: build_cohort(valid, config.analysis))
    timed("analyze", lambda: analyze_cohort(cohort))
    run = run_analysis(dataset)
    with tempfile.TemporaryDirectory() as out:
        with StagedOutput(Path(out) / "results") as staged:
            timed("write results", lambda: write_results(run, staged))


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
