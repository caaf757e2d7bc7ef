"""The figures' captions and descriptions, from the facts: their counts and means as the figures print them
(small-cell protection: ``facts.counts`` and ``facts.withheld``, the same decisions the figures draw from)."""

from __future__ import annotations

from ..results import Estimate
from .context import FIGURE_FILES, SUPPRESSED_VAS_BAND_CM, VAS_BAND_CM, Figure
from .facts import Facts
from .formats import format_count, format_proportion, format_proportion_interval, format_series


def _group_alt(facts: Facts, key: str, label: str, estimate: Estimate) -> str:
    if estimate.estimate is None:
        return f"no analysed patient with {label}"
    if key in facts.withheld.few:
        return f"{label}: fewer than {facts.counts.threshold} patients, not shown"
    formatted = facts.estimates[key]
    interval = f" ({facts.level} CI {formatted.conf_int})" if estimate.conf_low is not None else ""
    return f"{label} mean {formatted.estimate} cm{interval}"


def _flow_alt(facts: Facts) -> str:
    """Figure 1's description, its counts as the figure prints them (``facts.counts``: exact, ``<N`` or ``‡``)."""
    cohort, count = facts.cohort, facts.counts

    def counted(name: str, noun: str) -> str:
        return count(name, getattr(cohort, name), noun)

    identified = (f"{counted('n_patients', 'patient')} and {counted('n_infusions', 'infusion')} identified; "
                  f"{counted('n_patients_without_infusions', 'patient')} with no infusion recorded; "
                  if cohort.n_patients_without_infusions else
                  f"{counted('n_infusions', 'infusion')} in {counted('n_patients', 'patient')} identified; ")
    excluded = (f"{counted('n_infusions_excluded', 'infusion')} excluded for missing data" if cohort.n_infusions_excluded
                else "no infusion excluded for missing data")
    left = (f" ({counted('n_patients_lost_to_exclusions', 'patient')} left with no analysed infusion); "
            if cohort.n_patients_lost_to_exclusions else "; ")
    return (
        f"Flow diagram: {identified}"
        f"{excluded}{left}{counted('n_infusions_analyzed', 'infusion')} in {counted('n_patients_analyzed', 'patient')} "
        f"analysed ({count('n_index_analyzed', cohort.n_index_analyzed)} {facts.index_label}, "
        f"{count('n_comparison_analyzed', cohort.n_comparison_analyzed)} {facts.comparison_label.lower()})."
    )


def _vas_caption(facts: Facts, vas_display: str) -> str:
    threshold = facts.counts.threshold
    band_cm = VAS_BAND_CM if threshold is None else SUPPRESSED_VAS_BAND_CM
    caption = (
        "Mean reduction in VAS score per patient, by group. "
        + ("Each point is a patient (mean over the patient's analysed infusions); " if vas_display == "points" else
           "The width of each band is proportional to the share of the group's patients whose mean reduction "
           f"(over their analysed infusions) lies in that {band_cm:g} cm band; ")
        + f"the bar and whiskers show the group mean and its {facts.level} confidence interval."
    )
    if threshold is None:
        return caption
    caption += (f" Under small-cell protection the bands are {band_cm:g} cm wide, whatever the data, and bands of "
                f"fewer than {threshold} patients are not drawn{_left_out(facts)}.")
    hidden = [label for key, label in (("index", facts.index_label), ("comparison", facts.comparison_label))
              if key in facts.withheld.few]
    if hidden:
        caption += (f" A group of fewer than {threshold} patients ({', '.join(hidden)}) is not drawn and its mean is "
                    "not shown.")
    undrawn = [label for key, label in (("index", facts.index_label), ("comparison", facts.comparison_label.lower()))
               if key in facts.withheld.undrawn]
    # Else the caption would describe bands the figure does not show.
    if len(undrawn) == 2:
        caption += (f" No band of either group holds {threshold} or more patients, so neither distribution is drawn, "
                    "only each group's mean and interval.")
    elif undrawn:
        caption += (f" No band of the {undrawn[0]} group holds {threshold} or more patients, so its distribution is "
                    "not drawn, only its mean and interval.")
    return caption


def _left_out(facts: Facts) -> str:
    """How many patients of each drawn group the bands leave out, for a group whose size is printed: the bands'
    widths, shares of that size, give the number anyway (a number of 1 to N−1 is said as "fewer than N"). For a
    group whose size is hidden the figure draws shares of the patients it shows, and nothing is said."""
    counts, said = facts.counts, []
    for key, label in (("index", facts.index_label), ("comparison", facts.comparison_label.lower())):
        n = getattr(facts.cohort, f"n_{key}_analyzed")
        if key not in facts.withheld.left_out or key in facts.withheld.undrawn or counts.hides(f"n_{key}_analyzed", n):
            continue
        left_out = facts.withheld.left_out[key]
        number = "none" if not left_out else f"fewer than {counts.threshold}" if counts.small(left_out) else format_count(left_out)
        said.append(f"{number} of the {format_count(n)} patients of the {label} group")
    return f": they leave out {format_series(said)}" if said else ""


def _relief_caption(facts: Facts) -> str:
    relief = facts.relief
    caption = (f"Probability of pain relief lasting beyond each threshold, with {facts.relief_level} intervals "
               f"({relief.method_description}).")
    withheld = [o.label.lower() for o in relief.outcomes if o.name in facts.withheld.relief]
    if withheld:
        caption += (f" Not drawn (small numbers, small-cell protection): {format_series(withheld)}.")
    return caption


def figures(facts: Facts, vas_display: str) -> dict[str, Figure]:
    """The figures' numbers, captions and descriptions (the HTML's alternative text, the PDF's /Alt)."""
    relief = facts.relief
    shown = "Dot plot" if vas_display == "points" else "Distribution"
    vas_alt = (
        f"{shown} of patient mean VAS reductions: "
        f"{_group_alt(facts, 'index', facts.index_label, facts.vas.index)}; "
        f"{_group_alt(facts, 'comparison', facts.comparison_label, facts.vas.comparison)}."
    )
    relief_alt = "Relief probabilities: " + "; ".join(
        f"{o.label} not estimable (no evaluable patient)" if not o.n_evaluable else
        f"{o.label} not shown" if o.name in facts.withheld.relief else
        f"{o.label} {format_proportion(o.estimate)} ({format_proportion_interval(o.conf_low, o.conf_high)})"
        for o in relief.outcomes
    )
    return {
        "flow": Figure("fig-flow", 1, "Flow of infusions and patients through the analysis.", _flow_alt(facts),
                       FIGURE_FILES["flow"]),
        "vas": Figure("fig-vas", 2, _vas_caption(facts, vas_display), vas_alt, FIGURE_FILES["vas"]),
        "relief": Figure("fig-relief", 3, _relief_caption(facts), relief_alt, FIGURE_FILES["relief"]),
    }
