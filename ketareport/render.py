"""Render the manuscript: Jinja templates -> self-contained HTML -> PDF (WeasyPrint).

One Jinja environment (autoescape on, ``StrictUndefined`` so a missing value
fails the render instead of printing blank, every filter registered here).
The HTML carries everything inline: CSS, fonts (subsets of the shipped TeX
Gyre Pagella as data URIs) and figures (SVG). The PDF is made from the same
HTML, with the same fonts embedded, so it does not depend on the machine's
fontconfig.
"""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path
from typing import TYPE_CHECKING

from .paths import repository_file
from .present import FILTERS, ReportContext

if TYPE_CHECKING:
    from .output import StagedOutput
    from .pipeline import AnalysisRun
    from .verify import VerificationReport

TEMPLATES = repository_file("templates")
FONTS = Path(__file__).resolve().parent / "fonts"
FONT_FACES = (
    ("texgyrepagella-regular.otf", "normal", "normal"),
    ("texgyrepagella-italic.otf", "normal", "italic"),
    ("texgyrepagella-bold.otf", "bold", "normal"),
    ("texgyrepagella-bolditalic.otf", "bold", "italic"),
)
# What the report can print: Latin-1, Greek, punctuation, arrows and the
# mathematical signs statistics needs (−, ±, ≤, ≥, √, ′, ⁻¹, ², χ ...).
FONT_UNICODES = (
    list(range(0x20, 0x7F)) + list(range(0xA0, 0x180)) + list(range(0x370, 0x400))
    + list(range(0x2010, 0x2050)) + list(range(0x2070, 0x20A0)) + [0x2190, 0x2192, 0x2212, 0x2213, 0x221A, 0x2248, 0x2260, 0x2264, 0x2265]
)


@functools.lru_cache(maxsize=None)
def template_environment(templates: Path = TEMPLATES):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    environment.filters.update(FILTERS)
    environment.filters["css_string"] = css_string
    return environment


def css_string(text: str) -> str:
    """Text for a CSS string literal: backslashes, quotes and line breaks escaped (CSS is not autoescaped)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ")


@functools.lru_cache(maxsize=None)
def embedded_fonts() -> tuple[dict[str, str], ...]:
    """The four Pagella faces, subset to ``FONT_UNICODES``, as data URIs.

    Subsetting keeps the HTML small (about 4 x 25 kB instead of 4 x 220 kB);
    fontTools' output is deterministic, so renders stay byte-identical.
    """
    import logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    # The subsetter logs, at warning level, that it drops FontForge's timestamp table (FFTM): expected.
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

    faces = []
    options = subset.Options()
    options.layout_features = ["kern", "liga", "lnum", "tnum", "onum", "pnum"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    for file, weight, style in FONT_FACES:
        font = TTFont(str(FONTS / file))
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=FONT_UNICODES)
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        faces.append({"data_uri": f"data:font/otf;base64,{encoded}", "weight": weight, "style": style})
    return tuple(faces)


def render_html(context: ReportContext, figures: dict[str, str], generated_at: str) -> str:
    environment = template_environment()
    css = environment.get_template("manuscript.css").render(
        fonts=embedded_fonts(), page_size=context.page_size, running_head=context.title.running_head,
    )
    return environment.get_template("manuscript.html").render(
        c=context, css=css, figures=figures, generated_at=generated_at,
    )


def render_pdf(html: str) -> bytes:
    """The PDF of the same HTML (title, author and dates from its <meta> tags)."""
    from weasyprint import HTML

    # A fixed base_url: relative URLs (there are none) could otherwise reach the file system.
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(uncompressed_pdf=False)


def render_report(
    run: AnalysisRun,
    staged: StagedOutput,
    *,
    verification: VerificationReport | None = None,
    progress=lambda message: None,
) -> tuple[ReportContext, dict[str, str], list[str]]:
    """Stage ``<name>.html``, ``<name>.pdf`` and ``figures/*.svg``; returns the context, figures and names."""
    from .figures import FIGURE_FILES, render_figures
    from .present import build_context

    progress("drawing figures")
    figures = render_figures(run)
    context = build_context(run, verification)
    progress("rendering HTML")
    html = render_html(context, figures, run.provenance["generated_at"])
    progress("rendering PDF")
    pdf = render_pdf(html)
    name = run.config.report.name
    written = []
    for key, svg in figures.items():
        relative = f"figures/{FIGURE_FILES[key]}"
        staged.path(relative).write_text(svg, encoding="utf-8")
        written.append(relative)
    staged.path(f"{name}.html").write_text(html, encoding="utf-8")
    staged.path(f"{name}.pdf").write_bytes(pdf)
    return context, figures, [f"{name}.html", f"{name}.pdf", *written]
