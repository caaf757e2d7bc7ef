"""Render the manuscript: Jinja templates -> self-contained HTML -> PDF (WeasyPrint).

One Jinja environment (autoescape on, ``StrictUndefined`` so a missing value
fails the render instead of printing blank, its filters registered here).
The HTML carries everything inline: CSS, fonts (subsets of the shipped TeX
Gyre Pagella as data URIs) and figures (SVG). The PDF is made from the same
HTML, with the same fonts embedded, so it does not depend on the machine's
fontconfig.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import os
import re
from dataclasses import dataclass
from html import escape, unescape
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
    environment.filters["svg_inline"] = svg_inline
    return environment


def css_string(text: str) -> str:
    """Text for a CSS string literal: backslashes, quotes and line breaks escaped (CSS is not autoescaped)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ")


def svg_inline(svg: str, prefix: str, title: str) -> str:
    """An SVG document ready to sit inside the HTML beside others.

    Its ids (and the references to them) get ``prefix``, since the figures, drawn separately, reuse the same
    ids and an HTML page must not; ``title`` becomes its first child: the accessible name a browser reads
    out, and the /Alt text WeasyPrint gives the figure in the tagged PDF.
    """
    opening = re.match(r"\s*<svg\b[^>]*>", svg)
    if opening is None:
        raise ValueError("not an SVG document: it does not start with an <svg> element")
    body = re.sub(r'\bid="', f'id="{prefix}-', svg[opening.end():])
    body = re.sub(r'((?:xlink:)?href="|url\()#', rf"\1#{prefix}-", body)
    return f"{opening.group(0)}<title>{escape(title, quote=False)}</title>{body}"


FONT_FEATURES = ("kern", "liga", "lnum", "tnum", "onum", "pnum")
SUBSET_RECIPE = 2
"""Part of the cache key: raise it when :func:`_subset` changes its output (2: no timestamp)."""


@functools.lru_cache(maxsize=None)
def embedded_fonts() -> tuple[dict[str, str], ...]:
    """The shipped faces, subset to ``FONT_UNICODES`` (:func:`font_subsets`), as data URIs for the HTML."""
    subsets = font_subsets()
    return tuple(
        {"file": file, "data_uri": f"data:font/otf;base64,{base64.b64encode(subsets[file]).decode('ascii')}",
         "family": family, "weight": weight, "style": style}
        for file, family, weight, style in FONT_FACES
    )


@functools.lru_cache(maxsize=None)
def font_subsets() -> dict[str, bytes]:
    """Font file name -> the face subset to ``FONT_UNICODES``.

    Subsetting keeps the HTML small (4 x 60 kB instead of 4 x 220 kB). It
    takes ~2 s, so the subsets are kept in the user's cache directory, keyed
    by the font files, the character set, the features and the fontTools
    version; fontTools' output is deterministic, so a cached subset is the
    same bytes a fresh one would be and renders stay byte-identical.
    """
    return {file: _font_subset(file) for file, *_ in FONT_FACES}


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
        control=context.control, watermark=draft_watermark() if context.control.draft else None,
    )
    return environment.get_template("manuscript.html").render(
        c=context, css=css, figures=figures, generated_at=generated_at,
    )


WATERMARK_COLOUR = (0.88, 0.88, 0.88)
"""The draft watermark's grey (RGB, 0-1): light enough that text printed over it reads as on white."""
WATERMARK_ANGLE = 54.7
"""Degrees: the diagonal of an A4 page (atan(297 / 210)); on Letter it is 52.3, close enough."""


@functools.lru_cache(maxsize=None)
def draft_watermark() -> str:
    """A data URI of an SVG: the word DRAFT along the page diagonal.

    The letters are outlines of the shipped Pagella Bold, not text: the watermark needs no font, and text
    extraction and screen readers do not read it (WeasyPrint draws page backgrounds as artifacts).
    """
    import math

    from fontTools.pens.svgPathPen import SVGPathPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.ttLib import TTFont

    font = TTFont(FONTS / "texgyrepagella-bold.otf")
    glyphs, cmap = font.getGlyphSet(), font.getBestCmap()
    cap_height = font["OS/2"].sCapHeight
    pen = SVGPathPen(glyphs)
    advance = 0
    for character in "DRAFT":
        glyph = glyphs[cmap[ord(character)]]
        glyph.draw(TransformPen(pen, (1, 0, 0, -1, advance, 0)))  # font units grow upwards, SVG's downwards
        advance += glyph.width
    angle = math.radians(WATERMARK_ANGLE)
    side = math.ceil(advance * math.cos(angle) + cap_height * math.sin(angle))
    red, green, blue = (round(channel * 255) for channel in WATERMARK_COLOUR)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" width="{side}" height="{side}">'
        f'<path fill="rgb({red},{green},{blue})" transform="translate({side / 2} {side / 2}) '
        f'rotate({-WATERMARK_ANGLE}) translate({-advance / 2} {cap_height / 2})" d="{pen.getCommands()}"/></svg>'
    )
    return f"data:image/svg+xml;base64,{base64.b64encode(svg.encode('ascii')).decode('ascii')}"


PDF_VARIANT = "pdf/a-3a"
"""PDF/A-3, level a (accessible): archival (fonts embedded, sRGB output intent, XMP) and tagged, and PDF/A-3
is the part that allows the data files to travel inside the PDF as associated files."""


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside the PDF (a PDF/A-3 associated file), the same bytes as the one written beside it."""

    name: str
    data: bytes
    relationship: str
    """The associated-file relationship: ``Data`` (numbers the report prints) or ``Source`` (what produced them)."""
    description: str
    media_type: str
    """MIME type: ``text/csv``, ``application/json``, ``application/yaml`` (RFC 9512)."""


@dataclass(frozen=True)
class PdfMetadata:
    """What the PDF says about itself beyond the HTML's <title>, author and keyword <meta> tags."""

    subject: str
    created: dt.datetime


def render_pdf(html: str, metadata: PdfMetadata, embedded_files: tuple[EmbeddedFile, ...] = ()) -> bytes:
    """The PDF/A-3a of the same HTML, carrying ``embedded_files``.

    Title, authors, keywords and dates come from the HTML's <title> and <meta> tags, the language from
    ``<html lang>``; the subject is set here.
    """
    weasyprint = import_weasyprint()
    # The HTML carries its fonts as data URIs (~400 kB of base64 in the stylesheet), which WeasyPrint would
    # tokenise and decode (about 1 s): the PDF is made from the same HTML with each of those URIs replaced by
    # a short URL that the fetcher answers with the same bytes.
    resources = {}
    for face in embedded_fonts():
        reference = f"{RESOURCE_URL_SCHEME}:{face['file']}"
        html = html.replace(face["data_uri"], reference)
        resources[reference] = (font_subsets()[face["file"]], "font/otf")
    html = _figures_as_images(html, resources)
    # A fixed base_url: relative URLs (there are none) could otherwise reach the file system.
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES), url_fetcher=_fetcher(resources)).render()
    document.metadata.description = metadata.subject
    # The attachments' dates are the report's: WeasyPrint would otherwise stamp them with the clock.
    created = metadata.created.astimezone(dt.timezone.utc).replace(tzinfo=None)
    # As data: URLs, so that each carries its MIME type (WeasyPrint would guess from the name, and knows no YAML).
    attachments = [
        weasyprint.Attachment(url=f"data:{file.media_type};base64,{base64.b64encode(file.data).decode('ascii')}",
                              name=file.name, description=file.description,
                              relationship=file.relationship, created=created, modified=created)
        for file in embedded_files
    ]
    return document.write_pdf(
        pdf_variant=PDF_VARIANT, attachments=attachments,
        finisher=_finish_pdf,
    )


MANUSCRIPT_TEMPLATES = ("manuscript.html", "_title.html", "_exhibits.html", "_appendix.html", "manuscript.css")


def warm_up() -> None:
    """Compile the templates, draw the watermark and render a small PDF as the report's is rendered: the
    one-time set-up of a process's first documents, done by the PDF worker while the analysis runs.

    WeasyPrint's first document in a process loads the hyphenation patterns, parses the C declarations of
    the types it uses, sets up fontconfig and reads its own stylesheets: about 1 s of CPU, measured on the
    demo (the PDF step itself then takes 1.8 s instead of 2.5 s).
    """
    environment = template_environment()
    # The manuscript's templates and the parts they include or import (compiled when first rendered otherwise:
    # ~0.1 M Python calls of the report's first render, profiled).
    for template in MANUSCRIPT_TEMPLATES:
        environment.get_template(template)
    draft_watermark()
    regular = embedded_fonts()[0]
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Warm-up</title><style>'
        f'@font-face {{ font-family: "{regular["family"]}"; src: url("{regular["data_uri"]}") format("opentype"); }}'
        f'body {{ font-family: "{regular["family"]}"; hyphens: auto; text-align: justify; }} p {{ width: 6em; }}'
        'tbody td { text-align: right; font-variant-numeric: tabular-nums; }</style></head><body>'
        "<h1>Warm-up</h1><p>Intravenous ketamine infusions, administered in outpatient clinics, reduced "
        "neuropathic pain considerably.</p>"
        '<table><caption>Table</caption><thead><tr><th scope="col">Group</th><th scope="col">n</th></tr></thead>'
        '<tbody><tr><th scope="row">All</th><td>49</td></tr></tbody></table>'
        '<figure><svg xmlns="http://www.w3.org/2000/svg" width="20pt" height="10pt" viewBox="0 0 20 10">'
        '<title>Figure</title><line x1="0" y1="5" x2="20" y2="5" stroke="black"/>'
        '<text x="0" y="8" style="font-size: 8px">1</text></svg></figure></body></html>'
    )
    render_pdf(html, PdfMetadata(subject="Warm-up", created=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)),
               (EmbeddedFile("warm-up.csv", b"a\n1\n", "Data", "Warm-up.", "text/csv"),))


RESOURCE_URL_SCHEME = "ketareport-resource"
"""The scheme of the URLs that stand for the fonts and figures in the HTML the PDF is made from."""
INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
SVG_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _figures_as_images(html: str, resources: dict[str, tuple[bytes, str]]) -> str:
    """The HTML with each inline figure (``<svg>``, :func:`svg_inline`) replaced by an ``<img>`` of the same SVG,
    its title as the alternative text; the SVG goes into ``resources`` under the image's URL.

    WeasyPrint draws both alike (the same pages, the same /Figure tag with the title as /Alt), but an inline
    SVG's elements also go through the HTML's style cascade and box building: about 6% of a demo render's
    work (Python calls), profiled.
    """
    def image(match: re.Match) -> str:
        svg = match.group(0)
        reference = f"{RESOURCE_URL_SCHEME}:figure-{len(resources)}.svg"
        resources[reference] = (svg.encode("utf-8"), "image/svg+xml")
        title = SVG_TITLE.search(svg)
        alt = escape(unescape(title.group(1))) if title else ""
        return f'<img src="{reference}" alt="{alt}">'

    return INLINE_SVG.sub(image, html)


def _fetcher(resources: dict[str, tuple[bytes, str]]):
    """WeasyPrint's URL fetcher, answering the URLs in ``resources`` with their bytes and media type (other
    URLs as usual)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ResourceFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url in resources:
                data, media_type = resources[url]
                return URLFetcherResponse(url, data, {"Content-Type": media_type})
            return super().fetch(url, headers)

    return ResourceFetcher()


def import_weasyprint():
    """``import weasyprint``, quicker: without its library lookups (:func:`_import_without_lookups`) and with
    its font subsetting spared cffi's C parser (:func:`_sized_arrays_without_parsing`)."""
    import sys

    if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
        _import_without_lookups()
    import weasyprint  # the ordinary import elsewhere, or after a quick one that failed

    _sized_arrays_without_parsing()
    return weasyprint


def _import_without_lookups() -> None:
    """``import weasyprint`` on Linux without the ~50 helper processes it would start.

    WeasyPrint loads each native library (Pango, HarfBuzz, fontconfig ...) trying several names in turn;
    the first ones (``libgobject-2.0-0``, ``gobject-2.0-0``) are not file names, so cffi asks
    ``ctypes.util.find_library``, which runs ldconfig, gcc and ld for each, and they fail on Linux: 0.4 to
    0.7 s of a render, measured. The names that follow are the Linux sonames (``libgobject-2.0.so.0``),
    which the dynamic loader finds itself. So on Linux the lookup answers "not found" at once while
    WeasyPrint is imported; should the import fail that way, it is forgotten and done the ordinary way.
    """
    import contextlib
    import ctypes.util
    import sys

    lookup = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        # WeasyPrint prints installation advice when a library is missing: not for this first attempt.
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401
    except OSError:
        for name in [module for module in sys.modules if module == "weasyprint" or module.startswith("weasyprint.")]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = lookup


SIZED_ARRAY = re.compile(r"(\w+)\[(\d+)\]")


def _sized_arrays_without_parsing() -> None:
    """Let WeasyPrint's ``ffi.new("hb_codepoint_t[N]", values)`` skip cffi's C parser.

    When WeasyPrint subsets a font for the PDF it makes arrays of glyph ids with a type spelled with their
    length; cffi parses each new spelling with pycparser (10-30 ms), and every document has lengths of its
    own, so each render paid that about ten times (0.15-0.2 s of CPU, profiled on the demo). An array as
    long as its initial values is the same array made from the open type ``hb_codepoint_t[]``, parsed once.
    """
    from weasyprint.text.ffi import ffi

    if getattr(ffi.new, "opens_sized_arrays", False):
        return  # done already in this process
    new = ffi.new

    def new_array(cdecl, init=None):
        if isinstance(cdecl, str) and init is not None:
            sized = SIZED_ARRAY.fullmatch(cdecl)
            if sized is not None and int(sized.group(2)) == len(init):
                cdecl = ffi.typeof(f"{sized.group(1)}[]")
        return new(cdecl, init)

    new_array.opens_sized_arrays = True
    ffi.new = new_array


def _finish_pdf(document, pdf) -> None:
    """Complete what WeasyPrint leaves out: page labels (1, 2, ... as the footers number the pages), one /AF
    entry per associated file, and the document language in the XMP (dc:language; WeasyPrint writes it only
    as the catalog's /Lang)."""
    import pydyf

    language = document.metadata.lang
    if not language:
        raise ValueError("the manuscript's <html> element has no lang attribute: PDF/A-3a needs the document language")
    pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": pydyf.Array([0, pydyf.Dictionary({"S": "/D"})])})
    if "AF" in pdf.catalog:
        # WeasyPrint lists each associated file twice (from the name tree and from the file specifications).
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))
    metadata = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]
    language_description = (
        '<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" rdf:about="">'
        f"<dc:language><rdf:Bag><rdf:li>{escape(language)}</rdf:li></rdf:Bag></dc:language>"
        "</rdf:Description></rdf:RDF>"
    ).encode("utf-8")
    (packet,) = metadata.stream
    if packet.count(b"</rdf:RDF>") != 1:
        raise RuntimeError("unexpected XMP packet from WeasyPrint: expected one rdf:RDF element")
    metadata.stream = [packet.replace(b"</rdf:RDF>", language_description)]
