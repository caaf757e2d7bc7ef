"""The files a report writes beside itself and carries in its PDF: their names and descriptions.

Below :mod:`ketareport.report` (which writes them), :mod:`ketareport.quarto` and the presentation
step (the appendix names them), so that none of these imports back up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..diff import REPORT_VALUES_FILE

if TYPE_CHECKING:
    from ..verify import VerificationReport

CONFIG_USED = "study-used.yml"
"""The configuration the run used, as a study.yml (not named study.yml: the output folder may be the dataset's
own folder, whose commented study.yml must not be replaced by this dump)."""


DATA_FILE_DESCRIPTIONS = {
    "estimates.csv": ("Data", "Every estimate at full precision, broom-style: one row per estimate.", "text/csv"),
    "results.json": ("Data", "Every number the report prints, the configuration and the provenance.", "application/json"),
    "verification.csv": ("Data", "The independent R cross-check, quantity by quantity.", "text/csv"),
    REPORT_VALUES_FILE: ("Data", "Every value the report prints, as printed (small cells suppressed).", "application/json"),
    CONFIG_USED: ("Source", "The study configuration used for this report, as a study.yml.", "application/yaml"),
}
"""The PDF's associated files: name -> (relationship, description, MIME type)."""


def data_file_names(verification: VerificationReport | None, suppressed: bool = False) -> list[str]:
    """The files the PDF carries, in order (verification.csv only when the cross-check ran).

    With small-cell suppression the PDF carries only what it prints (report-values.json, suppressed) and the
    configuration: the exact results stay in results.json and results.rds beside it, for the analyst.
    """
    if suppressed:
        return [REPORT_VALUES_FILE, CONFIG_USED]
    return [name for name in DATA_FILE_DESCRIPTIONS
            if name != REPORT_VALUES_FILE and (name != "verification.csv" or verification is not None)]
