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
  reduction (SE 0) says so, with no test; an empty group is named as empty
  (an empty index group beside diagnoses resembling it, as "CRPS type I" for
  ``crps``, as "no patient's diagnosis was recorded as" its label, naming the
  study.yml setting: a coding, not a clinical, fact).
* *Comparison group*: the abstract names the two most frequent specific
  diagnoses of the comparison group with their counts, and any tied with the
  second (a tie is never split by an invisible rule).
* *Premedication*: "all patients were pretreated with midazolam and
  ondansetron" only when every infusion records both and every patient had an
  analysed infusion; "every infusion reviewed was preceded by ..." when every
  infusion records both but some patient had none analysed; otherwise the counts.
* *Side effects*: "infrequent" when fewer than 20% of analysed infusions
  record any side effect, otherwise "common"; the most frequent is named.
* *Relief*: each threshold's probability with its interval (method and level
  from the configuration), and why fewer patients were evaluable than had a
  recorded duration (relief still ongoing at last contact).
* *Period*: month and year, from the configuration, or from the first and
  last infusion dates when none is configured (and the text says so).
* *Sensitivity analysis*: the mixed model's group effect follows the
  significance rule and is compared in significance with the patient-level test.
* *Small cells*: every count is stated through ``Facts.counts``
  (:class:`~.small_cells.Counts`), which prints it exactly or, under
  small-cell protection, as ``<N`` or "an undisclosed number" with a plural
  noun; each rule chooses its wording knowing whether a count is hidden (a
  hidden total is left out: "Across the analysed patients"), and a statistic
  that ``Facts.withheld`` withholds is said to be not shown, never printed.
"""

from __future__ import annotations

from ..contract import index_look_alikes
from ..results import Estimate
from .context import FormattedEstimate
from .facts import Facts, significant
from .formats import NBSP, format_series
from .outcomes import (
    conclusion_relief, relief_estimates, sensitivity_result, side_effects_conclusion, side_effects_result,
)

def _with_percent(f: Facts, name, n: int, percent: float | None) -> str:
    """``18 (37%)``; a hidden count without its percentage."""
    shown = f.counts.percent(name, n, percent)
    return f.counts.text(name, n) + (f" ({shown})" if shown else "")


# ------------------------------------------------------------------ cohort --

def _comparison_detail(f: Facts) -> str:
    """The comparison group's most frequent diagnoses (ties named whole), and how many had any other, so the list is complete."""
    c, counts = f.cohort, f.counts
    parts = [f"{counts.text(('diagnosis', label.lower()), count, words=True)} had {label}"
             for label, count in f.comparison_diagnoses]
    rest = c.n_comparison - sum(count for _, count in f.comparison_diagnoses)
    if parts and rest:
        said = counts.text("comparison_rest", rest, words=True)
        parts.append(f"{said} had {'another diagnosis' if said == 'one' else 'other diagnoses'}")
    return format_series(parts) if parts else ""


def _index_look_alikes(f: Facts) -> bool:
    """No patient is in the index group, but some have a diagnosis resembling it ("CRPS type I" for ``crps``)."""
    return f.cohort.n_index == 0 and bool(index_look_alikes(f.cohort.diagnoses, f.cohort.index_diagnosis))


def _no_index_recorded(f: Facts) -> str:
    """An empty index group beside look-alike diagnoses, as literally as the data allow: no diagnosis was recorded
    as the configured label.

    Not "no patient had CRPS": with the default ``crps`` a clinic's "CRPS type I" falls in the comparison
    group, and the report would deny a diagnosis it lists a sentence later.
    """
    return (f"No patient's diagnosis was recorded as {f.index_label}, the index diagnosis "
            f"(analysis.index_diagnosis: {f.cohort.index_diagnosis} in study.yml)")


def cohort_sentence(f: Facts) -> str:
    """Patients, infusions, exclusions and the two groups."""
    c, counts = f.cohort, f.counts
    k = c.n_patients_not_analyzed
    left = counts.text("n_patients_not_analyzed", k, "patient", words=True)
    if c.n_infusions_excluded == 0:
        # Nothing excluded: a patient without an analysed infusion has no infusion at all.
        exclusions = "No infusion was excluded for missing data" + (f"; {left} had no infusion recorded. " if k else ". ")
    else:
        exclusions = (f"We excluded {counts.text('n_infusions_excluded', c.n_infusions_excluded, 'infusion')} because "
                      "of missing data" + (f"; {left} had no analysed infusion. " if k else ". "))
    if c.n_index == 0:
        index = f"{_no_index_recorded(f)}." if _index_look_alikes(f) else f"No patient had a diagnosis of {f.index_name}."
    else:
        index = f"Among our patients, {_with_percent(f, 'n_index', c.n_index, c.index_percent)} had a diagnosis of {f.index_name}."
    detail = _comparison_detail(f)
    if c.n_comparison == 0:
        remaining = "No patient had another diagnosis."
    elif c.n_index == 0:
        remaining = f"All {counts.text('n_patients', c.n_patients, 'patient')} had other diagnoses" + (f": {detail}." if detail else ".")
    else:
        if counts.hides("n_comparison", c.n_comparison) and not counts.small(c.n_comparison):
            group = "Of the remaining patients, "  # "of the remaining an undisclosed number of patients" reads badly
        else:
            shown = counts.percent("n_comparison", c.n_comparison, c.comparison_percent)
            group = (f"Of the remaining {counts.text('n_comparison', c.n_comparison)}" + (f" ({shown})" if shown else "")
                     + f" patient{'' if c.n_comparison == 1 and not counts.hides('n_comparison', 1) else 's'}, ")
        remaining = group + (f"{detail}." if detail else "none had a more specific recorded diagnosis.")
    # "Undergoing" only when every patient had an infusion (every patient was analysed).
    joined = "undergoing" if k == 0 else "and"
    return (
        f"We identified {counts.text('n_patients', c.n_patients, 'patient')} {joined} "
        f"{counts.text('n_infusions', c.n_infusions, 'outpatient ketamine infusion')}. {exclusions}{index} {remaining}"
    )


def premedication(f: Facts) -> str:
    """What the records say of midazolam and ondansetron, over every infusion reviewed.

    "Recorded as given": a blank is not a "no", so the counts say what the
    records hold, and how many infusions have a record of both drugs says how complete they are.
    """
    c, counts = f.cohort, f.counts
    if c.all_premedicated:
        # "All patients" only when every patient had an analysed infusion: a patient without an infusion was not pretreated.
        if c.n_patients_not_analyzed == 0:
            return "All patients were pretreated with midazolam and ondansetron."
        return "Every infusion reviewed was preceded by midazolam and ondansetron."
    if c.n_infusions_midazolam == c.n_infusions_ondansetron == 0 and c.n_infusions_premedication_recorded == 0:
        return "Premedication with midazolam or ondansetron was not recorded."
    if counts.hides("n_infusions", c.n_infusions):
        reviewed = "of the infusions reviewed"
    else:
        reviewed = "of the one infusion reviewed" if c.n_infusions == 1 else f"of the {counts.text('n_infusions', c.n_infusions)} infusions reviewed"
    if c.n_infusions_midazolam == c.n_infusions_ondansetron == 0:
        given = f"Neither midazolam nor ondansetron was recorded as given before any {reviewed}"
    else:
        given = (
            f"Midazolam was recorded as given before {counts.text(('premedication', 'midazolam'), c.n_infusions_midazolam)} "
            f"and ondansetron before {counts.text(('premedication', 'ondansetron'), c.n_infusions_ondansetron)} {reviewed}"
        )
    complete = c.n_infusions_premedication_recorded
    if complete == c.n_infusions:
        return f"{given}."
    both = "none" if complete == 0 else counts.text(("premedication", "both"), complete)
    return f"{given}; {both} had a record of both drugs, given or not."


def data_reviewed(f: Facts) -> str:
    """The abstract's list of what was reviewed: only items the data hold."""
    r = f.recorded
    items = ["doses of intravenous ketamine", "infusion duration",
             "pain scores on a visual analogue scale (VAS) before and after each infusion"]
    items += [item for item, held in (("duration of pain relief", r.relief), ("previous interventions", r.previous_interventions),
                                      ("side effects", r.side_effects)) if held]
    return f"Data reviewed included {format_series(items)}."


def items_recorded(f: Facts) -> str:
    """The Methods' list of what was recorded per infusion and per patient: only items the data hold."""
    r = f.recorded
    infusion = ["date", "ketamine dose (mg)", "infusion duration (min)",
                "pain on a 10-cm visual analogue scale (VAS) before and after the infusion"]
    infusion += [item for item, held in (("premedication", r.premedication), ("side effects", r.side_effects)) if held]
    patient = ["diagnosis"] + [item for item, held in (
        ("sex", r.sex), ("age", r.age), ("previous interventions", r.previous_interventions),
        ("the duration of pain relief", r.relief)) if held]
    return f"For each infusion: {format_series(infusion)}. For each patient: {format_series(patient)}."


# ------------------------------------------------------------ VAS reduction --

def _ci_p(e: FormattedEstimate, level: str, withheld: bool) -> str:
    """``95% CI 4.5 to 6.9, P < 0.001``; without P when the test is withheld (it would give a hidden size)."""
    return f"{level} CI {e.conf_int}" + ("" if withheld else f", {e.p_statement}")


def _test_details(estimate: Estimate, formatted: FormattedEstimate, level: str, withheld: bool = False) -> str:
    """The parenthesis after a mean: SE, interval and P — or why there is no test, in words."""
    if estimate.std_error is None:
        return "(a single patient: no test)"
    if estimate.p_value is None:
        return ("(every patient's reduction is the same, no test)" if withheld else
                f"(SE {formatted.std_error}: every patient's reduction is the same, no test)")
    if withheld:
        return f"({_ci_p(formatted, level, True)})"
    return f"(SE {formatted.std_error}, {_ci_p(formatted, level, False)})"


def _not_shown(f: Facts) -> str:
    return f"not shown (fewer than {f.counts.threshold} patients)"


def overall_reduction(f: Facts) -> str:
    """The reduction over all analysed patients, with how many improved.

    The paper's "All patients reported a significant reduction" only when literally true.
    """
    c, overall, e, counts = f.cohort, f.vas.overall, f.estimates["overall"], f.counts
    n = overall.n
    improved = f.vas.n_patients_improved
    if "overall" in f.withheld.few:
        return f"The mean reduction in VAS score is {_not_shown(f)}."
    if n == 1:
        return (
            f"Only one patient had an analysed infusion; that patient's mean reduction in VAS score was "
            f"{e.estimate}{NBSP}cm (a single patient: no test)."
        )
    withheld = "overall" in f.withheld.tests
    total_hidden = counts.hides("n_patients_analyzed", n)
    if significant(overall, f.alpha) and overall.estimate > 0 and improved == n:
        who = ("All patients" if c.n_patients_not_analyzed == 0 else
               "All analysed patients" if total_hidden else f"All {counts.text('n_patients_analyzed', n)} analysed patients")
        details = f"({_ci_p(e, f.level, True)})" if withheld else f"(standard error [SE] {e.std_error}, {_ci_p(e, f.level, False)})"
        return f"{who} reported a significant reduction in VAS score of {e.estimate}{NBSP}cm {details}."
    if overall.p_value is None:
        verdict = ""
    else:
        verdict = ", statistically significant" if significant(overall, f.alpha) else ", not statistically significant"
    details = _test_details(overall, e, f.level, withheld).replace("(SE", "(standard error [SE]", 1)
    across = "Across the analysed patients" if total_hidden else f"Across the {counts.text('n_patients_analyzed', n)} analysed patients"
    k = counts.text("n_patients_improved", improved)
    if total_hidden:
        how_many = f"{k} of them had a lower mean VAS after infusion"
    elif counts.hides("n_patients_improved", improved):
        how_many = f"{k} of the {counts.text('n_patients_analyzed', n)} patients had a lower mean VAS after infusion"
    else:
        how_many = f"{k} of {counts.text('n_patients_analyzed', n)} patients had a lower mean VAS after infusion"
    return f"{across}, the mean reduction in VAS score was {e.estimate}{NBSP}cm {details}{verdict}; {how_many}."


def group_reductions(f: Facts) -> str:
    """The reduction in each group, or that a group has no analysed patient (or too few to show its mean)."""
    parts = []
    for key, estimate, opening in (
        ("index", f.vas.index, f"For patients with {f.index_label}, the reduction in VAS score was"),
        ("comparison", f.vas.comparison, "for the others, the reduction was"),
    ):
        if estimate.estimate is None:
            parts.append(
                ("n" + _no_index_recorded(f)[1:] if _index_look_alikes(f) else f"no analysed patient had {f.index_label}")
                if key == "index" else "no analysed patient had another diagnosis"
            )
        elif key in f.withheld.few:
            parts.append(opening.replace(" was", " is") + f" {_not_shown(f)}")
        else:
            details = _test_details(estimate, f.estimates[key], f.level, key in f.withheld.tests)
            parts.append(f"{opening} {f.estimates[key].estimate}{NBSP}cm {details}")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def group_difference(f: Facts) -> str:
    """The index-minus-comparison difference: estimate, CI and P, significant or not."""
    difference, e = f.vas.difference, f.estimates["difference"]
    index, comparison = f.vas.index, f.vas.comparison
    if difference.estimate is None:
        return "The groups could not be compared: one of them has no analysed patient."
    if "difference" in f.withheld.few:
        return f"The difference between the groups is not shown: a group has fewer than {f.counts.threshold} patients."
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
    withheld = "difference" in f.withheld.tests
    se = "" if withheld else f"SE {e.std_error}, "
    if significant(difference, f.alpha):
        return (
            f"The difference of {e.estimate}{NBSP}cm between groups was statistically significant "
            f"({se}{_ci_p(e, f.level, withheld)})."
        )
    return (
        f"The difference between groups was {e.estimate}{NBSP}cm ({se}{_ci_p(e, f.level, withheld)}), "
        "not statistically significant."
    )


# -------------------------------------------------------------- conclusions --

def conclusion_reduction(f: Facts) -> str:
    overall, e = f.vas.overall, f.estimates["overall"]
    if "overall" in f.withheld.few:
        return ""
    withheld = "overall" in f.withheld.tests
    if overall.p_value is None:
        return "The change in VAS pain scores after ketamine infusions could not be tested in these data."
    if significant(overall, f.alpha) and overall.estimate > 0:
        population = "of multiple aetiologies" if f.n_diagnoses > 1 else "of one aetiology"
        p = "" if withheld else f", {e.p_statement}"
        return (
            f"In patients with severe refractory pain {population}, subanaesthetic ketamine infusions were followed by "
            f"a reduction in VAS pain scores ({e.estimate}{NBSP}cm on average{p})."
        )
    if significant(overall, f.alpha):
        return (
            f"VAS pain scores were higher after ketamine infusions than before (mean reduction {e.estimate}{NBSP}cm, "
            f"{_ci_p(e, f.level, withheld)})."
        )
    return (
        f"The mean reduction in VAS pain scores after ketamine infusions ({e.estimate}{NBSP}cm, "
        f"{_ci_p(e, f.level, withheld)}) was not statistically significant."
    )


def conclusion_difference(f: Facts) -> str:
    difference, e = f.vas.difference, f.estimates["difference"]
    if f.vas.index.n == 0:
        who = _no_index_recorded(f) if _index_look_alikes(f) else f"No analysed patient had {f.index_label}"
        return f"{who}, so the groups could not be compared."
    if f.vas.comparison.n == 0:
        return "No analysed patient had another diagnosis, so the groups could not be compared."
    if "difference" in f.withheld.few:
        return ""
    if difference.p_value is None:
        # The mixed model of the sensitivity analysis may still test the groups: then only the patient-level test failed.
        tested = f.sensitivity is not None and f.sensitivity.index.p_value is not None
        by = "by the patient-level test" if tested else "by a test"
        return f"Patients with {f.index_label} could not be compared with patients with other diagnoses {by}."
    withheld = "difference" in f.withheld.tests
    if significant(difference, f.alpha):
        direction = "larger" if difference.estimate > 0 else "smaller"
        return (
            f"The reduction was {direction} in patients with {f.index_label} than in patients with other diagnoses "
            f"(difference {e.estimate}{NBSP}cm, {_ci_p(e, f.level, withheld)})."
        )
    return (
        f"The difference in reduction between patients with {f.index_label} and patients with other diagnoses "
        f"({e.estimate}{NBSP}cm, {_ci_p(e, f.level, withheld)}) was not statistically significant."
    )


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
