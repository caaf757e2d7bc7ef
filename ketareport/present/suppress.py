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
    COHORT_COUNTS, COMPLEMENT, COMPLEMENT_TEXT, ReportSuppression, hidden_count, legend,
    flow_description, report_suppression, sentence_wording, vas_description, shown_count, statistic_of_few, suppressed_characteristics_table,
    suppressed_count,
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


def figures_as_protected(run: AnalysisRun) -> tuple[AnalysisRun, dict[str, Any]]:
    """What the figures may draw under small-cell protection: the run without the relief probabilities that are
    hidden, and the options of :func:`ketareport.figures.render_figures` that print the counts of Figure 1 and
    Figure 2's group sizes as the suppression step decided (``<N`` or ``‡``) and draw no distribution nor mean
    for a group of fewer than N patients."""
    decisions = report_suppression(run.results, run.config.report.suppress_below)
    return masked_for_figures(run, decisions), {"count": decisions.count, "fewest_in_band": decisions.threshold}


def masked_for_figures(run: AnalysisRun, decisions: ReportSuppression) -> AnalysisRun:
    """The run as the figures may draw it: a relief outcome whose probability is hidden has no estimate to plot,
    and a group of fewer than N patients no mean (its patients are then not drawn either)."""
    relief, vas = run.results.relief, run.results.vas
    hidden = _hidden_relief(run, decisions)
    outcomes = [
        dataclasses.replace(o, estimate=None, conf_low=None, conf_high=None) if o.name in hidden else o
        for o in relief.outcomes
    ]
    groups = {key: dataclasses.replace(getattr(vas, key), estimate=None, conf_low=None, conf_high=None)
              for key in ("index", "comparison") if hidden_count(getattr(vas, key).n, decisions.threshold)}
    results = dataclasses.replace(run.results, relief=dataclasses.replace(relief, outcomes=outcomes),
                                  vas=dataclasses.replace(vas, **groups))
    return dataclasses.replace(run, results=results)


def _hidden_relief(run: AnalysisRun, decisions: ReportSuppression) -> set[str]:
    """Relief outcomes whose probability is not printed: its successes or its evaluable count is hidden (few
    successes or evaluable patients, rules 1 and 2, or a small number not evaluable, which the evaluable count
    would give away, rule 3); the probability with either printed would give the other back."""
    return {o.name for o in run.results.relief.outcomes
            if decisions.hides(("relief", o.name, "x")) or decisions.hides(("relief", o.name, "n"))}


@dataclass(frozen=True)
class _Prose:
    """Replacements in the generated prose (exact phrases, or whole sentences), then the wording of rule 4."""

    phrases: list[tuple[str, str]]
    threshold: int

    def apply(self, text: str) -> str:
        for old, new in self.phrases:
            text = text.replace(old, new)
        return sentence_wording(text, self.threshold)


def suppress_context(run: AnalysisRun, context: ReportContext) -> ReportContext:
    """The context with rules 1 to 4 applied (``report.suppress_below`` of the run's configuration)."""
    threshold = run.config.report.suppress_below
    results = run.results
    decisions = report_suppression(results, threshold)
    patients_decision, infusions_decision = decisions.patients, decisions.infusions
    tables = dict(context.tables)
    tables["patients"] = suppressed_characteristics_table(results.patient_characteristics, tables["patients"],
                                                          threshold, patients_decision)
    tables["infusions"] = suppressed_characteristics_table(results.infusion_characteristics, tables["infusions"],
                                                           threshold, infusions_decision)
    values = _copy(context.values)
    phrases = _cohort_phrases(run, decisions, values)
    # After the sentences replaced whole (the tables' below), since these change words inside sentences.
    totals = _total_phrases(run, decisions, tables, values) + _tests_of_hidden_sizes(run, decisions, tables, values)
    tables["vas"] = _vas_table(run, tables["vas"], decisions, phrases, values)
    tables["relief"] = _relief_table(run, tables["relief"], decisions, phrases, values)
    if "sensitivity" in tables and _small_groups(run, threshold):
        model = results.sensitivity
        tables["sensitivity"] = dataclasses.replace(
            tables["sensitivity"],
            rows=[TableRow(row.label, [statistic_of_few(threshold)] * len(row.cells), row.kind)
                  for row in tables["sensitivity"].rows],
            notes=[legend(threshold)],
        )
        values.pop("sensitivity", None)
        analysed = ("" if model.n_infusions == results.cohort.n_infusions_analyzed and decisions.hides("n_infusions_analyzed")
                    else f" ({format_count(model.n_infusions)} infusions analysed)")
        phrases.append((context.values["narrative"]["sensitivity"],
                        f"The mixed model's group effect is not shown: a group has fewer than {threshold} patients"
                        f"{analysed}."))

    prose = _Prose(phrases + totals, threshold)
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
        figures=_figures(run, context, decisions, prose),
        values=values,
    )


def _figures(run: AnalysisRun, context: ReportContext, decisions: ReportSuppression, prose: _Prose) -> dict:
    """The figures' captions and descriptions (the HTML's alt text and the PDF's /Alt) from the same decisions as
    the figures: Figure 1's counts as it prints them, no mean of a group of fewer than N patients."""
    figures = {key: dataclasses.replace(figure, alt=prose.apply(figure.alt), caption=prose.apply(figure.caption))
               for key, figure in context.figures.items()}
    figures["flow"] = dataclasses.replace(figures["flow"], alt=flow_description(run, decisions))
    vas = figures["vas"]
    hidden_groups = [label for label, estimate in ((run.config.analysis.index_label, run.results.vas.index),
                                                   (run.config.analysis.comparison_label, run.results.vas.comparison))
                     if hidden_count(estimate.n, decisions.threshold)]
    caption = vas.caption + f" Bands of fewer than {decisions.threshold} patients are not drawn."
    if hidden_groups:
        caption += (f" A group of fewer than {decisions.threshold} patients ({', '.join(hidden_groups)}) is not "
                    "drawn and its mean is not shown.")
    figures["vas"] = dataclasses.replace(vas, alt=vas_description(vas.alt, run, decisions), caption=caption)
    return figures


def _tests_of_hidden_sizes(run: AnalysisRun, decisions: ReportSuppression, tables: dict[str, Table],
                           values: dict[str, Any]) -> list[tuple[str, str]]:
    """A t test of a group whose size is hidden (and of N or more: smaller groups show no statistic at all) keeps
    its mean and interval but not its SE, statistic and P: the SE with the interval or P gives the degrees of
    freedom, hence the size; the pooled test of the difference gives the sum of the sizes."""
    vas, level = run.results.vas, values["labels"]["level"]
    sizes = {"overall": "n_patients_analyzed", "index": "n_index_analyzed", "comparison": "n_comparison_analyzed"}
    keys = [key for key, name in sizes.items()
            if decisions.hides(name) and not hidden_count(getattr(vas, key).n, decisions.threshold)]
    if {"index", "comparison"} & set(keys) and not _small_groups(run, decisions.threshold):
        keys.append("difference")
    phrases: list[tuple[str, str]] = []
    rows = list(tables["vas"].rows)
    for key in keys:
        e = values["vas"][key]
        if e["std_error"] in ("", "—") or e["p"] in ("", "—"):
            continue
        for opening in ("(SE ", "(standard error [SE] "):
            phrases.append((f"{opening}{e['std_error']}, {level} CI {e['conf_int']}, {e['p_statement']})",
                            f"({level} CI {e['conf_int']})"))
        phrases += [(f"{e['estimate']}\u00a0cm on average, {e['p_statement']})", f"{e['estimate']}\u00a0cm on average)"),
                    (f"{e['estimate']}\u00a0cm, {level} CI {e['conf_int']}, {e['p_statement']})",
                     f"{e['estimate']}\u00a0cm, {level} CI {e['conf_int']})")]
        position = ("overall", "index", "comparison", "difference").index(key)
        row = rows[position]
        rows[position] = TableRow(row.label, [*row.cells[:2], COMPLEMENT, row.cells[3], COMPLEMENT], row.kind)
        values["vas"][key] |= {name: COMPLEMENT for name in ("std_error", "statistic", "df", "p", "p_statement")}
    tables["vas"] = dataclasses.replace(tables["vas"], rows=rows)
    return phrases


def _total_phrases(run: AnalysisRun, decisions: ReportSuppression, tables: dict[str, Table],
                   values: dict[str, Any]) -> list[tuple[str, str]]:
    """Rule 3 on the totals the prose and the captions print (analysed patients and infusions, durations recorded):
    a total hidden because it would give a small count back is not stated; ``values`` and the captions follow."""
    cohort, relief, model = run.results.cohort, run.results.relief, run.results.sensitivity
    phrases: list[tuple[str, str]] = []
    for name in COHORT_COUNTS:
        if decisions.hides(name) and name in values["cohort"]:
            values["cohort"][name] = decisions.counts[name]
    if decisions.hides("n_patients_analyzed"):
        n = cohort.n_patients_analyzed
        shown = decisions.counts["n_patients_analyzed"]
        phrases += [(f"Across the {format_count(n)} analysed patients,", "Across the analysed patients,"),
                    (f"All {format_count(n)} analysed patients reported", "All analysed patients reported"),
                    (f" of {format_count(n)} patients had a lower mean VAS", " of them had a lower mean VAS")]
        phrases.append((f" of the {format_count(n)} patients had a lower mean VAS", " of them had a lower mean VAS"))
        values["vas"]["overall"]["n"] = shown
        values["vas"]["difference"]["n"] = shown
        table = tables["vas"]
        rows = [TableRow(row.label, [shown, *row.cells[1:]], row.kind) if position in (0, 3) else row
                for position, row in enumerate(table.rows)]
        tables["vas"] = dataclasses.replace(table, rows=rows)
    for key, name in (("overall", "n_patients_analyzed"), ("index", "n_index_analyzed"),
                      ("comparison", "n_comparison_analyzed")):
        if decisions.hides(name):
            # A one-sample t test's degrees of freedom are the group's size minus one.
            values["vas"][key]["df"] = COMPLEMENT
    if decisions.hides("n_infusions_analyzed"):
        n = cohort.n_infusions_analyzed
        table = tables["infusions"]
        tables["infusions"] = dataclasses.replace(
            table, caption=table.caption.replace(f"Characteristics of the {plural(n, 'analysed infusion')} ",
                                                 "Characteristics of the analysed infusions "))
        if model is not None and model.n_infusions == n:
            phrases.append((f"Analysing the {format_count(n)} infusions individually",
                            "Analysing the infusions individually"))
    if model is not None and "sensitivity" in tables:
        hidden_sizes = [(model.n_infusions, "n_infusions_analyzed", "infusions"),
                        (model.n_patients, "n_patients_analyzed", "patients")]
        if any(decisions.hides(name) and n == getattr(cohort, name) for n, name, _ in hidden_sizes):
            table = tables["sensitivity"]
            tables["sensitivity"] = dataclasses.replace(table, caption=table.caption.replace(
                f"(REML; {format_count(model.n_infusions)} infusions, {format_count(model.n_patients)} patients)",
                "(REML; " + ", ".join(f"{decisions.count(name, n)} {noun}" if n == getattr(cohort, name)
                                      else f"{format_count(n)} {noun}" for n, name, noun in hidden_sizes) + ")"))
            values.get("sensitivity", {}).update(
                {key: decisions.counts[name] for key, (n, name, _) in zip(("n_infusions", "n_patients"), hidden_sizes)
                 if decisions.hides(name) and n == getattr(cohort, name)})
    if decisions.hides(("relief", "n_recorded")):
        shown = decisions.counts[("relief", "n_recorded")]
        shown_text = f"{COMPLEMENT_TEXT} of" if shown == COMPLEMENT else shown
        phrases.append((f"In {plural(relief.n_recorded, 'patient')}, we recorded", f"In {shown_text} patients, we recorded"))
        values["relief"]["n_recorded"] = shown
        table = tables["relief"]
        tables["relief"] = dataclasses.replace(table, notes=[
            note.replace(f"Durations recorded for {plural(relief.n_recorded, 'patient')}",
                         f"Durations recorded for {shown} patients") for note in table.notes])
    return phrases


def _cohort_phrases(run: AnalysisRun, decisions: ReportSuppression, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Rule 4 on the cohort's sentences: group sizes, the comparison group's diagnoses, exclusions, premedication,
    patients improved and side effects; the hidden values of ``values`` are replaced in place."""
    threshold, patients_decision, infusions_decision = decisions.threshold, decisions.patients, decisions.infusions
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
            # "Of the remaining an undisclosed number patients" reads as "Of the remaining patients".
            said = "" if opening == "Of the remaining " and shown == COMPLEMENT_TEXT else f"{shown} "
            phrases.append((f"{opening}{format_count(n)} ({format_percent(percent)}) ", f"{opening}{said}"))
            values["cohort"][f"n_{key}"] = shown_count(n, True, threshold)
            values["cohort"][f"{key}_percent"] = COMPLEMENT
    # The comparison group's diagnoses named in the cohort sentence: Table 1's "All" cells of those rows.
    diagnosis_rows = {row.label.lower(): position for position, row in enumerate(results.patient_characteristics.rows)
                      if row.section == "Diagnosis"}
    for label, count in _comparison_diagnoses(run):
        position = diagnosis_rows.get(label.lower())
        # A diagnosis Table 1 lists hides as its row does; one it lumps ("other diagnoses") hides when small.
        if (position, "all") in patients_decision.hidden or (position is None and hidden_count(count, threshold)):
            phrases.append((f"{count_words(count)} had {label}",
                            f"{shown_count(count, True, threshold, COMPLEMENT_TEXT)} had {label}"))
    # The comparison patients with any other diagnosis: the group's size minus those listed, so it is hidden when
    # small, or when the size or a listed count is hidden (it would give that back).
    listed = _comparison_diagnoses(run)
    rest = cohort.n_comparison - sum(count for _, count in listed)
    if listed and rest and (hidden_count(rest, threshold) or ("n", "comparison") in patients_decision.hidden
                            or any(hidden_count(count, threshold) for _, count in listed)):
        noun = "another diagnosis" if rest == 1 else "other diagnoses"
        phrases.append((f"{count_words(rest)} had {noun}",
                        f"{shown_count(rest, True, threshold, COMPLEMENT_TEXT)} had other diagnoses"))
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
                        f"; {shown} of the {format_count(n)} patients had a lower mean VAS"))
    # Side effects: the share of infusions with any side effect gives its count.
    any_row = next((p for p, row in enumerate(results.infusion_characteristics.rows)
                    if row.section == "Side effects" and row.label == "Any"), None)
    if any_row is not None and (any_row, "all") in infusions_decision.hidden:
        percent = format_percent(results.infusion_characteristics.rows[any_row].cells["all"].percent)
        count = results.infusion_characteristics.rows[any_row].cells["all"].n
        shown = less if hidden_count(count, threshold) else f"{COMPLEMENT_TEXT} of"
        phrases += [(f"after {percent} of analysed infusions", f"after {shown} analysed infusions"),
                    (f": {percent} of analysed infusions recorded", f": {shown} analysed infusions recorded")]
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


def _small_groups(run: AnalysisRun, threshold: int) -> bool:
    vas = run.results.vas
    return hidden_count(vas.index.n, threshold) or hidden_count(vas.comparison.n, threshold)


def _vas_table(run, table: Table, decisions: ReportSuppression, phrases, values) -> Table:
    """Table 3: a group of fewer than N patients shows neither its size nor its statistics (rules 1 and 2); the
    other group's size then follows from the total, so it is hidden too (rule 3), and so is the difference."""
    threshold = decisions.threshold
    sizes = {key: decisions.counts[f"n_{key}_analyzed"] for key in ("index", "comparison")
             if decisions.hides(f"n_{key}_analyzed")}
    cohort = run.results.cohort
    for key, shown in sizes.items():
        n = cohort.n_index_analyzed if key == "index" else cohort.n_comparison_analyzed
        values["cohort"][f"n_{key}_analyzed"] = shown
        values["vas"][key]["n"] = shown
        label = run.config.analysis.index_label if key == "index" else run.config.analysis.comparison_label.lower()
        phrases.append((f"{format_count(n)} {label}", f"{shown} {label}"))
    if sizes and not _small_groups(run, threshold):
        rows = [table.rows[0]] + [TableRow(row.label, [sizes.get(key, row.cells[0]), *row.cells[1:]], row.kind)
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
            rows.append(TableRow(row.label, [sizes.get(key, row.cells[0]), *row.cells[1:]], row.kind))
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


def _relief_table(run, table: Table, decisions: ReportSuppression, phrases, values) -> Table:
    """Table 4 and the relief sentences: a hidden outcome shows its counts as ``<N`` or the complement mark and
    no probability or interval (the interval and the evaluable count would give the successes back)."""
    relief = run.results.relief
    threshold = decisions.threshold
    hidden = _hidden_relief(run, decisions)
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
        x = decisions.count(("relief", outcome.name, "x"), outcome.x)
        n = decisions.count(("relief", outcome.name, "n"), outcome.n_evaluable)
        # A probability of fewer than N evaluable patients is a statistic of few (rule 2); one hidden because its
        # successes are few, or to protect the patients not evaluable, prints the mark of a hidden number.
        mark = statistic_of_few(threshold) if hidden_count(outcome.n_evaluable, threshold) else COMPLEMENT
        rows.append(TableRow(row.label, [row.cells[0], f"{x} / {n}", mark, mark], row.kind))
        values["relief"][outcome.name].update({"x": x, "n": n, "estimate": mark, "interval": mark})
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
