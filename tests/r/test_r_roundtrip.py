"""results.rds, read in R, holds exactly the numbers of estimates.csv (needs R: fails, not skips, in CI)."""

from __future__ import annotations

import csv
import math

import pytest
from click.testing import CliRunner

from ketareport import cli
from ketareport.results import ESTIMATE_COLUMNS

from ..conftest import DEMO
from ..datasets import PATIENTS_CSV, write_csv_dataset

pytestmark = pytest.mark.r

# In R: the estimates data frame against estimates.csv read by read.csv, to
# 2 ulp: R's decimal parser is not always correctly rounded (it reads
# "7.668319219641758" 1 ulp low). Then every number of the data frame at 17
# significant digits (sprintf is exact) for Python, whose float() is
# correctly rounded, to compare bit for bit with estimates.csv.
R_COMPARE = r"""
args <- commandArgs(TRUE)
res <- readRDS(file.path(args[1], "results.rds"))
csv <- read.csv(file.path(args[1], "estimates.csv"), na.strings = "", stringsAsFactors = FALSE)
stopifnot(is.list(res), is.data.frame(res$estimates), is.list(res$cohort))
est <- res$estimates
stopifnot(identical(names(est), names(csv)), nrow(est) == nrow(csv))
for (column in names(csv)) {
  a <- est[[column]]; b <- csv[[column]]
  if (!identical(is.na(a), is.na(b))) stop("missing cells differ in ", column)
  if (is.numeric(a) && any(is.nan(a))) stop("NaN instead of NA in ", column)
  if (is.numeric(a) && !isTRUE(all(abs(a - b) <= 2 * .Machine$double.eps * abs(b), na.rm = TRUE))) {
    stop("numbers differ in ", column)
  }
  if (is.character(a) && !isTRUE(all(a == b))) stop("text differs in ", column)
}
stopifnot(is.integer(est$n), is.character(est$analysis), is.double(est$estimate))
cat(res$cohort$n_patients, res$cohort$n_infusions_excluded, length(res$cohort$excluded_infusion_ids),
    res$relief$n_recorded, "\n")
for (i in seq_len(nrow(est))) {
  cells <- vapply(est[i, ], function(v) if (is.na(v)) "NA" else if (is.numeric(v)) sprintf("%.17g", v) else v, "")
  cat(paste(cells, collapse = ","), "\n", sep = "")
}
"""


def analyse(dataset, out):
    result = CliRunner().invoke(cli.main, ["analyze", str(dataset), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with (out / "estimates.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_same_numbers(r_lines: list[str], rows: list[dict[str, str]]) -> None:
    assert len(r_lines) == len(rows)
    for line, row in zip(r_lines, rows, strict=True):
        for column, r_cell in zip(ESTIMATE_COLUMNS, line.split(","), strict=True):
            python_cell = row[column]
            if r_cell == "NA":
                assert python_cell == "", (row["analysis"], row["term"], column)
            elif column in ("analysis", "term"):
                assert r_cell == python_cell
            else:  # the double R holds is the double Python wrote, bit for bit
                assert float(r_cell) == float(python_cell) and math.isfinite(float(r_cell)), (row["term"], column)


def test_results_rds_matches_estimates_csv_on_the_demo(run_r, tmp_path):
    rows = analyse(DEMO, tmp_path / "out")
    summary, *lines = run_r(R_COMPARE, str(tmp_path / "out")).splitlines()
    assert summary.split() == ["49", "36", "36", "29"]
    assert_same_numbers(lines, rows)


def test_results_rds_keeps_na_for_estimates_that_are_not_applicable(run_r, tmp_path):
    # One CRPS patient (its SE, t, P and interval are NA) and no mixed model.
    patients = PATIENTS_CSV.replace("P2,crps", "P2,other").replace("P6,CRPS", "P6,other")
    dataset = write_csv_dataset(tmp_path / "data", patients)
    (dataset / "study.yml").write_text("analysis: {sensitivity_model: false}\n")
    rows = analyse(dataset, tmp_path / "out")
    _, *lines = run_r(R_COMPARE, str(tmp_path / "out")).splitlines()
    assert_same_numbers(lines, rows)
    crps = next(line for line in lines if line.startswith("vas_reduction,crps,"))
    assert crps.split(",")[3:10] == ["NA"] * 7
