"""The analysis cohort: which infusions and patients enter the analysis.

An infusion missing any analysis column is *excluded for missing data*; a
patient's VAS reduction is the mean over that patient's analysed infusions;
patients with none are left out of the VAS analysis (but still count for
relief; ``docs/methods.md``, Cohort).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import AnalysisOptions
from .contract import ANALYSIS_COLUMNS, diagnosis_labels
from .validate import Dataset


@dataclass(frozen=True)
class Cohort:
    """The validated tables with the analysis's derived columns.

    patients: the validated columns plus ``is_index`` (diagnosis is the index
    diagnosis), ``n_infusions``, ``n_infusions_analyzed`` and ``reduction``
    (mean VAS reduction over analysed infusions; NaN when there are none).

    infusions: the validated columns plus ``is_index``, ``excluded`` (an
    analysis column is missing), ``missing_columns`` (which, ``;``-joined) and
    ``reduction`` (vas_pre - vas_post; NaN when excluded).
    """

    patients: pd.DataFrame
    infusions: pd.DataFrame
    options: AnalysisOptions
    diagnosis_labels: dict[str, str]
    """Normalised diagnosis -> printed label (:func:`ketareport.contract.diagnosis_labels`)."""

    @property
    def analyzed_infusions(self) -> pd.DataFrame:
        return self.infusions[~self.infusions["excluded"]]

    @property
    def analyzed_patients(self) -> pd.DataFrame:
        return self.patients[self.patients["n_infusions_analyzed"] > 0]


def build_cohort(dataset: Dataset, options: AnalysisOptions, labels: Mapping[str, str] | None = None) -> Cohort:
    """The cohort of ``dataset``; ``labels`` is study.yml's diagnosis label map (normalised keys)."""
    patients = dataset.patients.copy()
    infusions = dataset.infusions.copy()
    patients["is_index"] = patients["diagnosis"] == options.index_diagnosis

    missing = infusions[list(ANALYSIS_COLUMNS)].isna()
    infusions["excluded"] = missing.any(axis=1)
    # "col_a;col_b" per row without a Python loop: join the names of the
    # missing columns through a boolean matrix product of strings.
    names = np.array([f"{column};" for column in ANALYSIS_COLUMNS], dtype=object)
    joined = missing.to_numpy() @ names if len(infusions) else np.array([], dtype=object)
    infusions["missing_columns"] = pd.Series(joined, index=infusions.index, dtype=object).astype(str).str.rstrip(";")
    infusions["reduction"] = (infusions["vas_pre"] - infusions["vas_post"]).where(~infusions["excluded"])
    index_by_patient = patients.set_index("patient_id")["is_index"]
    infusions["is_index"] = infusions["patient_id"].map(index_by_patient).astype(bool)

    by_patient = infusions.groupby("patient_id", sort=False)
    patients["n_infusions"] = patients["patient_id"].map(by_patient.size()).fillna(0).astype(int)
    patients["n_infusions_analyzed"] = (
        patients["patient_id"].map((~infusions["excluded"]).groupby(infusions["patient_id"]).sum()).fillna(0).astype(int)
    )
    patients["reduction"] = patients["patient_id"].map(by_patient["reduction"].mean())
    printed = diagnosis_labels(patients["diagnosis"], patients["diagnosis_as_written"], labels)
    return Cohort(patients=patients, infusions=infusions, options=options, diagnosis_labels=printed)
