"""Typed results, and the one place they are serialised.

The analysis returns a :class:`StudyResults`; this module turns it into the
three result files (README, Result files) — ``estimates.csv``,
``results.json`` and ``results.rds`` — each written once, from the same
plain-data tree, with full precision and ``None`` for "not applicable"
(an empty CSV cell, JSON ``null``, R ``NA``; never a sentinel number).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, fields
from json.encoder import encode_basestring  # the C encoder of json.dumps(ensure_ascii=False)
from pathlib import Path
from typing import Any

from .contract import ESTIMATE_COLUMNS


@dataclass(frozen=True)
class Estimate:
    """One row of ``estimates.csv`` (broom style); ``None`` = not applicable."""

    analysis: str
    term: str
    estimate: float | None
    std_error: float | None
    statistic: float | None
    df: float | None
    p_value: float | None
    conf_low: float | None
    conf_high: float | None
    conf_level: float | None
    n: int
    x: int | None = None


@dataclass(frozen=True)
class CohortSummary:
    """Who and what was analysed, and what was left out and why."""

    n_patients: int
    n_infusions: int
    n_infusions_excluded: int
    n_infusions_analyzed: int
    n_patients_analyzed: int
    n_patients_not_analyzed: int
    """Patients without an analysed infusion: those with no infusion recorded and those whose every infusion
    was excluded for missing data."""
    n_patients_without_infusions: int
    """Patients in the patients table with no row in the infusions table (among ``n_patients_not_analyzed``)."""
    diagnoses: dict[str, int]
    """Normalised diagnosis label -> number of patients (all patients), most frequent first."""
    diagnoses_percent: dict[str, float]
    """Same labels -> percent of all patients."""
    diagnosis_labels: dict[str, str]
    """Same normalised labels -> how the report prints them: as study.yml's ``labels:`` maps them, else the
    canonical label (crps -> CRPS), else the most frequent spelling in the data (see contract.diagnosis_labels)."""
    excluded_infusion_ids: list[str]
    excluded_missing_by_column: dict[str, int]
    """Analysis column -> number of excluded infusions missing it (an infusion may miss several)."""
    not_analyzed_patient_ids: list[str]
    index_diagnosis: str
    n_index: int
    n_comparison: int
    index_percent: float | None
    comparison_percent: float | None
    n_index_analyzed: int
    n_comparison_analyzed: int
    n_index_infusions_analyzed: int
    n_comparison_infusions_analyzed: int
    n_infusions_midazolam: int
    n_infusions_ondansetron: int
    n_infusions_premedication_recorded: int
    all_premedicated: bool
    """Every infusion has both midazolam and ondansetron recorded as given."""
    first_infusion_date: str | None
    last_infusion_date: str | None
    side_effects_recorded: bool = True
    """Any infusion has a side-effect entry (``none`` included); False when the column is absent or blank."""

    @property
    def n_patients_lost_to_exclusions(self) -> int:
        """Patients with infusions recorded, every one of them excluded for missing data."""
        return self.n_patients_not_analyzed - self.n_patients_without_infusions


@dataclass(frozen=True)
class VasResults:
    """VAS reduction (pre minus post) on patient-level means."""

    overall: Estimate
    index: Estimate
    comparison: Estimate
    difference: Estimate
    difference_test: str
    """``welch`` or ``pooled``."""
    n_patients_improved: int
    """Analysed patients whose mean VAS fell (mean reduction > 0)."""


@dataclass(frozen=True)
class ReliefOutcome:
    """Probability of relief meeting one duration threshold."""

    name: str
    label: str
    rule: str
    days: float
    inclusive: bool
    n_evaluable: int
    x: int
    n_censored_not_evaluable: int
    estimate: float | None
    conf_low: float | None
    conf_high: float | None
    conf_level: float
    method: str


@dataclass(frozen=True)
class ReliefSummary:
    n_recorded: int
    n_censored: int
    n_not_recorded: int
    median_duration_days: float | None
    method: str
    method_description: str
    conf_level: float
    outcomes: list[ReliefOutcome]


@dataclass(frozen=True)
class MixedModelResult:
    """REML random-intercept model ``reduction ~ index + (1 | patient_id)``."""

    n_infusions: int
    n_patients: int
    intercept: Estimate
    index: Estimate
    variance_patient: float
    variance_residual: float
    intraclass_correlation: float
    reml_log_likelihood: float
    converged: bool


@dataclass(frozen=True)
class CountCell:
    n: int
    denominator: int
    percent: float | None


@dataclass(frozen=True)
class ContinuousCell:
    n: int
    n_missing: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class CharacteristicRow:
    section: str
    label: str
    kind: str
    """How the row is shown: ``count`` — n (%); ``mean_sd`` — mean (SD);
    ``median_iqr`` — median (Q1–Q3). Continuous cells carry all statistics."""
    cells: dict[str, CountCell | ContinuousCell]
    """Column key (``index``, ``comparison``, ``all``) -> summary."""


@dataclass(frozen=True)
class CharacteristicsColumn:
    key: str
    label: str
    n: int


@dataclass(frozen=True)
class CharacteristicsTable:
    unit: str
    """What a row counts: ``patients`` or ``infusions``."""
    columns: list[CharacteristicsColumn]
    rows: list[CharacteristicRow]


@dataclass(frozen=True)
class StudyResults:
    """Every number the report prints."""

    cohort: CohortSummary
    vas: VasResults
    relief: ReliefSummary
    sensitivity: MixedModelResult | None
    patient_characteristics: CharacteristicsTable
    infusion_characteristics: CharacteristicsTable

    def estimates(self) -> list[Estimate]:
        """The rows of ``estimates.csv`` in the contract's order."""
        rows = [self.vas.overall, self.vas.index, self.vas.comparison, self.vas.difference]
        rows += [
            Estimate("relief", outcome.name, outcome.estimate, None, None, None, None,
                     outcome.conf_low, outcome.conf_high, outcome.conf_level,
                     outcome.n_evaluable, outcome.x)
            for outcome in self.relief.outcomes
        ]
        if self.sensitivity is not None:
            rows += [self.sensitivity.intercept, self.sensitivity.index]
        return rows


def to_plain(value: Any) -> Any:
    """Dataclasses to dicts, non-finite floats to ``None`` — JSON-ready data."""
    if isinstance(value, str):  # first: tens of thousands of ids at scale
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return list(value) if _all_text(value) else [to_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return to_plain(value.item())  # numpy scalar
    return value


def results_document(results: StudyResults, provenance: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The tree written to ``results.json`` and ``results.rds``."""
    return {
        "cohort": to_plain(results.cohort),
        "vas": to_plain(results.vas),
        "relief": to_plain(results.relief),
        "sensitivity": to_plain(results.sensitivity),
        "characteristics": {
            "patients": to_plain(results.patient_characteristics),
            "infusions": to_plain(results.infusion_characteristics),
        },
        "estimates": [to_plain(row) for row in results.estimates()],
        "config": config,
        "provenance": to_plain(provenance),
    }


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # repr() is the shortest string that reads back to the same double.
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def estimates_csv(estimates: list[Estimate]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ESTIMATE_COLUMNS)
    for row in estimates:
        values = asdict(row)
        writer.writerow([_csv_cell(values[column]) for column in ESTIMATE_COLUMNS])
    return buffer.getvalue()


LONG_TEXT_LIST = 64
"""A list of more strings than this is laid out by :func:`results_json` itself."""


def results_json(document: dict[str, Any]) -> str:
    """``json.dumps(document, indent=2, ensure_ascii=False)`` and a newline, to the byte.

    json's indented encoder is pure Python, a generator step per item: at
    100,000 patients the lists of excluded and not-analysed ids (tens of
    thousands of strings) took most of a second. Such lists, where they are
    a dict's values, are swapped for a marker, and their lines written
    afterwards with the C string encoder, indented as json would indent them.
    """
    lists: list[list[str]] = []

    def marked(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: _marker(lists, value) if _is_long_text_list(value) else marked(value) for key, value in node.items()}
        if isinstance(node, list):
            return [marked(item) for item in node]
        return node

    # allow_nan=False: a NaN that slipped through to_plain must fail loudly.
    text = json.dumps(marked(document), indent=2, ensure_ascii=False, allow_nan=False)

    def laid_out(match: re.Match[str]) -> str:
        indent = match.group(1)
        items = lists[int(match.group(3))]
        item_indent = f"{indent}  "
        inner = f",\n{item_indent}".join(map(encode_basestring, items))  # C calls only: a million ids
        return f"{indent}{match.group(2)}[\n{item_indent}{inner}\n{indent}]"

    return _MARKED_LINE.sub(laid_out, text) + "\n"


_MARKED_LINE = re.compile(r'^( *)(".*?": )"\\u0000(\d+)\\u0000"', re.MULTILINE)
"""A dict entry whose value is a marker (NUL, its number, NUL; json writes NUL as \\u0000). A data string of
exactly that form would be taken for one: ids, labels and paths hold no NUL."""


def _is_long_text_list(value: Any) -> bool:
    return isinstance(value, list) and len(value) > LONG_TEXT_LIST and _all_text(value)


def _all_text(items: list[Any]) -> bool:
    """Every item a ``str`` (not a subclass such as numpy's), tested in C."""
    return set(map(type, items)) <= {str}


def _marker(lists: list[list[str]], items: list[str]) -> str:
    lists.append(items)
    return f"\x00{len(lists) - 1}\x00"


def write_results_rds(path: Path, document: dict[str, Any], frames: dict[str, Any] | None = None) -> None:
    """``results.rds``: an R list; ``estimates`` a data frame, then the other ``frames`` (name -> pandas
    DataFrame, :mod:`ketareport.r_frames`) as data frames; missing = R ``NA``.

    Written by :mod:`ketareport.rds` (dict -> named list, list of numbers -> double vector, ...).
    """
    import pandas as pd

    from .rds import write_rds

    rows = document["estimates"]
    estimates = pd.DataFrame({
        column: pd.array([row[column] for row in rows], dtype=_R_COLUMN_DTYPES.get(column, "Float64"))
        for column in ESTIMATE_COLUMNS
    })
    tree = {key: value for key, value in document.items() if key != "estimates"}
    write_rds(path, {"estimates": estimates, **(frames or {}), **tree})


# Nullable pandas dtypes: text, whole numbers and (the rest) doubles, each with R's NA for None.
_R_COLUMN_DTYPES = {"analysis": "string[python]", "term": "string[python]", "n": "Int32", "x": "Int32"}
