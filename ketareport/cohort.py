"""The analysis cohort: which infusions and patients enter the analysis.

An infusion missing any analysis column is *excluded for missing data*; a
patient's VAS reduction is the mean over that patient's analysed infusions;
patients with none are left out of the VAS analysis (but still count for
relief; ``docs/methods.md``, Cohort).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .aggregates import PatientAggregates, patient_aggregates
from .config import AnalysisOptions
from .contract import ANALYSIS_COLUMNS, diagnosis_labels
from .validate import Dataset, arrow_text


@dataclass(frozen=True)
class Cohort:
    """The validated tables with the analysis's derived columns.

    patients: the validated columns plus ``is_index`` (diagnosis is the index
    diagnosis), ``n_infusions``, ``n_infusions_analyzed`` and ``reduction``
    (mean VAS reduction over analysed infusions; NaN when there are none),
    ``reduction_within_ss`` and ``reduction_range`` (sum of squared deviations
    from that mean, and max minus min; NaN when there are none).

    infusions: the validated columns plus ``is_index``, ``excluded`` (an
    analysis column is missing), ``missing_columns`` (which, ``;``-joined),
    ``reduction`` (vas_pre - vas_post; NaN when excluded) and
    ``patient_position`` (the row of the infusion's patient in ``patients``,
    counting from 0).
    """

    patients: pd.DataFrame
    infusions: pd.DataFrame
    options: AnalysisOptions
    diagnosis_labels: dict[str, str]
    """Normalised diagnosis -> printed label (:func:`ketareport.contract.diagnosis_labels`)."""

    @cached_property
    def analyzed_infusions(self) -> pd.DataFrame:
        """The infusions not excluded (selected once: at a million rows each selection copies every column)."""
        return self.infusions[~self.infusions["excluded"]]

    @property
    def analyzed_patients(self) -> pd.DataFrame:
        return self.patients[self.patients["n_infusions_analyzed"] > 0]

    def patient_aggregates(self) -> PatientAggregates:
        """Table 1 of :mod:`ketareport.aggregates`: the analysed patients' sufficient statistics."""
        analysed = self.analyzed_patients
        return PatientAggregates(
            patient_id=analysed["patient_id"].to_numpy(),
            is_index=analysed["is_index"].to_numpy(dtype=bool),
            n_infusions=analysed["n_infusions_analyzed"].to_numpy(dtype=np.int64),
            mean_reduction=analysed["reduction"].to_numpy(dtype=float),
            within_ss=analysed["reduction_within_ss"].to_numpy(dtype=float),
            reduction_range=analysed["reduction_range"].to_numpy(dtype=float),
        )


def build_cohort(dataset: Dataset, options: AnalysisOptions, labels: Mapping[str, str] | None = None) -> Cohort:
    """The cohort of ``dataset``; ``labels`` is study.yml's diagnosis label map (normalised keys)."""
    patients = dataset.patients.copy()
    infusions = dataset.infusions.copy()
    patients["is_index"] = patients["diagnosis"] == options.index_diagnosis

    missing = infusions[list(ANALYSIS_COLUMNS)].isna().to_numpy()
    infusions["excluded"] = missing.any(axis=1)
    infusions["missing_columns"] = _missing_column_names(missing)
    infusions["reduction"] = (infusions["vas_pre"] - infusions["vas_post"]).where(~infusions["excluded"])
    # One pass over the infusions per sum: each infusion's patient position, then bincounts.
    codes = _positions(infusions["patient_id"], patients["patient_id"])
    infusions["patient_position"] = codes
    infusions["is_index"] = patients["is_index"].to_numpy(dtype=bool)[codes]
    patients["n_infusions"] = np.bincount(codes, minlength=len(patients))
    counts, means, within_ss, spread = patient_aggregates(codes, infusions["reduction"].to_numpy(dtype=float), len(patients))
    patients["n_infusions_analyzed"] = counts
    patients["reduction"] = means
    patients["reduction_within_ss"] = within_ss
    patients["reduction_range"] = spread
    printed = diagnosis_labels(patients["diagnosis"], patients["diagnosis_as_written"], labels)
    return Cohort(patients=patients, infusions=infusions, options=options, diagnosis_labels=printed)


def _missing_column_names(missing: np.ndarray) -> np.ndarray:
    """Each row's missing analysis columns, ``;``-joined ("" when none), from the rows' missing-value flags.

    A row's flags read as a binary number pick its text from the 2^4 possible
    ones: no string is built per row.
    """
    patterns = np.arange(2 ** len(ANALYSIS_COLUMNS))
    texts = np.array([
        ";".join(column for bit, column in enumerate(ANALYSIS_COLUMNS) if pattern >> bit & 1) for pattern in patterns
    ], dtype=object)
    return texts[missing.astype(np.int64) @ (1 << np.arange(len(ANALYSIS_COLUMNS)))]


def _positions(keys: pd.Series, unique_keys: pd.Series) -> np.ndarray:
    """The position of each of ``keys`` in ``unique_keys`` (-1 where absent): a hash join in Arrow."""
    import pyarrow.compute as pc

    found = pc.index_in(arrow_text(keys), value_set=arrow_text(unique_keys))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
