"""How a wrong study.yml is reported: the schema's errors (:mod:`ketareport.config_schema`) as :class:`Problem` s.

Each problem names the file, the key path as the user writes it
(``analysis.relief.thresholds[1].days``, counting from 1), the value as YAML
shows it, and what was expected; a check in :mod:`ketareport.config_checks`
raises ``fail(expected)`` to say it in its own words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .config_schema import Error, SchemaErrors
from .errors import Problem


def _key_path(location: tuple) -> str:
    path = ""
    for part in location:
        path += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def validation_problems(error: SchemaErrors, label: str) -> list[Problem]:
    """Every error the schema found, each as a :class:`Problem` of file ``label``."""
    return [_problem(label, detail) for detail in error.errors]


def _problem(label: str, error: Error) -> Problem:
    """One error as a Problem: ``study.yml: analysis.conf_level is 1.5; must be strictly between 0 and 1``."""
    key = _key_path(error.location)
    if error.kind == "unknown":
        what = "block" if len(error.location) == 1 else "option"
        return Problem(label, f"{key} is not a known {what} (known: {error.expected})")
    if error.kind == "missing":
        return Problem(label, f"{key} {error.expected}")
    if error.kind == "contradiction":
        return Problem(label, error.expected)
    value = repr(_dates_as_text(error.given))
    return Problem(label, f"{key} is {value}; {error.expected}", value=value)


def _dates_as_text(value: Any) -> Any:
    """A value as the user wrote it in YAML: dates as ISO text, not ``datetime.date(...)``."""
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date) else value
