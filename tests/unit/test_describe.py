"""describe: Tables 1 and 2 computed from a small cohort whose numbers are worked out by hand here."""

from __future__ import annotations

import pandas as pd
import pytest

from ketareport.cohort import build_cohort
from ketareport.config import AnalysisOptions
from ketareport.describe import continuous_cell, count_cell, infusion_characteristics, label_indicators, patient_characteristics
from ketareport.load import load_dataset
from ketareport.validate import validate_dataset

from ..datasets import write_csv_dataset

PATIENTS = """\
patient_id,diagnosis,sex,age_years,previous_interventions
A,CRPS,F,40,nerve block; Opioids
B,HIV neuropathy,M,50,opioids
C,Post-herpetic neuralgia,,60,
"""
INFUSIONS = """\
infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post,midazolam,ondansetron,side_effects
1,A,2005-01-01,100,60,8,2,yes,yes,Nausea; dizziness
2,A,2005-02-01,200,60,7,3,yes,no,none
3,B,2005-03-01,300,60,6,1,yes,yes,nausea
4,C,2005-04-01,,60,5,1,yes,yes,
"""


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = write_csv_dataset(tmp_path_factory.mktemp("describe") / "data", PATIENTS, INFUSIONS)
    return build_cohort(validate_dataset(load_dataset(folder)), AnalysisOptions())


def rows(table):
    return {(row.section, row.label): row for row in table.rows}


def test_count_cell_percent_and_empty_denominator():
    cell = count_cell(pd.Series([True, False, True, True]))
    assert (cell.n, cell.denominator, cell.percent) == (3, 4, 75.0)
    assert count_cell(pd.Series([], dtype=bool)).percent is None


def test_continuous_cell_statistics_and_missing_values():
    cell = continuous_cell(pd.Series([1.0, 2.0, None, 5.0]))
    assert (cell.n, cell.n_missing, cell.mean, cell.median, cell.minimum, cell.maximum) == (3, 1, 8 / 3, 2.0, 1.0, 5.0)
    assert cell.sd == pytest.approx(pd.Series([1.0, 2.0, 5.0]).std())
    single = continuous_cell(pd.Series([4.0]))
    assert single.sd is None and single.mean == 4.0
    empty = continuous_cell(pd.Series([None], dtype=float))
    assert (empty.n, empty.n_missing, empty.mean) == (0, 1, None)


def test_label_indicators_split_and_ignore():
    indicators = label_indicators(pd.Series(["nausea;dizziness", "none", ""]), ignore=("none",))
    assert sorted(indicators.columns) == ["dizziness", "nausea"]
    assert indicators["nausea"].tolist() == [True, False, False]


def test_table_1_prints_diagnoses_as_written(cohort):
    table = patient_characteristics(cohort)
    diagnosis_rows = [row.label for row in table.rows if row.section == "Diagnosis"]
    assert sorted(diagnosis_rows) == ["CRPS", "HIV neuropathy", "Post-herpetic neuralgia"]
    assert [(column.key, column.n) for column in table.columns] == [("index", 1), ("comparison", 2), ("all", 3)]


def test_table_1_counts_by_group(cohort):
    table = rows(patient_characteristics(cohort))
    female = table[("Sex", "Female")].cells
    assert (female["index"].n, female["comparison"].n, female["all"].n) == (1, 0, 1)
    assert table[("Sex", "Not recorded")].cells["all"].n == 1
    assert table[("Previous interventions", "Opioids")].cells["all"].n == 2
    assert table[("Age, years", "Mean (SD)")].cells["comparison"].mean == 55.0
    assert table[("Analysed infusions per patient", "Median (IQR)")].cells["all"].median == 1.0


def test_table_2_covers_analysed_infusions_only(cohort):
    table = infusion_characteristics(cohort)
    assert [column.n for column in table.columns] == [2, 1, 3]
    by_label = rows(table)
    assert by_label[("Ketamine dose, mg", "Mean (SD)")].cells["all"].mean == 200.0
    assert by_label[("VAS reduction, cm", "Mean (SD)")].cells["index"].mean == 5.0
    assert by_label[("Premedication", "Ondansetron")].cells["all"].n == 2
    assert by_label[("Side effects", "Any")].cells["all"].n == 2
    assert by_label[("Side effects", "Nausea")].cells["all"].n == 2
    assert by_label[("Side effects", "Dizziness")].cells["index"].n == 1


def test_table_1_counts_patients_with_no_age_beside_the_mean(tmp_path):
    """A mean age over fewer patients than the column holds: a "Not recorded" row says how many have none."""
    patients = PATIENTS.replace("B,HIV neuropathy,M,50,", "B,HIV neuropathy,M,,")
    table = patient_characteristics(build_cohort(validate_dataset(load_dataset(
        write_csv_dataset(tmp_path / "data", patients, INFUSIONS))), AnalysisOptions()))
    labels = [(row.section, row.label) for row in table.rows]
    position = labels.index(("Age, years", "Not recorded"))
    assert labels[position - 1] == ("Age, years", "Mean (SD)")
    cells = table.rows[position].cells
    assert [(cells[key].n, cells[key].denominator) for key in ("index", "comparison", "all")] == [(0, 1), (1, 2), (1, 3)]
    assert table.rows[position - 1].cells["comparison"].mean == 60.0  # C alone


def test_table_1_has_no_not_recorded_row_when_every_age_is_recorded(cohort):
    assert ("Age, years", "Not recorded") not in rows(patient_characteristics(cohort))
    # The relief duration's "Recorded" row already says how many have one.
    assert not any(row.section == "Duration of relief" and row.label == "Not recorded"
                   for row in patient_characteristics(cohort).rows)
