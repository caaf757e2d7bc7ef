"""The report's figures as deterministic SVG (matplotlib).

Text is written as SVG text (``svg.fonttype = "none"``), not as glyph
outlines, in the report's own serif (TeX Gyre Pagella, shipped in
``ketareport/fonts``): the HTML and its PDF embed that face as ``Pagella``;
Typst and stand-alone viewers find it as ``TeX Gyre Pagella`` (the Quarto
project passes the font folder). A figure is then a few dozen nodes instead
of thousands of outline paths, and its words are selectable and searchable
in the PDF. ``svg.hashsalt`` is fixed and no date is written, so the same
results give byte-identical files. Groups differ by marker shape and fill as
well as by position — nothing is encoded by colour alone. Figure 2 draws
one marker per patient, or, for large groups or when the caller asks
(small-cell suppression), only each group's distribution in bands.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .present.context import VAS_BAND_CM
from .present.formats import ANALYSIS_COLUMN_LABELS, format_count, format_mean, format_proportion, plural

if TYPE_CHECKING:
    from .pipeline import AnalysisRun

FONT_DIR = Path(__file__).parent / "fonts"
FONT_FAMILY = "TeX Gyre Pagella"
FONT_STACK = f"font-family: Pagella, '{FONT_FAMILY}', serif"
INK = "#1a1a1a"
GREY = "#6b6b6b"
INDEX_COLOUR = "#1f4e79"
COMPARISON_COLOUR = "#8c5a00"
JITTER_SEED = 20120201
MARKER_AREA = 22.0
"""Marker area (pt²) for a group of up to ``CROWDED_GROUP`` patients; larger groups get smaller, fainter
markers (area ∝ 1/n) so that a cloud of hundreds still shows where the patients lie."""
CROWDED_GROUP = 100
VAS_DISPLAYS = ("points", "distribution")
"""Figure 2 shows each patient's mean reduction as a marker (``points``), or only the share of each
group's patients in bands of ``VAS_BAND_CM`` (``distribution``: no individual value is drawn)."""
POINTS_UP_TO = 300
"""Patients in the larger group up to which Figure 2 is drawn with ``points`` unless the caller chooses."""


def vas_display(n_index: int, n_comparison: int, requested: str | None = None) -> str:
    """Figure 2's display: the caller's choice, else ``points`` up to ``POINTS_UP_TO`` patients per group."""
    if requested is not None:
        if requested not in VAS_DISPLAYS:
            raise ValueError(f"unknown Figure 2 display {requested!r}: one of {', '.join(VAS_DISPLAYS)}")
        return requested
    return "points" if max(n_index, n_comparison) <= POINTS_UP_TO else "distribution"


def _matplotlib():
    """Import and configure matplotlib once, lazily (it costs ~0.5 s)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    for font in sorted(FONT_DIR.glob("texgyrepagella-*.otf")):
        font_manager.fontManager.addfont(str(font))
    matplotlib.rcParams.update({
        "svg.hashsalt": "ketareport",
        "svg.fonttype": "none",
        "font.family": FONT_FAMILY,
        "font.size": 10,
        "axes.edgecolor": INK,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })
    return pyplot


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight", pad_inches=0.05)
    figure.clf()
    text = buffer.getvalue()
    # Text is written as text: the report's documents embed the face as "Pagella" (@font-face);
    # Typst and a stand-alone viewer find it installed as "TeX Gyre Pagella".
    text = text.replace(f"font-family: '{FONT_FAMILY}'", FONT_STACK)
    # The XML declaration and DOCTYPE are not allowed inside HTML; the <svg> element is.
    return text[text.index("<svg"):]


def render_figures(run: AnalysisRun, *, vas_display: str = "points") -> dict[str, str]:
    """Figure name (``flow``, ``vas``, ``relief``) -> SVG text; ``vas_display`` is one of ``VAS_DISPLAYS``."""
    pyplot = _matplotlib()
    try:
        return {
            "flow": _flow(pyplot, run),
            "vas": _vas(pyplot, run, vas_display),
            "relief": _relief(pyplot, run),
        }
    finally:
        pyplot.close("all")


def _box(axes, x, y, text, width=0.42, height=0.13, bold=False):
    from matplotlib.patches import FancyBboxPatch

    axes.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                  boxstyle="round,pad=0.005,rounding_size=0.01", linewidth=0.9,
                                  edgecolor=INK, facecolor="white"))
    axes.text(x, y, text, ha="center", va="center", fontsize=9.5, color=INK, fontweight="bold" if bold else "normal",
              linespacing=1.35)


def _arrow(axes, start, end):
    axes.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": INK, "linewidth": 0.9,
                                                         "shrinkA": 0, "shrinkB": 0, "mutation_scale": 10})


def _flow(pyplot, run: AnalysisRun) -> str:
    cohort, options = run.results.cohort, run.config.analysis
    missing = [f"{ANALYSIS_COLUMN_LABELS[column]} missing: {format_count(count)}"
               for column, count in cohort.excluded_missing_by_column.items() if count]
    if cohort.n_patients_not_analyzed:
        # Their infusions are all among the excluded: the patients leave the VAS analysis with them.
        missing.append(f"patients left with no\nanalysed infusion: {format_count(cohort.n_patients_not_analyzed)}")
    figure = pyplot.figure(figsize=(6.2, 4.1))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.axis("off")
    _box(axes, 0.32, 0.88, f"Infusions identified\n{plural(cohort.n_infusions, 'infusion')}, "
                           f"{plural(cohort.n_patients, 'patient')}", width=0.5)
    excluded = "\n".join(["Excluded for missing data", f"{plural(cohort.n_infusions_excluded, 'infusion')}", *missing])
    _box(axes, 0.78, 0.62, excluded, width=0.42, height=0.02 + 0.045 * (excluded.count("\n") + 1))
    _box(axes, 0.32, 0.40, f"Infusions analysed\n{plural(cohort.n_infusions_analyzed, 'infusion')}, "
                           f"{plural(cohort.n_patients_analyzed, 'patient')}", width=0.5)
    _box(axes, 0.18, 0.1, f"{options.index_label}\n{plural(cohort.n_index_analyzed, 'patient')}, "
                          f"{plural(cohort.n_index_infusions_analyzed, 'infusion')}", width=0.3)
    _box(axes, 0.53, 0.1, f"{options.comparison_label}\n{plural(cohort.n_comparison_analyzed, 'patient')}, "
                         f"{plural(cohort.n_comparison_infusions_analyzed, 'infusion')}", width=0.34)
    _arrow(axes, (0.32, 0.815), (0.32, 0.465))
    _arrow(axes, (0.32, 0.62), (0.57, 0.62))
    _arrow(axes, (0.25, 0.335), (0.19, 0.165))
    _arrow(axes, (0.39, 0.335), (0.51, 0.165))
    return _svg(figure)


def _vas(pyplot, run: AnalysisRun, display: str) -> str:
    patients = run.cohort.analyzed_patients
    options, vas = run.config.analysis, run.results.vas
    groups = [
        (options.index_label, patients.loc[patients["is_index"], "reduction"].to_numpy(), vas.index, "o", INDEX_COLOUR, INDEX_COLOUR),
        (options.comparison_label, patients.loc[~patients["is_index"], "reduction"].to_numpy(), vas.comparison, "s", COMPARISON_COLOUR, "white"),
    ]
    figure, axes = pyplot.subplots(figsize=(5.2, 3.6))
    if display == "points":
        _patient_points(axes, groups)
    else:
        _patient_distribution(axes, groups)
    for position, (_, _, estimate, *_) in enumerate(groups):
        if estimate.estimate is not None:
            axes.hlines(estimate.estimate, position + 0.24, position + 0.44, color=INK, linewidth=2, zorder=3)
            if estimate.conf_low is not None:
                axes.vlines(position + 0.34, estimate.conf_low, estimate.conf_high, color=INK, linewidth=1.1, zorder=3)
            axes.annotate(format_mean(estimate.estimate), (position + 0.47, estimate.estimate), va="center",
                          fontsize=9, color=INK)
    axes.set_xticks(range(len(groups)), [f"{g[0]}\n(n = {format_count(g[1].size)})" for g in groups])
    axes.set_xlim(-0.5, len(groups) - 0.25)
    axes.set_ylabel("Mean reduction in VAS per patient (cm)")
    axes.axhline(0, color=GREY, linewidth=0.6, linestyle=":")
    top = max(10.0, max((g[1].max() for g in groups if g[1].size), default=10.0))
    axes.set_ylim(min(0.0, min((g[1].min() for g in groups if g[1].size), default=0.0)) - 0.3, top + 0.3)
    return _svg(figure)


def _patient_points(axes, groups) -> None:
    """One marker per patient, jittered sideways (seeded)."""
    jitter = np.random.default_rng(JITTER_SEED)
    for position, (label, values, _, marker, edge, face) in enumerate(groups):
        offsets = jitter.uniform(-0.16, 0.16, values.size)
        crowding = min(1.0, CROWDED_GROUP / max(values.size, 1))
        axes.scatter(position + offsets, values, marker=marker, s=max(3.0, MARKER_AREA * crowding),
                     edgecolors=edge, facecolors=face, linewidths=0.9 * max(crowding, 0.5) ** 0.5,
                     alpha=0.85 if crowding == 1 else 0.5, zorder=2, label=f"{label} (n = {values.size})")


def _patient_distribution(axes, groups) -> None:
    """Each group's patients as a mirrored histogram: bar width = share of the group's patients in the band.

    Bands are ``VAS_BAND_CM`` wide on a grid anchored at 0; the widest band of
    either group spans 0.4 of the space between groups, so the two shapes compare.
    """
    values = [g[1] for g in groups if g[1].size]
    if not values:
        return
    low = np.floor(min(v.min() for v in values) / VAS_BAND_CM) * VAS_BAND_CM
    high = np.ceil(max(v.max() for v in values) / VAS_BAND_CM) * VAS_BAND_CM
    edges = np.arange(low, high + VAS_BAND_CM, VAS_BAND_CM)
    if edges.size < 2:
        edges = np.array([low, low + VAS_BAND_CM])
    shares = [np.histogram(g[1], bins=edges)[0] / max(g[1].size, 1) for g in groups]
    widest = max(float(share.max()) for share in shares) or 1.0
    centres = (edges[:-1] + edges[1:]) / 2
    for position, ((_, group_values, _, _, edge, face), share) in enumerate(zip(groups, shares, strict=True)):
        half = 0.2 * share / widest
        shown = share > 0
        axes.barh(centres[shown], 2 * half[shown], left=position - 0.04 - half[shown], height=VAS_BAND_CM * 0.92,
                  color=face, edgecolor=edge, linewidth=0.6, alpha=0.75 if face != "white" else 1.0, zorder=2)


def _relief(pyplot, run: AnalysisRun) -> str:
    relief = run.results.relief
    outcomes = relief.outcomes
    figure, axes = pyplot.subplots(figsize=(5.2, 0.8 + 0.55 * len(outcomes)))
    for row, outcome in enumerate(reversed(outcomes)):
        if outcome.estimate is None:
            continue
        axes.hlines(row, 100 * outcome.conf_low, 100 * outcome.conf_high, color=INK, linewidth=1.4)
        axes.vlines([100 * outcome.conf_low, 100 * outcome.conf_high], row - 0.12, row + 0.12, color=INK, linewidth=1.4)
        axes.plot(100 * outcome.estimate, row, marker="D", markersize=6, color=INK)
        label = f"{format_proportion(outcome.estimate)} ({outcome.x}/{outcome.n_evaluable})"
        # Right of the interval; an anchor beyond the axis (upper bound above 98%) is not drawn at all, so
        # such a label goes left of the interval, or above the estimate when the interval spans the axis.
        if 100 * outcome.conf_high + 2 <= 100:
            axes.annotate(label, (100 * outcome.conf_high + 2, row), va="center", fontsize=9)
        elif 100 * outcome.conf_low - 2 >= 0:
            axes.annotate(label, (100 * outcome.conf_low - 2, row), va="center", ha="right", fontsize=9)
        else:
            axes.annotate(label, (100 * outcome.estimate, row + 0.16), va="bottom", ha="center", fontsize=9)
    axes.set_yticks(range(len(outcomes)), [f"{o.label}\n({o.rule})" for o in reversed(outcomes)])
    axes.set_xlim(0, 100)
    axes.set_ylim(-0.6, len(outcomes) - 0.4)
    axes.set_xlabel(f"Probability of relief (%), {100 * relief.conf_level:g}% interval")
    axes.grid(axis="x", color="#d9d9d9", linewidth=0.6)
    axes.set_axisbelow(True)
    return _svg(figure)
