"""The manuscript as a Quarto project, from the same formatted results.

``write_quarto_project`` stages, under ``quarto/`` in the output directory,
a project that ``quarto render`` turns into HTML and (through Typst, no TeX)
PDF: the repository's ``_quarto.yml`` unchanged, the ``templates/*.qmd``,
``_variables.yml`` (every number, formatted by :mod:`ketareport.present`
exactly as in the HTML report), ``_metadata-study.yml`` (title block from
study.yml), Markdown tables and figure includes, the SVG figures and the R
results for the R template. No number is typed into a ``.qmd``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import KetareportError
from .figures import FIGURE_FILES
from .paths import repository_file
from .present import ReportContext, Table

if TYPE_CHECKING:
    from .output import StagedOutput
    from .pipeline import AnalysisRun

PROJECT_FILE = repository_file("_quarto.yml")
TEMPLATES = repository_file("templates")
QUARTO_TEMPLATES = ("manuscript.qmd", "results-r.qmd")
# Every exhibit the manuscript template includes; one absent from a run
# (say, no mixed model) is written empty, so the include still resolves.
EXHIBITS = ("figure-flow", "figure-vas", "figure-relief", "table-patients", "table-infusions", "table-vas",
            "table-relief", "table-sensitivity")
PAPER_SIZES = {"A4": "a4", "Letter": "us-letter"}
VARIABLE = re.compile(r"\{\{<\s*var\s+([^\s>]+)\s*>\}\}")
INCLUDE = re.compile(r"\{\{<\s*include\s+([^\s>]+)\s*>\}\}")


class QuartoFailed(KetareportError):
    """``quarto render`` stopped with an error."""


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", heading.lower()).strip("_")


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> str:
    """A pipe table with a Quarto caption and cross-reference id."""
    width = len(table.columns)
    lines = [
        "| " + " | ".join(_markdown_cell(c) for c in table.columns) + " |",
        "|" + ":---|" + "---:|" * (width - 1),
    ]
    for row in table.rows:
        if row.kind == "section":
            lines.append(f"| *{_markdown_cell(row.label)}* |" + " |" * (width - 1))
        else:
            indent = "\u00a0\u00a0\u00a0" if row.kind == "subrow" else ""
            lines.append("| " + " | ".join([indent + _markdown_cell(row.label), *map(_markdown_cell, row.cells)]) + " |")
    lines.append("")
    lines.append(f": {_markdown_cell(table.caption)} {{#{table.id}}}")
    notes = "".join(f"\n\n{note}" for note in table.notes)
    return "\n".join(lines) + notes + "\n"


def quarto_variables(context: ReportContext) -> dict[str, Any]:
    """``_variables.yml``: the report's formatted values plus its generated prose, by section."""
    appendix = context.appendix
    appendix_text = "\n\n".join([
        "Input files (SHA-256): " + "; ".join(f"{name} `{digest}`" for name, digest, _ in appendix.input_files) + ".",
        "Rows read: " + "; ".join(f"{name} {rows}" for name, rows in appendix.row_counts) + ".",
        f"Generated {appendix.generated_at} by `{appendix.command}`.",
        "Software: " + "; ".join(f"{name} {version}" for name, version in appendix.versions) + ".",
        appendix.verification_summary,
    ])
    sections = {
        "introduction": "\n\n".join(context.introduction),
        "methods": {_slug(s.heading): "\n\n".join(s.paragraphs) for s in context.methods},
        "results": {slug: "" for slug in ("side_effects", "sensitivity_analysis")}
                   | {_slug(s.heading): "\n\n".join(s.paragraphs) for s in context.results},
        "conclusions": "\n\n".join(context.conclusions),
        "appendix": appendix_text,
    }
    figures = {key: {"caption": f.caption, "alt": f.alt} for key, f in context.figures.items()}
    return {**context.variables(), "sections": sections, "figures": figures}


def study_metadata(run: AnalysisRun, context: ReportContext) -> dict[str, Any]:
    """``_metadata-study.yml``: the title block, from study.yml."""
    study = run.config.study
    metadata: dict[str, Any] = {
        "title": context.title.title,
        "date": context.title.date,
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
    return metadata


def _yaml(data: Any) -> str:
    # Every string quoted: values such as "< 0.001", "37%" or "P = 0.002" must stay text.
    class Quoted(yaml.SafeDumper):
        pass

    Quoted.add_representer(str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"'))
    return yaml.dump(data, Dumper=Quoted, sort_keys=False, allow_unicode=True, width=10_000)


def write_quarto_project(
    run: AnalysisRun, context: ReportContext, figures: dict[str, str], staged: StagedOutput, subdir: str = "quarto",
) -> list[str]:
    """Stage the Quarto project under ``subdir``; returns the relative paths written."""
    files: dict[str, str | bytes] = {
        "_quarto.yml": PROJECT_FILE.read_text(encoding="utf-8"),
        "_variables.yml": _yaml(quarto_variables(context)),
        "_metadata-study.yml": _yaml(study_metadata(run, context)),
        "README.md": PROJECT_README,
    }
    for name in QUARTO_TEMPLATES:
        files[f"templates/{name}"] = (TEMPLATES / name).read_text(encoding="utf-8")
    exhibits = {name: "" for name in EXHIBITS}
    for key, table in context.tables.items():
        exhibits[f"table-{key}"] = markdown_table(table)
    for key, figure in context.figures.items():
        alt = figure.alt.replace('"', "'")
        exhibits[f"figure-{key}"] = f'![{figure.caption}](figures/{figure.file}){{#{figure.id} fig-alt="{alt}"}}\n'
        files[f"templates/figures/{FIGURE_FILES[key]}"] = figures[key]
    for name, text in exhibits.items():
        files[f"templates/_exhibits/{name}.md"] = text
    written = []
    for relative, content in files.items():
        target = staged.path(f"{subdir}/{relative}")
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        written.append(f"{subdir}/{relative}")
    # The R template reads the same result files as the user does.
    for name in ("results.rds", "estimates.csv"):
        source = staged.path(name)
        if source.exists():
            shutil.copyfile(source, staged.path(f"{subdir}/templates/{name}"))
            written.append(f"{subdir}/templates/{name}")
    return written


def render_quarto(project_dir: Path) -> list[Path] | None:
    """Run ``quarto render`` in the project when Quarto is installed; None when it is not."""
    quarto = shutil.which("quarto")
    if quarto is None:
        return None
    completed = subprocess.run([quarto, "render"], cwd=project_dir, capture_output=True, text=True)
    if completed.returncode != 0:
        raise QuartoFailed(f"quarto render failed in {project_dir}:\n{completed.stderr.strip()}")
    output = project_dir / "_output"
    return sorted(path for path in output.rglob("*") if path.is_file()) if output.exists() else []


def substitute_shortcodes(text: str, variables: dict[str, Any], base: Path) -> str:
    """Resolve ``{{< include >}}`` and ``{{< var >}}`` as Quarto does (for checking a project without Quarto).

    Raises KeyError naming an undefined variable, FileNotFoundError for a missing include.
    """
    def include(match):
        path = base / match.group(1)
        return substitute_shortcodes(path.read_text(encoding="utf-8"), variables, path.parent)

    def variable(match):
        value: Any = variables
        for part in match.group(1).split("."):
            if not isinstance(value, dict) or part not in value:
                raise KeyError(f"undefined Quarto variable {match.group(1)!r}")
            value = value[part]
        return str(value)

    return VARIABLE.sub(variable, INCLUDE.sub(include, text))


PROJECT_README = """\
# Quarto project written by ketareport

Every number in these documents comes from `_variables.yml`, written by
ketareport from the analysis; the title block from `_metadata-study.yml`
(study.yml); tables and figures from `templates/_exhibits/` and
`templates/figures/`. Nothing here needs editing to render.

    quarto render            # HTML (self-contained) and PDF (Typst: no TeX needed) into _output/

`templates/results-r.qmd` reads `templates/results.rds` with knitr R chunks
(R with the knitr package needed): extend it in R.
"""
