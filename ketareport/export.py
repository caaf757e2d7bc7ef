"""The analysis table handed to the independent R program (``reproduce.R``).

After validation and exclusions: one row per analysed infusion, plus one row
per patient without an analysed infusion (``infusion_id`` and ``reduction``
empty), so that R sees every patient's relief data. Columns:
``patient_id, index_group, infusion_id, reduction, relief_duration_days,
relief_ongoing``; booleans as R's ``TRUE``/``FALSE``, missing as an empty
cell. Numbers are written as the shortest text that reads back to the same
double (Python's ``repr``, at most 17 significant digits; numpy formats a
whole column at once), so nothing is lost between the languages. (R's own
decimal parser is not always correctly rounded: it reads a few random
16-digit numbers in 10^4 1 ulp off, 1e-16 relative — but none of the
673 distinct differences of two VAS values on the 0.1 cm grid — eight
orders of magnitude below the cross-check's tolerance.)

The options reproduce.R needs travel beside it in ``options.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .cohort import Cohort
from .output import write_atomic

ANALYSIS_TABLE_COLUMNS = ("patient_id", "index_group", "infusion_id", "reduction", "relief_duration_days", "relief_ongoing")
_R_LOGICAL = {True: "TRUE", False: "FALSE"}


def analysis_table(cohort: Cohort) -> pd.DataFrame:
    """The analysed infusions, then the patients without one (reduction NaN)."""
    patients = cohort.patients.set_index("patient_id")
    analysed = cohort.analyzed_infusions[["patient_id", "infusion_id", "reduction"]]
    without = patients.index[patients["n_infusions_analyzed"] == 0]
    rows = pd.concat(
        [analysed, pd.DataFrame({"patient_id": without, "infusion_id": pd.Series(None, index=range(len(without)), dtype=object),
                                 "reduction": float("nan")})],
        ignore_index=True,
    )
    rows["reduction"] = rows["reduction"].astype(float)
    rows["index_group"] = rows["patient_id"].map(patients["is_index"]).astype(bool)
    rows["relief_duration_days"] = rows["patient_id"].map(patients["relief_duration_days"]).astype(float)
    rows["relief_ongoing"] = rows["patient_id"].map(patients["relief_ongoing"]).astype(bool)
    return rows[list(ANALYSIS_TABLE_COLUMNS)]


def analysis_csv(cohort: Cohort) -> str:
    """``analysis.csv`` as text (float64 columns: pandas writes numpy's shortest round-trip repr)."""
    table = analysis_table(cohort).copy()
    for column in ("index_group", "relief_ongoing"):
        table[column] = table[column].map(_R_LOGICAL)
    return table.to_csv(index=False, lineterminator="\n", na_rep="")


def write_analysis_csv(cohort: Cohort, path: Path) -> Path:
    """Write ``analysis.csv`` atomically."""
    return write_atomic(path, analysis_csv(cohort))


def analysis_options(cohort: Cohort) -> dict:
    """The options reproduce.R reads (its ``options.json``)."""
    options = cohort.options
    return {
        "conf_level": options.conf_level,
        "difference_test": options.difference_test,
        "relief_method": options.relief_method,
        "relief_conf_level": options.relief_conf_level,
        "thresholds": [{"name": t.name, "days": t.days, "inclusive": t.inclusive} for t in options.relief_thresholds],
        "index_term": options.index_diagnosis,
        "sensitivity_model": options.sensitivity_model,
    }


def write_analysis_files(cohort: Cohort, folder: Path) -> tuple[Path, Path]:
    """``analysis.csv`` and ``options.json`` in ``folder``."""
    table = write_analysis_csv(cohort, Path(folder) / "analysis.csv")
    # json writes floats with repr too: full precision.
    options = write_atomic(Path(folder) / "options.json", json.dumps(analysis_options(cohort), indent=2) + "\n")
    return table, options
