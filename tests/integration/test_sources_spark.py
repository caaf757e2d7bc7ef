"""Datasets read by Spark in local mode: the same results and problems as the file path.

One Spark session serves the whole test process (ketareport's own, made on
first use): its start-up takes most of the time here.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ketareport.errors import DatasetInvalid
from ketareport.pipeline import run_analysis

from ..conftest import DEMO
from ..engines import assert_same_results, problem_set
from .test_sources_duckdb import bad_dataset, file_problems

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("spark_engine")]


def test_demo_csv_files_in_spark_equal_the_file_path():
    expected = run_analysis(DEMO, DEMO / "study.yml").results
    assert_same_results(expected, run_analysis(DEMO, DEMO / "study.yml", engine="spark").results)


def test_3000_patients_as_parquet_in_spark_equal_the_file_path(generated_3000, tmp_path):
    for table in ("patients", "infusions"):
        frame = pd.read_csv(generated_3000 / f"{table}.csv", dtype=str, keep_default_na=False)
        frame.to_parquet(tmp_path / f"{table}.parquet", index=False)
    assert_same_results(run_analysis(generated_3000).results, run_analysis(tmp_path, engine="spark").results)


def test_bad_data_in_spark_gives_the_csv_problems(tmp_path):
    dataset = bad_dataset(tmp_path / "bad")
    with pytest.raises(DatasetInvalid) as caught:
        run_analysis(dataset, engine="spark")
    assert problem_set(caught.value.problems) == problem_set(file_problems(dataset))
