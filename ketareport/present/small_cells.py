"""Small-cell protection, the rule on numbers: which printed counts hide (rules 1 to 3 of
:mod:`ketareport.present.suppress`, docs/suppression.md), what a hidden cell prints, and Tables 1 and 2
as printed under suppression. :mod:`.suppress` applies it to the rest of the report."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from dataclasses import dataclass

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
    # A cell is determined when no solution of the homogeneous system moves it: its row of a null-space basis is 0.
    _, singular, vt = np.linalg.svd(matrix)
    tolerance = singular.max(initial=0.0) * max(matrix.shape) * np.finfo(float).eps
    rank = int((singular > tolerance).sum())
    null_space = vt[rank:].T
    return {cell for cell, position in index.items() if not np.any(np.abs(null_space[position]) > 1e-9)}


def complementary(values: dict[Cell, int], hidden: set[Cell], equations: list[Equation],
                  protected: frozenset[Cell] = frozenset(), unprinted: frozenset[Cell] = frozenset(),
                  last: frozenset[Cell] = frozenset()) -> set[Cell]:
    """Rule 3: hide further cells until no hidden cell follows from the equations and the printed cells.

    The cell hidden next is the smallest printed non-zero cell of an equation that holds an exposed cell
    (else of any equation with a hidden cell); ``protected`` cells (the cohort's totals) are never chosen.
    ``unprinted`` cells are quantities the report never prints (a group's patients without an analysed
    infusion): unknown to the reader, so they link equations without being cells to hide; one of them that
    must stay hidden itself is passed in ``hidden`` as well. ``last`` cells (group sizes, which every statistic
    of the group would then have to follow) are chosen only when an equation offers no other.
    """
    hidden = set(hidden)
    # Cells that follow from the protected totals and the zeros alone (a category every patient has is the total):
    # hiding one protects nothing, so none is chosen.
    pinned = determined({cell for cell, n in values.items() if n != 0} - protected, equations)
    while True:
        exposed = determined(hidden | unprinted, equations) - (unprinted - hidden)
        if not exposed:
            return hidden
        cell = min(exposed, key=repr)
        own = [e for e in equations if cell in e]

        def printed(scope: list[Equation]) -> set[Cell]:
            return {other for equation in scope for other in equation
                    if other not in hidden | protected | unprinted | pinned and values[other] != 0}

        for scope in (own, [e for e in equations if hidden & e.keys()]):
            candidates = printed(scope)
            if candidates:
                if scope is own and candidates <= last:
                    # Rather than a group size: a cell of an equation that determines a hidden cell beside this one.
                    linked = {other for e in own for other in e if other in hidden | unprinted and other != cell}
                    candidates = (printed([e for e in equations if linked & e.keys()]) - last) or candidates
                ranked = sorted(candidates, key=lambda other: (other in last, values[other], repr(other)))
                # Not a cell that would follow from the printed ones even hidden (one equal to a protected total).
                hidden.add(next((other for other in ranked
                                 if other not in determined(hidden | unprinted | {other}, equations)), ranked[0]))
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


def _characteristics_system(table: CharacteristicsTable, threshold: int
                            ) -> tuple[dict[Cell, int], list[Equation], set[Cell], set[Cell]]:
    """A characteristics table's printed counts, the equations between them, its summaries of few, and the
    counts it never prints but gives: a category's complement (the column's size minus its count)."""
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
    complements: set[Cell] = set()
    for positions in sections.values():
        # A characteristic whose categories add up to the group size in every column partitions the group.
        if all(sum(values[(p, key)] for p in positions) == values[("n", key)] for key in keys):
            equations += [{**{(p, key): 1 for p in positions}, ("n", key): -1} for key in keys]
            continue
        # Otherwise each category is a yes/no of its own: "12 of 18 had opioids" says 6 had not, a count like any
        # other, which must not be small. It is never printed (a reader works it out).
        # Only a small one enters the system: unknown and in one equation only, a larger one constrains nothing.
        for p in positions:
            for key in keys:
                if hidden_count(values[("n", key)] - values[(p, key)], threshold):
                    cell = ("not", p, key)
                    values[cell] = values[("n", key)] - values[(p, key)]
                    equations.append({(p, key): 1, cell: 1, ("n", key): -1})
                    complements.add(cell)
    return values, equations, few, complements


# ------------------------------------------------ the report as a whole --

COHORT_COUNTS = (
    "n_patients", "n_index", "n_comparison", "n_infusions", "n_infusions_excluded", "n_infusions_analyzed",
    "n_patients_analyzed", "n_patients_not_analyzed", "n_index_analyzed", "n_comparison_analyzed",
    "n_index_infusions_analyzed", "n_comparison_infusions_analyzed", "n_patients_without_infusions",
    "n_patients_lost_to_exclusions",
)
"""The cohort's counts that the prose, Figure 1 and Tables 1 to 3 print."""
SAME_CELL = {
    "n_patients": ("patients", ("n", "all")), "n_index": ("patients", ("n", "index")),
    "n_comparison": ("patients", ("n", "comparison")), "n_infusions_analyzed": ("infusions", ("n", "all")),
    "n_index_infusions_analyzed": ("infusions", ("n", "index")),
    "n_comparison_infusions_analyzed": ("infusions", ("n", "comparison")),
}
"""Cohort counts that are Table 1's group sizes (all patients) or Table 2's (analysed infusions)."""


@dataclass(frozen=True)
class ReportSuppression:
    """Every decision of rules 1 to 3 for one report: Tables 1 and 2, and the counts the prose and figures print.

    The two tables, the cohort's flow (identified = analysed + excluded, the groups add up to the analysed),
    the items missing and the relief counts (recorded = evaluable + not evaluable, for each threshold) form
    one system of equations: a count printed in a sentence or in Figure 1 is a cell like any table cell.
    """

    threshold: int
    patients: TableSuppression
    infusions: TableSuppression
    counts: dict[Hashable, str]
    """Hidden counts -> what they print: a cohort count by name (``n_patients_analyzed``), ``("missing", column)``,
    ``("relief", "n_recorded")``, ``("relief", "n_censored")``, ``("relief", outcome, "x" | "n" | "not_evaluable")``."""

    def hides(self, name: Hashable) -> bool:
        return name in self.counts


def _equation(*terms: tuple[Cell, int]) -> Equation:
    """An equation from (cell, coefficient) terms; a cell named twice (one number printed twice) sums its terms."""
    equation: Equation = {}
    for cell, coefficient in terms:
        equation[cell] = equation.get(cell, 0) + coefficient
    return {cell: coefficient for cell, coefficient in equation.items() if coefficient}


def _cohort_cells(cohort) -> tuple[dict[str, Cell], list[Equation]]:
    """Each cohort count's cell (a count printed twice, or equal to another, is one cell), and the equation
    splitting the patients not analysed into those with no infusion and those whose infusions were all excluded."""
    cell = {name: SAME_CELL.get(name, name) for name in COHORT_COUNTS}
    # Nothing left out: the analysed are all identified, one number printed twice (a cohort total, never hidden).
    if not cohort.n_patients_not_analyzed:
        cell["n_patients_analyzed"] = cell["n_patients"]
    if not cohort.n_infusions_excluded:
        cell["n_infusions"] = cell["n_infusions_analyzed"]
    # Not analysed = no infusion recorded + every infusion excluded (Figure 1); one of them alone is the same number.
    if not cohort.n_patients_without_infusions:
        cell["n_patients_lost_to_exclusions"] = cell["n_patients_not_analyzed"]
    elif not cohort.n_patients_lost_to_exclusions:
        cell["n_patients_without_infusions"] = cell["n_patients_not_analyzed"]
    else:
        return cell, [{cell["n_patients_not_analyzed"]: 1, cell["n_patients_without_infusions"]: -1,
                       cell["n_patients_lost_to_exclusions"]: -1}]
    return cell, []


def report_suppression(results, threshold: int) -> ReportSuppression:
    """Rules 1 to 3 on the whole report's printed counts (docs/suppression.md)."""
    cohort, relief = results.cohort, results.relief
    values: dict[Cell, int] = {}
    equations: list[Equation] = []
    few: dict[str, set[Cell]] = {}
    unprinted: set[Cell] = set()
    for name, table in (("patients", results.patient_characteristics), ("infusions", results.infusion_characteristics)):
        table_values, table_equations, few[name], complements = _characteristics_system(table, threshold)
        values |= {(name, cell): n for cell, n in table_values.items()}
        equations += [{(name, cell): c for cell, c in equation.items()} for equation in table_equations]
        unprinted |= {(name, cell) for cell in complements}
    cell, not_analysed = _cohort_cells(cohort)
    equations += not_analysed
    for name in COHORT_COUNTS:
        values[cell[name]] = getattr(cohort, name)
    # Patients without an analysed infusion, by group: never printed, but they link Table 1 to the analysed.
    if cohort.n_patients_not_analyzed:
        unknown = {key: ("not analysed", key) for key in ("index", "comparison")}
        unprinted = set(unknown.values())
        equations += [{cell[f"n_{key}"]: 1, cell[f"n_{key}_analyzed"]: -1, unknown[key]: -1}
                      for key in ("index", "comparison")]
        equations.append({cell["n_patients_not_analyzed"]: 1, unknown["index"]: -1, unknown["comparison"]: -1})
        for key in ("index", "comparison"):
            values[unknown[key]] = getattr(cohort, f"n_{key}") - getattr(cohort, f"n_{key}_analyzed")
    equations += [_equation((cell[whole], 1), *((cell[part], -1) for part in parts)) for whole, *parts in (
        ("n_patients", "n_patients_analyzed", "n_patients_not_analyzed"),
        ("n_infusions", "n_infusions_analyzed", "n_infusions_excluded"),
        ("n_patients_analyzed", "n_index_analyzed", "n_comparison_analyzed"),
        ("n_infusions_analyzed", "n_index_infusions_analyzed", "n_comparison_infusions_analyzed"),
    )]
    if not cohort.n_patients_not_analyzed:
        # Every patient analysed: Table 1's group sizes are the analysed groups.
        equations += [{cell[f"n_{key}"]: 1, cell[f"n_{key}_analyzed"]: -1} for key in ("index", "comparison")]
    missing = {column: n for column, n in cohort.excluded_missing_by_column.items() if n}
    for column, n in missing.items():
        values[("missing", column)] = n
    if len(missing) == 1:
        # One item missing: every excluded infusion misses it, so its count is the number excluded.
        equations.append({("missing", *missing): 1, cell["n_infusions_excluded"]: -1})
    recorded = next((("patients", (position, "all")) for position, row in enumerate(results.patient_characteristics.rows)
                     if row.section == "Duration of relief" and row.label == "Recorded"), ("relief", "n_recorded"))
    values[recorded] = relief.n_recorded
    values[("relief", "n_censored")] = relief.n_censored
    for outcome in relief.outcomes:
        key = ("relief", outcome.name)
        values |= {(*key, "x"): outcome.x, (*key, "n"): outcome.n_evaluable,
                   (*key, "not_evaluable"): outcome.n_censored_not_evaluable}
        equations.append({recorded: 1, (*key, "n"): -1, (*key, "not_evaluable"): -1})
        if hidden_count(outcome.n_evaluable - outcome.x, threshold):
            # "21 of 28" says 7 evaluable patients had no such relief: never printed, protected when small.
            values[(*key, "without")] = outcome.n_evaluable - outcome.x
            equations.append({(*key, "n"): 1, (*key, "x"): -1, (*key, "without"): -1})
            unprinted.add((*key, "without"))
    small = {c for c, n in values.items() if hidden_count(n, threshold)}
    sizes = {cell[name] for name in ("n_index", "n_comparison", "n_patients_analyzed", "n_index_analyzed",
                                     "n_comparison_analyzed", "n_infusions_analyzed", "n_index_infusions_analyzed",
                                     "n_comparison_infusions_analyzed")}
    hidden = complementary(values, small, equations, frozenset({cell["n_patients"], cell["n_infusions"]}),
                           frozenset(unprinted), frozenset(sizes))
    tables = {name: TableSuppression({c[1] for c in hidden if isinstance(c, tuple) and c[0] == name}, few[name])
              for name in ("patients", "infusions")}
    names: dict[Hashable, Cell] = {name: cell[name] for name in COHORT_COUNTS}
    names |= {("missing", column): ("missing", column) for column in missing}
    names[("relief", "n_recorded")] = recorded
    names[("relief", "n_censored")] = ("relief", "n_censored")
    names |= {("relief", o.name, part): ("relief", o.name, part) for o in relief.outcomes
              for part in ("x", "n", "not_evaluable")}
    counts = {name: shown_count(values[c], True, threshold) for name, c in names.items() if c in hidden}
    return ReportSuppression(threshold, tables["patients"], tables["infusions"], counts)


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
            f"shown; {COMPLEMENT} is a number hidden so that such a count cannot be worked out from what is printed; "
            f"{statistic_of_few(threshold)}: a summary of fewer than {threshold} values, not shown.")
