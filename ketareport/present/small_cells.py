"""Small-cell protection, the rule on numbers: which printed counts hide (rules 1 to 3 of
:mod:`ketareport.present.suppress`, docs/suppression.md), what a hidden cell prints, and Tables 1 and 2
as printed under suppression. :mod:`.suppress` applies it to the rest of the report."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Hashable

import numpy as np

from ..contract import sentence_start
from ..results import CharacteristicsTable
from .context import Table, TableRow
from .formats import format_count, format_mean_sd, format_median_iqr, format_percent, median_iqr_decimals, no_break

Cell = Hashable
Equation = dict[Cell, int]
"""Coefficients of one linear equation the printed numbers satisfy: sum(coefficient * value) = 0."""


# ------------------------------------------------------------- the rule --

def hidden_count(n: int | None, threshold: int) -> bool:
    """Rule 1: counts 1..N−1 are hidden (zero and unknown counts are not)."""
    return n is not None and 1 <= n < threshold


def suppressed_count(threshold: int) -> str:
    """What a hidden count of 1 to N−1 prints."""
    return f"<{threshold}"


COMPLEMENT = "‡"
"""What a count hidden by rule 3 prints in a table (it may be N or more, so it must not read "<N")."""
COMPLEMENT_TEXT = "an undisclosed number"
"""The same in running text."""


def statistic_of_few(threshold: int) -> str:
    """What a summary of fewer than N values prints instead of its numbers."""
    return f"n\u00a0<\u00a0{threshold}"


def determined(cells: set[Cell], equations: list[Equation]) -> set[Cell]:
    """The hidden ``cells`` whose values follow from ``equations`` (with every other cell known).

    A hidden cell is determined when its unit vector lies in the row space of
    the equations restricted to the hidden cells: then some combination of
    the equations isolates it.
    """
    unknowns = sorted(cells, key=repr)
    if not unknowns:
        return set()
    index = {cell: position for position, cell in enumerate(unknowns)}
    rows = [[0.0] * len(unknowns) for _ in equations]
    for row, equation in zip(rows, equations):
        for cell, coefficient in equation.items():
            if cell in index:
                row[index[cell]] = coefficient
    matrix = np.array([row for row in rows if any(row)], dtype=float).reshape(-1, len(unknowns))
    if matrix.shape[0] == 0:
        return set()
    rank = np.linalg.matrix_rank(matrix)
    found = set()
    for cell, position in index.items():
        unit = np.zeros((1, len(unknowns)))
        unit[0, position] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.add(cell)
    return found


def complementary(values: dict[Cell, int], hidden: set[Cell], equations: list[Equation],
                  protected: frozenset[Cell] = frozenset()) -> set[Cell]:
    """Rule 3: hide further cells until no hidden cell follows from the equations and the printed cells.

    The cell hidden next is the smallest printed non-zero cell of an equation that holds an exposed cell
    (else of any equation with a hidden cell); ``protected`` cells (the cohort's totals) are never chosen.
    """
    hidden = set(hidden)
    while True:
        exposed = determined(hidden, equations)
        if not exposed:
            return hidden
        cell = min(exposed, key=repr)
        for scope in ([e for e in equations if cell in e], [e for e in equations if hidden & e.keys()]):
            candidates = {other for equation in scope for other in equation
                          if other not in hidden and other not in protected and values[other] != 0}
            if candidates:
                hidden.add(min(candidates, key=lambda other: (values[other], repr(other))))
                break
        else:
            raise ValueError(f"cannot protect {cell!r}: no printed cell left to hide beside it")


# ------------------------------------------- Tables 1 and 2: the counts --

@dataclass(frozen=True)
class TableSuppression:
    """Which cells of a characteristics table are hidden: ``(row position, column key)`` and ``("n", column key)``."""

    hidden: set[Cell]
    few: set[Cell]
    """Continuous cells summarising fewer than N values."""


def characteristics_suppression(table: CharacteristicsTable, threshold: int) -> TableSuppression:
    """Rules 1 to 3 on Table 1 or 2: counts, group sizes and the equations between them."""
    keys = [column.key for column in table.columns]
    values: dict[Cell, int] = {("n", column.key): column.n for column in table.columns}
    equations: list[Equation] = [{("n", "index"): 1, ("n", "comparison"): 1, ("n", "all"): -1}]
    sections: dict[str, list[int]] = {}
    few: set[Cell] = set()
    for position, row in enumerate(table.rows):
        if row.kind == "count":
            for key in keys:
                values[(position, key)] = row.cells[key].n
            equations.append({(position, "index"): 1, (position, "comparison"): 1, (position, "all"): -1})
            sections.setdefault(row.section, []).append(position)
        else:
            few |= {(position, key) for key in keys if hidden_count(row.cells[key].n, threshold)}
    for positions in sections.values():
        # A characteristic whose categories add up to the group size in every column partitions the group.
        if all(sum(values[(p, key)] for p in positions) == values[("n", key)] for key in keys):
            equations += [{**{(p, key): 1 for p in positions}, ("n", key): -1} for key in keys]
    primary = {cell for cell, n in values.items() if hidden_count(n, threshold)}
    return TableSuppression(complementary(values, primary, equations, frozenset({("n", "all")})), few)


def shown_count(n: int, cell_hidden: bool, threshold: int, complement: str = COMPLEMENT) -> str:
    """A count as printed: the number, ``<N`` (rule 1) or the complement mark (rule 3)."""
    if not cell_hidden:
        return format_count(n)
    return suppressed_count(threshold) if hidden_count(n, threshold) else complement


def suppressed_characteristics_table(table: CharacteristicsTable, formatted: Table, threshold: int,
                                     decision: TableSuppression) -> Table:
    """Table 1 or 2 as printed under suppression (same layout as :func:`~.tables.characteristics_table`).

    A column whose group size is hidden prints no percentage: a percentage and its count give the size.
    """
    hidden, few = decision.hidden, decision.few

    def header(column) -> str:
        size = shown_count(column.n, ("n", column.key) in hidden, threshold)
        return f"{sentence_start(column.label)} {no_break(f'(n = {size})')}"

    rows: list[TableRow] = []
    source_rows = iter(enumerate(table.rows))
    for printed in formatted.rows:
        if printed.kind == "section":
            rows.append(printed)
            continue
        position, row = next(source_rows)
        cells = []
        decimals = median_iqr_decimals([row.cells[key] for key in (c.key for c in table.columns)
                                        if (position, key) not in few]) if row.kind == "median_iqr" else None
        for column in table.columns:
            cell = row.cells[column.key]
            if row.kind == "count":
                if (position, column.key) in hidden:
                    cells.append(shown_count(cell.n, True, threshold))
                elif ("n", column.key) in hidden:
                    cells.append(format_count(cell.n))
                else:
                    cells.append(f"{format_count(cell.n)} ({format_percent(cell.percent)})")
            elif (position, column.key) in few:
                cells.append(statistic_of_few(threshold))
            elif row.kind == "mean_sd":
                cells.append(format_mean_sd(cell))
            else:
                cells.append(format_median_iqr(cell, decimals))
        rows.append(TableRow(printed.label, cells, printed.kind))
    return dataclasses.replace(formatted, columns=[formatted.columns[0], *map(header, table.columns)], rows=rows,
                               notes=[*formatted.notes, legend(threshold)])


def legend(threshold: int) -> str:
    return (f"Small cells hidden: {suppressed_count(threshold)} is a count from 1 to {threshold - 1}, its percentage not "
            f"shown; {COMPLEMENT} is a count hidden so that such a count cannot be worked out from the totals; "
            f"{statistic_of_few(threshold)}: a summary of fewer than {threshold} values, not shown.")

