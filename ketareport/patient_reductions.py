"""Figure 2's data: each group's analysed patients' mean VAS reductions, in as few numbers as the figure draws.

Figure 2 (:mod:`ketareport.figures`) draws each patient's mean reduction as
a marker (``points``), or only how many of a group's patients lie in each
band of ``VAS_BAND_CM`` (``distribution``). One small value serves both:
per group, the patients' counts per band (with each band's smallest and
largest mean, which set the axis), and the means themselves only where the
larger group has at most ``POINTS_UP_TO`` patients, so that they can be
drawn. The file path makes it from the cohort (:func:`patient_reductions`);
a database makes it from one query in the engine
(:mod:`ketareport.sources.report_inputs`), which returns at most a few
hundred rows whatever the size of the data.

Under small-cell suppression Figure 2 draws wider bands (``SUPPRESSED_VAS_BAND_CM``,
a multiple of ``VAS_BAND_CM`` on the same grid anchored at 0):
:meth:`GroupReductions.in_bands` merges the fine bands into them, so the file
path and a database (which returns only the fine bands' counts) draw the same
bands from the same numbers.

The means are ordered by ``patient_id`` (text order), not by the order the
rows were stored in: a database has no row order, and the points' seeded
jitter then falls on the same patients from files and from a database.

A mean's band is ``floor(mean / VAS_BAND_CM + BAND_SLACK)``: bands are
``[k w, (k + 1) w)``, and a mean within ``BAND_SLACK`` bands below an edge
(a patient whose mean is 6.5 cm, summed to 6.4999999999999991) counts in
the band above it, whatever order the engine summed the infusions in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .present.context import SUPPRESSED_VAS_BAND_CM, VAS_BAND_CM

POINTS_UP_TO = 300
"""Patients in the larger group up to which Figure 2 is drawn with ``points`` unless the caller chooses; up to it
the means themselves are kept."""
BAND_SLACK = 1e-9
"""In bands (of ``VAS_BAND_CM``): how far below a band's lower edge a mean still counts in it (rounding of sums)."""


@dataclass(frozen=True)
class ReductionBand:
    """The patients of one group whose mean reduction lies in ``[band * w, (band + 1) * w)`` (``w``: the group's
    ``band_cm``)."""

    band: int
    n: int
    smallest: float
    largest: float


@dataclass(frozen=True)
class GroupReductions:
    """One group's analysed patients' mean reductions, as Figure 2 may draw them."""

    n: int
    bands: tuple[ReductionBand, ...]
    """The bands holding at least one patient, lowest first."""
    means: np.ndarray | None
    """Each patient's mean reduction, ordered by patient_id; None when either group has over ``POINTS_UP_TO``."""
    band_cm: float = VAS_BAND_CM
    """The width of the bands (cm)."""

    @property
    def extent(self) -> tuple[float, float] | None:
        """The smallest and the largest mean; None for no patient."""
        if not self.bands:
            return None
        return self.bands[0].smallest, self.bands[-1].largest

    def withheld(self) -> GroupReductions:
        """No patient drawn (a group whose mean is withheld under small-cell suppression)."""
        return GroupReductions(0, (), None if self.means is None else self.means[:0], self.band_cm)

    def in_bands(self, band_cm: float) -> GroupReductions:
        """The same patients in bands of ``band_cm``, a multiple of the bands' width: each wide band is the sum of
        the narrow bands it holds (its smallest and largest mean theirs)."""
        factor = round(band_cm / self.band_cm)
        if factor < 1 or not math.isclose(factor * self.band_cm, band_cm):
            raise ValueError(f"bands of {band_cm:g} cm are not made of bands of {self.band_cm:g} cm")
        merged: dict[int, list[ReductionBand]] = {}
        for band in self.bands:
            merged.setdefault(band.band // factor, []).append(band)
        bands = tuple(ReductionBand(number, sum(b.n for b in held), held[0].smallest, held[-1].largest)
                      for number, held in sorted(merged.items()))
        return GroupReductions(self.n, bands, self.means, band_cm)

    def in_full_bands(self, fewest: int) -> GroupReductions:
        """Only the patients of bands holding at least ``fewest`` of them (small-cell suppression)."""
        kept = tuple(band for band in self.bands if band.n >= fewest)
        means = self.means
        if means is not None:
            factor = round(self.band_cm / VAS_BAND_CM)
            means = means[np.isin(band_numbers(means) // factor, [band.band for band in kept])]
        return GroupReductions(sum(band.n for band in kept), kept, means, self.band_cm)

    def in_protected_bands(self, fewest: int) -> GroupReductions:
        """What Figure 2 draws of the group under small-cell suppression, and what its caption describes: bands of
        ``SUPPRESSED_VAS_BAND_CM``, only those of at least ``fewest`` patients."""
        return self.in_bands(SUPPRESSED_VAS_BAND_CM).in_full_bands(fewest)


@dataclass(frozen=True)
class PatientReductions:
    """Figure 2's data: the index and the comparison group."""

    index: GroupReductions
    comparison: GroupReductions


def band_numbers(means: np.ndarray) -> np.ndarray:
    """Each mean's band number (see the module docstring); the engines compute the same expression."""
    return np.floor(np.asarray(means, dtype=float) / VAS_BAND_CM + BAND_SLACK).astype(np.int64)


def means_kept(n_index: int, n_comparison: int) -> bool:
    """Whether Figure 2's data keeps the patients' means (it may then draw them as points)."""
    return max(n_index, n_comparison) <= POINTS_UP_TO


def group_reductions(means: np.ndarray, *, keep_means: bool) -> GroupReductions:
    """One group's data from its patients' means (already ordered by patient_id)."""
    means = np.asarray(means, dtype=float)
    numbers = band_numbers(means)
    bands = []
    for number in np.unique(numbers):
        inside = means[numbers == number]
        bands.append(ReductionBand(int(number), int(inside.size), float(inside.min()), float(inside.max())))
    return GroupReductions(int(means.size), tuple(bands), means if keep_means else None)


def patient_reductions(is_index: np.ndarray, means: np.ndarray) -> PatientReductions:
    """Figure 2's data from every analysed patient's group flag and mean reduction, ordered by patient_id."""
    is_index = np.asarray(is_index, dtype=bool)
    means = np.asarray(means, dtype=float)
    keep = means_kept(int(is_index.sum()), int((~is_index).sum()))
    return PatientReductions(group_reductions(means[is_index], keep_means=keep),
                             group_reductions(means[~is_index], keep_means=keep))


def bands_from_counts(rows: list[dict], is_index: bool) -> GroupReductions:
    """One group's data from an engine's band counts (``is_index``, ``band``, ``n``, ``smallest``, ``largest``)."""
    bands = sorted(
        (ReductionBand(int(row["band"]), int(row["n"]), float(row["smallest"]), float(row["largest"]))
         for row in rows if bool(row["is_index"]) == is_index),
        key=lambda band: band.band,
    )
    return GroupReductions(sum(band.n for band in bands), tuple(bands), None)
