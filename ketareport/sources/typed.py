"""The two tables checked and typed in the engine: :func:`check_source` runs the rules (:mod:`.rules`).

Once every rule holds, :func:`check_source` returns the two tables typed
(numbers as float64, dates as dates, yes/no as booleans, labels
normalised): the patients stored in the engine, the infusions an
expression over the source table joined to their patients' groups, the
infusions grouped per patient and the listed ids, both kept.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

from ..contract import ANALYSIS_COLUMNS
from ..errors import DatasetInvalid, Problem
from ..validate import InfusionDates
from .connect import Source
from .per_patient import PATIENT_KEY, patients_reduced, reduced_per_patient
from .rules import ROWS_SHOWN, Column, TableRules, infusion_rules, key_text, patient_rules
from .summary import one_row
from .text import edged_text, normalised_labels


@dataclass(frozen=True)
class TypedSource:
    """Both tables checked and typed: the patients stored in the engine (:meth:`Source.keep`), the infusions an
    expression the engine computes from the source table, joined to the stored patients, in each query."""

    source: Source
    patients: Any
    """patient_id (never null), diagnosis (grouping key), diagnosis_as_written, sex, age_years,
    previous_interventions (normalised ``;`` labels), previous_interventions_as_written (trimmed, null = none:
    to group by before normalising, which costs regular expressions per row), relief_duration_days,
    relief_ongoing (bool, never null), is_index."""
    infusions: Any
    """patient_id, is_index, infusion_date (date), the analysis columns (float64, null = missing), midazolam,
    ondansetron (nullable bool), side_effects_as_written (untrimmed, null = none: to group by before trimming
    and normalising, :func:`ketareport.sources.text.normalised_entry`) and excluded (an analysis column
    missing). Their ids are not read: the only ones listed are in :attr:`excluded_ids`."""
    per_patient: Any
    """Every patient (patient_id, is_index, sex, age_years, relief_duration_days, relief_ongoing) with the
    reductions of their infusions (n_infusions, n_analysed, mean_reduction, within_ss, reduction_range), kept (:func:`ketareport.sources.per_patient.patients_reduced`)."""
    excluded_ids: Any
    """The excluded infusions' ids (``excluded_id``), one row each, from a kept table (:func:`_listed_infusion_ids`)."""



UNTRIMMED = frozenset({"patient_id", "side_effects"})
"""Infusion columns whose values are first read without testing each for white space at its ends (ten million
tests cost DuckDB about a second of CPU per column): the patient ids are tested once grouped, one per patient
(:func:`_reduced_per_patient`), and the side effects once per distinct list (:func:`ketareport.sources.text.
normalised_entry`)."""


def check_source(source: Source, dates: InfusionDates, index_diagnosis: str) -> TypedSource:
    """Run every rule in the engine; the typed tables, or :class:`DatasetInvalid` listing every problem.

    The patients (a small table) are checked by one counting query and
    kept. The infusions are not stored: storing ten million typed rows cost
    more than all the queries reading them (DuckDB compresses what it
    stores), so each later query reads them from the source through the
    typed expression, and only the columns it needs. Their one grouping per
    patient (:func:`ketareport.sources.per_patient.reduced_per_patient`) is
    joined to the patients and kept: it counts each patient's rows breaking any rule and text values
    with white space at either end, besides what the analysis needs, so that
    checking valid data costs no reading of its own. The unknown patients
    are the grouped ids the patients lack (the join is a full one). Only a broken
    rule sends the checks back for each rule's counts and first rows.
    Duplicated ids are one grouping query per table.
    """
    import ibis

    problems: list[Problem] = []
    patients, typed_patients, patient_id = patient_rules(source, problems, index_diagnosis)
    patients.run(("patient_id",))
    # The typed patients, stored (1.3 million rows are a small table): every query of the infusions joins
    # their groups, and the analysis reads them several times.
    kept = source.keep(typed_patients.filter(typed_patients.patient_id.notnull()), grouped_texts=True)
    if patient_id.present:  # duplicated ids grouped from the kept ids (the trimmed texts), not the source again
        ids = kept.group_by(value=kept.patient_id).aggregate(n=lambda table: table.count())
        patients.report_duplicates((ids, patient_id, "patient_id"))
    groups = kept.select(known_id=kept.patient_id, known_index=kept.is_index)
    before_infusions = len(problems)
    infusions, typed_infusions, columns = infusion_rules(source, problems, dates, UNTRIMMED)
    per_patient, found = _reduced_per_patient(source, typed_infusions, kept)
    if found["edged_patient_ids"]:  # an id with white space at an end: the rows are read again, every id trimmed
        del problems[before_infusions:]
        untested = frozenset({"side_effects"})
        infusions, typed_infusions, columns = infusion_rules(source, problems, dates, untested)
        per_patient, found = _reduced_per_patient(source, typed_infusions, kept)
    else:
        untested = UNTRIMMED
    plain = frozenset(name for name in columns if not found.get(f"edged__{name}", 1)) | untested
    if found["broken"]:
        infusions.run(("infusion_id", "patient_id"))
    # The same typing again, without testing the ends of the texts that have no white space there.
    plainly, typed_plainly, plain_columns = infusion_rules(source, [], dates, plain)
    listed_ids = _listed_infusion_ids(source, plainly, plain_columns)
    problems.extend(plainly.duplicates(listed_ids))
    if found["unknown"] and columns["patient_id"].present and "patient_id" in source.patients.source_columns:
        _unknown_patients(source, typed_patients, typed_infusions, columns["patient_id"], problems)
    if problems:
        raise DatasetInvalid(problems)
    columns_read = ("patient_id", "infusion_date", *ANALYSIS_COLUMNS, "midazolam", "ondansetron", "side_effects_as_written",
                    "excluded")
    analysed = _with_patients(typed_plainly.select(*columns_read), groups)
    named = kept.mutate(previous_interventions=normalised_labels(kept.previous_interventions_as_written))
    kept_ids = listed_ids[0]
    return TypedSource(source, named, analysed.select(*columns_read, is_index=ibis.coalesce(analysed.known_index, False)),
                       per_patient, kept_ids.filter(kept_ids.listed).select(excluded_id="value"))


def _listed_infusion_ids(source: Source, infusions: TableRules, columns: dict[str, Column]) -> Any:
    """The infusions' ids grouped (:meth:`TableRules.unique`) with whether the infusion is excluded (``listed``),
    kept for the ids found more than once and those of excluded infusions: the one grouping of ten million ids
    that finds the duplicated ones also lists the excluded ones, which a query of their own read again."""
    if not columns["infusion_id"].present:
        return None
    excluded = functools.reduce(operator.or_, [columns[name].missing for name in ANALYSIS_COLUMNS])
    ids, column, what = infusions.unique(columns["infusion_id"], "infusion_id", listed=excluded)
    return source.keep(ids.filter((ids.n > 1) | ids.listed)), column, what


def _reduced_per_patient(source: Source, infusions, patients) -> tuple[Any, dict[str, Any]]:
    """The patients with the infusions grouped per patient, kept (:func:`ketareport.sources.per_patient.
    patients_reduced`), and what the check needs from it: the rows breaking a rule (``broken``), the text values
    with white space at an end per column (``edged__COLUMN``), the grouped patient ids with white space at an end
    (``edged_patient_ids``) and the ids not in the patients table (``unknown``)."""
    edged = [name for name in infusions.columns if name.startswith("edged__")]
    grouped = reduced_per_patient(infusions, {"n_broken": infusions.broken, **{name: infusions[name] for name in edged}})
    reduced = source.keep(patients_reduced(patients, grouped, ["n_broken", *edged]))
    key = reduced[PATIENT_KEY]
    return reduced, one_row(reduced.aggregate(
        broken=reduced.n_broken.sum(), unknown=(key.notnull() & reduced.patient_id.isnull()).sum(),
        edged_patient_ids=edged_text(key).sum(), **{name: reduced[name].sum() for name in edged},
    ))


def _with_patients(infusions, groups) -> Any:
    """The typed infusions with their patient's known_id and known_index (null for an unknown patient)."""
    return infusions.left_join(groups, infusions.patient_id == groups.known_id)


def _unknown_patients(source: Source, patients, infusions, column: Column, problems: list[Problem]) -> None:
    """Infusions whose patient_id is not in the patients table (an anti-join in the engine)."""
    known = patients.select(known_id="patient_id").filter(lambda t: t.known_id.notnull())
    orphans = infusions.filter(infusions.patient_id.notnull()).anti_join(known, infusions.patient_id == known.known_id)
    total = int(orphans.count().to_pyarrow().as_py())
    if total == 0:
        return
    rows = orphans.select("infusion_id", "patient_id").order_by(["infusion_id", "patient_id"]).limit(ROWS_SHOWN).to_pyarrow().to_pylist()
    for infusion_id, patient_id in ((row["infusion_id"], row["patient_id"]) for row in rows):
        problems.append(Problem(
            source.infusions.label, f"{patient_id!r} is not a patient_id in {source.patients.label}",
            column=column.source_name, value=str(patient_id),
            key=key_text({"infusion_id": infusion_id, "patient_id": patient_id}),
        ))
    if total > len(rows):
        problems.append(Problem(source.infusions.label, f"{total - len(rows)} more rows break the same rule (the first {len(rows)} are listed)", column=column.source_name))

