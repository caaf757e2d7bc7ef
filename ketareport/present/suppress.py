"""Small-cell protection: the suppression step of the presentation (``report.suppress_below: N``).

It runs after :func:`~.build.build_context` and works on the formatted
context — tables, key values, sentences, figure labels — deciding from the
results which printed numbers to hide. The rule (docs/suppression.md):

1. *Primary*: a count of 1 to N−1 (patients or infusions) prints as ``<N``
   and its percentage is not printed. Zero prints as 0.
2. *Statistics of few*: a summary of fewer than N values (a table's mean,
   SD, median, quartiles; a group's mean VAS reduction, SE, interval, P;
   a relief probability of fewer than N evaluable patients or with fewer
   than N successes) is not printed.
3. *Complementary*: the printed counts satisfy linear equations that anyone
   can write down — a row's two groups add up to its total, the categories of
   a characteristic that partitions the patients (diagnosis, sex) add up to
   the group size, the two group sizes add up to all patients. While a
   hidden count is determined by these equations and the printed counts,
   the smallest printed non-zero count of an equation holding it is hidden
   as well (:func:`complementary`).
4. *Text*: a generated sentence states a hidden count as ``<N`` and leaves
   out its percentage; where a sentence's wording would reveal a hidden count
   (a singular noun for one patient), the wording is the plural.

``results.json`` and ``results.rds`` are not touched: they stay the
analyst's exact numbers; only what is published is suppressed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Hashable

import numpy as np

from ..results import CharacteristicsTable
from .build import gather_facts
from .context import ReportContext, Table, TableRow
from .files import data_file_names
from .formats import (
    ANALYSIS_COLUMN_LABELS, count_words, format_count, format_mean_sd, format_median_iqr, format_percent,
    format_proportion, format_proportion_interval, median_iqr_decimals, no_break, plural,
)

if TYPE_CHECKING:
    from ..pipeline import AnalysisRun

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
        return f"{column.label} (n = {shown_count(column.n, ('n', column.key) in hidden, threshold)})"

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


# ---------------------------------------------------------- the report --

def with_threshold(run: AnalysisRun, suppress_below: int | None) -> AnalysisRun:
    """The run with ``report.suppress_below`` set from the command line (recorded in its configuration)."""
    if suppress_below is None:
        return run
    report = run.config.report.model_copy(update={"suppress_below": suppress_below})
    return dataclasses.replace(run, config=run.config.model_copy(update={"report": report}))


def masked_for_figures(run: AnalysisRun) -> AnalysisRun:
    """The run as Figure 3 may draw it: a relief outcome whose probability is hidden has no estimate to plot."""
    threshold = run.config.report.suppress_below
    relief = run.results.relief
    hidden = _hidden_relief(run, threshold)
    outcomes = [
        dataclasses.replace(o, estimate=None, conf_low=None, conf_high=None) if o.name in hidden else o
        for o in relief.outcomes
    ]
    results = dataclasses.replace(run.results, relief=dataclasses.replace(relief, outcomes=outcomes))
    return dataclasses.replace(run, results=results)


def _hidden_relief(run: AnalysisRun, threshold: int) -> set[str]:
    """Relief outcomes whose probability is not printed: few successes or few evaluable patients (rules 1 and 2),
    or a small number not evaluable (ongoing relief), which the evaluable count would give away (rule 3)."""
    return {
        o.name for o in run.results.relief.outcomes
        if hidden_count(o.x, threshold) or hidden_count(o.n_evaluable, threshold)
        or hidden_count(o.n_censored_not_evaluable, threshold)
    }


def suppress_figure_labels(run: AnalysisRun, figures: dict[str, str]) -> dict[str, str]:
    """Figure 1's box labels with hidden counts as ``<N`` (the SVG keeps its text as text)."""
    threshold = run.config.report.suppress_below
    cohort = run.results.cohort
    less = suppressed_count(threshold).replace("<", "&lt;")
    flow = figures["flow"]
    for column, count in cohort.excluded_missing_by_column.items():
        if hidden_count(count, threshold):
            flow = flow.replace(f"{ANALYSIS_COLUMN_LABELS[column]} missing: {format_count(count)}<",
                                f"{ANALYSIS_COLUMN_LABELS[column]} missing: {less}<")
    if hidden_count(cohort.n_patients_not_analyzed, threshold):
        flow = flow.replace(f"analysed infusion: {format_count(cohort.n_patients_not_analyzed)}<", f"analysed infusion: {less}<")
    if hidden_count(cohort.n_infusions_excluded, threshold):
        flow = flow.replace(f">{format_count(cohort.n_infusions_excluded)} infusions<", f">{less} infusions<")
    vas = figures["vas"]
    for key, shown in hidden_group_sizes(run, threshold).items():
        n = cohort.n_index_analyzed if key == "index" else cohort.n_comparison_analyzed
        shown = shown.replace("<", "&lt;")
        flow = flow.replace(f">{format_count(n)} patients, ", f">{shown} patients, ", 1)
        vas = vas.replace(f">(n = {format_count(n)})<", f">(n = {shown})<", 1)
    return {**figures, "flow": flow, "vas": vas}


@dataclass(frozen=True)
class _Prose:
    """Replacements in the generated prose: exact phrases, or whole sentences."""

    phrases: list[tuple[str, str]]

    def apply(self, text: str) -> str:
        for old, new in self.phrases:
            text = text.replace(old, new)
        return text


def suppress_context(run: AnalysisRun, context: ReportContext) -> ReportContext:
    """The context with rules 1 to 4 applied (``report.suppress_below`` of the run's configuration)."""
    threshold = run.config.report.suppress_below
    results, options = run.results, run.config.analysis
    cohort, vas, relief = results.cohort, results.vas, results.relief
    less = suppressed_count(threshold)
    patients_decision = characteristics_suppression(results.patient_characteristics, threshold)
    infusions_decision = characteristics_suppression(results.infusion_characteristics, threshold)
    tables = dict(context.tables)
    tables["patients"] = suppressed_characteristics_table(results.patient_characteristics, tables["patients"],
                                                          threshold, patients_decision)
    tables["infusions"] = suppressed_characteristics_table(results.infusion_characteristics, tables["infusions"],
                                                           threshold, infusions_decision)
    phrases: list[tuple[str, str]] = []
    values = _copy(context.values)

    # Group sizes of Table 1, stated in the cohort sentence.
    for key, n, percent, opening in (
        ("index", cohort.n_index, cohort.index_percent, "Among our patients, "),
        ("comparison", cohort.n_comparison, cohort.comparison_percent, "Of the remaining "),
    ):
        if ("n", key) in patients_decision.hidden:
            shown = shown_count(n, True, threshold, COMPLEMENT_TEXT)
            phrases.append((f"{opening}{format_count(n)} ({format_percent(percent)}) ", f"{opening}{shown} "))
            values["cohort"][f"n_{key}"] = shown_count(n, True, threshold)
            values["cohort"][f"{key}_percent"] = COMPLEMENT
    if ("n", "comparison") in patients_decision.hidden and cohort.n_comparison == 1:
        phrases.append((f"{COMPLEMENT_TEXT} patient, ", f"{COMPLEMENT_TEXT} patients, "))
    # The comparison group's diagnoses named in the cohort sentence: Table 1's "All" cells of those rows.
    diagnosis_rows = {row.label.lower(): position for position, row in enumerate(results.patient_characteristics.rows)
                      if row.section == "Diagnosis"}
    for label, count in _comparison_diagnoses(run):
        position = diagnosis_rows.get(label.lower())
        if position is not None and (position, "all") in patients_decision.hidden:
            phrases.append((f"{count_words(count)} had {label}",
                            f"{shown_count(count, True, threshold, COMPLEMENT_TEXT)} had {label}"))
    # Exclusions: infusions excluded, patients left without an analysed infusion, the missing items.
    if hidden_count(cohort.n_infusions_excluded, threshold):
        phrases.append((f"We excluded {plural(cohort.n_infusions_excluded, 'infusion')} ", f"We excluded {less} infusions "))
        values["cohort"]["n_infusions_excluded"] = less
    k = cohort.n_patients_not_analyzed
    if hidden_count(k, threshold):
        phrases.append((f"which left {count_words(k)} patient{'' if k == 1 else 's'} ", f"which left {less} patients "))
    for column, count in cohort.excluded_missing_by_column.items():
        if hidden_count(count, threshold):
            phrases.append((f"{ANALYSIS_COLUMN_LABELS[column]} ({count})", f"{ANALYSIS_COLUMN_LABELS[column]} ({less})"))
    # Premedication counts.
    for count in (cohort.n_infusions_midazolam, cohort.n_infusions_ondansetron):
        if hidden_count(count, threshold):
            phrases += [(f"Midazolam was recorded for {format_count(count)} ", f"Midazolam was recorded for {less} "),
                        (f"ondansetron for {format_count(count)} of", f"ondansetron for {less} of")]
    # Patients whose mean VAS fell.
    improved, n = vas.n_patients_improved, vas.overall.n
    if hidden_count(improved, threshold) or hidden_count(n - improved, threshold):
        shown = less if hidden_count(improved, threshold) else COMPLEMENT_TEXT
        phrases.append((f"; {format_count(improved)} of {format_count(n)} patients had a lower mean VAS",
                        f"; {shown} of {format_count(n)} patients had a lower mean VAS"))
    # Side effects: the share of infusions with any side effect gives its count.
    any_row = next((p for p, row in enumerate(results.infusion_characteristics.rows)
                    if row.section == "Side effects" and row.label == "Any"), None)
    if any_row is not None and (any_row, "all") in infusions_decision.hidden:
        percent = format_percent(results.infusion_characteristics.rows[any_row].cells["all"].percent)
        phrases += [(f"after {percent} of analysed infusions", f"after {less} analysed infusions"),
                    (f": {percent} of analysed infusions recorded", f": {less} analysed infusions recorded")]

    tables["vas"] = _vas_table(run, tables["vas"], threshold, phrases, values)
    tables["relief"] = _relief_table(run, tables["relief"], threshold, phrases, values)
    if "sensitivity" in tables and _small_groups(run, threshold):
        model = results.sensitivity
        tables["sensitivity"] = dataclasses.replace(
            tables["sensitivity"],
            rows=[TableRow(row.label, [statistic_of_few(threshold)] * len(row.cells), row.kind)
                  for row in tables["sensitivity"].rows],
            notes=[legend(threshold)],
        )
        values.pop("sensitivity", None)
        phrases.append((context.values["narrative"]["sensitivity"],
                        f"The mixed model's group effect is not shown: a group has fewer than {threshold} patients "
                        f"({format_count(model.n_infusions)} infusions analysed)."))

    prose = _Prose(phrases)
    values["narrative"] = {key: prose.apply(text) for key, text in values["narrative"].items()}
    values["text"] = {key: prose.apply(text) for key, text in values["text"].items()}
    # The R cross-check's table prints every estimate's n and x at full precision: only its summary is kept.
    appendix = dataclasses.replace(context.appendix, verification_table=None,
                                   attached_files=data_file_names(None, suppressed=True))
    return dataclasses.replace(
        context,
        appendix=appendix,
        abstract=[_section(section, prose) for section in context.abstract],
        methods=[_section(section, prose) for section in context.methods],
        results=[_section(section, prose) for section in context.results],
        conclusions=[prose.apply(text) for text in context.conclusions],
        tables=tables,
        figures={key: dataclasses.replace(figure, alt=prose.apply(figure.alt), caption=prose.apply(figure.caption))
                 for key, figure in context.figures.items()},
        values=values,
    )


def _section(section, prose: _Prose):
    return dataclasses.replace(section, paragraphs=[prose.apply(text) for text in section.paragraphs])


def _copy(values: Any) -> Any:
    if isinstance(values, dict):
        return {key: _copy(value) for key, value in values.items()}
    return values


def _comparison_diagnoses(run: AnalysisRun) -> list[tuple[str, int]]:
    """The diagnoses the cohort sentence names, as it names them."""
    return gather_facts(run).comparison_diagnoses


def hidden_group_sizes(run: AnalysisRun, threshold: int) -> dict[str, str]:
    """Analysed patients per group as printed (Table 3, Figures 1 and 2), for the groups whose size is hidden.

    A group's size is hidden when it is below N (rule 1) or when Table 1 hides the group's size (rule 3: the
    analysed count equals it when every patient was analysed); one hidden size hides the other, since the two
    add up to the analysed patients.
    """
    cohort = run.results.cohort
    table_one = characteristics_suppression(run.results.patient_characteristics, threshold).hidden
    sizes = {"index": cohort.n_index_analyzed, "comparison": cohort.n_comparison_analyzed}
    if not any(hidden_count(n, threshold) or ("n", key) in table_one for key, n in sizes.items()):
        return {}
    return {key: shown_count(n, True, threshold) for key, n in sizes.items()}


def _small_groups(run: AnalysisRun, threshold: int) -> bool:
    vas = run.results.vas
    return hidden_count(vas.index.n, threshold) or hidden_count(vas.comparison.n, threshold)


def _vas_table(run, table: Table, threshold: int, phrases, values) -> Table:
    """Table 3: a group of fewer than N patients shows neither its size nor its statistics (rules 1 and 2); the
    other group's size then follows from the total, so it is hidden too (rule 3), and so is the difference."""
    sizes = hidden_group_sizes(run, threshold)
    cohort = run.results.cohort
    for key, shown in sizes.items():
        n = cohort.n_index_analyzed if key == "index" else cohort.n_comparison_analyzed
        values["cohort"][f"n_{key}_analyzed"] = shown
        values["vas"][key]["n"] = shown
        label = run.config.analysis.index_label if key == "index" else run.config.analysis.comparison_label.lower()
        phrases.append((f"{format_count(n)} {label}", f"{shown} {label}"))
    if sizes and not _small_groups(run, threshold):
        rows = [table.rows[0]] + [TableRow(row.label, [sizes[key], *row.cells[1:]], row.kind)
                                  for row, key in zip(table.rows[1:3], ("index", "comparison"))] + table.rows[3:]
        return dataclasses.replace(table, rows=rows, notes=[*table.notes, legend(threshold)])
    if not _small_groups(run, threshold):
        return table
    vas = run.results.vas
    few = statistic_of_few(threshold)
    rows = [table.rows[0]]
    for row, key, estimate in zip(table.rows[1:3], ("index", "comparison"), (vas.index, vas.comparison)):
        if hidden_count(estimate.n, threshold):
            rows.append(TableRow(row.label, [suppressed_count(threshold)] + [few] * (len(row.cells) - 1), row.kind))
            values["vas"][key] = {name: (value if name == "label" else few) for name, value in values["vas"][key].items()}
            values["vas"][key]["n"] = suppressed_count(threshold)
        else:
            rows.append(TableRow(row.label, [COMPLEMENT, *row.cells[1:]], row.kind))
    difference = table.rows[3]
    rows.append(TableRow(difference.label, [difference.cells[0]] + [few] * (len(difference.cells) - 1), difference.kind))
    values["vas"]["difference"] = {name: (value if name in ("n", "label") else few)
                                   for name, value in values["vas"]["difference"].items()}
    narrative = values["narrative"]
    statement = (f"Group means are not shown: a group has fewer than {threshold} patients, and a mean of so few "
                 "describes individuals.")
    for key in ("group_reductions", "group_difference", "conclusion_difference"):
        if narrative.get(key):
            phrases.append((narrative[key], statement if key == "group_reductions" else ""))
    return dataclasses.replace(table, rows=rows, notes=[*table.notes, legend(threshold)])


def _relief_table(run, table: Table, threshold: int, phrases, values) -> Table:
    """Table 4 and the relief sentences: a hidden outcome shows its counts as ``<N`` or the complement mark and
    no probability or interval (the interval and the evaluable count would give the successes back)."""
    relief = run.results.relief
    hidden = _hidden_relief(run, threshold)
    few = statistic_of_few(threshold)
    relief_level = values["labels"]["relief_level"]
    notes = list(table.notes)
    if hidden_count(relief.n_censored, threshold):
        notes = [note.replace(f"of whom {format_count(relief.n_censored)} still", f"of whom {suppressed_count(threshold)} still")
                 for note in notes]
        values["relief"]["n_censored"] = suppressed_count(threshold)
    rows = []
    for row, outcome in zip(table.rows, relief.outcomes):
        if outcome.name not in hidden:
            rows.append(row)
            continue
        x = shown_count(outcome.x, True, threshold)
        n = shown_count(outcome.n_evaluable, True, threshold)
        rows.append(TableRow(row.label, [row.cells[0], f"{x} / {n}", few, few], row.kind))
        values["relief"][outcome.name].update({"x": x, "n": n, "estimate": few, "interval": few})
        estimate, interval = format_proportion(outcome.estimate), format_proportion_interval(outcome.conf_low, outcome.conf_high)
        phrases += [
            (f"{estimate} ({relief_level} interval {interval}; {outcome.x} of {outcome.n_evaluable} evaluable "
             f"patient{'' if outcome.n_evaluable == 1 else 's'})",
             "not shown (small numbers)"),
            (f"{estimate} ({interval}) for relief {no_break(outcome.rule)}", f"not shown for relief {no_break(outcome.rule)}"),
            (f"{outcome.label} {estimate} ({interval})", f"{outcome.label} not shown"),
            (f"for {outcome.label.lower()} ({format_count(outcome.n_evaluable)} evaluable)",
             f"for {outcome.label.lower()} ({shown_count(outcome.n_evaluable, True, threshold, COMPLEMENT_TEXT)} evaluable)"),
        ]
    k_values = {o.n_censored_not_evaluable for o in relief.outcomes if hidden_count(o.n_censored_not_evaluable, threshold)}
    for k in k_values:
        phrases += [
            ("One patient, whose relief was" if k == 1 else f"{count_words(k).capitalize()} patients, whose relief was",
             f"{suppressed_count(threshold)} patients, whose relief was"),
            (f"leaving {plural(relief.n_recorded - k, 'evaluable patient')}.", "leaving the others evaluable."),
            (f"{count_words(k)} for ", f"{suppressed_count(threshold)} for "),
        ]
    if hidden:
        notes.append(legend(threshold))
    return dataclasses.replace(table, rows=rows, notes=notes)
