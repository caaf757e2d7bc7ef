"""Double programming: cross-check every reported estimate against R.

(Being written: the dataclasses below are the interface the report's
appendix uses; ``cross_check`` follows.)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VerificationRow:
    """One quantity compared between the Python engine and reproduce.R."""

    quantity: str
    """``analysis/term/column``, e.g. ``vas_reduction/difference/p_value``."""
    python: float | None
    r: float | None
    abs_difference: float | None
    tolerance: float
    """Relative tolerance used for this quantity."""
    agrees: bool


@dataclass(frozen=True)
class VerificationReport:
    rows: list[VerificationRow]
    r_version: str
    r_packages: dict[str, str]
    """R package name -> version (lme4, jsonlite, ...)."""

    @property
    def all_agree(self) -> bool:
        return all(row.agrees for row in self.rows)

    @property
    def n_disagreeing(self) -> int:
        return sum(not row.agrees for row in self.rows)
