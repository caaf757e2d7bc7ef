"""The data frames ``results.rds`` holds besides ``estimates``, for R users who extend the analysis.

- ``characteristics_long``: Tables 1 and 2 in tidy long form, one row per printed
  statistic: ``table`` (``patients`` or ``infusions``), ``section``,
  ``label``, ``group`` (the column as printed: ``CRPS``, ``Other diagnoses``,
  ``All``), ``statistic`` (``n``, ``denominator``, ``percent`` for counts;
  ``n``, ``n_missing``, ``mean``, ``sd``, ``median``, ``q1``, ``q3``,
  ``minimum``, ``maximum`` for continuous rows) and ``value``.
- ``analysed_infusions``: the analysed infusions: ``infusion_id``, ``patient_id``,
  ``diagnosis`` (as printed), ``group``, ``vas_pre``, ``vas_post``,
  ``reduction`` (before minus after).
- ``patient_means``: the per-patient means over the analysed infusions — the
  unit of the VAS analysis: ``patient_id``, ``diagnosis``, ``group``,
  ``n_infusions``, ``mean_vas_pre``, ``mean_vas_post``, ``mean_reduction``.

Values are at full precision; missing is R ``NA``. Patient and infusion ids
are here because ``results.rds`` is the analyst's file; the report itself
never prints them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .results import CharacteristicsTable, ContinuousCell, CountCell

if TYPE_CHECKING:
    from .cohort import Cohort
    from .results import StudyResults

CHARACTERISTICS_COLUMNS = ("table", "section", "label", "group", "statistic", "value")
STATISTICS = {
    CountCell: ("n", "denominator", "percent"),
    ContinuousCell: ("n", "n_missing", "mean", "sd", "median", "q1", "q3", "minimum", "maximum"),
}
"""What each kind of cell holds, in the order of its dataclass."""


def characteristics_long(tables: dict[str, CharacteristicsTable]) -> pd.DataFrame:
    """Tables 1 and 2 (``{"patients": ..., "infusions": ...}``), one row per statistic of each cell."""
    rows = []
    for name, table in tables.items():
        for row in table.rows:
            for column in table.columns:
                cell = row.cells[column.key]
                for statistic in STATISTICS[type(cell)]:
                    value = getattr(cell, statistic)
                    rows.append((name, row.section, row.label, column.label, statistic,
                                 None if value is None else float(value)))
    return pd.DataFrame(rows, columns=list(CHARACTERISTICS_COLUMNS))


def _labels(texts: list[str] | np.ndarray, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``texts[codes]`` as Arrow-backed text: one take in Arrow, no Python string made per row."""
    import pyarrow as pa

    picked = pa.array(list(texts), type=pa.string(), from_pandas=True).take(pa.array(codes, type=pa.int64()))
    return pd.Series(pd.arrays.ArrowStringArray(picked), index=index).astype(str)


def _group(cohort: Cohort, is_index: pd.Series) -> pd.Series:
    options = cohort.options
    codes = (~is_index.to_numpy(dtype=bool)).astype(np.int64)
    return _labels([options.index_label, options.comparison_label], codes, is_index.index)


def _diagnosis(cohort: Cohort, positions: np.ndarray, index: pd.Index) -> pd.Series:
    """The diagnosis as printed of the patients at ``positions`` (rows of ``cohort.patients``)."""
    printed = cohort.patients["diagnosis"].map(cohort.diagnosis_labels).to_numpy(dtype=object)
    return _labels(printed, positions, index)


def analysed_infusions(cohort: Cohort) -> pd.DataFrame:
    """One row per analysed infusion, with its patient's diagnosis and group."""
    infusions = cohort.analyzed_infusions
    return pd.DataFrame({
        "infusion_id": infusions["infusion_id"].astype(str),
        "patient_id": infusions["patient_id"].astype(str),
        "diagnosis": _diagnosis(cohort, infusions["patient_position"].to_numpy(), infusions.index),
        "group": _group(cohort, infusions["is_index"]),
        "vas_pre": infusions["vas_pre"].astype(float),
        "vas_post": infusions["vas_post"].astype(float),
        "reduction": infusions["reduction"].astype(float),
    }).reset_index(drop=True)


def patient_means(cohort: Cohort) -> pd.DataFrame:
    """One row per analysed patient: the means over the patient's analysed infusions."""
    infusions = cohort.analyzed_infusions
    # Grouped by the patient's position (an integer) rather than its id: the same means, without hashing text.
    means = infusions[["vas_pre", "vas_post"]].groupby(infusions["patient_position"].to_numpy()).mean()
    patients = cohort.analyzed_patients
    positions = np.flatnonzero(cohort.patients["n_infusions_analyzed"].to_numpy() > 0)
    return pd.DataFrame({
        "patient_id": patients["patient_id"].astype(str),
        "diagnosis": _diagnosis(cohort, positions, patients.index),
        "group": _group(cohort, patients["is_index"]),
        "n_infusions": patients["n_infusions_analyzed"].astype(int),
        "mean_vas_pre": means["vas_pre"].reindex(positions).to_numpy(dtype=float),
        "mean_vas_post": means["vas_post"].reindex(positions).to_numpy(dtype=float),
        # The engine's own patient means: the numbers the VAS analysis used.
        "mean_reduction": patients["reduction"].astype(float),
    }).reset_index(drop=True)


def r_frames(cohort: Cohort, results: StudyResults) -> dict[str, pd.DataFrame]:
    """The data frames of ``results.rds`` besides ``estimates``, by name."""
    return {
        "characteristics_long": characteristics_long({"patients": results.patient_characteristics,
                                                      "infusions": results.infusion_characteristics}),
        "analysed_infusions": analysed_infusions(cohort),
        "patient_means": patient_means(cohort),
    }
