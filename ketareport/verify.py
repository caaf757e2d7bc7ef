"""Double programming: cross-check every reported estimate against R.

The engine exports the analysis table (:mod:`ketareport.export`), the plain
R program ``R/reproduce.R`` (t.test, qbeta, binom.test, prop.test,
lme4::lmer) recomputes the estimates from it, and every estimate, SE,
statistic, df, P, interval bound, level, n and x of ``estimates.csv`` is
compared. Numbers cross between the languages as text with 17 significant
digits (R's write.csv and jsonlite keep only 15).

Agreement is relative::

    |python - r| <= tolerance * max(|python|, |r|, floor)

with a tolerance of 1e-8 for the closed forms (t tests, proportions) and
1e-4 for the mixed model, whose estimates come from two different
optimisers (lme4's default nloptwrap stops at about 1e-7 relative).

Relative, because that treats a P value of 1e-24 as carefully as one of
0.5: an absolute tolerance would call any two tiny P values equal, whereas
1e-24 against 2e-24 must disagree. The floor only says where "relative"
stops making sense:

* P values, SEs, df, n, x, levels and relief proportions and bounds are
  compared relative all the way down (floor: the smallest normal double, so
  that two exact zeros, or two underflowed P values, agree).
* Means, differences, interval bounds and t or z statistics of the VAS
  analyses can cross zero (a difference of two equal means, a bound near
  0), where their rounding error is set by the data (VAS 0-10 cm), not by
  the value itself: 5.1 - 5.1 may be 0 in one program and 9e-16 in the
  other. Their floor is 1 (cm, or one unit of t), so below 1 the
  tolerance becomes absolute: 1e-8 cm.
* The mixed model's P values are compared as log(P) (floor 1): a normal
  tail P behaves like exp(-z^2/2), so a relative error e in z becomes about
  z^2 * e in P (at z = 27, 1e-4 of agreement in z is 7e-2 in P) but stays
  about 2e in log(P).

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

from .errors import RFailed, RNotAvailable
from .results import ESTIMATE_COLUMNS

if TYPE_CHECKING:
    from .pipeline import AnalysisRun

REPRODUCE_R = Path(__file__).parent / "R" / "reproduce.R"
R_PACKAGES = ("lme4", "jsonlite")
"""R packages reproduce.R calls; without them the check cannot run."""
R_REPORTED_PACKAGES = R_PACKAGES + ("Matrix", "nloptr")
"""Versions reported with the check: also lme4's numerical back-ends (sparse
Cholesky, and the BOBYQA optimiser behind lmer's default ``nloptwrap``)."""
CLOSED_FORM_TOLERANCE = 1e-8
MIXED_MODEL_TOLERANCE = 1e-4
MIXED_MODEL_ANALYSIS = "vas_reduction_lmm"
COMPARED_COLUMNS = ESTIMATE_COLUMNS[2:]
LOCATION_COLUMNS = ("estimate", "statistic", "conf_low", "conf_high")
"""Columns that can cross zero in the VAS analyses (floor 1, see the module docstring)."""
VAS_ANALYSES = ("vas_reduction", MIXED_MODEL_ANALYSIS)
TINY = 2.2250738585072014e-308  # smallest normal double
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
    relative_difference: float | None = None
    """``|python - r| / max(|python|, |r|, floor)`` (of log P for the mixed
    model's P), the number compared with ``tolerance``; None when missing."""


@dataclass(frozen=True)
class VerificationReport:
    rows: list[VerificationRow]
    r_version: str
    r_packages: dict[str, str]
    """R package name -> version (lme4, jsonlite and lme4's back-ends)."""

    @property
    def all_agree(self) -> bool:
        return all(row.agrees for row in self.rows)

    @property
    def n_disagreeing(self) -> int:
        return sum(not row.agrees for row in self.rows)


# --- R and its packages --------------------------------------------------------

_ENVIRONMENT_R = (
    "cat(paste(R.version$major, R.version$minor, sep = '.'), '\\n');"
    "for (p in commandArgs(TRUE)) cat(p, if (nzchar(system.file(package = p))) "
    "as.character(packageVersion(p)) else 'MISSING', '\\n')"
)


def find_rscript() -> str:
    """The Rscript on PATH; :class:`RNotAvailable` when there is none."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise RNotAvailable(f"the R cross-check needs Rscript, which is not installed (not on PATH); {INSTALL_HINT}")
    return rscript


def r_environment(rscript: str) -> tuple[str, dict[str, str]]:
    """R's version and the reported packages' versions, in one R start.

    Raises :class:`RNotAvailable` naming the R packages that are missing.
    """
    completed = subprocess.run([rscript, "-e", _ENVIRONMENT_R, *R_REPORTED_PACKAGES],
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RNotAvailable(f"Rscript ({rscript}) does not run: {completed.stderr.strip()}; {INSTALL_HINT}")
    lines = [line.split() for line in completed.stdout.splitlines() if line.strip()]
    packages = dict(line[:2] for line in lines[1:])
    missing = [name for name in R_PACKAGES if packages.get(name, "MISSING") == "MISSING"]
    if missing:
        raise RNotAvailable(f"the R cross-check needs the R package{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}, not installed for {rscript}; {INSTALL_HINT}")
    return lines[0][0], {name: version for name, version in packages.items() if version != "MISSING"}


# --- comparison ------------------------------------------------------------------

def _number(text: str) -> float | None:
    return None if text in ("", "NA", "NaN") else float(text)


def read_estimates(text: str) -> dict[tuple[str, str], dict[str, float | None]]:
    """An estimates table (Python's or R's) keyed by (analysis, term)."""
    return {
        (row["analysis"], row["term"]): {column: _number(row[column]) for column in COMPARED_COLUMNS}
        for row in csv.DictReader(io.StringIO(text))
    }


def tolerance_for(analysis: str) -> float:
    return MIXED_MODEL_TOLERANCE if analysis == MIXED_MODEL_ANALYSIS else CLOSED_FORM_TOLERANCE


def relative_difference(analysis: str, column: str, python: float, r: float) -> float:
    """``|python - r| / max(|python|, |r|, floor)``; see the module docstring."""
    if python == r:
        return 0.0
    if analysis == MIXED_MODEL_ANALYSIS and column == "p_value" and python > 0 and r > 0:
        python, r, floor = math.log(python), math.log(r), 1.0
    elif analysis in VAS_ANALYSES and column in LOCATION_COLUMNS:
        floor = 1.0
    else:
        floor = TINY
    return abs(python - r) / max(abs(python), abs(r), floor)


def compare(python_csv: str, r_csv: str) -> list[VerificationRow]:
    """Every quantity of both tables, in the Python table's order (then R-only rows)."""
    python, r = read_estimates(python_csv), read_estimates(r_csv)
    rows = []
    for key in list(python) + [key for key in r if key not in python]:
        analysis, term = key
        tolerance = tolerance_for(analysis)
        for column in COMPARED_COLUMNS:
            quantity = f"{analysis}/{term}/{column}"
            left = python.get(key, {}).get(column)
            right = r.get(key, {}).get(column)
            if left is None or right is None:
                rows.append(VerificationRow(quantity, left, right, None, tolerance, left is None and right is None))
                continue
            relative = relative_difference(analysis, column, left, right)
            rows.append(VerificationRow(quantity, left, right, abs(left - right), tolerance, relative <= tolerance, relative))
    return rows


# --- the check -------------------------------------------------------------------

def run_reproduce_r(rscript: str, work_dir: Path) -> Path:
    """Run ``reproduce.R`` on ``work_dir``'s analysis.csv and options.json."""
    script = work_dir / "reproduce.R"
    shutil.copyfile(REPRODUCE_R, script)
    output = work_dir / "r_estimates.csv"
    output.unlink(missing_ok=True)  # never compare with an earlier run's table
    completed = subprocess.run(
        [rscript, script.name, "analysis.csv", output.name, "options.json"],
        capture_output=True, text=True, cwd=work_dir, check=False,
    )
    if completed.returncode != 0 or not output.is_file():
        raise RFailed(f"reproduce.R stopped with an error:\n{completed.stderr.strip()}")
    return output


def cross_check(run: AnalysisRun, work_dir: Path) -> VerificationReport:
    """Run reproduce.R on the run's analysis table in ``work_dir`` and compare.

    The table is ``run.analysis_table``: from files, made from the cohort;
    from a database, the analysed rows fetched from the engine
    (:func:`ketareport.pipeline.run_analysis` with ``cross_check=True``).

    Leaves ``analysis.csv``, ``options.json``, ``reproduce.R`` and
    ``r_estimates.csv`` in ``work_dir``, so that the check can be rerun by
    hand. Raises :class:`RNotAvailable` when Rscript, lme4 or jsonlite is
    missing (before anything is written) and :class:`RFailed` when
    reproduce.R stops with an error.
    """
    from .export import write_analysis_files
    from .results import estimates_csv

    rscript = find_rscript()
    version, packages = r_environment(rscript)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    write_analysis_files(run.analysis_table, run.config.analysis, work_dir)
    r_output = run_reproduce_r(rscript, work_dir)
    rows = compare(estimates_csv(run.results.estimates()), r_output.read_text(encoding="utf-8"))
    return VerificationReport(rows=rows, r_version=version, r_packages=packages)


# --- output ------------------------------------------------------------------------

VERIFICATION_COLUMNS = ("quantity", "python", "r", "abs_difference", "tolerance", "agrees")


def verification_csv(report: VerificationReport) -> str:
    """``verification.csv``: one row per quantity, numbers at full precision."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(VERIFICATION_COLUMNS)
    for row in report.rows:
        writer.writerow([row.quantity, _cell(row.python), _cell(row.r), _cell(row.abs_difference), repr(row.tolerance),
                         "true" if row.agrees else "false"])
    return buffer.getvalue()


def _cell(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(value)


def summary_lines(report: VerificationReport) -> list[str]:
    """A short table: per analysis, the quantities, how many agree and the
    largest relative difference; then every disagreement and the count."""
    analyses: dict[str, list[VerificationRow]] = {}
    for row in report.rows:
        analyses.setdefault(row.quantity.split("/")[0], []).append(row)
    lines = [f"{'analysis':<20} {'quantities':>10} {'agree':>6} {'largest relative difference':>28} {'tolerance':>10}"]
    for analysis, rows in analyses.items():
        relative = [row.relative_difference for row in rows if row.relative_difference is not None]
        largest = f"{max(relative):.2e}" if relative else "-"
        lines.append(f"{analysis:<20} {len(rows):>10} {sum(row.agrees for row in rows):>6} {largest:>28} "
                     f"{tolerance_for(analysis):>10.0e}")
    lines += [f"DISAGREES: {row.quantity}: Python {_cell(row.python) or 'missing'}, R {_cell(row.r) or 'missing'}"
              for row in report.rows if not row.agrees]
    agreeing = len(report.rows) - report.n_disagreeing
    lines.append(f"{agreeing} of {len(report.rows)} quantities agree (R {report.r_version}; "
                 + ", ".join(f"{name} {version}" for name, version in report.r_packages.items()) + ")")
    return lines
