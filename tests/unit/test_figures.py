"""figures: three deterministic SVGs whose labels are the engine's numbers, and the choice of Figure 2's display."""

from __future__ import annotations

import html
import io
import re

import pytest

from ketareport.figures import POINTS_UP_TO, render_figures, vas_display
from ketareport.pipeline import run_analysis
from ketareport.present.formats import format_count, format_mean, plural

from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, with_cell, write_csv_dataset


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_analysis(write_csv_dataset(tmp_path_factory.mktemp("figures") / "data"))


@pytest.fixture(scope="module")
def figures(run):
    return render_figures(run)


def texts(svg: str) -> str:
    """The words an SVG shows (text is written as SVG text, not outlines), one space between runs."""
    return " ".join(re.sub(r"<[^>]+>", " ", svg).split())


def test_three_svgs_and_the_same_bytes_every_time(run, figures):
    assert sorted(figures) == ["flow", "relief", "vas"]
    assert all(svg.lstrip().startswith("<svg") and svg.rstrip().endswith("</svg>") for svg in figures.values())
    assert render_figures(run) == figures


def test_flow_diagram_counts_are_the_cohort(run, figures):
    cohort = run.results.cohort
    words = texts(figures["flow"])
    assert f"{format_count(cohort.n_infusions)} infusions, {format_count(cohort.n_patients)} patients" in words
    assert f"Excluded for missing data {format_count(cohort.n_infusions_excluded)} infusions" in words
    assert f"{format_count(cohort.n_infusions_analyzed)} infusions" in words


def test_vas_figure_labels_each_group_mean_and_size(run, figures):
    words = texts(figures["vas"])
    vas = run.results.vas
    options = run.config.analysis
    for label, estimate in ((options.index_label, vas.index), (options.comparison_label, vas.comparison)):
        assert f"{label} (n = {format_count(estimate.n)})" in words
        assert format_mean(estimate.estimate) in words


def test_relief_figure_names_each_threshold_and_its_fraction(run, figures):
    """Also when an interval reaches 100% (here lasting relief is 4 of 4: the label once fell off the axis)."""
    words = texts(figures["relief"])
    outcomes = run.results.relief.outcomes
    assert any(outcome.conf_high > 0.98 for outcome in outcomes)
    for outcome in outcomes:
        assert outcome.label in words and f"({outcome.x}/{outcome.n_evaluable})" in words


def test_figure_2_shows_points_until_a_group_is_crowded():
    assert vas_display(POINTS_UP_TO, 1) == "points"
    assert vas_display(POINTS_UP_TO + 1, 0) == "distribution"
    assert vas_display(3, 3, "distribution") == "distribution"


def test_figure_2_display_errors_properly():
    with pytest.raises(ValueError, match="unknown Figure 2 display 'bars'"):
        vas_display(3, 3, "bars")


def test_text_widths_are_the_fonts_advance_widths():
    """The figures' own reading of Pagella's cmap and hmtx gives what fontTools reads, for every character."""
    from fontTools.ttLib import TTFont

    from ketareport.drawing import FONT_DIR, _advances, text_width

    font = TTFont(FONT_DIR / "texgyrepagella-regular.otf")
    units, metrics = font["head"].unitsPerEm, font["hmtx"].metrics
    expected = {code: metrics[glyph][0] / units for code, glyph in font.getBestCmap().items() if code < 0x10000}
    widths, _ = _advances()
    assert widths == expected
    assert text_width("n = 18", 10) == pytest.approx(10 * sum(expected[ord(c)] for c in "n = 18"))


def test_figure_2_axis_spans_every_interval(run):
    """A confidence interval beyond the patients' values (and beyond 0 to 10 cm) is drawn whole, not clipped."""
    import dataclasses

    vas = run.results.vas
    wide = dataclasses.replace(vas.index, conf_low=-2.5, conf_high=13.5)
    wide_run = dataclasses.replace(run, results=dataclasses.replace(run.results, vas=dataclasses.replace(vas, index=wide)))
    svg = render_figures(wide_run)["vas"]
    height = float(re.search(r'viewBox="0 0 [\d.]+ ([\d.]+)"', svg).group(1))
    bottom_axis = max(float(y) for y in re.findall(r'<line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="\1" stroke="#1a1a1a" '
                                                      r'stroke-width="0.8"/>', svg))
    whiskers = re.findall(r'<line x1="([\d.]+)" y1="([\d.-]+)" x2="\1" y2="([\d.-]+)" stroke="#1a1a1a" stroke-width="1.1"/>', svg)
    assert len(whiskers) == 2
    for _, *ends in whiskers:
        top, bottom = sorted(float(y) for y in ends)
        assert 0 <= top < bottom <= bottom_axis < height
    assert ">\u22122.5<" in svg and ">12.5<" in svg  # ticks every 2.5 cm, as far as the interval reaches


# Patients with no infusion row, apart from the patients whose every infusion was excluded (trial 3, finding 6).
NO_INFUSION_PATIENTS = PATIENTS_CSV + "P7,headache,F,50,,,\n"
"""P7 has no infusion; P6 (I9 and I10) loses both infusions, I9 missing two items."""
LOST_INFUSIONS = with_cell(with_cell(INFUSIONS_CSV, 9, "ketamine_dose_mg", ""), 9, "vas_post", "")


@pytest.fixture(scope="module")
def run_without_infusions(tmp_path_factory):
    dataset = write_csv_dataset(tmp_path_factory.mktemp("no-infusion") / "data", NO_INFUSION_PATIENTS, LOST_INFUSIONS)
    return run_analysis(dataset)


def test_patients_without_any_infusion_are_counted_apart_from_the_exclusions(run_without_infusions):
    import pandas as pd

    patients, infusions = (pd.read_csv(io.StringIO(text), dtype=str) for text in (NO_INFUSION_PATIENTS, LOST_INFUSIONS))
    without = set(patients["patient_id"]) - set(infusions["patient_id"])
    cohort = run_without_infusions.results.cohort
    assert cohort.n_patients_without_infusions == len(without) >= 1
    assert cohort.n_patients_lost_to_exclusions == cohort.n_patients_not_analyzed - len(without) >= 1
    words = texts(render_figures(run_without_infusions)["flow"])
    assert (f"Identified {plural(cohort.n_patients, 'patient')}, {plural(cohort.n_infusions, 'infusion')} "
            f"No infusion recorded {plural(len(without), 'patient')} Excluded for missing data") in words
    # The exclusion box counts only the patients the exclusions left without an analysed infusion.
    assert f"patients left with no analysed infusion: {format_count(cohort.n_patients_lost_to_exclusions)}" in words
    assert f"analysed infusion: {format_count(cohort.n_patients_not_analyzed)}" not in words
    assert sum(cohort.excluded_missing_by_column.values()) > cohort.n_infusions_excluded
    assert "(some infusions miss several items)" in words


def test_flow_alt_text_separates_patients_without_infusions(run_without_infusions):
    from ketareport.present.build import build_context

    cohort = run_without_infusions.results.cohort
    alt = build_context(run_without_infusions).figures["flow"].alt
    assert (f"{plural(cohort.n_patients, 'patient')} and {plural(cohort.n_infusions, 'infusion')} identified; "
            f"{plural(cohort.n_patients_without_infusions, 'patient')} with no infusion recorded; "
            f"{plural(cohort.n_infusions_excluded, 'infusion')} excluded for missing data "
            f"({plural(cohort.n_patients_lost_to_exclusions, 'patient')} left with no analysed infusion)") in alt


def test_flow_without_such_patients_keeps_one_identified_box(run, figures):
    assert run.results.cohort.n_patients_without_infusions == 0
    words = texts(figures["flow"])
    assert "No infusion recorded" not in words and "some infusions miss" not in words
    assert words.startswith("Infusions identified")


def test_patients_without_infusions_print_through_small_cell_suppression(run_without_infusions):
    from ketareport.present.build import gather_facts
    from ketareport.present.small_cells import suppressed_count
    from ketareport.present.suppress import figures_as_protected, with_threshold

    threshold = 3
    protected = with_threshold(run_without_infusions, threshold)
    facts = gather_facts(protected)
    # One patient without infusions and one who lost them: both small, each hidden as the others are.
    assert facts.decisions.counts["n_patients_without_infusions"] == suppressed_count(threshold)
    assert facts.decisions.counts["n_patients_lost_to_exclusions"] == suppressed_count(threshold)
    masked, protection = figures_as_protected(protected, facts)
    words = html.unescape(texts(render_figures(masked, **protection)["flow"]))
    assert f"No infusion recorded {suppressed_count(threshold)} patients" in words
    assert f"analysed infusion: {suppressed_count(threshold)}" in words
