"""What the report may state under small-cell protection: how a count prints (:class:`Counts`), which
statistics are withheld (:class:`Withheld`), decided once from the rule on numbers (:mod:`.small_cells`).

The sentences (:mod:`.narrative`), the figures' descriptions, the key values and Table 3 are built from these,
so each chooses its wording knowing whether a number is hidden; :mod:`.suppress` then applies the same
decisions to Tables 1, 2, 4 and 5.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from .context import FormattedEstimate
from .formats import MISSING, count_words, format_count, format_percent
from .small_cells import (
    COMPLEMENT, COMPLEMENT_TEXT, ReportSuppression, hidden_count, report_suppression, statistic_of_few,
    suppressed_count,
)


@dataclass(frozen=True)
class Counts:
    """How the report states a count: exactly, or as small-cell protection decided (docs/suppression.md).

    Every count a generated sentence states goes through :meth:`text`, which knows whether the count is
    hidden, so a sentence chooses its wording knowing it and cannot print a hidden count. ``threshold`` None:
    no suppression, every count exact. A count is hidden when it is 1 to N−1 (rule 1) or when the report's
    system of equations hid it (rule 3: ``decided``, by the names of
    :class:`~.small_cells.ReportSuppression` and a few of the prose's own).
    """

    threshold: int | None = None
    decided: Mapping[Hashable, str] = field(default_factory=dict)
    """Counts hidden by rule 3 (or decided with the tables) -> what a table or figure prints (``<N`` or ``‡``)."""

    def hides(self, name: Hashable, n: int | None) -> bool:
        if self.threshold is None or n is None:
            return False
        return name in self.decided or hidden_count(n, self.threshold)

    def small(self, n: int | None) -> bool:
        """Rule 1 and 2: 1 to N−1 (a group this small shows no statistic)."""
        return self.threshold is not None and hidden_count(n, self.threshold)

    def text(self, name: Hashable, n: int, noun: str | None = None, *, words: bool = False, start: bool = False) -> str:
        """A count in running text, with its noun: ``7 patients`` / ``seven`` (``words``), or hidden: ``<5
        patients`` (a plural noun after a hidden count, since the singular would say it is one), ``an undisclosed
        number of patients``; ``start``: at the start of a sentence (``Fewer than 5 patients``)."""
        if not self.hides(name, n):
            number = count_words(n) if words else format_count(n)
            text = number if noun is None else f"{number} {noun}{'' if n == 1 else 's'}"
            return text[:1].upper() + text[1:] if start else text
        if hidden_count(n, self.threshold):
            said = f"Fewer than {self.threshold}" if start else suppressed_count(self.threshold)
            return said if noun is None else f"{said} {noun}s"
        said = COMPLEMENT_TEXT.capitalize() if start else COMPLEMENT_TEXT
        return said if noun is None else f"{said} of {noun}s"

    def __call__(self, name: Hashable, n: int, noun: str | None = None) -> str:
        """A count as a table or a figure prints it (:data:`~.formats.CountText`): the number, ``<N`` or ``‡``."""
        if not self.hides(name, n):
            return format_count(n) if noun is None else f"{format_count(n)} {noun}{'' if n == 1 else 's'}"
        shown = suppressed_count(self.threshold) if hidden_count(n, self.threshold) else COMPLEMENT
        return shown if noun is None else f"{shown} {noun}s"

    def percent(self, name: Hashable, n: int, percent: float | None) -> str | None:
        """A count's percentage, or None when the count is hidden (a percentage gives its count back)."""
        return None if self.hides(name, n) else format_percent(percent)


EXACT = Counts()
"""Every count exact: no small-cell protection."""


@dataclass(frozen=True)
class Withheld:
    """Statistics small-cell protection does not print (docs/suppression.md rules 2 and 3)."""

    few: frozenset[str] = frozenset()
    """Estimates (``overall``, ``index``, ``comparison``, ``difference``) of fewer than N patients (the
    difference, and the mixed model's group effect, when a group has fewer than N): not printed at all."""
    tests: frozenset[str] = frozenset()
    """Estimates whose SE, statistic, df and P are not printed: with the interval or P they give the degrees of
    freedom, hence a group size that is hidden."""
    relief: frozenset[str] = frozenset()
    """Relief outcomes whose probability and interval are not printed (few successes or evaluable patients)."""
    undrawn: frozenset[str] = frozenset()
    """Groups (``index``, ``comparison``) of N or more patients of which Figure 2 draws no band: every band of
    the group holds fewer than N patients."""
    left_out: Mapping[str, int] = field(default_factory=dict)
    """Groups (``index``, ``comparison``) of N or more patients -> how many of their patients Figure 2's bands
    leave out (those in bands of fewer than N)."""

    @property
    def groups(self) -> bool:
        """A group has fewer than N patients: no difference between the groups, no mixed-model group effect."""
        return "difference" in self.few


def protection(results, threshold: int, listed: list[tuple[str, int]]) -> tuple[ReportSuppression, Counts, Withheld]:
    """The report's decisions (rules 1 to 3), how its sentences state counts, and the statistics withheld.

    ``listed``: the comparison group's diagnoses the cohort sentence names, as it names them. Besides the
    cohort's counts, the prose states cells of Tables 1 and 2 (a diagnosis, infusions with any side effect),
    which hide as the tables decided, and the comparison patients with any other diagnosis: the group's size
    minus those listed, hidden when small or when the size or a listed count is hidden (it would give that back).
    """
    decisions = report_suppression(results, threshold)
    cohort, vas = results.cohort, results.vas
    decided: dict[Hashable, str] = dict(decisions.counts)
    for position, row in enumerate(results.patient_characteristics.rows):
        if row.section == "Diagnosis" and (position, "all") in decisions.patients.hidden:
            decided[("diagnosis", row.label.lower())] = COMPLEMENT
    rest = cohort.n_comparison - sum(count for _, count in listed)
    if listed and rest and (decisions.hides("n_comparison") or any(
            hidden_count(count, threshold) or ("diagnosis", label.lower()) in decided for label, count in listed)):
        decided["comparison_rest"] = COMPLEMENT
    for position, row in enumerate(results.infusion_characteristics.rows):
        if row.section == "Side effects" and row.label == "Any" and (position, "all") in decisions.infusions.hidden:
            decided[("side_effects", "any")] = COMPLEMENT
    if hidden_count(vas.overall.n - vas.n_patients_improved, threshold):
        decided["n_patients_improved"] = COMPLEMENT  # the analysed minus those improved is small
    for name, n in ((("premedication", "midazolam"), cohort.n_infusions_midazolam),
                    (("premedication", "ondansetron"), cohort.n_infusions_ondansetron),
                    (("premedication", "both"), cohort.n_infusions_premedication_recorded)):
        if hidden_count(cohort.n_infusions - n, threshold):
            decided[name] = COMPLEMENT  # "given before 360 of the 369 infusions" says 9 were not
    few = {key for key in ("overall", "index", "comparison") if hidden_count(getattr(vas, key).n, threshold)}
    groups = bool(few & {"index", "comparison"})
    if groups:
        few.add("difference")
    sizes = {"overall": "n_patients_analyzed", "index": "n_index_analyzed", "comparison": "n_comparison_analyzed"}
    tests = {key for key, name in sizes.items() if decisions.hides(name) and not hidden_count(getattr(vas, key).n, threshold)}
    if {"index", "comparison"} & tests and not groups:
        tests.add("difference")  # the two-sample test's degrees of freedom come from both sizes
    relief = {o.name for o in results.relief.outcomes
              if decisions.hides(("relief", o.name, "x")) or decisions.hides(("relief", o.name, "n"))}
    return decisions, Counts(threshold, decided), Withheld(frozenset(few), frozenset(tests), frozenset(relief))


def withheld_estimates(estimates: dict[str, FormattedEstimate], counts: Counts, withheld: Withheld) -> dict[str, FormattedEstimate]:
    """Table 3's rows as printed: a statistic of few as ``n < N`` (its size ``<N``), a withheld test's SE, t, df
    and P as ``‡``, a hidden size as decided, and a one-sample test's degrees of freedom (the size minus one)
    hidden with its size."""
    if counts.threshold is None:
        return estimates
    few = statistic_of_few(counts.threshold)
    sizes = {"overall": "n_patients_analyzed", "index": "n_index_analyzed", "comparison": "n_comparison_analyzed",
             "difference": "n_patients_analyzed"}
    masked = {}
    for key, e in estimates.items():
        name = sizes[key]
        n = counts.decided.get(name, e.n) if e.n != MISSING else e.n
        if key in withheld.few:
            size = suppressed_count(counts.threshold) if key != "difference" else n
            e = dataclasses.replace(e, n=size, estimate=few, std_error=few, conf_int=few, statistic=few, df=few, p=few,
                                    p_statement=few)
        elif key in withheld.tests and MISSING not in (e.std_error, e.p):
            e = dataclasses.replace(e, n=n, **{field: COMPLEMENT for field in ("std_error", "statistic", "df", "p", "p_statement")})
        elif name in counts.decided:
            e = dataclasses.replace(e, n=n, df=COMPLEMENT if key != "difference" else e.df)
        masked[key] = e
    return masked
