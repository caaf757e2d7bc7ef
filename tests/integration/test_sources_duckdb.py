"""Datasets in DuckDB: the rules as queries, the analysis in the engine, results equal to the file path's."""

from __future__ import annotations

import csv
import math
import subprocess
import sys

import pytest

from ketareport.errors import DatasetInvalid
from ketareport.pipeline import run_analysis
from ketareport.sources import engine_for

from ..conftest import DEMO
from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, with_cell, write_csv_dataset
from ..engines import assert_same_results, csv_into_duckdb, problem_set

# slow: every test compiles its queries through Ibis (seconds), like the PostgreSQL and Spark modules.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("duckdb_engine")]


def bad_dataset(folder):
    """Every kind of broken rule, in both tables."""
    patients = with_cell(with_cell(PATIENTS_CSV, 3, "sex", "X"), 2, "age_years", "abc")
    patients = with_cell(with_cell(patients, 4, "patient_id", "P1"), 5, "relief_ongoing", "perhaps")
    infusions = with_cell(with_cell(INFUSIONS_CSV, 1, "vas_pre", "11"), 4, "patient_id", "P404")
    infusions = with_cell(with_cell(infusions, 2, "infusion_date", "2005-02-30"), 3, "midazolam", "maybe")
    infusions = with_cell(with_cell(infusions, 5, "ketamine_dose_mg", "0"), 6, "infusion_id", "")
    infusions = with_cell(with_cell(infusions, 7, "vas_post", "1..5"), 8, "infusion_date", "02/02/2007")
    infusions = with_cell(infusions, 9, "infusion_duration_min", "-3")
    return write_csv_dataset(folder, patients, infusions)


def file_problems(dataset):
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(dataset)
    return caught.value.problems


def test_engine_for_names_databases_only():
    assert engine_for("study.duckdb") == engine_for("duckdb:///srv/study.db") == "duckdb"
    assert engine_for("postgresql://analyst@warehouse/research") == engine_for("postgres://h/db") == "postgres"
    assert engine_for("data/demo", "spark") == "spark"
    assert engine_for("data/demo") is None and engine_for("study.xlsx") is None


@pytest.mark.slow
@pytest.mark.parametrize("typed", [False, True], ids=["text columns", "typed columns"])
def test_demo_in_duckdb_equals_the_file_path(tmp_path, typed):
    database = csv_into_duckdb(DEMO, tmp_path / "study.duckdb", typed=typed)
    expected = run_analysis(DEMO, DEMO / "study.yml").results
    actual = run_analysis(database, DEMO / "study.yml").results
    assert_same_results(expected, actual)


@pytest.mark.slow
def test_3000_patients_in_duckdb_equal_the_file_path(tmp_path, generated_3000):
    database = csv_into_duckdb(generated_3000, tmp_path / "study.duckdb")
    assert_same_results(run_analysis(generated_3000).results, run_analysis(f"duckdb://{database}").results)


def test_small_dataset_edge_cases_equal_the_file_path(tmp_path):
    """Missing analysis values, a patient without an analysed infusion, censored relief, mixed label case."""
    dataset = write_csv_dataset(tmp_path / "data")
    database = csv_into_duckdb(dataset, tmp_path / "study.duckdb")
    assert_same_results(run_analysis(dataset).results, run_analysis(database).results)


def test_patients_without_any_infusion_are_counted_as_on_the_file_path(tmp_path):
    """A patient with no infusion row (P7) apart from one whose infusions are all excluded (P6): Figure 1's counts."""
    infusions = with_cell(INFUSIONS_CSV, 9, "vas_post", "")
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV + "P7,headache,F,50,,,\n", infusions)
    expected = run_analysis(dataset).results
    actual = run_analysis(csv_into_duckdb(dataset, tmp_path / "study.duckdb")).results
    assert (expected.cohort.n_patients_without_infusions, expected.cohort.n_patients_lost_to_exclusions) == (1, 1)
    assert_same_results(expected, actual)


def test_bad_data_in_duckdb_gives_the_csv_problems(tmp_path):
    dataset = bad_dataset(tmp_path / "bad")
    database = csv_into_duckdb(dataset, tmp_path / "bad.duckdb")
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(database)
    problems = caught.value.problems
    assert problem_set(problems) == problem_set(file_problems(dataset))
    shown = [str(problem) for problem in problems]
    assert "infusions infusion_id 'I1', column vas_pre: 11 is outside 0 to 10" in shown
    assert "infusions (no infusion_id), patient_id 'P4', column infusion_id: is empty but required" in shown
    assert "patients patient_id 'P1', column patient_id: duplicate patient_id 'P1' (2 rows)" in shown


def test_infusion_dates_outside_the_study_period_are_the_csv_problems(tmp_path):
    """study.yml's period and data lock bound the dates in the engine as on the file path."""
    infusions = with_cell(with_cell(INFUSIONS_CSV, 2, "infusion_date", "2004-12-31"), 3, "infusion_date", "2008-07-01")
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, infusions)
    config = tmp_path / "study.yml"
    config.write_text("study: {period: {start: 2005-01-01, end: 2008-12-31}}\nreport: {data_lock: 2008-06-30}\n")
    for typed in (False, True):
        database = csv_into_duckdb(dataset, tmp_path / f"study-{typed}.duckdb", typed=typed)
        with pytest.raises(DatasetInvalid) as caught:
            run_analysis(database, config)
        with pytest.raises(DatasetInvalid) as from_files:
            run_analysis(dataset, config)
        assert problem_set(caught.value.problems) == problem_set(from_files.value.problems)
        assert len(caught.value.problems) == 2


def test_side_effects_not_recorded_when_no_infusion_has_an_entry(tmp_path):
    """The report says side effects were "not recorded": computed in the engine, not assumed."""
    rows = [line.rsplit(",", 1)[0] + "," for line in INFUSIONS_CSV.splitlines()[1:]]
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, "\n".join([INFUSIONS_CSV.splitlines()[0], *rows]) + "\n")
    expected = run_analysis(dataset).results
    actual = run_analysis(csv_into_duckdb(dataset, tmp_path / "study.duckdb")).results
    assert expected.cohort.side_effects_recorded is False
    assert_same_results(expected, actual)


def test_first_rows_listed_and_the_rest_counted(tmp_path):
    """A rule broken by many rows lists the first 20 by key and counts the others."""
    lines = INFUSIONS_CSV.splitlines()
    header, first = lines[0], lines[1].split(",")
    rows = [",".join([f"X{n:03d}", "P1", first[2], first[3], first[4], "12", *first[6:]]) for n in range(25)]
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, "\n".join([header, *rows]) + "\n")
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(csv_into_duckdb(dataset, tmp_path / "study.duckdb"))
    messages = [str(problem) for problem in caught.value.problems]
    assert messages[0] == "infusions infusion_id 'X000', column vas_pre: 12 is outside 0 to 10"
    assert messages[19].startswith("infusions infusion_id 'X019',")
    assert messages[20] == "infusions, column vas_pre: 5 more rows break the same rule (the first 20 are listed)"


def test_table_and_column_names_from_study_yml(tmp_path):
    """A warehouse schema is read as it is: schema-qualified table names, renamed columns."""
    dataset = write_csv_dataset(tmp_path / "data")
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for table in ("patients", "infusions"):
        with (dataset / f"{table}.csv").open(newline="") as source, (renamed / f"{table}.csv").open("w", newline="") as target:
            reader, writer = csv.reader(source), csv.writer(target)
            header = next(reader)
            writer.writerow(["Pain_Score_Before" if name == "vas_pre" else name for name in header])
            writer.writerows(reader)
    database = csv_into_duckdb(renamed, tmp_path / "warehouse.duckdb", schema="research",
                               names={"patients": "ketamine_patients", "infusions": "ketamine_infusions"})
    config = tmp_path / "study.yml"
    config.write_text("data:\n  patients: research.ketamine_patients\n  infusions: research.ketamine_infusions\n"
                      "  columns: {vas_pre: pain_score_before}\n")
    assert_same_results(run_analysis(dataset).results, run_analysis(database, config).results)


def test_absent_table_and_required_column(tmp_path):
    import duckdb

    database = tmp_path / "partial.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE TABLE patients (patient_id VARCHAR)")
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(database)
    assert [str(p) for p in caught.value.problems] == [
        f"infusions: cannot be read from {database}: no table infusions (TableNotFound)",
    ]
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE TABLE infusions (infusion_id VARCHAR, patient_id VARCHAR)")
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(database)
    absent = {(p.file, p.column) for p in caught.value.problems if p.message == "required column is absent"}
    assert absent == {("patients", "diagnosis"), ("infusions", "infusion_date"), ("infusions", "ketamine_dose_mg"),
                      ("infusions", "infusion_duration_min"), ("infusions", "vas_pre"), ("infusions", "vas_post")}


@pytest.mark.slow
def test_analyze_command_on_a_duckdb_file(tmp_path):
    database = csv_into_duckdb(DEMO, tmp_path / "study.duckdb")
    (tmp_path / "study.yml").write_bytes((DEMO / "study.yml").read_bytes())
    out_file, out_database = tmp_path / "from-files", tmp_path / "from-duckdb"
    for dataset, out in ((DEMO, out_file), (database, out_database)):
        completed = subprocess.run([sys.executable, "-m", "ketareport", "analyze", str(dataset), "--out", str(out)],
                                   capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr
    assert "analysing in DuckDB" in completed.stderr
    with (out_file / "estimates.csv").open() as left, (out_database / "estimates.csv").open() as right:
        for expected, actual in zip(csv.DictReader(left), csv.DictReader(right), strict=True):
            for column, value in expected.items():
                if value and column not in ("analysis", "term"):
                    assert math.isclose(float(actual[column]), float(value), rel_tol=1e-9), (column, value, actual[column])
                else:
                    assert actual[column] == value


@pytest.mark.slow
def test_the_file_path_imports_no_engine(tmp_path):
    code = ("import sys; from ketareport.pipeline import run_analysis; run_analysis(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ibis', 'duckdb', 'pyspark', 'psycopg')))")
    completed = subprocess.run([sys.executable, "-c", code, str(DEMO)], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_a_diagnosis_resembling_the_index_is_warned_about_in_the_engine_too(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV.replace("P3,Back Pain", "P3,CRPS type I"))
    database = csv_into_duckdb(dataset, tmp_path / "study.duckdb")
    said: list[str] = []
    run_analysis(database, progress=said.append)
    assert ("warning: 1 patient has the diagnosis 'CRPS type I', which is in the comparison group: "
            "the index group (CRPS) is the diagnosis 'crps' only") in "\n".join(said)


def test_a_drug_no_infusion_records_has_no_table_2_row_in_the_engine_either(tmp_path):
    header, *rows = INFUSIONS_CSV.splitlines()
    keep = [position for position, name in enumerate(header.split(",")) if name != "ondansetron"]
    table = "\n".join(",".join(line.split(",")[p] for p in keep) for line in [header, *rows]) + "\n"
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, table)
    expected = run_analysis(dataset).results
    actual = run_analysis(csv_into_duckdb(dataset, tmp_path / "study.duckdb")).results
    assert_same_results(expected, actual)
    assert [row.label for row in actual.infusion_characteristics.rows if row.section == "Premedication"] == ["Midazolam"]


def test_table_1_counts_patients_with_no_age_in_the_engine_as_on_the_file_path(tmp_path):
    """Table 1's "Not recorded" row under a summary (an age missing), computed by the engine, equals the file path's."""
    dataset = write_csv_dataset(tmp_path / "data", with_cell(with_cell(PATIENTS_CSV, 2, "age_years", ""), 4, "age_years", ""))
    database = csv_into_duckdb(dataset, tmp_path / "study.duckdb")
    expected, actual = run_analysis(dataset).results, run_analysis(database).results
    assert_same_results(expected, actual)
    rows = [(row.section, row.label) for row in actual.patient_characteristics.rows]
    missing = rows.index(("Age, years", "Not recorded"))
    assert rows[missing - 1] == ("Age, years", "Mean (SD)")
    assert actual.patient_characteristics.rows[missing].cells["all"].n == 2


def check_output(*arguments) -> tuple[int, str, str]:
    """``ketareport check`` in-process: its exit status, stdout, and stderr."""
    from click.testing import CliRunner

    from ketareport import cli

    result = CliRunner().invoke(cli.main, ["check", *map(str, arguments)])
    return result.exit_code, result.stdout, result.stderr


def test_check_of_a_duckdb_file_prints_the_lines_of_its_csv_form(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV.replace("P3,Back Pain", "P3,CRPS type I"))
    database = csv_into_duckdb(dataset, tmp_path / "study.duckdb", typed=True)
    from_files, from_duckdb = check_output(dataset), check_output(database)
    assert from_files[0] == from_duckdb[0] == 0, from_duckdb
    assert from_duckdb[1] == from_files[1]
    assert "warning: 1 patient has the diagnosis 'CRPS type I'" in from_duckdb[1]
    assert "analysing in DuckDB" in from_duckdb[2]
    assert "fetching" not in from_duckdb[2]  # check writes no results.rds: no row-level frames are fetched
    assert check_output(f"duckdb://{database}")[1] == from_files[1]
    assert check_output(database, "--engine", "duckdb")[1] == from_files[1]


def test_check_of_a_duckdb_file_lists_the_csv_problems_and_writes_nothing(tmp_path):
    dataset = bad_dataset(tmp_path / "bad")
    database = csv_into_duckdb(dataset, tmp_path / "bad.duckdb")
    before = sorted(tmp_path.rglob("*"))
    status, _, errors = check_output(database)
    assert status == 2 and "infusions infusion_id 'I1', column vas_pre: 11 is outside 0 to 10" in errors, errors
    assert "Nothing was written." in errors and sorted(tmp_path.rglob("*")) == before


def test_a_folder_given_as_a_duckdb_file_is_said_to_be_a_folder(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    status, _, errors = check_output(dataset, "--engine", "duckdb")
    assert status == 2 and f"{dataset}: is a folder, not a DuckDB database file: --engine duckdb reads a .duckdb file" in errors


def test_a_duckdb_file_locked_by_another_process_is_an_error_to_retry_not_a_data_problem(tmp_path):
    database = csv_into_duckdb(write_csv_dataset(tmp_path / "data"), tmp_path / "study.duckdb")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()",
                               str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        status, _, errors = check_output(database)
    finally:
        holder.communicate("")
    assert status == 1, errors
    assert f"ketareport: {database} is in use: another process (PID {holder.pid}:" in errors
    assert "run again once it is closed" in errors and "problem" not in errors
    assert check_output(database)[0] == 0  # released: the same command now works


def test_sql_types_of_the_data_dictionary_s_database_section_equal_the_file_path(tmp_path):
    """docs/data-dictionary.md: DECIMAL numbers, TIMESTAMP dates (time of day ignored), 0/1 INTEGER yes/no, NaN missing."""
    import duckdb

    dataset = write_csv_dataset(tmp_path / "data")
    database = csv_into_duckdb(dataset, tmp_path / "study.duckdb", typed=True)
    connection = duckdb.connect(str(database))
    try:
        for statement in (
            "ALTER TABLE infusions ALTER infusion_date TYPE TIMESTAMP USING CAST(infusion_date AS TIMESTAMP) + INTERVAL 8 HOUR",
            "ALTER TABLE infusions ALTER ketamine_dose_mg TYPE DECIMAL(10, 2)",
            "ALTER TABLE infusions ALTER midazolam TYPE INTEGER "
            "USING CASE WHEN lower(CAST(midazolam AS VARCHAR)) IN ('true', 'yes', '1') THEN 1 ELSE 0 END",
            "ALTER TABLE infusions ALTER vas_pre TYPE DOUBLE "
            "USING CASE WHEN CAST(vas_pre AS VARCHAR) = 'NA' THEN 'NaN'::DOUBLE ELSE CAST(vas_pre AS DOUBLE) END",
        ):
            connection.execute(statement)
        types = dict(connection.execute("SELECT column_name, data_type FROM information_schema.columns "
                                        "WHERE table_name = 'infusions'").fetchall())
        assert connection.execute("SELECT count(*) FROM infusions WHERE isnan(vas_pre)").fetchone()[0] == 1
    finally:
        connection.close()
    assert types["ketamine_dose_mg"].startswith("DECIMAL") and types["infusion_date"] == "TIMESTAMP"
    assert types["midazolam"] == "INTEGER"
    assert_same_results(run_analysis(dataset).results, run_analysis(database).results)


def test_a_timestamp_outside_the_study_period_is_printed_as_its_date(tmp_path):
    import duckdb

    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, with_cell(INFUSIONS_CSV, 3, "infusion_date", "2031-05-01"))
    database = csv_into_duckdb(dataset, tmp_path / "study.duckdb", typed=True)
    with duckdb.connect(str(database)) as connection:
        connection.execute("ALTER TABLE infusions ALTER infusion_date TYPE TIMESTAMP")
    config = tmp_path / "study.yml"
    config.write_text("study: {period: {start: 2005-01-01, end: 2020-12-31}}\n")
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(database, config)
    assert [str(problem) for problem in caught.value.problems] == [
        "infusions infusion_id 'I3', column infusion_date: 2031-05-01 is after 2020-12-31, the end of the study period "
        "(study.yml study.period)"]
    assert caught.value.problems[0].value == "2031-05-01"


def test_an_absent_mapped_column_is_named_as_the_source_would_have_it(tmp_path):
    database = csv_into_duckdb(write_csv_dataset(tmp_path / "data"), tmp_path / "study.duckdb")
    config = tmp_path / "study.yml"
    config.write_text("data: {columns: {vas_pre: pain_pre}}\n")
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(database, config)
    assert [str(problem) for problem in caught.value.problems] == [
        "infusions, column pain_pre: required column is absent (study.yml data.columns reads vas_pre from it)"]


def test_table_2_counts_infusions_with_no_premedication_record_in_the_engine_as_on_the_file_path(tmp_path):
    """Ondansetron not recorded for two analysed infusions: 'Ondansetron' counts the others' yes, and a row of its
    own says how many have no record (else the rest of its percentage would read as 'not given')."""
    infusions = with_cell(with_cell(INFUSIONS_CSV, 1, "ondansetron", ""), 6, "ondansetron", "")
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, infusions)
    expected = run_analysis(dataset).results
    actual = run_analysis(csv_into_duckdb(dataset, tmp_path / "study.duckdb")).results
    assert_same_results(expected, actual)
    rows = {row.label: row for row in actual.infusion_characteristics.rows if row.section == "Premedication"}
    assert list(rows) == ["Midazolam", "Ondansetron", "Ondansetron: not recorded"]
    analysed = actual.cohort.n_infusions_analyzed
    assert rows["Ondansetron: not recorded"].cells["all"].n == 2
    assert rows["Ondansetron"].cells["all"].n == analysed - 2
    # I1 is a CRPS patient's (P1), I6 a comparison patient's (P4, headache).
    assert rows["Ondansetron: not recorded"].cells["index"].n == 1
    assert rows["Ondansetron: not recorded"].cells["comparison"].n == 1


def test_white_space_at_the_ends_of_ids_and_side_effects_is_trimmed_in_the_engine_as_on_the_file_path(tmp_path):
    """Patient ids and side effects are first read without testing each value's ends (typed.UNTRIMMED): the grouped
    id ' P1 ' sends the engine back over the rows with every id trimmed, and the side-effect lists are trimmed once
    per spelling (' NA ' and blanks are no entry). Else ' P1 ' would be an unknown patient."""
    infusions = with_cell(INFUSIONS_CSV, 2, "patient_id", '" P1 "')
    infusions = with_cell(infusions, 1, "side_effects", '" NA "')
    infusions = with_cell(infusions, 5, "side_effects", '" dizziness ; Nausea\t"')
    infusions = with_cell(infusions, 9, "side_effects", '"  "')
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, infusions)
    expected = run_analysis(dataset).results
    for typed in (False, True):
        actual = run_analysis(csv_into_duckdb(dataset, tmp_path / f"study-{typed}.duckdb", typed=typed)).results
        assert_same_results(expected, actual)
    effects = {row.label for row in actual.infusion_characteristics.rows if row.section == "Side effects"}
    assert effects == {"Any", "Dizziness", "Nausea"}


def test_a_patient_id_of_white_space_only_is_missing_in_the_engine_as_on_the_file_path(tmp_path):
    infusions = with_cell(INFUSIONS_CSV, 2, "patient_id", '"  "')
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV, infusions)
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(csv_into_duckdb(dataset, tmp_path / "study.duckdb"))
    assert problem_set(caught.value.problems) == problem_set(file_problems(dataset))
    assert any("patient_id" in str(problem) and "empty" in str(problem) for problem in caught.value.problems)


def test_profiles_and_distributions_read_apart_when_too_many_rows_come_back(tmp_path, monkeypatch):
    """One reading gives the infusions' profiles and Table 2's value counts together; when more rows would come
    back than the limit allows, each has a reading of its own: the same results either way."""
    from ketareport.sources import aggregate, infusion_profile

    dataset = write_csv_dataset(tmp_path / "data")
    database = csv_into_duckdb(dataset, tmp_path / "study.duckdb")
    expected = run_analysis(dataset).results
    assert_same_results(expected, run_analysis(database).results)
    monkeypatch.setattr(infusion_profile, "DISTINCT_VALUES_FETCHED", 3)
    apart = []
    original = infusion_profile.infusion_profiles
    monkeypatch.setattr(aggregate, "infusion_profiles", lambda infusions: apart.append(1) or original(infusions))
    assert_same_results(expected, run_analysis(database).results)
    assert apart == [1]
