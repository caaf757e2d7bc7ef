"""What the report and the R cross-check need from a database beyond the aggregates of the analysis.

``render`` needs Figure 2's data (:class:`ketareport.patient_reductions.PatientReductions`):
one query of the kept per-patient table (:func:`ketareport.sources.aggregate.derive`)
returns the analysed patients' means when the larger group has at most
``POINTS_UP_TO`` patients (the figure may then draw each of them), else
each group's count of patients per band of mean reduction with the band's
smallest and largest mean: a few hundred rows at most, whatever the size
of the data.

Two things need the analysed rows themselves, and one fetch
(:func:`analysed_rows`: every analysed infusion's id, patient id, VAS before
and after, and its patient's group, diagnosis and relief) serves both:

- ``verify`` and ``render --verify``: the analysis table that the
  independent R program reads (:mod:`ketareport.export`), since a
  cross-check of the estimates must start from the rows; the patients
  without an analysed infusion are fetched too. Whatever the size.
- ``results.rds``'s row-level frames, ``patient_means`` and
  ``analysed_infusions`` (:func:`ketareport.r_frames.row_frames`), when
  the run analysed at most ``FRAMES_UP_TO`` infusions; above, the file
  holds ``row_frames_omitted`` (:func:`frames_omitted_note`) instead.

The rows are put in order by their ids in Python, as the file path does,
so that the same rows give the same ``analysis.csv`` and the same frames
from files and from any engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..patient_reductions import (
    BAND_SLACK, PatientReductions, bands_from_counts, means_kept, patient_reductions,
)
from ..present.context import VAS_BAND_CM
from ..validate import InfusionDates
from .rules import typed_infusion_rows
from .typed import TypedSource
from .summary import rows_of

if TYPE_CHECKING:
    import pandas as pd

FRAMES_UP_TO = 1_000_000
"""The most analysed infusions whose rows a database run fetches for results.rds's row-level frames. At 951,429
(140,000 patients, DuckDB) the fetch, the frames and their 11 MB of results.rds added 2 to 3 s to a 6 to 8 s run,
with the same peak memory (bench/bench_frames.py, docs/quarto.md); ten million, a registry analysed where it
is kept, would add tens of seconds, hundreds of MB of memory and a 100 MB file to a run that otherwise fetches a few
hundred rows."""


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


@dataclass(frozen=True)
class AnalysedRows:
    """The analysed infusions and their patients, fetched once from the engine (:func:`analysed_rows`)."""

    infusions: pd.DataFrame
    """infusion_id, patient_id, vas_pre, vas_post, patient_position (the row of its patient in :attr:`patients`)."""
    patients: pd.DataFrame
    """patient_id, is_index, n_analysed, diagnosis (normalised), relief_duration_days, relief_ongoing: every
    patient when fetched for the cross-check, else the analysed ones."""


def frames_fetched(n_analysed_infusions: int) -> bool:
    """Whether a database run fetches the rows of results.rds's row-level frames (at most ``FRAMES_UP_TO``)."""
    return n_analysed_infusions <= FRAMES_UP_TO


def frames_omitted_note(n_analysed_infusions: int, engine: str) -> str:
    """results.rds's ``row_frames_omitted``: why a database run's file has no row-level frames."""
    return (f"patient_means and analysed_infusions are omitted: this run analysed {n_analysed_infusions:,} "
            f"infusions in {engine}, more than the {FRAMES_UP_TO:,} whose rows ketareport fetches from a "
            "database for results.rds; the estimates, the cohort and characteristics_long are complete.")


def analysed_rows(typed: TypedSource, patients: Any, dates: InfusionDates, *, every_patient: bool) -> AnalysedRows:
    """The analysed infusions' ids and VAS, and their patients: one query each, typed as the check typed them.

    ``patients``: the kept per-patient table (its ``patient_id``, ``is_index``
    and ``n_analysed``); ``dates``: the infusion dates the check allowed;
    ``every_patient``: also the patients without an analysed infusion (the
    cross-check's table lists them).
    """
    import pyarrow.compute as pc

    infusions = typed_infusion_rows(typed.source, dates)
    analysed = infusions.filter(~infusions.excluded).select("infusion_id", "patient_id", "vas_pre", "vas_post")
    counted = patients.select("patient_id", "is_index", "n_analysed")
    if not every_patient:
        counted = counted.filter(counted.n_analysed > 0)
    described = typed.patients.select("diagnosis", "relief_duration_days", "relief_ongoing",
                                      described_id=typed.patients.patient_id)
    owners = counted.join(described, counted.patient_id == described.described_id)
    owners = owners.select("patient_id", "is_index", "n_analysed", "diagnosis", "relief_duration_days", "relief_ongoing")
    rows = analysed.to_pyarrow()
    owner_table = owners.to_pyarrow()
    # Each infusion's patient found by an Arrow hash join: every one has its patient (the check found no orphan).
    positions = pc.index_in(rows["patient_id"], value_set=owner_table["patient_id"].combine_chunks())
    frame = rows.to_pandas()
    frame["patient_position"] = positions.to_numpy().astype("int64")
    table = owner_table.to_pandas()
    table["n_analysed"] = table["n_analysed"].fillna(0)  # a patient without infusions: 0, or null if not coalesced
    table = table.astype({"is_index": bool, "n_analysed": "int64", "relief_duration_days": float, "relief_ongoing": bool})
    return AnalysedRows(frame.astype({"vas_pre": float, "vas_post": float}), table)


def analysis_table(rows: AnalysedRows) -> pd.DataFrame:
    """The R cross-check's analysis table (:func:`ketareport.export.analysis_table`) from rows fetched with every
    patient."""
    import pandas as pd

    from ..export import in_table_order

    infusions, patients = rows.infusions, rows.patients
    positions = infusions["patient_position"].to_numpy()
    owners = patients[["is_index", "relief_duration_days", "relief_ongoing"]].iloc[positions].reset_index(drop=True)
    analysed = pd.DataFrame({
        "patient_id": infusions["patient_id"].to_numpy(), "infusion_id": infusions["infusion_id"].to_numpy(),
        "reduction": infusions["vas_pre"].to_numpy(dtype=float) - infusions["vas_post"].to_numpy(dtype=float),
    }).join(owners)
    without = patients.loc[patients["n_analysed"] == 0, ["patient_id", "is_index", "relief_duration_days", "relief_ongoing"]]
    without = without.assign(infusion_id=pd.Series([None] * len(without), dtype=object, index=without.index),
                             reduction=float("nan"))
    table = pd.concat([analysed, without], ignore_index=True).rename(columns={"is_index": "index_group"})
    table = table.astype({"reduction": float, "relief_duration_days": float, "index_group": bool, "relief_ongoing": bool})
    return in_table_order(table)
