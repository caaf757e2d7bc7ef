"""Number formats: every number of the report becomes a string here, one way.

Means to one decimal, SEs to two (a nonzero estimate, SE or bound that
would round to zero gets two significant digits), P as ``< 0.001`` or three
decimals, percentages whole, a true minus sign, no-break spaces inside relations. The
context builder, the figures and the Quarto project all format through these
functions, so a number prints the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from ..results import ContinuousCell, CountCell

MISSING = "–"
MINUS = "−"
NBSP = "\u00a0"
WORD_JOINER = "\u2060"  # keeps "59–85%" on one line without a visible character
ANALYSIS_COLUMN_LABELS = {
    "ketamine_dose_mg": "ketamine dose", "infusion_duration_min": "infusion duration",
    "vas_pre": "VAS before infusion", "vas_post": "VAS after infusion",
}
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


# ---------------------------------------------------------------- filters --

def format_number(value: float | None, decimals: int) -> str:
    """Fixed decimals, true minus sign, never ``−0.0``; None -> en dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    text = f"{value:.{decimals}f}"
    if text.startswith("-"):
        text = text[1:] if float(text) == 0 else MINUS + text[1:]
    return text


NONZERO_MAX_DECIMALS = 4
"""How far :func:`format_nonzero` extends a value that rounds to zero; smaller values (float noise) print as zero."""


def format_nonzero(value: float | None, decimals: int) -> str:
    """Like :func:`format_number`, but a value that is not 0 never prints as ``0.0`` (losing its sign and meaning).

    A nonzero value that rounds to zero at ``decimals`` gets two significant digits (at most
    ``NONZERO_MAX_DECIMALS`` decimals): an upper bound of 0.0388 prints ``0.039``, −0.046 prints
    ``−0.046``, −0.0009 prints ``−0.0009``; exactly 0 (and anything below 0.00005) prints ``0.0``.
    """
    text = format_number(value, decimals)
    if text == MISSING or value == 0 or float(text.replace(MINUS, "-")) != 0:
        return text
    wanted = min(NONZERO_MAX_DECIMALS, max(decimals + 1, 1 - math.floor(math.log10(abs(value)))))
    extended = format_number(value, wanted)
    return text if float(extended.replace(MINUS, "-")) == 0 else extended


def format_mean(value: float | None) -> str:
    """An estimate or mean: one decimal (:func:`format_nonzero`)."""
    return format_nonzero(value, 1)


def format_se(value: float | None) -> str:
    """A standard error (or variance): two decimals (:func:`format_nonzero`)."""
    return format_nonzero(value, 2)


def format_statistic(value: float | None) -> str:
    return format_number(value, 2)


def format_df(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.0f}" if float(value).is_integer() else format_number(value, 1)


def format_p(value: float | None) -> str:
    """``< 0.001`` or three decimals (``> 0.999`` at the top)."""
    if value is None:
        return MISSING
    if value < 0.001:
        return "< 0.001"
    if value > 0.999:
        return "> 0.999"
    return f"{value:.3f}"


def format_p_statement(value: float | None) -> str:
    """``P < 0.001`` or ``P = 0.002``, with no-break spaces so it never splits across lines."""
    if value is None:
        return "P not estimable"
    text = format_p(value).replace(" ", NBSP)
    return f"P{NBSP}{text}" if text[0] in "<>" else f"P{NBSP}={NBSP}{text}"


def no_break(text: str) -> str:
    """Spaces as no-break spaces: a relation (``≥ 7 days``, ``α = 0.05``) or a value with its unit stays on one line."""
    return text.replace(" ", NBSP)


def format_count(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


def format_percent(percent: float | None) -> str:
    """A percentage already on the 0-100 scale, whole: ``37%``.

    A share that is not nil but rounds to 0 (or not all but rounds to 100)
    prints ``<1%`` (``>99%``), so a count of 1 never reads as 0%.
    """
    if percent is None:
        return MISSING
    if 0 < percent < 0.5:
        return "<1%"
    if 99.5 <= percent < 100:
        return ">99%"
    return f"{format_number(percent, 0)}%"


def format_proportion(proportion: float | None) -> str:
    """A probability as a whole percentage: 0.75 -> ``75%``."""
    return MISSING if proportion is None else format_percent(100 * proportion)


def format_proportion_interval(low: float | None, high: float | None) -> str:
    """``59–85%``."""
    if low is None or high is None:
        return MISSING
    return f"{format_number(100 * low, 0)}–{WORD_JOINER}{format_number(100 * high, 0)}%"


def format_interval(low: float | None, high: float | None, decimals: int = 1) -> str:
    """``4.5 to 6.9`` (words, not a dash, because bounds may be negative)."""
    if low is None or high is None:
        return MISSING
    return f"{format_nonzero(low, decimals)} to {format_nonzero(high, decimals)}"


def format_level(level: float | None) -> str:
    """0.95 -> ``95%``."""
    return MISSING if level is None else f"{100 * level:g}%"


def format_count_cell(cell: CountCell) -> str:
    return f"{format_count(cell.n)} ({format_percent(cell.percent)})"


def format_mean_sd(cell: ContinuousCell) -> str:
    if cell.mean is None:
        return MISSING
    return f"{format_mean(cell.mean)} ({format_mean(cell.sd)})"


def median_iqr_decimals(cells: list[ContinuousCell]) -> int:
    """Whole numbers when every median and quartile in a row is whole, else one decimal for the whole row.

    Decided per table row, not per cell, so that the columns of a row read alike
    (``7.5 (4.0–10.0)`` beside ``5.0 (4.0–9.0)``, not beside ``5 (4–9)``).
    """
    values = [v for cell in cells for v in (cell.median, cell.q1, cell.q3) if v is not None]
    return 0 if all(float(v).is_integer() for v in values) else 1


def format_median_iqr(cell: ContinuousCell, decimals: int | None = None) -> str:
    """``6 (4–10)``; ``decimals`` from :func:`median_iqr_decimals` (default: this cell alone)."""
    if cell.median is None:
        return MISSING
    if decimals is None:
        decimals = median_iqr_decimals([cell])
    return f"{format_number(cell.median, decimals)} ({format_number(cell.q1, decimals)}–{format_number(cell.q3, decimals)})"


def format_date(date: dt.date | None) -> str:
    return MISSING if date is None else f"{date.day} {date:%B %Y}"


def plural(n: int, noun: str) -> str:
    """``1 infusion``, ``36 infusions``."""
    return f"{format_count(n)} {noun}{'' if n == 1 else 's'}"


CountText = Callable[..., str]
"""How a figure prints one of the cohort's counts: ``(name, n, noun=None) -> text``, ``name`` as in
:class:`ketareport.present.small_cells.ReportSuppression` (small-cell suppression prints some as ``<N``)."""


def exact_count(name: object, n: int, noun: str | None = None) -> str:
    """A count as printed without suppression (``name`` says which count it is, for :data:`CountText`)."""
    return format_count(n) if noun is None else plural(n, noun)


def format_series(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def count_words(n: int) -> str:
    """Numbers under ten in words, as journals set them in running text."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else format_count(n)


def format_period(start: dt.date, end: dt.date) -> str:
    """A study period by month and year: ``January to December 2021``, ``March 2015 to October 2019``, ``May 2020``."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%B %Y}"
    if start.year == end.year:
        return f"{start:%B} to {end:%B %Y}"
    return f"{start:%B %Y} to {end:%B %Y}"
