"""Datasets in a real PostgreSQL server: the same results and the same problems as their CSV form."""

from __future__ import annotations

import pytest

from ketareport.errors import DatasetInvalid
from ketareport.pipeline import run_analysis

from ..conftest import DEMO
from ..datasets import write_csv_dataset
from ..engines import assert_same_results, problem_set
from .test_sources_duckdb import bad_dataset, file_problems

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("postgres")]  # starts a PostgreSQL server, as test_sources_spark starts Spark


@pytest.mark.slow
def test_demo_in_postgresql_equals_the_file_path(postgres):
    url = postgres.load_csv(DEMO)
    assert_same_results(run_analysis(DEMO, DEMO / "study.yml").results, run_analysis(url, DEMO / "study.yml").results)


@pytest.mark.slow
def test_3000_patients_in_postgresql_equal_the_file_path(postgres, generated_3000):
    url = postgres.load_csv(generated_3000)
    assert_same_results(run_analysis(generated_3000).results, run_analysis(url).results)


def test_bad_data_in_postgresql_gives_the_csv_problems(postgres, tmp_path):
    dataset = bad_dataset(tmp_path / "bad")
    url = postgres.load_csv(dataset)
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(url)
    assert problem_set(caught.value.problems) == problem_set(file_problems(dataset))
    assert "infusions infusion_id 'I2', column infusion_date: '2005-02-30' is not a date YYYY-MM-DD" in map(str, caught.value.problems)


def test_schema_qualified_tables_in_postgresql(postgres, tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    url = postgres.load_csv(dataset, schema="research", names={"patients": "ketamine_patients", "infusions": "ketamine_infusions"})
    config = tmp_path / "study.yml"
    config.write_text("data:\n  patients: research.ketamine_patients\n  infusions: research.ketamine_infusions\n")
    assert_same_results(run_analysis(dataset).results, run_analysis(url, config).results)


def test_unreachable_server_is_named_without_its_password(tmp_path):
    url = f"postgresql://analyst:secret@/research?host={tmp_path}"
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(url)
    message = str(caught.value.problems[0])
    assert message.startswith(f"postgresql://analyst:***@/research?host={tmp_path}: cannot be opened with postgres")
    assert "secret" not in message


def test_the_data_digest_is_of_the_rows_whatever_their_order(postgres, tmp_path):
    """A server's tables have no file: the footer's digest is of their rows, the same in any row order, and
    another for a changed cell."""
    from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, with_cell

    header, *rows = INFUSIONS_CSV.splitlines()
    digests = {}
    for name, infusions in (("as written", INFUSIONS_CSV), ("reversed", "\n".join([header, *reversed(rows)]) + "\n"),
                            ("one cell changed", with_cell(INFUSIONS_CSV, 3, "vas_post", "1.5"))):
        url = postgres.load_csv(write_csv_dataset(tmp_path / name, PATIENTS_CSV, infusions))
        digests[name] = run_analysis(url).provenance.dataset.digest
    assert len(digests["as written"]) == 64 and int(digests["as written"], 16)
    assert digests["reversed"] == digests["as written"]
    assert digests["one cell changed"] != digests["as written"]


def test_check_of_a_postgresql_url_prints_the_lines_of_its_csv_form(postgres, tmp_path):
    from .test_sources_duckdb import check_output

    dataset = write_csv_dataset(tmp_path / "data")
    url = postgres.load_csv(dataset)
    from_files, from_server = check_output(dataset), check_output(url)
    assert from_files[0] == from_server[0] == 0, from_server
    assert from_server[1] == from_files[1] and "patients: 6 (CRPS 3, other diagnoses 3)" in from_server[1]
