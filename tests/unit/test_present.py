"""The one set of number formats."""

from __future__ import annotations

import pytest

from ketareport.present.formats import (
    format_count, format_interval, format_mean, format_median_iqr, format_p, format_p_statement, format_percent,
    format_proportion, format_proportion_interval, format_se, median_iqr_decimals, no_break,
)
from ketareport.results import ContinuousCell


@pytest.mark.parametrize("value, expected", [
    (5.8617, "5.9"), (-0.06, "−0.1"), (None, "–"), (float("nan"), "–"), (7.25, "7.2"), (0.0, "0.0"), (-0.0, "0.0"),
])
def test_mean_one_decimal_true_minus_never_negative_zero(value, expected):
    assert format_mean(value) == expected


@pytest.mark.parametrize("value, expected", [
    (-0.046, "−0.046"), (0.0388, "0.039"), (-0.0009, "−0.0009"), (-0.04, "−0.040"), (0.04999, "0.050"),
    (1e-16, "0.0"), (-4e-05, "0.0"),  # below the last decimal shown (float noise) a value is zero
])
def test_a_nonzero_estimate_never_prints_as_zero(value, expected):
    """Trial3 #7/#17: a CI "−1.0 to 0.0" for an upper bound of 0.039 (not significant) and of −0.0009 (significant)."""
    assert format_mean(value) == expected


def test_a_bound_that_rounds_to_zero_keeps_its_sign_and_the_se_too():
    assert format_interval(-1.0412, 0.0388) == "−1.0 to 0.039"
    assert format_interval(-0.7495, -0.0009) == "−0.7 to −0.0009"
    assert format_interval(-0.7, 0.0) == "−0.7 to 0.0"
    assert format_se(0.004) == "0.0040" and format_se(0.0) == "0.00"


def test_se_two_decimals():
    assert format_se(0.34512) == "0.35" and format_se(0.64488) == "0.64" and format_se(None) == "–"


@pytest.mark.parametrize("value, short, statement", [
    (0.0005, "< 0.001", "P\u00a0<\u00a00.001"),
    (0.00197, "0.002", "P\u00a0=\u00a00.002"),
    (0.0499, "0.050", "P\u00a0=\u00a00.050"),
    (0.9996, "> 0.999", "P\u00a0>\u00a00.999"),
    (None, "–", "P not estimable"),
])
def test_p_values(value, short, statement):
    assert format_p(value) == short
    assert format_p_statement(value) == statement


def test_percentages_and_intervals():
    assert format_percent(36.73) == "37%"
    assert (format_percent(0.49), format_percent(0.0), format_percent(99.6), format_percent(100.0)) == ("<1%", "0%", ">99%", "100%")
    assert format_proportion(0.75) == "75%"
    assert format_proportion_interval(0.5940, 0.8547) == "59–\u206085%"
    assert format_interval(-1.234, 2.0) == "−1.2 to 2.0"
    assert format_interval(None, 1.0) == "–"
    assert format_count(30000) == "30,000"


def _quartiles(median, q1, q3):
    return ContinuousCell(n=10, n_missing=0, mean=None, sd=None, median=median, q1=q1, q3=q3, minimum=None, maximum=None)


def test_median_iqr_decimals_are_decided_per_row():
    whole, half = _quartiles(5.0, 4.0, 9.0), _quartiles(7.5, 4.0, 10.0)
    assert format_median_iqr(whole) == "5 (4–9)"
    assert median_iqr_decimals([whole, half]) == 1
    assert [format_median_iqr(cell, 1) for cell in (whole, half)] == ["5.0 (4.0–9.0)", "7.5 (4.0–10.0)"]
    assert format_median_iqr(_quartiles(None, None, None)) == "–"


def test_relations_do_not_break():
    assert no_break("≥ 7 days") == "≥\u00a07\u00a0days"


@pytest.fixture(scope="module")
def conclusions_for(tmp_path_factory):
    """``conclusions_for(index_diagnosis)``: the demo analysed with another index diagnosis, once per diagnosis."""
    found = {}

    def conclusions(index_diagnosis):
        if index_diagnosis not in found:
            found[index_diagnosis] = _conclusions_for(tmp_path_factory.mktemp("index"), index_diagnosis)
        return found[index_diagnosis]
    return conclusions


def _conclusions_for(tmp_path, index_diagnosis):
    """The demo with another index diagnosis: (difference, conclusions, sensitivity paragraph, mixed-model effect)."""
    import shutil

    from ketareport.pipeline import run_analysis
    from ketareport.present.build import build_context

    from ..conftest import DEMO

    dataset = tmp_path / index_diagnosis
    shutil.copytree(DEMO, dataset)
    with (dataset / "study.yml").open("a") as handle:
        handle.write(f"analysis: {{index_diagnosis: {index_diagnosis}, index_label: {index_diagnosis}}}\n")
    run = run_analysis(dataset)
    context = build_context(run)
    sensitivity = next(s for s in context.results if s.heading == "Sensitivity analysis").paragraphs[0]
    return run.results.vas.difference, " ".join(context.conclusions), sensitivity, run.results.sensitivity.index


@pytest.mark.parametrize("index_diagnosis", ["crps", "back_pain", "fibromyalgia"])
def test_a_difference_is_described_only_when_significant(conclusions_for, index_diagnosis):
    difference, conclusions, sensitivity, model_effect = conclusions_for(index_diagnosis)
    if difference.p_value < 0.05:
        assert "The reduction was larger" in conclusions or "The reduction was smaller" in conclusions
    else:
        # A non-significant comparison keeps its estimate, interval and P, and is named as such.
        assert "was not statistically significant" in conclusions and "95%\u00a0CI" not in conclusions
        assert "95% CI" in conclusions and "P\u00a0=" in conclusions
        assert "larger" not in conclusions and "smaller" not in conclusions
    assert "no evidence" not in conclusions and "no evidence" not in sensitivity
    if model_effect.p_value < 0.05:
        assert "statistically significant" in sensitivity and "not statistically significant," not in sensitivity
    else:
        assert "not statistically significant" in sensitivity


def test_the_rule_is_exercised_both_ways(conclusions_for):
    significant, _, _, significant_model = conclusions_for("crps")
    not_significant, _, _, not_significant_model = conclusions_for("fibromyalgia")
    assert significant.p_value < 0.05 <= not_significant.p_value
    assert significant_model.p_value < 0.05 <= not_significant_model.p_value


def _edited_demo(tmp_path, table: str, edit, config: str = ""):
    """A copy of the demo's CSV tables with ``edit(rows)`` applied to one of them, and extra study.yml lines."""
    import csv
    import shutil

    from ..conftest import DEMO

    dataset = tmp_path / "edited"
    dataset.mkdir()
    for name in ("patients.csv", "infusions.csv", "study.yml"):
        shutil.copy(DEMO / name, dataset / name)
    path = dataset / f"{table}.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    edit(rows)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with (dataset / "study.yml").open("a") as handle:
        handle.write(config)
    return dataset


def _all_text(context) -> str:
    return " ".join(" ".join(s.paragraphs) for s in context.abstract + context.results) + " ".join(context.conclusions)


def test_a_single_patient_group_is_reported_without_a_test(tmp_path):
    """A group of one has a mean but no SE or P: the prose says so, and makes no claim about a difference."""
    from ketareport.pipeline import run_analysis
    from ketareport.present.build import build_context

    def one_sciatica(patients):
        patients[0]["diagnosis"] = "sciatica"

    dataset = _edited_demo(tmp_path, "patients", one_sciatica, "analysis: {index_diagnosis: sciatica, index_label: sciatica}\n")
    run = run_analysis(dataset)
    text = _all_text(build_context(run))
    assert "(a single patient: no test)" in text
    assert "with a single patient in a group it could not be tested" in text
    # Trial3 #17: the sensitivity analysis's mixed model does test the groups, so only the patient-level test failed.
    assert run.results.sensitivity.index.p_value is not None
    assert "could not be compared with patients with other diagnoses by the patient-level test." in text
    assert "by a test" not in text
    assert "not estimable" not in text and "SE –" not in text
    assert "The reduction was larger" not in text and "The reduction was smaller" not in text


def test_patients_left_without_an_analysed_infusion_are_counted(tmp_path):
    from ketareport.pipeline import run_analysis
    from ketareport.present.build import build_context

    def first_patient_without_vas_after(infusions):
        for infusion in infusions:
            if infusion["patient_id"] == infusions[0]["patient_id"]:
                infusion["vas_post"] = ""

    run = run_analysis(_edited_demo(tmp_path, "infusions", first_patient_without_vas_after))
    assert run.results.cohort.n_patients_not_analyzed == 1
    context = build_context(run)
    text = _all_text(context)
    assert "; one patient had no analysed infusion." in text
    assert "We identified 49 patients and 369 outpatient ketamine infusions." in text  # not "undergoing": one had none analysed
    # The flow diagram's text is drawn as paths; its alt text carries the same count.
    assert "1 patient left with no analysed infusion" in context.figures["flow"].alt


def test_groups_without_variation_are_reported_without_a_test(tmp_path):
    """Every patient in a group with the same reduction: SE 0, no test, and said so in words."""
    from ketareport.pipeline import run_analysis
    from ketareport.present.build import build_context

    def constant_within_groups(infusions):
        index_patients = {row["patient_id"] for row in _demo_patients() if row["diagnosis"].lower() == "crps"}
        for infusion in infusions:
            if infusion["vas_pre"] and infusion["vas_post"]:
                infusion["vas_pre"], infusion["vas_post"] = ("8", "2") if infusion["patient_id"] in index_patients else ("7", "3")

    text = _all_text(build_context(run_analysis(_edited_demo(tmp_path, "infusions", constant_within_groups))))
    assert "every patient's reduction is the same, no test" in text
    assert "within each group every patient's reduction is the same, so it could not be tested." in text
    assert "not estimable" not in text and "The reduction was larger" not in text


def _demo_patients() -> list[dict[str, str]]:
    import csv

    from ..conftest import DEMO

    with (DEMO / "patients.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_methods_say_when_the_mixed_model_was_not_fitted(tmp_path):
    import shutil

    from ketareport.pipeline import run_analysis
    from ketareport.present.build import build_context

    from ..conftest import DEMO

    def statistical_analysis(run):
        return next(s for s in build_context(run).methods if s.heading == "Statistical analysis").paragraphs[0]

    assert "As a sensitivity analysis we fitted a linear mixed model" in statistical_analysis(run_analysis(DEMO))
    dataset = tmp_path / "demo"
    shutil.copytree(DEMO, dataset)
    with (dataset / "study.yml").open("a") as handle:
        handle.write("analysis: {sensitivity_model: false}\n")
    text = statistical_analysis(run_analysis(dataset))
    assert "was switched off in the study configuration" in text and "Wald" not in text
