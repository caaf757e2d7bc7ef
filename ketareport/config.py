"""The study configuration (``study.yml``): the report's metadata and every analysis option.

Declared once, in the small schema language of :mod:`ketareport.config_schema`:
each option's description *is* its documentation. ``docs/configuration.md`` and the commented template that
``ketareport init`` writes are generated from these models
(:mod:`ketareport.config_docs`), and a test fails when the committed page
drifts. The analysis options are those of ``docs/methods.md``; their
defaults reproduce the published analysis.

A wrong option is reported like wrong data: every problem at once, each a
:class:`~ketareport.errors.Problem` naming the file, the key path, the value
and what was expected (exit status 2).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from .config_checks import contradiction, fail, file_name, identifier, iso_date, non_negative, one_of, open_unit
from .config_problems import validation_problems
from .config_schema import (
    Block, BlockOf, Boolean, Date, ListOf, Literal, Number, Option, Optional, SchemaErrors, Text, TextMapping,
    WholeNumber, YesNo,
)
from .contract import (
    CANONICAL_LABELS, DEFAULT_RELIEF_METHOD, INDEX_DIAGNOSIS, INFUSION_COLUMNS, PATIENT_COLUMNS, RELIEF_METHODS, normalise_diagnosis,
)
from .errors import ConfigInvalid, Problem

DEFAULT_TITLE = "Outpatient ketamine infusions in refractory chronic pain: a retrospective analysis"
RELIEF_METHOD_NAMES = tuple(RELIEF_METHODS)
DIFFERENCE_TESTS = ("welch", "pooled")
PAGE_SIZES = ("A4", "Letter")
STATUSES = ("draft", "final")

DATE = Date(iso_date)


# ------------------------------------------------------------------ study --

class Author(Block):
    """An author: a plain name, or a name with an affiliation."""

    name = Option(Text(), description="the author's name as printed")
    affiliation = Option(Optional(Text()), None, description="department and institution")

    @classmethod
    def prepare(cls, data: Any) -> Any:
        return super().prepare({"name": data} if isinstance(data, str) else data)


class Period(Block):
    """The review period: first and last day whose records were reviewed."""

    start = Option(DATE, description="first day of the review period")
    end = Option(DATE, description="last day of the review period")

    def validate(self) -> None:
        if self.end < self.start:
            raise fail(f"end {self.end} is before start {self.start}")


class StudyMetadata(Block):
    """What the title page, the abstract's Design and Setting, and the appendix say."""

    title = Option(
        Text(), DEFAULT_TITLE, description="manuscript title; without one the report is a draft",
        default_text="a generic title", example="Outpatient ketamine infusions in CRPS",
    )
    short_title = Option(
        Optional(Text()), None, description="running head of the PDF pages",
        default_text="the title up to its first colon", example="Ketamine infusions in CRPS",
    )
    subtitle = Option(Optional(Text()), None, description="line under the title", example="A 5-year retrospective analysis")
    authors = Option(
        ListOf(BlockOf(Author)), (), description="list of names, or of `{name, affiliation}`",
        example=[{"name": "A. Author", "affiliation": "Department of Anesthesia"}, "B. Author"],
    )
    institution = Option(Optional(Text()), None, description="institution in the title block", example="University hospital")
    period = Option(
        Optional(BlockOf(Period)), None, description="`{start, end}`: dates of the review period",
        example={"start": dt.date(2004, 1, 1), "end": dt.date(2009, 12, 31)},
    )
    review_board = Option(
        Optional(Text()), None, description="review-board (IRB / ethics committee) approval statement",
        example="Approved by the Institutional Review Board",
    )
    protocol = Option(Optional(Text()), None, description="protocol or IRB number", example="IRB 2010-123")
    setting = Option(Optional(Text()), None, description="the abstract's Setting", example="Outpatient pain clinic of an academic medical centre")
    keywords = Option(ListOf(Text()), (), description="keywords, a list of text", example=["ketamine", "chronic pain"])

    @property
    def period_start(self) -> dt.date | None:
        return self.period.start if self.period else None

    @property
    def period_end(self) -> dt.date | None:
        return self.period.end if self.period else None


# --------------------------------------------------------------- analysis --

def _whole_days(days: float) -> float | int:
    """``days: 7`` in a dumped study.yml, not ``7.0``."""
    return int(days) if days.is_integer() else days


class ReliefThreshold(Block):
    """A relief outcome: duration ``>= days`` (inclusive) or ``> days``."""

    name = Option(Text(), checks=(identifier,), description="short identifier; the `term` in estimates.csv")
    days = Option(Number(), checks=(non_negative,), description="the threshold in days (required)", dump=_whole_days)
    inclusive = Option(Boolean(), True, description="true: duration ≥ days; false: duration > days")
    label = Option(Text(), "", description="how the report names it (default: from days, e.g. `Relief for at least 7 days`)")

    @classmethod
    def prepare(cls, data: Any) -> Any:  # the name is an identifier ("week"), not words for a sentence
        if isinstance(data, dict) and not data.get("label") and isinstance(data.get("days"), (int, float)):
            relation = "at least" if data.get("inclusive", True) is not False else "more than"
            data = {**data, "label": f"Relief for {relation} {data['days']:g} days"}
        return super().prepare(data)

    def met(self, duration_days):
        """Vectorised: does a duration (scalar or array) meet the threshold?"""
        return duration_days >= self.days if self.inclusive else duration_days > self.days

    @property
    def rule(self) -> str:
        """The threshold as a relation, e.g. ``≥ 7 days``."""
        return f"{'≥' if self.inclusive else '>'} {self.days:g} days"


DEFAULT_THRESHOLDS = (
    ReliefThreshold(name="lasting", days=7, inclusive=True, label="Lasting relief"),
    ReliefThreshold(name="long", days=21, inclusive=False, label="Relief over 3 weeks"),
)


def _distinct(thresholds: tuple[ReliefThreshold, ...]) -> tuple[ReliefThreshold, ...]:
    if not thresholds:
        raise fail("must list at least one threshold")
    names = [threshold.name for threshold in thresholds]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise fail(f"names a threshold twice: {', '.join(twice)}")
    return thresholds


class ReliefOptions(Block):
    """How the probability of lasting relief is estimated (docs/methods.md, Duration of relief)."""

    method = Option(
        Text(), DEFAULT_RELIEF_METHOD, checks=(one_of(RELIEF_METHOD_NAMES),),
        description="interval method: " + "; ".join(f"`{m.name}`: {m.description}" for m in RELIEF_METHODS.values()),
    )
    conf_level = Option(Number(), 0.90, checks=(open_unit,), description="level of the relief intervals")
    thresholds = Option(
        ListOf(BlockOf(ReliefThreshold)), DEFAULT_THRESHOLDS, checks=(_distinct,),
        description="list of `{name, days, inclusive, label}`; each a relief outcome",
        default_text="lasting ≥ 7 days, long > 21 days",
    )


def _grouping_key(value: str) -> str:
    key = normalise_diagnosis(value)
    if not key:
        raise fail("must name a diagnosis")
    return key


class AnalysisOptions(Block):
    """Every analysis option of docs/methods.md; the defaults reproduce the published analysis."""

    index_diagnosis = Option(
        Text(), INDEX_DIAGNOSIS, checks=(_grouping_key,),
        description="the index group's diagnosis, grouped like the data (`Back Pain` → `back_pain`); "
                    "everyone else is the comparison group; also the `term` of the index group in estimates.csv",
    )
    index_label = Option(  # set by prepare
        Text(), None, description="how the report names the index group",
        default_text="the index diagnosis's usual label (`CRPS` for `crps`, `headache`…)", example="CRPS",
    )
    comparison_label = Option(Text(), "Other diagnoses", description="how the report names the comparison group")
    conf_level = Option(Number(), 0.95, checks=(open_unit,), description="level of the t intervals (VAS reduction and mixed model)")
    difference_test = Option(
        Text(), "welch", checks=(one_of(DIFFERENCE_TESTS),), description="`welch` (unequal variances) or `pooled` (equal variances)",
    )
    sensitivity_model = Option(Boolean(), True, description="fit the random-intercept mixed model on infusions")
    relief = Option(BlockOf(ReliefOptions), default_factory=ReliefOptions, description="the relief analysis")

    @classmethod
    def prepare(cls, data: Any) -> Any:
        """Without ``index_label``, the group is named after its diagnosis: a study of headache must not print "CRPS"."""
        if isinstance(data, dict) and data.get("index_label") is None:
            key = normalise_diagnosis(str(data.get("index_diagnosis", INDEX_DIAGNOSIS)))
            data = {**data, "index_label": CANONICAL_LABELS.get(key, key.replace("_", " "))}
        return super().prepare(data)

    @property
    def relief_method(self) -> str:
        return self.relief.method

    @property
    def relief_conf_level(self) -> float:
        return self.relief.conf_level

    @property
    def relief_thresholds(self) -> tuple[ReliefThreshold, ...]:
        return self.relief.thresholds


# ----------------------------------------------------------------- report --

class ReportOptions(Block):
    """The report as a document: file name, page, version and status."""

    page_size = Option(Text(), "A4", checks=(one_of(PAGE_SIZES),), description="`A4` or `Letter`")
    name = Option(Text(), "ketamine-report", checks=(file_name,), description="file name of the HTML and PDF (letters, digits, - and _)")
    version = Option(Optional(Text()), None, description="version of the report, e.g. 1.2", example="1.0")
    status = Option(Text(), "draft", checks=(one_of(STATUSES),), description="`draft` or `final`")
    date = Option(
        Optional(DATE), None, description="date of the report",
        default_text="the date it is generated", example=dt.date(2012, 1, 31),
    )
    data_lock = Option(Optional(DATE), None, description="date the dataset was locked for analysis", example=dt.date(2011, 12, 15))
    suppress_below = Option(
        Optional(WholeNumber(at_least=2)), None, description="hide counts below this number (small-cell suppression; at least 2)",
        example=5,
    )
    publish_results = Option(
        YesNo(), False, description="`ketareport publish` with suppression on: also publish the exact, unsuppressed "
        "results.json, results.rds and estimates.csv (without suppression they are always published)",
    )


def _known_columns(columns: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(columns) - set(PATIENT_COLUMNS) - set(INFUSION_COLUMNS))
    if unknown:
        raise fail(f"has keys that are not data-dictionary columns: {', '.join(unknown)}")
    return columns


class DataOptions(Block):
    """Where the two tables are, when the source names them otherwise (docs/data-dictionary.md)."""

    patients = Option(Text(), "patients", description="name of the patients table (file stem, sheet, data frame or database table)")
    infusions = Option(Text(), "infusions", description="name of the infusions table")
    columns = Option(
        TextMapping(), {}, checks=(_known_columns,), description="map from a data-dictionary column to the source's column name",
        default_text="none", example={"vas_pre": "vas_before", "vas_post": "vas_after"},
    )
    engine = Option(
        Optional(Literal(("duckdb", "postgres", "spark"))), None,
        description="database engine holding the tables (as `--engine`); a DuckDB file or a database URL names its own",
        default_text="the files' own reader, or the engine DATASET names", example="spark",
    )
    spark_master = Option(
        Text(), "local[*]", description="Spark master URL for `--engine spark`: a cluster instead of local mode",
        example="spark://spark-master:7077",
    )


# ----------------------------------------------------------------- config --

def _normalised_keys(labels: dict[str, str]) -> dict[str, str]:
    keys = {}
    for written, printed in labels.items():
        key = normalise_diagnosis(written)
        if not key:
            raise fail(f"{written!r} names no diagnosis")
        if key in keys:
            raise fail(f"{written!r} and {keys[key][0]!r} are the same diagnosis")
        keys[key] = (written, printed)
    return {key: printed for key, (_, printed) in keys.items()}


class StudyConfig(Block):
    """One study.yml: every block optional."""

    study = Option(BlockOf(StudyMetadata), default_factory=StudyMetadata, description="the title page, abstract and appendix")
    analysis = Option(BlockOf(AnalysisOptions), default_factory=AnalysisOptions, description="the analysis (docs/methods.md)")
    report = Option(BlockOf(ReportOptions), default_factory=ReportOptions, description="the report as a document")
    labels = Option(
        TextMapping(), {}, checks=(_normalised_keys,),
        description="how the report prints a diagnosis: data label → printed label (keys grouped like the data)",
        default_text="as written in the data", example={"hiv neuropathy": "HIV neuropathy"},
    )
    data = Option(BlockOf(DataOptions), default_factory=DataOptions, description="table and column names of the source")

    def validate(self) -> None:
        """A data lock before the first day reviewed would make every infusion date an error: say it once, here."""
        lock, period = self.report.data_lock, self.study.period
        if lock is not None and period is not None and lock < period.start:
            raise contradiction(f"report.data_lock {lock} is before the start of study.period ({period.start})")

    @property
    def source(self) -> Path | None:
        """The study.yml this came from; None for the built-in defaults."""
        return self.__dict__.get("_source")

    def is_final(self) -> bool:
        """The report is final (no DRAFT mark) only with ``report.status: final`` and nothing a submission needs
        missing (:meth:`missing_metadata`); the title page, the PDF and ``check`` all decide by this."""
        return self.report.status == "final" and not self.missing_metadata()

    def missing_metadata(self) -> tuple[str, ...]:
        """What a submission needs that this configuration lacks, as phrases ("a title (study.title)")."""
        missing = [] if self.source else ["a study.yml (defaults were used)"]
        study = self.study
        if "title" not in study.given:
            missing.append("a title (study.title)")
        if not study.authors:
            missing.append("authors (study.authors)")
        if not study.review_board:
            missing.append("a review-board statement (study.review_board)")
        if study.period is None:
            missing.append("the study period (study.period)")
        return tuple(missing)

    def as_study_yml(self, *, dates_as_text: bool = False) -> dict[str, Any]:
        """The configuration actually used, as the tree of a valid study.yml.

        No ``null`` entries and no empty lists; a default title is left out
        (it was not given). Read back with :func:`load_config`, it gives the
        same analysis and the same report. ``dates_as_text`` gives ISO text
        instead of dates (for JSON and R).
        """
        tree = self.dump(dates_as_text=dates_as_text, exclude_none=True)
        if "title" not in self.study.given:
            del tree["study"]["title"]
        return _plain(tree)

    def as_dict(self) -> dict[str, Any]:
        """The configuration for results.json / results.rds: :meth:`as_study_yml` with dates as text."""
        return self.as_study_yml(dates_as_text=True)

    def study_yml(self) -> str:
        """:meth:`as_study_yml` as YAML text."""
        return yaml.safe_dump(self.as_study_yml(), sort_keys=False, allow_unicode=True, width=100)


def _plain(value: Any) -> Any:
    """Tuples as lists, and empty containers dropped, for YAML and JSON."""
    if isinstance(value, dict):
        items = {key: _plain(item) for key, item in value.items()}
        return {key: item for key, item in items.items() if item not in ({}, [])}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def find_config(dataset: Path) -> Path | None:
    """The ``study.yml`` that belongs to a dataset, if it ships one."""
    folder = dataset if dataset.is_dir() else dataset.parent
    candidate = folder / "study.yml"
    return candidate if candidate.is_file() else None


def load_config(path: Path | None) -> StudyConfig:
    """Read and check a study configuration; ``None`` gives the defaults."""
    if path is None:
        return StudyConfig()
    label = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigInvalid([Problem(label, f"cannot be read ({error.strerror})")]) from error
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigInvalid([Problem(label, f"is not valid YAML: {error}")]) from error
    return parse_config(raw, label, source=path)


def parse_config(raw: Any, label: str, source: Path | None = None) -> StudyConfig:
    """Check a parsed YAML tree; :class:`ConfigInvalid` lists every problem."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigInvalid([Problem(label, f"(top level) is {raw!r}; must be a mapping with blocks study, analysis, report", value=repr(raw))])
    try:
        config = StudyConfig.read(raw)
    except SchemaErrors as error:
        raise ConfigInvalid(validation_problems(error, label)) from None
    config.__dict__["_source"] = source  # not an option: where the options came from
    return config
