"""How a wrong study.yml is reported: pydantic's validation errors as :class:`Problem` s.

Each problem names the file, the key path as the user writes it
(``analysis.relief.thresholds[1].days``, counting from 1), the value as YAML
shows it, and what was expected; a schema check in :mod:`ketareport.config`
raises ``PydanticCustomError("ketareport", expected)`` to say it in its own words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import Problem

_EXPECTED = {
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping of options",
    "model_attributes_type": "must be a mapping of options",
    "too_short": "must not be empty",
}


def _key_path(location: tuple) -> str:
    path = ""
    for part in location:
        path += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def validation_problems(error: ValidationError, label: str, root: type[BaseModel]) -> list[Problem]:
    """Every error pydantic found, each as a :class:`Problem` of file ``label``."""
    return [_problem(label, detail, root) for detail in error.errors()]


def _problem(label: str, detail: dict, root: type[BaseModel]) -> Problem:
    """One pydantic error as a Problem: ``study.yml: analysis.conf_level is 1.5; must be strictly between 0 and 1``."""
    location, kind = tuple(detail["loc"]), detail["type"]
    key = _key_path(location)
    if kind == "extra_forbidden":
        known = ", ".join(_known_keys(root, location[:-1]))
        what = "block" if len(location) == 1 else "option"
        return Problem(label, f"{key} is not a known {what} (known: {known})")
    if kind == "missing":
        return Problem(label, f"{key} is missing; it is required")
    if kind == "ketareport_contradiction":
        return Problem(label, detail["msg"])
    if kind == "ketareport":
        expected = detail["msg"]
    elif kind == "greater_than_equal":
        expected = f"must be at least {detail['ctx']['ge']}"
    else:
        expected = _EXPECTED.get(kind, detail["msg"])
    value = repr(_dates_as_text(detail.get("input")))
    return Problem(label, f"{key} is {value}; {expected}", value=value)


def _dates_as_text(value: Any) -> Any:
    """A value as the user wrote it in YAML: dates as ISO text, not ``datetime.date(...)``."""
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _known_keys(root: type[BaseModel], location: tuple) -> list[str]:
    """The keys allowed at a place in study.yml, for the message about an unknown one."""
    model = root
    for part in location:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next(c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel))
    return sorted(model.model_fields)
