"""The report's numbered tables, formatted: Table 1 (patients), 2 (infusions), 3 (VAS), 4 (relief), 5 (mixed model)."""

from __future__ import annotations

from ..contract import sentence_start
from ..results import CharacteristicsTable, MixedModelResult, ReliefOutcome, ReliefSummary, StudyResults
from .context import FormattedEstimate, Table, TableRow
from .disclosure import EXACT, Counts, Withheld
from .formats import (
    format_count, format_count_cell, format_interval, format_mean, format_mean_sd, format_median_iqr, format_p,
    format_proportion, format_proportion_interval, format_se, median_iqr_decimals, no_break,
)
from .small_cells import COMPLEMENT, legend, statistic_of_few


def characteristics_table(table: CharacteristicsTable, table_id: str, number: int, caption: str) -> Table:
    """Table 1 or 2: a section row per characteristic, an indented row per category or statistic."""
    columns = [f"{sentence_start(column.label)} {no_break(f'(n = {format_count(column.n)})')}" for column in table.columns]
    rows: list[TableRow] = []
    section = None
    for row in table.rows:
        row_cells = [row.cells[column.key] for column in table.columns]
        if row.kind == "count":
            cells = [format_count_cell(cell) for cell in row_cells]
        elif row.kind == "mean_sd":
            cells = [format_mean_sd(cell) for cell in row_cells]
        else:
            decimals = median_iqr_decimals(row_cells)
            cells = [format_median_iqr(cell, decimals) for cell in row_cells]
        if row.section != section:
            section = row.section
            rows.append(TableRow(section, [], "section"))
        rows.append(TableRow(row.label, cells, "subrow"))
    return Table(table_id, number, caption, ["Characteristic", *columns], rows)


def vas_table(estimates: dict[str, FormattedEstimate], level: str, difference_test: str, counts: Counts = EXACT) -> Table:
    """Table 3 from the estimates as printed (:func:`~.disclosure.withheld_estimates` under small-cell protection)."""
    rows = [TableRow(x.label, [x.n, x.estimate, x.std_error, x.conf_int, x.p]) for x in estimates.values()]
    marks = {COMPLEMENT, statistic_of_few(counts.threshold), f"<{counts.threshold}"} if counts.threshold else set()
    return Table(
        "tbl-vas", 3,
        f"Reduction in VAS pain score (cm), before minus after infusion, on patient-level means: "
        f"mean, standard error, {level} confidence interval and two-sided P "
        f"({'Welch' if difference_test == 'welch' else 'pooled-variance'} t test for the difference).",
        ["Group", "Patients", "Mean reduction", "SE", f"{level} CI", "P"],
        rows, notes=[legend(counts.threshold)] if any(set(row.cells) & marks for row in rows) else [],
    )


def relief_table(relief: ReliefSummary, relief_level: str, counts: Counts = EXACT, withheld: Withheld = Withheld()) -> Table:
    """Table 4; under small-cell protection a withheld outcome shows its counts as decided and no probability or
    interval (``n < N`` for fewer than N evaluable patients, else ``‡``: the interval and the evaluable count
    would give the successes back)."""
    rows = []
    for o in relief.outcomes:
        x_n = f"{counts(('relief', o.name, 'x'), o.x)} / {counts(('relief', o.name, 'n'), o.n_evaluable)}"
        mark = withheld_relief_mark(o, counts, withheld)
        if mark is not None:
            rows.append(TableRow(o.label, [no_break(o.rule), x_n, mark, mark]))
        else:
            rows.append(TableRow(o.label, [no_break(o.rule), x_n, format_proportion(o.estimate),
                                           format_proportion_interval(o.conf_low, o.conf_high)]))
    return Table(
        "tbl-relief", 4,
        f"Probability of lasting pain relief among patients with a recorded duration: x of n evaluable patients, "
        f"estimate and {relief_level} interval ({relief.method_description}).",
        ["Outcome", "Definition", "x / n", "Estimate", f"{relief_level} interval"],
        rows, notes=[_relief_note(relief, counts)] + ([legend(counts.threshold)] if withheld.relief else []),
    )


def withheld_relief_mark(outcome: ReliefOutcome, counts: Counts, withheld: Withheld) -> str | None:
    """What Table 4 (and its key values) prints for the estimate and the interval of an outcome small-cell
    protection withholds: ``n < N`` for fewer than N evaluable patients, else ``‡``; None when they print."""
    if outcome.name not in withheld.relief:
        return None
    return statistic_of_few(counts.threshold) if counts.small(outcome.n_evaluable) else COMPLEMENT


def _relief_note(relief: ReliefSummary, counts: Counts) -> str:
    if relief.n_recorded == 0:
        return "No patient had a recorded duration of relief."
    recorded = counts(("relief", "n_recorded"), relief.n_recorded, "patient")
    if relief.n_censored == 0:
        return f"Durations recorded for {recorded}; none still had relief at last contact."
    return (
        f"Durations recorded for {recorded}, of whom {counts(('relief', 'n_censored'), relief.n_censored)} "
        f"still had relief at last contact (censored): such a patient counts only for thresholds the recorded "
        "duration already meets."
    )


def sensitivity_table(model: MixedModelResult, level: str, index_label: str, comparison_label: str,
                      sizes: tuple[str, str], counts: Counts = EXACT, withheld: Withheld = Withheld()) -> Table:
    """Table 5; ``sizes``: the model's infusions and patients as printed. A group of fewer than N patients
    (small-cell protection) shows no statistic: the group effect of so few describes individuals."""
    def row(label, estimate):
        if withheld.groups:
            return TableRow(label, [statistic_of_few(counts.threshold)] * 4)
        return TableRow(label, [format_mean(estimate.estimate), format_se(estimate.std_error),
                                format_interval(estimate.conf_low, estimate.conf_high), format_p(estimate.p_value)])

    return Table(
        "tbl-sensitivity", 5,
        f"Sensitivity analysis: linear mixed model of the reduction per infusion with a random intercept per "
        f"patient (REML; {sizes[0]} infusions, {sizes[1]} patients). Wald {level} confidence intervals and P.",
        ["Term", "Estimate", "SE", f"{level} CI", "P"],
        [row(f"Intercept ({comparison_label.lower()})", model.intercept),
         row(f"{sentence_start(index_label)} − {comparison_label.lower()}", model.index)],
        notes=[legend(counts.threshold)] if withheld.groups else [
            f"Variance between patients {format_se(model.variance_patient)}, residual variance "
            f"{format_se(model.variance_residual)} (intraclass correlation {format_se(model.intraclass_correlation)})."
        ],
    )


def model_sizes(model: MixedModelResult, cohort, counts: Counts) -> tuple[str, str]:
    """The mixed model's infusions and patients as printed: as the cohort's counts (hidden or not) when it used
    them all."""
    return (counts("n_infusions_analyzed" if model.n_infusions == cohort.n_infusions_analyzed else "model_infusions",
                   model.n_infusions),
            counts("n_patients_analyzed" if model.n_patients == cohort.n_patients_analyzed else "model_patients",
                   model.n_patients))


def report_tables(results: StudyResults, estimates: dict[str, FormattedEstimate], level: str, relief_level: str,
                  index_label: str, comparison_label: str, counts: Counts = EXACT,
                  withheld: Withheld = Withheld()) -> dict[str, Table]:
    """Tables 1–5 by key (``patients``, ``infusions``, ``vas``, ``relief`` and, when fitted, ``sensitivity``);
    Tables 1 and 2's cells are suppressed afterwards (:mod:`.suppress`), their captions' counts here."""
    cohort = results.cohort
    analysed = ("analysed infusions" if counts.hides("n_infusions_analyzed", cohort.n_infusions_analyzed)
                else counts("n_infusions_analyzed", cohort.n_infusions_analyzed, "analysed infusion"))
    tables = {
        "patients": characteristics_table(
            results.patient_characteristics, "tbl-patients", 1,
            f"Patient characteristics by diagnostic group ({'all ' if cohort.n_patients > 1 else ''}"
            f"{counts('n_patients', cohort.n_patients, 'patient')}). "
            "Counts are n (%); age as mean (SD); counts per patient and durations as median (interquartile range).",
        ),
        "infusions": characteristics_table(
            results.infusion_characteristics, "tbl-infusions", 2,
            f"Characteristics of the {analysed} by the patient's group. "
            "Continuous values are mean (SD); premedication and side effects n (%) of infusions.",
        ),
        "vas": vas_table(estimates, level, results.vas.difference_test, counts),
        "relief": relief_table(results.relief, relief_level, counts, withheld),
    }
    model = results.sensitivity
    if model is not None:
        tables["sensitivity"] = sensitivity_table(model, level, index_label, comparison_label,
                                                  model_sizes(model, cohort, counts), counts, withheld)
    return tables
