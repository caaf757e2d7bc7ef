"""The presentation step: every number of the report becomes a string here.

One set of filters formats numbers (means to one decimal, SEs to two, P as
``< 0.001`` or three decimals, percentages whole, a true minus sign), and
:func:`build_context` turns an :class:`~ketareport.pipeline.AnalysisRun` into
a :class:`ReportContext` — frozen dataclasses holding only strings — from
which the Jinja templates (HTML, PDF) and the Quarto project lay out the
manuscript. Templates do no arithmetic, rounding or percentages.

Generated sentences follow explicit rules, stated next to the code that
applies them and in the report's Methods ("Reporting rules"):

* *Significance*: an estimate is called statistically significant when its
  two-sided P is below alpha = 1 - the confidence level (0.05 by default);
  otherwise the text says the data show no evidence of an effect — a
  non-significant difference is never described as a difference.
* *Direction*: a significant group difference is described as larger or
  smaller in the index group by its sign.
* *Comparison group*: the abstract names the two most frequent diagnoses of
  the comparison group with their counts.
* *Premedication*: "all patients were pretreated with midazolam and
  ondansetron" only when every infusion records both; otherwise the counts.
* *Side effects*: "infrequent" when fewer than 20% of analysed infusions
  record any side effect, otherwise "common"; the most frequent is named.
* *Relief*: each threshold's probability is reported as its estimate with
  its interval (the method and level from the configuration).
* *Sensitivity analysis*: the mixed model's group effect follows the
  significance rule and is compared in significance with the patient-level test.
* *Single patient*: a group of one is reported by its mean, "a single patient: no test";
  a group whose patients all have the same reduction (SE 0) says so, with no test.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from .results import CharacteristicsTable, ContinuousCell, CountCell, Estimate

if TYPE_CHECKING:
    from .pipeline import AnalysisRun
    from .verify import VerificationReport

MISSING = "–"
MINUS = "−"
NBSP = "\u00a0"
WORD_JOINER = "\u2060"  # keeps "59–85%" on one line without a visible character
SIDE_EFFECTS_INFREQUENT_BELOW = 20.0  # percent of analysed infusions
ANALYSIS_COLUMN_LABELS = {
    "ketamine_dose_mg": "ketamine dose", "infusion_duration_min": "infusion duration",
    "vas_pre": "VAS before infusion", "vas_post": "VAS after infusion",
}
RELIEF_METHOD_PHRASES = {
    "bernoulli": "the Bernoulli model with a uniform prior", "jeffreys": "the Jeffreys interval",
    "clopper-pearson": "the exact Clopper–Pearson interval", "wilson": "the Wilson score interval",
}
"""How the results sentence names the relief interval ("Using ..., the estimated probability ...")."""
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


def format_mean(value: float | None) -> str:
    return format_number(value, 1)


def format_se(value: float | None) -> str:
    return format_number(value, 2)


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
    return f"{format_number(low, decimals)} to {format_number(high, decimals)}"


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


def count_words(n: int) -> str:
    """Numbers under ten in words, as journals set them in running text."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else format_count(n)


FILTERS = {
    "mean": format_mean, "se": format_se, "p": format_p, "p_statement": format_p_statement,
    "percent": format_percent, "proportion": format_proportion, "count": format_count,
}
"""The filters registered in the Jinja environment (templates mostly receive strings already)."""


# ---------------------------------------------------------------- context --

@dataclass(frozen=True)
class FormattedEstimate:
    label: str
    n: str
    estimate: str
    std_error: str
    conf_int: str
    statistic: str
    df: str
    p: str
    p_statement: str


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: list[str]
    kind: str = "row"
    """``section`` (a heading row spanning the table), ``row`` or ``subrow`` (indented)."""


@dataclass(frozen=True)
class Table:
    id: str
    number: int
    caption: str
    columns: list[str]
    rows: list[TableRow]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Figure:
    id: str
    number: int
    caption: str
    alt: str
    file: str
    """File name under ``figures/`` (the SVG is written there and inlined in the HTML)."""


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: list[str]
    exhibits: list[str] = field(default_factory=list)
    """Tables and figures placed after the section: ``table:vas``, ``figure:flow`` ..."""


@dataclass(frozen=True)
class Author:
    name: str
    affiliation_marks: str


@dataclass(frozen=True)
class TitleBlock:
    title: str
    subtitle: str
    authors: list[Author]
    affiliations: list[str]
    institution: str
    date: str
    review_board: str
    keywords: str
    running_head: str
    pdf_author: str


@dataclass(frozen=True)
class Appendix:
    input_files: list[list[str]]
    """Rows: file, SHA-256, size."""
    row_counts: list[list[str]]
    config_yaml: str
    command: str
    generated_at: str
    versions: list[list[str]]
    verification_summary: str
    verification_failed: bool
    verification_table: Table | None
    verification_versions: list[list[str]]


@dataclass(frozen=True)
class ReportContext:
    """Everything the templates print, as strings."""

    title: TitleBlock
    abstract: list[Section]
    introduction: list[str]
    methods: list[Section]
    results: list[Section]
    tables: dict[str, Table]
    figures: dict[str, Figure]
    conclusions: list[str]
    appendix: Appendix
    page_size: str
    values: dict[str, Any]
    """Formatted key numbers, nested (``vas.overall.estimate`` ...); see :meth:`variables`."""

    def variables(self) -> dict[str, Any]:
        """Formatted values for Quarto's ``_variables.yml``.

        Keys: ``study.*`` (title, subtitle, date, review_board),
        ``cohort.*`` (n_patients, n_infusions, n_infusions_excluded,
        n_infusions_analyzed, n_index, index_percent, n_comparison,
        comparison_percent, ...), ``vas.<overall|index|comparison|difference>.*``
        (estimate, std_error, conf_int, p, p_statement, n, df, statistic),
        ``relief.n_recorded``, ``relief.<threshold>.*`` (estimate, interval,
        x, n, rule, label), ``relief.level``, ``sensitivity.*``, ``labels.*``,
        ``text.*`` (the generated abstract and conclusion paragraphs).
        """
        return self.values


def _estimate(label: str, estimate: Estimate | None) -> FormattedEstimate:
    if estimate is None:
        return FormattedEstimate(label, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, "P not estimable")
    return FormattedEstimate(
        label=label, n=format_count(estimate.n), estimate=format_mean(estimate.estimate),
        std_error=format_se(estimate.std_error), conf_int=format_interval(estimate.conf_low, estimate.conf_high),
        statistic=format_statistic(estimate.statistic), df=format_df(estimate.df),
        p=format_p(estimate.p_value), p_statement=format_p_statement(estimate.p_value),
    )


def _significant(estimate: Estimate, alpha: float) -> bool:
    return estimate.p_value is not None and estimate.p_value < alpha


def _label(diagnosis: str) -> str:
    return "CRPS" if diagnosis == "crps" else diagnosis.replace("_", " ")


def _characteristics_table(table: CharacteristicsTable, table_id: str, number: int, caption: str) -> Table:
    columns = [f"{column.label} (n = {format_count(column.n)})" for column in table.columns]
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


def build_context(run: AnalysisRun, verification: VerificationReport | None = None) -> ReportContext:
    """Format the run's results into the report's strings."""
    from .figures import FIGURE_FILES

    config, results = run.config, run.results
    study, options = config.study, config.analysis
    cohort, vas, relief, model = results.cohort, results.vas, results.relief, results.sensitivity
    alpha = 1 - options.conf_level
    level = format_level(options.conf_level)
    relief_level = format_level(options.relief_conf_level)
    index_label, comparison_label = options.index_label, options.comparison_label
    estimates = {
        "overall": _estimate("All patients", vas.overall),
        "index": _estimate(index_label, vas.index),
        "comparison": _estimate(comparison_label, vas.comparison),
        "difference": _estimate(f"Difference ({index_label} − {comparison_label.lower()})", vas.difference),
    }
    generated = dt.datetime.fromisoformat(run.provenance["generated_at"])

    # Title block ---------------------------------------------------------
    affiliations: list[str] = []
    authors = []
    for author in study.authors:
        marks = ""
        if author.affiliation:
            if author.affiliation not in affiliations:
                affiliations.append(author.affiliation)
            marks = str(affiliations.index(author.affiliation) + 1)
        authors.append(Author(author.name, marks))
    period = (
        f"{study.period_start.year} to {study.period_end.year}" if study.period_start and study.period_end
        else f"{cohort.first_infusion_date[:4]} to {cohort.last_infusion_date[:4]}" if cohort.first_infusion_date
        else MISSING
    )
    title = TitleBlock(
        title=study.title, subtitle=study.subtitle or "", authors=authors,
        affiliations=affiliations if len(affiliations) > 1 or not study.institution else affiliations,
        institution=study.institution or "", date=format_date(generated.date()),
        review_board=study.review_board or "Review-board approval: not stated in the study configuration.",
        keywords=", ".join(study.keywords), running_head=_running_head(study.title),
        pdf_author=", ".join(a.name for a in study.authors) or "ketareport",
    )

    # Sentences -----------------------------------------------------------
    comparison_diagnoses = [
        (label, count) for label, count in cohort.diagnoses.items() if label != options.index_diagnosis and label != "other"
    ][:2]
    comparison_detail = " and ".join(
        f"{count_words(count)} had {_label(label)}" for label, count in comparison_diagnoses
    )
    if cohort.n_comparison == 0:
        remaining = "No patient had another diagnosis."
    else:
        remaining = (
            f"Of the remaining {format_count(cohort.n_comparison)} ({format_percent(cohort.comparison_percent)}) patients"
            + (f", {comparison_detail}." if comparison_detail else ", none had a more specific recorded diagnosis.")
        )
    cohort_sentence = (
        f"We identified {plural(cohort.n_patients, 'patient')} undergoing "
        f"{plural(cohort.n_infusions, 'outpatient ketamine infusion')}. "
        f"We excluded {plural(cohort.n_infusions_excluded, 'infusion')} because of missing data"
        + (f", which left {count_words(cohort.n_patients_not_analyzed)} "
           f"patient{'' if cohort.n_patients_not_analyzed == 1 else 's'} without an analysed infusion. "
           if cohort.n_patients_not_analyzed else ". ")
        + f"Among our patients, {format_count(cohort.n_index)} ({format_percent(cohort.index_percent)}) had a diagnosis of "
        f"{_index_name(options)}. {remaining}"
    )
    overall, index, comparison, difference = vas.overall, vas.index, vas.comparison, vas.difference
    e = estimates
    if overall.estimate is None:
        overall_sentence = "No infusion could be analysed."
    elif _significant(overall, alpha):
        overall_sentence = (
            f"All patients reported a significant reduction in VAS score of {e['overall'].estimate}{NBSP}cm "
            f"(standard error [SE] {e['overall'].std_error}, {e['overall'].p_statement})."
        )
    else:
        overall_sentence = (
            f"Across all patients the mean change in VAS score was {e['overall'].estimate}{NBSP}cm (standard error [SE] "
            f"{e['overall'].std_error}, {e['overall'].p_statement}): no evidence of a reduction."
        )
    group_parts = [
        f"{prefix} the reduction {verb} {e[key].estimate} {_untested_details(estimate, e[key])}"
        for key, estimate, prefix, verb in (
            ("index", index, f"For patients with {index_label},", "in VAS score was"),
            ("comparison", comparison, "for the others,", "was"),
        )
        if estimate.estimate is not None
    ]
    group_sentence = ("; ".join(group_parts) + ".") if len(group_parts) == 2 else ""
    if difference.estimate is None:
        difference_sentence = "The groups could not be compared."
    elif _significant(difference, alpha):
        difference_sentence = (
            f"The difference of {e['difference'].estimate} between groups was statistically significant "
            f"(SE {e['difference'].std_error}, {e['difference'].p_statement})."
        )
    elif difference.p_value is None:
        difference_sentence = (
            "With fewer than two patients in a group, the groups could not be compared by a test."
            if min(index.n, comparison.n) < 2 else
            "The groups could not be compared by a test: within each group every patient's reduction is the same."
        )
    else:
        difference_sentence = (
            f"The data showed no evidence of a difference between groups (estimate {e['difference'].estimate}, "
            f"SE {e['difference'].std_error}, {e['difference'].p_statement})."
        )
    relief_parts = [
        f"{outcome.label.lower()} ({no_break(outcome.rule)}) {'was ' if position == 0 else ''}{format_proportion(outcome.estimate)} "
        f"({relief_level} interval {format_proportion_interval(outcome.conf_low, outcome.conf_high)}; "
        f"{outcome.x} of {outcome.n_evaluable} patients)"
        for position, outcome in enumerate(relief.outcomes)
    ]
    method_name = RELIEF_METHOD_PHRASES.get(relief.method, relief.method_description)
    relief_sentence = (
        f"In {format_count(relief.n_recorded)} patients, we recorded the duration of pain relief. Using "
        f"{method_name}, the estimated probability of " + " and of ".join(relief_parts) + "."
        if relief.n_recorded else "The duration of pain relief was not recorded for any patient."
    )
    premedication = (
        "All patients were pretreated with midazolam and ondansetron."
        if cohort.all_premedicated else
        f"Midazolam was recorded for {format_count(cohort.n_infusions_midazolam)} and ondansetron for "
        f"{format_count(cohort.n_infusions_ondansetron)} of {format_count(cohort.n_infusions)} infusions."
    )
    side_effects = _side_effects(results.infusion_characteristics)
    conclusions = _conclusions(run, alpha, estimates, side_effects)

    abstract = [
        Section("Objective", [
            "We evaluated whether outpatient intravenous ketamine infusions were satisfactory for pain relief in "
            "patients suffering from various chronic intractable pain syndromes."
        ]),
        Section("Design", ["Retrospective chart review."]),
        Section("Setting", [
            (f"{study.setting}. " if study.setting else "")
            + f"{study.review_board or 'Review-board approval not stated'}. All ketamine infusions administered "
            f"from {period} were analysed."
        ]),
        Section("Methods", [
            "Data reviewed included doses of intravenous ketamine, infusion duration, pain scores on a visual "
            "analogue scale (VAS) before and after each infusion, duration of pain relief, previous interventions "
            f"and side effects. {premedication}"
        ]),
        Section("Results", [" ".join(part for part in (cohort_sentence, overall_sentence, group_sentence,
                                                       difference_sentence, relief_sentence) if part)]),
        Section("Conclusions", conclusions),
    ]

    # Tables ----------------------------------------------------------------
    tables = {
        "patients": _characteristics_table(
            results.patient_characteristics, "tbl-patients", 1,
            f"Patient characteristics by diagnostic group (all {format_count(cohort.n_patients)} patients). "
            "Counts are n (%); age as mean (SD); counts per patient and durations as median (interquartile range).",
        ),
        "infusions": _characteristics_table(
            results.infusion_characteristics, "tbl-infusions", 2,
            f"Characteristics of the {format_count(cohort.n_infusions_analyzed)} analysed infusions by the patient's group. "
            "Continuous values are mean (SD); premedication and side effects n (%) of infusions.",
        ),
        "vas": Table(
            "tbl-vas", 3,
            f"Reduction in VAS pain score (cm), before minus after infusion, on patient-level means: "
            f"mean, standard error, {level} confidence interval and two-sided P "
            f"({'Welch' if vas.difference_test == 'welch' else 'pooled-variance'} t test for the difference).",
            ["Group", "Patients", "Mean reduction", "SE", f"{level} CI", "P"],
            [TableRow(x.label, [x.n, x.estimate, x.std_error, x.conf_int, x.p]) for x in estimates.values()],
        ),
        "relief": Table(
            "tbl-relief", 4,
            f"Probability of lasting pain relief among patients with a recorded duration: x of n evaluable patients, "
            f"estimate and {relief_level} interval ({relief.method_description}).",
            ["Outcome", "Definition", "x / n", "Estimate", f"{relief_level} interval"],
            [TableRow(o.label, [no_break(o.rule), f"{o.x} / {o.n_evaluable}", format_proportion(o.estimate),
                                format_proportion_interval(o.conf_low, o.conf_high)]) for o in relief.outcomes],
            notes=[
                f"Durations recorded for {format_count(relief.n_recorded)} patients, of whom "
                f"{format_count(relief.n_censored)} still had relief at last contact (censored): such a patient counts "
                "only for thresholds the recorded duration already meets."
            ],
        ),
    }
    if model is not None:
        tables["sensitivity"] = Table(
            "tbl-sensitivity", 5,
            f"Sensitivity analysis: linear mixed model of the reduction per infusion with a random intercept per "
            f"patient (REML; {format_count(model.n_infusions)} infusions, {format_count(model.n_patients)} patients). "
            f"Wald {level} confidence intervals and P.",
            ["Term", "Estimate", "SE", f"{level} CI", "P"],
            [
                TableRow(f"Intercept ({comparison_label.lower()})", [format_mean(model.intercept.estimate), format_se(model.intercept.std_error),
                         format_interval(model.intercept.conf_low, model.intercept.conf_high), format_p(model.intercept.p_value)]),
                TableRow(f"{index_label} − {comparison_label.lower()}", [format_mean(model.index.estimate), format_se(model.index.std_error),
                         format_interval(model.index.conf_low, model.index.conf_high), format_p(model.index.p_value)]),
            ],
            notes=[
                f"Variance between patients {format_se(model.variance_patient)}, residual variance "
                f"{format_se(model.variance_residual)} (intraclass correlation {format_se(model.intraclass_correlation)})."
            ],
        )
    figures = {
        "flow": Figure("fig-flow", 1, "Flow of infusions and patients through the analysis.",
                       f"Flow diagram: {format_count(cohort.n_infusions)} infusions in {format_count(cohort.n_patients)} patients identified; "
                       f"{format_count(cohort.n_infusions_excluded)} infusions excluded for missing data"
                       + (f" ({plural(cohort.n_patients_not_analyzed, 'patient')} left with no analysed infusion); "
                          if cohort.n_patients_not_analyzed else "; ")
                       + f"{format_count(cohort.n_infusions_analyzed)} infusions in {format_count(cohort.n_patients_analyzed)} patients analysed "
                       f"({format_count(cohort.n_index_analyzed)} {index_label}, {format_count(cohort.n_comparison_analyzed)} {comparison_label.lower()}).",
                       FIGURE_FILES["flow"]),
        "vas": Figure("fig-vas", 2,
                      f"Mean reduction in VAS score per patient, by group. Each point is a patient (mean over the "
                      f"patient's analysed infusions); the bar and whiskers show the group mean and its {level} confidence interval.",
                      f"Dot plot of patient mean VAS reductions: {index_label} mean {e['index'].estimate} cm "
                      f"({level} CI {e['index'].conf_int}); {comparison_label} mean {e['comparison'].estimate} cm ({level} CI {e['comparison'].conf_int}).",
                      FIGURE_FILES["vas"]),
        "relief": Figure("fig-relief", 3,
                         f"Probability of pain relief lasting beyond each threshold, with {relief_level} intervals ({relief.method_description}).",
                         "Relief probabilities: " + "; ".join(
                             f"{o.label} {format_proportion(o.estimate)} ({format_proportion_interval(o.conf_low, o.conf_high)})"
                             for o in relief.outcomes),
                         FIGURE_FILES["relief"]),
    }

    methods = _methods(run, period, premedication, level, relief_level)
    results_sections = _results(run, estimates, cohort_sentence, overall_sentence, group_sentence,
                                difference_sentence, relief_sentence, side_effects, level)
    appendix = _appendix(run, verification)
    values = _values(run, estimates, title, abstract, conclusions, relief_level, level)
    return ReportContext(
        title=title, abstract=abstract,
        introduction=[
            "Ketamine, an N-methyl-D-aspartate receptor antagonist, is used at subanaesthetic doses for chronic "
            "pain that has not responded to other treatment. This report analyses every outpatient ketamine "
            "infusion in the study period and asks how much pain scores fell after an infusion, whether the "
            f"response differed between patients with {_index_name(options)} and those with other diagnoses, and "
            "how long relief lasted."
        ],
        methods=methods, results=results_sections, tables=tables, figures=figures,
        conclusions=conclusions, appendix=appendix, page_size=config.report.page_size, values=values,
    )


def _index_name(options) -> str:
    return "complex regional pain syndrome (CRPS)" if options.index_diagnosis == "crps" else options.index_label


def _running_head(title: str) -> str:
    short = title.split(":")[0]
    return short if len(short) <= 70 else short[:67].rsplit(" ", 1)[0] + "…"


def _side_effects(table: CharacteristicsTable) -> dict[str, Any]:
    rows = [row for row in table.rows if row.section == "Side effects"]
    any_row = next((row for row in rows if row.label == "Any"), None)
    labelled = [row for row in rows if row.label != "Any" and row.cells["all"].n > 0]
    percent = any_row.cells["all"].percent if any_row else None
    return {
        "percent": percent,
        "text": format_percent(percent),
        "most_frequent": labelled[0].label.lower() if labelled else None,
        "infrequent": percent is not None and percent < SIDE_EFFECTS_INFREQUENT_BELOW,
    }


def _conclusions(run: AnalysisRun, alpha: float, e: dict[str, FormattedEstimate], side_effects: dict[str, Any]) -> list[str]:
    """Conclusions by the rules of the module docstring."""
    options, vas, relief = run.config.analysis, run.results.vas, run.results.relief
    sentences = []
    if vas.overall.estimate is not None and _significant(vas.overall, alpha):
        sentences.append(
            "In patients with severe refractory pain of multiple aetiologies, subanaesthetic ketamine infusions "
            f"were followed by a reduction in VAS pain scores ({e['overall'].estimate}{NBSP}cm on average, {e['overall'].p_statement})."
        )
    else:
        sentences.append("These data show no evidence that VAS pain scores fell after ketamine infusions.")
    if vas.difference.p_value is None:
        sentences.append(f"Patients with {options.index_label} could not be compared with patients with other diagnoses.")
    elif _significant(vas.difference, alpha):
        direction = "larger" if vas.difference.estimate > 0 else "smaller"
        sentences.append(
            f"The reduction was {direction} in patients with {options.index_label} than in patients with other diagnoses "
            f"(difference {e['difference'].estimate}{NBSP}cm, {e['difference'].p_statement})."
        )
    else:
        sentences.append(
            f"The data do not show a difference in response between patients with {options.index_label} and patients "
            f"with other diagnoses ({e['difference'].p_statement})."
        )
    if relief.n_recorded:
        parts = [
            f"{format_proportion(o.estimate)} ({format_proportion_interval(o.conf_low, o.conf_high)}) for relief {no_break(o.rule)}"
            for o in relief.outcomes
        ]
        sentences.append("The estimated probability of lasting relief was " + " and ".join(parts) + ".")
    if side_effects["percent"] == 0:
        sentences.append("No side effect was recorded.")
    elif side_effects["percent"] is not None:
        frequency = "infrequent" if side_effects["infrequent"] else "common"
        most = f", most often {side_effects['most_frequent']}" if side_effects["most_frequent"] else ""
        sentences.append(
            f"Side effects were {frequency}: {side_effects['text']} of analysed infusions recorded at least one{most}."
        )
    return [" ".join(sentences)]


def _methods(run: AnalysisRun, period: str, premedication: str, level: str, relief_level: str) -> list[Section]:
    config, results = run.config, run.results
    options, relief, cohort = config.analysis, results.relief, results.cohort
    thresholds = "; ".join(f"{t.label.lower()}, a duration {no_break(t.rule)}" for t in options.relief_thresholds)
    versions = run.provenance["packages"]
    test = (
        "Welch's two-sample t test (unequal variances, Welch–Satterthwaite degrees of freedom)"
        if options.difference_test == "welch" else "the pooled-variance two-sample t test"
    )
    alpha = format_number(1 - options.conf_level, 2)
    excluded_columns = ", ".join(
        f"{ANALYSIS_COLUMN_LABELS[column]} ({count})" for column, count in cohort.excluded_missing_by_column.items() if count
    ) or "none"
    return [
        Section("Design and setting", [
            f"Retrospective chart review of all outpatient intravenous ketamine infusions from {period}"
            + (f" at {config.study.institution}" if config.study.institution else "") + ". "
            + (config.study.review_board + "." if config.study.review_board else "")
        ]),
        Section("Data reviewed", [
            "For each infusion: date, ketamine dose (mg), infusion duration (min), pain on a 10-cm visual analogue "
            "scale (VAS) before and after the infusion, premedication and side effects. For each patient: "
            f"diagnosis, sex, age, previous interventions and the duration of pain relief. {premedication}"
        ]),
        Section("Exclusions", [
            "An infusion missing the dose, the duration or either VAS score was excluded for missing data "
            f"(missing, by item: {excluded_columns}). A patient's VAS reduction is the mean over the patient's "
            "analysed infusions; patients with no analysed infusion were left out of the VAS analysis."
        ]),
        Section("Outcomes", [
            "The primary outcome was the reduction in VAS score (before minus after the infusion). Lasting relief "
            f"was defined by thresholds on the recorded duration of relief: {thresholds}. A patient whose relief "
            "was still ongoing at last contact was counted only for thresholds the recorded duration already met."
        ]),
        Section("Statistical analysis", [
            "Patients, not infusions, were the unit of analysis. For all patients and for each group (patients with "
            f"{options.index_label} versus all others) we report the mean of the patients' reductions with its standard "
            f"error (SD/√n), a one-sample t test of no change and a {level} t confidence interval; the groups were "
            f"compared by {test}. The probability of lasting relief was estimated as the proportion of evaluable "
            f"patients, with a {relief_level} interval ({relief.method_description}). "
            + _sensitivity_method(run)
            + f" Two-sided P values; {no_break(f'α = {alpha}')}.",
            f"Analyses were run with ketareport {run.provenance['ketareport_version']} (Python "
            f"{run.provenance['python_version']}, NumPy {versions['numpy']}, pandas {versions['pandas']}, SciPy "
            f"{versions['scipy']}). Reporting rules: an effect is called statistically significant only when P{NBSP}<{NBSP}α; "
            "otherwise the text states that the data show no evidence of it. Conclusions are generated from the "
            "results by these rules.",
        ]),
    ]


def _sensitivity_method(run: AnalysisRun) -> str:
    """The mixed model's methods sentence — or why it was not fitted (switched off, or not estimable)."""
    model_description = (
        "a linear mixed model of the per-infusion reductions with a random intercept per patient, fitted by "
        "restricted maximum likelihood (REML)"
    )
    if run.results.sensitivity is not None:
        return (
            f"As a sensitivity analysis we fitted {model_description}, with standard errors from the inverse of "
            "X′WX (W the inverse of the fitted covariance matrix, as lme4 reports them) and Wald intervals."
        )
    if not run.config.analysis.sensitivity_model:
        return f"The sensitivity analysis by {model_description} was switched off in the study configuration."
    return (
        f"The sensitivity analysis by {model_description} was not fitted: these data cannot estimate it (it needs "
        "both groups, at least three patients and variation between a patient's infusions)."
    )


def _results(run, e, cohort_sentence, overall_sentence, group_sentence, difference_sentence, relief_sentence,
             side_effects, level) -> list[Section]:
    results = run.results
    model = results.sensitivity
    sections = [
        Section("Patients and infusions", [
            cohort_sentence + " Figure 1 shows the flow of infusions and patients, Table 1 the patients and "
            "Table 2 the analysed infusions.",
        ], ["figure:flow", "table:patients", "table:infusions"]),
        Section("Reduction in pain scores", [
            " ".join(part for part in (overall_sentence, group_sentence, difference_sentence) if part) + " (Table 3, Figure 2.)",
        ], ["table:vas", "figure:vas"]),
        Section("Duration of relief", [f"{relief_sentence} (Table 4, Figure 3.)"], ["table:relief", "figure:relief"]),
    ]
    if side_effects["percent"]:
        sections.append(Section("Side effects", [
            f"At least one side effect was recorded after {side_effects['text']} of analysed infusions"
            + (f"; the most frequent was {side_effects['most_frequent']}" if side_effects["most_frequent"] else "")
            + " (Table 2)."
        ]))
    if model is not None:
        sections.append(Section("Sensitivity analysis", [_sensitivity_sentence(run, level)], ["table:sensitivity"]))
    return sections


def _untested_details(estimate: Estimate, formatted: FormattedEstimate) -> str:
    """The parenthesis after a group's mean: SE and P, or why there is no test.

    A group of one patient has a mean but no SE; a group whose patients all have the same
    reduction has SE 0 and no test. Either is said in words, never as "SE –, P not estimable".
    """
    if estimate.std_error is None:
        return "(a single patient: no test)"
    if estimate.p_value is None:
        return f"(SE {formatted.std_error}: every patient's reduction is the same, no test)"
    return f"(SE {formatted.std_error}, {formatted.p_statement})"


def _sensitivity_sentence(run: AnalysisRun, level: str) -> str:
    """The mixed model's group effect, worded by the significance rule, and whether it agrees with the patient-level test.

    A significant effect is "a difference between groups of X cm"; a non-significant one is "an estimated
    group effect of X cm" followed by "no evidence of a difference" — never "a difference".
    """
    model, difference = run.results.sensitivity, run.results.vas.difference
    alpha = 1 - run.config.analysis.conf_level
    significant = _significant(model.index, alpha)
    details = (
        f"{format_mean(model.index.estimate)}{NBSP}cm (SE {format_se(model.index.std_error)}, {level} CI "
        f"{format_interval(model.index.conf_low, model.index.conf_high)}, {format_p_statement(model.index.p_value)})"
    )
    if difference.p_value is None:
        agreement = "; the patient-level comparison could not be tested"
    elif significant == _significant(difference, alpha):
        agreement = ", consistent with the patient-level analysis"
    else:
        agreement = ", unlike the patient-level analysis, which " + (
            "found a statistically significant difference" if _significant(difference, alpha)
            else "showed no evidence of a difference"
        )
    opening = (
        f"Analysing the {format_count(model.n_infusions)} infusions individually with a random intercept per patient gave "
    )
    if significant:
        return f"{opening}a difference between groups of {details}{agreement} (Table 5)."
    return f"{opening}an estimated group effect of {details}: no evidence of a difference{agreement} (Table 5)."


def _appendix(run: AnalysisRun, verification: VerificationReport | None) -> Appendix:
    from pathlib import Path

    provenance = run.provenance
    dataset = provenance["dataset"]
    files = [[Path(f["path"]).name, f["sha256"], f"{f['size_bytes']:,} bytes"] for f in dataset["files"]]
    if provenance.get("config_file"):
        config_file = Path(provenance["config_file"])
        # The provenance records the configuration's digest only; its size is read from the file just analysed.
        size = f"{config_file.stat().st_size:,} bytes" if config_file.is_file() else MISSING
        files.append([config_file.name, provenance["config_sha256"], size])
    versions = [["ketareport", provenance["ketareport_version"]], ["Python", provenance["python_version"]]]
    versions += [[name, version] for name, version in provenance["packages"].items()]
    config_yaml = yaml.safe_dump(run.config.as_dict(), sort_keys=False, allow_unicode=True, width=80)
    if verification is None:
        summary = (
            "The independent R cross-check was not run for this report. To run it, render with "
            "“ketareport render DATASET --verify” (or run “ketareport verify DATASET”) where R with lme4 and jsonlite is installed."
        )
        table, r_versions = None, []
    else:
        agreeing = len(verification.rows) - verification.n_disagreeing
        summary = (
            f"Every reported estimate was recomputed by an independent R program (reproduce.R). "
            f"{agreeing} of {len(verification.rows)} quantities agree within tolerance"
            + ("." if verification.all_agree else f"; {verification.n_disagreeing} DISAGREE (marked below).")
            + " The comparison is also written as verification.csv beside this report."
        )
        table = Table(
            "tbl-verification", 6,
            "Python versus R, quantity by quantity: values to ten significant digits, their absolute difference "
            "and the tolerance within which they must agree (relative; see the verify command for the rule).",
            ["Quantity", "Python", "R", "Difference", "Tolerance", "Agrees"],
            [TableRow(row.quantity, [_full(row.python), _full(row.r), _full(row.abs_difference),
                                     _tolerance(row.tolerance), "yes" if row.agrees else "NO"])
             for row in verification.rows],
        )
        r_versions = [["R", verification.r_version]] + [[name, version] for name, version in verification.r_packages.items()]
    return Appendix(
        input_files=files,
        row_counts=[["patients", format_count(dataset["rows"]["patients"])], ["infusions", format_count(dataset["rows"]["infusions"])]],
        config_yaml=config_yaml, command=provenance["command"],
        generated_at=provenance["generated_at"] + (" (SOURCE_DATE_EPOCH)" if provenance.get("source_date_epoch") else ""),
        versions=versions, verification_summary=summary,
        verification_failed=verification is not None and not verification.all_agree, verification_table=table, verification_versions=r_versions,
    )


def _full(value: float | None) -> str:
    """A number at full precision for the verification table (it shows agreement to 1e-8)."""
    return MISSING if value is None else f"{value:.10g}".replace("-", MINUS)


def _tolerance(value: float) -> str:
    """1e-08 -> ``1e−8``."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", MINUS)


def _values(run, e, title, abstract, conclusions, relief_level, level) -> dict[str, Any]:
    cohort, relief, model = run.results.cohort, run.results.relief, run.results.sensitivity
    options = run.config.analysis
    values: dict[str, Any] = {
        "study": {"title": title.title, "subtitle": title.subtitle, "date": title.date, "review_board": title.review_board},
        "labels": {"index": options.index_label, "comparison": options.comparison_label, "level": level, "relief_level": relief_level},
        "cohort": {
            "n_patients": format_count(cohort.n_patients), "n_infusions": format_count(cohort.n_infusions),
            "n_infusions_excluded": format_count(cohort.n_infusions_excluded),
            "n_infusions_analyzed": format_count(cohort.n_infusions_analyzed),
            "n_patients_analyzed": format_count(cohort.n_patients_analyzed),
            "n_index": format_count(cohort.n_index), "index_percent": format_percent(cohort.index_percent),
            "n_comparison": format_count(cohort.n_comparison), "comparison_percent": format_percent(cohort.comparison_percent),
            "n_index_analyzed": format_count(cohort.n_index_analyzed),
            "n_comparison_analyzed": format_count(cohort.n_comparison_analyzed),
        },
        "vas": {key: vars(value) for key, value in e.items()},
        "relief": {
            "n_recorded": format_count(relief.n_recorded), "n_censored": format_count(relief.n_censored),
            "method": relief.method_description, "level": relief_level,
            **{o.name: {"label": o.label, "rule": o.rule, "x": str(o.x), "n": str(o.n_evaluable),
                        "estimate": format_proportion(o.estimate),
                        "interval": format_proportion_interval(o.conf_low, o.conf_high)} for o in relief.outcomes},
        },
        "text": {
            **{section.heading.lower(): " ".join(section.paragraphs) for section in abstract},
            "conclusions_full": " ".join(conclusions),
        },
    }
    if model is not None:
        values["sensitivity"] = {
            "n_infusions": format_count(model.n_infusions), "n_patients": format_count(model.n_patients),
            "estimate": format_mean(model.index.estimate), "std_error": format_se(model.index.std_error),
            "conf_int": format_interval(model.index.conf_low, model.index.conf_high),
            "p_statement": format_p_statement(model.index.p_value),
        }
    return values
