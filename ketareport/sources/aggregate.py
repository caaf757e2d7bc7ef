"""The analysis where the data are: the engine reduces the tables to aggregates, Python does the statistics.

The checked, typed infusions are an expression over the source table,
joined to their patients (:func:`ketareport.sources.typed.check_source`):
each query below reads the source again, which cost less than storing ten
million typed rows. The check kept the patients joined to their infusions
grouped per patient, and the ids listed (excluded infusions). Then about
ten queries, each returning a few hundred rows whatever the size of the
data, feed the same result dataclasses as the file path (one of them reads
the infusions: 2.):

1. the mixed model's cells (:class:`ketareport.aggregates.MixedModelCell`:
   per group and number of analysed infusions, moments of the patients'
   mean reductions), from which the group moments are pooled exactly;
2. the infusions' profiles (:mod:`.infusion_profile`: every count of
   infusions, and the side effects) and Table 2's value counts
   (:mod:`.summary`'s stacking: its distributions), in one reading;
3. the cohort's counts summed from the kept patients';
4. and 5. the patients' counts and value counts (cohort, relief, Table 1);
6. patients per diagnosis and spelling; 7. rows per distinct ``;``-list of
   previous interventions (:mod:`.tables`);
8. and 9. the ids the results list (excluded infusions, patients without
   an analysed infusion).

Every aggregate is written once as an Ibis expression and runs unchanged
on DuckDB, PostgreSQL and Spark. Quantiles are exact (linear
interpolation, numpy's default). Means and SDs are the engines' own
(Welford-type) sums, so they agree with the file path's to about 1e-15.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping

from ..aggregates import MixedModelCell, Moments, VasAggregates
from ..analyze import mixed_model, vas_reduction
from ..config import AnalysisOptions
from ..contract import NO_SIDE_EFFECT, RELIEF_METHODS
from ..results import ReliefOutcome, ReliefSummary, StudyResults
from ..statistics import proportion_interval
from .cohort import cohort_summary, diagnosis_counts, infusion_measures, require_analysable
from .infusion_profile import infusion_profiles, profile_counts, profiles_and_values
from .per_patient import with_reduction
from .typed import TypedSource
from .summary import Summary, one_row, rows_of
from .tables import counted_lists, label_counts, table_1, table_2


@dataclass(frozen=True)
class CohortTables:
    """The cohort's tables in the engine."""

    patients: Any
    """Every patient, kept: :attr:`TypedSource.per_patient`."""
    infusions: Any
    """Every infusion (:attr:`TypedSource.infusions`) and its reduction."""
    typed_patients: Any
    """:attr:`TypedSource.patients`: the texts Table 1 counts (diagnoses, previous interventions), not copied
    into :attr:`patients`."""
    excluded_ids: Any
    """:attr:`TypedSource.excluded_ids`."""


def derive(typed: TypedSource) -> CohortTables:
    """The cohort's tables: the patients with their infusions' reductions, kept by the check
    (:attr:`TypedSource.per_patient`), and the infusions with their reduction."""
    return CohortTables(typed.per_patient, with_reduction(typed.infusions), typed.patients, typed.excluded_ids)


def vas_aggregates(tables: CohortTables) -> VasAggregates:
    """Query 1: the mixed model's cells, with the patients whose mean reduction is > 0; the group moments pooled from them."""
    analysed = tables.patients.filter(tables.patients.n_analysed > 0)
    rows = rows_of(
        analysed.group_by(["is_index", "n_analysed"]).aggregate(
            n_patients=analysed.count(),
            mean_of_means=analysed.mean_reduction.mean(),
            variance_of_means=analysed.mean_reduction.var(how="pop"),
            within_ss=analysed.within_ss.sum(),
            max_range=analysed.reduction_range.max(),
            n_improved=(analysed.mean_reduction > 0).sum(),
        ).order_by(["is_index", "n_analysed"])
    )
    cells = tuple(
        MixedModelCell(
            is_index=bool(row["is_index"]), n_infusions=int(row["n_analysed"]), n_patients=int(row["n_patients"]),
            mean_of_means=float(row["mean_of_means"]), m2_of_means=float(row["variance_of_means"]) * int(row["n_patients"]),
            within_ss=float(row["within_ss"]), max_range=float(row["max_range"]),
        )
        for row in rows
    )

    def pooled(selected) -> Moments:
        return functools.reduce(Moments.pooled, (Moments(c.n_patients, c.mean_of_means, c.m2_of_means) for c in selected), Moments(0, float("nan"), 0.0))

    index = pooled(c for c in cells if c.is_index)
    comparison = pooled(c for c in cells if not c.is_index)
    return VasAggregates(
        index=index, comparison=comparison, overall=Moments.pooled(index, comparison), cells=cells,
        n_patients_improved=sum(int(row["n_improved"]) for row in rows),
    )


def analyse_tables(tables: CohortTables, options: AnalysisOptions, labels: Mapping[str, str] | None = None) -> StudyResults:
    """Every result of the analysis, from aggregates the engine computes over the cohort's tables (:func:`derive`),
    which the caller queries again; ``labels`` is study.yml's diagnosis label map."""
    infusion_values, every_infusion, profiles = _infusion_summary(tables)
    patient_values = _patient_summary(tables.patients, options)
    require_analysable(int(patient_values["size:all"] or 0), every_infusion)
    aggregates = vas_aggregates(tables)

    diagnoses, printed = diagnosis_counts(tables.typed_patients, labels)
    interventions, _ = label_counts(counted_lists(tables.typed_patients, "previous_interventions"), "previous_interventions")
    effects, any_effect, recorded = _side_effects(profiles)
    # One column to a list, not a dict per row: a million ids.
    excluded_ids = tables.excluded_ids.order_by("excluded_id").to_pyarrow()["excluded_id"].to_pylist()
    patients = tables.patients
    not_analysed_ids = [row["patient_id"] for row in rows_of(patients.filter(patients.n_analysed == 0).select("patient_id").order_by("patient_id"))]
    cohort = cohort_summary(patient_values, every_infusion, diagnoses, printed, excluded_ids, not_analysed_ids, recorded, options)
    return StudyResults(
        cohort=cohort,
        vas=vas_reduction(aggregates, options),
        relief=_relief(patient_values, options),
        sensitivity=mixed_model(aggregates, options),
        patient_characteristics=table_1(patient_values, diagnoses, printed, interventions, options),
        infusion_characteristics=table_2(infusion_values, effects, any_effect, options),
    )


def _infusion_summary(tables: CohortTables) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Queries 2 and 3: the infusions' profiles and Table 2's distributions over the analysed infusions, in one
    reading of the infusions when the rows fit (:func:`~.infusion_profile.profiles_and_values`), else two; and
    the cohort's counts of infusions summed from the kept patients'. Table 2's counts and the rest of the
    cohort's are sums over the profiles (:mod:`.infusion_profile`). Also returns the profiles."""
    every = tables.infusions
    together = profiles_and_values(every)
    if together is None:
        profiles = infusion_profiles(every)
        infusions = Summary(every, within=~every.excluded)
        for column in ("ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post"):
            infusions.continuous(column, every[column])
        infusions.difference("reduction", "vas_pre", "vas_post")
        distributions = infusions.run(sizes=False)
    else:
        profiles, distributions = together
    values = distributions | profile_counts(profiles)
    patients = one_row(tables.patients.aggregate(**infusion_measures(tables.patients)))
    # A sum over no rows is NULL in SQL: no infusion counts 0.
    every_infusion = {name: 0 if value is None and not name.endswith("_date") else value for name, value in patients.items()}
    every_infusion |= {name.removeprefix("cohort:"): value for name, value in values.items() if name.startswith("cohort:")}
    return values, every_infusion, profiles


def _patient_summary(table, options: AnalysisOptions) -> dict[str, Any]:
    """Queries 4 and 5: the patients' counts and distributions (cohort, relief, Table 1)."""
    patients = Summary(table)
    patients.count("analysed", table.n_analysed > 0)
    patients.count("sex_f", table.sex == "F")
    patients.count("sex_m", table.sex == "M")
    patients.count("sex_missing", table.sex.isnull())
    patients.continuous("age", table.age_years)
    patients.continuous("n_infusions", table.n_infusions.cast("float64"))
    patients.continuous("n_analysed", table.n_analysed.cast("float64"))
    duration = table.relief_duration_days
    recorded = duration.notnull()
    ongoing = table.relief_ongoing
    patients.count("recorded", recorded)
    patients.count("censored", recorded & ongoing)
    patients.continuous("duration", duration)
    for threshold in options.relief_thresholds:
        met = recorded & (duration >= threshold.days if threshold.inclusive else duration > threshold.days)
        evaluable = recorded & (~ongoing | met)
        patients.count(f"relief_{threshold.name}_evaluable", evaluable)
        patients.count(f"relief_{threshold.name}_x", evaluable & met)
    return patients.run()


def _side_effects(profiles: list[dict[str, Any]]):
    """Side effects of the analysed infusions per label and group, and whether any infusion has an entry at all
    (an entry of ``none`` is a recorded entry, as on the file path), from the infusions' profiles."""
    analysed = [row for row in profiles if not row["excluded"]]
    effects, any_effect = label_counts(analysed, "side_effects", ignore=(NO_SIDE_EFFECT,))
    return effects, any_effect, any(row["side_effects"] for row in profiles)


def _relief(values: dict[str, Any], options: AnalysisOptions) -> ReliefSummary:
    n_recorded = int(values["recorded:all:n"] or 0)
    outcomes = []
    for threshold in options.relief_thresholds:
        n = int(values[f"relief_{threshold.name}_evaluable:all:n"] or 0)
        x = int(values[f"relief_{threshold.name}_x:all:n"] or 0)
        low, high = proportion_interval(x, n, options.relief_conf_level, options.relief_method)
        outcomes.append(ReliefOutcome(
            name=threshold.name, label=threshold.label, rule=threshold.rule, days=float(threshold.days),
            inclusive=threshold.inclusive, n_evaluable=n, x=x, n_censored_not_evaluable=n_recorded - n,
            estimate=x / n if n else None, conf_low=low, conf_high=high,
            conf_level=options.relief_conf_level, method=options.relief_method,
        ))
    return ReliefSummary(
        n_recorded=n_recorded,
        n_censored=int(values["censored:all:n"] or 0),
        n_not_recorded=int(values["size:all"] or 0) - n_recorded,
        median_duration_days=float(values["duration:all:median"]) if n_recorded else None,
        method=options.relief_method,
        method_description=RELIEF_METHODS[options.relief_method].description,
        conf_level=options.relief_conf_level,
        outcomes=outcomes,
    )
