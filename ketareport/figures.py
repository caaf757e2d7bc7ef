"""The report's figures as lean, deterministic SVG, written directly.

Each figure is a few dozen elements (lines, rectangles, markers, text) laid
out here in points with :mod:`ketareport.drawing`: no plotting library is
imported, so drawing them costs milliseconds, and the PDF has little to
draw. Text is SVG text, not glyph outlines, in the report's own serif
(TeX Gyre Pagella, shipped in ``ketareport/fonts``), selectable and
searchable in the PDF. Where the layout depends on a text's width (margins,
box widths), the width is measured from the shipped font's advance widths.
Each line of text is its own ``<text>`` element; counts print through
``count`` (small-cell suppression hides some). Nothing random or dated is written: the same results give
byte-identical files (the jitter is seeded). Groups differ by marker shape
and fill as well as by position — nothing is encoded by colour alone.
Figure 2 draws one marker per patient, or, for large groups or when the
caller asks (small-cell suppression), only each group's distribution in
bands, from the run's :class:`~ketareport.patient_reductions.PatientReductions`
(the same small value from files and from a database).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .drawing import LINE_SPACING, TEXT_SIZE, Canvas, Scale, nice_ticks, text_width, tick_label
from .patient_reductions import POINTS_UP_TO, GroupReductions
from .present.formats import (ANALYSIS_COLUMN_LABELS, CountText, exact_count, format_count, format_mean,
                              format_proportion)

if TYPE_CHECKING:
    from .pipeline import AnalysisRun

GREY = "#6b6b6b"
GRID = "#d9d9d9"
INDEX_COLOUR = "#1f4e79"
COMPARISON_COLOUR = "#8c5a00"
JITTER_SEED = 20120201
MARKER_AREA = 22.0
"""Marker area (pt²) for a group of up to ``CROWDED_GROUP`` patients; larger groups get smaller, fainter
markers (area ∝ 1/n) so that a cloud of hundreds still shows where the patients lie."""
CROWDED_GROUP = 100
VAS_DISPLAYS = ("points", "distribution")
"""Figure 2 shows each patient's mean reduction as a marker (``points``), or only the share of each
group's patients in bands of ``VAS_BAND_CM``, ``SUPPRESSED_VAS_BAND_CM`` under small-cell suppression
(``distribution``: no individual value is drawn)."""

NOTE_SIZE = 9.0
"""Values written beside the marks (group means, relief probabilities)."""
BOX_TEXT_SIZE = 9.5
TICK = 3.5
"""Tick length (pt), outwards."""


def vas_display(n_index: int, n_comparison: int, requested: str | None = None) -> str:
    """Figure 2's display: the caller's choice, else ``points`` up to ``POINTS_UP_TO`` patients per group."""
    if requested is not None:
        if requested not in VAS_DISPLAYS:
            raise ValueError(f"unknown Figure 2 display {requested!r}: one of {', '.join(VAS_DISPLAYS)}")
        return requested
    return "points" if max(n_index, n_comparison) <= POINTS_UP_TO else "distribution"


def render_figures(run: AnalysisRun, *, vas_display: str = "points", count: CountText = exact_count,
                   fewest_in_band: int = 1) -> dict[str, str]:
    """Figure name (``flow``, ``vas``, ``relief``) -> SVG text; ``vas_display`` is one of ``VAS_DISPLAYS``;
    Figure 2 draws no patient of a band of fewer than ``fewest_in_band`` (small-cell suppression: N)."""
    return {"flow": _flow(run, count), "vas": _vas(run, vas_display, count, fewest_in_band), "relief": _relief(run)}


# Figure 1: flow of infusions and patients -------------------------------------------------------------------

@dataclass(frozen=True)
class _Box:
    centre: float
    top: float
    width: float
    lines: tuple[str, ...]

    @property
    def height(self) -> float:
        return LINE_SPACING * BOX_TEXT_SIZE * len(self.lines) + 9

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def left(self) -> float:
        return self.centre - self.width / 2

    @property
    def right(self) -> float:
        return self.centre + self.width / 2

    def draw(self, canvas: Canvas) -> None:
        canvas.rect(self.left, self.top, self.width, self.height, radius=3)
        canvas.lines(self.centre, self.top + self.height / 2, list(self.lines), size=BOX_TEXT_SIZE, anchor="middle")


def _box_width(lines: list[str], at_least: float) -> float:
    return max(at_least, max(text_width(line, BOX_TEXT_SIZE) for line in lines) + 16)


FLOW_WIDTH = 446.0
"""Points (6.2 in): the page shows Figure 1 at 82% of the text width."""
FLOW_GAP = 10.0


def _flow(run: AnalysisRun, count: CountText) -> str:
    cohort, options = run.results.cohort, run.config.analysis
    def counts(*names: str) -> str:
        return ", ".join(count(name, getattr(cohort, name), "infusion" if "infusions" in name else "patient") for name in names)
    missing = [f"{ANALYSIS_COLUMN_LABELS[column]} missing: {count(('missing', column), n)}"
               for column, n in cohort.excluded_missing_by_column.items() if n]
    if sum(cohort.excluded_missing_by_column.values()) > cohort.n_infusions_excluded:
        missing.append("(some infusions miss several items)")
    if cohort.n_patients_lost_to_exclusions:
        # Their infusions are all among the excluded: the patients leave the VAS analysis with them.
        missing += ["patients left with no", "analysed infusion: "
                    + count("n_patients_lost_to_exclusions", cohort.n_patients_lost_to_exclusions)]
    # Patients without any infusion row are counted from the patients table, apart from the exclusions.
    no_infusion = (["No infusion recorded",
                    count("n_patients_without_infusions", cohort.n_patients_without_infusions, "patient")]
                   if cohort.n_patients_without_infusions else [])
    identified = (["Identified", counts("n_patients", "n_infusions")] if no_infusion
                  else ["Infusions identified", counts("n_infusions", "n_patients")])
    excluded = ["Excluded for missing data", count("n_infusions_excluded", cohort.n_infusions_excluded, "infusion"), *missing]
    analysed = ["Infusions analysed", counts("n_infusions_analyzed", "n_patients_analyzed")]
    index = [options.index_label, counts("n_index_analyzed", "n_index_infusions_analyzed")]
    comparison = [options.comparison_label, counts("n_comparison_analyzed", "n_comparison_infusions_analyzed")]

    # The main column on the left third, the exclusions to its right, one below the other; the two groups below.
    main = 0.32 * FLOW_WIDTH
    top = _Box(main, 2, _box_width(identified, 0.5 * FLOW_WIDTH), tuple(identified))
    sides, side_top = [], top.bottom + FLOW_GAP
    for lines in (no_infusion, excluded):
        if lines:
            width = _box_width(lines, 0.42 * FLOW_WIDTH)
            sides.append(_Box(main + 0.25 * FLOW_WIDTH + width / 2, side_top, width, tuple(lines)))
            side_top = sides[-1].bottom + FLOW_GAP
    middle = _Box(main, max(side_top, top.bottom + 4 * FLOW_GAP), _box_width(analysed, 0.5 * FLOW_WIDTH),
                  tuple(analysed))
    left_width = _box_width(index, 0.3 * FLOW_WIDTH)
    left = _Box(max(0.18 * FLOW_WIDTH, left_width / 2 + 2), middle.bottom + 4 * FLOW_GAP, left_width, tuple(index))
    right_width = _box_width(comparison, 0.34 * FLOW_WIDTH)
    right = _Box(max(0.53 * FLOW_WIDTH, left.right + 2 * FLOW_GAP + right_width / 2), left.top, right_width,
                 tuple(comparison))
    canvas = Canvas(FLOW_WIDTH, right.bottom + 2)
    for box in (top, *sides, middle, left, right):
        box.draw(canvas)
    canvas.arrow((main, top.bottom), (main, middle.top))
    for side in sides:
        canvas.arrow((main, side.top + side.height / 2), (side.left, side.top + side.height / 2))
    canvas.arrow((main - 0.07 * FLOW_WIDTH, middle.bottom), (left.centre + 0.01 * FLOW_WIDTH, left.top))
    canvas.arrow((main + 0.07 * FLOW_WIDTH, middle.bottom), (right.centre - 0.02 * FLOW_WIDTH, right.top))
    return canvas.svg()


# Figure 2: mean reduction in VAS per patient, by group ------------------------------------------------------

VAS_WIDTH, VAS_HEIGHT = 374.0, 259.0
"""Points (5.2 × 3.6 in)."""


def _vas(run: AnalysisRun, display: str, count: CountText, fewest_in_band: int = 1) -> str:
    reductions = run.patient_reductions
    if reductions is None:
        raise ValueError("this run of a database fetched no data for Figure 2: run_analysis(..., report=True)")
    options, vas = run.config.analysis, run.results.vas
    groups = [
        (options.index_label, reductions.index, vas.index, "circle", INDEX_COLOUR, INDEX_COLOUR),
        (options.comparison_label, reductions.comparison, vas.comparison, "square", COMPARISON_COLOUR, "white"),
    ]
    # A group whose mean is withheld (small-cell suppression) draws none of its patients either.
    groups = [(label, data if e.estimate is not None else data.withheld(), e, *rest) for label, data, e, *rest in groups]
    shares_of = None
    if fewest_in_band > 1:
        # Wider bands (the same for any data), and no band of fewer patients, which would show them; those do not
        # stretch the axis either. A band's width is its share of the group's patients, so that a group whose
        # bands leave many out looks it, unless the group's size is hidden: the shares would give it back.
        sizes = [data.n if count(name, data.n) == format_count(data.n) else None
                 for name, (_, data, *_) in zip(("n_index_analyzed", "n_comparison_analyzed"), groups, strict=True)]
        groups = [(label, data.in_protected_bands(fewest_in_band), *rest) for label, data, *rest in groups]
        shares_of = [size or g[1].n for size, g in zip(sizes, groups, strict=True)]
    # Every patient and every interval inside the axis, which runs from 0 to at least 10 cm; under suppression
    # every drawn band whole (its edges, not its patients' extremes: a wide band's bar may reach past them).
    if shares_of is None:
        shown = [v for g in groups if g[1].extent is not None for v in g[1].extent]
    else:
        shown = [edge * g[1].band_cm for g in groups for band in g[1].bands for edge in (band.band, band.band + 1)]
    shown += [float(v) for g in groups for v in (g[2].conf_low, g[2].conf_high, g[2].estimate) if v is not None]
    low, high = min([0.0, *shown]) - 0.3, max([10.0, *shown]) + 0.3
    ticks = nice_ticks(low, high)
    labels = [tick_label(t, ticks) for t in ticks]
    axis_title_x = TEXT_SIZE * 0.8
    plot_left = axis_title_x + TEXT_SIZE * 0.9 + max(text_width(label, TEXT_SIZE) for label in labels) + TICK + 3
    plot_bottom = VAS_HEIGHT - (TICK + 3 + 2 * LINE_SPACING * TEXT_SIZE + 2)
    x = Scale(-0.5, len(groups) - 0.25, plot_left, VAS_WIDTH - 2)
    y = Scale(low, high, plot_bottom, TEXT_SIZE * 0.6)
    canvas = Canvas(VAS_WIDTH, VAS_HEIGHT)

    canvas.line(x.start, y(0), x.end, y(0), colour=GREY, width=0.6, dash="0.6 1.2")
    if display == "points":
        _patient_points(canvas, x, y, groups)
    else:
        _patient_distribution(canvas, x, y, groups, shares_of)
    for position, (_, _, estimate, *_) in enumerate(groups):
        if estimate.estimate is not None:
            canvas.line(x(position + 0.24), y(estimate.estimate), x(position + 0.44), y(estimate.estimate), width=2)
            if estimate.conf_low is not None:
                canvas.line(x(position + 0.34), y(estimate.conf_low), x(position + 0.34), y(estimate.conf_high), width=1.1)
            canvas.text(x(position + 0.47), y(estimate.estimate), format_mean(estimate.estimate), size=NOTE_SIZE)

    canvas.line(x.start, y.start, x.start, y.end)
    canvas.line(x.start, y.start, x.end, y.start)
    for value, label in zip(ticks, labels, strict=True):
        canvas.line(x.start - TICK, y(value), x.start, y(value))
        canvas.text(x.start - TICK - 3, y(value), label, anchor="end")
    for position, (label, name) in enumerate(zip((g[0] for g in groups), ("n_index_analyzed", "n_comparison_analyzed"))):
        canvas.line(x(position), y.start, x(position), y.start + TICK)
        canvas.lines(x(position), y.start + TICK + 3 + LINE_SPACING * TEXT_SIZE,
                     [label, f"(n = {count(name, getattr(run.results.cohort, name))})"], anchor="middle")
    canvas.text(axis_title_x, (y.start + y.end) / 2, "Mean reduction in VAS per patient (cm)", anchor="middle",
                rotate=-90)
    return canvas.svg()


def _patient_points(canvas: Canvas, x: Scale, y: Scale, groups) -> None:
    """One marker per patient, jittered sideways (seeded)."""
    jitter = np.random.default_rng(JITTER_SEED)
    for position, (_, data, _, marker, edge, face) in enumerate(groups):
        values = _means(data)
        offsets = jitter.uniform(-0.16, 0.16, values.size)
        crowding = min(1.0, CROWDED_GROUP / max(values.size, 1))
        diameter = math.sqrt(max(3.0, MARKER_AREA * crowding))
        stroke = 0.9 * max(crowding, 0.5) ** 0.5
        opacity = 0.85 if crowding == 1 else 0.5
        for offset, value in zip(offsets, values, strict=True):
            cx, cy = x(position + offset), y(float(value))
            if marker == "circle":
                canvas.circle(cx, cy, diameter / 2, stroke=edge, fill=face, stroke_width=stroke, opacity=opacity)
            else:
                side = 0.9 * diameter
                canvas.rect(cx - side / 2, cy - side / 2, side, side, stroke=edge, fill=face, stroke_width=stroke,
                            opacity=opacity)


def _means(data: GroupReductions) -> np.ndarray:
    if data.means is None:
        if data.n == 0:
            return np.empty(0)
        raise ValueError(f"Figure 2 cannot draw {data.n} patients as points: its data keeps the means only up to "
                         f"{POINTS_UP_TO} patients per group (draw the distribution)")
    return data.means


def _patient_distribution(canvas: Canvas, x: Scale, y: Scale, groups, shares_of: list[int] | None = None) -> None:
    """Each group's patients as a mirrored histogram: bar width = share of the group's patients in the band.

    Bands are the groups' ``band_cm`` wide on a grid anchored at 0. Without ``shares_of`` (every patient drawn)
    the widest band of either group spans 0.4 of the space between groups, so the two shapes compare; with it
    (small-cell suppression: per group, the patients a share is of) a band holding all of them would, so that
    the bands left out show as missing width.
    """
    numbers = [band.band for g in groups for band in g[1].bands]
    if not numbers:
        return
    band_cm = groups[0][1].band_cm
    span = range(min(numbers), max(numbers) + 1)
    totals = shares_of or [g[1].n for g in groups]
    shares = [{band.band: band.n / total for band in g[1].bands} for g, total in zip(groups, totals, strict=True)]
    widest = 1.0 if shares_of else max((share for by_band in shares for share in by_band.values()), default=0.0) or 1.0
    bar = band_cm * 0.92
    for position, ((_, _, _, _, edge, face), by_band) in enumerate(zip(groups, shares, strict=True)):
        for number in span:
            part = by_band.get(number, 0.0)
            if part <= 0:
                continue
            centre = (number + 0.5) * band_cm
            half = 0.2 * part / widest
            top = y(centre + bar / 2)
            canvas.rect(x(position - 0.04 - half), top, x(position - 0.04 + half) - x(position - 0.04 - half),
                        y(centre - bar / 2) - top, stroke=edge, fill=face, stroke_width=0.6,
                        opacity=0.75 if face != "white" else None)


# Figure 3: probability of relief beyond each threshold ------------------------------------------------------

RELIEF_WIDTH = 374.0
"""Points (5.2 in); the height grows with the number of thresholds."""


def _relief(run: AnalysisRun) -> str:
    relief = run.results.relief
    outcomes = relief.outcomes
    height = 72 * (0.8 + 0.55 * len(outcomes))
    rows = [(o, [o.label, f"({o.rule})"]) for o in reversed(outcomes)]
    plot_left = max(text_width(line, TEXT_SIZE) for _, lines in rows for line in lines) + TICK + 5
    plot_bottom = height - (TICK + 3 + 2 * LINE_SPACING * TEXT_SIZE + 4)
    ticks = [0, 20, 40, 60, 80, 100]
    x = Scale(0, 100, plot_left, RELIEF_WIDTH - 2 - text_width("100", TEXT_SIZE) / 2)
    y = Scale(-0.6, len(outcomes) - 0.4, plot_bottom, 2)
    canvas = Canvas(RELIEF_WIDTH, height)
    for value in ticks:
        canvas.line(x(value), y.start, x(value), y.end, colour=GRID, width=0.6)
    for row, (outcome, _) in enumerate(rows):
        if outcome.estimate is None:
            continue
        low, high, estimate = 100 * outcome.conf_low, 100 * outcome.conf_high, 100 * outcome.estimate
        canvas.line(x(low), y(row), x(high), y(row), width=1.4)
        for end in (low, high):
            canvas.line(x(end), y(row - 0.12), x(end), y(row + 0.12), width=1.4)
        centre_x, centre_y, reach = x(estimate), y(row), 3.6
        canvas.polygon([(centre_x, centre_y - reach), (centre_x + reach, centre_y), (centre_x, centre_y + reach),
                        (centre_x - reach, centre_y)])
        label = f"{format_proportion(outcome.estimate)} ({outcome.x}/{outcome.n_evaluable})"
        # Right of the interval (the figure widens for a label that runs past 100%), else left of it when it
        # fits there, else above the estimate.
        if high + 2 <= 100:
            canvas.text(x(high + 2), y(row), label, size=NOTE_SIZE)
        elif low - 2 - 100 * text_width(label, NOTE_SIZE) / (x.end - x.start) >= 0:
            canvas.text(x(low - 2), y(row), label, size=NOTE_SIZE, anchor="end")
        else:
            canvas.text(x(estimate), y(row + 0.3), label, size=NOTE_SIZE, anchor="middle")
    canvas.line(x.start, y.start, x.start, y.end)
    canvas.line(x.start, y.start, x.end, y.start)
    for row, (_, lines) in enumerate(rows):
        canvas.line(x.start - TICK, y(row), x.start, y(row))
        canvas.lines(x.start - TICK - 3, y(row), lines, anchor="end")
    for value in ticks:
        canvas.line(x(value), y.start, x(value), y.start + TICK)
        canvas.text(x(value), y.start + TICK + 3 + 0.5 * TEXT_SIZE, str(value), anchor="middle")
    canvas.text((x.start + x.end) / 2, y.start + TICK + 3 + (0.5 + LINE_SPACING) * TEXT_SIZE,
                f"Probability of relief (%), {100 * relief.conf_level:g}% interval", anchor="middle")
    return canvas.svg()
