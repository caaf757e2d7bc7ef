"""The report context: typed, string-only inputs of the templates.

Every field is already formatted (see :mod:`.formats`); the Jinja templates
(HTML, PDF) and the Quarto project only lay these strings out. Field
docstrings say what each holds, as datasette documents its template contexts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIGURE_FILES = {"flow": "figure-1-flow.svg", "vas": "figure-2-vas.svg", "relief": "figure-3-relief.svg"}
"""Figure key -> file name under ``figures/`` (written beside the report and inlined in the HTML)."""
VAS_BAND_CM = 0.5
"""Figure 2's ``distribution`` display: the width of its bands (cm), which the figure draws and its caption names."""
SUPPRESSED_VAS_BAND_CM = 2.5
"""Figure 2's bands (cm) under small-cell suppression, whatever the data (docs/suppression.md, rule 5): a quarter
of the 10 cm scale, wide enough that a band of N or more patients is common in a small study."""


@dataclass(frozen=True)
class FormattedEstimate:
    """One row of the VAS table, formatted: mean, SE, interval, t, df and P."""

    label: str
    n: str
    estimate: str
    std_error: str
    conf_int: str
    statistic: str
    df: str
    p: str
    p_statement: str
    """``P < 0.001`` / ``P = 0.002`` with no-break spaces, for running text."""


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: list[str]
    kind: str = "row"
    """``section`` (a heading row spanning the table), ``row`` or ``subrow`` (indented)."""


@dataclass(frozen=True)
class Table:
    id: str
    """Anchor and Quarto cross-reference id (``tbl-vas``)."""
    number: int
    caption: str
    columns: list[str]
    rows: list[TableRow]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Figure:
    id: str
    number: int
    caption: str
    alt: str
    """Text alternative for screen readers: the figure's numbers in words."""
    file: str
    """File name under ``figures/`` (from :data:`FIGURE_FILES`)."""


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: list[str]
    exhibits: list[str] = field(default_factory=list)
    """Tables and figures placed after the section: ``table:vas``, ``figure:flow`` ..."""


@dataclass(frozen=True)
class Author:
    name: str
    affiliation_marks: str
    """Superscript numbers of the author's affiliations (``1``), empty when none."""


@dataclass(frozen=True)
class TitleBlock:
    title: str
    subtitle: str
    authors: list[Author]
    affiliations: list[str]
    """Numbered in order of first mention."""
    institution: str
    date: str
    review_board: str
    keywords: str
    running_head: str
    pdf_author: str
    draft_notice: str
    """``DRAFT — not for submission: missing …`` when the study metadata is incomplete, else empty."""


@dataclass(frozen=True)
class DocumentControl:
    """The title page's document-control block and the footer of every page."""

    draft: bool
    """True unless study.yml asks for a final report and nothing it needs is missing: drafts carry a watermark."""
    status: str
    """``Draft`` or ``Final``."""
    version: str
    report_date: str
    data_lock: str
    protocol: str
    data_digest: str
    """The first hex digits of the input data's digest (provenance ``dataset.digest``)."""


@dataclass(frozen=True)
class Appendix:
    input_files: list[list[str]]
    """Rows: file, SHA-256, size."""
    row_counts: list[list[str]]
    data_digest: str
    """SHA-256 of the data files' ``sha256sum`` listing, or of a database's row hashes (the title page prints its
    first digits)."""
    attached_files: list[str]
    """The files the PDF carries as attachments, each also written beside it."""
    config_options: list[TableRow]
    """The configuration used, as (option, value) rows in sections per block."""
    command: str
    generated_at: str
    versions: list[list[str]]
    verification_summary: str
    verification_failed: bool
    verification_table: Table | None
    verification_versions: list[list[str]]
    data_source: str = ""
    """For tables read in a database engine, a sentence naming the engine, the location (never a password) and
    the tables; empty for files."""
    digest_method: str = ""
    """Sentences saying how a database's rows were digested, where no file was (PostgreSQL, Spark); empty when the
    digest is of files (the templates then say so)."""


@dataclass(frozen=True)
class ReportContext:
    """Everything the templates print, as strings."""

    title: TitleBlock
    control: DocumentControl
    abstract: list[Section]
    introduction: list[str]
    methods: list[Section]
    results: list[Section]
    tables: dict[str, Table]
    figures: dict[str, Figure]
    conclusions: list[str]
    appendix: Appendix
    page_size: str
    values: dict[str, Any]
    """Formatted key numbers and result-dependent phrases, nested: ``study.*``, ``labels.*``,
    ``cohort.*``, ``vas.<overall|index|comparison|difference>.*``, ``relief.*``, ``sensitivity.*``,
    ``narrative.*`` (one sentence per reporting rule) and ``text.*`` (the abstract's paragraphs).
    Quarto's ``_variables.yml`` is written from it."""
