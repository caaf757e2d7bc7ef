"""Check a loaded dataset against the data dictionary and type its columns.

The columns and their rules are declared in :mod:`ketareport.contract` and
stated for users in ``docs/data-dictionary.md``.

Every rule is applied to whole columns at once (no loop over rows), and
every broken rule in both tables is collected before anything is raised, so
one run lists every problem — each naming file, row, column and value.

A value that is missing from an *analysis* column is not a problem: the
infusion is excluded later, by :mod:`ketareport.cohort`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from .contract import (
    ANALYSIS_COLUMNS, FALSE_TEXT, INFUSION_COLUMNS, MISSING_TEXT, PATIENT_COLUMNS, REQUIRED_INFUSION_COLUMNS,
    REQUIRED_PATIENT_COLUMNS, TRUE_TEXT, normalise_diagnoses,
)
from .errors import DatasetInvalid, Problem
from .load import RawDataset, RawTable

if TYPE_CHECKING:
    import pyarrow as pa

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?: 00:00:00)?$")


@dataclass(frozen=True)
class DateBound:
    """A limit on the infusion dates and where it comes from, e.g. the study period's end in study.yml."""

    date: dt.date
    source: str


@dataclass(frozen=True)
class InfusionDates:
    """The dates an infusion may have: within the review period, and not after the data lock or today.

    An infusion outside them is an error, not an exclusion: the report states
    the period the infusions were given in, which would then be false.
    """

    earliest: DateBound | None = None
    latest: tuple[DateBound, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """A valid dataset with typed columns; ``row`` keeps each record's data row number.

    patient_id and infusion_id are text of pandas' ``str`` dtype (Arrow-backed).

    patients: patient_id, diagnosis (normalised: the grouping key),
    diagnosis_as_written (the label as the data spells it), sex (F/M/None),
    age_years, previous_interventions (``;``-joined lower-case labels), relief_duration_days
    (NaN = not recorded), relief_ongoing (bool).

    infusions: infusion_id, patient_id, infusion_date (datetime64), the four
    analysis columns (NaN = missing), midazolam and ondansetron (nullable
    boolean), side_effects (``;``-joined lower-case labels; "" and ``none`` = none).
    """

    patients: pd.DataFrame
    infusions: pd.DataFrame


class _Column:
    """One column of a raw table as text, with its missing-cell mask."""

    def __init__(self, table: RawTable, name: str):
        self.table = table
        self.name = name
        self.present = name in table.frame.columns
        if self.present:
            raw = table.frame[name]
            if isinstance(raw, pd.DataFrame):  # two headers that differ only in case
                raw = raw.iloc[:, 0]
            self.raw = raw
            self.text = raw.astype("string").str.strip()
            # Or-ed as arrays: three Series operations (index checks and all) per column cost more than the masks.
            self.missing = raw.isna().to_numpy() | self.text.isna().to_numpy() | self.text.isin(MISSING_TEXT).to_numpy()
        else:
            length = len(table.frame)
            self.raw = pd.Series([None] * length, dtype=object)
            self.text = pd.Series([pd.NA] * length, dtype="string")
            self.missing = np.ones(length, dtype=bool)


NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
"""A decimal number as a person or a program writes it; ``inf``, ``nan``, ``1,5`` and ``1_000`` are not."""


def _parse_numbers(text: pd.Series) -> pd.Series:
    """Text to float64 in Arrow: a vectorised regex check, then a correctly rounded cast; NaN where not a number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = pa.array(text.astype("string").array, type=pa.large_string())  # Arrow-backed already: no copy per cell
    numeric = pc.fill_null(pc.match_substring_regex(cells, NUMBER), False)
    parsed = pc.cast(pc.if_else(numeric, cells, pa.scalar(None, pa.string())), pa.float64())
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=text.index, dtype=float)


class _Checker:
    """Collects problems for one table."""

    def __init__(self, table: RawTable, problems: list[Problem]):
        self.table = table
        self.problems = problems

    def column(self, name: str, *, required: bool) -> _Column:
        column = _Column(self.table, name)
        if required and not column.present:
            self.problems.append(Problem(self.table.label, "required column is absent", column=name))
        return column

    def flag(self, column: _Column, bad: np.ndarray, describe: Callable[[str], str]) -> None:
        """Record one problem for each row where ``bad`` holds."""
        for index in np.flatnonzero(bad):
            value = column.text.iat[index]
            shown = "" if value is pd.NA else str(value)
            row = int(index) + 1
            line = row + 1 if self.table.line_kind else None
            self.problems.append(Problem(
                self.table.label, describe(shown), row=row, line=line, column=column.name,
                value=shown, line_kind=self.table.line_kind or "line",
            ))

    def text(self, column: _Column, *, required: bool) -> pd.Series:
        if required and column.present:
            self.flag(column, column.missing, lambda v: "is empty but required")
        return column.text.where(~column.missing, None).astype(object)

    def identifier(self, column: _Column) -> pd.Series:
        """A required key (patient_id, infusion_id) as Arrow-backed text, pandas ``str``.

        Not Python objects as :meth:`text` gives: a valid dataset has no
        missing key, and keys kept in Arrow are matched, looked up and
        written without a Python string per row.
        """
        if column.present:
            self.flag(column, column.missing, lambda v: "is empty but required")
        return column.text.where(~column.missing).astype(str)

    def number(self, column: _Column, low: float | None, high: float | None, *, low_open: bool = False) -> pd.Series:
        """Numbers; missing -> NaN. Flags the unparsable and the out-of-range."""
        if pd.api.types.is_bool_dtype(column.raw.dtype):
            values = pd.Series(np.nan, index=column.raw.index)
            unparsable = ~column.missing
        elif pd.api.types.is_numeric_dtype(column.raw.dtype):  # Parquet, RDS, Excel: already numbers
            values = column.raw.astype(float).where(~column.missing)
            unparsable = ~column.missing & ~np.isfinite(values.to_numpy())
        else:
            values = _parse_numbers(column.text)  # missing cells ("", "NA", null) parse to NaN; masked below
            unparsable = ~column.missing & ~np.isfinite(values.to_numpy())
        self.flag(column, unparsable, lambda v: f"{v!r} is not a number")
        numbers = values.to_numpy()
        parsed = ~column.missing & ~unparsable
        with np.errstate(invalid="ignore"):
            too_low = np.zeros(len(numbers), dtype=bool) if low is None else (numbers <= low if low_open else numbers < low)
            too_high = np.zeros(len(numbers), dtype=bool) if high is None else numbers > high
        if low is not None and high is not None:
            self.flag(column, parsed & (too_low | too_high), lambda v: f"{v} is outside {low:g} to {high:g}")
        elif low is not None:
            relation = "greater than" if low_open else "at least"
            self.flag(column, parsed & too_low, lambda v: f"{v} must be {relation} {low:g}")
        return values.where(parsed & ~too_low & ~too_high)

    def boolean(self, column: _Column) -> pd.Series:
        lowered = column.text.str.lower()
        truthy = lowered.isin(TRUE_TEXT).to_numpy(dtype=bool)
        falsy = lowered.isin(FALSE_TEXT).to_numpy(dtype=bool)
        bad = ~column.missing & ~truthy & ~falsy
        self.flag(column, bad, lambda v: f"{v!r} is not a yes/no value (true/false, yes/no, 1/0)")
        return pd.Series(pd.arrays.BooleanArray(truthy, ~truthy & ~falsy))

    def date(self, column: _Column, *, required: bool) -> pd.Series:
        if required and column.present:
            self.flag(column, column.missing, lambda v: "is empty but required (a date YYYY-MM-DD)")
        if pd.api.types.is_datetime64_any_dtype(column.raw.dtype):
            return pd.to_datetime(column.raw).dt.normalize()
        shaped = column.text.str.match(_ISO_DATE).fillna(False).to_numpy(dtype=bool)
        dates = pd.to_datetime(column.text.where(shaped).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        bad = ~column.missing & dates.isna().to_numpy()
        self.flag(column, bad, lambda v: f"{v!r} is not a date YYYY-MM-DD")
        return dates

    def within(self, column: _Column, dates: pd.Series, allowed: InfusionDates) -> None:
        """Flag dates before the earliest or after the tightest latest bound."""
        if allowed.earliest is not None:
            bound = allowed.earliest
            early = (dates < pd.Timestamp(bound.date)).fillna(False).to_numpy(dtype=bool)
            self.flag(column, early, lambda v: f"{v} is before {bound.date.isoformat()}, {bound.source}")
        if allowed.latest:
            bound = min(allowed.latest, key=lambda limit: limit.date)
            late = (dates > pd.Timestamp(bound.date)).fillna(False).to_numpy(dtype=bool)
            self.flag(column, late, lambda v: f"{v} is after {bound.date.isoformat()}, {bound.source}")

    def unique(self, column: _Column, values: pd.Series, what: str) -> None:
        duplicated = _repeats(column.text, column.missing)
        if not duplicated.any():
            return
        first_row = {value: int(index) + 1 for index, value in values[values.notna()].drop_duplicates().items()}
        self.flag(column, duplicated, lambda v: f"duplicate {what} {v!r} (first in row {first_row[v]})")

    def separator(self) -> None:
        """A header read as one column holding ``;`` or a tab: a CSV saved with another separator (a European
        spreadsheet's default). Said first, since every required column then looks absent."""
        names = list(self.table.frame.columns)
        if len(names) == 1 and self.table.label.lower().endswith(".csv"):
            for separator, name in ((";", "semicolons"), ("\t", "tabs")):
                if separator in str(names[0]):
                    self.problems.append(Problem(
                        self.table.label, f"the header is one column, {str(names[0])[:60]!r}: the file is separated by "
                        f"{name}; ketareport reads comma-separated CSV (save it as \"CSV UTF-8 (comma delimited)\", "
                        "with . as the decimal point)",
                    ))
                    return

    def duplicate_headers(self) -> None:
        names = list(self.table.frame.columns)
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.problems.append(Problem(self.table.label, "appears more than once (names are matched ignoring case)", column=name))


def _repeats(text: pd.Series, missing: np.ndarray) -> np.ndarray:
    """True where a value not ``missing`` already appeared in an earlier row (pandas' ``duplicated(keep="first")``).

    The Arrow text dictionary-encoded (chunks combined: a large CSV is read
    in blocks, and the codes must come from one dictionary), then each
    code's first row by one unbuffered minimum: no hashing of Python strings,
    no sort.
    """
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(arrow_text(text))
    rows = np.flatnonzero(~missing)
    codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)[rows]  # nulls are missing rows
    first = np.full(len(encoded.dictionary), len(missing), dtype=np.int64)
    np.minimum.at(first, codes, rows)
    repeated = np.zeros(len(missing), dtype=bool)
    repeated[rows] = first[codes] != rows
    return repeated


def arrow_text(series: pd.Series) -> pa.Array:
    """A text column as one Arrow string array: no copy per cell when it is Arrow-backed already (pandas
    ``str``), chunks combined (a large CSV is read in blocks), None and NaN null."""
    import pyarrow as pa

    array = pa.array(series.array, type=pa.string(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _found_in(values: pd.Series, known: pd.Series) -> np.ndarray:
    """Whether each of ``values`` is one of ``known``, by an Arrow hash set (pandas' ``isin`` lists Python strings)."""
    import pyarrow.compute as pc

    return pc.is_in(arrow_text(values), value_set=arrow_text(known).drop_null()).to_numpy(zero_copy_only=False)


def _label_list(series: pd.Series) -> pd.Series:
    """``A; b`` -> ``a;b``: labels lower-cased and ``;``-joined without spaces ("" = none).

    Kept as text so that counting them stays a vectorised string operation
    (see :func:`ketareport.describe.label_indicators`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    # In Arrow (RE2) rather than pandas, whose regex replace runs Python's re once per row.
    text = pa.array(series.to_numpy(dtype=object), type=pa.string(), from_pandas=True).fill_null("")
    text = pc.replace_substring_regex(pc.utf8_lower(text), r"\s*;\s*", ";")
    text = pc.utf8_trim(pc.utf8_trim_whitespace(text), ";")
    return pd.Series(pd.arrays.ArrowStringArray(text), index=series.index).astype(str)


def validate_dataset(raw: RawDataset, infusion_dates: InfusionDates = InfusionDates()) -> Dataset:
    """Typed, checked tables, or :class:`DatasetInvalid` listing every problem.

    ``infusion_dates`` comes from the configuration (:func:`ketareport.pipeline.infusion_date_limits`).
    """
    problems: list[Problem] = []

    patients_check = _Checker(raw.patients, problems)
    patients_check.separator()
    patients_check.duplicate_headers()
    column = {name: patients_check.column(name, required=name in REQUIRED_PATIENT_COLUMNS) for name in PATIENT_COLUMNS}
    patient_id = patients_check.identifier(column["patient_id"])
    patients_check.unique(column["patient_id"], patient_id, "patient_id")
    diagnosis = patients_check.text(column["diagnosis"], required=True)
    diagnosis_key = normalise_diagnoses(diagnosis)
    patients_check.flag(
        column["diagnosis"], (diagnosis.notna() & diagnosis_key.eq("")).to_numpy(dtype=bool),
        lambda v: f"{v!r} names no diagnosis (only spaces, hyphens or underscores)",
    )
    sex = patients_check.text(column["sex"], required=False)
    patients_check.flag(column["sex"], (sex.notna() & ~sex.isin(["F", "M"])).to_numpy(), lambda v: f"{v!r} must be F, M or blank")
    patients = pd.DataFrame({
        "row": np.arange(1, len(raw.patients.frame) + 1),
        "patient_id": patient_id,
        "diagnosis": diagnosis_key,
        "diagnosis_as_written": diagnosis,
        "sex": sex.where(sex.isin(["F", "M"]), None),
        "age_years": patients_check.number(column["age_years"], 0, 120),
        "previous_interventions": _label_list(patients_check.text(column["previous_interventions"], required=False)),
        "relief_duration_days": patients_check.number(column["relief_duration_days"], 0, None),
        "relief_ongoing": patients_check.boolean(column["relief_ongoing"]).fillna(False).astype(bool),
    })

    infusions_check = _Checker(raw.infusions, problems)
    infusions_check.separator()
    infusions_check.duplicate_headers()
    required = {*REQUIRED_INFUSION_COLUMNS, *ANALYSIS_COLUMNS}
    column = {name: infusions_check.column(name, required=name in required) for name in INFUSION_COLUMNS}
    infusion_id = infusions_check.identifier(column["infusion_id"])
    infusions_check.unique(column["infusion_id"], infusion_id, "infusion_id")
    owner = infusions_check.identifier(column["patient_id"])
    if column["patient_id"].present and "patient_id" in raw.patients.frame.columns:
        unknown = owner.notna().to_numpy(dtype=bool) & ~_found_in(owner, patient_id)
        infusions_check.flag(column["patient_id"], unknown, lambda v: f"{v!r} is not a patient_id in {raw.patients.label}")
    infusion_date = infusions_check.date(column["infusion_date"], required=True)
    infusions_check.within(column["infusion_date"], infusion_date, infusion_dates)
    infusions = pd.DataFrame({
        "row": np.arange(1, len(raw.infusions.frame) + 1),
        "infusion_id": infusion_id,
        "patient_id": owner,
        "infusion_date": infusion_date,
        "ketamine_dose_mg": infusions_check.number(column["ketamine_dose_mg"], 0, None, low_open=True),
        "infusion_duration_min": infusions_check.number(column["infusion_duration_min"], 0, None, low_open=True),
        "vas_pre": infusions_check.number(column["vas_pre"], 0, 10),
        "vas_post": infusions_check.number(column["vas_post"], 0, 10),
        "midazolam": infusions_check.boolean(column["midazolam"]),
        "ondansetron": infusions_check.boolean(column["ondansetron"]),
        "side_effects": _label_list(infusions_check.text(column["side_effects"], required=False)),
    })
    if problems:
        raise DatasetInvalid(problems)
    return Dataset(patients, infusions)
