"""Every container of docs/data-dictionary.md gives the same analysis."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import rdata

from ketareport.errors import DatasetInvalid
from ketareport.load import load_dataset
from ketareport.pipeline import run_analysis

from ..datasets import typed_tables, write_csv_dataset


def estimates_of(path):
    return [vars(row) for row in run_analysis(path).results.estimates()]


@pytest.fixture
def csv_dataset(tmp_path):
    return write_csv_dataset(tmp_path / "csv")


@pytest.fixture
def reference(csv_dataset):
    return estimates_of(csv_dataset)


def test_csv_directory(csv_dataset):
    raw = load_dataset(csv_dataset)
    assert raw.container == "directory of CSV files"
    assert [f.path.rsplit("/", 1)[-1] for f in raw.files] == ["patients.csv", "infusions.csv"]
    assert all(len(f.sha256) == 64 for f in raw.files)


@pytest.mark.slow
def test_parquet_directory(tmp_path, reference):
    patients, infusions = typed_tables()
    folder = tmp_path / "parquet"
    folder.mkdir()
    patients.to_parquet(folder / "patients.parquet")
    infusions.to_parquet(folder / "infusions.parquet")
    assert estimates_of(folder) == reference


@pytest.mark.slow
def test_xlsx_directory(tmp_path, reference):
    patients, infusions = typed_tables()
    folder = tmp_path / "xlsx"
    folder.mkdir()
    patients.to_excel(folder / "patients.xlsx", index=False)
    infusions.to_excel(folder / "infusions.xlsx", index=False)
    assert estimates_of(folder) == reference


@pytest.mark.slow
def test_xlsx_workbook(tmp_path, reference):
    patients, infusions = typed_tables()
    workbook = tmp_path / "study.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        patients.to_excel(writer, sheet_name="Patients", index=False)
        infusions.to_excel(writer, sheet_name="infusions", index=False)
    assert estimates_of(workbook) == reference


def _r_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable dtypes, so that rdata writes R NA; dates as ISO text; diagnosis as an R factor."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = pd.array(frame[column].where(frame[column].notna(), None).tolist(), dtype="string[python]")
        elif pd.api.types.is_float_dtype(frame[column]):
            frame[column] = pd.array(frame[column].tolist(), dtype="Float64")
    if "diagnosis" in frame:
        frame["diagnosis"] = pd.Categorical(frame["diagnosis"].astype(str))
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


@pytest.mark.slow
def test_rdata_file(tmp_path, reference):
    patients, infusions = typed_tables()
    path = tmp_path / "study.RData"
    rdata.write_rda(path, {"patients": _r_frame(patients), "infusions": _r_frame(infusions)})
    assert estimates_of(path) == reference


@pytest.mark.slow
def test_rds_directory(tmp_path, reference):
    patients, infusions = typed_tables()
    folder = tmp_path / "rds"
    folder.mkdir()
    rdata.write_rds(folder / "patients.rds", _r_frame(patients))
    rdata.write_rds(folder / "infusions.rds", _r_frame(infusions))
    assert estimates_of(folder) == reference


@pytest.mark.r
def test_rdata_written_by_r(tmp_path, reference, csv_dataset, run_r):
    """Factors become labels, R NA is missing, R logicals are booleans, R Dates are dates."""
    code = r"""
    args <- commandArgs(TRUE)
    patients <- read.csv(file.path(args[1], "patients.csv"), na.strings = c("", "NA"), stringsAsFactors = TRUE)
    patients$relief_ongoing <- patients$relief_ongoing %in% c("TRUE", "true", "yes")
    infusions <- read.csv(file.path(args[1], "infusions.csv"), na.strings = c("", "NA"))
    infusions$infusion_date <- as.Date(infusions$infusion_date)
    infusions$midazolam <- TRUE; infusions$ondansetron <- TRUE
    save(patients, infusions, file = file.path(args[2], "study.rda"))
    dir.create(file.path(args[2], "rds"))
    saveRDS(patients, file.path(args[2], "rds", "patients.rds"))
    saveRDS(infusions, file.path(args[2], "rds", "infusions.rds"))
    """
    run_r(code, str(csv_dataset), str(tmp_path))
    assert estimates_of(tmp_path / "study.rda") == reference
    assert estimates_of(tmp_path / "rds") == reference


def test_column_names_are_case_insensitive_and_extra_columns_ignored(tmp_path, reference, csv_dataset):
    folder = tmp_path / "upper"
    shutil.copytree(csv_dataset, folder)
    infusions = (folder / "infusions.csv").read_text().splitlines()
    infusions[0] = infusions[0].upper() + ",NURSE_NOTE"
    infusions[1:] = [line + ",checked" for line in infusions[1:]]
    (folder / "infusions.csv").write_text("\n".join(infusions) + "\n")
    assert estimates_of(folder) == reference


@pytest.mark.parametrize("setup, message", [
    (lambda d: (d / "patients.csv").unlink(), "holds no patients table"),
    (lambda d: (d / "patients.parquet").write_bytes(b"x"), "more than one patients table"),
    (lambda d: (d / "infusions.csv").write_bytes(b"\xff\xfe bad"), "is not UTF-8"),
])
def test_unreadable_directories(csv_dataset, setup, message):
    setup(csv_dataset)
    with pytest.raises(DatasetInvalid) as error:
        load_dataset(csv_dataset)
    assert message in error.value.report()


def test_workbook_without_sheets(tmp_path):
    workbook = tmp_path / "study.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(workbook, sheet_name="data", index=False)
    with pytest.raises(DatasetInvalid) as error:
        load_dataset(workbook)
    report = error.value.report()
    assert "has no sheet named patients" in report and "has no sheet named infusions" in report


def test_rdata_without_frames(tmp_path):
    path = tmp_path / "study.RData"
    rdata.write_rda(path, {"something": pd.DataFrame({"a": pd.array([1.0], dtype="Float64")}, index=pd.RangeIndex(1, 2))})
    with pytest.raises(DatasetInvalid) as error:
        load_dataset(path)
    assert "holds no data frame named patients" in error.value.report()


def test_missing_path_and_unknown_file(tmp_path):
    with pytest.raises(DatasetInvalid, match="1 problem"):
        load_dataset(tmp_path / "nowhere")
    other = tmp_path / "data.json"
    other.write_text(json.dumps({}))
    with pytest.raises(DatasetInvalid) as error:
        load_dataset(other)
    assert "is not a dataset container" in error.value.report()


def test_csv_saved_with_a_byte_order_mark(tmp_path, reference, csv_dataset):
    folder = tmp_path / "bom"
    shutil.copytree(csv_dataset, folder)
    for name in ("patients.csv", "infusions.csv"):
        (folder / name).write_bytes(b"\xef\xbb\xbf" + (folder / name).read_bytes())
    assert estimates_of(folder) == reference
