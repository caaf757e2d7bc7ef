"""100,000 generated patients (about 750,000 infusions) through files, DuckDB, PostgreSQL and Spark: the same
results to 1e-9 (estimates, Table 1 and 2 cells, cohort counts). Minutes: slow, run by CI's whole suite."""

from __future__ import annotations

import pytest

from ketareport.pipeline import run_analysis

from ..engines import assert_same_results, csv_into_duckdb

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("duckdb_engine", "spark_engine")]

PATIENTS = 100_000


@pytest.fixture(scope="module")
def generated_100k(tmp_path_factory):
    from ketareport import demo

    folder = tmp_path_factory.mktemp("generated-100k")
    demo.write_demo(folder, patients=PATIENTS, seed=100_000, rdata=False)
    return folder


def test_100000_patients_agree_in_every_engine(generated_100k, postgres, tmp_path):
    expected = run_analysis(generated_100k).results
    assert expected.cohort.n_patients == PATIENTS
    engines = {
        "duckdb": lambda: run_analysis(csv_into_duckdb(generated_100k, tmp_path / "study.duckdb")),
        "postgres": lambda: run_analysis(postgres.load_csv(generated_100k)),
        "spark": lambda: run_analysis(generated_100k, engine="spark"),
    }
    for engine, analysed in engines.items():
        assert_same_results(expected, analysed().results, path=f"{engine}: results")
