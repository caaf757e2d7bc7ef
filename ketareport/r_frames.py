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


def _group(cohort: Cohort, is_index: pd.Series) -> pd.Series:
    options = cohort.options
    return is_index.map({True: options.index_label, False: options.comparison_label})


def analysed_infusions(cohort: Cohort) -> pd.DataFrame:
    """One row per analysed infusion, with its patient's diagnosis and group."""
    infusions = cohort.analyzed_infusions
    diagnosis = infusions["patient_id"].map(cohort.patients.set_index("patient_id")["diagnosis"])
    return pd.DataFrame({
        "infusion_id": infusions["infusion_id"].astype(str),
        "patient_id": infusions["patient_id"].astype(str),
        "diagnosis": diagnosis.map(cohort.diagnosis_labels),
        "group": _group(cohort, infusions["is_index"].astype(bool)),
        "vas_pre": infusions["vas_pre"].astype(float),
        "vas_post": infusions["vas_post"].astype(float),
        "reduction": infusions["reduction"].astype(float),
    }).reset_index(drop=True)


def patient_means(cohort: Cohort) -> pd.DataFrame:
    """One row per analysed patient: the means over the patient's analysed infusions."""
    infusions = analysed_infusions(cohort)
    means = infusions.groupby("patient_id", sort=False).agg(
        n_infusions=("reduction", "size"), mean_vas_pre=("vas_pre", "mean"), mean_vas_post=("vas_post", "mean"),
    )
    patients = cohort.analyzed_patients
    return pd.DataFrame({
        "patient_id": patients["patient_id"].astype(str),
        "diagnosis": patients["diagnosis"].map(cohort.diagnosis_labels),
        "group": _group(cohort, patients["is_index"].astype(bool)),
        "n_infusions": patients["n_infusions_analyzed"].astype(int),
        "mean_vas_pre": patients["patient_id"].map(means["mean_vas_pre"]).astype(float),
        "mean_vas_post": patients["patient_id"].map(means["mean_vas_post"]).astype(float),
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
