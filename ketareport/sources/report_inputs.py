"""What the report and the R cross-check need from a database beyond the aggregates of the analysis.

``render`` needs Figure 2's data (:class:`ketareport.patient_reductions.PatientReductions`):
one query of the kept per-patient table (:func:`ketareport.sources.aggregate.derive`)
returns the analysed patients' means when the larger group has at most
``POINTS_UP_TO`` patients (the figure may then draw each of them), else
each group's count of patients per band of mean reduction with the band's
smallest and largest mean: a few hundred rows at most, whatever the size
of the data.

``verify`` and ``render --verify`` need the analysis table that the
independent R program reads (:mod:`ketareport.export`): a cross-check of
the estimates must start from the analysed rows themselves, so this is the
one query that fetches every analysed infusion (its id, its patient's id,
its reduction) and the patients without one. The rows are put in the
table's order by their ids in Python, as the file path does, so that the
same rows give the same ``analysis.csv`` from files and from any engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..patient_reductions import (
    BAND_SLACK, PatientReductions, bands_from_counts, means_kept, patient_reductions,
)
from ..present.context import VAS_BAND_CM
from ..validate import InfusionDates
from .rules import TypedSource, typed_infusion_rows
from .summary import rows_of

if TYPE_CHECKING:
    import pandas as pd


def figure_reductions(patients: Any, n_index: int, n_comparison: int) -> PatientReductions:
    """Figure 2's data from the kept patients (``patient_id``, ``is_index``, ``n_analysed``, ``mean_reduction``);
    ``n_index``, ``n_comparison``: the analysed patients per group, which decide whether the means come back."""
    analysed = patients.filter(patients.n_analysed > 0)
    if means_kept(n_index, n_comparison):
        frame = analysed.select("patient_id", "is_index", "mean_reduction").to_pyarrow().to_pandas()
        frame = frame.sort_values("patient_id", kind="stable")
        return patient_reductions(frame["is_index"].to_numpy(dtype=bool), frame["mean_reduction"].to_numpy(dtype=float))
    # The same expression as patient_reductions.band_numbers, evaluated in the engine.
    band = (analysed.mean_reduction / VAS_BAND_CM + BAND_SLACK).floor().cast("int64")
    banded = analysed.select("is_index", "mean_reduction", band=band)
    rows = rows_of(banded.group_by(["is_index", "band"]).aggregate(
        n=banded.count(), smallest=banded.mean_reduction.min(), largest=banded.mean_reduction.max(),
    ))
    return PatientReductions(bands_from_counts(rows, True), bands_from_counts(rows, False))


def analysis_table(typed: TypedSource, patients: Any, dates: InfusionDates) -> pd.DataFrame:
    """The R cross-check's analysis table (:func:`ketareport.export.analysis_table`), fetched from the engine.

    ``patients``: the kept per-patient table; ``dates``: the infusion dates the check allowed.
    """
    import pandas as pd

    from ..export import in_table_order

    infusions = typed_infusion_rows(typed.source, dates)
    analysed = infusions.filter(~infusions.excluded).select(
        "infusion_id", owner="patient_id", reduction=infusions.vas_pre - infusions.vas_post)
    owners = patients.select("patient_id", "is_index", "relief_duration_days", "relief_ongoing", "n_analysed")
    joined = analysed.join(owners, analysed.owner == owners.patient_id)
    columns = ("patient_id", "is_index", "infusion_id", "reduction", "relief_duration_days", "relief_ongoing")
    rows = joined.select(*columns).to_pyarrow().to_pandas()
    without = owners.filter(owners.n_analysed == 0).select(
        "patient_id", "is_index", "relief_duration_days", "relief_ongoing").to_pyarrow().to_pandas()
    without["infusion_id"] = pd.Series([None] * len(without), dtype=object)
    without["reduction"] = float("nan")
    table = pd.concat([rows, without[list(columns)]], ignore_index=True).rename(columns={"is_index": "index_group"})
    table = table.astype({"reduction": float, "relief_duration_days": float, "index_group": bool, "relief_ongoing": bool})
    return in_table_order(table)
