"""The study configuration: metadata for the report and every analysis option.

One YAML file (``study.yml``) with three blocks, each optional:

``study``     title, authors, institution, period, review-board approval ...
``analysis``  the options of ``docs/methods.md`` (defaults reproduce it)
``report``    presentation: page size, file name

A wrong option is reported like wrong data: every problem at once, each
naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .contract import RELIEF_METHODS, normalise_diagnosis
from .errors import ConfigInvalid, Problem

RELIEF_METHOD_NAMES = tuple(RELIEF_METHODS)

DIFFERENCE_TESTS = ("welch", "pooled")
PAGE_SIZES = ("A4", "Letter")


@dataclass(frozen=True)
class Author:
    name: str
    affiliation: str | None = None


@dataclass(frozen=True)
class StudyMetadata:
    """What the title block, the abstract's Design/Setting and the appendix say."""

    title: str = "Outpatient ketamine infusions in refractory chronic pain: a retrospective analysis"
    subtitle: str | None = None
    authors: tuple[Author, ...] = ()
    institution: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    review_board: str | None = None
    setting: str | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReliefThreshold:
    """A relief outcome: duration ``>= days`` (inclusive) or ``> days``."""

    name: str
    days: float
    inclusive: bool
    label: str

    def met(self, duration_days):
        """Vectorised: does a duration (scalar or array) meet the threshold?"""
        return duration_days >= self.days if self.inclusive else duration_days > self.days

    @property
    def rule(self) -> str:
        """The threshold as a relation, e.g. ``≥ 7 days``."""
        days = f"{self.days:g}"
        return f"{'≥' if self.inclusive else '>'} {days} days"


DEFAULT_THRESHOLDS = (
    ReliefThreshold("lasting", 7, True, "Lasting relief"),
    ReliefThreshold("long", 21, False, "Relief over 3 weeks"),
)


@dataclass(frozen=True)
class AnalysisOptions:
    """Every analysis option of ``docs/methods.md``; defaults reproduce the published analysis."""

    index_diagnosis: str = "crps"
    index_label: str = "CRPS"
    comparison_label: str = "Other diagnoses"
    conf_level: float = 0.95
    difference_test: str = "welch"
    relief_method: str = "bernoulli"
    relief_conf_level: float = 0.90
    relief_thresholds: tuple[ReliefThreshold, ...] = DEFAULT_THRESHOLDS
    sensitivity_model: bool = True


@dataclass(frozen=True)
class ReportOptions:
    page_size: str = "A4"
    name: str = "ketamine-report"


@dataclass(frozen=True)
class StudyConfig:
    study: StudyMetadata = field(default_factory=StudyMetadata)
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    report: ReportOptions = field(default_factory=ReportOptions)
    source: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        """The resolved configuration as plain data (for the appendix and JSON)."""
        data = asdict(self)
        data["source"] = str(self.source) if self.source else None
        return _plain(data)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (dt.date, Path)):
        return str(value)
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
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigInvalid([Problem(label, f"is not valid YAML: {error}")]) from error
    reader = _ConfigReader(label)
    config = reader.read(raw, source=path)
    if reader.problems:
        raise ConfigInvalid(reader.problems)
    return config


class _ConfigReader:
    """Reads the YAML tree, collecting every problem instead of stopping."""

    def __init__(self, label: str):
        self.label = label
        self.problems: list[Problem] = []

    def problem(self, key: str, value: Any, message: str) -> None:
        """E.g. ``study.yml: analysis.conf_level is 1.5; must be strictly between 0 and 1``."""
        self.problems.append(Problem(self.label, f"{key} is {value!r}; {message}", value=repr(value)))

    def unknown(self, key: str, known: set[str], what: str = "option") -> None:
        self.problems.append(Problem(self.label, f"{key} is not a known {what} (known: {', '.join(sorted(known))})"))

    def block(self, raw: dict, key: str, allowed: set[str]) -> dict:
        value = raw.get(key) or {}
        if not isinstance(value, dict):
            self.problem(key, value, "must be a mapping of options")
            return {}
        for unknown in sorted(set(value) - allowed):
            self.unknown(f"{key}.{unknown}", allowed)
        return value

    def text(self, block: dict, prefix: str, key: str, default: str | None) -> str | None:
        value = block.get(key, default)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)):
            return str(value)
        self.problem(f"{prefix}.{key}", value, "must be text")
        return default

    def number(self, block: dict, prefix: str, key: str, default: float, low: float, high: float | None, *, open_interval: bool = False) -> float:
        value = block.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(f"{prefix}.{key}", value, "must be a number")
            return default
        if high is None:
            inside, bounds = value >= low, f"at least {low:g}"
        elif open_interval:
            inside, bounds = low < value < high, f"strictly between {low:g} and {high:g}"
        else:
            inside, bounds = low <= value <= high, f"between {low:g} and {high:g}"
        if not inside:
            self.problem(f"{prefix}.{key}", value, f"must be {bounds}")
            return default
        return float(value)

    def choice(self, block: dict, prefix: str, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = block.get(key, default)
        if value not in choices:
            self.problem(f"{prefix}.{key}", value, f"must be one of {', '.join(choices)}")
            return default
        return value

    def date(self, block: dict, prefix: str, key: str) -> dt.date | None:
        value = block.get(key)
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.problem(f"{prefix}.{key}", value, "must be a date YYYY-MM-DD")
            return None

    def read(self, raw: Any, source: Path) -> StudyConfig:
        if not isinstance(raw, dict):
            self.problem("(top level)", raw, "must be a mapping with blocks study, analysis, report")
            return StudyConfig(source=source)
        for unknown in sorted(set(raw) - {"study", "analysis", "report"}):
            self.unknown(unknown, {"study", "analysis", "report"}, what="block")
        return StudyConfig(
            study=self.read_study(raw),
            analysis=self.read_analysis(raw),
            report=self.read_report(raw),
            source=source,
        )

    def read_study(self, raw: dict) -> StudyMetadata:
        keys = {"title", "subtitle", "authors", "institution", "period", "review_board", "setting", "keywords"}
        block = self.block(raw, "study", keys)
        defaults = StudyMetadata()
        period = block.get("period") or {}
        if not isinstance(period, dict):
            self.problem("study.period", period, "must be a mapping with start and end dates")
            period = {}
        start = self.date(period, "study.period", "start")
        end = self.date(period, "study.period", "end")
        if start and end and end < start:
            self.problem("study.period.end", str(end), "is before study.period.start")
        return StudyMetadata(
            title=self.text(block, "study", "title", defaults.title) or defaults.title,
            subtitle=self.text(block, "study", "subtitle", None),
            authors=self.read_authors(block.get("authors") or []),
            institution=self.text(block, "study", "institution", None),
            period_start=start,
            period_end=end,
            review_board=self.text(block, "study", "review_board", None),
            setting=self.text(block, "study", "setting", None),
            keywords=tuple(str(k) for k in (block.get("keywords") or [])),
        )

    def read_authors(self, raw: Any) -> tuple[Author, ...]:
        if not isinstance(raw, list):
            self.problem("study.authors", raw, "must be a list of {name, affiliation}")
            return ()
        authors = []
        for position, item in enumerate(raw, start=1):
            if isinstance(item, str):
                authors.append(Author(item))
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                authors.append(Author(item["name"], item.get("affiliation")))
            else:
                self.problem(f"study.authors[{position}]", item, "must be a name or {name, affiliation}")
        return tuple(authors)

    def read_analysis(self, raw: dict) -> AnalysisOptions:
        keys = {"index_diagnosis", "index_label", "comparison_label", "conf_level", "difference_test", "relief", "sensitivity_model"}
        block = self.block(raw, "analysis", keys)
        defaults = AnalysisOptions()
        relief = self.block(block, "relief", {"method", "conf_level", "thresholds"}) if "relief" in block else {}
        index = self.text(block, "analysis", "index_diagnosis", defaults.index_diagnosis) or defaults.index_diagnosis
        sensitivity = block.get("sensitivity_model", True)
        if not isinstance(sensitivity, bool):
            self.problem("analysis.sensitivity_model", sensitivity, "must be true or false")
            sensitivity = True
        return AnalysisOptions(
            index_diagnosis=normalise_diagnosis(index),
            index_label=self.text(block, "analysis", "index_label", defaults.index_label) or defaults.index_label,
            comparison_label=self.text(block, "analysis", "comparison_label", defaults.comparison_label) or defaults.comparison_label,
            conf_level=self.number(block, "analysis", "conf_level", defaults.conf_level, 0, 1, open_interval=True),
            difference_test=self.choice(block, "analysis", "difference_test", defaults.difference_test, DIFFERENCE_TESTS),
            relief_method=self.choice(relief, "analysis.relief", "method", defaults.relief_method, RELIEF_METHOD_NAMES),
            relief_conf_level=self.number(relief, "analysis.relief", "conf_level", defaults.relief_conf_level, 0, 1, open_interval=True),
            relief_thresholds=self.read_thresholds(relief.get("thresholds"), defaults.relief_thresholds),
            sensitivity_model=sensitivity,
        )

    def read_thresholds(self, raw: Any, defaults: tuple[ReliefThreshold, ...]) -> tuple[ReliefThreshold, ...]:
        if raw is None:
            return defaults
        if not isinstance(raw, list) or not raw:
            self.problem("analysis.relief.thresholds", raw, "must be a non-empty list of {name, days, inclusive, label}")
            return defaults
        thresholds = []
        for position, item in enumerate(raw, start=1):
            key = f"analysis.relief.thresholds[{position}]"
            if not isinstance(item, dict):
                self.problem(key, item, "must be a mapping {name, days, inclusive, label}")
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name.isidentifier():
                self.problem(f"{key}.name", name, "must be a short identifier such as lasting")
                continue
            days = self.number(item, key, "days", 0, 0, None)
            inclusive = item.get("inclusive", True)
            if not isinstance(inclusive, bool):
                self.problem(f"{key}.inclusive", inclusive, "must be true (>= days) or false (> days)")
                inclusive = True
            label = item.get("label") or name.replace("_", " ").capitalize()
            thresholds.append(ReliefThreshold(name, days, inclusive, str(label)))
        names = [t.name for t in thresholds]
        for duplicate in sorted({n for n in names if names.count(n) > 1}):
            self.problem("analysis.relief.thresholds", duplicate, "names a threshold twice")
        return tuple(thresholds) or defaults

    def read_report(self, raw: dict) -> ReportOptions:
        block = self.block(raw, "report", {"page_size", "name"})
        defaults = ReportOptions()
        name = self.text(block, "report", "name", defaults.name) or defaults.name
        if not name.replace("-", "").replace("_", "").isalnum():
            self.problem("report.name", name, "must be a file name of letters, digits, - and _")
            name = defaults.name
        return ReportOptions(
            page_size=self.choice(block, "report", "page_size", defaults.page_size, PAGE_SIZES),
            name=name,
        )
