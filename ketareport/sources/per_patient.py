"""The infusions reduced per patient: the one grouping of the infusions that both checks and analyses them.

Grouping ten million infusions by patient is the costliest step of a run in
an engine; it is done once (:func:`ketareport.sources.typed.check_source`),
joined to the patients and kept: each patient's counts of rows breaking a
rule or holding text with white space to trim (summed for the check), and
the aggregates the analysis needs.
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
    the analysed infusions' VAS reductions (count, mean, population variance, range)."""
    infusions = with_reduction(infusions)
    return infusions.group_by(**{PATIENT_KEY: infusions.patient_id}).aggregate(
        **{name: flag.sum() for name, flag in checks.items()},
        n_infusions=infusions.count(),
        n_analysed=(~infusions.excluded).sum(),
        mean_reduction=infusions.reduction.mean(),
        variance_reduction=infusions.reduction.var(how="pop"),
        reduction_range=infusions.reduction.max() - infusions.reduction.min(),
    )



def patients_reduced(patients, grouped, checks: list[str]) -> Any:
    """Every patient with the reductions of their infusions (:func:`reduced_per_patient`; a patient without
    infusions has counts 0, the rest null) and ``checks``, and every grouped id the patients lack (patient_id
    null, the id in :data:`PATIENT_KEY`): a full outer join, so that the check finds the unknown ids in the table
    the analysis reads."""
    import ibis

    joined = patients.outer_join(grouped, patients.patient_id == grouped[PATIENT_KEY])
    return joined.select(
        "patient_id", "is_index", "sex", "age_years", "relief_duration_days", "relief_ongoing", PATIENT_KEY, *checks,
        n_infusions=ibis.coalesce(joined.n_infusions, 0),
        n_analysed=ibis.coalesce(joined.n_analysed, 0),
        mean_reduction=joined.mean_reduction,
        within_ss=joined.variance_reduction * joined.n_analysed,
        reduction_range=joined.reduction_range,
    )
