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
from typing import TYPE_CHECKING, Any

from .build import gather_facts
from .context import ReportContext, Table, TableRow
from .files import data_file_names
from .formats import (
    ANALYSIS_COLUMN_LABELS, count_words, format_count, format_percent, format_proportion, format_proportion_interval,
    no_break, plural,
)
from .small_cells import (
    COMPLEMENT, COMPLEMENT_TEXT, TableSuppression, characteristics_suppression, hidden_count, legend, shown_count, statistic_of_few,
    suppressed_characteristics_table, suppressed_count,
)

if TYPE_CHECKING:
    from ..pipeline import AnalysisRun


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
    results = run.results
    patients_decision = characteristics_suppression(results.patient_characteristics, threshold)
    infusions_decision = characteristics_suppression(results.infusion_characteristics, threshold)
    tables = dict(context.tables)
    tables["patients"] = suppressed_characteristics_table(results.patient_characteristics, tables["patients"],
                                                          threshold, patients_decision)
    tables["infusions"] = suppressed_characteristics_table(results.infusion_characteristics, tables["infusions"],
                                                           threshold, infusions_decision)
    values = _copy(context.values)
    phrases = _cohort_phrases(run, threshold, patients_decision, infusions_decision, values)
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


def _cohort_phrases(run: AnalysisRun, threshold: int, patients_decision: TableSuppression,
                    infusions_decision: TableSuppression, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Rule 4 on the cohort's sentences: group sizes, the comparison group's diagnoses, exclusions, premedication,
    patients improved and side effects; the hidden values of ``values`` are replaced in place."""
    results = run.results
    cohort, vas = results.cohort, results.vas
    less = suppressed_count(threshold)
    phrases: list[tuple[str, str]] = []
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
        phrases.append((f"; {count_words(k)} patient{'' if k == 1 else 's'} had no ", f"; {less} patients had no "))
    for column, count in cohort.excluded_missing_by_column.items():
        if hidden_count(count, threshold):
            phrases.append((f"{ANALYSIS_COLUMN_LABELS[column]} ({count})", f"{ANALYSIS_COLUMN_LABELS[column]} ({less})"))
    # Premedication counts.
    for count in (cohort.n_infusions_midazolam, cohort.n_infusions_ondansetron):
        if hidden_count(count, threshold):
            phrases += [(f"Midazolam was recorded as given before {format_count(count)} ",
                         f"Midazolam was recorded as given before {less} "),
                        (f"ondansetron before {format_count(count)} of", f"ondansetron before {less} of")]
    if hidden_count(cohort.n_infusions_premedication_recorded, threshold):
        count = format_count(cohort.n_infusions_premedication_recorded)
        phrases.append((f"; {count} had a record of both drugs", f"; {less} had a record of both drugs"))
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
    return phrases


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
