"""The infusions reduced per patient: the one grouping of the infusions that both checks and analyses them.

Grouping ten million infusions by patient is the costliest step of a run in
an engine; it is done once (:func:`ketareport.sources.typed.check_source`)
and kept: each patient's counts of rows breaking a rule or holding text with
white space to trim (summed for the check), and the aggregates the analysis
needs (:func:`ketareport.sources.aggregate.derive` joins them to the patients).
"""

from __future__ import annotations

from typing import Any

PATIENT_KEY = "stats_patient_id"
"""The grouping key's name: the infusions' patient_id, apart from the patients table's own."""


def with_reduction(infusions) -> Any:
    """``infusions`` with ``reduction``, VAS before minus after, null for an excluded infusion."""
    import ibis

    return infusions.mutate(reduction=ibis.ifelse(infusions.excluded, ibis.null("float64"), infusions.vas_pre - infusions.vas_post))


def reduced_per_patient(infusions, checks: dict[str, Any]) -> Any:
    """One row per patient_id of the infusions (a missing id is one row too): ``checks`` (per-row flags, summed),
    the analysed infusions' VAS reductions (count, mean, population variance, range) and the dates."""
    infusions = with_reduction(infusions)
    return infusions.group_by(**{PATIENT_KEY: infusions.patient_id}).aggregate(
        **{name: flag.sum() for name, flag in checks.items()},
        n_infusions=infusions.count(),
        n_analysed=(~infusions.excluded).sum(),
        mean_reduction=infusions.reduction.mean(),
        variance_reduction=infusions.reduction.var(how="pop"),
        reduction_range=infusions.reduction.max() - infusions.reduction.min(),
        first_date=infusions.infusion_date.min(),
        last_date=infusions.infusion_date.max(),
    )

