"""Render the manuscript: Jinja templates -> self-contained HTML -> PDF (WeasyPrint).

One Jinja environment (autoescape on, ``StrictUndefined`` so a missing value
fails the render instead of printing blank, the one filter CSS needs registered here).
The HTML carries everything inline: CSS, fonts (subsets of the shipped TeX
Gyre Pagella as data URIs) and figures (SVG). The PDF is made from the same
HTML, with the same fonts embedded, so it does not depend on the machine's
fontconfig.
"""

from __future__ import annotations

import base64
import functools
import io
import os
from pathlib import Path

from .output import write_atomic
from .paths import repository_file
from .present.context import ReportContext

TEMPLATES = repository_file("templates")
FONTS = Path(__file__).resolve().parent / "fonts"
# (file, CSS family, weight, style): Pagella for the text, Cursor (monospaced)
# for the command line, the configuration and the SHA-256 digests.
FONT_FACES = (
    ("texgyrepagella-regular.otf", "Pagella", "normal", "normal"),
    ("texgyrepagella-italic.otf", "Pagella", "normal", "italic"),
    ("texgyrepagella-bold.otf", "Pagella", "bold", "normal"),
    ("texgyrepagella-bolditalic.otf", "Pagella", "bold", "italic"),
    ("texgyrecursor-regular.otf", "Cursor", "normal", "normal"),
)
# What the report can print: Latin-1, Greek, punctuation, arrows and the
# mathematical signs statistics needs (−, ±, ≤, ≥, √, ′, ⁻¹, ², χ ...), and the invisible
# word joiner (U+2060) that keeps "59–85%" on one line.
FONT_UNICODES = (
    list(range(0x20, 0x7F)) + list(range(0xA0, 0x180)) + list(range(0x370, 0x400))
    + list(range(0x2010, 0x2050)) + [0x2060] + list(range(0x2070, 0x20A0)) + [0x2190, 0x2192, 0x2212, 0x2213, 0x221A, 0x2248, 0x2260, 0x2264, 0x2265]
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
    environment.filters["css_string"] = css_string
    return environment


def css_string(text: str) -> str:
    """Text for a CSS string literal: backslashes, quotes and line breaks escaped (CSS is not autoescaped)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ")


FONT_FEATURES = ("kern", "liga", "lnum", "tnum", "onum", "pnum")
SUBSET_RECIPE = 2
"""Part of the cache key: raise it when :func:`_subset` changes its output (2: no timestamp)."""


@functools.lru_cache(maxsize=None)
def embedded_fonts() -> tuple[dict[str, str], ...]:
    """The shipped faces, subset to ``FONT_UNICODES``, as data URIs.

    Subsetting keeps the HTML small (4 x 60 kB instead of 4 x 220 kB). It
    takes ~2 s, so the subsets are kept in the user's cache directory, keyed
    by the font files, the character set, the features and the fontTools
    version; fontTools' output is deterministic, so a cached subset is the
    same bytes a fresh one would be and renders stay byte-identical.
    """
    return tuple(
        {"data_uri": f"data:font/otf;base64,{base64.b64encode(_font_subset(file)).decode('ascii')}",
         "family": family, "weight": weight, "style": style}
        for file, family, weight, style in FONT_FACES
    )


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "ketareport" / "fonts"


def _font_subset(file: str) -> bytes:
    import hashlib

    import fontTools

    source = (FONTS / file).read_bytes()
    key = hashlib.sha256(
        source + repr((SUBSET_RECIPE, FONT_UNICODES, FONT_FEATURES, fontTools.version)).encode()
    ).hexdigest()[:24]
    cached = _cache_dir() / f"{Path(file).stem}-{key}.otf"
    if cached.is_file():
        return cached.read_bytes()
    subset = _subset(source)
    try:
        write_atomic(cached, subset)
    except OSError:
        pass  # a read-only home only costs the next render the ~2 s again
    return subset


def _subset(source: bytes) -> bytes:
    import logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    # The subsetter logs, at warning level, that it drops FontForge's timestamp table (FFTM): expected.
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    options = subset.Options()
    options.layout_features = list(FONT_FEATURES)
    options.name_IDs = ["*"]
    options.notdef_outline = True
    # recalcTimestamp=False keeps the source's head.modified; fontTools would otherwise stamp the
    # subset with the current time and no two renders (nor cached and fresh subsets) would be identical.
    font = TTFont(io.BytesIO(source), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=FONT_UNICODES)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


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
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
