"""Named regressions: the false or broken sentences seen when the tool was tried on small hand-made datasets.

Each test builds the dataset that showed the defect and reads the rendered
HTML (the same text the PDF carries).
"""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ketareport import cli, report
from ketareport.pipeline import run_analysis

from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, write_csv_dataset


def rendered_text(dataset: Path, tmp_path: Path) -> tuple[str, object]:
    """The HTML report of ``dataset`` as plain text (no markup, no SVG), and the run."""
    run = run_analysis(dataset)
    built = report.build(run, pdf=False)
    markup = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", built.html, flags=re.S)
    text = html_module.unescape(re.sub(r"<[^>]+>", " ", markup)).replace("\u00a0", " ").replace("\u2060", "")
    return re.sub(r"\s+", " ", text), built


def with_study(folder: Path, study_yml: str) -> Path:
    (folder / "study.yml").write_text(study_yml, encoding="utf-8")
    return folder


RISING = """\
infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post
I1,P1,2021-01-02,100,60,8,2
I2,P2,2021-02-02,100,60,3,7
I3,P3,2021-03-02,100,60,7,1
I4,P4,2021-04-02,100,60,4,6
I5,P5,2021-05-02,100,60,8,3
I6,P6,2021-06-02,100,60,9,2
"""


def test_point_1_all_patients_only_when_every_patient_improved(tmp_path):
    text, built = rendered_text(write_csv_dataset(tmp_path / "rising", infusions=RISING), tmp_path)
    vas = built.run.results.vas
    assert vas.n_patients_improved == 4 and vas.overall.n == 6
    assert "All patients reported" not in text
    assert "4 of 6 patients had a lower mean VAS after infusion" in text


NOT_SIGNIFICANT = """\
infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post
I1,P1,2021-01-02,100,60,8,2
I2,P2,2021-02-02,100,60,8,5
I3,P3,2021-03-02,100,60,7,3
I4,P4,2021-04-02,100,60,8,2
I5,P5,2021-05-02,100,60,8,5
I6,P6,2021-06-02,100,60,9,2
"""


def test_premedication_is_not_claimed_when_it_was_not_recorded(tmp_path):
    text, built = rendered_text(write_csv_dataset(tmp_path / "no-premedication", infusions=RISING), tmp_path)
    assert not built.run.results.cohort.all_premedicated
    assert "All patients were pretreated" not in text
    assert "Premedication with midazolam or ondansetron was not recorded." in text


def test_point_2_a_non_significant_comparison_keeps_estimate_interval_and_p(tmp_path):
    text, built = rendered_text(write_csv_dataset(tmp_path / "ns", infusions=NOT_SIGNIFICANT), tmp_path)
    difference = built.run.results.vas.difference
    assert difference.p_value > 0.05
    assert re.search(r"The difference between groups was −?[0-9.]+ cm \(SE [0-9.]+, 95% CI −?[0-9.]+ to −?[0-9.]+, "
                     r"P = 0\.\d{3}\), not statistically significant\.", text)
    assert "no evidence" not in text.lower()


@pytest.mark.parametrize("infusions, reason", [
    ("infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post\n", "has no rows"),
    ("infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post\n"
     "I1,P1,2021-01-02,100,60,8,\nI2,P2,2021-02-02,,60,7,\nI3,P3,2021-03-02,100,60,7,\n",
     "0 of 3 infusions analysable: 3 missing VAS after infusion, 1 missing ketamine dose"),
])
def test_point_3_nothing_to_analyse_is_exit_2_with_counts_and_nothing_written(tmp_path, infusions, reason):
    dataset = write_csv_dataset(tmp_path / "empty", infusions=infusions)
    for command in ("analyze", "render"):
        out = tmp_path / f"out-{command}"
        result = CliRunner().invoke(cli.main, [command, str(dataset), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert reason in result.output
        assert not out.exists() or not [p for p in out.iterdir()]


@pytest.mark.parametrize("index_patients, said", [
    (0, "No patient had a diagnosis of complex regional pain syndrome (CRPS)."),
    (1, "(a single patient: no test)"),
])
def test_point_3_an_empty_or_one_patient_group_stays_valid_and_says_so(tmp_path, index_patients, said):
    lines = PATIENTS_CSV.splitlines()
    crps_rows = [i for i, line in enumerate(lines) if ",CRPS," in line.upper()]
    for i in crps_rows[index_patients:]:
        lines[i] = re.sub(r",crps,", ",headache,", lines[i], flags=re.I)
    text, built = rendered_text(write_csv_dataset(tmp_path / "groups", patients="\n".join(lines) + "\n"), tmp_path)
    assert built.run.results.cohort.n_index == index_patients
    assert said in text
    assert "statistically significant (SE" not in text


def test_point_4_a_one_year_period_prints_months(tmp_path):
    dataset = with_study(write_csv_dataset(tmp_path / "year", infusions=RISING),
                         "study:\n  period: {start: 2021-01-01, end: 2021-12-31}\n")
    text, _ = rendered_text(dataset, tmp_path)
    assert "from January to December 2021" in text
    assert "2021 to 2021" not in text


def test_point_4_without_a_period_the_data_give_it_and_the_text_says_so(tmp_path):
    text, _ = rendered_text(write_csv_dataset(tmp_path / "data-period", infusions=RISING), tmp_path)
    assert "from January to June 2021 (the first and last infusion dates in the data; no study period was configured)" in text


LABELLED = PATIENTS_CSV.replace("P4,headache,", "P4,HIV neuropathy,").replace("P3,Back Pain,", "P3,Post-herpetic neuralgia,")


def test_point_5_diagnosis_labels_print_as_written(tmp_path):
    text, _ = rendered_text(write_csv_dataset(tmp_path / "labels", patients=LABELLED), tmp_path)
    assert "HIV neuropathy" in text and "Post-herpetic neuralgia" in text
    assert "Hiv neuropathy" not in text and "Post herpetic" not in text


def test_point_5_the_labels_map_renames(tmp_path):
    dataset = with_study(write_csv_dataset(tmp_path / "mapped", patients=LABELLED),
                         "labels:\n  hiv neuropathy: HIV-associated neuropathy\n")
    text, _ = rendered_text(dataset, tmp_path)
    assert "HIV-associated neuropathy" in text and "HIV neuropathy" not in text


def test_point_7_small_text_defects(tmp_path):
    single = "infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post\n" \
             "I1,P1,2021-01-02,100,60,8,2\nI2,P2,2021-02-02,100,60,7,3\n"
    dataset = with_study(write_csv_dataset(tmp_path / "small", infusions=single),
                         "study:\n  review_board: Approved by the Example IRB (protocol 12-345)\n")
    text, built = rendered_text(dataset, tmp_path)
    # Figure 1 in the singular for one infusion: its text is in the SVG and in the alt text.
    flow = built.figures["flow"]
    assert "1 infusions" not in flow and "1 infusions" not in built.context.figures["flow"].alt
    # The review-board statement once on the title page and once in Methods (the appendix prints the configuration).
    assert text.split("Appendix")[0].count("Approved by the Example IRB") == 2
    # SD/√n never breaks: word joiners hold it together.
    assert "SD/\u2060√\u2060n" in built.html


def test_point_7_the_relief_sentence_says_why_fewer_are_evaluable(tmp_path):
    from ..conftest import DEMO

    text, built = rendered_text(DEMO, tmp_path)
    relief = built.run.results.relief
    assert relief.n_recorded == 29 and relief.outcomes[0].n_evaluable == 28
    assert ("In 29 patients, we recorded the duration of pain relief. One patient, whose relief was still ongoing at "
            "last contact after fewer than 7 days, could not be evaluated, leaving 28 evaluable patients.") in text


BOUNDARY = """\
infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post
I1,P1,2021-01-02,100,60,9,7
I2,P1,2021-01-09,100,60,9,1
I3,P2,2021-02-02,100,60,9,6
I4,P2,2021-02-09,100,60,9,0
I5,P6,2021-03-02,100,60,9,8
I6,P6,2021-03-09,100,60,9,2
I7,P3,2021-04-02,100,60,9,8
I8,P3,2021-04-09,100,60,9,3
I9,P4,2021-05-02,100,60,9,7
I10,P4,2021-05-09,100,60,9,2
I11,P5,2021-06-02,100,60,9,9
I12,P5,2021-06-09,100,60,9,4
"""


def test_a_boundary_fit_of_the_mixed_model_is_said(tmp_path):
    """Patient means closer together than their infusions allow: the between-patient variance is estimated at 0."""
    text, built = rendered_text(write_csv_dataset(tmp_path / "boundary", infusions=BOUNDARY), tmp_path)
    assert built.run.results.sensitivity.variance_patient == 0
    assert "The between-patient variance was estimated at zero (a boundary fit" in text
    text, built = rendered_text(write_csv_dataset(tmp_path / "rising", infusions=RISING.replace(
        "I6,P6,2021-06-02,100,60,9,2", "I6,P6,2021-06-02,100,60,9,2\nI7,P6,2021-06-09,100,60,9,3")), tmp_path)
    assert built.run.results.sensitivity is None or built.run.results.sensitivity.variance_patient > 0
    assert "boundary fit" not in text


def test_the_index_group_is_named_after_its_diagnosis_without_an_index_label(tmp_path):
    """A study of headache that sets only index_diagnosis must not call its index group "CRPS"."""
    folder = with_study(write_csv_dataset(tmp_path / "headache"), "analysis: {index_diagnosis: Headache}\n")
    text, built = rendered_text(folder, tmp_path)
    assert built.run.config.analysis.index_label == "headache"
    assert "For patients with headache, the reduction in VAS score was" in text
    assert "Headache (n = 1)" in text  # Table 1's column, as a heading
    assert "patients with CRPS" not in text and "CRPS (n =" not in text


def test_only_the_index_diagnosis_reads_as_one_diagnosis_and_no_comparison_is_claimed(tmp_path):
    patients = "patient_id,diagnosis\n" + "".join(f"P{i},CRPS\n" for i in range(1, 7))
    text, built = rendered_text(write_csv_dataset(tmp_path / "crps-only", patients), tmp_path)
    assert built.run.results.vas.difference.p_value is None
    assert "various chronic intractable pain syndromes" not in text
    assert "patients suffering from chronic intractable pain." in text
    assert "the groups were compared by" not in text
    assert "a comparison of the groups by Welch's two-sample t test" in text and "was planned, but these data do not allow it" in text
    difference_row = next(row for row in built.context.tables["vas"].rows if row.label.startswith("Difference"))
    assert difference_row.cells[0] == difference_row.cells[1] == "–"  # no patients counted for a comparison of nobody


def test_premedication_counts_say_what_the_records_hold(tmp_path):
    """No ondansetron column: "ondansetron before 0" alone would read as "not given"; the sentence says how complete
    the records are, and counts over the same infusions."""
    header, *rows = INFUSIONS_CSV.splitlines()
    columns = header.split(",")
    keep = [columns.index(c) for c in columns if c not in ("ondansetron",)]
    table = "\n".join(",".join(line.split(",")[i] for i in keep) for line in [header, *rows]) + "\n"
    text, built = rendered_text(write_csv_dataset(tmp_path / "no-ondansetron", infusions=table), tmp_path)
    cohort = built.run.results.cohort
    assert (cohort.n_infusions_midazolam, cohort.n_infusions_ondansetron, cohort.n_infusions_premedication_recorded,
            cohort.n_infusions) == (10, 0, 0, 10)
    assert ("Midazolam was recorded as given before 10 and ondansetron before 0 of the 10 infusions reviewed; "
            "none had a record of both drugs, given or not.") in text
    premedication = [row.label for row in built.run.results.infusion_characteristics.rows if row.section == "Premedication"]
    assert premedication == ["Midazolam"]  # no "Ondansetron 0 (0%)" row for a drug that is not recorded


def test_patients_without_any_infusion_are_not_said_to_undergo_infusions(tmp_path):
    infusions = "\n".join(line for line in INFUSIONS_CSV.splitlines() if ",P4," not in line) + "\n"
    text, built = rendered_text(write_csv_dataset(tmp_path / "p4-without-infusions", infusions=infusions), tmp_path)
    cohort = built.run.results.cohort
    assert (cohort.n_patients, cohort.n_patients_not_analyzed, cohort.n_infusions_excluded) == (6, 1, 2)  # P4: none
    assert "We identified 6 patients and 9 outpatient ketamine infusions." in text
    assert "undergoing" not in text
    assert "We excluded 2 infusions because of missing data; one patient had no analysed infusion." in text


def test_trial3_16_premedication_of_every_infusion_not_of_patients_without_one(tmp_path):
    """Every infusion records both drugs, but one patient had no infusion: "all patients were pretreated" is false."""
    without_infusion = PATIENTS_CSV + "P7,headache,F,50,,,\n"
    text, built = rendered_text(write_csv_dataset(tmp_path / "no-infusion", patients=without_infusion), tmp_path)
    cohort = built.run.results.cohort
    assert cohort.all_premedicated and cohort.n_patients_not_analyzed == 1
    assert "All patients were pretreated" not in text
    assert "Every infusion reviewed was preceded by midazolam and ondansetron." in text
    text, _ = rendered_text(write_csv_dataset(tmp_path / "every-patient"), tmp_path)
    assert "All patients were pretreated with midazolam and ondansetron." in text


TIED_DIAGNOSES = """\
patient_id,diagnosis
P1,CRPS
P2,headache
P3,headache
P4,back pain
P5,neuralgia
P6,CRPS
"""


def test_trial3_11_a_tie_among_the_named_diagnoses_is_named_whole(tmp_path):
    """Back pain and neuralgia both have one patient: naming one and folding the other into "other" is arbitrary."""
    text, built = rendered_text(write_csv_dataset(tmp_path / "tie", patients=TIED_DIAGNOSES, infusions=RISING), tmp_path)
    diagnoses = built.run.results.cohort.diagnoses
    assert diagnoses["back_pain"] == diagnoses["neuralgia"] == 1
    sentence = re.search(r"Of the remaining [^.]*\.", text).group(0)
    assert "two had headache" in sentence and "one had back pain" in sentence and "one had neuralgia" in sentence
    assert "other diagnos" not in sentence and "another diagnosis" not in sentence


def test_named_comparison_diagnoses_never_splits_a_tie():
    from ketareport.present.build import named_comparison_diagnoses

    assert named_comparison_diagnoses([("a", 5), ("b", 3), ("c", 2)]) == [("a", 5), ("b", 3)]
    assert named_comparison_diagnoses([("a", 5), ("b", 3), ("c", 3)]) == [("a", 5), ("b", 3), ("c", 3)]
    many = [("a", 5)] + [(name, 1) for name in "bcdef"]
    assert named_comparison_diagnoses(many) == [("a", 5)]
    assert named_comparison_diagnoses([(name, 1) for name in "abcdef"]) == [(name, 1) for name in "abcdef"]


SMALL_DIFFERENCE = """\
infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post
I1,P1,2021-01-02,100,60,8,5
I2,P2,2021-02-02,100,60,8,4.9
I3,P3,2021-03-02,100,60,8,4.92
I4,P4,2021-04-02,100,60,8,4.9
"""
TWO_GROUPS = "patient_id,diagnosis\nP1,CRPS\nP2,CRPS\nP3,headache\nP4,headache\n"


def test_trial3_7_17_a_difference_that_rounds_to_zero_keeps_its_sign(tmp_path):
    """The difference is −0.04 cm: printed "0.0 cm" it lost its sign and read as no difference at all."""
    text, built = rendered_text(write_csv_dataset(tmp_path / "small", patients=TWO_GROUPS, infusions=SMALL_DIFFERENCE),
                                tmp_path)
    assert built.run.results.vas.difference.estimate == pytest.approx(-0.04)
    assert "The difference between groups was −0.040 cm" in text
    assert " 0.0 cm" not in text
    table = built.context.tables["vas"]
    assert any("−0.040" in cell for row in table.rows for cell in row.cells)


def test_trial3_8_exclusions_by_item_say_why_they_add_up_to_more_than_the_total(tmp_path):
    """I10 misses its dose and its VAS before: 3 missing items over 2 excluded infusions, which a reviewer queries."""
    from ..datasets import with_cell

    infusions = with_cell(INFUSIONS_CSV, 10, "ketamine_dose_mg", "")
    dataset = write_csv_dataset(tmp_path / "overlap", infusions=infusions)
    text, built = rendered_text(dataset, tmp_path)
    cohort = built.run.results.cohort
    assert cohort.n_infusions_excluded == 2 and sum(cohort.excluded_missing_by_column.values()) == 3
    assert ("(missing, by item: ketamine dose (1), infusion duration (1), VAS before infusion (1); 3 in all, more than "
            "the 2 infusions excluded, because an infusion missing several items is counted under each)") in text
    result = CliRunner().invoke(cli.main, ["check", str(dataset)])
    assert ("excluded for missing data: 2 infusions (1 missing ketamine dose, 1 missing infusion duration, "
            "1 missing VAS before infusion; 3 in all: an infusion missing several items is counted under each)"
            ) in result.output, result.output
    text, _ = rendered_text(write_csv_dataset(tmp_path / "no-overlap"), tmp_path)
    assert "(missing, by item: infusion duration (1), VAS before infusion (1))" in text


CRPS_SUBTYPES = """\
patient_id,diagnosis
P1,CRPS type I
P2,CRPS type I
P3,CRPS type II
P4,headache
P5,headache
P6,back pain
"""


def test_trial3_5_an_empty_index_group_does_not_deny_a_diagnosis_the_data_hold(tmp_path):
    """Default index 'crps', data 'CRPS type I/II': "No patient had a diagnosis of CRPS" beside "2 had CRPS type I"."""
    text, built = rendered_text(write_csv_dataset(tmp_path / "subtypes", patients=CRPS_SUBTYPES, infusions=RISING), tmp_path)
    cohort = built.run.results.cohort
    assert cohort.n_index == 0 and cohort.index_diagnosis == "crps" and cohort.diagnoses["crps_type_i"] == 2
    assert "No patient had a diagnosis of" not in text and "No analysed patient had CRPS" not in text
    assert ("No patient's diagnosis was recorded as CRPS, the index diagnosis (analysis.index_diagnosis: crps in "
            "study.yml). All 6 patients had other diagnoses: two had CRPS type I, two had headache") in text
    assert ("No patient's diagnosis was recorded as CRPS, the index diagnosis (analysis.index_diagnosis: crps in "
            "study.yml), so the groups could not be compared.") in text


def test_trial3_11_tied_side_effects_are_all_named(tmp_path):
    """Nausea and dizziness are each recorded after two infusions: neither alone is "the most frequent"."""
    infusions = INFUSIONS_CSV.replace("I9,P6,2008-02-02,110,60,9,2,true,true,sedation", "I9,P6,2008-02-02,110,60,9,2,true,true,dizziness")
    assert infusions != INFUSIONS_CSV
    text, _ = rendered_text(write_csv_dataset(tmp_path / "tied-side-effects", infusions=infusions), tmp_path)
    result = re.search(r"At least one side effect was recorded after [^;]*; the most frequent were ([^(]*) \(Table 2\)", text)
    assert result and set(result.group(1).split(" and ")) == {"nausea", "dizziness"}, text
    conclusion = re.search(r"most often ([a-z ]*)\.", text)
    assert conclusion and set(conclusion.group(1).split(" and ")) == {"nausea", "dizziness"}
