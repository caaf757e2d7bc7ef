"""The small schema language study.yml is declared in: blocks of typed options, checked all at once.

A :class:`Block` subclass declares its keys as :class:`Option` class
attributes, in the order the documentation lists them; each option has a
:class:`Kind` (text, a number, a list of blocks ...), a default, its
description and the extra checks of :mod:`ketareport.config_checks`.
Reading a mapping (:meth:`Block.read`) checks every key and collects every
:class:`Invalid` value as an :class:`Error` (where, what was given, what
was expected) before it fails, so that one run lists every problem.

It replaced a pydantic schema that cost a tenth of a second of every run
(importing pydantic and building its validators, ``ketareport analyze``
of the demo then took about 1.5 s): the same checks and messages, in plain
Python. The checks are pydantic's strict ones (text is text, a number is an
int or a float but not a boolean, a whole number is an int), except
:class:`YesNo`, which reads ``yes``/``no`` text as pydantic's lax booleans did.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, ClassVar, NamedTuple

REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()
"""The default of an option that must be given."""


class Invalid(Exception):
    """A value that fails a check: ``expected`` says what was expected (``must be ...``).

    A ``contradiction`` is two options that cannot both hold: ``expected`` is
    then the whole problem, naming both keys.
    """

    def __init__(self, expected: str, *, contradiction: bool = False):
        super().__init__(expected)
        self.expected = expected
        self.contradiction = contradiction


class Error(NamedTuple):
    """One problem: where (``("analysis", "relief", "thresholds", 0, "days")``), what was given, what was expected."""

    location: tuple[str | int, ...]
    expected: str
    given: Any = None
    kind: str = "value"
    """``value`` (a wrong value), ``missing``, ``unknown`` (a key the block does not have; ``expected`` lists
    the known keys) or ``contradiction``."""


class SchemaErrors(ValueError):
    """Every problem of a mapping read as a block (:meth:`Block.read`)."""

    def __init__(self, errors: list[Error]):
        super().__init__("; ".join(f"{'.'.join(map(str, error.location))}: {error.expected}" for error in errors))
        self.errors = errors


_FAILED = object()


class Kind:
    """What an option's value must be; :meth:`check` returns the value to keep, or raises :class:`Invalid`."""

    def read(self, value: Any, location: tuple, errors: list[Error]) -> Any:
        """The value to keep, or ``_FAILED`` with the problems appended to ``errors``."""
        try:
            return self.check(value)
        except Invalid as invalid:
            errors.append(Error(location, invalid.expected, value))
            return _FAILED

    def check(self, value: Any) -> Any:
        raise NotImplementedError


class Text(Kind):
    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid("must be text")
        return value


class Boolean(Kind):
    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid("must be true or false")
        return value


class YesNo(Kind):
    """A boolean also written as text or 0/1 (``yes``, ``off``, ``1`` ...)."""

    WORDS: ClassVar[dict[str, bool]] = {
        **dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True),
        **dict.fromkeys(("0", "off", "f", "false", "n", "no"), False),
    }

    def check(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in self.WORDS:
            return self.WORDS[value.strip().lower()]
        raise Invalid("must be true or false")


class Number(Kind):
    """An int or a float (not a boolean), kept as a float."""

    def check(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid("must be a number")
        return float(value)


class WholeNumber(Kind):
    def __init__(self, at_least: int | None = None):
        self.at_least = at_least

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("must be a whole number")
        if self.at_least is not None and value < self.at_least:
            raise Invalid(f"must be at least {self.at_least}")
        return value


class Date(Kind):
    def __init__(self, parse: Callable[[Any], dt.date]):
        self.parse = parse
        """YAML date or ISO text to a date (:func:`ketareport.config_checks.iso_date`)."""

    def check(self, value: Any) -> dt.date:
        return self.parse(value)


class Literal(Kind):
    """One of a few words, exactly as written."""

    def __init__(self, choices: tuple[str, ...]):
        self.choices = choices

    def check(self, value: Any) -> str:
        if value not in self.choices:
            raise Invalid(f"must be one of {', '.join(self.choices)}")
        return value


class Optional(Kind):
    """``kind``, or null."""

    def __init__(self, kind: Kind):
        self.kind = kind

    def read(self, value: Any, location: tuple, errors: list[Error]) -> Any:
        return None if value is None else self.kind.read(value, location, errors)


class ListOf(Kind):
    """A YAML list, kept as a tuple; each item checked, its place in the message counted from 1."""

    def __init__(self, item: Kind):
        self.item = item

    def read(self, value: Any, location: tuple, errors: list[Error]) -> Any:
        if not isinstance(value, (list, tuple)):
            errors.append(Error(location, "must be a list", value))
            return _FAILED
        items = [self.item.read(item, (*location, number), errors) for number, item in enumerate(value)]
        return _FAILED if any(item is _FAILED for item in items) else tuple(items)


class TextMapping(Kind):
    """A mapping of text to text."""

    def read(self, value: Any, location: tuple, errors: list[Error]) -> Any:
        if not isinstance(value, dict):
            errors.append(Error(location, "must be a mapping", value))
            return _FAILED
        before = len(errors)
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(Error((*location, str(key)), "must be text (a key)", key))
            elif not isinstance(item, str):
                errors.append(Error((*location, key), "must be text", item))
        return _FAILED if len(errors) > before else dict(value)


class BlockOf(Kind):
    """A nested block: a mapping of its own options (or a block already made)."""

    def __init__(self, block: type[Block]):
        self.block = block

    def read(self, value: Any, location: tuple, errors: list[Error]) -> Any:
        return value if isinstance(value, self.block) else self.block.read(value, location, errors)


class Option:
    """One key of a block: its kind, default (``REQUIRED`` if none), description and extra checks.

    ``checks`` run in order on the value its kind kept (each returns the
    value to keep, or raises :class:`Invalid`); ``default_factory`` makes a
    default per block (a nested block's defaults); ``default_text`` and
    ``example`` are for the documentation (:mod:`ketareport.config_docs`);
    ``dump`` writes the value back for YAML and JSON.
    """

    def __init__(
        self, kind: Kind, default: Any = REQUIRED, *, description: str = "", checks: tuple[Callable[[Any], Any], ...] = (),
        default_factory: Callable[[], Any] | None = None, default_text: str | None = None, example: Any = None,
        dump: Callable[[Any], Any] | None = None,
    ):
        self.kind, self.default, self.description, self.checks = kind, default, description, checks
        self.default_factory, self.default_text, self.example, self.dump = default_factory, default_text, example, dump
        self.name = ""  # set by the block that declares it

    def default_value(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default

    def read(self, value: Any, location: tuple, errors: list[Error]) -> Any:
        kept = self.kind.read(value, location, errors)
        if kept is _FAILED:
            return _FAILED
        try:
            for check in self.checks:
                kept = check(kept)
        except Invalid as invalid:
            errors.append(Error(location, invalid.expected, value))
            return _FAILED
        return kept


class Block:
    """A block of study.yml: its options are the :class:`Option` attributes of the class; unknown keys are
    errors; a block never changes once made. ``Block(**values)`` checks the values as :meth:`read` does."""

    options: ClassVar[dict[str, Option]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = {name: value for name, value in vars(cls).items() if isinstance(value, Option)}
        for name, option in declared.items():
            option.name = name
            delattr(cls, name)  # the instance's value is read from its __dict__
        cls.options = {**cls.options, **declared}

    def __init__(self, **values: Any):
        errors: list[Error] = []
        made = self._made(values, (), errors)
        if errors:
            raise SchemaErrors(errors)
        object.__setattr__(self, "__dict__", made.__dict__)

    @classmethod
    def prepare(cls, data: Any) -> Any:
        """The mapping as given, before its options are read: a key with nothing after it (YAML null) is "not
        given", as if the line were absent. A subclass adds its own steps (calling this one)."""
        return {key: value for key, value in data.items() if value is not None} if isinstance(data, dict) else data

    def validate(self) -> None:
        """Checks across options, once each option is valid; raises :class:`Invalid` (a subclass's own)."""

    @classmethod
    def read(cls, data: Any, location: tuple = (), errors: list[Error] | None = None) -> Any:
        """``data`` (a parsed YAML mapping) as this block; every problem appended to ``errors``.

        Without ``errors``, raises :class:`SchemaErrors` listing every problem.
        """
        collected: list[Error] = [] if errors is None else errors
        made = cls._made(data, location, collected)
        if errors is None and collected:
            raise SchemaErrors(collected)
        return made

    @classmethod
    def _made(cls, data: Any, location: tuple, errors: list[Error]) -> Any:
        data = cls.prepare(data)
        if not isinstance(data, dict):
            errors.append(Error(location, "must be a mapping of options", data))
            return _FAILED
        before = len(errors)
        values = {}
        for name, option in cls.options.items():
            if name in data:
                values[name] = option.read(data[name], (*location, name), errors)
            elif option.default is REQUIRED and option.default_factory is None:
                errors.append(Error((*location, name), "is missing; it is required", kind="missing"))
            else:
                values[name] = option.default_value()
        for key in data:
            if key not in cls.options:
                errors.append(Error((*location, key), ", ".join(sorted(cls.options)), kind="unknown"))
        if len(errors) > before:
            return _FAILED
        block = cls.__new__(cls)
        object.__setattr__(block, "__dict__", {**values, "given": frozenset(name for name in data if name in cls.options)})
        try:
            block.validate()
        except Invalid as invalid:
            errors.append(Error(location, invalid.expected, data, "contradiction" if invalid.contradiction else "value"))
            return _FAILED
        return block

    given: frozenset[str]
    """The options the mapping gave (the others took their defaults)."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        """Equal options (and, for a whole configuration, the same source file); given or defaulted alike."""
        def compared(block: Block) -> dict[str, Any]:
            return {name: value for name, value in block.__dict__.items() if name != "given"}
        return type(other) is type(self) and compared(self) == compared(other)  # type: ignore[arg-type]

    __hash__ = None  # type: ignore[assignment]  # equal by value, and holds mappings

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in self.options)})"

    def model_copy(self, *, update: dict[str, Any]) -> Any:
        """A copy with some options replaced, unchecked (the name and meaning of pydantic's, which
        :mod:`ketareport.present.suppress` uses)."""
        copy = type(self).__new__(type(self))
        object.__setattr__(copy, "__dict__", {**self.__dict__, **update, "given": self.given | set(update)})
        return copy

    def dump(self, *, dates_as_text: bool = False, exclude_none: bool = False) -> dict[str, Any]:
        """The options as plain data, in declaration order: blocks as mappings, lists of blocks as lists."""
        tree = {}
        for name, option in self.options.items():
            value = _dumped(getattr(self, name), dates_as_text, exclude_none)
            if option.dump is not None:
                value = option.dump(value)
            if value is None and exclude_none:
                continue
            tree[name] = value
        return tree


def _dumped(value: Any, dates_as_text: bool, exclude_none: bool) -> Any:
    if isinstance(value, Block):
        return value.dump(dates_as_text=dates_as_text, exclude_none=exclude_none)
    if isinstance(value, tuple):
        return [_dumped(item, dates_as_text, exclude_none) for item in value]
    if dates_as_text and isinstance(value, dt.date):
        return value.isoformat()
    return value
