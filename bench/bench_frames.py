"""What results.rds's row-level frames cost a database run: `ketareport analyze FILE.duckdb` with and without them.

Usage:
  .venv/bin/python bench/bench_frames.py [--patients N] [--repeat N] [--work DIR]

Generates a dataset of the demo's design (default 100,000 patients, about
680,000 analysed infusions), loads it into a DuckDB file with DuckDB's own
column types, and runs `ketareport analyze` on it in a new process, in
turns: as shipped (the analysed rows fetched, patient_means and
analysed_infusions written; ketareport/sources/report_inputs.py
FRAMES_UP_TO) and with FRAMES_UP_TO set to 0 (results.rds says why they
are omitted). Prints each run's wall time, CPU time, peak memory and the
size of results.rds, with the load average of the minute before: on a
shared machine the wall time counts other processes' turns.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from timing import REPO

WITHOUT_FRAMES = ("import sys; from ketareport.sources import report_inputs; report_inputs.FRAMES_UP_TO = 0; "
                  "from ketareport.cli import main; main(sys.argv[1:])")


def duckdb_file(work: Path, patients: int) -> Path:
    """The generated dataset as a DuckDB file in ``work``, made once."""
    import duckdb

    from ketareport import demo

    database = work / f"frames-{patients}.duckdb"
    if database.exists():
        return database
    folder = work / f"frames-{patients}"
    demo.write_demo(folder, patients=patients, seed=patients, rdata=False)
    connection = duckdb.connect(str(database))
    try:
        for table in ("patients", "infusions"):
            connection.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header = true)",
                               [str(folder / f"{table}.csv")])
    finally:
        connection.close()
    return database


def analyze(database: Path, out: Path, frames: bool) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MB of one `ketareport analyze` in a new process."""
    import subprocess
    import time

    arguments = ["analyze", str(database), "--out", str(out)]
    command = [sys.executable, "-m", "ketareport", *arguments] if frames else [sys.executable, "-c", WITHOUT_FRAMES,
                                                                               *arguments]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode(errors='replace')}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ketareport-bench-frames")
    options = parser.parse_args()
    options.work.mkdir(parents=True, exist_ok=True)
    database = duckdb_file(options.work, options.patients)
    print(f"{options.patients:,} patients, DuckDB file {database} ({database.stat().st_size / 1e6:.0f} MB)")
    print(f"{'results.rds':<26} {'wall':>8} {'CPU':>8} {'peak':>8} {'rds':>8} {'load':>5}")
    for _ in range(options.repeat):
        for frames in (True, False):
            load = os.getloadavg()[0]
            out = options.work / f"out-{'with' if frames else 'without'}"
            wall, cpu, peak = analyze(database, out, frames)
            label = "with the row-level frames" if frames else "without (FRAMES_UP_TO = 0)"
            size = (out / "results.rds").stat().st_size / 1e6
            print(f"{label:<26} {wall:7.1f}s {cpu:7.1f}s {peak:6.0f}MB {size:6.1f}MB {load:5.1f}")


if __name__ == "__main__":
    main()
