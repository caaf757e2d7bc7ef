"""The data dictionary's rules as queries, run in the engine that holds the data.

Each rule is a boolean expression over one table. A query counts the rows
breaking each rule (for the infusions only when one query of whether any
row breaks one says so); for each rule that is broken, a second query fetches the
first rows (ordered by key) with their key values: a database row has no
line number, so a problem names the table, the row's key, the column and
the value, in the same words as the file path's :mod:`ketareport.validate`.
Every broken rule is reported; nothing is analysed when any is.

Once every rule holds, :func:`check_source` returns the two tables typed
(numbers as float64, dates as dates, yes/no as booleans, labels normalised)
the patients stored in the engine, the infusions an expression over the
source table joined to their patients' groups."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any, Callable

from ..contract import (
    ANALYSIS_COLUMNS, FALSE_TEXT, INFUSION_COLUMNS, MISSING_TEXT, PATIENT_COLUMNS, REQUIRED_INFUSION_COLUMNS,
    REQUIRED_PATIENT_COLUMNS, TRUE_TEXT,
)
from ..errors import DatasetInvalid, Problem
from ..validate import InfusionDates
from .connect import Source, SourceTable
from .per_patient import PATIENT_KEY, reduced_per_patient
from .summary import one_row
from .text import calendar_date, edged_text, normalised_diagnoses, normalised_labels, normalised_once, one_of

ROWS_SHOWN = 20
"""Offending rows fetched per broken rule; the rest are counted."""
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}( 00:00:00)?$"


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
    """The infusions grouped by patient_id, kept (:func:`ketareport.sources.per_patient.reduced_per_patient`):
    one row per id the infusions hold, every one a known patient's once the check passed."""
    excluded_ids: Any
    """The excluded infusions' ids (``excluded_id``), one row each, from a kept table (:func:`_listed_infusion_ids`)."""


@dataclass(frozen=True)
class _Rule:
    column: str
    bad: Any
    shown: Any
    message: Callable[[str], str]


class _Column:
    """One contract column of a source table: its text, its missing mask, its engine type."""

    def __init__(self, table, source: SourceTable, name: str):
        """``table``: the source table with the text columns prepared (:func:`_prepared`)."""
        import ibis

        self.name = name
        self.source_name = source.source_columns.get(name) or source.mapped.get(name, name)
        self.present = name in source.source_columns
        self.edged = ibis.literal(False)
        """Does the value have white space at either end (text columns)."""
        if self.present:
            self.raw = table[name]
            self.dtype = self.raw.type()
            self.text = self.raw.cast("string")
            self.missing = self.raw.isnull()
            if self.dtype.is_string():
                self.text, self.missing = table[f"text__{name}"], table[f"missing__{name}"]
                if f"edged__{name}" in table.columns:
                    self.edged = table[f"edged__{name}"]
            elif self.dtype.is_floating() or self.dtype.is_decimal():  # PostgreSQL's NUMERIC holds 'NaN' too
                self.missing = self.missing | self.raw.cast("float64").isnan()
        else:
            self.raw = ibis.null("string")
            self.dtype = self.raw.type()
            self.text = ibis.null("string")
            self.missing = ibis.literal(True)


def _prepared(source: SourceTable, plain: frozenset[str]) -> Any:
    """The source table with, for each text column, its trimmed text (``text__``), whether it is missing
    (``missing__``) and whether it had white space to trim (``edged__``; not for the ``plain`` columns, known
    to have none or tested elsewhere: :data:`UNTRIMMED`). Computed once in a query's first step: written inline in every rule and typed column that
    uses them, DuckDB evaluated the tests of each value's ends up to nine times a row."""
    import ibis

    table = source.table
    texts = [name for name in source.source_columns if table[name].type().is_string()]
    if not texts:
        return table
    # One step per derived column: each refers to the one before by name (Ibis merges steps only when that
    # does not repeat an expression).
    edged = [name for name in texts if name not in plain]
    if edged:
        table = table.mutate(**{f"edged__{name}": edged_text(table[name]) for name in edged})
    table = table.mutate(**{f"text__{name}": ibis.ifelse(table[f"edged__{name}"], table[name].strip(), table[name])
                            if name in edged else table[name] for name in texts})
    return table.mutate(**{f"missing__{name}": table[name].isnull() | one_of(table[f"text__{name}"], MISSING_TEXT) for name in texts})


class _TableRules:
    """The rules of one table and the typed columns they guard."""

    def __init__(self, table: SourceTable, problems: list[Problem], plain: frozenset[str] = frozenset()):
        self.table = table
        self.base = _prepared(table, plain)
        self.problems = problems
        self.rules: list[_Rule] = []
        for name in table.duplicated:
            problems.append(Problem(table.label, "appears more than once (names are matched ignoring case)", column=name))

    def column(self, name: str, *, required: bool) -> _Column:
        column = _Column(self.base, self.table, name)
        if required and not column.present:
            mapped = f" (study.yml data.columns reads {name} from it)" if name in self.table.mapped else ""
            self.problems.append(Problem(self.table.label, f"required column is absent{mapped}", column=column.source_name))
        return column

    def rule(self, column: _Column, bad, message: Callable[[str], str], shown=None) -> None:
        """``shown``: the value a problem prints, when not the column's text (a TIMESTAMP's date)."""
        if column.present:
            self.rules.append(_Rule(column.source_name, bad, column.text if shown is None else shown, message))

    def text(self, column: _Column, *, required: bool, what: str = "") -> Any:
        import ibis

        if required:
            self.rule(column, column.missing, lambda v: f"is empty but required{what}")
        return ibis.ifelse(column.missing, ibis.null("string"), column.text)

    def number(self, column: _Column, low: float | None, high: float | None, *, low_open: bool = False) -> Any:
        import ibis

        if not column.present:
            return ibis.null("float64")
        if column.dtype.is_integer():
            value, parsed = column.raw.cast("float64"), ~column.missing
        elif column.dtype.is_numeric():
            value = column.raw.cast("float64")  # a DECIMAL (NUMERIC) column too: it has no isinf of its own
            infinite = value.isinf()  # never a missing value (null or NaN)
            self.rule(column, infinite, lambda v: f"{v!r} is not a number")
            parsed = ~column.missing & ~infinite
        else:
            shaped = column.text.re_search(NUMBER_PATTERN)
            unparsable = ~column.missing & ~shaped
            value = ibis.ifelse(column.missing | ~shaped, ibis.null("float64"), column.text.cast("float64"))
            self.rule(column, unparsable, lambda v: f"{v!r} is not a number")
            parsed = ~column.missing & ~unparsable
        if low is not None:
            # In range: the test every value passes, so the rest (is it a number at all?) is worked out only for the
            # values outside, where a CASE evaluates its ELSE: at ten million values DuckDB spent 0.3 s of CPU per
            # column on the whole expression, 0.2 s this way. A NaN is outside (engines order it above every number).
            above = value > low if low_open else value >= low
            within = above & (value <= high) if high is not None else above
            outside = ibis.ifelse(within, False, parsed)
            if high is not None:
                self.rule(column, outside, lambda v: f"{v} is outside {low:g} to {high:g}")
            else:
                relation = "greater than" if low_open else "at least"
                self.rule(column, outside, lambda v: f"{v} must be {relation} {low:g}")
        return ibis.ifelse(column.missing, ibis.null("float64"), value)

    def boolean(self, column: _Column) -> Any:
        import ibis

        if not column.present:
            return ibis.null("boolean")
        if column.dtype.is_boolean():
            return column.raw
        lowered = column.text.lower()
        truthy, falsy = one_of(lowered, TRUE_TEXT), one_of(lowered, FALSE_TEXT)
        self.rule(column, ~column.missing & ~truthy & ~falsy, lambda v: f"{v!r} is not a yes/no value (true/false, yes/no, 1/0)")
        return ibis.cases((column.missing, ibis.null("boolean")), (truthy, True), (falsy, False), else_=ibis.null("boolean"))

    def date(self, column: _Column, allowed: InfusionDates) -> Any:
        import ibis

        self.rule(column, column.missing, lambda v: "is empty but required (a date YYYY-MM-DD)")
        if not column.present:
            return ibis.null("date")
        if column.dtype.is_date():
            value = column.raw
        elif column.dtype.is_timestamp():
            value = column.raw.date()
        else:
            shaped = ~column.missing & column.text.re_search(ISO_DATE_PATTERN)
            real = shaped & calendar_date(column.text, shaped)
            self.rule(column, ~column.missing & ~real, lambda v: f"{v!r} is not a date YYYY-MM-DD")
            value = ibis.ifelse(real, column.text.substr(0, 10).cast("date"), ibis.null("date"))
        self.within(column, value, allowed)
        return value

    def within(self, column: _Column, value, allowed: InfusionDates) -> None:
        """Dates before the earliest or after the tightest latest bound, as :meth:`ketareport.validate._Checker.within`."""
        import ibis

        shown = value.cast("string")  # the date, as from a file: not a TIMESTAMP's "2031-05-01 00:00:00"
        if allowed.earliest is not None:
            early = allowed.earliest
            self.rule(column, ibis.coalesce(value < ibis.date(early.date), False),
                      lambda v: f"{v} is before {early.date.isoformat()}, {early.source}", shown)
        if allowed.latest:
            late = min(allowed.latest, key=lambda limit: limit.date)
            self.rule(column, ibis.coalesce(value > ibis.date(late.date), False),
                      lambda v: f"{v} is after {late.date.isoformat()}, {late.source}", shown)

    def unique(self, column: _Column, what: str, listed=None) -> Any:
        """Rows per id (``n``), to find duplicated ids: one query (grouped), not a rule of single rows. ``listed``:
        a per-row flag also aggregated per id (``listed``: any row has it), for ids the results list."""
        if not column.present:
            return None
        # Missing ids filtered out first, then grouped on the plain text: a CASE expression as the
        # grouping key costs DuckDB four times as much at 10 million rows.
        present = self.base.filter(~column.missing)
        ids = present.select(value=column.text, **({} if listed is None else {"listed": listed}))
        flags = {} if listed is None else {"listed": ids.listed.any()}
        return ids.group_by("value").aggregate(n=ids.count(), **flags), column, what

    def any_broken(self) -> Any:
        """Does a row break any rule: one boolean, so that one query shows whether valid data breaks none."""
        import ibis

        return functools.reduce(operator.or_, [ibis.coalesce(rule.bad, False) for rule in self.rules], ibis.literal(False))

    def run(self, key_columns: tuple[str, ...]) -> None:
        """Count every rule's offending rows in one query, then fetch the first of each broken rule."""
        if not self.rules:
            return
        table = self.base
        counts = table.aggregate(**{f"rule_{i}": rule.bad.sum() for i, rule in enumerate(self.rules)}).to_pandas()
        keys = {name: table[name].cast("string").strip() for name in key_columns if name in self.table.source_columns}
        for i, rule in enumerate(self.rules):
            count = int(counts.iat[0, i] or 0)
            if count == 0:
                continue
            rows = (
                table.filter(rule.bad).select(**{f"key_{name}": expression for name, expression in keys.items()}, value=rule.shown)
                .order_by([f"key_{name}" for name in keys] or ["value"]).limit(ROWS_SHOWN).to_pyarrow().to_pylist()
            )
            for record in rows:
                shown = "" if record["value"] is None else str(record["value"])
                self.problems.append(Problem(
                    self.table.label, rule.message(shown), column=rule.column, value=shown,
                    key=_key_text({name: record[f"key_{name}"] for name in keys}),
                ))
            if count > len(rows):
                self.problems.append(Problem(
                    self.table.label, f"{count - len(rows)} more rows break the same rule (the first {len(rows)} are listed)",
                    column=rule.column,
                ))

    def report_duplicates(self, grouped) -> None:
        self.problems.extend(self.duplicates(grouped))

    def duplicates(self, grouped) -> list[Problem]:
        """The problems of duplicated ids (:meth:`unique`), to be listed where the file path lists them."""
        if grouped is None:
            return []
        ids, column, what = grouped
        counts = ids.filter(ids.n > 1)
        total = int(counts.count().to_pyarrow().as_py())
        if total == 0:
            return []
        rows = counts.order_by("value").limit(ROWS_SHOWN).to_pyarrow().to_pylist()
        problems = [
            Problem(self.table.label, f"duplicate {what} {value!r} ({int(n)} rows)", column=column.source_name,
                    value=str(value), key=f"{column.name} {value!r}")
            for value, n in ((row["value"], row["n"]) for row in rows)
        ]
        if total > len(rows):
            problems.append(Problem(self.table.label, f"{total - len(rows)} more duplicated {what} values", column=column.source_name))
        return problems


def _key_text(keys: dict[str, Any]) -> str:
    """``infusion_id 'I0042'``; a row without its id is named by the other key columns."""
    names = list(keys)
    if not names:
        return "(no key)"
    if keys[names[0]] not in (None, ""):
        return f"{names[0]} {keys[names[0]]!r}"
    others = [f"{name} {keys[name]!r}" for name in names[1:] if keys[name] not in (None, "")]
    return ", ".join([f"(no {names[0]})", *others])


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
    kept: it counts each patient's rows breaking any rule and text values
    with white space at either end, besides what the analysis needs, so that
    checking valid data costs no reading of its own. The unknown patients
    are the kept grouping's ids missing from the patients. Only a broken
    rule sends the checks back for each rule's counts and first rows.
    Duplicated ids are one grouping query per table.
    """
    import ibis

    problems: list[Problem] = []
    patients, typed_patients, duplicated_patients = _patient_rules(source, problems, index_diagnosis)
    patients.run(("patient_id",))
    patients.report_duplicates(duplicated_patients)
    # The typed patients, stored (1.3 million rows are a small table): every query of the infusions joins
    # their groups, and the analysis reads them several times.
    kept = source.keep(typed_patients.filter(typed_patients.patient_id.notnull()), grouped_texts=True)
    groups = kept.select(known_id=kept.patient_id, known_index=kept.is_index)
    before_infusions = len(problems)
    infusions, typed_infusions, columns = _infusion_rules(source, problems, dates, UNTRIMMED)
    per_patient, found = _reduced_per_patient(source, typed_infusions, groups)
    if found["edged_patient_ids"]:  # an id with white space at an end: the rows are read again, every id trimmed
        del problems[before_infusions:]
        untested = frozenset({"side_effects"})
        infusions, typed_infusions, columns = _infusion_rules(source, problems, dates, untested)
        per_patient, found = _reduced_per_patient(source, typed_infusions, groups)
    else:
        untested = UNTRIMMED
    plain = frozenset(name for name in columns if not found.get(f"edged__{name}", 1)) | untested
    if found["broken"]:
        infusions.run(("infusion_id", "patient_id"))
    # The same typing again, without testing the ends of the texts that have no white space there.
    plainly, typed_plainly, plain_columns = _infusion_rules(source, [], dates, plain)
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


def _listed_infusion_ids(source: Source, infusions: _TableRules, columns: dict[str, _Column]) -> Any:
    """The infusions' ids grouped (:meth:`_TableRules.unique`) with whether the infusion is excluded (``listed``),
    kept for the ids found more than once and those of excluded infusions: the one grouping of ten million ids
    that finds the duplicated ones also lists the excluded ones, which a query of their own read again."""
    if not columns["infusion_id"].present:
        return None
    excluded = functools.reduce(operator.or_, [columns[name].missing for name in ANALYSIS_COLUMNS])
    ids, column, what = infusions.unique(columns["infusion_id"], "infusion_id", listed=excluded)
    return source.keep(ids.filter((ids.n > 1) | ids.listed)), column, what


def _reduced_per_patient(source: Source, infusions, groups) -> tuple[Any, dict[str, Any]]:
    """The infusions grouped by patient and kept (:func:`ketareport.sources.per_patient.reduced_per_patient`), and
    what the check needs from it: the rows breaking a rule (``broken``), the text values with white space at an
    end per column (``edged__COLUMN``), the grouped patient ids with white space at an end (``edged_patient_ids``)
    and the ids not in the patients table (``unknown``)."""
    edged = [name for name in infusions.columns if name.startswith("edged__")]
    per_patient = source.keep(reduced_per_patient(infusions, {"n_broken": infusions.broken, **{name: infusions[name] for name in edged}}))
    owners = per_patient.left_join(groups, per_patient[PATIENT_KEY] == groups.known_id)
    key = owners[PATIENT_KEY]
    return per_patient, one_row(owners.aggregate(
        broken=owners.n_broken.sum(), unknown=(key.notnull() & owners.known_id.isnull()).sum(),
        edged_patient_ids=edged_text(key).sum(), **{name: owners[name].sum() for name in edged},
    ))


def _with_patients(infusions, groups) -> Any:
    """The typed infusions with their patient's known_id and known_index (null for an unknown patient)."""
    return infusions.left_join(groups, infusions.patient_id == groups.known_id)


def typed_infusion_rows(source: Source, dates: InfusionDates) -> Any:
    """The infusions typed as :func:`check_source` types them, with ``infusion_id`` and ``patient_id``, not kept:
    for the one query that needs every analysed infusion's ids (the R cross-check's table), once the check passed."""
    return _infusion_rules(source, [], dates)[1]


def _patient_rules(source: Source, problems: list[Problem], index_diagnosis: str):
    import ibis

    patients = _TableRules(source.patients, problems)
    column = {name: patients.column(name, required=name in REQUIRED_PATIENT_COLUMNS) for name in PATIENT_COLUMNS}
    patient_id = patients.text(column["patient_id"], required=True)
    duplicated = patients.unique(column["patient_id"], "patient_id")
    diagnosis = patients.text(column["diagnosis"], required=True)
    sex = patients.text(column["sex"], required=False)
    patients.rule(column["sex"], sex.notnull() & ~one_of(sex, ("F", "M")), lambda v: f"{v!r} must be F, M or blank")
    typed = patients.base.select(
        patient_id=patient_id,
        diagnosis_as_written=diagnosis,
        sex=ibis.ifelse(one_of(sex, ("F", "M")), sex, ibis.null("string")),
        age_years=patients.number(column["age_years"], 0, 120),
        interventions_as_written=patients.text(column["previous_interventions"], required=False),
        relief_duration_days=patients.number(column["relief_duration_days"], 0, None),
        relief_ongoing=ibis.coalesce(patients.boolean(column["relief_ongoing"]), False),
    )
    typed = normalised_once(typed, "diagnosis_as_written", "diagnosis", normalised_diagnoses, ibis.null("string"))
    typed = typed.select(
        "patient_id", "diagnosis", "diagnosis_as_written", "sex", "age_years",
        previous_interventions_as_written=typed.interventions_as_written,
        relief_duration_days="relief_duration_days", relief_ongoing="relief_ongoing", is_index=typed.diagnosis == index_diagnosis,
    )
    return patients, typed, duplicated


def _infusion_rules(source: Source, problems: list[Problem], dates: InfusionDates, untested: frozenset[str] = frozenset()):
    """The infusions' rules, their typed table and their columns; ``untested``: the text columns whose values
    are not tested for white space at their ends, per row (known to hold none, or tested elsewhere: see
    :data:`UNTRIMMED`)."""
    infusions = _TableRules(source.infusions, problems, untested)
    required = {*REQUIRED_INFUSION_COLUMNS, *ANALYSIS_COLUMNS}
    column = {name: infusions.column(name, required=name in required) for name in INFUSION_COLUMNS}
    typed = infusions.base.select(
        # Built before ``broken``, which ORs the rules the typed columns registered.
        infusion_id=infusions.text(column["infusion_id"], required=True),
        patient_id=infusions.text(column["patient_id"], required=True),
        infusion_date=infusions.date(column["infusion_date"], dates),
        ketamine_dose_mg=infusions.number(column["ketamine_dose_mg"], 0, None, low_open=True),
        infusion_duration_min=infusions.number(column["infusion_duration_min"], 0, None, low_open=True),
        vas_pre=infusions.number(column["vas_pre"], 0, 10),
        vas_post=infusions.number(column["vas_post"], 0, 10),
        midazolam=infusions.boolean(column["midazolam"]),
        ondansetron=infusions.boolean(column["ondansetron"]),
        side_effects_as_written=infusions.text(column["side_effects"], required=False),
        broken=infusions.any_broken(),
        **{f"edged__{name}": text.edged for name, text in column.items()
           if text.present and text.dtype.is_string() and name not in untested},
    )
    excluded = functools.reduce(operator.or_, [typed[name].isnull() for name in ANALYSIS_COLUMNS])
    return infusions, typed.mutate(excluded=excluded), column


def _unknown_patients(source: Source, patients, infusions, column: _Column, problems: list[Problem]) -> None:
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
            key=_key_text({"infusion_id": infusion_id, "patient_id": patient_id}),
        ))
    if total > len(rows):
        problems.append(Problem(source.infusions.label, f"{total - len(rows)} more rows break the same rule (the first {len(rows)} are listed)", column=column.source_name))

