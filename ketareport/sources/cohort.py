"""The cohort's counts from the engine's aggregates: the :class:`~ketareport.results.CohortSummary` of a database run."""

from __future__ import annotations

from typing import Any, Mapping

from ..config import AnalysisOptions
from ..contract import ANALYSIS_COLUMNS, COLUMN_LABELS, diagnosis_labels
from ..errors import NothingToAnalyse
from ..results import CohortSummary
from .summary import rows_of
from .tables import LabelCounts


def require_analysable(n_patients: int, infusions: dict[str, Any]) -> None:
    """As :func:`ketareport.pipeline.require_analysable`, from counts: no patient, or no analysable infusion, stops."""
    if n_patients == 0:
        raise NothingToAnalyse("nothing to analyse: the patients table has no rows")
    n_infusions = int(infusions["n_infusions"])
    if n_infusions == 0:
        raise NothingToAnalyse(f"nothing to analyse: the infusions table has no rows ({n_patients} patients)")
    if int(infusions["n_excluded"]) < n_infusions:
        return
    missing = sorted(((int(infusions[f"missing_{column}"]), position, column) for position, column in enumerate(ANALYSIS_COLUMNS)),
                     key=lambda item: (-item[0], item[1]))
    reasons = ", ".join(f"{count} missing {COLUMN_LABELS[column]}" for count, _, column in missing if count)
    raise NothingToAnalyse(f"0 of {n_infusions} infusions analysable: {reasons}")


def infusion_measures(patients) -> dict[str, Any]:
    """The cohort's counts of infusions that are sums of the kept patients' counts
    (:func:`ketareport.sources.aggregate.derive`); the others are sums over the infusions' profiles
    (:func:`ketareport.sources.infusion_profile.profile_counts`)."""
    import ibis

    return {
        "n_infusions": patients.n_infusions.sum(),
        "n_excluded": (patients.n_infusions - patients.n_analysed).sum(),
        "n_patients_without_infusions": (patients.n_infusions == 0).sum(),
        "n_index_analysed": ibis.ifelse(patients.is_index, patients.n_analysed, 0).sum(),
        "n_comparison_analysed": ibis.ifelse(patients.is_index, 0, patients.n_analysed).sum(),
    }


def diagnosis_counts(patients, mapping: Mapping[str, str] | None) -> tuple[LabelCounts, dict[str, str]]:
    """Patients per diagnosis and group, and how each diagnosis prints (:func:`ketareport.contract.diagnosis_labels`).

    One query counts each (diagnosis, spelling, group); the printing rule is
    applied to one row per spelling, most frequent first (ties:
    alphabetical, as a database has no "first seen"), so its choice is the
    most frequent spelling.
    """
    import pandas as pd

    spelled = patients.select("is_index", key=patients.diagnosis, written=patients.diagnosis_as_written.strip())
    rows = rows_of(spelled.group_by(["key", "written", "is_index"]).aggregate(n=spelled.count()))
    by_diagnosis: LabelCounts = {}
    by_spelling: dict[tuple[str, str], int] = {}
    for row in rows:
        cell = by_diagnosis.setdefault(row["key"], {"index": 0, "comparison": 0})
        cell["index" if row["is_index"] else "comparison"] += int(row["n"])
        by_spelling[row["key"], row["written"]] = by_spelling.get((row["key"], row["written"]), 0) + int(row["n"])
    for cell in by_diagnosis.values():
        cell["all"] = cell["index"] + cell["comparison"]
    spellings = sorted(by_spelling.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    printed = diagnosis_labels(pd.Series([key for (key, _), _ in spellings], dtype=object),
                               pd.Series([written for (_, written), _ in spellings], dtype=object), mapping)
    return by_diagnosis, printed


def cohort_summary(patients: dict, infusions: dict, by_diagnosis: LabelCounts, printed: dict[str, str], excluded_ids: list,
                   not_analysed_ids: list, side_effects_recorded: bool, options: AnalysisOptions) -> CohortSummary:
    n_patients = int(patients["size:all"] or 0)
    ordered = sorted(((label, cell["all"]) for label, cell in by_diagnosis.items()), key=lambda item: (-item[1], item[0]))
    n_index = int(patients["size:index"] or 0)
    n_infusions = int(infusions["n_infusions"])
    n_analysed_patients = int(patients["analysed:all:n"] or 0)
    return CohortSummary(
        n_patients=n_patients,
        n_infusions=n_infusions,
        n_infusions_excluded=int(infusions["n_excluded"]),
        n_infusions_analyzed=n_infusions - int(infusions["n_excluded"]),
        n_patients_analyzed=n_analysed_patients,
        n_patients_not_analyzed=n_patients - n_analysed_patients,
        n_patients_without_infusions=int(infusions["n_patients_without_infusions"] or 0),
        diagnoses=dict(ordered),
        diagnoses_percent={label: 100.0 * n / n_patients for label, n in ordered},
        diagnosis_labels={label: printed[label] for label, _ in ordered},
        excluded_infusion_ids=list(map(str, excluded_ids)),
        excluded_missing_by_column={column: int(infusions[f"missing_{column}"]) for column in ANALYSIS_COLUMNS},
        not_analyzed_patient_ids=[str(value) for value in not_analysed_ids],
        index_diagnosis=options.index_diagnosis,
        n_index=n_index,
        n_comparison=n_patients - n_index,
        index_percent=100.0 * n_index / n_patients if n_patients else None,
        comparison_percent=100.0 * (n_patients - n_index) / n_patients if n_patients else None,
        n_index_analyzed=int(patients["analysed:index:n"] or 0),
        n_comparison_analyzed=int(patients["analysed:comparison:n"] or 0),
        n_index_infusions_analyzed=int(infusions["n_index_analysed"]),
        n_comparison_infusions_analyzed=int(infusions["n_comparison_analysed"]),
        n_infusions_midazolam=int(infusions["n_midazolam"]),
        n_infusions_ondansetron=int(infusions["n_ondansetron"]),
        n_infusions_premedication_recorded=int(infusions["n_premedication_recorded"]),
        all_premedicated=n_infusions > 0 and int(infusions["n_midazolam"]) == n_infusions and int(infusions["n_ondansetron"]) == n_infusions,
        first_infusion_date=infusions["first_date"].isoformat()[:10] if infusions["first_date"] is not None else None,
        last_infusion_date=infusions["last_date"].isoformat()[:10] if infusions["last_date"] is not None else None,
        side_effects_recorded=side_effects_recorded,
    )
