"""The analysis table handed to the independent R program (``reproduce.R``).

After validation and exclusions: one row per analysed infusion, plus one row
per patient without an analysed infusion (``infusion_id`` and ``reduction``
empty), so that R sees every patient's relief data. Numbers are written with
``repr`` — the shortest text that reads back to the same double (at most 17
significant digits) — so nothing is lost between the languages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .cohort import Cohort

ANALYSIS_TABLE_COLUMNS = ("patient_id", "index_group", "infusion_id", "reduction", "relief_duration_days", "relief_ongoing")


def analysis_table(cohort: Cohort) -> pd.DataFrame:
    patients = cohort.patients.set_index("patient_id")
    analysed = cohort.analyzed_infusions[["patient_id", "infusion_id", "reduction"]]
    without = patients.index[patients["n_infusions_analyzed"] == 0]
    rows = pd.concat([analysed, pd.DataFrame({"patient_id": without, "infusion_id": None, "reduction": float("nan")})],
                     ignore_index=True)
    rows["index_group"] = rows["patient_id"].map(patients["is_index"])
    rows["relief_duration_days"] = rows["patient_id"].map(patients["relief_duration_days"])
    rows["relief_ongoing"] = rows["patient_id"].map(patients["relief_ongoing"])
    return rows[list(ANALYSIS_TABLE_COLUMNS)]


def analysis_csv(cohort: Cohort) -> str:
    table = analysis_table(cohort).copy()
    for column in ("index_group", "relief_ongoing"):
        table[column] = table[column].map({True: "TRUE", False: "FALSE"})
    for column in ("reduction", "relief_duration_days"):
        table[column] = table[column].map(lambda value: "" if pd.isna(value) else repr(float(value)))
    return table.to_csv(index=False, lineterminator="\n", na_rep="")


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
    table, options = folder / "analysis.csv", folder / "options.json"
    table.write_text(analysis_csv(cohort), encoding="utf-8")
    options.write_text(json.dumps(analysis_options(cohort), indent=2) + "\n", encoding="utf-8")
    return table, options
