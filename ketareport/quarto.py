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

The engine-owned text comes from :mod:`ketareport.quarto_content`, its
Markdown from :mod:`ketareport.quarto_markdown`; this module writes the
project and runs ``quarto render``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .errors import QuartoFailed
from .paths import repository_file
from .present.context import FIGURE_FILES
from .quarto_content import exhibit_files, quarto_variables, quoted_yaml, section_files, study_metadata, variables_yaml

if TYPE_CHECKING:
    from .output import StagedOutput
    from .pipeline import AnalysisRun
    from .present.context import ReportContext

PROJECT_FILE = repository_file("_quarto.yml")
TEMPLATES = repository_file("templates")
MANUSCRIPT = "templates/manuscript.qmd"
R_TEMPLATE = "templates/results-r.qmd"
QUARTO_TEMPLATES = ("manuscript.qmd", "results-r.qmd")
TYPST_PARTIALS = ("typst-template.typ", "typst-show.typ")
SHIPPED_RECORD = ".ketareport-templates.json"
"""Engine-owned: the SHA-256 of each author-owned template as last offered to the project."""
FONTS = Path(__file__).resolve().parent / "fonts"  # package data, as for the HTML and WeasyPrint PDF


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
        "_metadata-study.yml": quoted_yaml(study_metadata(run, context)),
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
    """Run ``quarto render`` in the project when Quarto is installed; None (and how to render it, to
    ``progress``) when it is not.

    Renders the manuscript (HTML and Typst PDF) and, when ``Rscript`` is on
    the PATH, the R template (knitr); returns the files in the project's
    output directory, which is emptied first so that only this render's
    outputs are listed. Raises QuartoFailed with Quarto's messages when it fails.
    """
    project_dir = Path(project_dir)
    quarto = shutil.which("quarto")
    if quarto is None:
        progress(f"quarto is not installed here; to render the Quarto project: cd {project_dir} && quarto render "
                 "(or, without R: quarto render templates/manuscript.qmd)")
        return None
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
