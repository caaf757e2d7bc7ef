"""The generated prose on outcomes other than the VAS reduction: relief, side effects, the sensitivity analysis.

The rules are those of :mod:`.narrative` (its docstring states them); every count goes through ``Facts.counts``.
"""

from __future__ import annotations

from ..contract import RELIEF_METHODS
from ..results import ReliefOutcome
from .facts import Facts, significant
from .formats import (
    NBSP, format_interval, format_mean, format_p_statement, format_percent, format_proportion, format_proportion_interval,
    format_se, format_series, no_break,
)

SIDE_EFFECTS_INFREQUENT_BELOW = 20.0
"""Percent of analysed infusions below which side effects are called infrequent."""


# ------------------------------------------------------------------- relief --

def _short_of(outcome: ReliefOutcome) -> str:
    """How a censored duration falls short of a threshold: ``after fewer than 7 days``, ``after 21 days or fewer``."""
    days = f"{outcome.days:g}{NBSP}days"
    return f"after fewer than {days}" if outcome.inclusive else f"after {days} or fewer"


def _not_evaluable(f: Facts) -> str:
    """Why fewer patients are evaluable than have a recorded duration: relief still ongoing at last contact.

    A censored duration short of a threshold is short of every higher one, so the patients not
    evaluable for one threshold are among those not evaluable for the next: equal counts are the same patients.
    """
    relief, counts = f.relief, f.counts
    counts_by_outcome = [outcome.n_censored_not_evaluable for outcome in relief.outcomes]
    if not any(counts_by_outcome):
        return ""
    if len(set(counts_by_outcome)) == 1:
        k, first = counts_by_outcome[0], relief.outcomes[0]
        names = [("relief", o.name, "not_evaluable") for o in relief.outcomes]
        name = next((n for n in names if n in counts.decided), names[0])
        who = counts.text(name, k, "patient", words=True, start=True)
        hidden = counts.hides(name, k) or counts.hides(("relief", first.name, "n"), first.n_evaluable)
        leaving = "the others evaluable" if hidden else counts.text(("relief", first.name, "n"), first.n_evaluable, "evaluable patient")
        return (
            f" {who}, whose relief was still ongoing at last contact {_short_of(first)}, could not be evaluated, "
            f"leaving {leaving}."
        )
    parts = [
        f"{counts.text(('relief', o.name, 'not_evaluable'), o.n_censored_not_evaluable, words=True)} for "
        f"{o.label.lower()} ({counts.text(('relief', o.name, 'n'), o.n_evaluable)} evaluable)"
        for o in relief.outcomes if o.n_censored_not_evaluable
    ]
    return (
        " Patients whose relief was still ongoing at last contact could not be evaluated for a threshold their "
        "recorded duration had not yet reached: " + " and ".join(parts) + "."
    )


def _relief_estimate(f: Facts, outcome: ReliefOutcome, first: bool) -> str:
    head = f"{outcome.label.lower()} ({no_break(outcome.rule)}) {'was ' if first else ''}"
    if outcome.n_evaluable == 0:
        return head + "not estimable (no evaluable patient)"
    if outcome.name in f.withheld.relief:
        if f.counts.small(outcome.n_evaluable):
            return head + f"not shown (fewer than {f.counts.threshold} evaluable patients)"
        # Its successes are few, or its evaluable count would give back the few not evaluable.
        return head + f"not shown (it would give away a count below {f.counts.threshold})"
    return (
        f"{head}{format_proportion(outcome.estimate)} ({f.relief_level} interval "
        f"{format_proportion_interval(outcome.conf_low, outcome.conf_high)}; "
        f"{f.counts.text(('relief', outcome.name, 'x'), outcome.x)} of "
        f"{f.counts.text(('relief', outcome.name, 'n'), outcome.n_evaluable, 'evaluable patient')})"
    )


def relief_estimates(f: Facts) -> str:
    """How many durations were recorded, who was not evaluable, and each threshold's probability."""
    relief = f.relief
    if relief.n_recorded == 0:
        return "The duration of pain relief was not recorded for any patient, so the probability of lasting relief could not be estimated."
    method = RELIEF_METHODS[relief.method].phrase
    recorded = (f"In {f.counts.text(('relief', 'n_recorded'), relief.n_recorded, 'patient')}, we recorded the duration "
                f"of pain relief.{_not_evaluable(f)}")
    if all(o.name in f.withheld.relief for o in relief.outcomes):
        # Small-cell protection withholds every probability: one statement, with the reason.
        few = all(f.counts.small(o.n_evaluable) for o in relief.outcomes)
        reason = (f"fewer than {f.counts.threshold} patients were evaluable" if few
                  else f"they would give away a count below {f.counts.threshold}")
        labels = [f"{o.label.lower()} ({no_break(o.rule)})" for o in relief.outcomes]
        return f"{recorded} The estimated probabilities of {format_series(labels)} are not shown: {reason}."
    parts = [_relief_estimate(f, outcome, position == 0) for position, outcome in enumerate(relief.outcomes)]
    return f"{recorded} Using {method}, the estimated probability of " + " and of ".join(parts) + "."


# ------------------------------------------------------------- side effects --

def _infusions_with_side_effects(f: Facts) -> str | None:
    """``25% of analysed infusions``, or the count as hidden (``<5 analysed infusions``); None when not hidden."""
    s = f.side_effects
    if f.counts.hides(("side_effects", "any"), s.n):
        return f.counts.text(("side_effects", "any"), s.n, "analysed infusion")
    return None


def side_effects_result(f: Facts) -> str:
    """The results sentence on side effects (empty when none was recorded)."""
    s = f.side_effects
    if not s.percent:
        return ""
    tied = len(s.most_frequent) > 1
    most = f"; the most frequent {'were' if tied else 'was'} {format_series(list(s.most_frequent))}" if s.most_frequent else ""
    share = _infusions_with_side_effects(f) or f"{format_percent(s.percent)} of analysed infusions"
    return f"At least one side effect was recorded after {share}{most} (Table 2)."


def side_effects_conclusion(f: Facts) -> str:
    s = f.side_effects
    if s.percent is None:
        return ""
    if not f.cohort.side_effects_recorded:
        # No entry at all: the column is absent or blank throughout; both read "none" (docs/data-dictionary.md).
        return "No side effect was recorded for any infusion."
    if s.percent == 0:
        return "No side effect was recorded."
    most = f", most often {format_series(list(s.most_frequent))}" if s.most_frequent else ""
    hidden = _infusions_with_side_effects(f)
    if hidden:
        # "Common" or "infrequent" would bound a hidden count: the sentence says only what is printed.
        return f"Side effects were recorded after {hidden}{most}."
    frequency = "infrequent" if s.percent < SIDE_EFFECTS_INFREQUENT_BELOW else "common"
    return f"Side effects were {frequency}: {format_percent(s.percent)} of analysed infusions recorded at least one{most}."


# -------------------------------------------------------------- sensitivity --

def sensitivity_result(f: Facts) -> str:
    """The mixed model's group effect by the significance rule, and whether it agrees with the patient-level test."""
    model, difference, counts = f.sensitivity, f.vas.difference, f.counts
    # The analysed infusions as the cohort's count (hidden or not) when the model used them all.
    infusions_hidden = model.n_infusions == f.cohort.n_infusions_analyzed and counts.hides("n_infusions_analyzed", model.n_infusions)
    if f.withheld.groups:
        analysed = "" if infusions_hidden else f" ({counts.text('model_infusions', model.n_infusions, 'infusion')} analysed)"
        return f"The mixed model's group effect is not shown: a group has fewer than {counts.threshold} patients{analysed}."
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
    infusions = "the infusions" if infusions_hidden else f"the {counts.text('model_infusions', model.n_infusions)} infusions"
    return (
        f"Analysing {infusions} individually with a random intercept per patient "
        f"gave a difference between groups of {details}, {agreement} (Table 5).{boundary}"
    )


def conclusion_relief(f: Facts) -> str:
    """The probabilities printed (an outcome withheld by small-cell protection is left out)."""
    outcomes = [o for o in f.relief.outcomes if o.n_evaluable and o.name not in f.withheld.relief]
    if not outcomes:
        return ""
    parts = [
        f"{format_proportion(o.estimate)} ({format_proportion_interval(o.conf_low, o.conf_high)}) for relief {no_break(o.rule)}"
        for o in outcomes
    ]
    return "The estimated probability of lasting relief was " + " and ".join(parts) + "."
