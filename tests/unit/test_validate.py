"""Every validation rule of docs/data-dictionary.md, each with a bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from ketareport.errors import DatasetInvalid
from ketareport.load import load_dataset
from ketareport.validate import validate_dataset

from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, with_cell, write_csv_dataset


def problems_for(tmp_path, patients=PATIENTS_CSV, infusions=INFUSIONS_CSV) -> list[str]:
    folder = write_csv_dataset(tmp_path / "data", patients, infusions)
    with pytest.raises(DatasetInvalid) as error:
        validate_dataset(load_dataset(folder))
    return [str(problem) for problem in error.value.problems]


def test_valid_dataset_types_its_columns(tmp_path):
    dataset = validate_dataset(load_dataset(write_csv_dataset(tmp_path / "data")))
    patients, infusions = dataset.patients, dataset.infusions
    assert patients["diagnosis"].tolist() == ["crps", "crps", "back_pain", "headache", "back_pain", "crps"]
    assert patients["relief_ongoing"].tolist() == [False, True, False, False, False, True]
    assert patients["sex"].isna().sum() == 1
    assert pd.api.types.is_datetime64_any_dtype(infusions["infusion_date"])
    assert infusions["vas_pre"].isna().sum() == 1  # "NA" is missing, not invalid
    assert infusions["side_effects"].tolist()[:5] == ["nausea", "none", "", "", "dizziness;nausea"]
    assert infusions["midazolam"].all() and infusions["ondansetron"].all()


@pytest.mark.parametrize("table, row, column, value, expected", [
    ("infusions", 12 - 10, "vas_pre", "11", "infusions.csv row 2 (line 3), column vas_pre: 11 is outside 0 to 10"),
    ("infusions", 3, "vas_post", "-0.5", "column vas_post: -0.5 is outside 0 to 10"),
    ("infusions", 3, "vas_post", "seven", "column vas_post: 'seven' is not a number"),
    ("infusions", 4, "ketamine_dose_mg", "0", "column ketamine_dose_mg: 0 must be greater than 0"),
    ("infusions", 4, "infusion_duration_min", "-30", "column infusion_duration_min: -30 must be greater than 0"),
    ("infusions", 5, "infusion_date", "02/01/2006", "column infusion_date: '02/01/2006' is not a date YYYY-MM-DD"),
    ("infusions", 5, "infusion_date", "2006-02-30", "column infusion_date: '2006-02-30' is not a date YYYY-MM-DD"),
    ("infusions", 5, "infusion_date", "", "column infusion_date: is empty but required"),
    ("infusions", 6, "midazolam", "maybe", "column midazolam: 'maybe' is not a yes/no value"),
    ("infusions", 6, "patient_id", "P99", "column patient_id: 'P99' is not a patient_id in patients.csv"),
    ("infusions", 6, "patient_id", "", "column patient_id: is empty but required"),
    ("infusions", 7, "infusion_id", "I1", "infusions.csv row 7 (line 8), column infusion_id: duplicate infusion_id 'I1' (first in row 1)"),
    ("infusions", 7, "infusion_id", "", "column infusion_id: is empty but required"),
    ("patients", 2, "patient_id", "P1", "patients.csv row 2 (line 3), column patient_id: duplicate patient_id 'P1' (first in row 1)"),
    ("patients", 2, "diagnosis", "", "patients.csv row 2 (line 3), column diagnosis: is empty but required"),
    ("patients", 3, "sex", "female", "column sex: 'female' must be F, M or blank"),
    ("patients", 3, "age_years", "121", "column age_years: 121 is outside 0 to 120"),
    ("patients", 3, "age_years", "forty", "column age_years: 'forty' is not a number"),
    ("patients", 4, "relief_duration_days", "-1", "column relief_duration_days: -1 must be at least 0"),
    ("patients", 4, "relief_ongoing", "ongoing", "column relief_ongoing: 'ongoing' is not a yes/no value"),
])
def test_each_rule_names_file_row_column_and_value(tmp_path, table, row, column, value, expected):
    tables = {"patients": PATIENTS_CSV, "infusions": INFUSIONS_CSV}
    tables[table] = with_cell(tables[table], row, column, value)
    problems = problems_for(tmp_path, tables["patients"], tables["infusions"])
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_reported_in_one_run(tmp_path):
    infusions = INFUSIONS_CSV
    for row, column, value in [(1, "vas_pre", "12"), (2, "vas_post", "x"), (9, "infusion_date", "yesterday")]:
        infusions = with_cell(infusions, row, column, value)
    patients = with_cell(PATIENTS_CSV, 6, "age_years", "200")
    problems = problems_for(tmp_path, patients, infusions)
    assert sorted(problem.split(",")[0] for problem in problems) == sorted([
        "patients.csv row 6 (line 7)", "infusions.csv row 1 (line 2)",
        "infusions.csv row 2 (line 3)", "infusions.csv row 9 (line 10)",
    ])


@pytest.mark.parametrize("table, column", [
    ("patients", "patient_id"), ("patients", "diagnosis"),
    ("infusions", "infusion_id"), ("infusions", "patient_id"), ("infusions", "infusion_date"),
    ("infusions", "vas_pre"), ("infusions", "ketamine_dose_mg"),
])
def test_absent_required_column(tmp_path, table, column):
    tables = {"patients": PATIENTS_CSV, "infusions": INFUSIONS_CSV}
    frame = pd.read_csv(pd.io.common.StringIO(tables[table]), dtype=str, keep_default_na=False)
    original = next(c for c in frame.columns if c.lower() == column)
    tables[table] = frame.drop(columns=[original]).to_csv(index=False)
    problems = problems_for(tmp_path, tables["patients"], tables["infusions"])
    assert f"{table}.csv, column {column}: required column is absent" in problems


def test_duplicate_headers_differing_in_case(tmp_path):
    frame = pd.read_csv(pd.io.common.StringIO(PATIENTS_CSV), dtype=str, keep_default_na=False)
    frame["AGE_YEARS"] = frame["age_years"]
    problems = problems_for(tmp_path, frame.to_csv(index=False))
    assert "patients.csv, column age_years: appears more than once (names are matched ignoring case)" in problems


def test_optional_columns_may_be_absent(tmp_path):
    patients = pd.read_csv(pd.io.common.StringIO(PATIENTS_CSV), dtype=str, keep_default_na=False)
    patients = patients[["patient_id", "Diagnosis"]].to_csv(index=False)
    infusions = pd.read_csv(pd.io.common.StringIO(INFUSIONS_CSV), dtype=str, keep_default_na=False)
    infusions = infusions.drop(columns=["midazolam", "ondansetron", "side_effects"]).to_csv(index=False)
    dataset = validate_dataset(load_dataset(write_csv_dataset(tmp_path / "data", patients, infusions)))
    assert dataset.patients["relief_duration_days"].isna().all()
    assert not dataset.patients["relief_ongoing"].any()
    assert dataset.infusions["midazolam"].isna().all()


def test_problem_rows_in_a_workbook_are_sheet_rows(tmp_path):
    patients = pd.read_csv(pd.io.common.StringIO(PATIENTS_CSV), dtype=str, keep_default_na=False)
    infusions = pd.read_csv(pd.io.common.StringIO(with_cell(INFUSIONS_CSV, 3, "vas_pre", "14")), dtype=str, keep_default_na=False)
    workbook = tmp_path / "study.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        patients.to_excel(writer, sheet_name="patients", index=False)
        infusions.to_excel(writer, sheet_name="infusions", index=False)
    with pytest.raises(DatasetInvalid) as error:
        validate_dataset(load_dataset(workbook))
    assert [str(p) for p in error.value.problems] == [
        "study.xlsx sheet infusions row 3 (sheet row 4), column vas_pre: 14 is outside 0 to 10"
    ]


def test_infusion_dates_outside_the_period_the_data_lock_or_today_are_errors(tmp_path):
    """The report states the period the infusions were given in: an infusion outside it would make that false."""
    import datetime as dt

    import yaml

    from ketareport.config import parse_config
    from ketareport.pipeline import infusion_date_limits

    config = parse_config(yaml.safe_load(
        "study: {period: {start: 2005-01-01, end: 2008-12-31}}\nreport: {data_lock: 2008-06-30}\n"
    ), "study.yml")
    infusions = with_cell(with_cell(with_cell(INFUSIONS_CSV, 2, "infusion_date", "2004-12-31"),
                                    3, "infusion_date", "2008-07-01"),
                          4, "infusion_date", "2008-06-30")
    folder = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, infusions)
    with pytest.raises(DatasetInvalid) as error:
        validate_dataset(load_dataset(folder), infusion_date_limits(config, today=dt.date(2026, 1, 1)))
    problems = [str(problem) for problem in error.value.problems]
    assert len(problems) == 2, problems
    assert ("infusions.csv row 2 (line 3), column infusion_date: 2004-12-31 is before 2005-01-01, "
            "the start of the study period (study.yml study.period)") in problems[0]
    assert ("row 3 (line 4), column infusion_date: 2008-07-01 is after 2008-06-30, "
            "the data lock (study.yml report.data_lock)") in problems[1]


def test_an_infusion_dated_in_the_future_is_an_error(tmp_path):
    import datetime as dt

    from ketareport.config import StudyConfig
    from ketareport.pipeline import infusion_date_limits

    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    folder = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, with_cell(INFUSIONS_CSV, 5, "infusion_date", future))
    with pytest.raises(DatasetInvalid) as error:
        validate_dataset(load_dataset(folder), infusion_date_limits(StudyConfig()))
    assert [f"{future} is after {dt.date.today().isoformat()}, today's date (a date in the future)" in str(p)
            for p in error.value.problems] == [True]


def test_duplicates_are_found_across_the_blocks_of_a_large_csv(tmp_path):
    """Arrow reads a large CSV in blocks (chunks); a repeat in a later block of a first value in an earlier one."""
    from ketareport.demo import write_demo

    folder = tmp_path / "large"
    write_demo(folder, patients=3000)
    lines = (folder / "infusions.csv").read_text().splitlines()
    assert len("\n".join(lines).encode()) > 1 << 20, "the file must span more than one of Arrow's 1 MB blocks"
    first_id = lines[1].split(",")[0]
    last = lines[-1].split(",")
    lines[-1] = ",".join([first_id, *last[1:]])
    (folder / "infusions.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetInvalid) as error:
        validate_dataset(load_dataset(folder))
    assert [str(problem) for problem in error.value.problems] == [
        f"infusions.csv row {len(lines) - 1} (line {len(lines)}), column infusion_id: "
        f"duplicate infusion_id {first_id!r} (first in row 1)"
    ]


def test_a_semicolon_separated_csv_is_named_as_such_first(tmp_path):
    """A European spreadsheet saves CSV with ';': every required column then looks absent, which says nothing."""
    patients = PATIENTS_CSV.replace(",", ";")
    problems = problems_for(tmp_path, patients=patients)
    assert problems[0].startswith("patients.csv: the header is one column, 'patient_id;diagnosis;sex;")  # names lower-cased
    assert "the file is separated by semicolons; ketareport reads comma-separated CSV" in problems[0]
    assert not any("separated by" in problem for problem in problems[1:])
