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
from .text import calendar_date, edged_text, normalised_diagnoses, normalised_labels, normalised_once

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
    ondansetron (nullable bool), side_effects (normalised ``;`` labels), side_effects_as_written (trimmed,
    null = none: to group by before normalising, which costs a regular expression per row), excluded (an
    analysis column missing) and excluded_id (the infusion_id of an excluded infusion, else null: the only
    ids listed)."""
    infusions_alone: Any
    """:attr:`infusions` without the join to their patients (no is_index): for the queries that do not need
    the patient's group (the per-patient grouping, the excluded ids), which the join costs a second each."""


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
    to have none). Computed once in a query's first step: written inline in every rule and typed column that
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
    return table.mutate(**{f"missing__{name}": table[name].isnull() | table[f"text__{name}"].isin(MISSING_TEXT) for name in texts})


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
            unparsable = value.isinf() & ~column.missing
            self.rule(column, unparsable, lambda v: f"{v!r} is not a number")
            parsed = ~column.missing & ~unparsable
        else:
            shaped = column.text.re_search(NUMBER_PATTERN)
            unparsable = ~column.missing & ~shaped
            value = ibis.ifelse(column.missing | ~shaped, ibis.null("float64"), column.text.cast("float64"))
            self.rule(column, unparsable, lambda v: f"{v!r} is not a number")
            parsed = ~column.missing & ~unparsable
        too_low = (value <= low if low_open else value < low) if low is not None else ibis.literal(False)
        too_high = value > high if high is not None else ibis.literal(False)
        if low is not None and high is not None:
            self.rule(column, parsed & (too_low | too_high), lambda v: f"{v} is outside {low:g} to {high:g}")
        elif low is not None:
            relation = "greater than" if low_open else "at least"
            self.rule(column, parsed & too_low, lambda v: f"{v} must be {relation} {low:g}")
        return ibis.ifelse(column.missing, ibis.null("float64"), value)

    def boolean(self, column: _Column) -> Any:
        import ibis

        if not column.present:
            return ibis.null("boolean")
        if column.dtype.is_boolean():
            return column.raw
        lowered = column.text.lower()
        truthy, falsy = lowered.isin(TRUE_TEXT), lowered.isin(FALSE_TEXT)
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

    def unique(self, column: _Column, what: str) -> Any:
        """Duplicated ids: one query (grouped), not a rule of single rows."""
        if not column.present:
            return None
        # Missing ids filtered out first, then grouped on the plain text: a CASE expression as the
        # grouping key costs DuckDB four times as much at 10 million rows.
        present = self.base.filter(~column.missing).select(value=column.text)
        counts = present.group_by("value").aggregate(n=lambda t: t.count()).filter(lambda t: t.n > 1)
        return counts, column, what

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
        counts, column, what = grouped
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


def check_source(source: Source, dates: InfusionDates, index_diagnosis: str) -> TypedSource:
    """Run every rule in the engine; the typed tables, or :class:`DatasetInvalid` listing every problem.

    The patients (a small table) are checked by one counting query and
    kept. The infusions are not stored: storing ten million typed rows cost
    more than all the queries reading them (DuckDB compresses what it
    stores), so each later query reads them from the source through the
    typed expression, and only the columns it needs. One query of the
    infusions joined to their patients counts the rows breaking any rule,
    the unknown patients and the text values with white space at either
    end; only a broken rule sends the checks back for each rule's counts
    and first rows. Duplicated ids are one grouping query per table.
    """
    import ibis

    problems: list[Problem] = []
    patients, typed_patients, duplicated_patients = _patient_rules(source, problems, index_diagnosis)
    infusions, typed_infusions, columns = _infusion_rules(source, problems, dates)
    patients.run(("patient_id",))
    patients.report_duplicates(duplicated_patients)
    # The typed patients, stored (1.3 million rows are a small table): every query of the infusions joins
    # their groups, and the analysis reads them several times.
    kept = source.keep(typed_patients.filter(typed_patients.patient_id.notnull()))
    groups = kept.select(known_id=kept.patient_id, known_index=kept.is_index)
    joined = _with_patients(typed_infusions, groups)
    found = joined.aggregate(
        broken=joined.broken.sum(), unknown=(joined.patient_id.notnull() & joined.known_id.isnull()).sum(),
        **{name: joined[name].sum() for name in joined.columns if name.startswith("edged__")},
    ).to_pyarrow().to_pylist()[0]
    plain = frozenset(name for name in columns if not found.get(f"edged__{name}", 1))
    if found["broken"]:
        infusions.run(("infusion_id", "patient_id"))
    # The same typing again, without testing the ends of the texts that have no white space there.
    plainly, typed_plainly, plain_columns = _infusion_rules(source, [], dates, plain)
    problems.extend(plainly.duplicates(plainly.unique(plain_columns["infusion_id"], "infusion_id")))
    if found["unknown"] and columns["patient_id"].present and "patient_id" in source.patients.source_columns:
        _unknown_patients(source, typed_patients, typed_infusions, columns["patient_id"], problems)
    if problems:
        raise DatasetInvalid(problems)
    columns_read = ("patient_id", "infusion_date", *ANALYSIS_COLUMNS, "midazolam", "ondansetron", "side_effects",
                    "side_effects_as_written", "excluded")
    alone = typed_plainly.select(
        *columns_read, excluded_id=ibis.ifelse(typed_plainly.excluded, typed_plainly.infusion_id, ibis.null("string")))
    analysed = _with_patients(alone, groups)
    named = kept.mutate(previous_interventions=normalised_labels(kept.previous_interventions_as_written))
    return TypedSource(source, named, analysed.select(
        *columns_read, "excluded_id", is_index=ibis.coalesce(analysed.known_index, False),
    ), alone)


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
    patients.rule(column["sex"], sex.notnull() & ~sex.isin(["F", "M"]), lambda v: f"{v!r} must be F, M or blank")
    typed = patients.base.select(
        patient_id=patient_id,
        diagnosis_as_written=diagnosis,
        sex=ibis.ifelse(sex.isin(["F", "M"]), sex, ibis.null("string")),
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


def _infusion_rules(source: Source, problems: list[Problem], dates: InfusionDates, plain: frozenset[str] = frozenset()):
    """The infusions' rules, their typed table and their columns; ``plain``: the text columns known to hold
    no value with white space at either end."""
    infusions = _TableRules(source.infusions, problems, plain)
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
        **{f"edged__{name}": text.edged for name, text in column.items() if text.present and text.dtype.is_string()},
    )
    typed = typed.mutate(side_effects=normalised_labels(typed.side_effects_as_written))
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

