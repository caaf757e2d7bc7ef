"""Time the Python analysis against the R cross-check (reproduce.R) on the demo and 3,000 patients.

Usage: .venv/bin/python bench/bench_verify.py   (needs R with lme4 and jsonlite)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ketareport.demo import write_demo
from ketareport.pipeline import run_analysis
from ketareport.verify import cross_check

REPO = Path(__file__).resolve().parents[1]


def bench(label: str, dataset: Path) -> None:
    start = time.perf_counter()
    run = run_analysis(dataset)
    python_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        report = cross_check(run, Path(work))
        r_seconds = time.perf_counter() - start
    agreeing = len(report.rows) - report.n_disagreeing
    print(f"{label:<28} Python analysis {python_seconds:6.2f} s   R cross-check {r_seconds:6.2f} s   "
          f"{agreeing}/{len(report.rows)} agree")


bench("demo (49 patients)", REPO / "data" / "demo")
with tempfile.TemporaryDirectory() as folder:
    write_demo(Path(folder), patients=3000)
    bench("generated, 3000 patients", Path(folder))
