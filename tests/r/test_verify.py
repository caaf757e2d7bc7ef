"""The R double-programming check: ``ketareport verify``, reproduce.R and the comparison.

Tests marked ``r`` need Rscript with lme4 and jsonlite (the ``rscript``
fixture): they skip without R on a user's machine and fail in CI.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ketareport import cli
from ketareport import verify as verification
from ketareport.demo import write_demo
from ketareport.export import ANALYSIS_TABLE_COLUMNS, analysis_csv, analysis_table
from ketareport.pipeline import run_analysis
from ketareport.results import ESTIMATE_COLUMNS

from ..conftest import DEMO, REPO
from ..datasets import PATIENTS_CSV, write_csv_dataset


def run_verify(dataset, out, *extra):
    return CliRunner().invoke(cli.main, ["verify", str(dataset), "--out", str(out), *extra])


def verification_rows(out) -> list[dict[str, str]]:
    with (out / "verification.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_all_agree(result, out):
    assert result.exit_code == 0, result.output
    rows = verification_rows(out)
    assert rows and all(row["agrees"] == "true" for row in rows)
    assert f"{len(rows)} of {len(rows)} quantities agree" in result.output
    return {row["quantity"]: row for row in rows}


# --- on the demo and on generated datasets (R) -------------------------------------

@pytest.mark.r
def test_demo_agrees_with_r(rscript, tmp_path):
    out = tmp_path / "out"
    result = run_verify(DEMO, out)
    rows = assert_all_agree(result, out)
    assert len(rows) == 8 * 10  # 4 VAS rows, 2 relief rows, 2 mixed-model rows; 10 compared columns each
    assert list(verification_rows(out)[0]) == ["quantity", "python", "r", "abs_difference", "tolerance", "agrees"]
    # Every row of estimates.csv is compared, every column: the demo's abstract figures among them.
    assert float(rows["vas_reduction/difference/p_value"]["r"]) == pytest.approx(0.0020, abs=5e-5)
    assert rows["relief/lasting/x"]["python"] == "21.0" and rows["relief/lasting/n"]["r"] == "28.0"
    assert rows["vas_reduction_lmm/crps/df"]["python"] == rows["vas_reduction_lmm/crps/df"]["r"] == ""
    for name in ("verification.csv", "analysis.csv", "options.json", "reproduce.R", "r_estimates.csv"):
        assert (out / name).is_file()
    for analysis in ("vas_reduction", "relief", "vas_reduction_lmm"):
        assert any(line.startswith(analysis) for line in result.stdout.splitlines())
    assert "lme4" in result.stdout and "jsonlite" in result.stdout


@pytest.mark.r
def test_the_files_left_in_out_rerun_by_hand(rscript, tmp_path):
    out = tmp_path / "out"
    assert run_verify(DEMO, out).exit_code == 0
    completed = subprocess.run([rscript, "reproduce.R", "analysis.csv", "again.csv", "options.json"],
                               cwd=out, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert (out / "again.csv").read_text() == (out / "r_estimates.csv").read_text()
    # Without options.json: the contract's defaults, which the demo uses.
    completed = subprocess.run([rscript, "reproduce.R", "analysis.csv", "defaults.csv"], cwd=out, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert (out / "defaults.csv").read_text() == (out / "r_estimates.csv").read_text()
    assert (out / "defaults.csv").read_text().splitlines()[0].replace('"', "") == ",".join(ESTIMATE_COLUMNS)


OPTION_SETS = {
    "pooled-clopper-pearson": "analysis: {difference_test: pooled, relief: {method: clopper-pearson}}\n",
    "jeffreys-99": "analysis: {conf_level: 0.99, relief: {method: jeffreys, conf_level: 0.8}}\n",
    "wilson-thresholds": (
        "analysis:\n  index_diagnosis: headache\n  relief:\n    method: wilson\n    thresholds:\n"
        "      - {name: week, days: 7, inclusive: false}\n      - {name: month, days: 30.5, inclusive: true}\n"
        "      - {name: quarter, days: 90, inclusive: true}\n"
    ),
    "no-sensitivity-model": "analysis: {sensitivity_model: false, conf_level: 0.9}\n",
}


@pytest.mark.r
@pytest.mark.parametrize("patients, seed, options", [
    (20, 1, None), (500, 2, None), (120, 3, "pooled-clopper-pearson"), (80, 4, "jeffreys-99"),
    (150, 5, "wilson-thresholds"), (60, 6, "no-sensitivity-model"),
])
def test_generated_datasets_agree_with_r(rscript, tmp_path, patients, seed, options):
    dataset = tmp_path / "data"
    write_demo(dataset, patients=patients, seed=seed, rdata=False)
    if options:
        (dataset / "study.yml").write_text(OPTION_SETS[options])
    rows = assert_all_agree(run_verify(dataset, tmp_path / "out"), tmp_path / "out")
    assert (options == "no-sensitivity-model") != any(quantity.startswith("vas_reduction_lmm/") for quantity in rows)
    if options == "wilson-thresholds":
        assert "relief/quarter/conf_high" in rows and "vas_reduction/headache/estimate" in rows


def shaped_dataset(folder, shape: str):
    """Small datasets at the edges of the analysis (every rule of docs/methods.md)."""
    rng = np.random.default_rng(len(shape))
    n = 12
    diagnosis = np.where(np.arange(n) < 5, "crps", "other")
    infusions_per_patient = np.full(n, 3)
    if shape == "one infusion per patient":  # no within-patient variance: no mixed model (lme4 refuses it)
        infusions_per_patient[:] = 1
    if shape == "no index patients":
        diagnosis[:] = "headache"
    if shape == "two patients":  # one per group: estimates only, no mixed model
        n, diagnosis, infusions_per_patient = 2, diagnosis[[0, 5]], infusions_per_patient[:2]
    patient_ids = [f"P{i:02d}" for i in range(n)]
    owner = np.repeat(patient_ids, infusions_per_patient)
    pre = np.round(rng.uniform(6, 10, owner.size), 1)
    reduction = np.round(rng.uniform(0, 6, owner.size), 1)
    if shape == "constant groups":  # every patient's mean equal within a group: SE 0, t.test refuses
        reduction = np.where(np.repeat(diagnosis, infusions_per_patient) == "crps", 5.1, 3.3)
    if shape == "one patient varies":  # between-patient SD > 100 x the within-patient SD
        infusions_per_patient[:] = 6
        owner = np.repeat(patient_ids, infusions_per_patient)
        pre = np.round(rng.uniform(6, 10, owner.size), 1)
        reduction = np.repeat(np.round(rng.uniform(0, 6, n), 1), 6)
        reduction[0] += 0.1
    duration = rng.integers(0, 40, n).astype(float)
    ongoing = rng.random(n) < 0.4
    if shape == "no relief recorded":
        duration[:] = np.nan
    if shape == "no censoring":
        ongoing[:] = False
    folder.mkdir(parents=True)
    pd.DataFrame({"patient_id": patient_ids, "diagnosis": diagnosis, "relief_duration_days": duration,
                  "relief_ongoing": ongoing}).to_csv(folder / "patients.csv", index=False)
    pd.DataFrame({"infusion_id": [f"I{i}" for i in range(owner.size)], "patient_id": owner, "infusion_date": "2006-01-02",
                  "ketamine_dose_mg": 100, "infusion_duration_min": 60, "vas_pre": pre,
                  "vas_post": np.round(pre - reduction, 1)}).to_csv(folder / "infusions.csv", index=False)
    return folder


@pytest.mark.r
@pytest.mark.parametrize("shape", [
    "one infusion per patient", "no index patients", "two patients", "constant groups", "no relief recorded",
    "no censoring", "one patient varies",
])
def test_edge_shapes_agree_with_r(rscript, tmp_path, shape):
    rows = assert_all_agree(run_verify(shaped_dataset(tmp_path / "data", shape), tmp_path / "out"), tmp_path / "out")
    has_model = any(quantity.startswith("vas_reduction_lmm/") for quantity in rows)
    assert has_model == (shape in ("no relief recorded", "no censoring", "one patient varies"))
    if shape == "no index patients":
        assert rows["vas_reduction/crps/n"]["python"] == "0.0" and rows["vas_reduction/difference/estimate"]["r"] == ""
    if shape == "two patients":
        assert rows["vas_reduction/difference/estimate"]["r"] != "" and rows["vas_reduction/difference/p_value"]["r"] == ""
    if shape == "constant groups":
        assert rows["vas_reduction/crps/std_error"]["r"] == "0.0" and rows["vas_reduction/crps/p_value"]["python"] == ""
    if shape == "no relief recorded":
        assert rows["relief/lasting/n"]["r"] == "0.0" and rows["relief/lasting/estimate"]["python"] == ""


@pytest.mark.r
def test_single_patient_group_and_no_censoring_agree_with_r(rscript, tmp_path):
    # One CRPS patient: its group and the difference keep only estimates; nobody's relief is ongoing.
    patients = PATIENTS_CSV.replace("P2,crps", "P2,other").replace("P6,CRPS", "P6,other").replace("yes", "no").replace("TRUE", "false")
    rows = assert_all_agree(run_verify(write_csv_dataset(tmp_path / "data", patients), tmp_path / "out"), tmp_path / "out")
    assert rows["vas_reduction/crps/std_error"]["python"] == "" and rows["vas_reduction/crps/std_error"]["r"] == ""
    assert rows["vas_reduction/difference/estimate"]["python"] != ""


@pytest.mark.r
def test_render_verify_puts_the_comparison_in_the_appendix(rscript, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, ["render", str(DEMO), "--out", str(out), "--verify"])
    assert result.exit_code == 0, result.output
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "80 of 80 quantities agree" in html
    assert "lme4" in html and "jsonlite" in html and '<th scope="row">difference/p_value</th>' in html


# --- a wrong Python result is caught (R) ----------------------------------------------

def perturbed(results, where: str, factor: float):
    """``results`` with one reported number multiplied by ``factor``."""
    if where == "relief conf_high":
        outcomes = [dataclasses.replace(o, conf_high=o.conf_high * factor) for o in results.relief.outcomes]
        return dataclasses.replace(results, relief=dataclasses.replace(results.relief, outcomes=outcomes))
    if where == "overall p_value":
        overall = results.vas.overall
        return dataclasses.replace(results, vas=dataclasses.replace(results.vas, overall=dataclasses.replace(overall, p_value=overall.p_value * factor)))
    if where == "mixed model estimate":
        index = results.sensitivity.index
        return dataclasses.replace(results, sensitivity=dataclasses.replace(results.sensitivity, index=dataclasses.replace(index, estimate=index.estimate * factor)))
    raise ValueError(where)


@pytest.mark.r
@pytest.mark.parametrize("where, factor, caught", [
    ("relief conf_high", 1 + 1e-6, ["relief/lasting/conf_high", "relief/long/conf_high"]),
    # P = 6.2e-22: relative comparison catches an error no absolute tolerance would see.
    ("overall p_value", 1 + 1e-6, ["vas_reduction/overall/p_value"]),
    ("mixed model estimate", 1 + 1e-3, ["vas_reduction_lmm/crps/estimate"]),
])
def test_a_perturbed_python_result_is_caught(rscript, tmp_path, monkeypatch, where, factor, caught):
    from ketareport import pipeline

    analyze = pipeline.analyze_cohort
    monkeypatch.setattr(pipeline, "analyze_cohort", lambda cohort: perturbed(analyze(cohort), where, factor))
    out = tmp_path / "out"
    result = run_verify(DEMO, out)
    assert result.exit_code == 3, result.output
    assert f"DISAGREES: {caught[0]}" in result.stdout
    assert f"{80 - len(caught)} of 80 quantities agree" in result.stdout
    assert "quantities differ between Python and R" in result.stderr
    # verification.csv is written even when they disagree.
    assert [row["quantity"] for row in verification_rows(out) if row["agrees"] == "false"] == caught


@pytest.mark.r
def test_a_perturbed_python_result_is_caught_by_the_installed_command(rscript, tmp_path):
    """The same through a real process: ketareport's own exit status, not CliRunner's."""
    code = (
        "import sys, dataclasses\n"
        "from ketareport import cli, statistics, analyze\n"
        "original = analyze.one_sample_t\n"
        "def off(values, level):\n"
        "    result = original(values, level)\n"
        "    return dataclasses.replace(result, df=None if result.df is None else result.df + 1e-6)\n"
        "analyze.one_sample_t = off\n"
        "sys.argv = ['ketareport', 'verify', sys.argv[1], '--out', sys.argv[2]]\n"
        "cli.main()\n"
    )
    completed = subprocess.run([sys.executable, "-c", code, str(DEMO), str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert completed.returncode == 3, completed.stderr
    assert "DISAGREES: vas_reduction/overall/df" in completed.stdout


# --- R or an R package missing: exit 4 ----------------------------------------------------

def test_missing_rscript_exits_4_with_a_clear_message(tmp_path, monkeypatch):
    # Runs with or without R: PATH holds no Rscript.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run_verify(DEMO, tmp_path / "out")
    assert result.exit_code == 4, result.output
    assert "needs Rscript, which is not installed" in result.stderr
    assert "apt-get install r-base-core r-cran-lme4 r-cran-jsonlite" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.r
def test_missing_r_package_exits_4_naming_it(rscript, tmp_path, monkeypatch):
    monkeypatch.setattr(verification, "R_PACKAGES", ("lme4", "ketareportNoSuchPackage"))
    monkeypatch.setattr(verification, "R_REPORTED_PACKAGES", ("lme4", "ketareportNoSuchPackage", "jsonlite"))
    result = run_verify(DEMO, tmp_path / "out")
    assert result.exit_code == 4, result.output
    assert "needs the R package ketareportNoSuchPackage" in result.stderr and "apt-get install" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.parametrize("ci", [False, True])
def test_without_r_these_tests_skip_but_fail_in_ci(ci):
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = os.path.dirname(sys.executable)  # no /usr/bin: no Rscript
    if ci:
        env["CI"] = "true"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/r/test_verify.py::test_demo_agrees_with_r", "tests/r/test_r_roundtrip.py"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )
    if ci:
        assert completed.returncode != 0 and " error" in completed.stdout and "skipped" not in completed.stdout, completed.stdout
        assert "CI must provide it" in completed.stdout
    else:
        assert completed.returncode == 0 and "skipped" in completed.stdout and "error" not in completed.stdout, completed.stdout


# --- the comparison rules (no R) ------------------------------------------------------------

def table(*rows: dict) -> str:
    frame = pd.DataFrame([{column: row.get(column) for column in ESTIMATE_COLUMNS} for row in rows])
    return frame.to_csv(index=False, na_rep="")


def compared(analysis: str, column: str, python, r) -> verification.VerificationRow:
    rows = verification.compare(table({"analysis": analysis, "term": "t", column: python}),
                                table({"analysis": analysis, "term": "t", column: r}))
    return next(row for row in rows if row.quantity == f"{analysis}/t/{column}")


@pytest.mark.parametrize("analysis, column, python, r, agrees", [
    ("vas_reduction", "std_error", None, None, True),           # missing on both sides
    ("vas_reduction", "std_error", 0.5, None, False),           # missing on one side only
    ("vas_reduction", "p_value", None, 1e-3, False),
    ("vas_reduction", "p_value", 1e-24, 1e-24 * (1 + 1e-9), True),
    ("vas_reduction", "p_value", 1e-24, 2e-24, False),          # relative: tiny P values are not all "equal"
    ("vas_reduction", "p_value", 0.0, 0.0, True),
    ("vas_reduction", "p_value", 0.0, 5e-324, True),            # underflow on one side (below the smallest normal)
    ("vas_reduction", "estimate", 0.0, 8.9e-16, True),          # a difference of equal means: floor 1 cm
    ("vas_reduction", "estimate", 0.0, 1e-7, False),
    ("vas_reduction", "statistic", -1e-16, 2e-16, True),
    ("vas_reduction", "df", 36.873126480290985, 36.87312648029099, True),
    ("vas_reduction", "df", 36.87, 36.88, False),
    ("relief", "conf_low", 1e-5, 1.00001e-5, False),            # proportions: relative all the way down
    ("relief", "conf_low", 1e-5, 1e-5 * (1 + 1e-10), True),
    ("relief", "n", 28, 29, False),
    ("vas_reduction_lmm", "estimate", 2.1446975132989823, 2.1446975139652498, True),   # 1e-4 for the mixed model
    ("vas_reduction_lmm", "estimate", 2.14, 2.15, False),
    ("vas_reduction_lmm", "estimate", 1e-6, -2e-6, True),       # a coefficient near 0: floor 1 cm
    ("vas_reduction_lmm", "p_value", 1.1692967579171427e-37, 1.1693064650412023e-37, True),  # log P
    ("vas_reduction_lmm", "p_value", 1e-37, 1e-35, False),
])
def test_comparison_rules(analysis, column, python, r, agrees):
    row = compared(analysis, column, python, r)
    assert row.agrees is agrees
    assert row.tolerance == (1e-4 if analysis == "vas_reduction_lmm" else 1e-8)
    if python is not None and r is not None:
        assert row.abs_difference == abs(python - r)


def test_rows_on_one_side_only_disagree():
    rows = verification.compare(table({"analysis": "relief", "term": "lasting", "estimate": 0.5}),
                                table({"analysis": "relief", "term": "lasting", "estimate": 0.5},
                                      {"analysis": "relief", "term": "extra", "estimate": 0.5}))
    assert [row.quantity for row in rows if not row.agrees] == ["relief/extra/estimate"]


def test_verification_csv_keeps_full_precision():
    report = verification.VerificationReport(
        [verification.VerificationRow("vas_reduction/overall/p_value", 6.201395320711714e-22, 6.201395320711747e-22,
                                      3.291384182302405e-36, 1e-8, True, 5.3e-15),
         verification.VerificationRow("vas_reduction/overall/x", None, None, None, 1e-8, True)],
        "4.2.2", {"lme4": "1.1.31"},
    )
    rows = list(csv.DictReader(io.StringIO(verification.verification_csv(report))))
    assert float(rows[0]["python"]) == 6.201395320711714e-22 and float(rows[0]["r"]) == 6.201395320711747e-22
    assert rows[1] == {"quantity": "vas_reduction/overall/x", "python": "", "r": "", "abs_difference": "",
                       "tolerance": "1e-08", "agrees": "true"}


def test_verify_help_explains_options_and_exit_codes():
    text = CliRunner().invoke(cli.main, ["verify", "--help"]).output
    for option in ("--out", "--config", "--debug", "DATASET"):
        assert option in text
    for code, meaning in (("0", "agrees"), ("1", "unexpected"), ("2", "invalid"), ("3", "disagree"), ("4", "missing")):
        assert any(line.strip().startswith(code) and meaning in line for line in text.splitlines()), (code, text)
    for name in ("verification.csv", "analysis.csv", "options.json", "r_estimates.csv", "Rscript reproduce.R"):
        assert name in text


# --- the analysis export (no R) ---------------------------------------------------------------

def test_analysis_table_has_every_analysed_infusion_and_every_patient(tmp_path):
    run = run_analysis(DEMO)
    table = analysis_table(run.cohort)
    assert tuple(table.columns) == ANALYSIS_TABLE_COLUMNS
    analysed = run.results.cohort.n_infusions_analyzed
    assert table["reduction"].notna().sum() == analysed == 333
    assert table["patient_id"].nunique() == run.results.cohort.n_patients
    without = table[table["reduction"].isna()]
    assert without["infusion_id"].isna().all() and len(without) == run.results.cohort.n_patients_not_analyzed
    text = analysis_csv(run.analysis_table)
    back = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
    assert set(back["index_group"]) == {"TRUE", "FALSE"} and set(back["relief_ongoing"]) <= {"TRUE", "FALSE"}
    # Full precision: every number reads back to the same double.
    for column in ("reduction", "relief_duration_days"):
        written = back[column].replace("", np.nan).astype(float).to_numpy()
        assert np.array_equal(written, table[column].to_numpy(), equal_nan=True)
    assert "1.9999999999999998" in text  # 5.0 - 3.0000000000000004 style values are kept, not rounded


@pytest.mark.slow
def test_analysis_export_covers_a_large_cohort(tmp_path):
    """One row per analysed infusion plus one per patient without one; its time is bench/bench_verify.py's."""
    write_demo(tmp_path / "large", patients=3000, seed=9, rdata=False)
    run = run_analysis(tmp_path / "large")
    text = analysis_csv(run.analysis_table)
    assert text.count("\n") == 1 + run.results.cohort.n_infusions_analyzed + run.results.cohort.n_patients_not_analyzed


# --- the engine's rules that reproduce.R mirrors (no R) -----------------------------------------

def test_values_equal_up_to_rounding_have_se_0_as_t_test_decides():
    from ketareport.statistics import one_sample_t, two_sample_difference

    values = np.full(7, 5.1)  # numpy's mean is 1 ulp off: SD ~1e-15, t ~1e15 without the rule
    assert float(values.std(ddof=1)) > 0
    result = one_sample_t(values, 0.95)
    assert result.std_error == 0.0 and result.statistic is None and result.p_value is None and result.df == 6
    welch = two_sample_difference(values, np.full(3, 3.3), 0.95, "welch")
    assert (welch.estimate, welch.std_error, welch.df, welch.p_value) == pytest.approx((1.8, 0.0, None, None))
    pooled = two_sample_difference(values, np.full(3, 3.3), 0.95, "pooled")
    assert pooled.std_error == 0.0 and pooled.df == 8 and pooled.statistic is None


@pytest.mark.parametrize("shape", ["one infusion per patient", "two patients", "constant groups"])
def test_the_mixed_model_is_omitted_when_not_estimable(tmp_path, shape):
    run = run_analysis(shaped_dataset(tmp_path / "data", shape))
    assert run.results.sensitivity is None
    assert not any(row.analysis == "vas_reduction_lmm" for row in run.results.estimates())


def test_reml_finds_a_patient_variance_over_100_times_the_residual(tmp_path):
    model = run_analysis(shaped_dataset(tmp_path / "data", "one patient varies")).results.sensitivity
    assert (model.variance_patient / model.variance_residual) ** 0.5 > 100  # beyond the first grid of the search
