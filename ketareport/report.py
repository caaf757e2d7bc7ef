"""One build and one write for the report (gtsummary's staged build).

:func:`build` turns an analysis run into a :class:`Report` — the formatted
context, the figures and the rendered documents — computing nothing that the
renderers then compute again; :func:`write` stages the report's files. The
command line, the tests and the benchmarks all go through these two calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .present.context import FIGURE_FILES, ReportContext

if TYPE_CHECKING:
    from .output import StagedOutput
    from .pipeline import AnalysisRun
    from .verify import VerificationReport

Progress = Callable[[str], None]


def _silent(message: str) -> None:
    """Default progress sink: say nothing."""


@dataclass(frozen=True)
class Report:
    """A built report: what the templates print, the figures, and the documents made from them."""

    run: AnalysisRun
    verification: VerificationReport | None
    context: ReportContext
    figures: dict[str, str]
    """Figure key (``flow``, ``vas``, ``relief``) -> SVG text."""
    html: str
    pdf: bytes | None
    """None when the PDF was not asked for."""

    @property
    def name(self) -> str:
        """The documents' file name without suffix (``report.name`` in study.yml)."""
        return self.run.config.report.name


def build(
    run: AnalysisRun, verification: VerificationReport | None = None, *, pdf: bool = True, progress: Progress = _silent,
) -> Report:
    """Format the run, draw the figures and render the HTML (and, unless ``pdf=False``, the PDF)."""
    from .figures import render_figures
    from .present.build import build_context
    from .render import render_html, render_pdf

    progress("drawing figures")
    figures = render_figures(run)
    context = build_context(run, verification)
    progress("rendering HTML")
    html = render_html(context, figures, run.provenance.generated_at)
    document = None
    if pdf:
        progress("rendering PDF")
        document = render_pdf(html)
    return Report(run, verification, context, figures, html, document)


def write(
    report: Report, staged: StagedOutput, *, quarto: bool = False, results: bool = True, progress: Progress = _silent,
) -> None:
    """Stage the result files (unless ``results=False``: a site with small-cell suppression publishes none),
    report-values.json, the figures, the HTML, the PDF (when built), verification.csv and the Quarto project."""
    from .diff import REPORT_VALUES_FILE, report_values_json
    from .pipeline import write_results

    result_files = []
    if results:
        progress("writing result files")
        result_files = write_results(report.run, staged)
    staged.path(REPORT_VALUES_FILE).write_text(report_values_json(report.context), encoding="utf-8")
    if report.verification is not None:
        from .verify import verification_csv

        staged.path("verification.csv").write_text(verification_csv(report.verification), encoding="utf-8")
    for key, svg in report.figures.items():
        staged.path(f"figures/{FIGURE_FILES[key]}").write_text(svg, encoding="utf-8")
    staged.path(f"{report.name}.html").write_text(report.html, encoding="utf-8")
    if report.pdf is not None:
        staged.path(f"{report.name}.pdf").write_bytes(report.pdf)
    if quarto:
        from .quarto import write_quarto_project

        progress("writing the Quarto project")
        write_quarto_project(report.run, report.context, report.figures, staged, result_files)
