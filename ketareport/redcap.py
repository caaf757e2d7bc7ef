"""Import a REDCap export: records CSV + data dictionary CSV -> the two contract tables.

REDCap (the tool most chart reviews are captured in) exports a project as
one CSV of records, one row per record and one per instance of a repeating
instrument, beside a *data dictionary* CSV with one row per field
(``Variable / Field Name``, ``Form Name``, ``Field Type``, ``Choices,
Calculations, OR Slider Labels``, ``Text Validation Type OR Show Slider
Number`` ...). This module reads both and writes the contract's
``patients`` and ``infusions`` tables:

* the record id (the dictionary's first field) becomes ``patient_id``;
* the rows of the repeating instrument that holds the infusion fields
  (``redcap_repeat_instrument``, ``redcap_repeat_instance``) become
  infusions; ``infusion_id`` is that instrument's ``infusion_id`` field if
  it has one, else ``<record>-<instance>``;
* coded choices (radio, dropdown: ``1, CRPS | 2, Headache``) become their
  labels; ``yesno`` / ``truefalse`` fields become yes/no, true/false; sex
  labels Female/Male become F/M;
* checkbox fields (``field___1``, ``field___2`` ... holding 1/0 or
  Checked/Unchecked) become the ``;``-joined labels of the checked choices;
* dates follow the field's validation (``date_ymd`` is ISO; ``date_mdy`` and
  ``date_dmy`` also accept ``M/D/Y`` and ``D/M/Y``) and are written ISO.

The imported tables then go through the same validation as any dataset;
every problem, from either step, names the records file, its line, the
REDCap record (and repeat instance) and the REDCap field. Nothing is
written when there is any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import DatasetInvalid, Problem
from .load import RawDataset, RawTable
from .contract import (
    ANALYSIS_COLUMNS, INFUSION_COLUMNS, MISSING_TEXT, PATIENT_COLUMNS, REQUIRED_INFUSION_COLUMNS,
    REQUIRED_PATIENT_COLUMNS,
)
from .validate import validate_dataset

DICTIONARY_FIELD = "Variable / Field Name"
DICTIONARY_FORM = "Form Name"
DICTIONARY_TYPE = "Field Type"
DICTIONARY_CHOICES = "Choices, Calculations, OR Slider Labels"
DICTIONARY_VALIDATION = "Text Validation Type OR Show Slider Number"
DICTIONARY_REQUIRED_COLUMNS = (DICTIONARY_FIELD, DICTIONARY_FORM, DICTIONARY_TYPE)
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
CHECKBOX_SEPARATOR = "___"
CHECKED = ("1", "checked")
UNCHECKED = ("0", "unchecked", "")
CODED_TYPES = ("radio", "dropdown")
SEX_LABELS = {"f": "F", "female": "F", "m": "M", "male": "M"}
# How each date validation reads d/m/y text besides ISO (REDCap's raw export is always ISO).
DATE_ORDERS = {"date_mdy": "%m/%d/%Y", "date_dmy": "%d/%m/%Y", "datetime_mdy": "%m/%d/%Y", "datetime_dmy": "%d/%m/%Y"}
_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
_SLASH_DATE = re.compile(r"^(\d{1,2}[/-]\d{1,2}[/-]\d{4})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
# Contract columns the importer derives itself when the project has no field for them.
DERIVED_COLUMNS = ("patient_id", "infusion_id")


@dataclass(frozen=True)
class RedcapField:
    """One row of the data dictionary."""

    name: str
    form: str
    type: str
    choices: dict[str, str]
    """Code -> label, for radio, dropdown and checkbox fields."""
    validation: str


@dataclass(frozen=True)
class RedcapImport:
    """The two contract tables made from an export, and where each column came from."""

    patients: pd.DataFrame
    infusions: pd.DataFrame
    sources: dict[str, str] = field(default_factory=dict)
    """``table.column`` -> the REDCap field (or the rule) it was made from."""
    infusion_instrument: str | None = None


def parse_choices(text: str) -> dict[str, str]:
    """``1, CRPS | 2, Headache`` -> {"1": "CRPS", "2": "Headache"} (labels may hold commas)."""
    choices = {}
    for item in text.split("|"):
        if not item.strip():
            continue
        code, _, label = item.partition(",")
        choices[code.strip()] = label.strip()
    return choices


def read_dictionary(path: Path) -> dict[str, RedcapField]:
    """The data dictionary, in its own order (the first field is the record id)."""
    frame = _read_csv(path)
    absent = [column for column in DICTIONARY_REQUIRED_COLUMNS if column not in frame.columns]
    if absent:
        raise DatasetInvalid([Problem(
            path.name, f"is not a REDCap data dictionary: column {column!r} is absent", column=column,
        ) for column in absent])
    fields = {}
    for _, row in frame.iterrows():  # one row per field: tens to hundreds, not data
        name = row[DICTIONARY_FIELD].strip()
        if name:
            fields[name] = RedcapField(
                name=name, form=row[DICTIONARY_FORM].strip(), type=row[DICTIONARY_TYPE].strip().lower(),
                choices=parse_choices(row.get(DICTIONARY_CHOICES, "")),
                validation=row.get(DICTIONARY_VALIDATION, "").strip().lower(),
            )
    if not fields:
        raise DatasetInvalid([Problem(path.name, "defines no field")])
    return fields


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise DatasetInvalid([Problem(str(path), "does not exist")]) from error
    except UnicodeDecodeError as error:
        raise DatasetInvalid([Problem(path.name, f"is not UTF-8 text ({error.reason} at byte {error.start})")]) from error
    except Exception as error:  # pandas' parser errors have several types
        raise DatasetInvalid([Problem(path.name, f"cannot be read as CSV: {error}")]) from error


class _Importer:
    """Turns the records frame into the contract tables, collecting problems with their REDCap place."""

    def __init__(self, records: pd.DataFrame, label: str, fields: dict[str, RedcapField], field_map: dict[str, str]):
        self.records = records
        self.label = label
        self.fields = fields
        self.field_map = field_map
        self.record_id = next(iter(fields))
        self.problems: list[Problem] = []
        self.sources: dict[str, str] = {}

    def field_for(self, column: str) -> RedcapField | None:
        return self.fields.get(self.field_map.get(column, column))

    def place(self, frame: pd.DataFrame, position: int) -> tuple[int, str]:
        """(line in the records file, ``record R`` or ``record R, <instrument> instance N``) of a row."""
        row = frame.iloc[position]
        where = f"record {row[self.record_id]}"
        if row.get(REPEAT_INSTANCE, ""):
            where += f", {row[REPEAT_INSTRUMENT]} instance {row[REPEAT_INSTANCE]}"
        return int(row["_line"]), where

    def flag(self, frame: pd.DataFrame, position: int, column: str, value: str, message: str) -> None:
        line, where = self.place(frame, position)
        self.problems.append(Problem(
            self.label, f"{where}: {message}", row=line - 1, line=line, column=column, value=value,
        ))

    def convert(self, frame: pd.DataFrame, column: str) -> pd.Series:
        """The contract column ``column`` made from its REDCap field, for the rows of ``frame``."""
        redcap = self.field_for(column)
        if redcap is None:
            return pd.Series([""] * len(frame), index=frame.index, dtype=object)
        self.sources[column] = f"{redcap.name} ({redcap.type}{', ' + redcap.validation if redcap.validation else ''})"
        if redcap.type == "checkbox":
            return self._checkbox(frame, redcap)
        if redcap.name not in frame.columns:
            self.problems.append(Problem(self.label, f"has no column for the REDCap field {redcap.name}", column=redcap.name))
            return pd.Series([""] * len(frame), index=frame.index, dtype=object)
        values = frame[redcap.name].str.strip()
        if redcap.type in CODED_TYPES:
            values = self._coded(frame, redcap, values)
        elif redcap.type == "yesno":
            values = self._two_way(frame, redcap, values, ("yes", "no"))
        elif redcap.type == "truefalse":
            values = self._two_way(frame, redcap, values, ("true", "false"))
        elif redcap.validation.startswith(("date_", "datetime_")):
            values = self._dates(frame, redcap, values)
        if column == "sex":
            values = values.map(lambda text: SEX_LABELS.get(text.lower(), text))
        return values

    def _coded(self, frame: pd.DataFrame, redcap: RedcapField, values: pd.Series) -> pd.Series:
        """Codes -> labels; a label exported as such (REDCap's "labels" export) is kept."""
        by_label = {label.lower(): label for label in redcap.choices.values()}
        converted = values.map(lambda text: redcap.choices.get(text, by_label.get(text.lower(), None)))
        blank = values.isin(MISSING_TEXT)
        for position in (~blank & converted.isna()).to_numpy().nonzero()[0]:
            value = values.iat[position]
            self.flag(frame, position, redcap.name, value, f"{value!r} is not a choice of {redcap.name} ({_choice_text(redcap)})")
        return converted.where(~blank & converted.notna(), "")

    def _two_way(self, frame: pd.DataFrame, redcap: RedcapField, values: pd.Series, words: tuple[str, str]) -> pd.Series:
        lowered = values.str.lower()
        truthy, falsy = lowered.isin(("1", words[0])), lowered.isin(("0", words[1]))
        for position in (~truthy & ~falsy & ~values.isin(MISSING_TEXT)).to_numpy().nonzero()[0]:
            value = values.iat[position]
            self.flag(frame, position, redcap.name, value, f"{value!r} is not a {redcap.type} value (1/0, {words[0]}/{words[1]})")
        return pd.Series(words[0], index=values.index).where(truthy, pd.Series(words[1], index=values.index).where(falsy, ""))

    def _dates(self, frame: pd.DataFrame, redcap: RedcapField, values: pd.Series) -> pd.Series:
        iso = values.str.extract(_ISO_DATE, expand=False)
        parsed = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
        order = DATE_ORDERS.get(redcap.validation)
        if order is not None:
            slashed = values.str.extract(_SLASH_DATE, expand=False).str.replace("-", "/")
            parsed = parsed.fillna(pd.to_datetime(slashed, format=order, errors="coerce"))
        bad = ~values.isin(MISSING_TEXT) & parsed.isna()
        accepted = "YYYY-MM-DD" + {"%m/%d/%Y": " or M/D/YYYY", "%d/%m/%Y": " or D/M/YYYY"}.get(order or "", "")
        for position in bad.to_numpy().nonzero()[0]:
            value = values.iat[position]
            self.flag(frame, position, redcap.name, value, f"{value!r} is not a date {accepted} (validation {redcap.validation})")
        return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), "")

    def _checkbox(self, frame: pd.DataFrame, redcap: RedcapField) -> pd.Series:
        """``field___code`` columns -> the checked choices' labels, ``;``-joined, in the dictionary's order."""
        labels = pd.Series([""] * len(frame), index=frame.index, dtype=object)
        for code, label in redcap.choices.items():
            name = f"{redcap.name}{CHECKBOX_SEPARATOR}{_checkbox_code(code)}"
            if name not in frame.columns:
                self.problems.append(Problem(self.label, f"has no column {name} for choice {code!r} ({label}) of the checkbox field {redcap.name}", column=name))
                continue
            state = frame[name].str.strip().str.lower()
            for position in (~state.isin(CHECKED) & ~state.isin(UNCHECKED)).to_numpy().nonzero()[0]:
                value = frame[name].iat[position]
                self.flag(frame, position, name, value, f"{value!r} is not a checkbox state (1/0, Checked/Unchecked)")
            checked = state.isin(CHECKED)
            labels = labels.where(~checked, labels.where(labels == "", labels + ";") + label)
        return labels


def _checkbox_code(code: str) -> str:
    """How REDCap names a checkbox choice's column: lower case, other characters as ``_``, ``-`` as ``_``."""
    return re.sub(r"[^0-9a-z_]", "_", code.lower())


def _choice_text(redcap: RedcapField) -> str:
    return " | ".join(f"{code}, {label}" for code, label in redcap.choices.items())


def import_redcap(
    records_path: Path,
    dictionary_path: Path,
    *,
    field_map: dict[str, str] | None = None,
    infusion_instrument: str | None = None,
) -> RedcapImport:
    """Read a REDCap export and return the checked contract tables.

    ``field_map`` maps a contract column to its REDCap field where the names
    differ (``{"vas_pre": "pain_before"}``). ``infusion_instrument`` names the
    repeating instrument holding the infusions; by default it is the form of
    the field mapped to ``vas_pre``. Raises :class:`DatasetInvalid` listing
    every problem, each naming the records file's line, the REDCap record
    and the field.
    """
    records_path, dictionary_path = Path(records_path), Path(dictionary_path)
    fields = read_dictionary(dictionary_path)
    records = _read_csv(records_path)
    records.columns = [column.strip() for column in records.columns]
    importer = _Importer(records, records_path.name, fields, dict(field_map or {}))
    unknown = {column: name for column, name in (field_map or {}).items() if name not in fields}
    if unknown:
        raise DatasetInvalid([Problem(dictionary_path.name, f"has no field {name} (mapped from the column {column})")
                              for column, name in unknown.items()])
    if importer.record_id not in records.columns:
        raise DatasetInvalid([Problem(records_path.name, f"has no column {importer.record_id} (the record id: the data dictionary's first field)", column=importer.record_id)])
    unmapped = _unmapped_columns(importer, dictionary_path.name)
    if unmapped:
        raise DatasetInvalid(unmapped)
    records["_line"] = range(2, len(records) + 2)

    instrument = infusion_instrument or _infusion_form(importer)
    repeating = records.get(REPEAT_INSTRUMENT, pd.Series("", index=records.index)).str.strip()
    if REPEAT_INSTRUMENT in records.columns and (repeating == instrument).any():
        infusion_rows = records[repeating == instrument].reset_index(drop=True)
        base_rows = records[repeating == ""].reset_index(drop=True)
    else:
        # Not a repeating instrument: one infusion per record, on the record's own row.
        infusion_rows = base_rows = records[repeating == ""].reset_index(drop=True)
    # A longitudinal project has one base row per event: a record's patient fields are its first non-blank ones.
    base_rows = base_rows.replace("", pd.NA).groupby(importer.record_id, sort=False, as_index=False).first().fillna("")

    patients = pd.DataFrame({"patient_id": base_rows[importer.record_id].str.strip()})
    importer.sources["patient_id"] = f"{importer.record_id} (the record id)"
    for column in PATIENT_COLUMNS[1:]:
        patients[column] = importer.convert(base_rows, column)

    infusions = pd.DataFrame(index=infusion_rows.index)
    if importer.field_for("infusion_id") is not None:
        infusions["infusion_id"] = importer.convert(infusion_rows, "infusion_id")
    else:
        instance = infusion_rows.get(REPEAT_INSTANCE, pd.Series("1", index=infusion_rows.index)).str.strip()
        infusions["infusion_id"] = infusion_rows[importer.record_id].str.strip() + "-" + instance
        importer.sources["infusion_id"] = f"<{importer.record_id}>-<{REPEAT_INSTANCE}>"
    infusions["patient_id"] = infusion_rows[importer.record_id].str.strip()
    for column in INFUSION_COLUMNS[2:]:
        infusions[column] = importer.convert(infusion_rows, column)

    problems = importer.problems
    try:
        validate_dataset(RawDataset(
            RawTable("patients", "patients", patients.copy(), None),
            RawTable("infusions", "infusions", infusions.copy(), None),
            container="REDCap export", files=(),
        ))
    except DatasetInvalid as error:
        # A cell REDCap could not convert was left blank: its "is empty" would say the same thing twice.
        flagged = {(problem.line, problem.column) for problem in problems}
        placed = (_redcap_problem(problem, importer, base_rows, infusion_rows) for problem in error.problems)
        problems += [problem for problem in placed if problem.line is None or (problem.line, problem.column) not in flagged]
    if problems:
        raise DatasetInvalid(problems)
    sources = {f"{table}.{column}": importer.sources[column]
               for table, columns in (("patients", PATIENT_COLUMNS), ("infusions", INFUSION_COLUMNS))
               for column in columns if column in importer.sources}
    sources["infusions.patient_id"] = f"{importer.record_id} (the record id)"
    return RedcapImport(patients, infusions, sources, instrument)


def _unmapped_columns(importer: _Importer, dictionary_name: str) -> list[Problem]:
    """A required column with no REDCap field of its name and none mapped: one problem naming ``--map``, rather
    than "is empty but required" on every record."""
    needed = [column for column in (*REQUIRED_PATIENT_COLUMNS, *REQUIRED_INFUSION_COLUMNS, *ANALYSIS_COLUMNS)
              if column not in ("patient_id", "infusion_id") and importer.field_for(column) is None]
    available = ", ".join(name for name in importer.fields if name != importer.record_id)
    return [Problem(dictionary_name, f"has no field named {column}: give its REDCap field with --map {column}=FIELD "
                                     f"(the fields: {available})", column=column)
            for column in needed]


def _infusion_form(importer: _Importer) -> str | None:
    redcap = importer.field_for("vas_pre")
    return redcap.form if redcap is not None else None


def _redcap_problem(problem: Problem, importer: _Importer, base_rows: pd.DataFrame, infusion_rows: pd.DataFrame) -> Problem:
    """A problem of the imported table, placed back in the records file (line, record, field)."""
    column = problem.column
    redcap = importer.field_for(column) if column else None
    field_name = redcap.name if redcap is not None else (importer.record_id if column == "patient_id" else column)
    if problem.row is None:
        return Problem(importer.label, f"{problem.file} table: {problem.message}", column=field_name)
    frame = base_rows if problem.file == "patients" else infusion_rows
    line, where = importer.place(frame, problem.row - 1)
    return Problem(importer.label, f"{where}: {problem.message}", row=line - 1, line=line, column=field_name, value=problem.value)


def study_yaml(result: RedcapImport, records_name: str, dictionary_name: str) -> str:
    """The dataset's study.yml: where every column came from, as comments above a default configuration."""
    lines = [
        f"# Imported by `ketareport import-redcap` from {records_name} (data dictionary {dictionary_name}).",
        f"# Infusions: the rows of the repeating instrument {result.infusion_instrument}." if result.infusion_instrument else "# Infusions: one per record.",
        "# Contract column <- REDCap field:",
        *(f"#   {column} <- {source}" for column, source in result.sources.items()),
        "# Add the study's title, authors and analysis options below (see docs/configuration.md).",
        "study: {}",
        "",
    ]
    return "\n".join(lines)


def write_import(result: RedcapImport, out_dir: Path, records_name: str, dictionary_name: str) -> list[Path]:
    """Write patients.csv, infusions.csv and study.yml, all or none."""
    from .output import StagedOutput

    with StagedOutput(out_dir, manifest=False) as staged:  # a dataset folder the user owns: no manifest
        result.patients.to_csv(staged.path("patients.csv"), index=False)
        result.infusions.to_csv(staged.path("infusions.csv"), index=False)
        staged.path("study.yml").write_text(study_yaml(result, records_name, dictionary_name), encoding="utf-8")
        return staged.publish()
