"""Double programming: cross-check every reported estimate against R.

The engine exports the analysis table (:mod:`ketareport.export`), the plain
R program ``R/reproduce.R`` (t.test, qbeta, binom.test, prop.test,
lme4::lmer) recomputes the estimates from it, and every estimate, SE,
statistic, df, P, interval bound, level, n and x is compared.

Agreement is relative: ``|python - r| <= tolerance * max(|python|, |r|)``,
which treats a P value of 1e-37 as carefully as one of 0.5 (an absolute
tolerance would call any two tiny P values equal). Two exact zeros agree.
The tolerance is 1e-8 for closed forms and 1e-4 for the mixed model, whose
estimates come from two different optimisers. The mixed model's P values
are compared as log(P): a normal tail P behaves like exp(-z^2/2), so a
relative error e in z becomes about z^2 * e in P (at z = 27, 1e-4 of
agreement in z is 7e-2 in P) but stays e * z^2 / |log P| ~ 2e in log(P).
A value missing on one side only is a disagreement; missing on both sides
agrees.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import KetareportError, RNotAvailable
from .results import ESTIMATE_COLUMNS

if TYPE_CHECKING:
    from .pipeline import AnalysisRun

REPRODUCE_R = Path(__file__).parent / "R" / "reproduce.R"
R_PACKAGES = ("lme4", "jsonlite")
CLOSED_FORM_TOLERANCE = 1e-8
MIXED_MODEL_TOLERANCE = 1e-4
COMPARED_COLUMNS = ESTIMATE_COLUMNS[2:]
INSTALL_HINT = "install R with: apt-get install r-base-core r-cran-lme4 r-cran-jsonlite"


@dataclass(frozen=True)
class VerificationRow:
    """One quantity compared between the Python engine and reproduce.R."""

    quantity: str
    """``analysis/term/column``, e.g. ``vas_reduction/difference/p_value``."""
    python: float | None
    r: float | None
    abs_difference: float | None
    tolerance: float
    """Relative tolerance used for this quantity."""
    agrees: bool


@dataclass(frozen=True)
class VerificationReport:
    rows: list[VerificationRow]
    r_version: str
    r_packages: dict[str, str]
    """R package name -> version (lme4, jsonlite, ...)."""

    @property
    def all_agree(self) -> bool:
        return all(row.agrees for row in self.rows)

    @property
    def n_disagreeing(self) -> int:
        return sum(not row.agrees for row in self.rows)


class RFailed(KetareportError):
    """reproduce.R stopped with an error."""


def find_rscript() -> str:
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise RNotAvailable(f"the R cross-check needs Rscript, which is not installed; {INSTALL_HINT}")
    probe = "for (p in commandArgs(TRUE)) if (!requireNamespace(p, quietly = TRUE)) cat(p, '\\n')"
    missing = subprocess.run([rscript, "-e", probe, *R_PACKAGES], capture_output=True, text=True).stdout.split()
    if missing:
        raise RNotAvailable(f"the R cross-check needs the R packages {', '.join(missing)}; {INSTALL_HINT}")
    return rscript


def r_versions(rscript: str) -> tuple[str, dict[str, str]]:
    code = (
        "cat(paste(R.version$major, R.version$minor, sep = '.'), '\\n');"
        "for (p in commandArgs(TRUE)) cat(p, as.character(packageVersion(p)), '\\n')"
    )
    lines = subprocess.run([rscript, "-e", code, *R_PACKAGES], capture_output=True, text=True, check=True).stdout.splitlines()
    packages = dict(line.split()[:2] for line in lines[1:] if line.strip())
    return lines[0].strip(), packages


def _number(text: str) -> float | None:
    return None if text in ("", "NA") else float(text)


def read_estimates(text: str) -> dict[tuple[str, str], dict[str, float | None]]:
    return {
        (row["analysis"], row["term"]): {column: _number(row[column]) for column in COMPARED_COLUMNS}
        for row in csv.DictReader(io.StringIO(text))
    }


def compare(python_csv: str, r_csv: str) -> list[VerificationRow]:
    """Every quantity of both tables, in the Python table's order (then R-only rows)."""
    python, r = read_estimates(python_csv), read_estimates(r_csv)
    rows = []
    for key in list(python) + [key for key in r if key not in python]:
        tolerance = MIXED_MODEL_TOLERANCE if key[0] == "vas_reduction_lmm" else CLOSED_FORM_TOLERANCE
        for column in COMPARED_COLUMNS:
            left = python.get(key, {}).get(column)
            right = r.get(key, {}).get(column)
            if left is None or right is None:
                rows.append(VerificationRow(f"{key[0]}/{key[1]}/{column}", left, right, None, tolerance, left is None and right is None))
                continue
            difference = abs(left - right)
            if key[0] == "vas_reduction_lmm" and column == "p_value" and left > 0 and right > 0:
                scale_left, scale_right = math.log(left), math.log(right)
            else:
                scale_left, scale_right = left, right
            agrees = _close(scale_left, scale_right, tolerance)
            rows.append(VerificationRow(f"{key[0]}/{key[1]}/{column}", left, right, difference, tolerance, agrees))
    return rows


def _close(left: float, right: float, tolerance: float) -> bool:
    difference = abs(left - right)
    return difference == 0 or difference <= tolerance * max(abs(left), abs(right))


def cross_check(run: AnalysisRun, work_dir: Path) -> VerificationReport:
    """Run reproduce.R on the run's analysis table in ``work_dir`` and compare.

    Leaves ``analysis.csv``, ``options.json``, ``r_estimates.csv`` and
    ``reproduce.R`` in ``work_dir``, so that the check can be rerun by hand.
    """
    from .export import write_analysis_files
    from .results import estimates_csv

    rscript = find_rscript()
    work_dir.mkdir(parents=True, exist_ok=True)
    table, options = write_analysis_files(run.cohort, work_dir)
    script = work_dir / "reproduce.R"
    shutil.copyfile(REPRODUCE_R, script)
    r_output = work_dir / "r_estimates.csv"
    completed = subprocess.run([rscript, str(script), str(table), str(r_output), str(options)],
                               capture_output=True, text=True)
    if completed.returncode != 0:
        raise RFailed(f"reproduce.R failed:\n{completed.stderr.strip()}")
    version, packages = r_versions(rscript)
    rows = compare(estimates_csv(run.results.estimates()), r_output.read_text(encoding="utf-8"))
    return VerificationReport(rows=rows, r_version=version, r_packages=packages)


def verification_csv(report: VerificationReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["quantity", "python", "r", "abs_difference", "tolerance", "agrees"])
    for row in report.rows:
        writer.writerow([row.quantity, _cell(row.python), _cell(row.r), _cell(row.abs_difference), repr(row.tolerance),
                         "true" if row.agrees else "false"])
    return buffer.getvalue()


def _cell(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(value)


def summary_lines(report: VerificationReport) -> list[str]:
    """A short table: the largest relative difference per analysis, then the count."""
    largest: dict[str, float] = {}
    for row in report.rows:
        analysis = row.quantity.split("/")[0]
        if row.abs_difference is not None and row.python:
            relative = row.abs_difference / max(abs(row.python), abs(row.r))
            largest[analysis] = max(largest.get(analysis, 0.0), relative)
        else:
            largest.setdefault(analysis, 0.0)
    lines = [f"{'analysis':<20} {'largest relative difference':>28}"]
    lines += [f"{analysis:<20} {value:>28.2e}" for analysis, value in largest.items()]
    lines += [f"DISAGREES: {row.quantity}: Python {row.python!r}, R {row.r!r}" for row in report.rows if not row.agrees]
    agreeing = len(report.rows) - report.n_disagreeing
    lines.append(f"{agreeing} of {len(report.rows)} quantities agree (R {report.r_version}; "
                 + ", ".join(f"{name} {version}" for name, version in report.r_packages.items()) + ")")
    return lines
