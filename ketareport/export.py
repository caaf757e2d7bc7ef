"""The analysis table handed to the independent R program (``reproduce.R``).

After validation and exclusions: one row per analysed infusion (ordered by
``infusion_id``), then one row per patient without an analysed infusion
(``infusion_id`` and ``reduction`` empty; ordered by ``patient_id``), so that
R sees every patient's relief data. Ordered by the ids (text order), not by
the order the rows were stored in, the table is the same from files and
from a database holding the same rows (:mod:`ketareport.sources.report_inputs`
fetches it from the engine). Columns:
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
from .config import AnalysisOptions
from .output import write_atomic

ANALYSIS_TABLE_COLUMNS = ("patient_id", "index_group", "infusion_id", "reduction", "relief_duration_days", "relief_ongoing")
_R_LOGICAL = {True: "TRUE", False: "FALSE"}


def analysis_table(cohort: Cohort) -> pd.DataFrame:
    """The analysed infusions, then the patients without one (reduction NaN), from the cohort."""
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
    return in_table_order(rows)


def in_table_order(rows: pd.DataFrame) -> pd.DataFrame:
    """The analysis table's columns and row order: analysed infusions by infusion_id, then the patients without
    one by patient_id; the file path and the database path both end here."""
    without = rows["infusion_id"].isna()
    ordered = pd.concat([rows[~without].sort_values("infusion_id", kind="stable"),
                         rows[without].sort_values("patient_id", kind="stable")], ignore_index=True)
    return ordered[list(ANALYSIS_TABLE_COLUMNS)]


def analysis_csv(table: pd.DataFrame) -> str:
    """``analysis.csv`` as text, from :func:`analysis_table` (float64 columns: pandas writes numpy's shortest
    round-trip repr)."""
    table = table.copy()
    for column in ("index_group", "relief_ongoing"):
        table[column] = table[column].map(_R_LOGICAL)
    return table.to_csv(index=False, lineterminator="\n", na_rep="")


def analysis_options(options: AnalysisOptions) -> dict:
    """The options reproduce.R reads (its ``options.json``)."""
    return {
        "conf_level": options.conf_level,
        "difference_test": options.difference_test,
        "relief_method": options.relief_method,
        "relief_conf_level": options.relief_conf_level,
        "thresholds": [{"name": t.name, "days": t.days, "inclusive": t.inclusive} for t in options.relief_thresholds],
        "index_term": options.index_diagnosis,
        "sensitivity_model": options.sensitivity_model,
    }


def write_analysis_files(table: pd.DataFrame, options: AnalysisOptions, folder: Path) -> tuple[Path, Path]:
    """``analysis.csv`` (the analysis table) and ``options.json`` in ``folder``, atomically."""
    written = write_atomic(Path(folder) / "analysis.csv", analysis_csv(table))
    # json writes floats with repr too: full precision.
    written_options = write_atomic(Path(folder) / "options.json", json.dumps(analysis_options(options), indent=2) + "\n")
    return written, written_options
