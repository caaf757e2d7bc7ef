"""Compare two results: what changed between two result folders or two site versions.

``ketareport diff OLD NEW`` and every site version page list each estimate,
cohort count and table cell whose value changed, with the old value, the new
one and their difference.

Two sources of values, compared like with like:

* ``results.json`` (a result folder, or a site version that publishes it):
  the analyst's numbers at full precision. Differences are exact.
* ``report-values.json`` (written by ``render`` and ``publish`` beside the
  report): every value as the report prints it — after small-cell
  suppression when that is on. A site that publishes only suppressed files
  is compared on these, so a diff never shows more than the two pages do: a
  hidden count ("<5") has no difference, and none is computed from it.

When both folders hold ``results.json`` it is used; otherwise both must hold
``report-values.json``.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DiffInputError

RESULTS_FILE = "results.json"
REPORT_VALUES_FILE = "report-values.json"
ESTIMATE_FIELDS = ("estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high", "conf_level", "n", "x")
CELL_STATISTICS = ("n", "percent", "mean", "sd", "median", "q1", "q3", "minimum", "maximum", "n_missing", "denominator")
TABLE_NUMBERS = {"patients": 1, "infusions": 2}
KINDS = ("estimate", "count", "table cell")
"""Order of the rows of a diff: estimates, then cohort and relief counts, then the cells of the tables."""
SIGNIFICANT_DIGITS = 10

Value = int | float | str | None


@dataclass(frozen=True)
class Change:
    """One value that differs between OLD and NEW (``None``: absent on that side)."""

    kind: str
    """``estimate``, ``count`` or ``table cell``."""
    quantity: str
    old: Value
    new: Value
    difference: float | int | None
    """``new - old`` when both are numbers, else ``None`` (a suppressed or absent value has no difference)."""


@dataclass(frozen=True)
class ValueSet:
    """The comparable values of one folder: quantity -> (kind, value)."""

    source: str
    """``results.json`` or ``report-values.json``."""
    values: dict[str, tuple[str, Value]]


# ------------------------------------------------------------------ loading --

def load_values(folder: Path, source: str | None = None) -> ValueSet:
    """The values of a result folder or site version, from ``source`` (default: results.json if present)."""
    folder = Path(folder)
    source = source or (RESULTS_FILE if (folder / RESULTS_FILE).is_file() else REPORT_VALUES_FILE)
    path = folder / source
    if not path.is_file():
        raise DiffInputError(
            f"{folder} holds no {source}: give a result folder (ketareport analyze/render --out) or a site version folder"
        )
    document = json.loads(path.read_text(encoding="utf-8"))
    flat = results_values(document) if source == RESULTS_FILE else printed_values(document)
    return ValueSet(source, flat)


def load_pair(old: Path, new: Path) -> tuple[ValueSet, ValueSet]:
    """Both folders' values from the same kind of file: results.json when both have it, else report-values.json."""
    both_have_results = all((Path(folder) / RESULTS_FILE).is_file() for folder in (old, new))
    source = RESULTS_FILE if both_have_results else REPORT_VALUES_FILE
    return load_values(old, source), load_values(new, source)


def results_values(document: dict[str, Any]) -> dict[str, tuple[str, Value]]:
    """Flatten results.json: estimates field by field, cohort and relief counts, every statistic of Tables 1 and 2."""
    values: dict[str, tuple[str, Value]] = {}
    for row in document.get("estimates", []):
        for name in ESTIMATE_FIELDS:
            values[f"{row['analysis']} / {row['term']} / {name}"] = ("estimate", row.get(name))
    cohort = document.get("cohort", {})
    for name, value in cohort.items():
        if isinstance(value, dict):
            for label, item in value.items():
                values[f"cohort / {name} / {label}"] = ("count", item)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            values[f"cohort / {name}"] = ("count", value)
    relief = document.get("relief", {})
    for name in ("n_recorded", "n_censored", "n_not_recorded"):
        if name in relief:
            values[f"relief / {name}"] = ("count", relief[name])
    for outcome in relief.get("outcomes", []):
        for name in ("n_evaluable", "x", "n_censored_not_evaluable"):
            values[f"relief / {outcome['name']} / {name}"] = ("count", outcome.get(name))
    for table_key, table in document.get("characteristics", {}).items():
        number = TABLE_NUMBERS.get(table_key, table_key)
        labels = {column["key"]: column["label"] for column in table["columns"]}
        for column in table["columns"]:
            values[f"Table {number} / {column['label']} / n"] = ("count", column["n"])
        for row in table["rows"]:
            for key, cell in row["cells"].items():
                for statistic in CELL_STATISTICS:
                    if statistic in cell:
                        quantity = f"Table {number} / {row['section']} / {row['label']} / {labels[key]} / {statistic}"
                        values[quantity] = ("table cell", cell[statistic])
    return values


_COLUMN_SIZE = re.compile(r"^(.*) \(n = ([^)]*)\)$")
PRINTED_KINDS = {"cohort": "count", "vas": "estimate", "relief": "estimate", "sensitivity": "estimate"}
"""Groups of report-values.json's ``values`` compared by a diff (the prose under ``text`` and the labels are not)."""


def printed_values(document: dict[str, Any]) -> dict[str, tuple[str, Value]]:
    """Flatten report-values.json: the printed key numbers and every printed table cell."""
    values: dict[str, tuple[str, Value]] = {}

    def walk(kind: str, prefix: str, item: Any) -> None:
        if isinstance(item, dict):
            for name, inner in item.items():
                walk(kind, f"{prefix} / {name}", inner)
        elif isinstance(item, str):
            values[prefix] = (kind, item)

    for group, kind in PRINTED_KINDS.items():
        if group in document.get("values", {}):
            walk(kind, group, document["values"][group])
    for table in document.get("tables", []):
        columns = []
        for heading in table["columns"]:
            # "CRPS (n = 18)": the group is the column, its size a value of its own (a changed n is not a new column).
            match = _COLUMN_SIZE.match(heading)
            columns.append(match.group(1) if match else heading)
            if match:
                values[f"Table {table['number']} / {match.group(1)} / n"] = ("count", match.group(2))
        section = ""
        for row in table["rows"]:
            if not row["cells"]:
                section = row["label"]
                continue
            for column, cell in zip(columns[1:], row["cells"]):
                label = " / ".join(part for part in (f"Table {table['number']}", section, row["label"], column) if part)
                values[label] = ("table cell", cell)
    return values


def report_values_json(context) -> str:
    """report-values.json: the formatted values (Quarto's variables) and every printed table, as printed."""
    tables = [
        {"number": table.number, "id": table.id, "caption": table.caption, "columns": list(table.columns),
         "rows": [{"label": row.label, "cells": list(row.cells)} for row in table.rows]}
        for table in context.tables.values()
    ]
    return json.dumps({"values": context.values, "tables": tables}, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- comparing --

_PLAIN_NUMBER = re.compile(r"^-?\d[\d,]*(\.\d+)?$")
_COUNT_AND_PERCENT = re.compile(r"^(-?\d[\d,]*) \((<1|>99|\d+)%\)$")


def printed_number(text: str) -> float | int | None:
    """The number a printed value states: ``5.9`` -> 5.9, ``1,234`` -> 1234, ``18 (37%)`` -> 18 (the count).

    Anything else — an interval, ``< 0.001``, a suppressed ``<5``, a dash — states no single number.
    """
    plain = text.replace("\u2212", "-").replace("\u00a0", " ").replace("\u2060", "").strip()
    match = _COUNT_AND_PERCENT.match(plain)
    if match:
        plain = match.group(1)
    if not _PLAIN_NUMBER.match(plain):
        return None
    plain = plain.replace(",", "")
    return int(plain) if re.fullmatch(r"-?\d+", plain) else float(plain)


def _number(value: Value) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value if not (isinstance(value, float) and math.isnan(value)) else None
    return printed_number(value)


def compare(old: ValueSet, new: ValueSet) -> list[Change]:
    """Every quantity whose value differs (or that exists on one side only), estimates first."""
    changes = []
    for quantity in list(old.values) + [q for q in new.values if q not in old.values]:
        old_kind, old_value = old.values.get(quantity, (None, None))
        new_kind, new_value = new.values.get(quantity, (None, None))
        if quantity in old.values and quantity in new.values and old_value == new_value:
            continue
        old_number, new_number = _number(old_value), _number(new_value)
        difference = new_number - old_number if old_number is not None and new_number is not None else None
        changes.append(Change(old_kind or new_kind, quantity, old_value, new_value, difference))
    return sorted(changes, key=lambda change: KINDS.index(change.kind))


def diff_folders(old: Path, new: Path) -> tuple[str, list[Change]]:
    """The source compared (results.json or report-values.json) and the changes from OLD to NEW."""
    old_values, new_values = load_pair(old, new)
    return old_values.source, compare(old_values, new_values)


# --------------------------------------------------------------- presenting --

def format_value(value: Value) -> str:
    """A value for the diff table: numbers to ten significant digits, absent as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{SIGNIFICANT_DIGITS}g}"
    return value.replace("\u2060", "")


def format_difference(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:+,}"
    return f"{value:+.{SIGNIFICANT_DIGITS}g}"


def summary_line(changes: list[Change]) -> str:
    """One line: how many values of each kind changed, and the patient count when it changed."""
    if not changes:
        return "No estimate, count or table cell changed."
    counts = {kind: sum(1 for change in changes if change.kind == kind) for kind in KINDS}
    nouns = {"estimate": ("estimate", "estimates"), "count": ("count", "counts"), "table cell": ("table cell", "table cells")}
    parts = [f"{n} {nouns[kind][0] if n == 1 else nouns[kind][1]}" for kind, n in counts.items() if n]
    line = ", ".join(parts) + " changed"
    patients = next((c for c in changes if c.quantity == "cohort / n_patients"), None)
    if patients is not None:
        line += f"; patients {format_value(patients.old)} → {format_value(patients.new)}"
    return line + "."


def diff_text(changes: list[Change], source: str) -> str:
    """The console table."""
    if not changes:
        return f"No estimate, count or table cell differs (compared {source})."
    header = ("Kind", "Quantity", "Old", "New", "Difference")
    rows = [(c.kind, c.quantity, format_value(c.old), format_value(c.new), format_difference(c.difference)) for c in changes]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) if i < 2 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append(f"{summary_line(changes)} (compared {source})")
    return "\n".join(lines)


KIND_HEADINGS = {"estimate": "Estimates", "count": "Counts", "table cell": "Table cells"}


def diff_html(changes: list[Change], caption: str) -> str:
    """An HTML fragment for a site version page: the caption, then the table in its own scrolling container.

    Rows are grouped by kind under a heading row, so on a phone the four columns are quantity, old, new, difference.
    """
    if not changes:
        return f'<p class="diff-none">{html.escape(caption)}: no estimate, count or table cell changed.</p>'
    body = []
    for kind in KINDS:
        rows = [change for change in changes if change.kind == kind]
        if not rows:
            continue
        body.append(f'<tr class="section"><th scope="rowgroup" colspan="4">{KIND_HEADINGS[kind]}</th></tr>')
        body += [
            f'<tr><th scope="row">{html.escape(c.quantity)}</th>'
            f'<td class="number">{html.escape(format_value(c.old))}</td><td class="number">{html.escape(format_value(c.new))}</td>'
            f'<td class="number">{html.escape(format_difference(c.difference))}</td></tr>'
            for c in rows
        ]
    rows_html = "\n".join(body)
    return (
        f'<p class="table-caption" id="diff-caption">{html.escape(caption)}</p>\n'
        '<div class="table-scroll" role="region" aria-labelledby="diff-caption" tabindex="0">\n'
        '<table class="diff" aria-labelledby="diff-caption">\n'
        '<thead><tr><th scope="col">Quantity</th><th scope="col">Old</th>'
        '<th scope="col">New</th><th scope="col">Difference</th></tr></thead>\n'
        f"<tbody>\n{rows_html}\n</tbody>\n</table>\n</div>"
    )
