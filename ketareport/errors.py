"""The engine's own exceptions, each with the exit status the command line gives it.

The engine raises these; only the command line turns them into messages and
exit codes (one handler, :class:`ketareport.console.KetareportGroup`):

  1  an unexpected error, R / Quarto failing, or a database locked by another process (run again later)
  2  invalid dataset, configuration or output folder; nothing to analyse; missing metadata or a cohort
     warning under --strict; a folder that cannot be published or compared as asked
  3  verify: Python and R disagree
  4  verify: R or an R package is missing
"""

from __future__ import annotations

from dataclasses import dataclass


EXIT_UNEXPECTED = 1
EXIT_INVALID_INPUT = 2
EXIT_DISAGREEMENT = 3
EXIT_R_MISSING = 4


class KetareportError(Exception):
    """Base class of every error the engine raises on purpose."""

    exit_code = EXIT_UNEXPECTED


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is and what is wrong.

    ``row`` is the 1-based data row (the header is not counted); ``line`` is
    where that row sits in the file a person would open — the line of a CSV
    file (``line_kind`` "line") or the row of a spreadsheet ("sheet row") —
    when the container has one. ``column`` and ``value`` are ``None`` for a
    problem that concerns a whole file or table.
    """

    file: str
    message: str
    row: int | None = None
    line: int | None = None
    column: str | None = None
    value: str | None = None
    line_kind: str = "line"
    key: str | None = None
    """A database row has no position: its key names it instead, e.g. ``infusion_id 'I0042'``."""

    def __str__(self) -> str:
        where = self.file
        if self.key is not None:
            where += f" {self.key}"
        if self.row is not None:
            where += f" row {self.row}"
            if self.line is not None:
                where += f" ({self.line_kind} {self.line})"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class InvalidInputError(KetareportError):
    """The dataset or the study configuration has problems; nothing was written."""

    exit_code = EXIT_INVALID_INPUT

    def __init__(self, problems: list[Problem], what: str = "dataset"):
        self.problems = list(problems)
        self.what = what
        count = len(self.problems)
        super().__init__(f"The {what} has {count} problem{'s' if count != 1 else ''}")

    def report(self) -> str:
        """Every problem, one per line, under a one-line summary."""
        lines = [f"{self}:"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


class DatasetInvalid(InvalidInputError):
    """The study dataset cannot be read or breaks a rule of the contract."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems, what="dataset")


class ConfigInvalid(InvalidInputError):
    """The study configuration (study.yml) is unreadable or has wrong options."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems, what="study configuration")


class NothingToAnalyse(KetareportError):
    """No patient, or no infusion left once the exclusions are applied (docs/methods.md, Cohort)."""

    exit_code = EXIT_INVALID_INPUT


class OutputNotWritable(KetareportError):
    """The output folder cannot be created or written; found before any work starts."""

    exit_code = EXIT_INVALID_INPUT


class WouldOverwrite(KetareportError):
    """``ketareport init`` found files of its own names in the folder and wrote nothing."""

    exit_code = EXIT_INVALID_INPUT


class MissingMetadata(KetareportError):
    """``render --strict``: study.yml lacks what a submitted manuscript needs."""

    exit_code = EXIT_INVALID_INPUT


class CohortNotAsMeant(KetareportError):
    """``render --strict``: the cohort is valid but probably not the one meant (:func:`ketareport.check.cohort_warnings`)."""

    exit_code = EXIT_INVALID_INPUT


class PublishError(KetareportError):
    """The source cannot be published as asked (e.g. a render folder made with another suppression setting)."""

    exit_code = EXIT_INVALID_INPUT


class DiffInputError(KetareportError):
    """A folder to compare holds neither results.json nor report-values.json."""

    exit_code = EXIT_INVALID_INPUT


class RNotAvailable(KetareportError):
    """Rscript, or an R package the cross-check needs, is not installed."""

    exit_code = EXIT_R_MISSING


class VerificationMismatch(KetareportError):
    """The R cross-check disagrees with the Python analysis."""

    exit_code = EXIT_DISAGREEMENT


class SourceInUse(KetareportError):
    """The database is locked by another process (a DuckDB file open for writing): not a data problem; run again
    once it is released."""


class RFailed(KetareportError):
    """reproduce.R stopped with an error."""


class QuartoFailed(KetareportError):
    """``quarto render`` stopped with an error."""
