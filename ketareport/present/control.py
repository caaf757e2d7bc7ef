"""Document control: the title page's block (status, version, dates, protocol, data digest) and the page footer.

A report is final only when study.yml says ``report.status: final`` and nothing a submission needs is
missing (:meth:`~ketareport.config.StudyConfig.missing_metadata`); otherwise it is a draft, and every page
says so.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .context import DocumentControl
from .formats import format_date

if TYPE_CHECKING:
    from ..pipeline import AnalysisRun

NOT_STATED = "not stated"
DIGEST_DIGITS = 12
"""The data digest is printed to 12 hex digits (48 bits): enough to tell two datasets apart by eye."""


def report_date(run: AnalysisRun) -> dt.date:
    """``report.date`` from study.yml, else the generation date (``SOURCE_DATE_EPOCH`` when set, else today)."""
    return run.config.report.date or dt.datetime.fromisoformat(run.provenance.generated_at).date()


def document_control(run: AnalysisRun) -> DocumentControl:
    report, study = run.config.report, run.config.study
    missing = run.config.missing_metadata()
    final = report.status == "final" and not missing
    if missing and report.status == "final":
        note = f"A final report was asked for, but the study configuration lacks {_and(missing)}."
    elif missing:
        note = f"Before it can be final, the study configuration needs {_and(missing)}."
    else:
        note = ""
    return DocumentControl(
        draft=not final,
        status="Final" if final else "Draft",
        status_note=note,
        version=report.version or NOT_STATED,
        report_date=format_date(report_date(run)),
        data_lock=format_date(report.data_lock) if report.data_lock else NOT_STATED,
        protocol=study.protocol or NOT_STATED,
        data_digest=run.provenance.dataset.digest[:DIGEST_DIGITS],
    )


def _and(phrases: tuple[str, ...]) -> str:
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"
