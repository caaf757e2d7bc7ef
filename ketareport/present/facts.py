"""The typed facts the reporting rules decide on (:mod:`.narrative`): results, options and their formatted numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..results import CohortSummary, Estimate, MixedModelResult, ReliefSummary, VasResults
from .context import FormattedEstimate
from .formats import MISSING, format_period
from .disclosure import EXACT, Counts, Withheld
from .small_cells import ReportSuppression


@dataclass(frozen=True)
class SideEffects:
    percent: float | None
    """Percent of analysed infusions with any side effect recorded; None when no infusion was analysed."""
    n: int | None
    """Analysed infusions with any side effect recorded (Table 2's "Any", all patients); None as ``percent``."""
    most_frequent: tuple[str, ...]
    """The side effects recorded most often (several when tied); empty when none was recorded."""


@dataclass(frozen=True)
class Recorded:
    """Which optional items the data hold at least one value of (an absent column holds none)."""

    sex: bool
    age: bool
    previous_interventions: bool
    relief: bool
    premedication: bool
    side_effects: bool
    """At least one side effect recorded (a column of only ``none`` cannot be told from an absent one)."""


@dataclass(frozen=True)
class Period:
    start: dt.date | None
    end: dt.date | None
    from_configuration: bool
    """True: the study period of study.yml; False: the first and last infusion dates in the data."""

    @property
    def text(self) -> str:
        """``January to December 2021``; an en dash when no date is known."""
        return format_period(self.start, self.end) if self.start and self.end else MISSING

    @property
    def phrase(self) -> str:
        """``from January 2004 to December 2009``, or ``in May 2020`` for a single month."""
        text = self.text
        return f"in {text}" if " to " not in text else f"from {text}"


@dataclass(frozen=True)
class Facts:
    """What the reporting rules decide on: results, options and their formatted numbers."""

    alpha: float
    level: str
    """The confidence level of the VAS analysis, formatted (``95%``)."""
    relief_level: str
    index_label: str
    comparison_label: str
    index_name: str
    """The index diagnosis in running text: ``complex regional pain syndrome (CRPS)``."""
    cohort: CohortSummary
    vas: VasResults
    relief: ReliefSummary
    sensitivity: MixedModelResult | None
    estimates: dict[str, FormattedEstimate]
    """``overall``, ``index``, ``comparison``, ``difference``."""
    side_effects: SideEffects
    period: Period
    comparison_diagnoses: list[tuple[str, int]]
    """The two most frequent specific diagnoses of the comparison group, with any tied with the second
    (see :func:`.build.named_comparison_diagnoses`): (display label, patients)."""
    n_diagnoses: int
    """Distinct diagnoses among the patients."""
    recorded: Recorded
    counts: Counts = EXACT
    withheld: Withheld = Withheld()
    decisions: ReportSuppression | None = None
    """Small-cell protection's decisions on the report's printed counts (rules 1 to 3), made once per report:
    ``counts`` and ``withheld`` state them, and :mod:`.suppress` applies them to Tables 1 and 2 and the figures.
    None without suppression."""


def significant(estimate: Estimate, alpha: float) -> bool:
    return estimate.p_value is not None and estimate.p_value < alpha
