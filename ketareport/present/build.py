"""Assemble the :class:`~.context.ReportContext` of a run: title, abstract, sections, tables, figures, appendix.

The sentences that depend on the results come from :mod:`.narrative`; the
tables from :mod:`.tables`; the appendix from :mod:`.appendix`. What is
left here is the manuscript's fixed prose around them and the formatted
values Quarto reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from ..contract import DIAGNOSIS_NAMES, sentence_start
from ..results import CharacteristicsTable, Estimate
from . import narrative
from .disclosure import EXACT, Withheld, protection, withheld_estimates
from .small_cells import COMPLEMENT
from .facts import Facts, Period, Recorded, SideEffects
from .figure_text import figures
from .appendix import appendix
from .control import document_control, report_date
from .context import Author, FormattedEstimate, ReportContext, Section, TitleBlock
from .formats import (
    ANALYSIS_COLUMN_LABELS, MISSING, NBSP, WORD_JOINER, format_count, format_date, format_df, format_interval,
    format_level, format_mean, format_number, format_p, format_p_statement, format_proportion,
    format_proportion_interval, format_se, format_statistic, no_break,
)
from .tables import model_sizes, report_tables, withheld_relief_mark

if TYPE_CHECKING:
    from ..pipeline import AnalysisRun
    from ..verify import VerificationReport


def build_context(run: AnalysisRun, verification: VerificationReport | None = None, *, vas_display: str = "points",
                  facts: Facts | None = None) -> ReportContext:
    """Format the run's results into the report's strings; ``facts``: the run's :func:`gather_facts`, when the
    caller has them (small-cell protection's decisions then serve the figures and the tables as well)."""
    facts = gather_facts(run) if facts is None else facts
    config, results = run.config, run.results
    title = _title_block(run)
    sentences = narrative.sentences(facts)
    conclusions = narrative.conclusions(facts)
    clauses = phrases(run, facts)
    abstract = _abstract(facts, sentences, conclusions, clauses)
    tables = report_tables(results, facts.estimates, facts.level, facts.relief_level,
                           config.analysis.index_label, config.analysis.comparison_label, facts.counts, facts.withheld)
    return ReportContext(
        title=title, control=document_control(run), abstract=abstract,
        introduction=[
            "Ketamine, an N-methyl-D-aspartate receptor antagonist, is used at subanaesthetic doses for chronic "
            "pain that has not responded to other treatment. This report analyses every outpatient ketamine "
            "infusion in the study period and asks how much pain scores fell after an infusion, whether the "
            f"response differed between patients with {clauses['index_name']} and those with other diagnoses, and "
            "how long relief lasted."
        ],
        methods=_methods(facts, clauses), results=_results(facts, sentences), tables=tables, figures=figures(facts, vas_display),
        conclusions=conclusions, appendix=appendix(run, verification), page_size=config.report.page_size,
        values=_values(run, facts, title, abstract, conclusions, sentences, clauses),
    )


def gather_facts(run: AnalysisRun) -> Facts:
    """What the reporting rules need, from the run."""
    config, results = run.config, run.results
    options, cohort, vas = config.analysis, results.cohort, results.vas
    index_label, comparison_label = options.index_label, options.comparison_label
    comparison_diagnoses = named_comparison_diagnoses([
        (cohort.diagnosis_labels[label], count) for label, count in cohort.diagnoses.items()
        if label not in (options.index_diagnosis, "other")
    ])
    estimates = {
        "overall": formatted_estimate("All patients", vas.overall),
        "index": formatted_estimate(sentence_start(index_label), vas.index),
        "comparison": formatted_estimate(comparison_label, vas.comparison),
        "difference": formatted_estimate(f"Difference ({index_label} − {comparison_label.lower()})", vas.difference,
                                         counts_without_estimate=False),
    }
    decisions, counts, withheld = None, EXACT, Withheld()
    if config.report.suppress_below:
        decisions, counts, withheld = protection(results, config.report.suppress_below, comparison_diagnoses)
        # Figure 2 draws only its wider bands of N or more patients: the patients it draws, as it draws them.
        groups = {key: getattr(run.patient_reductions, key) for key in ("index", "comparison")
                 if key not in withheld.few and getattr(vas, key).n}
        drawn = {key: group.in_protected_bands(counts.threshold).n for key, group in groups.items()}
        withheld = dataclasses.replace(withheld, undrawn=frozenset(key for key, n in drawn.items() if not n),
                                       left_out={key: groups[key].n - n for key, n in drawn.items()})
        estimates = withheld_estimates(estimates, counts, withheld)
    return Facts(
        alpha=1 - options.conf_level,
        level=format_level(options.conf_level),
        relief_level=format_level(options.relief_conf_level),
        index_label=index_label,
        comparison_label=comparison_label,
        index_name=_index_name(options.index_diagnosis, index_label),
        cohort=cohort, vas=vas, relief=results.relief, sensitivity=results.sensitivity,
        estimates=estimates,
        side_effects=_side_effects(results.infusion_characteristics),
        period=_period(run),
        comparison_diagnoses=comparison_diagnoses,
        n_diagnoses=len(cohort.diagnoses),
        recorded=_recorded(results),
        counts=counts,
        withheld=withheld,
        decisions=decisions,
    )


NAMED_DIAGNOSES = 2
"""The comparison group's diagnoses the cohort sentence names: the two most frequent, and any tied with the second."""
NAMED_DIAGNOSES_WITH_TIES = 4
"""At most this many names when a tie is included; a longer tie is left out (unless nothing is more frequent)."""


def named_comparison_diagnoses(ranked: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The most frequent diagnoses of ``ranked`` (most frequent first), never choosing arbitrarily within a tie.

    Naming one of two diagnoses with the same count would fold the other into "other diagnoses" by an
    invisible rule, so a tie at the cut is named whole, or, when that makes the list long, left out whole.
    """
    if len(ranked) <= NAMED_DIAGNOSES:
        return ranked
    cut = ranked[NAMED_DIAGNOSES - 1][1]
    tied_through = [item for item in ranked if item[1] >= cut]
    if len(tied_through) <= NAMED_DIAGNOSES_WITH_TIES:
        return tied_through
    above = [item for item in ranked if item[1] > cut]
    return above or tied_through


def _excluded_by_item(facts: Facts) -> str:
    """``ketamine dose (12), VAS after infusion (49)``, and why these add up to more than the infusions excluded
    when they do (an infusion missing two items is counted under both)."""
    cohort, counts = facts.cohort, facts.counts
    missing = {column: n for column, n in cohort.excluded_missing_by_column.items() if n}
    listed = ", ".join(f"{ANALYSIS_COLUMN_LABELS[column]} ({counts(('missing', column), n)})" for column, n in missing.items())
    total, excluded = sum(missing.values()), cohort.n_infusions_excluded
    if not listed or total <= excluded:
        return listed or "none"
    if counts.hides("n_infusions_excluded", excluded) or any(counts.hides(("missing", c), n) for c, n in missing.items()):
        return f"{listed}; an infusion missing several items is counted under each"
    return (f"{listed}; {format_count(total)} in all, more than the {format_count(excluded)} infusions excluded, "
            "because an infusion missing several items is counted under each")


def _recorded(results) -> Recorded:
    """Which optional items hold a value, read from the descriptive tables and the cohort counts."""
    rows = results.patient_characteristics.rows
    cohort = results.cohort

    def any_count(section: str, labels: tuple[str, ...] | None = None) -> bool:
        return any(row.cells["all"].n > 0 for row in rows
                   if row.section == section and (labels is None or row.label in labels))

    age = next((row for row in rows if row.section.startswith("Age")), None)
    return Recorded(
        sex=any_count("Sex", ("Female", "Male")),
        age=age is not None and age.cells["all"].n > 0,
        previous_interventions=any_count("Previous interventions"),
        relief=results.relief.n_recorded > 0,
        premedication=cohort.n_infusions_premedication_recorded > 0 or cohort.n_infusions_midazolam > 0
        or cohort.n_infusions_ondansetron > 0,
        side_effects=_side_effects(results.infusion_characteristics).percent not in (None, 0),
    )


def formatted_estimate(label: str, estimate: Estimate, *, counts_without_estimate: bool = True) -> FormattedEstimate:
    """``counts_without_estimate=False``: a row with no estimate shows no count either (a difference with an
    empty group compares nobody, though its ``n`` counts the other group's patients)."""
    counted = counts_without_estimate or estimate.estimate is not None
    return FormattedEstimate(
        label=label, n=format_count(estimate.n) if counted else MISSING, estimate=format_mean(estimate.estimate),
        std_error=format_se(estimate.std_error), conf_int=format_interval(estimate.conf_low, estimate.conf_high),
        statistic=format_statistic(estimate.statistic), df=format_df(estimate.df),
        p=format_p(estimate.p_value), p_statement=format_p_statement(estimate.p_value),
    )


def _index_name(index_diagnosis: str, index_label: str) -> str:
    """The index diagnosis at its first mention: ``complex regional pain syndrome (CRPS)``, else its label."""
    name = DIAGNOSIS_NAMES.get(index_diagnosis)
    return f"{name} ({index_label})" if name else index_label


def _period(run: AnalysisRun) -> Period:
    study, cohort = run.config.study, run.results.cohort
    if study.period_start and study.period_end:
        return Period(study.period_start, study.period_end, from_configuration=True)
    first, last = cohort.first_infusion_date, cohort.last_infusion_date
    return Period(
        dt.date.fromisoformat(first) if first else None, dt.date.fromisoformat(last) if last else None,
        from_configuration=False,
    )


def _side_effects(table: CharacteristicsTable) -> SideEffects:
    rows = [row for row in table.rows if row.section == "Side effects"]
    any_row = next((row for row in rows if row.label == "Any"), None)
    counts = {row.label.lower(): row.cells["all"].n for row in rows if row.label != "Any" and row.cells["all"].n > 0}
    top = max(counts.values(), default=0)
    return SideEffects(
        percent=any_row.cells["all"].percent if any_row else None,
        n=any_row.cells["all"].n if any_row else None,
        most_frequent=tuple(label for label, n in counts.items() if n == top),
    )


def _title_block(run: AnalysisRun) -> TitleBlock:
    study = run.config.study
    affiliations: list[str] = []
    authors = []
    for author in study.authors:
        marks = ""
        if author.affiliation:
            if author.affiliation not in affiliations:
                affiliations.append(author.affiliation)
            marks = str(affiliations.index(author.affiliation) + 1)
        authors.append(Author(author.name, marks))
    missing = run.config.missing_metadata()
    return TitleBlock(
        title=study.title, subtitle=study.subtitle or "", authors=authors, affiliations=affiliations,
        institution=study.institution or "",
        date=format_date(report_date(run)),
        review_board=study.review_board or "Review-board approval: not stated in the study configuration.",
        keywords=", ".join(study.keywords), running_head=_running_head(study.title),
        pdf_author=", ".join(a.name for a in study.authors) or "ketareport",
        draft_notice=f"DRAFT — not for submission: missing {', '.join(missing)}." if missing else "",
    )


def _running_head(title: str) -> str:
    short = title.split(":")[0]
    return short if len(short) <= 70 else short[:67].rsplit(" ", 1)[0] + "…"


def _period_clause(facts: Facts) -> str:
    """``from January 2004 to December 2009``, saying when the dates come from the data."""
    period = facts.period
    if period.from_configuration or period.start is None:
        return period.phrase
    return f"{period.phrase} (the first and last infusion dates in the data; no study period was configured)"


def phrases(run: AnalysisRun, facts: Facts) -> dict[str, str]:
    """The clauses of the manuscript's fixed prose that depend on the configuration or the data.

    The HTML's paragraphs are built from them here, and the Quarto manuscript (templates/manuscript.qmd)
    writes the same prose around them as ``{{< var phrases.NAME >}}``, so the two cannot disagree.
    """
    config, results = run.config, run.results
    study, options = config.study, config.analysis
    versions = run.provenance.packages
    period = _period_clause(facts)
    difference_test = (
        "Welch's two-sample t test (unequal variances, Welch–Satterthwaite degrees of freedom)"
        if options.difference_test == "welch" else "the pooled-variance two-sample t test"
    )
    return {
        "index_name": facts.index_name,
        "setting": f"{study.setting}." if study.setting else "",
        "period": period,
        "period_and_place": period + (f" at {study.institution}" if study.institution else ""),
        "review_board": (study.review_board + "." if study.review_board else
                         "The study configuration does not state a review-board approval."),
        "excluded_by_item": _excluded_by_item(facts),
        "thresholds": "; ".join(f"{t.label.lower()}, a duration {no_break(t.rule)}" for t in options.relief_thresholds),
        "pain_population": (
            "various chronic intractable pain syndromes" if facts.n_diagnoses > 1 else "chronic intractable pain"
        ),
        "comparison": (
            f"the groups were compared by {difference_test}" if results.vas.difference.p_value is not None else
            f"a comparison of the groups by {difference_test} was planned, but these data do not allow it"
        ),
        "relief_method": results.relief.method_description,
        "sensitivity_method": _sensitivity_method(run),
        "alpha": no_break(f"α = {format_number(1 - options.conf_level, 2)}"),
        "software": (
            f"ketareport {run.provenance.ketareport_version} (Python {run.provenance.python_version}, NumPy "
            f"{versions['numpy']}, pandas {versions['pandas']}, SciPy {versions['scipy']})"
        ),
    }


def _abstract(facts: Facts, sentences: dict[str, str], conclusions: list[str],
              clauses: dict[str, str]) -> list[Section]:
    results = " ".join(part for part in (
        sentences["cohort"], sentences["overall_reduction"], sentences["group_reductions"],
        sentences["group_difference"], sentences["relief"],
    ) if part)
    return [
        Section("Objective", [
            "We evaluated whether outpatient intravenous ketamine infusions were satisfactory for pain relief in "
            f"patients suffering from {clauses['pain_population']}."
        ]),
        Section("Design", ["Retrospective chart review."]),
        Section("Setting", [
            " ".join(part for part in (
                clauses["setting"], f"All ketamine infusions administered {clauses['period']} were reviewed.") if part)
        ]),
        Section("Methods", [
            f"{sentences['data_reviewed']} {sentences['premedication']}"
        ]),
        Section("Results", [results]),
        Section("Conclusions", conclusions),
    ]


def _methods(facts: Facts, clauses: dict[str, str]) -> list[Section]:
    return [
        Section("Design and setting", [
            f"Retrospective chart review of all outpatient intravenous ketamine infusions {clauses['period_and_place']}. "
            + clauses["review_board"]
        ]),
        Section("Data reviewed", [
            f"{narrative.items_recorded(facts)} {narrative.premedication(facts)}"
        ]),
        Section("Exclusions", [
            "An infusion missing the dose, the duration or either VAS score was excluded for missing data "
            f"(missing, by item: {clauses['excluded_by_item']}). A patient's VAS reduction is the mean over the patient's "
            "analysed infusions; patients with no analysed infusion were left out of the VAS analysis."
        ]),
        Section("Outcomes", [
            "The primary outcome was the reduction in VAS score (before minus after the infusion). Lasting relief "
            f"was defined by thresholds on the recorded duration of relief: {clauses['thresholds']}. A patient whose relief "
            "was still ongoing at last contact was counted only for thresholds the recorded duration already met."
        ]),
        Section("Statistical analysis", [
            "Patients, not infusions, were the unit of analysis. For all patients and for each group (patients with "
            f"{facts.index_label} versus all others) we report the mean of the patients' reductions with its standard "
            f"error (SD/{WORD_JOINER}√{WORD_JOINER}n), a one-sample t test of no change and a {facts.level} t confidence "
            f"interval; {clauses['comparison']}. The probability of lasting relief was "
            f"estimated as the proportion of evaluable patients, with a {facts.relief_level} interval "
            f"({clauses['relief_method']}). {clauses['sensitivity_method']} Two-sided P values; {clauses['alpha']}.",
            f"Analyses were run with {clauses['software']}. Reporting rules: an effect is called statistically significant only when P{NBSP}<{NBSP}α; "
            "every comparison is given with its estimate, confidence interval and P, significant or not. Conclusions "
            "are generated from the results by these rules.",
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
        return f"A sensitivity analysis, {model_description}, was switched off in the study configuration."
    return (
        f"A sensitivity analysis, {model_description}, was planned but could not be fitted: it needs both groups, "
        "at least three patients and variation between a patient's infusions."
    )


def _results(facts: Facts, sentences: dict[str, str]) -> list[Section]:
    reduction = " ".join(part for part in (
        sentences["overall_reduction"], sentences["group_reductions"], sentences["group_difference"],
    ) if part)
    sections = [
        Section("Patients and infusions", [
            sentences["cohort"] + " Figure 1 shows the flow of infusions and patients, Table 1 the patients and "
            "Table 2 the analysed infusions.",
        ], ["figure:flow", "table:patients", "table:infusions"]),
        Section("Reduction in pain scores", [reduction + " (Table 3, Figure 2.)"], ["table:vas", "figure:vas"]),
        Section("Duration of relief", [f"{sentences['relief']} (Table 4, Figure 3.)"], ["table:relief", "figure:relief"]),
    ]
    if sentences["side_effects"]:
        sections.append(Section("Side effects", [sentences["side_effects"]]))
    if sentences["sensitivity"]:
        sections.append(Section("Sensitivity analysis", [sentences["sensitivity"]], ["table:sensitivity"]))
    return sections


def _cohort_value(cohort, counts, name: str) -> str:
    """A cohort count as printed, or a group's percentage (``‡`` when its count is hidden)."""
    if name.endswith("_percent"):
        group = f"n_{name.removesuffix('_percent')}"
        return counts.percent(group, getattr(cohort, group), getattr(cohort, name)) or COMPLEMENT
    return counts(name, getattr(cohort, name))


def _relief_values(facts: Facts) -> dict[str, Any]:
    """Table 4's numbers as printed: a withheld probability as ``n < N`` (fewer than N evaluable) or ``‡``."""
    relief, counts = facts.relief, facts.counts
    values: dict[str, Any] = {"n_recorded": counts(("relief", "n_recorded"), relief.n_recorded),
                              "n_censored": counts(("relief", "n_censored"), relief.n_censored),
                              "method": relief.method_description, "level": facts.relief_level}
    for o in relief.outcomes:
        x, n = (("relief", o.name, part) for part in ("x", "n"))
        values[o.name] = {"label": o.label, "rule": o.rule,
                          "x": counts(x, o.x) if counts.hides(x, o.x) else str(o.x),
                          "n": counts(n, o.n_evaluable) if counts.hides(n, o.n_evaluable) else str(o.n_evaluable),
                          "estimate": format_proportion(o.estimate),
                          "interval": format_proportion_interval(o.conf_low, o.conf_high)}
        mark = withheld_relief_mark(o, counts, facts.withheld)
        if mark is not None:
            values[o.name] |= {"estimate": mark, "interval": mark}
    return values


def _values(run: AnalysisRun, facts: Facts, title: TitleBlock, abstract: list[Section],
            conclusions: list[str], sentences: dict[str, str], clauses: dict[str, str]) -> dict[str, Any]:
    cohort, model, counts = facts.cohort, facts.sensitivity, facts.counts
    names = ("n_patients", "n_infusions", "n_infusions_excluded", "n_infusions_analyzed", "n_patients_analyzed",
             "n_index", "index_percent", "n_comparison", "comparison_percent", "n_index_analyzed", "n_comparison_analyzed")
    values: dict[str, Any] = {
        "study": {"title": title.title, "subtitle": title.subtitle, "date": title.date, "review_board": title.review_board,
                  "period": facts.period.text},
        "labels": {"index": facts.index_label, "comparison": facts.comparison_label, "level": facts.level,
                   "relief_level": facts.relief_level},
        "cohort": {name: _cohort_value(cohort, counts, name) for name in names},
        "vas": {key: vars(value) for key, value in facts.estimates.items()},
        "relief": _relief_values(facts),
        "narrative": sentences,
        "phrases": clauses,
        "text": {
            **{section.heading.lower(): " ".join(section.paragraphs) for section in abstract},
            "conclusions_full": " ".join(conclusions),
        },
    }
    if model is not None and not facts.withheld.groups:
        # The model's sizes as the cohort's counts (hidden or not) when it used them all.
        n_infusions, n_patients = model_sizes(model, cohort, counts)
        values["sensitivity"] = {
            "n_infusions": n_infusions, "n_patients": n_patients,
            "estimate": format_mean(model.index.estimate), "std_error": format_se(model.index.std_error),
            "conf_int": format_interval(model.index.conf_low, model.index.conf_high),
            "p_statement": format_p_statement(model.index.p_value),
        }
    return values
