"""Time the Python analysis against the R program (reproduce.R) on the demo and 3,000 patients.

Usage: .venv/bin/python bench/bench_verify.py   (needs R with lme4 and jsonlite)

Per dataset: the Python analysis (load, validate, analyse), the export of
analysis.csv and options.json, R's start-up check (versions), reproduce.R
itself (one Rscript process: t.test, qbeta, lme4::lmer), and the comparison.
Best of three runs each.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ketareport.demo import write_demo
from ketareport.export import analysis_table, write_analysis_files
from ketareport.pipeline import run_analysis
from ketareport.results import estimates_csv
from ketareport.verify import compare, find_rscript, r_environment, run_reproduce_r

REPO = Path(__file__).resolve().parents[1]
REPEATS = 3


def best(step):
    times, value = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        value = step()
        times.append(time.perf_counter() - start)
    return min(times), value


def bench(label: str, dataset: Path, rscript: str) -> None:
    python_s, run = best(lambda: run_analysis(dataset))
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        export_s, _ = best(lambda: write_analysis_files(analysis_table(run.cohort), run.config.analysis, work))
        environment_s, _ = best(lambda: r_environment(rscript))
        r_s, output = best(lambda: run_reproduce_r(rscript, work))
        compare_s, rows = best(lambda: compare(estimates_csv(run.results.estimates()), output.read_text()))
    agreeing = sum(row.agrees for row in rows)
    cohort = run.results.cohort
    print(f"{label:<26} {cohort.n_patients:>5} patients {cohort.n_infusions_analyzed:>6} infusions | "
          f"Python analysis {python_s:6.2f} s | export {export_s:5.2f} s | R check {environment_s:5.2f} s | "
          f"reproduce.R {r_s:6.2f} s | compare {compare_s:5.3f} s | {agreeing}/{len(rows)} agree")


rscript = find_rscript()
bench("demo", REPO / "data" / "demo", rscript)
with tempfile.TemporaryDirectory() as folder:
    write_demo(Path(folder), patients=3000, rdata=False)
    bench("generated", Path(folder), rscript)
