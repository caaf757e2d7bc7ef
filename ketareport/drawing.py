"""SVG drawing in points, for the report's figures: a canvas, linear scales, round ticks, text widths.

Coordinates are points (1 unit = 1 pt before the page scales the figure),
y growing downwards. Text is SVG text in the report's serif (the HTML and
PDF embed TeX Gyre Pagella as ``Pagella``; Typst and stand-alone viewers
find it installed as ``TeX Gyre Pagella``), one ``<text>`` element a line;
its width, where a layout needs it, comes from the shipped font's advance
widths. Numbers are written to 0.01 pt, so the same drawing gives the same
bytes.
"""

from __future__ import annotations

import functools
import math
import struct
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

FONT_DIR = Path(__file__).parent / "fonts"
FONT_FAMILY = "TeX Gyre Pagella"
FONT_STACK = f"font-family: Pagella, '{FONT_FAMILY}', serif"
INK = "#1a1a1a"
TEXT_SIZE = 10.0
"""Axis labels and tick labels (pt, in the figure's own units: 1 unit = 1 pt before the page scales it)."""
LINE_SPACING = 1.3
AXIS_WIDTH = 0.8
BASELINE_SHIFT = 0.32
"""A line of text centred on y sits on the baseline y + BASELINE_SHIFT × size (Pagella's lining figures and
capitals are about 0.69 em high; lower case 0.45 em)."""


# Text measurement ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _advances() -> tuple[dict[int, float], float]:
    """Pagella's advance widths in em by code point, and the width used for a character it lacks.

    Read from the font's ``hmtx`` table through its Unicode ``cmap`` subtable (format 4), with ``struct``:
    fontTools would take 0.15 s to import, on the way to the report's first figure.
    """
    data = (FONT_DIR / "texgyrepagella-regular.otf").read_bytes()
    (n_tables,) = struct.unpack_from(">H", data, 4)
    tables = {}
    for record in range(n_tables):
        tag, _, offset, _ = struct.unpack_from(">4sIII", data, 12 + 16 * record)
        tables[tag] = offset
    (units_per_em,) = struct.unpack_from(">H", data, tables[b"head"] + 18)
    (n_metrics,) = struct.unpack_from(">H", data, tables[b"hhea"] + 34)

    def advance(glyph: int) -> float:
        # Glyphs past the last full metric share its advance width.
        return struct.unpack_from(">H", data, tables[b"hmtx"] + 4 * min(glyph, n_metrics - 1))[0] / units_per_em

    cmap = tables[b"cmap"]
    (n_subtables,) = struct.unpack_from(">H", data, cmap + 2)
    encodings = {struct.unpack_from(">HH", data, cmap + 4 + 8 * i): struct.unpack_from(">I", data, cmap + 8 + 8 * i)[0]
                 for i in range(n_subtables)}
    subtable = cmap + encodings[(3, 1)]  # Windows, Unicode BMP
    if struct.unpack_from(">H", data, subtable)[0] != 4:
        raise ValueError("the font's Unicode cmap subtable is not format 4")
    (doubled,) = struct.unpack_from(">H", data, subtable + 6)
    n = doubled // 2
    ends = struct.unpack_from(f">{n}H", data, subtable + 14)
    starts = struct.unpack_from(f">{n}H", data, subtable + 16 + doubled)
    deltas = struct.unpack_from(f">{n}h", data, subtable + 16 + 2 * doubled)
    offsets_at = subtable + 16 + 3 * doubled
    offsets = struct.unpack_from(f">{n}H", data, offsets_at)
    widths = {}
    for segment, (start, end, delta, offset) in enumerate(zip(starts, ends, deltas, offsets, strict=True)):
        for code in range(start, min(end, 0xFFFE) + 1):
            if offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                at = offsets_at + 2 * segment + offset + 2 * (code - start)
                glyph = struct.unpack_from(">H", data, at)[0]
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                widths[code] = advance(glyph)
    return widths, widths[ord("n")]


def text_width(text: str, size: float) -> float:
    """The width (pt) of ``text`` set in Pagella at ``size`` (advance widths, without kerning)."""
    widths, fallback = _advances()
    return size * sum(widths.get(ord(character), fallback) for character in text)


# Drawing ----------------------------------------------------------------------------------------------------

def number(value: float) -> str:
    """A coordinate to 0.01 pt, without trailing zeros (and never "-0")."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass
class Canvas:
    """SVG elements in points; y grows downwards."""

    width: float
    """At least: text reaching beyond it (a long label) widens the figure."""
    height: float
    parts: list[str] = field(default_factory=list)

    def line(self, x1: float, y1: float, x2: float, y2: float, *, colour: str = INK, width: float = AXIS_WIDTH,
             dash: str | None = None) -> None:
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{number(x1)}" y1="{number(y1)}" x2="{number(x2)}" y2="{number(y2)}" '
                          f'stroke="{colour}" stroke-width="{number(width)}"{dashes}/>')

    def rect(self, x: float, y: float, width: float, height: float, *, stroke: str | None = INK, fill: str = "white",
             stroke_width: float = 0.9, radius: float = 0.0, opacity: float | None = None) -> None:
        self.width = max(self.width, x + width + 2)
        corner = f' rx="{number(radius)}"' if radius else ""
        outline = f' stroke="{stroke}" stroke-width="{number(stroke_width)}"' if stroke else ""
        self.parts.append(f'<rect x="{number(x)}" y="{number(y)}" width="{number(width)}" '
                          f'height="{number(height)}"{corner} fill="{fill}"{outline}{opacity_attributes(opacity)}/>')

    def circle(self, x: float, y: float, radius: float, *, stroke: str, fill: str, stroke_width: float,
               opacity: float | None = None) -> None:
        self.parts.append(f'<circle cx="{number(x)}" cy="{number(y)}" r="{number(radius)}" fill="{fill}" '
                          f'stroke="{stroke}" stroke-width="{number(stroke_width)}"{opacity_attributes(opacity)}/>')

    def polygon(self, points: list[tuple[float, float]], *, fill: str = INK) -> None:
        coordinates = " ".join(f"{number(x)},{number(y)}" for x, y in points)
        self.parts.append(f'<polygon points="{coordinates}" fill="{fill}"/>')

    def text(self, x: float, y: float, text: str, *, size: float = TEXT_SIZE, anchor: str = "start",
             rotate: float | None = None) -> None:
        """One line of text whose middle (capital height) is at ``y``; ``anchor`` is start, middle or end."""
        baseline = y + BASELINE_SHIFT * size
        if not rotate:
            reach = text_width(text, size) * {"start": 1.0, "middle": 0.5, "end": 0.0}[anchor]
            self.width = max(self.width, x + reach + 2)
        turn = f' transform="rotate({number(rotate)} {number(x)} {number(y)})"' if rotate else ""
        align = f' text-anchor="{anchor}"' if anchor != "start" else ""
        self.parts.append(f'<text x="{number(x)}" y="{number(baseline)}"{align}{turn} '
                          f'style="font-size: {number(size)}px; {FONT_STACK}; fill: {INK}">'
                          f"{escape(text, quote=False)}</text>")

    def lines(self, x: float, y: float, lines: list[str], *, size: float = TEXT_SIZE, anchor: str = "start") -> None:
        """Lines of text centred together on ``y``."""
        step = LINE_SPACING * size
        first = y - step * (len(lines) - 1) / 2
        for number, line in enumerate(lines):
            self.text(x, first + number * step, line, size=size, anchor=anchor)

    def arrow(self, start: tuple[float, float], end: tuple[float, float], *, head: float = 6.0) -> None:
        """A line from ``start`` whose filled head touches ``end``."""
        (x1, y1), (x2, y2) = start, end
        length = math.hypot(x2 - x1, y2 - y1)
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        base_x, base_y = x2 - head * ux, y2 - head * uy
        half = head * 0.38
        self.line(x1, y1, base_x, base_y, width=0.9)
        self.polygon([(x2, y2), (base_x - half * uy, base_y + half * ux), (base_x + half * uy, base_y - half * ux)])

    def svg(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{number(self.width)}pt" '
                f'height="{number(self.height)}pt" viewBox="0 0 {number(self.width)} {number(self.height)}">\n'
                + "\n".join(self.parts) + "\n</svg>\n")


def opacity_attributes(opacity: float | None) -> str:
    # Fill and stroke each translucent, not the element as a group (``opacity``): a PDF draws a group as a
    # transparency group of its own, which for hundreds of markers costs time and size.
    if opacity is None:
        return ""
    return f' fill-opacity="{number(opacity)}" stroke-opacity="{number(opacity)}"'



@dataclass(frozen=True)
class Scale:
    """A linear map from data values to points."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def nice_ticks(low: float, high: float, target: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) in [low, high], about ``target`` of them."""
    raw = (high - low) / (target + 1)  # the smallest round step that gives at most target + 1 intervals
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(power * factor for factor in (1, 2, 2.5, 5, 10) if power * factor >= raw)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def tick_label(value: float, ticks: list[float]) -> str:
    """A tick value with as many decimals as its ticks need, and a true minus sign."""
    decimals = 0 if all(float(t).is_integer() for t in ticks) else 1 if all(float(10 * t).is_integer() for t in ticks) else 2
    text = f"{abs(value):.{decimals}f}"
    return f"\u2212{text}" if value < 0 and float(text) != 0 else text
