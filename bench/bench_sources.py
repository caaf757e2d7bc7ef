"""The analysis where the data are: `ketareport analyze` on a DuckDB file and on Spark, at 10 million infusions.

Usage:
  .venv/bin/python bench/bench_sources.py [--infusions N] [--spark] [--work DIR] [--repeat N] [--before CHECKOUT]

Generates a dataset of the demo's design with at least N infusions (default
10,000,000; `ketareport demo-data`, about 7.5 infusions per patient), loads
it into a DuckDB file with DuckDB's own column types, and times
`ketareport analyze FILE.duckdb` in a new process: wall time and peak
memory (the largest resident set of the process and its children). With
--spark, the same tables as Parquet files are analysed by Spark in local
mode (`--engine spark`) and timed the same way. The generated data and the
DuckDB file are kept in --work (default: a folder in the system's temporary
directory) for the next run. Prints one table; the targets (at most 10 s and
1 GB for DuckDB) are printed beside the figures, not asserted. Each figure
has the machine's load average beside it (the minute before the run): on a
shared machine the wall time counts other processes' turns, the CPU time
much less so. --before CHECKOUT (another version's code, e.g. a `git
worktree add` of main) times that code too, in this environment, in turns
with this one, --repeat times each.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import REPO, run_ketareport

INFUSIONS_PER_PATIENT = 7.4
"""A little under the generator's mean, so that the dataset has at least the infusions asked for."""
TARGET_SECONDS = 10.0
TARGET_PEAK_MB = 1024.0


def generate(folder: Path, infusions: int) -> Path:
    data = folder / f"csv-{infusions}"
    if not (data / "infusions.csv").is_file():
        patients = math.ceil(infusions / INFUSIONS_PER_PATIENT)
        print(f"generating {patients} patients into {data} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "ketareport", "demo-data", "--out", str(data), "--patients", str(patients),
                        "--seed", "10"], check=True, stdout=subprocess.DEVNULL)
    return data


def duckdb_file(folder: Path, data: Path) -> Path:
    import duckdb

    database = folder / f"{data.name}.duckdb"
    if not database.is_file():
        print(f"loading {data} into {database} ...", file=sys.stderr)
        with duckdb.connect(str(database)) as connection:
            for table in ("patients", "infusions"):
                connection.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header = true)", [str(data / f"{table}.csv")])
    return database


def parquet_folder(folder: Path, database: Path) -> Path:
    import duckdb

    target = folder / f"{database.stem}-parquet"
    if not (target / "infusions.parquet").is_file():
        target.mkdir(exist_ok=True)
        with duckdb.connect(str(database), read_only=True) as connection:
            for table in ("patients", "infusions"):
                connection.execute(f"COPY {table} TO '{target / (table + '.parquet')}' (FORMAT parquet)")
    return target


def rows(database: Path) -> tuple[int, int]:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as connection:
        return tuple(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("patients", "infusions"))


def timed_analyze(dataset: Path, out: Path, *extra: str, code: Path = REPO) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MB of one `ketareport analyze` in a new process, in checkout ``code``
    (:func:`timing.run_ketareport`)."""
    return run_ketareport(["--quiet", "analyze", str(dataset.resolve()), "--out", str(out), *extra], code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--infusions", type=int, default=10_000_000)
    parser.add_argument("--spark", action="store_true", help="also time Spark in local mode on the same data")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ketareport-bench-sources")
    parser.add_argument("--repeat", type=int, default=1, help="times each DuckDB run (in turns with --before's)")
    parser.add_argument("--before", type=Path, help="another checkout of ketareport (e.g. `git worktree add` of main), timed in turns with this one")
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    database = arguments.work / f"csv-{arguments.infusions}.duckdb"
    if not database.is_file():  # the generated CSV files are needed only to make it
        database = duckdb_file(arguments.work, generate(arguments.work, arguments.infusions))
    n_patients, n_infusions = rows(database)
    print(f"{n_patients:,} patients, {n_infusions:,} infusions ({database.stat().st_size / 2**20:.0f} MB DuckDB file)")
    print(f"{'engine':<28} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'load':>6}   target")
    runs = [("DuckDB file", REPO)] + ([("DuckDB file, --before", arguments.before.resolve())] if arguments.before else [])
    with tempfile.TemporaryDirectory(prefix="ketareport-bench-") as out:
        for turn in range(arguments.repeat):
            for label, code in runs:
                load = os.getloadavg()[0]
                seconds, cpu, peak = timed_analyze(database, Path(out) / f"duckdb-{turn}-{len(label)}", code=code)
                print(f"{label:<28} {seconds:8.1f} {cpu:8.1f} {peak:8.0f} {load:6.1f}   "
                      f"wall <= {TARGET_SECONDS:g} s, peak <= {TARGET_PEAK_MB:g} MB", flush=True)
        if arguments.spark:
            parquet = parquet_folder(arguments.work, database)
            load = os.getloadavg()[0]
            seconds, cpu, peak = timed_analyze(parquet, Path(out) / "spark", "--engine", "spark")
            print(f"{'Spark local[*] (Parquet)':<28} {seconds:8.1f} {cpu:8.1f} {peak:8.0f} {load:6.1f}   reported (JVM start-up included)")


if __name__ == "__main__":
    main()
