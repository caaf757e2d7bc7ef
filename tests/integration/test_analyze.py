"""Cohort, analysis and result files on small datasets.

Expected values are computed here independently, with pandas and scipy's
own tests, from the input tables — never typed in.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ketareport.output import StagedOutput
from ketareport.pipeline import run_analysis, write_results
from ketareport.results import ESTIMATE_COLUMNS

from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, write_csv_dataset


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The analysis of the small test dataset, once for the tests that read it."""
    return run_analysis(write_csv_dataset(tmp_path_factory.mktemp("analyze") / "data"))


def patient_reductions() -> pd.DataFrame:
    infusions = pd.read_csv(pd.io.common.StringIO(INFUSIONS_CSV), na_values=["", "NA"], keep_default_na=False)
    analysed = infusions.dropna(subset=["ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post"])
    means = (analysed["vas_pre"] - analysed["vas_post"]).groupby(analysed["patient_id"]).mean()
    patients = pd.read_csv(pd.io.common.StringIO(PATIENTS_CSV), keep_default_na=False)
    patients["crps"] = patients["Diagnosis"].str.lower() == "crps"
    return patients.set_index("patient_id").join(means.rename("reduction"))


def test_cohort_counts_and_exclusions(run):
    cohort = run.results.cohort
    assert (cohort.n_patients, cohort.n_infusions) == (6, 10)
    assert cohort.excluded_infusion_ids == ["I4", "I10"]
    assert cohort.n_infusions_excluded == 2 and cohort.n_infusions_analyzed == 8
    assert cohort.excluded_missing_by_column == {"ketamine_dose_mg": 0, "infusion_duration_min": 1, "vas_pre": 1, "vas_post": 0}
    assert cohort.diagnoses == {"crps": 3, "back_pain": 2, "headache": 1}
    assert cohort.index_percent == pytest.approx(100 * 3 / 6)
    assert cohort.all_premedicated
    assert (cohort.first_infusion_date, cohort.last_infusion_date) == ("2005-01-02", "2008-03-02")


def test_vas_reduction_on_patient_means(run):
    patients = patient_reductions()
    crps, other = patients.loc[patients["crps"], "reduction"], patients.loc[~patients["crps"], "reduction"]
    vas = run.results.vas
    overall = stats.ttest_1samp(patients["reduction"], 0)
    assert vas.overall.estimate == pytest.approx(patients["reduction"].mean())
    assert vas.overall.p_value == pytest.approx(overall.pvalue)
    assert vas.overall.std_error == pytest.approx(stats.sem(patients["reduction"]))
    assert vas.index.estimate == pytest.approx(crps.mean()) and vas.index.term == "crps"
    assert vas.comparison.estimate == pytest.approx(other.mean()) and vas.comparison.term == "other"
    welch = stats.ttest_ind(crps, other, equal_var=False)
    assert vas.difference.statistic == pytest.approx(welch.statistic)
    assert vas.difference.p_value == pytest.approx(welch.pvalue)
    assert vas.difference.df == pytest.approx(welch.df)
    interval = welch.confidence_interval(0.95)
    assert (vas.difference.conf_low, vas.difference.conf_high) == pytest.approx((interval.low, interval.high))


def test_relief_evaluable_patients(run):
    # Durations: P1 10, P2 3 (ongoing), P3 30, P4 not recorded, P5 8, P6 25 (ongoing).
    # lasting (>= 7): P2 is censored before 7 days -> not evaluable; P6 already meets it.
    # long (> 21): P2 not evaluable; P6 meets it although ongoing.
    lasting, long = run.results.relief.outcomes
    assert (lasting.name, lasting.n_evaluable, lasting.x) == ("lasting", 4, 4)
    assert (long.name, long.n_evaluable, long.x) == ("long", 4, 2)
    assert long.estimate == 2 / 4
    assert long.conf_low == pytest.approx(stats.beta.ppf(0.05, 3, 3))
    assert run.results.relief.n_recorded == 5 and run.results.relief.n_censored == 2


def test_patient_without_analysed_infusion_still_counts_for_relief(tmp_path):
    infusions = INFUSIONS_CSV.replace("I6,P4,2006-05-02,90,60,8,4", "I6,P4,2006-05-02,90,60,,4")
    patients = PATIENTS_CSV.replace("P4,headache,,33,,,", "P4,headache,,33,,40,false")
    run = run_analysis(write_csv_dataset(tmp_path / "data", patients, infusions))
    cohort = run.results.cohort
    assert cohort.n_patients_analyzed == 5 and cohort.not_analyzed_patient_ids == ["P4"]
    assert run.results.vas.overall.n == 5
    assert run.results.relief.outcomes[0].n_evaluable == 5


def test_group_with_one_patient_keeps_estimates_only(tmp_path):
    patients = PATIENTS_CSV.replace("P2,crps", "P2,other").replace("P6,CRPS", "P6,other")
    run = run_analysis(write_csv_dataset(tmp_path / "data", patients))
    index, difference = run.results.vas.index, run.results.vas.difference
    assert index.n == 1 and index.estimate is not None
    assert (index.std_error, index.statistic, index.df, index.p_value, index.conf_low) == (None,) * 5
    assert difference.estimate == pytest.approx(index.estimate - run.results.vas.comparison.estimate)
    assert (difference.std_error, difference.p_value, difference.conf_high) == (None,) * 3


def test_options_from_study_config(tmp_path):
    folder = write_csv_dataset(tmp_path / "data")
    (folder / "study.yml").write_text(
        "analysis:\n"
        "  index_diagnosis: Back Pain\n"
        "  difference_test: pooled\n"
        "  conf_level: 0.9\n"
        "  relief:\n"
        "    method: wilson\n"
        "    conf_level: 0.95\n"
        "    thresholds:\n"
        "      - {name: month, days: 28, inclusive: true, label: Relief for a month}\n"
    )
    run = run_analysis(folder)
    assert run.results.vas.index.term == "back_pain" and run.results.cohort.n_index == 2
    assert run.results.vas.difference.df == 6 - 2
    assert run.results.vas.overall.conf_level == 0.9
    (month,) = run.results.relief.outcomes
    assert (month.name, month.method, month.conf_level) == ("month", "wilson", 0.95)


def test_result_files(run, tmp_path):
    out = tmp_path / "out"
    with StagedOutput(out) as staged:
        write_results(run, staged)
        written = staged.publish()
    assert sorted(p.name for p in written) == ["estimates.csv", "results.json", "results.rds"]
    with (out / "estimates.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == ESTIMATE_COLUMNS
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("vas_reduction", "overall"), ("vas_reduction", "crps"), ("vas_reduction", "other"),
        ("vas_reduction", "difference"), ("relief", "lasting"), ("relief", "long"),
        ("vas_reduction_lmm", "intercept"), ("vas_reduction_lmm", "crps"),
    ]
    # Full precision: every number reads back to the same double.
    overall = dict(zip(rows[0], rows[1]))
    assert float(overall["std_error"]) == run.results.vas.overall.std_error
    relief_row = dict(zip(rows[0], rows[5]))
    assert relief_row["std_error"] == "" and relief_row["x"] == str(run.results.relief.outcomes[0].x)
    document = json.loads((out / "results.json").read_text())
    for key in ("n_patients", "n_infusions", "n_infusions_excluded", "n_infusions_analyzed",
                "n_patients_analyzed", "diagnoses", "excluded_infusion_ids"):
        assert key in document["cohort"]
    assert document["relief"]["n_recorded"] == 5
    assert document["provenance"]["dataset"]["rows"] == {"patients": 6, "infusions": 10}


def test_mixed_model_on_infusions(run):
    model = run.results.sensitivity
    assert model.n_infusions == 8 and model.n_patients == 6
    assert model.index.term == "crps" and model.intercept.term == "intercept"
    assert model.index.df is None and model.index.std_error > 0
    assert math.isfinite(model.reml_log_likelihood)


@pytest.mark.slow
def test_analysis_is_vectorised_at_scale(tmp_path):
    """3,000 patients and ~30,000 infusions analyse (correctly) without a per-row loop."""
    rng = np.random.default_rng(3)
    n_patients = 3000
    counts = rng.integers(5, 16, n_patients)
    patient_ids = [f"P{i:05d}" for i in range(n_patients)]
    owner = np.repeat(patient_ids, counts)
    pre = np.round(rng.uniform(5, 10, owner.size), 1)
    post = np.round(np.clip(pre - rng.uniform(0, 5, owner.size), 0, 10), 1)
    folder = tmp_path / "large"
    folder.mkdir()
    pd.DataFrame({
        "patient_id": patient_ids, "diagnosis": rng.choice(["crps", "headache", "other"], n_patients),
        "relief_duration_days": rng.integers(0, 60, n_patients),
    }).to_csv(folder / "patients.csv", index=False)
    pd.DataFrame({
        "infusion_id": [f"I{i:06d}" for i in range(owner.size)], "patient_id": owner,
        "infusion_date": "2006-01-01", "ketamine_dose_mg": 100, "infusion_duration_min": 60,
        "vas_pre": pre, "vas_post": post,
    }).to_csv(folder / "infusions.csv", index=False)
    result = run_analysis(folder).results
    assert result.cohort.n_infusions == owner.size
    assert result.vas.overall.estimate == pytest.approx(pd.Series(pre - post).groupby(owner).mean().mean())
