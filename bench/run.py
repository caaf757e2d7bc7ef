"""ketareport against its R peers, measured alternately in the same run; prints one table.

Usage: .venv/bin/python bench/run.py [--repeat K] [--analyze-only] [PATIENTS ...]   (or bash bench/run.sh ...)

For each size (default 49, 3000, 30000 and 100000 patients; 49 is the
shipped demo, the others come from ``ketareport demo-data``):

* ``analyze``: ``ketareport analyze DATASET --out DIR`` against
  ``Rscript bench/peer/analysis.R`` (read.csv, aggregate, t.test, qbeta,
  lme4::lmer) on the same CSV files;

and on the demo:

* ``render``: ``ketareport render data/demo`` (HTML and PDF) against the
  hand-written R Markdown report ``bench/peer/report.Rmd`` (HTML only).

Every run is a new process writing into an empty folder; ketareport and the
peer take turns (ketareport, peer, ketareport, peer, ...), so a load that
other work puts on the machine falls on both. Times are wall-clock medians
of K runs (K = --repeat, default 3, and 1 from 30,000 patients up); peak
memory is the process's maximum resident set size (getrusage of the child).
Only the command line is used, the same public interface a user has.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEER = REPO / "bench" / "peer"
DEMO = REPO / "data" / "demo"
DEFAULT_SIZES = (49, 3000, 30_000, 100_000)
ONE_RUN_FROM = 30_000


@dataclass(frozen=True)
class Measure:
    seconds: float
    peak_mb: float


def measure(command: list[str], env: dict[str, str] | None = None) -> Measure:
    """Run ``command`` in a fresh child of a fresh measuring process: (wall time, its peak RSS)."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
        "elapsed = time.perf_counter() - start\n"
        "if done.returncode:\n"
        "    sys.exit(f'{sys.argv[1:]} failed ({done.returncode}):\\n{done.stderr[-3000:]}')\n"
        "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, env=env)
    if completed.returncode:
        raise SystemExit(completed.stderr)
    seconds, peak_kb = completed.stdout.split()
    return Measure(float(seconds), int(peak_kb) / 1024)


def ketareport_command() -> list[str]:
    installed = Path(sys.executable).with_name("ketareport")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "ketareport"]


def r_environment() -> dict[str, str]:
    """R Markdown needs pandoc: the system's, else the one pypandoc-binary ships (RSTUDIO_PANDOC)."""
    env = dict(os.environ)
    if shutil.which("pandoc") is None and "RSTUDIO_PANDOC" not in env:
        try:
            import pypandoc

            env["RSTUDIO_PANDOC"] = str(Path(pypandoc.get_pandoc_path()).parent)
        except (ImportError, OSError):
            pass
    return env


def dataset(patients: int, folder: Path) -> Path:
    if patients == 49:
        return DEMO
    target = folder / f"data-{patients}"
    subprocess.run([*ketareport_command(), "demo-data", "--out", str(target), "--patients", str(patients)],
                   check=True, capture_output=True)
    return target


def alternate(ours: list[str], peer: list[str], repeat: int, scratch: Path, env: dict[str, str]) -> tuple[Measure, Measure]:
    """Median time and largest peak of ``ours`` and ``peer`` run in turns; each run gets an empty folder."""
    runs: dict[str, list[Measure]] = {"ours": [], "peer": []}
    for turn in range(repeat):
        for name, command in (("ours", ours), ("peer", peer)):
            out = scratch / f"{name}-{turn}"
            runs[name].append(measure([part.replace("{out}", str(out)) for part in command], env))
            shutil.rmtree(out, ignore_errors=True)
    return tuple(  # type: ignore[return-value]
        Measure(statistics.median(m.seconds for m in runs[name]), max(m.peak_mb for m in runs[name]))
        for name in ("ours", "peer")
    )


def infusion_count(folder: Path) -> int:
    with (folder / "infusions.csv").open("rb") as handle:
        return sum(1 for _ in handle) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(DEFAULT_SIZES), help="patients per dataset (49 = the demo)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command below 30,000 patients (median)")
    parser.add_argument("--analyze-only", action="store_true", help="the analyze rows only, not the demo render")
    options = parser.parse_args()
    env = r_environment()
    load_at_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ketareport-bench-") as folder:
        scratch = Path(folder)
        for patients in options.sizes:
            data = dataset(patients, scratch)
            repeat = 1 if patients >= ONE_RUN_FROM else options.repeat
            ours, peer = alternate(
                [*ketareport_command(), "analyze", str(data), "--out", "{out}"],
                ["Rscript", str(PEER / "analysis.R"), str(data), "{out}"],
                repeat, scratch, env,
            )
            rows.append((f"analyze {patients:,} patients / {infusion_count(data):,} infusions", "R script", ours, peer, repeat))
            if data != DEMO:
                shutil.rmtree(data)
        if options.analyze_only:
            print_table(rows, load_at_start)
            return
        render_code = (
            f"rmarkdown::render('{PEER / 'report.Rmd'}', output_dir = '{{out}}', intermediates_dir = '{{out}}', "
            f"knit_root_dir = '{{out}}', params = list(dataset = '{DEMO}'), quiet = TRUE)"
        )
        ours, peer = alternate(
            [*ketareport_command(), "render", str(DEMO), "--out", "{out}"],
            ["sh", "-c", f"mkdir -p '{{out}}' && Rscript -e \"{render_code}\""],
            options.repeat, scratch, env,
        )
        rows.append(("render demo (ketareport: HTML + PDF)", "R Markdown, HTML only", ours, peer, options.repeat))
    print_table(rows, load_at_start)


def print_table(rows: list[tuple], load_at_start: float) -> None:
    print(f"ketareport vs R peers, alternating in one run on {os.cpu_count()} CPUs (load average "
          f"{load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end); median wall time, peak RSS")
    header = f"{'work':<48} {'ketareport':>11} {'peak MB':>8} {'peer':>8} {'peak MB':>8} {'ratio':>6} {'runs':>4}  peer"
    print(header)
    print("-" * len(header))
    for work, peer_name, ours, peer, repeat in rows:
        print(f"{work:<48} {ours.seconds:>9.2f} s {ours.peak_mb:>8.0f} {peer.seconds:>6.2f} s {peer.peak_mb:>8.0f} "
              f"{ours.seconds / peer.seconds:>6.2f} {repeat:>4}  {peer_name}")


if __name__ == "__main__":
    main()
