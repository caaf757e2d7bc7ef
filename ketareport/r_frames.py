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

Both row-level frames are ordered by their ids and built by :func:`row_frames`,
from the cohort on the file path and from the rows a database run fetched
(:mod:`ketareport.sources.report_inputs`, which leaves them out above
``FRAMES_UP_TO`` analysed infusions). Values are at full precision;
missing is R ``NA``. Patient and infusion ids
are here because ``results.rds`` is the analyst's file; the report itself
never prints them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from .results import CharacteristicsTable, ContinuousCell, CountCell
from .validate import arrow_text

if TYPE_CHECKING:
    from .cohort import Cohort
    from .config import AnalysisOptions
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


def _text(values: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas text column, without a Python string per row."""
    return pd.Series(pd.arrays.ArrowStringArray(values)).astype(str)


def _labels(texts: list[str] | np.ndarray, codes: np.ndarray) -> pd.Series:
    """``texts[codes]`` as text: one take in Arrow."""
    return _text(pa.array(list(texts), type=pa.string(), from_pandas=True).take(pa.array(codes, type=pa.int64())))


def row_frames(infusions: pd.DataFrame, patients: pd.DataFrame, options: AnalysisOptions,
               printed: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """``analysed_infusions`` (ordered by infusion_id) and ``patient_means`` (ordered by patient_id).

    ``infusions``: the analysed infusions, in any order: ``infusion_id``,
    ``patient_id``, ``vas_pre``, ``vas_post`` and ``patient_position`` (the
    row of the infusion's patient in ``patients``); ``patients``: at least
    the analysed patients' ``patient_id``, ``diagnosis`` (normalised) and
    ``is_index``; ``printed``: how each diagnosis prints. The file path
    passes the cohort's tables, a database run the rows it fetched
    (:mod:`ketareport.sources.report_inputs`). The rows are put in the order
    of their ids (text order, as Python sorts) and each patient's means
    summed in that order, so the same rows give the same frames, bit for
    bit, whatever order they were stored in.
    """
    import pyarrow.compute as pc

    infusion_ids = arrow_text(infusions["infusion_id"])
    order = pc.sort_indices(infusion_ids)
    positions = infusions["patient_position"].to_numpy(dtype=np.int64)[order.to_numpy()]
    pre = infusions["vas_pre"].to_numpy(dtype=float)[order.to_numpy()]
    post = infusions["vas_post"].to_numpy(dtype=float)[order.to_numpy()]
    diagnoses = patients["diagnosis"].map(printed).to_numpy(dtype=object)
    groups = np.array([options.index_label, options.comparison_label], dtype=object)
    comparison = (~patients["is_index"].to_numpy(dtype=bool)).astype(np.int64)
    patient_ids = arrow_text(patients["patient_id"])
    analysed = pd.DataFrame({
        "infusion_id": _text(infusion_ids.take(order)),
        "patient_id": _text(patient_ids.take(pa.array(positions))),
        "diagnosis": _labels(diagnoses, positions),
        "group": _labels(groups, comparison[positions]),
        "vas_pre": pre,
        "vas_post": post,
        "reduction": pre - post,
    })
    # Summed by the patient's position (an integer) in row order, then divided: the same rows in the same order
    # give the same bits (pandas' grouped mean may sum a group's rows in another order when the keys differ).
    counts = np.bincount(positions)
    owners = np.flatnonzero(counts)
    by_id = pc.sort_indices(patient_ids.take(pa.array(owners))).to_numpy()
    owners = owners[by_id]
    n = counts[owners]

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(positions, weights=values)[owners] / n

    patient_means = pd.DataFrame({
        "patient_id": _text(patient_ids.take(pa.array(owners))),
        "diagnosis": _labels(diagnoses, owners),
        "group": _labels(groups, comparison[owners]),
        "n_infusions": n.astype(int),
        "mean_vas_pre": mean(pre),
        "mean_vas_post": mean(post),
        "mean_reduction": mean(pre - post),
    })
    return {"analysed_infusions": analysed, "patient_means": patient_means}


def r_frames(cohort: Cohort, results: StudyResults) -> dict[str, pd.DataFrame]:
    """The data frames of ``results.rds`` besides ``estimates``, by name."""
    return {
        "characteristics_long": characteristics_long({"patients": results.patient_characteristics,
                                                      "infusions": results.infusion_characteristics}),
        **row_frames(cohort.analyzed_infusions, cohort.patients, cohort.options, cohort.diagnosis_labels),
    }
