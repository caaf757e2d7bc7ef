"""Text values typed in the engine: white space at the ends, ``;`` label lists, diagnosis keys, calendar dates.

Written once as Ibis expressions for every engine. Regular expressions cost
DuckDB about a second per ten million values, so they run only where a cheaper
test says they are needed, or once per distinct value (:func:`normalised_once`).
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Callable

from ..contract import MISSING_TEXT

DIAGNOSIS_SEPARATORS = r"[\s\-_]+"
WHITESPACE = (" ", "\t", "\n", "\r", "\x0b", "\x0c")
"""What Ibis's ``strip`` removes, on every engine."""


def one_of(value, choices) -> Any:
    """Is ``value`` one of ``choices``: equalities joined by OR. DuckDB evaluates ``IN ('', 'NA')`` over ten
    million texts in 0.7 s of CPU, the equalities in a twentieth of that."""
    return functools.reduce(operator.or_, [value == choice for choice in choices])


def edged_text(text) -> Any:
    """Does ``text`` start or end with white space? Its first and last characters compared: a regular
    expression (``^\\s|\\s$``) cost DuckDB about 0.4 s per column and pass over ten million rows,
    several times these tests."""
    return functools.reduce(operator.or_, [text.startswith(character) | text.endswith(character) for character in WHITESPACE])


def calendar_date(text, shaped) -> Any:
    """Does ``YYYY-MM-DD`` name a real day (30 February does not)? Only where ``shaped``."""
    import ibis

    year = ibis.ifelse(shaped, text.substr(0, 4).cast("int64"), ibis.null("int64"))
    month = ibis.ifelse(shaped, text.substr(5, 2).cast("int64"), ibis.null("int64"))
    day = ibis.ifelse(shaped, text.substr(8, 2).cast("int64"), ibis.null("int64"))
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days_in_month = ibis.cases(
        (month.isin([4, 6, 9, 11]), 30), ((month == 2) & leap, 29), (month == 2, 28), else_=31,
    )
    return (month >= 1) & (month <= 12) & (day >= 1) & (day <= days_in_month)


def normalised_labels(text) -> Any:
    """``A ; b;`` -> ``a;b``, as :func:`ketareport.validate._label_list` (missing -> "").

    The regular expressions run only on lists of several labels (``text`` is
    already stripped, so a single label only needs lower-casing): they cost
    DuckDB seconds over millions of rows.
    """
    import ibis

    lowered = text.lower()
    joined = lowered.re_replace(r"\s*;\s*", ";").strip().re_replace(r"^;+|;+$", "")
    return ibis.ifelse(text.isnull(), "", ibis.ifelse(lowered.contains(";"), joined, lowered))


def normalised_entry(text) -> Any:
    """:func:`normalised_labels` of a list as written, untrimmed (:data:`ketareport.sources.typed.UNTRIMMED`):
    trimmed here, where a missing spelling (``NA``) is no entry (""). For a grouped column: once per spelling."""
    import ibis

    trimmed = text.strip()
    return ibis.ifelse(ibis.coalesce(one_of(trimmed, MISSING_TEXT), False), "", normalised_labels(trimmed))


SEPARATOR_CHARACTERS = (" ", "\t", "\n", "\r", "\x0b", "\x0c", "-", "_")
"""The characters of :data:`DIAGNOSIS_SEPARATORS`: a label without any needs no regular expression."""


def normalised_diagnoses(text) -> Any:
    """The diagnosis grouping key, as :func:`ketareport.contract.normalise_diagnoses`."""
    import ibis

    lowered = text.lower()
    separated = functools.reduce(operator.or_, [lowered.contains(character) for character in SEPARATOR_CHARACTERS])
    return ibis.ifelse(separated, lowered.re_replace(DIAGNOSIS_SEPARATORS, "_").re_replace(r"^_+|_+$", ""), lowered)


def normalised_once(table, written: str, name: str, normalise: Callable[[Any], Any], missing) -> Any:
    """``table`` with column ``name``, ``normalise`` of column ``written``, computed once per distinct value and
    joined back (missing -> ``missing``): a few hundred spellings instead of a regular expression per row."""
    import ibis

    values = table.select(value_written=table[written]).distinct()
    values = values.mutate(value_normalised=normalise(values.value_written))
    joined = table.left_join(values, table[written] == values.value_written)
    return joined.select(*table.columns, **{name: ibis.ifelse(joined[written].isnull(), missing, joined.value_normalised)})


