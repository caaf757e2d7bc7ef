"""Figure 2's data: band counts and (for small groups) the means, the same from means and from an engine's counts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ketareport.figures import render_figures
from ketareport.patient_reductions import (
    POINTS_UP_TO, PatientReductions, band_numbers, bands_from_counts, group_reductions, patient_reductions,
)
from ketareport.pipeline import run_analysis
from ketareport.present.context import SUPPRESSED_VAS_BAND_CM

from ..conftest import DEMO


def test_a_mean_a_rounding_error_below_a_band_edge_counts_in_the_band_above():
    summed = (6.4 + 6.6) / 2 - 2e-15  # a sum in another order may land just below 6.5
    assert summed < 6.5
    assert band_numbers(np.array([summed, 6.5, 6.9999, 7.0, -0.2])).tolist() == [13, 13, 13, 14, -1]


def test_bands_count_every_patient_with_the_extremes_of_each_band():
    means = np.array([1.2, 1.4, 1.6, 9.5, 1.3])
    group = group_reductions(means, keep_means=True)
    assert [(b.band, b.n, b.smallest, b.largest) for b in group.bands] == [(2, 3, 1.2, 1.4), (3, 1, 1.6, 1.6),
                                                                          (19, 1, 9.5, 9.5)]
    assert group.n == 5 and group.extent == (1.2, 9.5)
    kept = group.in_full_bands(2)
    assert kept.n == 3 and kept.means.tolist() == [1.2, 1.4, 1.3] and kept.extent == (1.2, 1.4)
    assert group.withheld().n == 0 and group.withheld().extent is None


def test_means_are_kept_only_for_groups_small_enough_to_draw_as_points():
    small = patient_reductions(np.array([True] * POINTS_UP_TO + [False]), np.linspace(0, 10, POINTS_UP_TO + 1))
    assert small.index.means is not None and small.comparison.means is not None
    large = patient_reductions(np.array([True] * (POINTS_UP_TO + 1) + [False]), np.linspace(0, 10, POINTS_UP_TO + 2))
    assert large.index.means is None and large.comparison.means is None
    assert large.index.n == POINTS_UP_TO + 1 and sum(b.n for b in large.index.bands) == POINTS_UP_TO + 1


def test_an_engine_s_band_counts_give_the_same_data_as_the_means():
    rng = np.random.default_rng(1)
    means = np.round(rng.uniform(-1, 10, 1000), 1)
    is_index = rng.uniform(size=1000) < 0.4  # over POINTS_UP_TO each: bands only
    from_means = patient_reductions(is_index, means)
    rows = [{"is_index": flag, "band": band.band, "n": band.n, "smallest": band.smallest, "largest": band.largest}
            for flag, group in ((True, from_means.index), (False, from_means.comparison)) for band in group.bands]
    rows.reverse()  # an engine returns its groups in any order
    assert PatientReductions(bands_from_counts(rows, True), bands_from_counts(rows, False)) == from_means


def test_figure_2_of_the_demo_draws_from_the_means_ordered_by_patient_id():
    run = run_analysis(DEMO)
    patients = run.cohort.analyzed_patients.sort_values("patient_id")
    assert run.patient_reductions.index.means.tolist() == patients.loc[patients["is_index"], "reduction"].tolist()
    assert run.patient_reductions.index.n == run.results.cohort.n_index_analyzed
    svg = render_figures(run, vas_display="distribution")["vas"]
    # One bar per occupied band of each group.
    assert svg.count("<rect") == len(run.patient_reductions.index.bands) + len(run.patient_reductions.comparison.bands)


def test_wide_bands_merged_from_the_narrow_ones_are_the_bands_of_the_means():
    """Small-cell suppression draws wider bands; a database returns only the narrow bands' counts, so the wide
    bands are merged from them on both paths, and must be what binning the means directly gives."""
    rng = np.random.default_rng(2)
    means = np.round(rng.uniform(-3, 10, 500), 1)  # on the 0.1 cm grid: band edges (2.5, 5.0, ...) included
    merged = group_reductions(means, keep_means=True).in_bands(SUPPRESSED_VAS_BAND_CM)
    numbers = np.floor(means / SUPPRESSED_VAS_BAND_CM)
    expected = [(int(k), int((numbers == k).sum()), means[numbers == k].min(), means[numbers == k].max())
                for k in np.unique(numbers)]
    assert [(b.band, b.n, b.smallest, b.largest) for b in merged.bands] == expected
    assert merged.n == 500 and merged.band_cm == SUPPRESSED_VAS_BAND_CM
    fullest = max(b.n for b in merged.bands)
    kept = merged.in_full_bands(fullest)
    assert kept.means.size == kept.n == sum(b.n for b in merged.bands if b.n == fullest)
    assert np.isin(np.floor(kept.means / SUPPRESSED_VAS_BAND_CM), [b.band for b in kept.bands]).all()
    with pytest.raises(ValueError, match="not made of bands"):
        merged.in_bands(0.7)


def test_under_suppression_a_band_is_as_wide_as_its_share_of_the_group():
    """A group whose drawn band holds half its patients draws a half-width bar, not a full one."""
    from ketareport.drawing import Canvas, Scale
    from ketareport.figures import _patient_distribution

    group = group_reductions(np.array([1.0, 1.1, 1.2, 1.3, 1.4, 6.0, 7.0, 8.0, 9.0, 4.0]), keep_means=False)
    drawn = group.in_protected_bands(5)
    assert (drawn.n, group.n) == (5, 10)
    widths = {}
    for name, shares_of in (("all drawn", None), ("suppressed", [group.n])):
        canvas = Canvas(200, 100)
        _patient_distribution(canvas, Scale(-0.5, 1.5, 0, 200), Scale(0, 10, 100, 0),
                              [("", drawn, None, "circle", "black", "black")], shares_of)
        widths[name] = float(re.search(r'<rect [^>]* width="([\d.]+)"', canvas.svg()).group(1))
    # The scale is 100 points per group spacing; a band of the whole group spans 0.4 of it.
    assert widths == {"all drawn": 40.0, "suppressed": 20.0}
