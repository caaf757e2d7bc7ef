"""The report's numbered tables, formatted: Table 1 (patients), 2 (infusions), 3 (VAS), 4 (relief), 5 (mixed model)."""

from __future__ import annotations

from ..contract import sentence_start
from ..results import CharacteristicsTable, MixedModelResult, ReliefSummary, StudyResults
from .context import FormattedEstimate, Table, TableRow
from .formats import (
    format_count, format_count_cell, format_interval, format_mean, format_mean_sd, format_median_iqr, format_p,
    format_proportion, format_proportion_interval, format_se, median_iqr_decimals, no_break, plural,
)


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


def vas_table(estimates: dict[str, FormattedEstimate], level: str, difference_test: str) -> Table:
    return Table(
        "tbl-vas", 3,
        f"Reduction in VAS pain score (cm), before minus after infusion, on patient-level means: "
        f"mean, standard error, {level} confidence interval and two-sided P "
        f"({'Welch' if difference_test == 'welch' else 'pooled-variance'} t test for the difference).",
        ["Group", "Patients", "Mean reduction", "SE", f"{level} CI", "P"],
        [TableRow(x.label, [x.n, x.estimate, x.std_error, x.conf_int, x.p]) for x in estimates.values()],
    )


def relief_table(relief: ReliefSummary, relief_level: str) -> Table:
    return Table(
        "tbl-relief", 4,
        f"Probability of lasting pain relief among patients with a recorded duration: x of n evaluable patients, "
        f"estimate and {relief_level} interval ({relief.method_description}).",
        ["Outcome", "Definition", "x / n", "Estimate", f"{relief_level} interval"],
        [TableRow(o.label, [no_break(o.rule), f"{o.x} / {o.n_evaluable}", format_proportion(o.estimate),
                            format_proportion_interval(o.conf_low, o.conf_high)]) for o in relief.outcomes],
        notes=[_relief_note(relief)],
    )


def _relief_note(relief: ReliefSummary) -> str:
    if relief.n_recorded == 0:
        return "No patient had a recorded duration of relief."
    if relief.n_censored == 0:
        return f"Durations recorded for {plural(relief.n_recorded, 'patient')}; none still had relief at last contact."
    return (
        f"Durations recorded for {plural(relief.n_recorded, 'patient')}, of whom {format_count(relief.n_censored)} "
        f"still had relief at last contact (censored): such a patient counts only for thresholds the recorded "
        "duration already meets."
    )


def sensitivity_table(model: MixedModelResult, level: str, index_label: str, comparison_label: str) -> Table:
    def row(label, estimate):
        return TableRow(label, [format_mean(estimate.estimate), format_se(estimate.std_error),
                                format_interval(estimate.conf_low, estimate.conf_high), format_p(estimate.p_value)])

    return Table(
        "tbl-sensitivity", 5,
        f"Sensitivity analysis: linear mixed model of the reduction per infusion with a random intercept per "
        f"patient (REML; {format_count(model.n_infusions)} infusions, {format_count(model.n_patients)} patients). "
        f"Wald {level} confidence intervals and P.",
        ["Term", "Estimate", "SE", f"{level} CI", "P"],
        [row(f"Intercept ({comparison_label.lower()})", model.intercept),
         row(f"{sentence_start(index_label)} − {comparison_label.lower()}", model.index)],
        notes=[
            f"Variance between patients {format_se(model.variance_patient)}, residual variance "
            f"{format_se(model.variance_residual)} (intraclass correlation {format_se(model.intraclass_correlation)})."
        ],
    )


def report_tables(results: StudyResults, estimates: dict[str, FormattedEstimate], level: str, relief_level: str,
                  index_label: str, comparison_label: str) -> dict[str, Table]:
    """Tables 1–5 by key (``patients``, ``infusions``, ``vas``, ``relief`` and, when fitted, ``sensitivity``)."""
    cohort = results.cohort
    tables = {
        "patients": characteristics_table(
            results.patient_characteristics, "tbl-patients", 1,
            f"Patient characteristics by diagnostic group ({'all ' if cohort.n_patients > 1 else ''}"
            f"{plural(cohort.n_patients, 'patient')}). "
            "Counts are n (%); age as mean (SD); counts per patient and durations as median (interquartile range).",
        ),
        "infusions": characteristics_table(
            results.infusion_characteristics, "tbl-infusions", 2,
            f"Characteristics of the {plural(cohort.n_infusions_analyzed, 'analysed infusion')} by the patient's group. "
            "Continuous values are mean (SD); premedication and side effects n (%) of infusions.",
        ),
        "vas": vas_table(estimates, level, results.vas.difference_test),
        "relief": relief_table(results.relief, relief_level),
    }
    if results.sensitivity is not None:
        tables["sensitivity"] = sensitivity_table(results.sensitivity, level, index_label, comparison_label)
    return tables
