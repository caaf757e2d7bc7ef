"""The sufficient statistics of the VAS analysis: what the statistics layer works from.

Every VAS estimate the report prints — the patient-level one-sample t tests,
the Welch (or pooled) difference and the random-intercept REML model —
depends on the data only through the small tables defined here. Whoever
holds the infusions (pandas in :mod:`ketareport.cohort`, or a SQL engine)
computes them; :mod:`ketareport.analyze` turns them into results with the
pure functions of :mod:`ketareport.statistics`.

Contract (for any engine that produces these dataclasses)
----------------------------------------------------------

Notation: an *analysed infusion* has all four analysis columns present; its
reduction is ``y = vas_pre - vas_post``. An *analysed patient* has at least
one analysed infusion. ``is_index`` is true when the patient's normalised
diagnosis is the study's index diagnosis (``crps`` by default). Only
analysed infusions and patients enter any aggregate below.

1. Per patient (:class:`PatientAggregates`, one row per analysed patient,
   ``GROUP BY patient_id``)::

       n_infusions      COUNT(*)                        analysed infusions, >= 1
       mean_reduction   AVG(y)                          the patient's reduction (ȳ_i)
       within_ss        SUM((y - ȳ_i)^2)                centred; 0 for one infusion
                        (= VAR_POP(y) * COUNT(*), or COALESCE(VAR_SAMP(y), 0) * (COUNT(*) - 1))
       reduction_range  MAX(y) - MIN(y)                 0 for one infusion
       is_index         the patient's group

2. Moments of the patients' reductions (:class:`Moments`, three of them in
   :class:`VasAggregates`: ``index``, ``comparison``, ``overall``; over the
   rows of table 1, ``GROUP BY is_index`` and once over all rows)::

       n      COUNT(*)
       mean   AVG(mean_reduction)                       NaN when n = 0
       m2     SUM((mean_reduction - mean)^2)            centred, never Σx² - n·mean²
              (= VAR_POP(mean_reduction) * COUNT(*))

   ``overall`` may also be :meth:`Moments.pooled` of the two groups (exact
   up to rounding). With them, ``n_patients_improved``:
   ``COUNT(*) FILTER (WHERE mean_reduction > 0)`` over table 1.

3. Cells for the mixed model (:class:`MixedModelCell`, over the rows of
   table 1, ``GROUP BY is_index, n_infusions``; a few dozen rows whatever
   the size of the data)::

       is_index, n_infusions                            the cell's key (n_i)
       n_patients       COUNT(*)
       mean_of_means    AVG(mean_reduction)
       m2_of_means      SUM((mean_reduction - mean_of_means)^2)   centred within the cell
       within_ss        SUM(within_ss)
       max_range        MAX(reduction_range)

   The REML criterion of ``reduction ~ is_index + (1 | patient_id)`` is an
   exact function of these cells (see
   :func:`ketareport.statistics.random_intercept_reml_from_cells`).

Centred sums, not raw sums of squares, keep the 1e-8 relative agreement with
R that ``tests/r`` checks: a two-pass computation (group mean first, then
deviations) or an engine's ``VAR_POP``/``VAR_SAMP`` (Welford-type) both do.
Cells are sorted by ``(is_index, n_infusions)``; the statistics do not depend
on the order.

Relief (counts over patients with a recorded duration) and Tables 1 and 2
(counts, means, SDs, exact quantiles) are not part of this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Moments:
    """Count, mean and centred sum of squares of a sample (what a t test needs)."""

    n: int
    mean: float
    """NaN when n = 0."""
    m2: float
    """Sum of squared deviations from ``mean``; 0 when n <= 1."""

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        """Two-pass moments; ``mean`` and ``m2`` are numpy's ``mean()`` and ``var(ddof=0) * n``, bit for bit."""
        values = np.asarray(values, dtype=float)
        n = int(values.size)
        if n == 0:
            return cls(0, math.nan, 0.0)
        mean = float(values.mean())
        deviations = values - mean
        return cls(n, mean, float(np.sum(deviations * deviations)))

    @classmethod
    def pooled(cls, first: Moments, second: Moments) -> Moments:
        """The moments of two samples together (Chan et al.'s pairwise update)."""
        if first.n == 0:
            return second
        if second.n == 0:
            return first
        n = first.n + second.n
        delta = second.mean - first.mean
        mean = first.mean + delta * second.n / n
        return cls(n, mean, first.m2 + second.m2 + delta * delta * first.n * second.n / n)

    @property
    def variance(self) -> float:
        """Sample variance (n - 1 denominator); NaN for fewer than 2 values."""
        return self.m2 / (self.n - 1) if self.n > 1 else math.nan


@dataclass(frozen=True)
class PatientAggregates:
    """Table 1 of the contract: one entry per analysed patient, as aligned arrays."""

    patient_id: np.ndarray
    is_index: np.ndarray
    n_infusions: np.ndarray
    mean_reduction: np.ndarray
    within_ss: np.ndarray
    reduction_range: np.ndarray

    def __len__(self) -> int:
        return int(self.n_infusions.size)


@dataclass(frozen=True)
class MixedModelCell:
    """Table 3 of the contract: the analysed patients of one group with the same number of infusions."""

    is_index: bool
    n_infusions: int
    n_patients: int
    mean_of_means: float
    m2_of_means: float
    within_ss: float
    max_range: float


@dataclass(frozen=True)
class VasAggregates:
    """Everything the VAS analysis needs: moments of the patients' reductions and the mixed model's cells."""

    index: Moments
    comparison: Moments
    overall: Moments
    cells: tuple[MixedModelCell, ...]
    n_patients_improved: int
    """Analysed patients whose mean reduction is above 0 (their VAS fell)."""


def patient_aggregates(
    patient_codes: np.ndarray, reduction: np.ndarray, n_patients: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-patient (n, mean, within-SS, range) of the non-missing ``reduction`` values, in one pass per sum.

    ``patient_codes[k]`` is the position (0 .. n_patients-1) of infusion k's
    patient; NaN reductions (excluded infusions) count nowhere. Patients
    without an analysed infusion get n 0 and NaN for the rest.
    """
    analysed = ~np.isnan(reduction)
    codes, values = patient_codes[analysed], reduction[analysed]
    counts = np.bincount(codes, minlength=n_patients)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.bincount(codes, weights=values, minlength=n_patients).astype(float) / counts
    deviations = values - means[codes]
    within_ss = np.bincount(codes, weights=deviations * deviations, minlength=n_patients).astype(float)
    low = np.full(n_patients, np.inf)
    high = np.full(n_patients, -np.inf)
    np.minimum.at(low, codes, values)
    np.maximum.at(high, codes, values)
    empty = counts == 0
    within_ss[empty] = np.nan
    spread = np.where(empty, np.nan, high - low)
    return counts, means, within_ss, spread


def vas_aggregates(patients: PatientAggregates) -> VasAggregates:
    """Collapse table 1 to the moments and cells of tables 2 and 3."""
    means = np.asarray(patients.mean_reduction, dtype=float)
    is_index = np.asarray(patients.is_index, dtype=bool)
    sizes = np.asarray(patients.n_infusions, dtype=np.int64)
    cells = []
    if sizes.size:
        keys, cell_of = np.unique(np.column_stack([is_index.astype(np.int64), sizes]), axis=0, return_inverse=True)
        cell_of = cell_of.ravel()
        count = np.bincount(cell_of, minlength=len(keys))
        cell_mean = np.bincount(cell_of, weights=means, minlength=len(keys)) / count
        deviations = means - cell_mean[cell_of]
        cell_m2 = np.bincount(cell_of, weights=deviations * deviations, minlength=len(keys))
        cell_within = np.bincount(cell_of, weights=patients.within_ss, minlength=len(keys))
        cell_range = np.full(len(keys), -np.inf)
        np.maximum.at(cell_range, cell_of, np.asarray(patients.reduction_range, dtype=float))
        cells = [
            MixedModelCell(bool(key[0]), int(key[1]), int(k), float(mean), float(m2), float(within), float(spread))
            for key, k, mean, m2, within, spread in zip(keys, count, cell_mean, cell_m2, cell_within, cell_range, strict=True)
        ]
    return VasAggregates(
        index=Moments.of(means[is_index]),
        comparison=Moments.of(means[~is_index]),
        overall=Moments.of(means),
        cells=tuple(cells),
        n_patients_improved=int(np.count_nonzero(means > 0)),
    )
