"""The demo generator: seeded, byte-for-byte reproducible, true to the published design.

The design checks recompute everything from the generated tables with pandas
and scipy, independently of the analysis engine (which has its own test of
the demo against the abstract, tests/integration/test_demo_abstract.py).
"""

from __future__ import annotations

import filecmp
import re

import numpy as np
import pandas as pd
import pytest
import rdata
from scipy import stats

from ketareport.demo import DEMO_PATIENTS, generate_demo, write_demo
from ketareport.load import load_dataset
from ketareport.validate import validate_dataset

from ..conftest import DEMO

ANALYSIS_COLUMNS = ["ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post"]
SIDE_EFFECT_LABELS = {"nausea", "dizziness", "hallucinations", "sedation", "headache", "vivid dreams", "diplopia"}
# What the abstract prints, at its precision (data/demo/README.md).
ABSTRACT_FIGURES = {
    "overall": "5.9 (SE 0.35)", "crps": "7.2 (SE 0.51, P < 0.001)", "other": "5.1 (SE 0.40, P < 0.001)",
    "difference": "2.1 (SE 0.64, P = 0.002)", "lasting": "59-85%", "long": "23-51%",
}


def number(column: pd.Series) -> pd.Series:
    """CSV text -> float, blank -> NaN."""
    return pd.to_numeric(column.mask(column == ""))


def excluded_for_missing_data(infusions: pd.DataFrame) -> pd.Series:
    return (infusions[ANALYSIS_COLUMNS] == "").any(axis=1)


def patient_reductions(patients: pd.DataFrame, infusions: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each patient's mean VAS reduction over analysed infusions, and whether the patient has CRPS."""
    analysed = infusions[~excluded_for_missing_data(infusions)]
    reduction = (number(analysed["vas_pre"]) - number(analysed["vas_post"])).groupby(analysed["patient_id"]).mean()
    is_crps = patients.set_index("patient_id")["diagnosis"].reindex(reduction.index) == "crps"
    return reduction, is_crps


def one_sample(values: pd.Series) -> tuple[float, float, float]:
    """Mean, SE and two-sided P of a one-sample t test of mean 0."""
    result = stats.ttest_1samp(values, 0)
    return values.mean(), values.std(ddof=1) / np.sqrt(len(values)), result.pvalue


def relief(patients: pd.DataFrame, meets) -> tuple[int, int]:
    """(x, n) over evaluable patients: duration recorded and not censored before the threshold."""
    days = number(patients["relief_duration_days"])
    ongoing = patients["relief_ongoing"] == "true"
    evaluable = days.notna() & (~ongoing | meets(days))
    return int(meets(days[evaluable]).sum()), int(evaluable.sum())


def beta_interval(x: int, n: int) -> str:
    low, high = stats.beta.ppf([0.05, 0.95], x + 1, n - x + 1)
    return f"{100 * low:.0f}-{100 * high:.0f}%"


def p_text(p: float) -> str:
    """P as the abstract prints it."""
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def abstract_figures(patients: pd.DataFrame, infusions: pd.DataFrame) -> dict[str, str]:
    """The abstract's VAS and relief figures recomputed from the tables, formatted as it prints them."""
    reduction, is_crps = patient_reductions(patients, infusions)
    figures = {"overall": "{:.1f} (SE {:.2f})".format(*one_sample(reduction)[:2])}
    for group, members in (("crps", reduction[is_crps]), ("other", reduction[~is_crps])):
        mean, se, p = one_sample(members)
        figures[group] = f"{mean:.1f} (SE {se:.2f}, P {p_text(p)})"
    welch = stats.ttest_ind(reduction[is_crps], reduction[~is_crps], equal_var=False)
    difference = reduction[is_crps].mean() - reduction[~is_crps].mean()
    figures["difference"] = f"{difference:.1f} (SE {difference / welch.statistic:.2f}, P {p_text(welch.pvalue)})"
    figures["lasting"] = beta_interval(*relief(patients, lambda days: days >= 7))
    figures["long"] = beta_interval(*relief(patients, lambda days: days > 21))
    return figures


def assert_contract_columns(patients: pd.DataFrame, infusions: pd.DataFrame) -> None:
    """The column rules of docs/data-dictionary.md, checked on the text the CSV files hold."""
    assert list(patients.columns) == ["patient_id", "diagnosis", "sex", "age_years", "previous_interventions",
                                      "relief_duration_days", "relief_ongoing"]
    assert list(infusions.columns) == ["infusion_id", "patient_id", "infusion_date", *ANALYSIS_COLUMNS,
                                       "midazolam", "ondansetron", "side_effects"]
    assert patients["patient_id"].str.fullmatch(r"P\d{3,}").all() and patients["patient_id"].is_unique
    assert infusions["infusion_id"].str.fullmatch(r"I\d{4,}").all() and infusions["infusion_id"].is_unique
    assert infusions["patient_id"].isin(patients["patient_id"]).all()
    assert patients["diagnosis"].str.fullmatch(r"[a-z_]+").all()
    assert patients["sex"].isin(["F", "M"]).all()
    assert number(patients["age_years"]).between(18, 85).all()
    days = number(patients["relief_duration_days"])
    assert (days.dropna() >= 0).all()
    assert patients["relief_ongoing"].isin(["true", "false"]).all()
    assert not (patients["relief_ongoing"] == "true")[days.isna()].any()  # only recorded durations are censored

    assert infusions["infusion_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    dates = pd.to_datetime(infusions["infusion_date"], format="%Y-%m-%d")
    assert dates.min() >= pd.Timestamp("2004-01-01") and dates.max() <= pd.Timestamp("2009-12-31")
    gaps = dates.groupby(infusions["patient_id"]).diff().dt.days.dropna()
    assert gaps.min() >= 1 and gaps.median() >= 14  # in date order, weeks apart
    dose, duration = number(infusions["ketamine_dose_mg"]).dropna(), number(infusions["infusion_duration_min"]).dropna()
    assert dose.between(25, 250).all() and (dose % 5 == 0).all() and 60 <= dose.median() <= 120
    assert duration.between(30, 240).all() and (duration % 15 == 0).all()
    for column in ("vas_pre", "vas_post"):
        vas = number(infusions[column]).dropna()
        assert vas.between(0, 10).all()
        assert infusions[column].str.fullmatch(r"(\d|10)\.\d|").all()  # one decimal: the 0.1 cm grid
    assert (infusions[["midazolam", "ondansetron"]] == "true").all().all()
    labels = infusions["side_effects"].str.split(";").explode().str.strip()
    assert set(labels[labels != ""]) <= SIDE_EFFECT_LABELS
    assert (infusions["side_effects"] != "").mean() < 0.2  # side effects are uncommon


@pytest.fixture(scope="module")
def demo():
    return generate_demo()


def test_defaults_reproduce_the_committed_demo_byte_for_byte(tmp_path):
    written = write_demo(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in DEMO.iterdir())
    for path in written:
        assert filecmp.cmp(path, DEMO / path.name, shallow=False), path.name
    assert not [p for p in tmp_path.iterdir() if p not in written]  # no temporary file left behind


def test_seeded():
    for size in (DEMO_PATIENTS, 200):
        first, second = generate_demo(size, seed=5), generate_demo(size, seed=5)
        for table, again in zip(first, second):
            pd.testing.assert_frame_equal(table, again)
        assert not generate_demo(size, seed=6)[1].equals(first[1])


def test_demo_cohort_design(demo):
    patients, infusions = demo
    assert_contract_columns(patients, infusions)
    excluded = excluded_for_missing_data(infusions)
    assert (len(patients), len(infusions), excluded.sum()) == (49, 369, 36)
    assert infusions.loc[~excluded, "patient_id"].nunique() == 49  # every patient keeps an analysed infusion
    assert infusions.groupby("patient_id").size().min() >= 2
    diagnoses = patients["diagnosis"].value_counts()
    assert (diagnoses["crps"], diagnoses["headache"], diagnoses["back_pain"]) == (18, 8, 7)
    days = number(patients["relief_duration_days"])
    ongoing = patients["relief_ongoing"] == "true"
    assert days.notna().sum() == 29
    assert ongoing.sum() == 1 and days[ongoing].iloc[0] < 7  # censored before 7 days
    assert relief(patients, lambda d: d >= 7) == (21, 28) and relief(patients, lambda d: d > 21) == (10, 28)


def test_demo_reproduces_the_abstracts_figures_with_a_margin(demo):
    assert abstract_figures(*demo) == ABSTRACT_FIGURES
    reduction, is_crps = patient_reductions(*demo)
    overall_se = one_sample(reduction)[1]
    welch_se = np.hypot(one_sample(reduction[is_crps])[1], one_sample(reduction[~is_crps])[1])
    # The two SEs that have only ~1e-4 of room sit well inside it.
    assert overall_se - 0.345 > 5e-5 and 0.645 - welch_se > 5e-5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_calibration_reaches_the_abstract_whatever_the_seed(seed):
    assert abstract_figures(*generate_demo(seed=seed)) == ABSTRACT_FIGURES


def test_demo_rdata_holds_r_logicals_and_missing_values():
    frames = rdata.read_rda(DEMO / "demo.RData")
    patients, infusions = frames["patients"], frames["infusions"]
    assert (len(patients), len(infusions)) == (49, 369)
    assert str(patients["relief_ongoing"].dtype) == "boolean" and str(infusions["midazolam"].dtype) == "boolean"
    assert infusions["ondansetron"].all() and patients["relief_ongoing"].sum() == 1
    assert infusions[ANALYSIS_COLUMNS].isna().any(axis=1).sum() == 36
    assert patients["relief_duration_days"].notna().sum() == 29


def test_a_scaled_dataset_keeps_the_design():
    patients, infusions = generate_demo(2000, seed=3)
    assert_contract_columns(patients, infusions)
    assert len(patients) == 2000 and abs(len(infusions) / 2000 - 369 / 49) < 0.01
    shares = patients["diagnosis"].value_counts(normalize=True)
    for label, published in (("crps", 18), ("headache", 8), ("back_pain", 7)):
        assert abs(shares[label] - published / 49) < 0.04, label
    excluded = excluded_for_missing_data(infusions)
    assert abs(excluded.mean() - 36 / 369) < 0.005
    assert infusions.loc[~excluded, "patient_id"].nunique() == 2000
    days = number(patients["relief_duration_days"])
    assert abs(days.notna().mean() - 29 / 49) < 0.04
    assert (days[patients["relief_ongoing"] == "true"] < 7).all()
    reduction, is_crps = patient_reductions(patients, infusions)
    assert abs(reduction[is_crps].mean() - 7.22) < 0.3 and abs(reduction[~is_crps].mean() - 5.07) < 0.3
    assert abs(reduction[is_crps].std() - 2.14) < 0.25 and abs(reduction[~is_crps].std() - 2.23) < 0.25


def test_a_scaled_dataset_is_valid_and_says_it_is_not_the_demo(tmp_path):
    written = write_demo(tmp_path, patients=500, seed=4)
    assert sorted(p.name for p in written) == ["README.md", "infusions.csv", "patients.csv"]  # no study.yml, no RData
    readme = (tmp_path / "README.md").read_text()
    assert "SYNTHETIC" in readme and "--patients 500 --seed 4" in readme and "not calibrated" in readme
    dataset = validate_dataset(load_dataset(tmp_path))
    assert len(dataset.patients) == 500


def test_too_few_patients_is_refused():
    with pytest.raises(ValueError, match="at least 2 patients"):
        generate_demo(1)


def test_the_committed_readme_says_synthetic_and_how_to_regenerate():
    readme = (DEMO / "README.md").read_text()
    assert "SYNTHETIC" in readme and "no real patient" in readme
    assert "ketareport demo-data --out data/demo" in readme
    assert re.search(r"reproduce.*abstract", readme, re.DOTALL)
