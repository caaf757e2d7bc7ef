"""The R double-programming check (needs R: fails, not skips, in CI)."""

from __future__ import annotations

import csv
import shutil

import pytest
from click.testing import CliRunner

from ketareport import cli
from ketareport.demo import write_demo

from .conftest import DEMO
from .datasets import PATIENTS_CSV, write_csv_dataset

pytestmark = pytest.mark.r


def verify(dataset, out, *extra):
    return CliRunner().invoke(cli.main, ["verify", str(dataset), "--out", str(out), *extra], catch_exceptions=False)


def verification_rows(out):
    with (out / "verification.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_demo_agrees_with_r(rscript, tmp_path):
    result = verify(DEMO, tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = verification_rows(tmp_path / "out")
    assert len(rows) == 8 * 10 and all(row["agrees"] == "true" for row in rows)
    assert "80 of 80 quantities agree" in result.output
    for name in ("analysis.csv", "options.json", "reproduce.R", "r_estimates.csv"):
        assert (tmp_path / "out" / name).is_file()


OPTION_SETS = {
    "pooled-clopper-pearson": "analysis: {difference_test: pooled, relief: {method: clopper-pearson}}\n",
    "jeffreys-99": "analysis: {conf_level: 0.99, relief: {method: jeffreys, conf_level: 0.8}}\n",
    "wilson-thresholds": (
        "analysis:\n  index_diagnosis: headache\n  relief:\n    method: wilson\n    thresholds:\n"
        "      - {name: week, days: 7, inclusive: false}\n      - {name: month, days: 30, inclusive: true}\n"
        "      - {name: quarter, days: 90, inclusive: true}\n"
    ),
}


@pytest.mark.parametrize("patients, seed, options", [
    (20, 1, None), (500, 2, None), (120, 3, "pooled-clopper-pearson"), (80, 4, "jeffreys-99"), (150, 5, "wilson-thresholds"),
])
def test_generated_datasets_agree_with_r(rscript, tmp_path, patients, seed, options):
    dataset = tmp_path / "data"
    write_demo(dataset, patients=patients, seed=seed)
    if options:
        (dataset / "study.yml").write_text(OPTION_SETS[options])
    result = verify(dataset, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert all(row["agrees"] == "true" for row in verification_rows(tmp_path / "out"))


def test_single_patient_group_and_no_censoring_agree_with_r(rscript, tmp_path):
    # One CRPS patient: its group and the difference keep only estimates; nobody's relief is ongoing.
    patients = PATIENTS_CSV.replace("P2,crps", "P2,other").replace("P6,CRPS", "P6,other").replace("yes", "no").replace("TRUE", "false")
    dataset = write_csv_dataset(tmp_path / "data", patients)
    result = verify(dataset, tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = {row["quantity"]: row for row in verification_rows(tmp_path / "out")}
    assert rows["vas_reduction/crps/std_error"]["python"] == "" and rows["vas_reduction/crps/std_error"]["r"] == ""


def test_a_perturbed_python_result_is_caught(rscript, tmp_path, monkeypatch):
    from ketareport import analyze
    from ketareport.statistics import proportion_interval

    def off_by_a_little(x, n, level, method):
        low, high = proportion_interval(x, n, level, method)
        return low, high * (1 + 1e-6)

    monkeypatch.setattr(analyze, "proportion_interval", off_by_a_little)
    result = CliRunner().invoke(cli.main, ["verify", str(DEMO), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "DISAGREES: relief/lasting/conf_high" in result.output
    disagreeing = [row["quantity"] for row in verification_rows(tmp_path / "out") if row["agrees"] == "false"]
    assert disagreeing == ["relief/lasting/conf_high", "relief/long/conf_high"]


def test_render_verify_puts_the_table_in_the_appendix(rscript, tmp_path):
    result = CliRunner().invoke(cli.main, ["render", str(DEMO), "--out", str(tmp_path / "out"), "--verify"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "ketamine-report.html").read_text()
    assert "80 of 80 quantities agree within tolerance" in html
    assert "lme4" in html and "vas_reduction/difference/p_value" in html


def test_missing_r_exits_4_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = CliRunner().invoke(cli.main, ["verify", str(DEMO), "--out", str(tmp_path / "out")])
    assert result.exit_code == 4
    assert "needs Rscript, which is not installed" in result.output and "apt-get install r-base-core" in result.output
    assert not (tmp_path / "out").exists()


def test_reproduce_r_runs_by_hand(rscript, run_r, tmp_path):
    import subprocess

    from ketareport.export import write_analysis_files
    from ketareport.pipeline import run_analysis
    from ketareport.verify import REPRODUCE_R

    table, _ = write_analysis_files(run_analysis(DEMO).cohort, tmp_path)
    completed = subprocess.run([rscript, str(REPRODUCE_R), str(table), str(tmp_path / "out.csv")], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == (
        "analysis,term,estimate,std_error,statistic,df,p_value,conf_low,conf_high,conf_level,n,x"
    )


def test_results_rds_round_trips_in_r(run_r, tmp_path):
    out = tmp_path / "out"
    CliRunner().invoke(cli.main, ["analyze", str(DEMO), "--out", str(out)], catch_exceptions=False)
    code = r"""
    args <- commandArgs(TRUE)
    res <- readRDS(file.path(args[1], "results.rds"))
    csv <- read.csv(file.path(args[1], "estimates.csv"), na.strings = "")
    stopifnot(is.data.frame(res$estimates), is.list(res$cohort))
    stopifnot(identical(names(res$estimates), names(csv)))
    for (column in names(csv)) {
      a <- res$estimates[[column]]; b <- csv[[column]]
      stopifnot(identical(is.na(a), is.na(b)))
      if (is.numeric(a)) stopifnot(all(a[!is.na(a)] == b[!is.na(b)]), !any(is.nan(a)))
      else stopifnot(all(a == b, na.rm = TRUE))
    }
    stopifnot(res$cohort$n_patients == 49, res$cohort$n_infusions_excluded == 36,
              length(res$cohort$excluded_infusion_ids) == 36, res$relief$n_recorded == 29)
    cat("ok")
    """
    assert run_r(code, str(out)) == "ok"
