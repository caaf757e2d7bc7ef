"""Document control: the title page's block (status, version, dates, protocol, data digest) and the page footer.

A report is final only when study.yml says ``report.status: final`` and nothing a submission needs is
missing (:meth:`~ketareport.config.StudyConfig.missing_metadata`); otherwise it is a draft, and every page
says so (the title block's draft notice names what is missing).
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
    final = run.config.is_final()
    return DocumentControl(
        draft=not final,
        status="Final" if final else "Draft",
        version=report.version or NOT_STATED,
        report_date=format_date(report_date(run)),
        data_lock=format_date(report.data_lock) if report.data_lock else NOT_STATED,
        protocol=study.protocol or NOT_STATED,
        data_digest=run.provenance.dataset.digest[:DIGEST_DIGITS],
    )

