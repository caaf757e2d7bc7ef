"""One build and one write for the report (gtsummary's staged build).

:func:`build` turns an analysis run into a :class:`Report` — the formatted
context, the figures and the rendered documents — computing nothing that the
renderers then compute again; :func:`write` stages the report's files. The
command line, the tests and the benchmarks all go through these two calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .diff import REPORT_VALUES_FILE
from .present.context import FIGURE_FILES, ReportContext
from .present.files import CONFIG_USED, DATA_FILE_DESCRIPTIONS, data_file_names

if TYPE_CHECKING:
    from .output import StagedOutput
    from .render import EmbeddedFile, PdfMetadata
    from .pdf_worker import Documents, PdfWorker
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
    documents: Documents | RenderedDocuments
    """The HTML and the PDF: rendered, or being rendered by the PDF worker (:attr:`html` and :attr:`pdf` wait)."""
    data_files: tuple[EmbeddedFile, ...]
    """The files the PDF carries (result files, verification.csv, the configuration used), written beside it."""

    @property
    def html(self) -> str:
        return self.documents.result()[0]

    @property
    def pdf(self) -> bytes | None:
        """None when the PDF was not asked for."""
        return self.documents.result()[1]

    @property
    def name(self) -> str:
        """The documents' file name without suffix (``report.name`` in study.yml)."""
        return self.run.config.report.name


@dataclass(frozen=True)
class RenderedDocuments:
    """The HTML and the PDF rendered in this process."""

    html: str
    pdf: bytes | None

    def result(self) -> tuple[str, bytes | None]:
        return self.html, self.pdf


def build(
    run: AnalysisRun, verification: VerificationReport | None = None, *, pdf: bool = True, progress: Progress = _silent,
    vas_display: str | None = None, pdf_worker: PdfWorker | None = None,
) -> Report:
    """Format the run, draw the figures and render the HTML (and, unless ``pdf=False``, the PDF).

    ``pdf_worker``, when given, renders the HTML and the PDF (a second process that imported WeasyPrint and
    compiled the templates meanwhile): this returns as soon as the worker has its job, and :func:`write`
    stages the result files while the worker renders.

    ``vas_display`` is Figure 2's display (:data:`ketareport.figures.VAS_DISPLAYS`): ``distribution``
    draws no individual patient; None chooses by the groups' sizes.
    """
    from .figures import render_figures, vas_display as choose_vas_display
    from .present.build import build_context
    from .render import render_html, render_pdf

    progress("drawing figures")
    if run.config.report.suppress_below:
        # Small-cell protection (present/suppress.py): no individual patient in Figure 2, hidden counts in
        # Figure 1, no hidden probability in Figure 3, and the context's tables, values and sentences suppressed,
        # all from the one set of decisions the facts hold.
        from .present.build import gather_facts
        from .present.suppress import figures_as_protected, suppress_context

        display = "distribution"
        facts = gather_facts(run)
        masked, protection = figures_as_protected(run, facts)
        figures = render_figures(masked, vas_display=display, **protection)
        context = suppress_context(run, build_context(run, verification, vas_display=display, facts=facts),
                                   facts.decisions)
    else:
        display = choose_vas_display(run.results.cohort.n_index_analyzed, run.results.cohort.n_comparison_analyzed, vas_display)
        figures = render_figures(run, vas_display=display)
        context = build_context(run, verification, vas_display=display)
    files = data_files(run, verification, context)
    if pdf and pdf_worker is not None:
        progress("rendering HTML and PDF")
        documents = pdf_worker.submit(context, figures, run.provenance.generated_at, pdf_metadata(run, context), files)
        return Report(run, verification, context, figures, documents, files)
    if pdf_worker is not None:
        pdf_worker.stop()
    progress("rendering HTML")
    html = render_html(context, figures, run.provenance.generated_at)
    document = None
    if pdf:
        progress("rendering PDF")
        document = render_pdf(html, pdf_metadata(run, context), files)
    return Report(run, verification, context, figures, RenderedDocuments(html, document), files)


def pdf_metadata(run: AnalysisRun, context: ReportContext) -> PdfMetadata:
    """What the PDF says about itself beyond the HTML's tags: the subject (the objective) and the creation time."""
    from .render import PdfMetadata

    return PdfMetadata(subject=context.values["text"]["objective"],
                       created=dt.datetime.fromisoformat(run.provenance.generated_at))


def data_files(run: AnalysisRun, verification: VerificationReport | None,
               context: ReportContext) -> tuple[EmbeddedFile, ...]:
    """The numbers as data, and what produced them: the PDF's associated files, each also written beside it."""
    from .diff import report_values_json
    from .pipeline import result_texts
    from .render import EmbeddedFile

    suppressed = bool(run.config.report.suppress_below)
    contents = {CONFIG_USED: run.config.study_yml().encode("utf-8")}
    if suppressed:
        contents[REPORT_VALUES_FILE] = report_values_json(context).encode("utf-8")
    else:
        contents.update({name: text.encode("utf-8") for name, text in result_texts(run).items()})
    if verification is not None and not suppressed:
        from .verify import verification_csv

        contents["verification.csv"] = verification_csv(verification).encode("utf-8")
    return tuple(EmbeddedFile(name, contents[name], *DATA_FILE_DESCRIPTIONS[name])
                 for name in data_file_names(verification, suppressed))


def write(
    report: Report, staged: StagedOutput, *, quarto: bool = False, results: bool = True, progress: Progress = _silent,
) -> None:
    """Stage the result files (unless ``results=False``: a site with small-cell suppression publishes none),
    report-values.json, the figures, the HTML, the PDF (when built), the files the PDF carries
    (verification.csv, the configuration used) and the Quarto project."""
    from .diff import report_values_json
    from .pipeline import RESULT_FILES, write_results

    result_files = []
    if results:
        progress("writing result files")
        result_files = write_results(report.run, staged)
    staged.path(REPORT_VALUES_FILE).write_text(report_values_json(report.context), encoding="utf-8")
    for file in report.data_files:
        if file.name not in (*RESULT_FILES, REPORT_VALUES_FILE):
            staged.path(file.name).write_bytes(file.data)
    for key, svg in report.figures.items():
        staged.path(f"figures/{FIGURE_FILES[key]}").write_text(svg, encoding="utf-8")
    if quarto:
        from .quarto import write_quarto_project

        progress("writing the Quarto project")
        write_quarto_project(report.run, report.context, report.figures, staged, result_files, progress=progress)
    # Last: the PDF worker may still be rendering the documents while the files above are written.
    staged.path(f"{report.name}.html").write_text(report.html, encoding="utf-8")
    if report.pdf is not None:
        staged.path(f"{report.name}.pdf").write_bytes(report.pdf)
