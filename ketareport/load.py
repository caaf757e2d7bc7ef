"""Load a study dataset from any container of ``docs/data-dictionary.md`` (Containers).

Loading only reads: every table comes back as text-or-native cells with
lower-cased column names, and every input file's SHA-256 is recorded for the
reproducibility appendix. Checking the values is :mod:`ketareport.validate`'s
job. A container that cannot be read at all raises :class:`DatasetInvalid`
with one problem per unreadable part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import DatasetInvalid, Problem
from .output import sha256_file

TABLES = ("patients", "infusions")
TABLE_FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".xlsx": "Excel", ".rds": "R data (RDS)"}
R_DATA_SUFFIXES = (".rdata", ".rda")


@dataclass(frozen=True)
class InputFile:
    """One file read, for the reproducibility appendix."""

    path: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class RawTable:
    """One table as read: every cell the container's own value, nothing parsed."""

    name: str
    label: str
    """How messages name it: ``infusions.csv``, ``study.xlsx sheet infusions``."""
    frame: pd.DataFrame
    line_kind: str | None
    """``line`` (CSV) or ``sheet row`` (Excel): data row r sits at r + 1; None when rows have no position."""


@dataclass(frozen=True)
class RawDataset:
    patients: RawTable
    infusions: RawTable
    container: str
    """Human description, e.g. ``directory of CSV files``."""
    files: tuple[InputFile, ...]


def _input_file(path: Path) -> InputFile:
    return InputFile(str(path), sha256_file(path), path.stat().st_size)


def load_dataset(path: Path, names: Mapping[str, str] | None = None) -> RawDataset:
    """Read the two tables from a directory, an ``.xlsx`` workbook or an R data file.

    ``names`` maps ``patients`` / ``infusions`` to the names the container
    uses for them (study.yml ``data.patients`` / ``data.infusions``: file
    stems, sheets or data frames); by default they are those words.
    """
    path = Path(path)
    names = {table: (names or {}).get(table, table) for table in TABLES}
    if not path.exists():
        raise DatasetInvalid([Problem(str(path), "does not exist")])
    if path.is_dir():
        return _load_directory(path, names)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _load_workbook(path, names)
    if suffix in R_DATA_SUFFIXES:
        return _load_rdata(path, names)
    raise DatasetInvalid([Problem(
        path.name,
        "is not a dataset container: give a directory holding patients and infusions tables "
        "(.csv, .parquet, .xlsx or .rds), one .xlsx workbook with sheets patients and infusions, "
        "or one .RData/.rda file with data frames patients and infusions",
    )])


def _load_directory(folder: Path, names: dict[str, str]) -> RawDataset:
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for table in TABLES:
        stem = names[table]
        candidates = sorted(
            p for p in folder.iterdir()
            if p.is_file() and p.stem.lower() == stem.lower() and p.suffix.lower() in TABLE_FORMATS
        )
        if not candidates:
            problems.append(Problem(
                str(folder),
                f"holds no {table} table: expected {stem}.csv, {stem}.parquet, {stem}.xlsx or {stem}.rds",
            ))
        elif len(candidates) > 1:
            listed = ", ".join(p.name for p in candidates)
            problems.append(Problem(str(folder), f"holds more than one {table} table ({listed}); keep one"))
        else:
            found[table] = candidates[0]
    if problems:
        raise DatasetInvalid(problems)
    tables = {}
    for table, file in found.items():
        try:
            tables[table] = _read_table_file(table, file)
        except DatasetInvalid as error:
            problems += error.problems
    if problems:
        raise DatasetInvalid(problems)
    formats = sorted({TABLE_FORMATS[found[t].suffix.lower()] for t in TABLES})
    return RawDataset(
        tables["patients"], tables["infusions"],
        container=f"directory of {' and '.join(formats)} files",
        files=tuple(_input_file(found[t]) for t in TABLES),
    )


def _read_table_file(table: str, file: Path) -> RawTable:
    suffix = file.suffix.lower()
    try:
        if suffix == ".csv":
            # Everything as text: validation parses, so "007" or "1e3" are seen as written.
            # utf-8-sig: spreadsheet programs often save "CSV UTF-8" with a byte-order mark.
            frame = _read_csv_in_arrow(file)
            if frame is None:
                frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            return RawTable(table, file.name, _tidy(frame), "line")
        if suffix == ".parquet":
            return RawTable(table, file.name, _tidy(pd.read_parquet(file)), None)
        if suffix == ".xlsx":
            frame = pd.read_excel(file, sheet_name=0, dtype=object, engine="openpyxl")
            return RawTable(table, file.name, _tidy(frame), "sheet row")
        frame = _read_rds(file)
        return RawTable(table, file.name, _tidy(frame), None)
    except DatasetInvalid:
        raise
    except UnicodeDecodeError as error:
        raise DatasetInvalid([Problem(file.name, f"is not UTF-8 text ({error.reason} at byte {error.start})")]) from error
    except Exception as error:  # every reader has its own exception types
        raise DatasetInvalid([Problem(file.name, f"cannot be read as {TABLE_FORMATS[suffix]}: {error}")]) from error


def _read_csv_in_arrow(file: Path) -> pd.DataFrame | None:
    """The CSV as text columns, read by Arrow's multi-threaded reader (about 4 times pandas' speed).

    The same frame as ``pd.read_csv(dtype=str, keep_default_na=False)``;
    None for anything Arrow reads differently or refuses (repeated header
    names, invalid UTF-8, ragged rows), which pandas then reads and, where
    it fails, explains in its own words.
    """
    import csv

    import pyarrow as pa
    from pyarrow import ArrowInvalid
    from pyarrow import csv as arrow_csv

    with file.open(encoding="utf-8-sig", newline="") as handle:
        try:
            header = next(csv.reader(handle), [])
        except (UnicodeDecodeError, csv.Error):
            return None
    if not header or len(set(header)) != len(header):
        return None
    try:
        table = arrow_csv.read_csv(file, convert_options=arrow_csv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False, quoted_strings_can_be_null=False,
        ))
    except (ArrowInvalid, OSError):
        return None
    if table.column_names != header:
        return None
    text = pd.StringDtype("pyarrow", na_value=float("nan"))  # pandas' own text dtype, as read_csv(dtype=str) gives
    return table.to_pandas(types_mapper={pa.string(): text}.get)


def _read_rds(file: Path) -> pd.DataFrame:
    import pyreadr

    result = pyreadr.read_r(str(file))
    frame = next(iter(result.values()), None)
    if not isinstance(frame, pd.DataFrame):
        raise DatasetInvalid([Problem(file.name, "does not hold a data frame")])
    return frame


def _load_workbook(path: Path, names: dict[str, str]) -> RawDataset:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    except Exception as error:
        raise DatasetInvalid([Problem(path.name, f"cannot be read as an Excel workbook: {error}")]) from error
    by_name = {name.strip().lower(): frame for name, frame in sheets.items()}
    missing = [t for t in TABLES if names[t].strip().lower() not in by_name]
    if missing:
        raise DatasetInvalid([
            Problem(path.name, f"has no sheet named {names[table]} (sheets: {', '.join(sheets) or 'none'})")
            for table in missing
        ])
    tables = {
        t: RawTable(t, f"{path.name} sheet {names[t]}", _tidy(by_name[names[t].strip().lower()]), "sheet row")
        for t in TABLES
    }
    return RawDataset(tables["patients"], tables["infusions"], "Excel workbook", (_input_file(path),))


def _load_rdata(path: Path, names: dict[str, str]) -> RawDataset:
    import pyreadr

    try:
        objects = pyreadr.read_r(str(path))
    except Exception as error:
        raise DatasetInvalid([Problem(path.name, f"cannot be read as R data: {error}")]) from error
    missing = [t for t in TABLES if not isinstance(objects.get(names[t]), pd.DataFrame)]
    if missing:
        held = ", ".join(objects) or "nothing readable"
        raise DatasetInvalid([
            Problem(path.name, f"holds no data frame named {names[table]} (it holds: {held})") for table in missing
        ])
    tables = {t: RawTable(t, f"{path.name} object {names[t]}", _tidy(objects[names[t]]), None) for t in TABLES}
    return RawDataset(tables["patients"], tables["infusions"], "R data file", (_input_file(path),))


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Lower-case, stripped column names (the contract matches them case-insensitively)."""
    frame = frame.copy()
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    return frame.reset_index(drop=True)
