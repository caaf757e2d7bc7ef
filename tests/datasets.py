"""Small study datasets for tests, written into any container of the contract."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

PATIENTS_CSV = """\
patient_id,Diagnosis,sex,age_years,previous_interventions,relief_duration_days,relief_ongoing
P1,CRPS,F,40,nerve block; opioids,10,false
P2,crps,M,55,,3,yes
P3,Back Pain,F,61,spinal cord stimulation,30,
P4,headache,,33,,,
P5,back-pain,M,47,opioids,8,no
P6,CRPS,F,29,nerve block,25,TRUE
"""

INFUSIONS_CSV = """\
infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post,midazolam,ondansetron,side_effects
I1,P1,2005-01-02,100,60,8,2,true,true,nausea
I2,P1,2005-02-02,100,60,9,1.5,true,true,none
I3,P2,2005-03-02,80,90,7,1,yes,yes,
I4,P2,2005-03-09,80,,7,1,yes,yes,
I5,P3,2006-01-02,120,60,6,3,1,1,dizziness; Nausea
I6,P4,2006-05-02,90,60,8,4,TRUE,TRUE,
I7,P5,2007-01-02,100,45,5,2,true,true,
I8,P5,2007-02-02,100,45,6,2.5,true,true,
I9,P6,2008-02-02,110,60,9,2,true,true,sedation
I10,P6,2008-03-02,110,60,NA,2,true,true,
"""


def write_csv_dataset(folder: Path, patients: str = PATIENTS_CSV, infusions: str = INFUSIONS_CSV) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "patients.csv").write_text(patients, encoding="utf-8")
    (folder / "infusions.csv").write_text(infusions, encoding="utf-8")
    return folder


def typed_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same tables with native types, as a spreadsheet or R would hold them."""
    from io import StringIO

    patients = pd.read_csv(StringIO(PATIENTS_CSV), keep_default_na=False, na_values=[""])
    patients["relief_ongoing"] = patients["relief_ongoing"].map(
        {"false": False, "yes": True, "no": False, "TRUE": True}
    ).astype("boolean")
    infusions = pd.read_csv(StringIO(INFUSIONS_CSV), na_values=["", "NA"], keep_default_na=False)
    for column in ("midazolam", "ondansetron"):
        infusions[column] = True
    infusions["infusion_date"] = pd.to_datetime(infusions["infusion_date"])
    return patients, infusions


def with_cell(csv_text: str, row: int, column: str, value: str) -> str:
    """``csv_text`` with data row ``row`` (1-based), ``column`` set to ``value``."""
    lines = csv_text.splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[[name.lower() for name in header].index(column)] = value
    lines[row] = ",".join(cells)
    return "\n".join(lines) + "\n"
