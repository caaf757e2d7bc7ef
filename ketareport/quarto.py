"""The manuscript as a Quarto project, from the same formatted results.

``write_quarto_project`` stages, under ``quarto/`` in the output directory,
a project that ``quarto render`` turns into HTML and (through Typst, no TeX)
PDF. Its files are of two kinds (docs/quarto.md):

Author-owned, written once and never overwritten (:func:`author_files`; a
changed shipped template is offered as ``NAME.new``):

- ``_quarto.yml``: the repository's project file;
- ``templates/manuscript.qmd``: the manuscript's prose as text, with
  ``{{< var >}}`` for every number (``vas.*``, ``cohort.*`` ...), for every
  result-dependent sentence (``narrative.*``, the reporting rules of
  :mod:`ketareport.present.narrative`) and every configuration-dependent
  clause (``phrases.*``, :func:`ketareport.present.build.phrases`) — the
  same pieces the HTML report's paragraphs are made of;
- ``templates/results-r.qmd``: knitr R chunks over ``results.rds``;
- ``typst/*.typ``: the Typst layout of the WeasyPrint PDF.

Engine-owned, rewritten on every run:

- ``_variables.yml``: every value, formatted by :mod:`ketareport.present`
  exactly as in the HTML report, written as Markdown that reads back as
  the formatted text;
- ``_metadata-study.yml``: the title block, from study.yml (``metadata-files``);
- ``templates/_exhibits/*.md``: each table (pipe table, caption, ``#tbl-``
  id, column widths) and figure (``#fig-`` id, width, alt text);
- ``templates/_sections/*.md``: the optional Results subsections (side
  effects, sensitivity analysis; empty when the report has none) and the
  appendix;
- ``templates/figures/*.svg``, ``fonts/``, ``templates/results.rds`` and
  ``estimates.csv``.

Two facts about Quarto shape the variables: ``{{< var >}}`` inserts a value
*inline* -- Quarto reads ``_variables.yml`` into the document's metadata,
where pandoc parses each string as Markdown, and a value of several blocks
is squashed into one paragraph with line breaks -- so each value is one
paragraph at most; and because the value is Markdown, characters Markdown
would read as formatting (``> 21 days`` is a block quote, ``--verify`` an en
dash) are backslash-escaped by :func:`escape_markdown`.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import QuartoFailed
from .paths import repository_file
from .present.context import FIGURE_FILES, ReportContext, Table
from .present.files import CONFIG_USED

if TYPE_CHECKING:
    from .output import StagedOutput
    from .pipeline import AnalysisRun

PROJECT_FILE = repository_file("_quarto.yml")
TEMPLATES = repository_file("templates")
MANUSCRIPT = "templates/manuscript.qmd"
R_TEMPLATE = "templates/results-r.qmd"
QUARTO_TEMPLATES = ("manuscript.qmd", "results-r.qmd")
PAPER_SIZES = {"A4": "a4", "Letter": "us-letter"}
DATE_FORMAT = "D MMMM YYYY"  # Quarto (dayjs) date format: 24 November 2026, as in the HTML report
FIGURE_WIDTHS = {"flow": "82%", "vas": "72%", "relief": "72%"}
"""Each figure's share of the text width, as templates/manuscript.css sets it for the HTML and WeasyPrint PDF."""
DIGEST_TABLE_WIDTHS = (18, 14, 68)
"""Appendix "Input files" (file, size, SHA-256), relative: room for 64 hex digits on one line."""
TYPST_PARTIALS = ("typst-template.typ", "typst-show.typ")
SHIPPED_RECORD = ".ketareport-templates.json"
"""Engine-owned: the SHA-256 of each author-owned template as last offered to the project."""
FONTS = Path(__file__).resolve().parent / "fonts"  # package data, as for the HTML and WeasyPrint PDF
VARIABLE = re.compile(r"\{\{<\s*var\s+([^\s>]+)\s*>\}\}")
INCLUDE = re.compile(r"\{\{<\s*include\s+([^\s>]+)\s*>\}\}")


# ------------------------------------------------------------- Markdown text --

_ALWAYS_ESCAPED = frozenset("\\`*_[]{}$@^~|&'\"")
_LIST_MARKER = re.compile(r"(?:\d+|[A-Za-z]|[ivxlcdmIVXLCDM]+)(?=[.)](?:\s|$))")


def escape_markdown(text: str) -> str:
    """``text`` as Pandoc Markdown that reads back as exactly ``text``, in one paragraph.

    Backslash-escapes what Markdown (with Quarto's ``smart`` typography) would
    otherwise interpret: emphasis, code, links, math, citations, super- and
    subscripts, quotes, HTML and entities, pipes, dashes made of hyphens,
    ellipses, and block markers at the start (``> 21 days`` would be a block
    quote, ``2004. All`` a list). Everything else stays as typed, so
    ``_variables.yml`` stays readable: ``< 0.001``, ``37%``, ``59–85%``.

    Raises ValueError for a line break: a ``{{< var >}}`` value is one paragraph.
    """
    if "\n" in text or "\r" in text:
        raise ValueError(f"a Quarto variable holds one paragraph, not several lines: {text!r}")
    text = text.strip(" \t")
    list_marker = _LIST_MARKER.match(text)
    delimiter = list_marker.end() if list_marker else -1
    out = []
    for i, char in enumerate(text):
        following = text[i + 1] if i + 1 < len(text) else ""
        if char in _ALWAYS_ESCAPED or i == delimiter:
            escape = True
        elif char == "<":  # "< 0.001" is text; "<b", "<http", "<!--" could open HTML or a link
            escape = following != "" and not following.isspace()
        elif char in "#>+%(":  # heading, block quote, list, title block, example list: only at the start
            escape = i == 0
        elif char == "-":  # a list at the start; "--" and "---" would become dashes
            escape = i == 0 or following == "-" or (i > 0 and text[i - 1] == "-")
        elif char == ".":  # "..." would become an ellipsis
            escape = "..." in text[max(0, i - 2):i + 3]
        else:
            escape = False
        out.append("\\" + char if escape else char)
    return "".join(out)


def code_span(text: str) -> str:
    """Inline code that holds ``text`` verbatim, whatever backticks it contains."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, language: str = "") -> str:
    """A fenced code block that holds ``text`` verbatim."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def column_widths(header: list[str], rows: list[list[str]]) -> list[int]:
    """Percent widths for ``tbl-colwidths``, in proportion to what each column must hold on one line.

    Without them Quarto gives every column the same width, and in the PDF the first column (labels
    such as "Post herpetic neuralgia") wraps in a quarter of the page. A column needs its longest cell
    (cells do not wrap well: numbers with their intervals) and its header's longest word or half the
    header (headers may take two lines); the percentages add up to 100.
    """
    needs = []
    for position, title in enumerate(header):
        cells = [len(row[position]) for row in rows if position < len(row)]
        words = max((len(word) for word in title.split()), default=0)
        needs.append(max([words, (len(title) + 1) // 2, *cells]) + 2)
    total = sum(needs)
    widths = [round(100 * need / total) for need in needs]
    widths[0] += 100 - sum(widths)
    return widths


def markdown_table(table: Table, numbered: bool = True) -> str:
    """A pipe table with its caption (and, when ``numbered``, its ``#tbl-`` id for Quarto's numbering)
    and its column widths (:func:`column_widths`)."""
    width = len(table.columns)
    # "(n = 206)" stays on one line when a header wraps.
    headers = [escape_markdown(column).replace(" = ", "\u00a0=\u00a0") for column in table.columns]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + ":---|" + "---:|" * (width - 1),
    ]
    for row in table.rows:
        if row.kind == "section":
            lines.append(f"| *{escape_markdown(row.label)}* |" + " |" * (width - 1))
        else:
            indent = "\u00a0\u00a0\u00a0" if row.kind == "subrow" else ""
            cells = [indent + escape_markdown(row.label), *map(escape_markdown, row.cells)]
            lines.append("| " + " | ".join(cells) + " |")
    indent = len("\u00a0\u00a0\u00a0")
    widths = column_widths(table.columns, [
        [(" " * indent if row.kind == "subrow" else "") + row.label, *row.cells] for row in table.rows
    ])
    attributes = " ".join([f"#{table.id}"] * numbered + [f'tbl-colwidths="[{",".join(map(str, widths))}]"'])
    caption = f": {escape_markdown(table.caption)} {{{attributes}}}"
    notes = "".join(f"\n\n{escape_markdown(note)}" for note in table.notes)
    return "\n".join([*lines, "", caption]) + notes + "\n"


def _pairs_table(caption: str, headers: tuple[str, str], rows: list[list[str]]) -> str:
    """A two-column appendix table (unnumbered, like the HTML appendix's tables), as wide as its content.

    Its caption is a paragraph above it: Typst drops the caption of a table that is not numbered.
    """
    lines = [f"| {headers[0]} | {headers[1]} |", "|:---|:---|"]
    for name, value in rows:
        lines.append(f"| {escape_markdown(name)} | {escape_markdown(value)} |")
    return "\n".join([escape_markdown(caption), "", *lines]) + "\n"


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
    return _yaml(_escaped(variables))


def _yaml(data: Any) -> str:
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
    appendix_blocks = [
        "### Input files", input_table,
        "Data digest (SHA-256 of the data files\u2019 `sha256sum` listing; the title page and the page footers print "
        f"its first digits): {code_span(appendix.data_digest)}",
        _pairs_table("Rows read.", ("Table", "Rows"), appendix.row_counts).rstrip("\n"),
        "### Command and environment",
        f"Generated {_var('appendix.generated_at')} by:",
        code_block(appendix.command, "sh"),
        _pairs_table("Software versions.", ("Software", "Version"), appendix.versions).rstrip("\n"),
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
    appendix_blocks += ["### Study configuration", _pairs_table(
        "The study configuration used: every option, with the defaults that applied (written beside the report as "
        f"{CONFIG_USED}).", ("Option", "Value"), options).rstrip("\n")]

    bodies = {
        "keywords": [f"**Keywords:** {_var('keywords')}"] if context.title.keywords else [],
        "side-effects": optional_subsection("Side effects", "narrative.side_effects"),
        "sensitivity": optional_subsection("Sensitivity analysis", "narrative.sensitivity"),
        "appendix": appendix_blocks,
    }
    return {name: "\n\n".join(blocks) + "\n" if blocks else "" for name, blocks in bodies.items()}


# -------------------------------------------------------------------- write --

def shipped_templates() -> dict[str, str]:
    """The author-owned files as this version ships them (project-relative path -> text)."""
    files = {"_quarto.yml": PROJECT_FILE.read_text(encoding="utf-8")}
    for name in QUARTO_TEMPLATES:
        files[f"templates/{name}"] = (TEMPLATES / name).read_text(encoding="utf-8")
    for name in TYPST_PARTIALS:
        files[f"typst/{name}"] = (TEMPLATES / "typst" / name).read_text(encoding="utf-8")
    return files


def author_files(project: Path, shipped: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """What to write of the author-owned files into an existing (or new) project, and which changed.

    A file that is not there yet, or is exactly the shipped template, is written (again: the output
    folder's manifest removes a file the tool wrote before and not this time). One the author changed is
    never overwritten: when the shipped template differs from the one last offered to this project
    (recorded in :data:`SHIPPED_RECORD`, by SHA-256), it goes to ``NAME.new`` beside the file, said once
    per change and kept while the author leaves it there. Returns the files to write (path -> text, the
    record included) and the paths newly given a ``.new``.
    """
    record_path = project / SHIPPED_RECORD
    offered = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    files: dict[str, str] = {}
    changed = []
    record = {}
    for relative, text in shipped.items():
        record[relative] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        existing, offer = project / relative, project / f"{relative}.new"
        if not existing.is_file() or existing.read_text(encoding="utf-8") == text:
            files[relative] = text
        elif offered.get(relative) != record[relative]:
            files[f"{relative}.new"] = text
            changed.append(relative)
        elif offer.is_file() and offer.read_text(encoding="utf-8") == text:
            files[f"{relative}.new"] = text
    files[SHIPPED_RECORD] = json.dumps(record, indent=2, sort_keys=True) + "\n"
    return files, changed


def write_quarto_project(
    run: AnalysisRun, context: ReportContext, figures: dict[str, str], staged: StagedOutput,
    result_files: dict[str, Path], subdir: str = "quarto", progress: Callable[[str], None] = lambda message: None,
) -> list[str]:
    """Stage the Quarto project under ``subdir``; returns the relative paths written.

    Engine-owned files (the numbers, title block, tables, figures, optional sections, appendix, fonts,
    result files) are rewritten on every run; author-owned files (the ``.qmd`` files, ``_quarto.yml``,
    the Typst layout) are written once and then left as the author edited them (:func:`author_files`;
    a changed shipped template is written beside as ``NAME.new`` and ``progress`` says so).
    ``result_files`` are the staged result files (name -> path) that the R template reads.
    """
    exhibits = exhibit_files(context)
    files, changed = author_files(staged.destination / subdir, shipped_templates())
    files |= {
        "_variables.yml": variables_yaml(quarto_variables(context)),
        "_metadata-study.yml": _yaml(study_metadata(run, context)),
        "README.md": PROJECT_README,
    }
    for name, text in section_files(context, exhibits).items():
        files[f"templates/_sections/{name}.md"] = text
    for name, text in exhibits.items():
        files[f"templates/_exhibits/{name}.md"] = text
    for key in context.figures:
        files[f"templates/figures/{FIGURE_FILES[key]}"] = figures[key]
    written = []
    for relative, content in files.items():
        staged.path(f"{subdir}/{relative}").write_text(content, encoding="utf-8")
        written.append(f"{subdir}/{relative}")
    for relative in changed:
        progress(f"kept {subdir}/{relative} as it is: the shipped template changed, see {subdir}/{relative}.new")
    # The report's fonts (GUST Font License, shipped with their licence), for the Typst PDF (font-paths).
    for font in sorted(FONTS.iterdir()):
        shutil.copyfile(font, staged.path(f"{subdir}/fonts/{font.name}"))
        written.append(f"{subdir}/fonts/{font.name}")
    # The R template reads the same result files as the user does (copies: the project is self-contained).
    for name in ("results.rds", "estimates.csv"):
        shutil.copyfile(result_files[name], staged.path(f"{subdir}/templates/{name}"))
        written.append(f"{subdir}/templates/{name}")
    return written


# ------------------------------------------------------------------- render --

def render_quarto(project_dir: Path, progress: Callable[[str], None] = lambda message: None) -> list[Path] | None:
    """Run ``quarto render`` in the project when Quarto is installed; None when it is not.

    Renders the manuscript (HTML and Typst PDF) and, when ``Rscript`` is on
    the PATH, the R template (knitr); returns the files in the project's
    output directory, which is emptied first so that only this render's
    outputs are listed. Raises QuartoFailed with Quarto's messages when it fails.
    """
    quarto = shutil.which("quarto")
    if quarto is None:
        return None
    project_dir = Path(project_dir)
    config = yaml.safe_load((project_dir / "_quarto.yml").read_text(encoding="utf-8"))
    output = project_dir / config["project"]["output-dir"]
    if output.resolve().is_relative_to(project_dir.resolve()) and output.resolve() != project_dir.resolve():
        shutil.rmtree(output, ignore_errors=True)
    documents = [MANUSCRIPT]
    if shutil.which("Rscript"):
        documents.append(R_TEMPLATE)
    else:
        progress(f"Rscript is not on the PATH: {R_TEMPLATE} (knitr) not rendered")
    for document in documents:
        progress(f"quarto render {document}")
        completed = subprocess.run([quarto, "render", document], cwd=project_dir, capture_output=True, text=True,
                                   check=False)
        if completed.returncode != 0:
            messages = "\n".join(part.strip() for part in (completed.stdout, completed.stderr) if part.strip())
            raise QuartoFailed(f"quarto render {document} failed in {project_dir}:\n{messages}")
    return sorted(path for path in output.rglob("*") if path.is_file()) if output.exists() else []


# ------------------------------------------------ checking without Quarto --

def substitute_shortcodes(text: str, variables: dict[str, Any], base: Path, _nested: bool = False) -> str:
    """Resolve ``{{< include >}}`` and ``{{< var >}}`` as Quarto does, to check a project without Quarto.

    ``variables`` is the parsed ``_variables.yml`` and ``base`` the directory of
    the document. An include is pasted in place (its links stay relative to
    the document); a variable is replaced by its text, which is Quarto's
    result for a one-paragraph value. Raises KeyError for an undefined
    variable, ValueError for a value Quarto would not insert as written (a
    map, several lines) or an include inside an included file, and
    FileNotFoundError for a missing include.
    """
    def include(match):
        if _nested:
            raise ValueError(f"include inside an included file: {match.group(1)}")
        return substitute_shortcodes((base / match.group(1)).read_text(encoding="utf-8"), variables, base, True)

    def variable(match):
        value: Any = variables
        for part in match.group(1).split("."):
            if not isinstance(value, dict) or part not in value:
                raise KeyError(f"undefined Quarto variable {match.group(1)!r}")
            value = value[part]
        if not isinstance(value, str) or "\n" in value:
            raise ValueError(f"Quarto variable {match.group(1)!r} is not one paragraph of text: {value!r}")
        return value

    return VARIABLE.sub(variable, INCLUDE.sub(include, text))


PROJECT_README = """\
# Quarto project written by ketareport

Render it where the Quarto CLI is installed:

    quarto render                            # HTML (self-contained) and PDF (Typst: no TeX needed) into _output/
    quarto render templates/manuscript.qmd   # the manuscript only (no R needed)

Yours to edit (ketareport writes them once and never overwrites them; when a
later version ships a changed template it writes NAME.new beside yours):
`templates/manuscript.qmd` (the prose, with `{{< var ... >}}` for every
number and for each sentence whose wording depends on the results),
`templates/results-r.qmd` (R, knitr: extend the analysis from `results.rds`),
`_quarto.yml` and the Typst layout in `typst/`.

Rewritten by ketareport on every run (do not edit): `_variables.yml` (values
are Markdown: a backslash keeps a character such as `>` literal),
`_metadata-study.yml` (the title block, from study.yml), `templates/_exhibits/`
(tables and figures), `templates/_sections/` (optional subsections and the
appendix), `templates/figures/`, `templates/results.rds`,
`templates/estimates.csv`, `fonts/`, this README.
"""
