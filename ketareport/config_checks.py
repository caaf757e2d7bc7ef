"""The checks of single values in study.yml, each failing with what was expected (``must be ...``), which
:mod:`ketareport.config_problems` turns into a :class:`~ketareport.errors.Problem`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .config_schema import Invalid


def fail(expected: str) -> Invalid:
    """A validation error whose message is ``expected`` as it is."""
    return Invalid(expected)


def contradiction(message: str) -> Invalid:
    """Two options that cannot both hold; ``message`` names both keys and is the whole problem."""
    return Invalid(message, contradiction=True)


def iso_date(value: Any) -> Any:
    """A YAML date or ISO text; not a number (2004 is not a date), nor a date with a time."""
    if isinstance(value, dt.datetime):
        raise fail("must be a date YYYY-MM-DD, without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise fail("must be a date YYYY-MM-DD")


def open_unit(value: float) -> float:
    if not 0 < value < 1:
        raise fail("must be strictly between 0 and 1")
    return value


def non_negative(value: float) -> float:
    if value < 0:
        raise fail("must be at least 0")
    return value


def one_of(choices: tuple[str, ...]):
    """One of ``choices``, in any case (``a4`` is ``A4``); the value is returned as the choice is spelled."""
    def check(value: str) -> str:
        spelled = {choice.lower(): choice for choice in choices}
        if value.lower() not in spelled:
            raise fail(f"must be one of {', '.join(choices)}")
        return spelled[value.lower()]
    return check


def file_name(value: str) -> str:
    if not value or not value.replace("-", "").replace("_", "").isalnum():
        raise fail("must be a file name of letters, digits, - and _")
    return value


def identifier(value: str) -> str:
    if not value.isidentifier():
        raise fail("must be a short identifier such as lasting")
    return value
