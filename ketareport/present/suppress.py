"""Small-cell protection: the suppression step of the presentation (``report.suppress_below: N``).

:func:`~.build.build_context` builds the sentences, Tables 3 to 5, the
figures' descriptions and the key values from the decisions already
(:mod:`.disclosure`); this step then suppresses the cells of Tables 1 and 2
and the appendix, and gives the figures what they may draw. The rule
(docs/suppression.md):

1. *Primary*: a count of 1 to N−1 (patients or infusions) prints as ``<N``
   and its percentage is not printed. Zero prints as 0.
2. *Statistics of few*: a summary of fewer than N values (a table's mean,
   SD, median, quartiles; a group's mean VAS reduction, SE, interval, P;
   a relief probability of fewer than N evaluable patients or with fewer
   than N successes) is not printed.
3. *Complementary*: the printed counts satisfy linear equations that anyone
   can write down — a row's two groups add up to its total, the categories of
   a characteristic that partitions the patients (diagnosis, sex) add up to
   the group size, the two group sizes add up to all patients. While a
   hidden count is determined by these equations and the printed counts,
   the smallest printed non-zero count of an equation holding it is hidden
   as well (:func:`complementary`).
4. *Text*: a generated sentence states a hidden count as ``<N`` (or "an
   undisclosed number") and leaves out its percentage, with a plural noun (a
   singular would say the count is one). The sentences are written knowing
   this (:mod:`.narrative` through ``Facts.counts``, :mod:`.disclosure`): no
   phrase of the prose is matched or replaced here.

``results.json`` and ``results.rds`` are not touched: they stay the
analyst's exact numbers; only what is published is suppressed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .context import ReportContext
from .files import data_file_names
from .small_cells import ReportSuppression, suppressed_characteristics_table

if TYPE_CHECKING:
    from ..pipeline import AnalysisRun
    from .disclosure import Withheld
    from .facts import Facts


# ---------------------------------------------------------- the report --

def with_threshold(run: AnalysisRun, suppress_below: int | None) -> AnalysisRun:
    """The run with ``report.suppress_below`` set from the command line (recorded in its configuration)."""
    if suppress_below is None:
        return run
    report = run.config.report.model_copy(update={"suppress_below": suppress_below})
    return dataclasses.replace(run, config=run.config.model_copy(update={"report": report}))


def figures_as_protected(run: AnalysisRun, facts: Facts) -> tuple[AnalysisRun, dict[str, Any]]:
    """What the figures may draw under small-cell protection, from the report's facts (:func:`~.build.gather_facts`,
    whose decisions the captions and descriptions state): the run without the relief probabilities that are
    hidden, and the options of :func:`ketareport.figures.render_figures` that print the counts of Figure 1 and
    Figure 2's group sizes as ``facts.counts`` does (``<N`` or ``‡``) and draw no distribution nor mean for a
    group of fewer than N patients."""
    return masked_for_figures(run, facts.withheld), {"count": facts.counts, "fewest_in_band": facts.counts.threshold}


def masked_for_figures(run: AnalysisRun, withheld: Withheld) -> AnalysisRun:
    """The run as the figures may draw it: a relief outcome whose probability is withheld has no estimate to plot,
    and a group of fewer than N patients no mean (its patients are then not drawn either)."""
    relief, vas = run.results.relief, run.results.vas
    outcomes = [
        dataclasses.replace(o, estimate=None, conf_low=None, conf_high=None) if o.name in withheld.relief else o
        for o in relief.outcomes
    ]
    groups = {key: dataclasses.replace(getattr(vas, key), estimate=None, conf_low=None, conf_high=None)
              for key in ("index", "comparison") if key in withheld.few}
    results = dataclasses.replace(run.results, relief=dataclasses.replace(relief, outcomes=outcomes),
                                  vas=dataclasses.replace(vas, **groups))
    return dataclasses.replace(run, results=results)


def suppress_context(run: AnalysisRun, context: ReportContext, decisions: ReportSuppression) -> ReportContext:
    """The context with Tables 1 and 2 suppressed (rules 1 to 3) and no exact number left in the appendix.

    ``decisions``: ``Facts.decisions`` of the facts the context was built from. The rest of the context —
    sentences, Tables 3 to 5, the figures' descriptions, the key values — is already built from the same
    decisions by :func:`~.build.build_context` (``Facts.counts`` and ``Facts.withheld``, :mod:`.disclosure`).
    """
    threshold = decisions.threshold
    results = run.results
    tables = dict(context.tables)
    tables["patients"] = suppressed_characteristics_table(results.patient_characteristics, tables["patients"],
                                                          threshold, decisions.patients)
    tables["infusions"] = suppressed_characteristics_table(results.infusion_characteristics, tables["infusions"],
                                                           threshold, decisions.infusions)
    # The R cross-check's table prints every estimate's n and x at full precision: only its summary is kept.
    appendix = dataclasses.replace(context.appendix, verification_table=None,
                                   attached_files=data_file_names(None, suppressed=True))
    return dataclasses.replace(context, appendix=appendix, tables=tables)
