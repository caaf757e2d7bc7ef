"""The engine-owned text of the Quarto project, from the formatted context: ``_variables.yml``,
``_metadata-study.yml`` (with the Typst title block), the exhibits (tables and figures) and the sections
whose presence or shape depends on the run (:mod:`ketareport.quarto` writes them)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from .present.context import ReportContext
from .present.files import CONFIG_USED
from .quarto_markdown import code_block, code_span, escape_markdown, markdown_table, pairs_table

if TYPE_CHECKING:
    from .pipeline import AnalysisRun

PAPER_SIZES = {"A4": "a4", "Letter": "us-letter"}
DATE_FORMAT = "D MMMM YYYY"  # Quarto (dayjs) date format: 24 November 2026, as in the HTML report
FIGURE_WIDTHS = {"flow": "82%", "vas": "72%", "relief": "72%"}
"""Each figure's share of the text width, as templates/manuscript.css sets it for the HTML and WeasyPrint PDF."""
DIGEST_TABLE_WIDTHS = (18, 14, 68)
"""Appendix "Input files" (file, size, SHA-256), relative: room for 64 hex digits on one line."""


# ---------------------------------------------------------------- variables --

def quarto_variables(context: ReportContext) -> dict[str, Any]:
    """The variables, as plain text (before :func:`escape_markdown`).

    ``context.values`` (:mod:`ketareport.present.build`: ``study.*``, ``labels.*``, ``cohort.*``,
    ``vas.*``, ``relief.*``, ``sensitivity.*``, ``narrative.*`` — one sentence per reporting rule —
    ``phrases.*`` — the clauses of the fixed prose that depend on the configuration — and ``text.*``),
    plus ``keywords``, ``appendix.*`` and ``figures.<key>.{caption,alt}``.
    """
    appendix = context.appendix
    appendix_values = {"generated_at": appendix.generated_at, "verification_summary": appendix.verification_summary}
    if appendix.verification_versions:
        appendix_values["verification_versions"] = "; ".join(f"{n} {v}" for n, v in appendix.verification_versions) + "."
    figures = {key: {"caption": f.caption, "alt": f.alt} for key, f in context.figures.items()}
    return {**context.values, "keywords": context.title.keywords, "appendix": appendix_values, "figures": figures}


def _escaped(value: Any, path: str = "") -> Any:
    if isinstance(value, dict):
        return {key: _escaped(item, f"{path}.{key}" if path else key) for key, item in value.items()}
    if isinstance(value, str):
        try:
            return escape_markdown(value)
        except ValueError as error:
            raise ValueError(f"Quarto variable {path}: {error}") from None
    raise TypeError(f"Quarto variable {path} is a {type(value).__name__}, not formatted text")


def variables_yaml(variables: dict[str, Any]) -> str:
    """``_variables.yml``: every value escaped Markdown, every scalar a quoted string."""
    return quoted_yaml(_escaped(variables))


def quoted_yaml(data: Any) -> str:
    # Every string double-quoted: values such as "< 0.001", "37%" or "P = 0.002" stay text, and YAML
    # never reads one as a number, a date or a boolean.
    class Quoted(yaml.SafeDumper):
        pass

    Quoted.add_representer(str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"'))
    return yaml.dump(data, Dumper=Quoted, sort_keys=False, allow_unicode=True, width=10_000)


def study_metadata(run: AnalysisRun, context: ReportContext) -> dict[str, Any]:
    """``_metadata-study.yml``: the title block, from study.yml (text as the study's authors wrote it)."""
    study = run.config.study
    metadata: dict[str, Any] = {
        "title": context.title.title,
        "date": run.provenance.generated_at[:10],
        "date-format": DATE_FORMAT,
        "papersize": PAPER_SIZES[context.page_size],
        "lang": "en",
    }
    if context.title.subtitle:
        metadata["subtitle"] = context.title.subtitle
    if study.authors:
        metadata["author"] = [
            {"name": author.name, **({"affiliations": [author.affiliation]} if author.affiliation else {})}
            for author in study.authors
        ]
    if study.keywords:
        metadata["keywords"] = list(study.keywords)
    metadata["title-block"] = typst_title_block(context)
    return metadata


def typst_title_block(context: ReportContext) -> dict[str, Any]:
    """The HTML report's title block for the Typst layout (``typst/typst-show.typ`` reads it).

    Quarto's own Typst title block sets each author above their affiliation in a grid without a gutter,
    where long affiliations run into each other; the report instead lists the authors on one line with
    superscript marks and the numbered affiliations below, then institution, date and review board.
    Values are Markdown (pandoc reads metadata as Markdown), escaped to print as written.
    """
    title, control = context.title, context.control
    block: dict[str, Any] = {
        "draft-notice": escape_markdown(title.draft_notice),
        "authors": [{"name": escape_markdown(a.name), "marks": a.affiliation_marks} for a in title.authors],
        "affiliations": [escape_markdown(affiliation) for affiliation in title.affiliations],
        "institution": escape_markdown(title.institution),
        "review-board": escape_markdown(title.review_board),
        "running-head": escape_markdown(title.running_head),
        # The document-control block of the title page and the footer of every page; a draft is watermarked.
        "control": [{"name": name, "value": escape_markdown(value)} for name, value in (
            ("Status", control.status), ("Version", control.version), ("Report date", control.report_date),
            ("Data lock", control.data_lock), ("Protocol", control.protocol), ("Data digest", control.data_digest))],
        "footer": escape_markdown(f"{control.status} · version {control.version} · data {control.data_digest}"),
        "draft": "DRAFT" if control.draft else "",
    }
    return {key: value for key, value in block.items() if value}



# ----------------------------------------------------------------- sections --

def _var(name: str) -> str:
    return f"{{{{< var {name} >}}}}"


def exhibit_files(context: ReportContext) -> dict[str, str]:
    """``_exhibits/<kind>-<key>.md``: each table and figure of the run, as Markdown."""
    exhibits = {f"table-{key}": markdown_table(table) for key, table in context.tables.items()}
    for key, figure in context.figures.items():
        alt = figure.alt.replace('"', "'")
        exhibits[f"figure-{key}"] = (
            f'![{escape_markdown(figure.caption)}](figures/{figure.file})'
            f'{{#{figure.id} width="{FIGURE_WIDTHS[key]}" fig-alt="{alt}"}}\n'
        )
    return exhibits


def section_files(context: ReportContext, exhibits: dict[str, str]) -> dict[str, str]:
    """``_sections/<name>.md``: the parts of the manuscript whose presence or shape depends on the run.

    ``keywords`` (the abstract's keywords line, empty when study.yml has none), ``side-effects`` and
    ``sensitivity`` (a Results subsection each, empty when the HTML report has no such subsection) and
    ``appendix`` (input files, versions, configuration). Every sentence is a
    ``{{< var >}}``; exhibits are inlined, not included: Quarto resolves an include inside an included
    file inconsistently (quarto-cli issue 7123).
    """
    def optional_subsection(heading: str, sentence: str) -> list[str]:
        section = next((s for s in context.results if s.heading == heading), None)
        if section is None:
            return []
        blocks = [f"### {escape_markdown(heading)}", _var(sentence)]
        return blocks + [exhibits[exhibit.replace(":", "-")].rstrip("\n") for exhibit in section.exhibits]

    appendix = context.appendix
    files = [[name, size, code_span(digest)] for name, digest, size in appendix.input_files]
    # The digest column is wide enough for a whole digest in the table's smaller monospace
    # (typst/typst-template.typ). An uncaptioned table takes its relative widths from the dashes of the
    # separator line when a row is longer than 72 characters, as a row with a digest always is.
    separator = "|:" + "-" * DIGEST_TABLE_WIDTHS[0] + "|" + "-" * DIGEST_TABLE_WIDTHS[1] + ":|:" + "-" * DIGEST_TABLE_WIDTHS[2] + "|"
    input_table = "\n".join(
        ["Files read, with their SHA-256 digests.", "", "| File | Size | SHA-256 |", separator,
         *(f"| {escape_markdown(name)} | {escape_markdown(size)} | {digest} |" for name, size, digest in files)]
    )
    digest = (
        f"Data digest (the title page and the page footers print its first digits): {code_span(appendix.data_digest)}. "
        + escape_markdown(appendix.digest_method) if appendix.digest_method else
        "Data digest (SHA-256 of the data files\u2019 `sha256sum` listing; the title page and the page footers print "
        f"its first digits): {code_span(appendix.data_digest)}"
    )
    appendix_blocks = [
        "### Input files", *([escape_markdown(appendix.data_source)] if appendix.data_source else []), input_table,
        digest,
        pairs_table("Rows read.", ("Table", "Rows"), appendix.row_counts).rstrip("\n"),
        "### Command and environment",
        f"Generated {_var('appendix.generated_at')} by:",
        code_block(appendix.command, "sh"),
        pairs_table("Software versions.", ("Software", "Version"), appendix.versions).rstrip("\n"),
        "### Independent cross-check in R",
        _var("appendix.verification_summary"),
    ]
    if appendix.verification_versions:
        appendix_blocks.append(_var("appendix.verification_versions"))
    if appendix.verification_table is not None:
        appendix_blocks.append(markdown_table(appendix.verification_table).rstrip("\n"))
    options, block = [], ""
    for row in appendix.config_options:
        if row.kind == "section":
            block = row.label
        else:
            options.append([f"{block}.{row.label}", row.cells[0]])
    appendix_blocks += ["### Study configuration", pairs_table(
        "The study configuration used: every option, with the defaults that applied (written beside the report as "
        f"{CONFIG_USED}).", ("Option", "Value"), options).rstrip("\n")]

    bodies = {
        "keywords": [f"**Keywords:** {_var('keywords')}"] if context.title.keywords else [],
        "side-effects": optional_subsection("Side effects", "narrative.side_effects"),
        "sensitivity": optional_subsection("Sensitivity analysis", "narrative.sensitivity"),
        "appendix": appendix_blocks,
    }
    return {name: "\n\n".join(blocks) + "\n" if blocks else "" for name, blocks in bodies.items()}

