"""The generated prose: one small function per reporting rule.

Each rule reads a :class:`Facts` — the results, the options and their
formatted numbers — and returns one sentence that is true for the data. The
rules are stated here, beside the code that applies them, and in the
report's Methods and docs/methods.md ("Reporting rules"):

* *Significance*: an effect is called statistically significant only when its
  two-sided P is below alpha = 1 − the confidence level (0.05 by default).
  Every comparison, significant or not, is given with its estimate,
  confidence interval and P; a non-significant one is called "not
  statistically significant", never "no evidence" or "no difference".
* *All patients*: the paper's "all patients reported a significant
  reduction" appears only when every analysed patient's mean VAS fell, every
  patient was analysed and the reduction is significant; otherwise the mean
  is reported with how many patients improved ("k of n patients had a lower
  mean VAS after infusion").
* *Direction*: a significant group difference is described as larger or
  smaller in the index group by its sign.
* *Untestable groups*: a group of one patient is reported by its mean, "a
  single patient: no test"; a group whose patients all have the same
  reduction (SE 0) says so, with no test; an empty group is named as empty.
* *Comparison group*: the abstract names the two most frequent specific
  diagnoses of the comparison group with their counts.
* *Premedication*: "all patients were pretreated with midazolam and
  ondansetron" only when every infusion records both; otherwise the counts.
* *Side effects*: "infrequent" when fewer than 20% of analysed infusions
  record any side effect, otherwise "common"; the most frequent is named.
* *Relief*: each threshold's probability with its interval (method and level
  from the configuration), and why fewer patients were evaluable than had a
  recorded duration (relief still ongoing at last contact).
* *Period*: month and year, from the configuration, or from the first and
  last infusion dates when none is configured (and the text says so).
* *Sensitivity analysis*: the mixed model's group effect follows the
  significance rule and is compared in significance with the patient-level test.
"""

from __future__ import annotations

from ..contract import RELIEF_METHODS
from ..results import Estimate, ReliefOutcome, ReliefSummary
from .context import FormattedEstimate
from .facts import Facts, significant
from .formats import (
    NBSP, count_words, format_count, format_interval, format_mean, format_p_statement, format_percent,
    format_proportion, format_proportion_interval, format_se, no_break, plural,
)

SIDE_EFFECTS_INFREQUENT_BELOW = 20.0
"""Percent of analysed infusions below which side effects are called infrequent."""


def _patients(n: int) -> str:
    return f"patient{'' if n == 1 else 's'}"


# ------------------------------------------------------------------ cohort --

def cohort_sentence(f: Facts) -> str:
    """Patients, infusions, exclusions and the two groups."""
    c = f.cohort
    k = c.n_patients_not_analyzed
    if c.n_infusions_excluded == 0:
        # Nothing excluded: a patient without an analysed infusion has no infusion at all.
        exclusions = "No infusion was excluded for missing data" + (
            f"; {count_words(k)} {_patients(k)} had no infusion recorded. " if k else ". ")
    else:
        exclusions = f"We excluded {plural(c.n_infusions_excluded, 'infusion')} because of missing data" + (
            f"; {count_words(k)} {_patients(k)} had no analysed infusion. " if k else ". ")
    if c.n_index == 0:
        index = f"No patient had a diagnosis of {f.index_name}."
    else:
        index = f"Among our patients, {format_count(c.n_index)} ({format_percent(c.index_percent)}) had a diagnosis of {f.index_name}."
    # The two most frequent diagnoses, and how many had any other, so the list is complete.
    parts = [f"{count_words(count)} had {label}" for label, count in f.comparison_diagnoses]
    rest = c.n_comparison - sum(count for _, count in f.comparison_diagnoses)
    if parts and rest:
        parts.append(f"{count_words(rest)} had {'another diagnosis' if rest == 1 else 'other diagnoses'}")
    detail = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
    if c.n_comparison == 0:
        remaining = "No patient had another diagnosis."
    elif c.n_index == 0:
        remaining = f"All {plural(c.n_comparison, 'patient')} had other diagnoses" + (f": {detail}." if detail else ".")
    else:
        remaining = (
            f"Of the remaining {format_count(c.n_comparison)} ({format_percent(c.comparison_percent)}) "
            f"{_patients(c.n_comparison)}, " + (f"{detail}." if detail else "none had a more specific recorded diagnosis.")
        )
    # "Undergoing" only when every patient had an infusion (every patient was analysed).
    joined = "undergoing" if k == 0 else "and"
    return (
        f"We identified {plural(c.n_patients, 'patient')} {joined} "
        f"{plural(c.n_infusions, 'outpatient ketamine infusion')}. {exclusions}{index} {remaining}"
    )


def premedication(f: Facts) -> str:
    """What the records say of midazolam and ondansetron, over every infusion reviewed.

    "Recorded as given": a blank is not a "no", so the counts say what the
    records hold, and how many infusions have a record of both drugs says how complete they are.
    """
    c = f.cohort
    if c.all_premedicated:
        return "All patients were pretreated with midazolam and ondansetron."
    if c.n_infusions_midazolam == c.n_infusions_ondansetron == 0 and c.n_infusions_premedication_recorded == 0:
        return "Premedication with midazolam or ondansetron was not recorded."
    reviewed = "of the one infusion reviewed" if c.n_infusions == 1 else f"of the {format_count(c.n_infusions)} infusions reviewed"
    if c.n_infusions_midazolam == c.n_infusions_ondansetron == 0:
        given = f"Neither midazolam nor ondansetron was recorded as given before any {reviewed}"
    else:
        given = (
            f"Midazolam was recorded as given before {format_count(c.n_infusions_midazolam)} and ondansetron before "
            f"{format_count(c.n_infusions_ondansetron)} {reviewed}"
        )
    complete = c.n_infusions_premedication_recorded
    if complete == c.n_infusions:
        return f"{given}."
    return f"{given}; {'none' if complete == 0 else format_count(complete)} had a record of both drugs, given or not."


def _series(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def data_reviewed(f: Facts) -> str:
    """The abstract's list of what was reviewed: only items the data hold."""
    r = f.recorded
    items = ["doses of intravenous ketamine", "infusion duration",
             "pain scores on a visual analogue scale (VAS) before and after each infusion"]
    items += [item for item, held in (("duration of pain relief", r.relief), ("previous interventions", r.previous_interventions),
                                      ("side effects", r.side_effects)) if held]
    return f"Data reviewed included {_series(items)}."


def items_recorded(f: Facts) -> str:
    """The Methods' list of what was recorded per infusion and per patient: only items the data hold."""
    r = f.recorded
    infusion = ["date", "ketamine dose (mg)", "infusion duration (min)",
                "pain on a 10-cm visual analogue scale (VAS) before and after the infusion"]
    infusion += [item for item, held in (("premedication", r.premedication), ("side effects", r.side_effects)) if held]
    patient = ["diagnosis"] + [item for item, held in (
        ("sex", r.sex), ("age", r.age), ("previous interventions", r.previous_interventions),
        ("the duration of pain relief", r.relief)) if held]
    return f"For each infusion: {_series(infusion)}. For each patient: {_series(patient)}."


# ------------------------------------------------------------ VAS reduction --

def _test_details(estimate: Estimate, formatted: FormattedEstimate, level: str) -> str:
    """The parenthesis after a mean: SE, interval and P — or why there is no test, in words."""
    if estimate.std_error is None:
        return "(a single patient: no test)"
    if estimate.p_value is None:
        return f"(SE {formatted.std_error}: every patient's reduction is the same, no test)"
    return f"(SE {formatted.std_error}, {level} CI {formatted.conf_int}, {formatted.p_statement})"


def overall_reduction(f: Facts) -> str:
    """The reduction over all analysed patients, with how many improved.

    The paper's "All patients reported a significant reduction" only when literally true.
    """
    c, overall, e = f.cohort, f.vas.overall, f.estimates["overall"]
    n = overall.n
    improved = f.vas.n_patients_improved
    if n == 1:
        return (
            f"Only one patient had an analysed infusion; that patient's mean reduction in VAS score was "
            f"{e.estimate}{NBSP}cm (a single patient: no test)."
        )
    if significant(overall, f.alpha) and overall.estimate > 0 and improved == n:
        who = "All patients" if c.n_patients_not_analyzed == 0 else f"All {format_count(n)} analysed patients"
        return (
            f"{who} reported a significant reduction in VAS score of {e.estimate}{NBSP}cm "
            f"(standard error [SE] {e.std_error}, {f.level} CI {e.conf_int}, {e.p_statement})."
        )
    if overall.p_value is None:
        verdict = ""
    else:
        verdict = ", statistically significant" if significant(overall, f.alpha) else ", not statistically significant"
    details = _test_details(overall, e, f.level).replace("(SE", "(standard error [SE]", 1)
    return (
        f"Across the {format_count(n)} analysed patients, the mean reduction in VAS score was {e.estimate}{NBSP}cm "
        f"{details}{verdict}; {format_count(improved)} of {format_count(n)} patients had a lower mean VAS after infusion."
    )


def group_reductions(f: Facts) -> str:
    """The reduction in each group, or that a group has no analysed patient."""
    parts = []
    for key, estimate, opening in (
        ("index", f.vas.index, f"For patients with {f.index_label}, the reduction in VAS score was"),
        ("comparison", f.vas.comparison, "for the others, the reduction was"),
    ):
        if estimate.estimate is None:
            parts.append(
                f"no analysed patient had {f.index_label}" if key == "index" else "no analysed patient had another diagnosis"
            )
        else:
            parts.append(f"{opening} {f.estimates[key].estimate}{NBSP}cm {_test_details(estimate, f.estimates[key], f.level)}")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def group_difference(f: Facts) -> str:
    """The index-minus-comparison difference: estimate, CI and P, significant or not."""
    difference, e = f.vas.difference, f.estimates["difference"]
    index, comparison = f.vas.index, f.vas.comparison
    if difference.estimate is None:
        return "The groups could not be compared: one of them has no analysed patient."
    if difference.p_value is None:
        if min(index.n, comparison.n) < 2:
            return (
                f"The difference between groups was {e.estimate}{NBSP}cm; with a single patient in a group it "
                "could not be tested."
            )
        return (
            f"The difference between groups was {e.estimate}{NBSP}cm; within each group every patient's "
            "reduction is the same, so it could not be tested."
        )
    if significant(difference, f.alpha):
        return (
            f"The difference of {e.estimate}{NBSP}cm between groups was statistically significant "
            f"(SE {e.std_error}, {f.level} CI {e.conf_int}, {e.p_statement})."
        )
    return (
        f"The difference between groups was {e.estimate}{NBSP}cm (SE {e.std_error}, {f.level} CI {e.conf_int}, "
        f"{e.p_statement}), not statistically significant."
    )


# ------------------------------------------------------------------- relief --

def _short_of(outcome: ReliefOutcome) -> str:
    """How a censored duration falls short of a threshold: ``after fewer than 7 days``, ``after 21 days or fewer``."""
    days = f"{outcome.days:g}{NBSP}days"
    return f"after fewer than {days}" if outcome.inclusive else f"after {days} or fewer"


def _not_evaluable(relief: ReliefSummary) -> str:
    """Why fewer patients are evaluable than have a recorded duration: relief still ongoing at last contact.

    A censored duration short of a threshold is short of every higher one, so the patients not
    evaluable for one threshold are among those not evaluable for the next: equal counts are the same patients.
    """
    counts = [outcome.n_censored_not_evaluable for outcome in relief.outcomes]
    if not any(counts):
        return ""
    if len(set(counts)) == 1:
        k, first = counts[0], relief.outcomes[0]
        who = "One patient, whose relief was" if k == 1 else f"{count_words(k).capitalize()} patients, whose relief was"
        return (
            f" {who} still ongoing at last contact {_short_of(first)}, could not be evaluated, leaving "
            f"{plural(relief.n_recorded - k, 'evaluable patient')}."
        )
    parts = [
        f"{count_words(o.n_censored_not_evaluable)} for {o.label.lower()} ({format_count(o.n_evaluable)} evaluable)"
        for o in relief.outcomes if o.n_censored_not_evaluable
    ]
    return (
        " Patients whose relief was still ongoing at last contact could not be evaluated for a threshold their "
        "recorded duration had not yet reached: " + " and ".join(parts) + "."
    )


def _relief_estimate(outcome: ReliefOutcome, relief_level: str, first: bool) -> str:
    head = f"{outcome.label.lower()} ({no_break(outcome.rule)}) {'was ' if first else ''}"
    if outcome.n_evaluable == 0:
        return head + "not estimable (no evaluable patient)"
    return (
        f"{head}{format_proportion(outcome.estimate)} ({relief_level} interval "
        f"{format_proportion_interval(outcome.conf_low, outcome.conf_high)}; {outcome.x} of {outcome.n_evaluable} "
        f"evaluable {_patients(outcome.n_evaluable)})"
    )


def relief_estimates(f: Facts) -> str:
    """How many durations were recorded, who was not evaluable, and each threshold's probability."""
    relief = f.relief
    if relief.n_recorded == 0:
        return "The duration of pain relief was not recorded for any patient, so the probability of lasting relief could not be estimated."
    method = RELIEF_METHODS[relief.method].phrase
    parts = [_relief_estimate(outcome, f.relief_level, position == 0) for position, outcome in enumerate(relief.outcomes)]
    return (
        f"In {plural(relief.n_recorded, 'patient')}, we recorded the duration of pain relief.{_not_evaluable(relief)} "
        f"Using {method}, the estimated probability of " + " and of ".join(parts) + "."
    )


# ------------------------------------------------------------- side effects --

def side_effects_result(f: Facts) -> str:
    """The results sentence on side effects (empty when none was recorded)."""
    s = f.side_effects
    if not s.percent:
        return ""
    tied = len(s.most_frequent) > 1
    most = f"; the most frequent {'were' if tied else 'was'} {_series(list(s.most_frequent))}" if s.most_frequent else ""
    return f"At least one side effect was recorded after {format_percent(s.percent)} of analysed infusions{most} (Table 2)."


def side_effects_conclusion(f: Facts) -> str:
    s = f.side_effects
    if s.percent is None:
        return ""
    if not f.cohort.side_effects_recorded:
        # No entry at all: the column is absent or blank throughout; both read "none" (docs/data-dictionary.md).
        return "No side effect was recorded for any infusion."
    if s.percent == 0:
        return "No side effect was recorded."
    frequency = "infrequent" if s.percent < SIDE_EFFECTS_INFREQUENT_BELOW else "common"
    most = f", most often {_series(list(s.most_frequent))}" if s.most_frequent else ""
    return f"Side effects were {frequency}: {format_percent(s.percent)} of analysed infusions recorded at least one{most}."


# -------------------------------------------------------------- sensitivity --

def sensitivity_result(f: Facts) -> str:
    """The mixed model's group effect by the significance rule, and whether it agrees with the patient-level test."""
    model, difference = f.sensitivity, f.vas.difference
    effect = model.index
    details = (
        f"{format_mean(effect.estimate)}{NBSP}cm (SE {format_se(effect.std_error)}, {f.level} CI "
        f"{format_interval(effect.conf_low, effect.conf_high)}, {format_p_statement(effect.p_value)})"
    )
    model_significant = significant(effect, f.alpha)
    verdict = "statistically significant" if model_significant else "not statistically significant"
    if difference.p_value is None:
        agreement = f"{verdict}; the patient-level comparison could not be tested"
    elif model_significant == significant(difference, f.alpha):
        agreement = f"{verdict} as in the patient-level analysis"
    else:
        patient_level = "statistically significant" if significant(difference, f.alpha) else "not statistically significant"
        agreement = f"{verdict}, unlike the patient-level analysis (there {patient_level})"
    boundary = (
        " The between-patient variance was estimated at zero (a boundary fit, which lme4 reports as singular): "
        "the model then treats the infusions as independent."
        if model.variance_patient == 0 else ""
    )
    return (
        f"Analysing the {format_count(model.n_infusions)} infusions individually with a random intercept per patient "
        f"gave a difference between groups of {details}, {agreement} (Table 5).{boundary}"
    )


# -------------------------------------------------------------- conclusions --

def conclusion_reduction(f: Facts) -> str:
    overall, e = f.vas.overall, f.estimates["overall"]
    if overall.p_value is None:
        return "The change in VAS pain scores after ketamine infusions could not be tested in these data."
    if significant(overall, f.alpha) and overall.estimate > 0:
        population = "of multiple aetiologies" if f.n_diagnoses > 1 else "of one aetiology"
        return (
            f"In patients with severe refractory pain {population}, subanaesthetic ketamine infusions were followed by "
            f"a reduction in VAS pain scores ({e.estimate}{NBSP}cm on average, {e.p_statement})."
        )
    if significant(overall, f.alpha):
        return (
            f"VAS pain scores were higher after ketamine infusions than before (mean reduction {e.estimate}{NBSP}cm, "
            f"{f.level} CI {e.conf_int}, {e.p_statement})."
        )
    return (
        f"The mean reduction in VAS pain scores after ketamine infusions ({e.estimate}{NBSP}cm, {f.level} CI "
        f"{e.conf_int}, {e.p_statement}) was not statistically significant."
    )


def conclusion_difference(f: Facts) -> str:
    difference, e = f.vas.difference, f.estimates["difference"]
    if f.vas.index.n == 0:
        return f"No analysed patient had {f.index_label}, so the groups could not be compared."
    if f.vas.comparison.n == 0:
        return "No analysed patient had another diagnosis, so the groups could not be compared."
    if difference.p_value is None:
        return f"Patients with {f.index_label} could not be compared with patients with other diagnoses by a test."
    if significant(difference, f.alpha):
        direction = "larger" if difference.estimate > 0 else "smaller"
        return (
            f"The reduction was {direction} in patients with {f.index_label} than in patients with other diagnoses "
            f"(difference {e.estimate}{NBSP}cm, {f.level} CI {e.conf_int}, {e.p_statement})."
        )
    return (
        f"The difference in reduction between patients with {f.index_label} and patients with other diagnoses "
        f"({e.estimate}{NBSP}cm, {f.level} CI {e.conf_int}, {e.p_statement}) was not statistically significant."
    )


def conclusion_relief(f: Facts) -> str:
    outcomes = [o for o in f.relief.outcomes if o.n_evaluable]
    if not outcomes:
        return ""
    parts = [
        f"{format_proportion(o.estimate)} ({format_proportion_interval(o.conf_low, o.conf_high)}) for relief {no_break(o.rule)}"
        for o in outcomes
    ]
    return "The estimated probability of lasting relief was " + " and ".join(parts) + "."


def conclusions(f: Facts) -> list[str]:
    sentences = (conclusion_reduction(f), conclusion_difference(f), conclusion_relief(f), side_effects_conclusion(f))
    return [" ".join(sentence for sentence in sentences if sentence)]


def sentences(f: Facts) -> dict[str, str]:
    """Every result-dependent sentence by rule name (Quarto's ``narrative.*`` variables)."""
    return {
        "cohort": cohort_sentence(f),
        "data_reviewed": data_reviewed(f),
        "items_recorded": items_recorded(f),
        "premedication": premedication(f),
        "overall_reduction": overall_reduction(f),
        "group_reductions": group_reductions(f),
        "group_difference": group_difference(f),
        "relief": relief_estimates(f),
        "side_effects": side_effects_result(f),
        "sensitivity": sensitivity_result(f) if f.sensitivity is not None else "",
        "conclusion_reduction": conclusion_reduction(f),
        "conclusion_difference": conclusion_difference(f),
        "conclusion_relief": conclusion_relief(f),
        "conclusion_side_effects": side_effects_conclusion(f),
    }
