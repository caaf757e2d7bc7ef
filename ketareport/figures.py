"""The report's figures as deterministic SVG (matplotlib).

Glyphs are drawn as paths (``svg.fonttype = "path"``) in the report's own
serif (TeX Gyre Pagella, shipped in ``ketareport/fonts``), so a figure looks
the same in the HTML, in WeasyPrint's PDF and in Quarto, needs no font, and
loads nothing. ``svg.hashsalt`` is fixed and no date is written, so the same
results give byte-identical files. Groups differ by marker shape and fill as
well as by position — nothing is encoded by colour alone.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .present.formats import ANALYSIS_COLUMN_LABELS, format_count, format_mean, format_proportion

if TYPE_CHECKING:
    from .pipeline import AnalysisRun

FONT_DIR = Path(__file__).parent / "fonts"
INK = "#1a1a1a"
GREY = "#6b6b6b"
INDEX_COLOUR = "#1f4e79"
COMPARISON_COLOUR = "#8c5a00"
JITTER_SEED = 20120201
MARKER_AREA = 22.0
"""Marker area (pt²) for a group of up to ``CROWDED_GROUP`` patients; larger groups get smaller, fainter
markers (area ∝ 1/n) so that a cloud of thousands still shows where the patients lie."""
CROWDED_GROUP = 100


def _matplotlib():
    """Import and configure matplotlib once, lazily (it costs ~0.5 s)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    for font in sorted(FONT_DIR.glob("texgyrepagella-*.otf")):
        font_manager.fontManager.addfont(str(font))
    matplotlib.rcParams.update({
        "svg.hashsalt": "ketareport",
        "svg.fonttype": "path",
        "font.family": "TeX Gyre Pagella",
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
    # The XML declaration and DOCTYPE are not allowed inside HTML; the <svg> element is.
    return text[text.index("<svg"):]


def render_figures(run: AnalysisRun) -> dict[str, str]:
    """Figure name (``flow``, ``vas``, ``relief``) -> SVG text."""
    pyplot = _matplotlib()
    try:
        return {
            "flow": _flow(pyplot, run),
            "vas": _vas(pyplot, run),
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
    _box(axes, 0.32, 0.88, f"Infusions identified\n{format_count(cohort.n_infusions)} infusions, "
                           f"{format_count(cohort.n_patients)} patients", width=0.5)
    excluded = "\n".join(["Excluded for missing data", f"{format_count(cohort.n_infusions_excluded)} infusions", *missing])
    _box(axes, 0.78, 0.62, excluded, width=0.42, height=0.02 + 0.045 * (excluded.count("\n") + 1))
    _box(axes, 0.32, 0.40, f"Infusions analysed\n{format_count(cohort.n_infusions_analyzed)} infusions, "
                           f"{format_count(cohort.n_patients_analyzed)} patients", width=0.5)
    _box(axes, 0.18, 0.1, f"{options.index_label}\n{format_count(cohort.n_index_analyzed)} patients, "
                          f"{format_count(cohort.n_index_infusions_analyzed)} infusions", width=0.3)
    _box(axes, 0.53, 0.1, f"{options.comparison_label}\n{format_count(cohort.n_comparison_analyzed)} patients, "
                         f"{format_count(cohort.n_comparison_infusions_analyzed)} infusions", width=0.34)
    _arrow(axes, (0.32, 0.815), (0.32, 0.465))
    _arrow(axes, (0.32, 0.62), (0.57, 0.62))
    _arrow(axes, (0.25, 0.335), (0.19, 0.165))
    _arrow(axes, (0.39, 0.335), (0.51, 0.165))
    return _svg(figure)


def _vas(pyplot, run: AnalysisRun) -> str:
    patients = run.cohort.analyzed_patients
    options, vas = run.config.analysis, run.results.vas
    groups = [
        (options.index_label, patients.loc[patients["is_index"], "reduction"].to_numpy(), vas.index, "o", INDEX_COLOUR, INDEX_COLOUR),
        (options.comparison_label, patients.loc[~patients["is_index"], "reduction"].to_numpy(), vas.comparison, "s", COMPARISON_COLOUR, "white"),
    ]
    jitter = np.random.default_rng(JITTER_SEED)
    figure, axes = pyplot.subplots(figsize=(5.2, 3.6))
    for position, (label, values, estimate, marker, edge, face) in enumerate(groups):
        offsets = jitter.uniform(-0.16, 0.16, values.size)
        crowding = min(1.0, CROWDED_GROUP / max(values.size, 1))
        axes.scatter(position + offsets, values, marker=marker, s=max(3.0, MARKER_AREA * crowding),
                     edgecolors=edge, facecolors=face, linewidths=0.9 * max(crowding, 0.5) ** 0.5,
                     alpha=0.85 if crowding == 1 else 0.5, zorder=2, label=f"{label} (n = {values.size})")
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
        axes.annotate(f"{format_proportion(outcome.estimate)} ({outcome.x}/{outcome.n_evaluable})",
                      (100 * outcome.conf_high + 2, row), va="center", fontsize=9)
    axes.set_yticks(range(len(outcomes)), [f"{o.label}\n({o.rule})" for o in reversed(outcomes)])
    axes.set_xlim(0, 100)
    axes.set_ylim(-0.6, len(outcomes) - 0.4)
    axes.set_xlabel(f"Probability of relief (%), {100 * relief.conf_level:g}% interval")
    axes.grid(axis="x", color="#d9d9d9", linewidth=0.6)
    axes.set_axisbelow(True)
    return _svg(figure)
