"""The analysis where the data are: the engine reduces the tables to aggregates, Python does the statistics.

Eight queries, each returning a handful of rows whatever the size of the
data, feed the same result dataclasses as the file path:

1. the mixed model's cells (:class:`ketareport.aggregates.MixedModelCell`:
   per group and number of analysed infusions, moments of the patients'
   mean reductions), from which the group moments are pooled exactly;
2. one row of patient-level counts, moments and exact quantiles (cohort,
   relief, Table 1) and 3. one of infusion-level ones (cohort, Table 2);
4. patients per diagnosis, 5. and 6. patients / infusions per label of
   the ``;``-separated lists, 7. and 8. the ids the results list
   (excluded infusions, patients without an analysed infusion).

Every aggregate is written once as an Ibis expression and runs unchanged
on DuckDB, PostgreSQL and Spark. Quantiles are exact (linear
interpolation, numpy's default). Means and SDs are the engines' own
(Welford-type) sums, so they agree with the file path's to about 1e-15.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from ..aggregates import MixedModelCell, Moments, VasAggregates
from ..analyze import mixed_model, vas_reduction
from ..config import AnalysisOptions
from ..errors import NothingToAnalyse
from ..contract import ANALYSIS_COLUMNS, COLUMN_LABELS, NO_SIDE_EFFECT, RELIEF_METHODS, diagnosis_labels, sentence_start
from ..results import (
    CharacteristicRow, CharacteristicsColumn, CharacteristicsTable, CohortSummary, ContinuousCell, CountCell,
    ReliefOutcome, ReliefSummary, StudyResults,
)
from ..statistics import proportion_interval
from .rules import TypedSource

GROUPS = ("index", "comparison", "all")
QUANTILES = {"q1": 0.25, "median": 0.5, "q3": 0.75}


@dataclass(frozen=True)
class _Tables:
    """The cohort's derived tables, as engine expressions."""

    patients: Any
    """Every patient: the typed columns, is_index, n_infusions, n_analysed, mean_reduction, within_ss, reduction_range."""
    infusions: Any
    """Every infusion: the typed columns, is_index, excluded, reduction."""


def _derive(typed: TypedSource, options: AnalysisOptions) -> _Tables:
    import ibis

    patients = typed.patients.mutate(is_index=typed.patients.diagnosis == options.index_diagnosis)
    infusions = typed.infusions
    excluded = functools.reduce(operator.or_, [infusions[column].isnull() for column in ANALYSIS_COLUMNS])
    infusions = infusions.mutate(
        excluded=excluded,
        reduction=ibis.ifelse(excluded, ibis.null("float64"), infusions.vas_pre - infusions.vas_post),
    )
    groups = patients.select(group_patient_id="patient_id", is_index="is_index")
    infusions = infusions.join(groups, infusions.patient_id == groups.group_patient_id).drop("group_patient_id")
    per_patient = infusions.group_by(stats_patient_id=infusions.patient_id).aggregate(
        n_infusions=infusions.count(),
        n_analysed=(~infusions.excluded).sum(),
        mean_reduction=infusions.reduction.mean(),
        variance_reduction=infusions.reduction.var(how="pop"),
        reduction_range=infusions.reduction.max() - infusions.reduction.min(),
    )
    joined = patients.left_join(per_patient, patients.patient_id == per_patient.stats_patient_id)
    patients = joined.select(
        *[joined[column] for column in patients.columns],
        n_infusions=ibis.coalesce(joined.n_infusions, 0),
        n_analysed=ibis.coalesce(joined.n_analysed, 0),
        mean_reduction=joined.mean_reduction,
        within_ss=joined.variance_reduction * joined.n_analysed,
        reduction_range=joined.reduction_range,
    )
    return _Tables(patients, infusions)


def _one_row(expression) -> dict[str, Any]:
    return expression.to_pyarrow().to_pylist()[0]


def _rows(expression) -> list[dict[str, Any]]:
    return expression.to_pyarrow().to_pylist()


def vas_aggregates(tables: _Tables) -> VasAggregates:
    """Query 1: the mixed model's cells, with the patients whose mean reduction is > 0; the group moments pooled from them."""
    analysed = tables.patients.filter(tables.patients.n_analysed > 0)
    rows = _rows(
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


class _Summary:
    """Builds one aggregate query of many named measures, run once, read back by name."""

    def __init__(self, table, engine: str, within=None):
        """``within``: the rows the groups hold (Table 2: the analysed infusions); other measures may use every row."""
        self.table = table
        self.engine = engine
        self.within = within
        self.measures: dict[str, Any] = {}
        self.distributions: dict[str, Any] = {}
        if within is None:
            self.masks = {"index": table.is_index, "comparison": ~table.is_index, "all": None}
        else:
            self.masks = {"index": table.is_index & within, "comparison": ~table.is_index & within, "all": within}

    def add(self, name: str, measure) -> str:
        self.measures[name] = measure
        return name

    def masked(self, value, group: str):
        import ibis

        mask = self.masks[group]
        return value if mask is None else ibis.ifelse(mask, value, ibis.null(value.type()))

    def count(self, name: str, flags) -> None:
        """Per group: rows where ``flags`` holds, and the group's rows."""
        for group in GROUPS:
            mask = self.masks[group]
            selected = flags if mask is None else flags & mask
            self.add(f"{name}:{group}:n", selected.sum())

    def continuous(self, name: str, values) -> None:
        """Count, mean, SD, extremes and quartiles per group: from the value counts (see :func:`_distribution`)."""
        self.distributions[name] = values

    def engine_continuous(self, name: str, values) -> None:
        """The same measures as engine aggregates: for a variable with too many distinct values to count."""
        for group in GROUPS:
            value = self.masked(values, group)
            prefix = f"{name}:{group}"
            self.add(f"{prefix}:count", value.count())
            self.add(f"{prefix}:mean", value.mean())
            self.add(f"{prefix}:sd", value.std(how="sample"))
            self.add(f"{prefix}:min", value.min())
            self.add(f"{prefix}:max", value.max())
            for key, q in QUANTILES.items():
                self.add(f"{prefix}:{key}", value.quantile(q))

    def sizes(self) -> None:
        for group in GROUPS:
            mask = self.masks[group]
            self.add(f"size:{group}", self.table.count() if mask is None else mask.sum())

    def run(self) -> dict[str, Any]:
        self.sizes()
        values = {}
        rows = self.table if self.within is None else self.table.filter(self.within)
        counted = _distributions(rows, self.distributions, stacked=self.engine != "postgres")
        for name, expression in self.distributions.items():
            if counted is None:
                self.engine_continuous(name, expression)
            else:
                values.update({f"{name}:{key}": value for key, value in counted[name].items()})
        result = _one_row(self.table.aggregate(**{_safe(name): measure for name, measure in self.measures.items()}))
        return values | {name: result[_safe(name)] for name in self.measures}


DISTINCT_VALUES_FETCHED = 20_000
"""Value counts fetched for a variable's exact statistics; beyond, the engine computes them itself."""


def _distributions(table, variables: dict[str, Any], stacked: bool = True) -> dict[str, dict[str, Any]] | None:
    """Exact summary statistics of each variable per group, from value counts: one query for all of them.

    Clinical variables take few distinct values (VAS on a 0.1 cm grid,
    whole milligrams, minutes and days), so ``GROUP BY variable, group,
    value`` over the variables stacked long returns a few hundred rows
    whatever the number of infusions, and from them the count, mean, SD
    (two-pass), extremes and numpy's linear-interpolation quartiles follow
    exactly; holistic quantile aggregates over millions of rows would hold
    every value in the engine's memory. None when the variables have more
    distinct values than :data:`DISTINCT_VALUES_FETCHED` (the engine then
    computes the statistics itself).
    """
    import ibis
    import ibis.selectors as selectors
    import numpy as np

    if not variables:
        return {}
    names = {f"variable_{position}": name for position, name in enumerate(variables)}
    if stacked:
        wide = table.select(is_index=table.is_index, **{column: variables[name].cast("float64") for column, name in names.items()})
        long = wide.pivot_longer(selectors.cols(*names), names_to="variable", values_to="value")
    else:  # Ibis stacks through jsonb on PostgreSQL, which cannot read a missing number back: a union instead
        long = ibis.union(*[
            table.select(variable=ibis.literal(column), is_index=table.is_index, value=variables[name].cast("float64"))
            for column, name in names.items()
        ], distinct=False)
    present = long.filter(long.value.notnull())
    counts = present.group_by(["variable", "is_index", "value"]).aggregate(n=present.count())
    rows = counts.limit(DISTINCT_VALUES_FETCHED + 1).to_pyarrow()
    if rows.num_rows > DISTINCT_VALUES_FETCHED:
        return None
    variable = np.asarray(rows["variable"].to_pylist(), dtype=object)
    is_index = np.asarray(rows["is_index"].to_pylist(), dtype=bool)
    value = np.asarray(rows["value"].to_pylist(), dtype=float)
    n = np.asarray(rows["n"].to_pylist(), dtype=np.int64)
    result: dict[str, dict[str, Any]] = {}
    for column, name in names.items():
        mine = variable == column
        statistics: dict[str, Any] = {}
        for group, selected in (("index", mine & is_index), ("comparison", mine & ~is_index), ("all", mine)):
            statistics.update({f"{group}:{key}": statistic for key, statistic in _counted_statistics(value[selected], n[selected]).items()})
        result[name] = statistics
    return result


def _counted_statistics(values, counts) -> dict[str, Any]:
    """count, mean, sd, min, max and quartiles of a sample given as distinct values and their counts."""
    import numpy as np

    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    if values.size:  # one value may come as several rows (engines group -0.0 and 0.0 apart)
        values, inverse = np.unique(values, return_inverse=True)
        counts = np.bincount(inverse, weights=counts).astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return {"count": 0, "mean": None, "sd": None, "min": None, "max": None, "q1": None, "median": None, "q3": None}
    mean = float(np.sum(values * counts) / total)
    sd = float(np.sqrt(np.sum(counts * (values - mean) ** 2) / (total - 1))) if total > 1 else None
    ends = np.cumsum(counts)  # the sorted sample's positions 0 .. total-1: value k fills ends[k-1] .. ends[k]-1

    def order_statistic(position: int) -> float:
        return float(values[np.searchsorted(ends, position, side="right")])

    statistics = {"count": total, "mean": mean, "sd": sd, "min": float(values[0]), "max": float(values[-1])}
    for key, probability in QUANTILES.items():
        position = probability * (total - 1)
        low = int(np.floor(position))
        below, above = order_statistic(low), order_statistic(min(low + 1, total - 1))
        fraction = position - low
        # numpy's linear method, as np.quantile computes it (its lerp form for each half of the step).
        statistics[key] = below + fraction * (above - below) if fraction < 0.5 else above - (1 - fraction) * (above - below)
    return statistics


def _safe(name: str) -> str:
    """A column alias every engine accepts."""
    return "m_" + "".join(character if character.isalnum() else "_" for character in name)


def _count_cell(values: dict[str, Any], name: str, group: str) -> CountCell:
    n, denominator = int(values[f"{name}:{group}:n"] or 0), int(values[f"size:{group}"] or 0)
    return CountCell(n=n, denominator=denominator, percent=100.0 * n / denominator if denominator else None)


def _continuous_cell(values: dict[str, Any], name: str, group: str) -> ContinuousCell:
    prefix = f"{name}:{group}"
    n, size = int(values[f"{prefix}:count"] or 0), int(values[f"size:{group}"] or 0)
    if n == 0:
        return ContinuousCell(0, size, None, None, None, None, None, None, None)

    def number(key: str) -> float:
        return float(values[f"{prefix}:{key}"])

    return ContinuousCell(
        n=n, n_missing=size - n, mean=number("mean"), sd=number("sd") if n > 1 else None,
        median=number("median"), q1=number("q1"), q3=number("q3"), minimum=number("min"), maximum=number("max"),
    )


def _display(label: str) -> str:
    return label.replace("_", " ").capitalize()


class _Table:
    def __init__(self, unit: str, values: dict[str, Any], options: AnalysisOptions):
        labels = {"index": options.index_label, "comparison": options.comparison_label, "all": "All"}
        self.values = values
        self.unit = unit
        self.columns = [CharacteristicsColumn(group, labels[group], int(values[f"size:{group}"] or 0)) for group in GROUPS]
        self.rows: list[CharacteristicRow] = []

    def counts(self, section: str, label: str, name: str) -> None:
        self.rows.append(CharacteristicRow(section, label, "count", {g: _count_cell(self.values, name, g) for g in GROUPS}))

    def given_counts(self, section: str, label: str, counts: dict[str, int]) -> None:
        cells = {}
        for group in GROUPS:
            denominator = int(self.values[f"size:{group}"] or 0)
            n = counts.get(group, 0)
            cells[group] = CountCell(n=n, denominator=denominator, percent=100.0 * n / denominator if denominator else None)
        self.rows.append(CharacteristicRow(section, label, "count", cells))

    def continuous(self, section: str, label: str, name: str, kind: str) -> None:
        self.rows.append(CharacteristicRow(section, label, kind, {g: _continuous_cell(self.values, name, g) for g in GROUPS}))

    def label_counts(self, section: str, by_label: dict[str, dict[str, int]]) -> None:
        """Labels by their count over all rows, most frequent first, ties alphabetically."""
        for label in sorted(by_label, key=lambda text: (-by_label[text].get("all", 0), text)):
            self.given_counts(section, _display(label), by_label[label])

    def table(self) -> CharacteristicsTable:
        return CharacteristicsTable(unit=self.unit, columns=self.columns, rows=self.rows)


def _label_counts(table, column: str, ignore: tuple[str, ...] = (), *, any_label: bool = True) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Rows holding each label of a ``;`` list, per group; and rows holding any label (queries 5, 6).

    Each row's labels are made distinct first, so counting rows needs no
    ``COUNT(DISTINCT key)``; rows with an empty list are left out before the
    lists are split (most infusions have no side effect).
    """
    listed = table.filter(table[column] != "")

    def kept(label):
        keep = label != ""
        for ignored in ignore:
            keep = keep & (label != ignored)
        return keep

    labels = listed[column].split(";").unique().filter(kept)
    exploded = listed.select(is_index=listed.is_index, label=labels.unnest())
    per_group = _rows(exploded.group_by(["label", "is_index"]).aggregate(n=exploded.count()))
    holding = listed.select(is_index=listed.is_index, n_labels=labels.length()).filter(lambda t: t.n_labels > 0)
    holders = _rows(holding.group_by("is_index").aggregate(n=holding.count())) if any_label else []
    counts: dict[str, dict[str, int]] = {}
    for row in per_group:
        cell = counts.setdefault(row["label"], {})
        cell["index" if row["is_index"] else "comparison"] = int(row["n"])
    for cell in counts.values():
        cell["all"] = cell.get("index", 0) + cell.get("comparison", 0)
    anywhere = {("index" if row["is_index"] else "comparison"): int(row["n"]) for row in holders}
    anywhere["all"] = sum(anywhere.values())
    return counts, anywhere


def analyse_source(typed: TypedSource, options: AnalysisOptions, labels: Mapping[str, str] | None = None) -> StudyResults:
    """Every result of the analysis, from aggregates the engine computes; ``labels`` is study.yml's diagnosis label map."""
    derived = _derive(typed, options)
    # The per-patient table (one row per patient) feeds six queries: the engine keeps it once.
    with _kept(typed.source, derived.patients) as patients:
        return _analyse(_Tables(patients, derived.infusions), typed, options, labels)


@contextlib.contextmanager
def _kept(source, expression):
    """``expression`` computed once into a temporary table of the engine (Spark: a persisted DataFrame)."""
    if source.spec.engine == "spark":
        cached = expression.cache()
        try:
            yield cached
        finally:
            cached.release()
        return
    name = f"ketareport_{uuid.uuid4().hex[:16]}"
    table = source.backend.create_table(name, expression, temp=True)
    try:
        yield table
    finally:
        source.backend.raw_sql(f'DROP TABLE "{name}"')


def _analyse(tables: _Tables, typed: TypedSource, options: AnalysisOptions, labels: Mapping[str, str] | None) -> StudyResults:
    every = tables.infusions
    infusions = _Summary(every, typed.source.spec.engine, within=~every.excluded)
    for column in ("ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post", "reduction"):
        infusions.continuous(column, every[column])
    infusions.count("midazolam", every.midazolam.fill_null(False))
    infusions.count("ondansetron", every.ondansetron.fill_null(False))
    cohort_measures = _infusion_measures(every)
    for name, measure in cohort_measures.items():
        infusions.add(f"cohort:{name}", measure)
    infusion_values = infusions.run()
    # A sum over no rows is NULL in SQL: no infusion counts 0.
    every_infusion = {name: 0 if value is None and not name.endswith("_date") else value
                      for name, value in ((name, infusion_values[f"cohort:{name}"]) for name in cohort_measures)}
    _require_analysable(int(tables.patients.count().to_pyarrow().as_py()), every_infusion)
    aggregates = vas_aggregates(tables)

    patients = _Summary(tables.patients, typed.source.spec.engine)
    patients.count("analysed", tables.patients.n_analysed > 0)
    patients.count("sex_f", tables.patients.sex == "F")
    patients.count("sex_m", tables.patients.sex == "M")
    patients.count("sex_missing", tables.patients.sex.isnull())
    patients.continuous("age", tables.patients.age_years)
    patients.continuous("n_infusions", tables.patients.n_infusions.cast("float64"))
    patients.continuous("n_analysed", tables.patients.n_analysed.cast("float64"))
    duration = tables.patients.relief_duration_days
    recorded = duration.notnull()
    ongoing = tables.patients.relief_ongoing
    patients.count("recorded", recorded)
    patients.count("censored", recorded & ongoing)
    patients.continuous("duration", duration)
    for threshold in options.relief_thresholds:
        met = recorded & (duration >= threshold.days if threshold.inclusive else duration > threshold.days)
        evaluable = recorded & (~ongoing | met)
        patients.count(f"relief_{threshold.name}_evaluable", evaluable)
        patients.count(f"relief_{threshold.name}_x", evaluable & met)
    patient_values = patients.run()

    analysed_infusions = tables.infusions.filter(~tables.infusions.excluded)

    diagnoses = _rows(tables.patients.group_by(["diagnosis", "is_index"]).aggregate(n=tables.patients.count()))
    interventions, _ = _label_counts(tables.patients, "previous_interventions", any_label=False)
    effects, any_effect = _label_counts(analysed_infusions, "side_effects", ignore=(NO_SIDE_EFFECT,))
    excluded_ids = [row["infusion_id"] for row in _rows(tables.infusions.filter(tables.infusions.excluded).select("infusion_id").order_by("infusion_id"))]
    not_analysed_ids = [row["patient_id"] for row in _rows(tables.patients.filter(tables.patients.n_analysed == 0).select("patient_id").order_by("patient_id"))]

    printed = _diagnosis_labels(tables.patients, labels)
    cohort = _cohort_summary(patient_values, every_infusion, diagnoses, printed, excluded_ids, not_analysed_ids, options)
    return StudyResults(
        cohort=cohort,
        vas=vas_reduction(aggregates, options),
        relief=_relief(patient_values, options),
        sensitivity=mixed_model(aggregates, options),
        patient_characteristics=_table_1(patient_values, diagnoses, printed, interventions, options),
        infusion_characteristics=_table_2(infusion_values, effects, any_effect, options),
    )


def _require_analysable(n_patients: int, infusions: dict[str, Any]) -> None:
    """As :func:`ketareport.pipeline.require_analysable`, from counts: no patient, or no analysable infusion, stops."""
    if n_patients == 0:
        raise NothingToAnalyse("nothing to analyse: the patients table has no rows")
    n_infusions = int(infusions["n_infusions"])
    if n_infusions == 0:
        raise NothingToAnalyse(f"nothing to analyse: the infusions table has no rows ({n_patients} patients)")
    if int(infusions["n_excluded"]) < n_infusions:
        return
    missing = sorted(((int(infusions[f"missing_{column}"]), position, column) for position, column in enumerate(ANALYSIS_COLUMNS)),
                     key=lambda item: (-item[0], item[1]))
    reasons = ", ".join(f"{count} missing {COLUMN_LABELS[column]}" for count, _, column in missing if count)
    raise NothingToAnalyse(f"0 of {n_infusions} infusions analysable: {reasons}")


def _infusion_measures(infusions) -> dict[str, Any]:
    """The cohort's infusion counts, over every infusion (in query 3, with Table 2's)."""
    excluded = infusions.excluded
    return {
        "n_infusions": infusions.count(),
        "n_excluded": excluded.sum(),
        "n_index_analysed": (~excluded & infusions.is_index).sum(),
        "n_comparison_analysed": (~excluded & ~infusions.is_index).sum(),
        "n_midazolam": infusions.midazolam.fill_null(False).sum(),
        "n_ondansetron": infusions.ondansetron.fill_null(False).sum(),
        "n_premedication_recorded": (infusions.midazolam.notnull() & infusions.ondansetron.notnull()).sum(),
        "first_date": infusions.infusion_date.min(),
        "last_date": infusions.infusion_date.max(),
        **{f"missing_{column}": (excluded & infusions[column].isnull()).sum() for column in ANALYSIS_COLUMNS},
    }


def _diagnosis_labels(patients, mapping: Mapping[str, str] | None) -> dict[str, str]:
    """How each diagnosis prints (:func:`ketareport.contract.diagnosis_labels`), from spelling counts.

    The engine counts each (grouping key, spelling); the rule is applied to
    one row per spelling, most frequent first (ties: alphabetical, as a
    database has no "first seen"), so its choice is the most frequent one.
    """
    import pandas as pd

    spelled = patients.select(key=patients.diagnosis, written=patients.diagnosis_as_written.strip())
    rows = _rows(spelled.group_by(["key", "written"]).aggregate(n=spelled.count()))
    rows.sort(key=lambda row: (row["key"], -row["n"], row["written"]))
    return diagnosis_labels(pd.Series([row["key"] for row in rows], dtype=object),
                            pd.Series([row["written"] for row in rows], dtype=object), mapping)


def _cohort_summary(patients: dict, infusions: dict, diagnoses: list[dict], printed: dict[str, str], excluded_ids: list,
                    not_analysed_ids: list, options: AnalysisOptions) -> CohortSummary:
    n_patients = int(patients["size:all"] or 0)
    by_diagnosis: dict[str, int] = {}
    for row in diagnoses:
        by_diagnosis[row["diagnosis"]] = by_diagnosis.get(row["diagnosis"], 0) + int(row["n"])
    ordered = sorted(by_diagnosis.items(), key=lambda item: (-item[1], item[0]))
    n_index = int(patients["size:index"] or 0)
    n_infusions = int(infusions["n_infusions"])
    n_analysed_patients = int(patients["analysed:all:n"] or 0)
    return CohortSummary(
        n_patients=n_patients,
        n_infusions=n_infusions,
        n_infusions_excluded=int(infusions["n_excluded"]),
        n_infusions_analyzed=n_infusions - int(infusions["n_excluded"]),
        n_patients_analyzed=n_analysed_patients,
        n_patients_not_analyzed=n_patients - n_analysed_patients,
        diagnoses=dict(ordered),
        diagnoses_percent={label: 100.0 * n / n_patients for label, n in ordered},
        diagnosis_labels={label: printed[label] for label, _ in ordered},
        excluded_infusion_ids=[str(value) for value in excluded_ids],
        excluded_missing_by_column={column: int(infusions[f"missing_{column}"]) for column in ANALYSIS_COLUMNS},
        not_analyzed_patient_ids=[str(value) for value in not_analysed_ids],
        index_diagnosis=options.index_diagnosis,
        n_index=n_index,
        n_comparison=n_patients - n_index,
        index_percent=100.0 * n_index / n_patients if n_patients else None,
        comparison_percent=100.0 * (n_patients - n_index) / n_patients if n_patients else None,
        n_index_analyzed=int(patients["analysed:index:n"] or 0),
        n_comparison_analyzed=int(patients["analysed:comparison:n"] or 0),
        n_index_infusions_analyzed=int(infusions["n_index_analysed"]),
        n_comparison_infusions_analyzed=int(infusions["n_comparison_analysed"]),
        n_infusions_midazolam=int(infusions["n_midazolam"]),
        n_infusions_ondansetron=int(infusions["n_ondansetron"]),
        n_infusions_premedication_recorded=int(infusions["n_premedication_recorded"]),
        all_premedicated=n_infusions > 0 and int(infusions["n_midazolam"]) == n_infusions and int(infusions["n_ondansetron"]) == n_infusions,
        first_infusion_date=infusions["first_date"].isoformat()[:10] if infusions["first_date"] is not None else None,
        last_infusion_date=infusions["last_date"].isoformat()[:10] if infusions["last_date"] is not None else None,
    )


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


def _table_1(values: dict, diagnoses: list[dict], printed: dict[str, str], interventions: dict, options: AnalysisOptions) -> CharacteristicsTable:
    table = _Table("patients", values, options)
    by_diagnosis: dict[str, dict[str, int]] = {}
    for row in diagnoses:
        cell = by_diagnosis.setdefault(row["diagnosis"], {})
        cell["index" if row["is_index"] else "comparison"] = int(row["n"])
    for cell in by_diagnosis.values():
        cell["all"] = cell.get("index", 0) + cell.get("comparison", 0)
    for label in sorted(by_diagnosis, key=lambda text: (-by_diagnosis[text]["all"], text)):
        table.given_counts("Diagnosis", sentence_start(printed[label]), by_diagnosis[label])
    table.counts("Sex", "Female", "sex_f")
    table.counts("Sex", "Male", "sex_m")
    if int(values["sex_missing:all:n"] or 0):
        table.counts("Sex", "Not recorded", "sex_missing")
    table.continuous("Age, years", "Mean (SD)", "age", "mean_sd")
    table.label_counts("Previous interventions", interventions)
    table.continuous("Infusions per patient", "Median (IQR)", "n_infusions", "median_iqr")
    table.continuous("Analysed infusions per patient", "Median (IQR)", "n_analysed", "median_iqr")
    table.counts("Duration of relief", "Recorded", "recorded")
    table.continuous("Duration of relief", "Days, median (IQR)", "duration", "median_iqr")
    return table.table()


def _table_2(values: dict, effects: dict, any_effect: dict, options: AnalysisOptions) -> CharacteristicsTable:
    table = _Table("infusions", values, options)
    table.continuous("Ketamine dose, mg", "Mean (SD)", "ketamine_dose_mg", "mean_sd")
    table.continuous("Infusion duration, min", "Mean (SD)", "infusion_duration_min", "mean_sd")
    table.continuous("VAS before infusion, cm", "Mean (SD)", "vas_pre", "mean_sd")
    table.continuous("VAS after infusion, cm", "Mean (SD)", "vas_post", "mean_sd")
    table.continuous("VAS reduction, cm", "Mean (SD)", "reduction", "mean_sd")
    table.counts("Premedication", "Midazolam", "midazolam")
    table.counts("Premedication", "Ondansetron", "ondansetron")
    table.given_counts("Side effects", "Any", any_effect)
    table.label_counts("Side effects", effects)
    return table.table()
