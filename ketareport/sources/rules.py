"""The data dictionary's rules as queries, run in the engine that holds the data.

Each rule is a boolean expression over one table. A query counts the rows
breaking each rule (for the infusions only when their grouping per patient
says some row breaks one); for each rule that is broken, a second query fetches the
first rows (ordered by key) with their key values: a database row has no
line number, so a problem names the table, the row's key, the column and
the value, in the same words as the file path's :mod:`ketareport.validate`.
Every broken rule is reported; nothing is analysed when any is
(:func:`ketareport.sources.typed.check_source` runs them)."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any, Callable

from ..contract import (
    ANALYSIS_COLUMNS, FALSE_TEXT, INFUSION_COLUMNS, MISSING_TEXT, PATIENT_COLUMNS, REQUIRED_INFUSION_COLUMNS,
    REQUIRED_PATIENT_COLUMNS, TRUE_TEXT,
)
from ..errors import Problem
from ..validate import InfusionDates
from .connect import Source, SourceTable
from .text import calendar_date, edged_text, normalised_diagnoses, normalised_once, one_of

ROWS_SHOWN = 20
"""Offending rows fetched per broken rule; the rest are counted."""
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}( 00:00:00)?$"


@dataclass(frozen=True)
class _Rule:
    column: str
    bad: Any
    shown: Any
    message: Callable[[str], str]


class Column:
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
    to have none or tested elsewhere: :data:`ketareport.sources.typed.UNTRIMMED`). Computed once in a query's
    first step: written inline in every rule and typed column that uses them, DuckDB evaluated the tests of
    each value's ends up to nine times a row."""
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


class TableRules:
    """The rules of one table and the typed columns they guard."""

    def __init__(self, table: SourceTable, problems: list[Problem], plain: frozenset[str] = frozenset()):
        self.table = table
        self.base = _prepared(table, plain)
        self.problems = problems
        self.rules: list[_Rule] = []
        for name in table.duplicated:
            problems.append(Problem(table.label, "appears more than once (names are matched ignoring case)", column=name))

    def column(self, name: str, *, required: bool) -> Column:
        column = Column(self.base, self.table, name)
        if required and not column.present:
            mapped = f" (study.yml data.columns reads {name} from it)" if name in self.table.mapped else ""
            self.problems.append(Problem(self.table.label, f"required column is absent{mapped}", column=column.source_name))
        return column

    def rule(self, column: Column, bad, message: Callable[[str], str], shown=None) -> None:
        """``shown``: the value a problem prints, when not the column's text (a TIMESTAMP's date)."""
        if column.present:
            self.rules.append(_Rule(column.source_name, bad, column.text if shown is None else shown, message))

    def text(self, column: Column, *, required: bool, what: str = "") -> Any:
        import ibis

        if required:
            self.rule(column, column.missing, lambda v: f"is empty but required{what}")
        return ibis.ifelse(column.missing, ibis.null("string"), column.text)

    def number(self, column: Column, low: float | None, high: float | None, *, low_open: bool = False) -> Any:
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

    def boolean(self, column: Column) -> Any:
        import ibis

        if not column.present:
            return ibis.null("boolean")
        if column.dtype.is_boolean():
            return column.raw
        lowered = column.text.lower()
        truthy, falsy = one_of(lowered, TRUE_TEXT), one_of(lowered, FALSE_TEXT)
        self.rule(column, ~column.missing & ~truthy & ~falsy, lambda v: f"{v!r} is not a yes/no value (true/false, yes/no, 1/0)")
        return ibis.cases((column.missing, ibis.null("boolean")), (truthy, True), (falsy, False), else_=ibis.null("boolean"))

    def date(self, column: Column, allowed: InfusionDates) -> Any:
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

    def within(self, column: Column, value, allowed: InfusionDates) -> None:
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

    def unique(self, column: Column, what: str, listed=None) -> Any:
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
                    key=key_text({name: record[f"key_{name}"] for name in keys}),
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


def key_text(keys: dict[str, Any]) -> str:
    """``infusion_id 'I0042'``; a row without its id is named by the other key columns."""
    names = list(keys)
    if not names:
        return "(no key)"
    if keys[names[0]] not in (None, ""):
        return f"{names[0]} {keys[names[0]]!r}"
    others = [f"{name} {keys[name]!r}" for name in names[1:] if keys[name] not in (None, "")]
    return ", ".join([f"(no {names[0]})", *others])


def typed_infusion_rows(source: Source, dates: InfusionDates) -> Any:
    """The infusions typed as :func:`ketareport.sources.typed.check_source` types them, with ``infusion_id`` and ``patient_id``, not kept:
    for the one query that needs every analysed infusion's ids (the R cross-check's table), once the check passed."""
    return infusion_rules(source, [], dates)[1]


def patient_rules(source: Source, problems: list[Problem], index_diagnosis: str):
    import ibis

    patients = TableRules(source.patients, problems)
    column = {name: patients.column(name, required=name in REQUIRED_PATIENT_COLUMNS) for name in PATIENT_COLUMNS}
    patient_id = patients.text(column["patient_id"], required=True)
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
    return patients, typed, column["patient_id"]


def infusion_rules(source: Source, problems: list[Problem], dates: InfusionDates, untested: frozenset[str] = frozenset()):
    """The infusions' rules, their typed table and their columns; ``untested``: the text columns whose values
    are not tested for white space at their ends, per row (known to hold none, or tested elsewhere: see
    :data:`ketareport.sources.typed.UNTRIMMED`)."""
    infusions = TableRules(source.infusions, problems, untested)
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
