"""A REDCap-shaped export of a contract dataset, for the import tests.

It follows REDCap's documented export format: a data dictionary CSV with
REDCap's column headers (the first field is the record id), and a records
CSV with one row per record plus one per instance of the repeating
instrument (``redcap_repeat_instrument``, ``redcap_repeat_instance``),
checkbox fields as ``field___code`` columns of 1/0, radio and yes/no fields
as their codes, and each form's ``<form>_complete`` status column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
PATIENT_FORM = "patient"
INFUSION_FORM = "infusion"
# Fields named as a real project might name them; the import maps them with --map.
RENAMED = {"diagnosis": "dx", "age_years": "age", "vas_pre": "pain_before", "vas_post": "pain_after"}


def _label(text: str) -> str:
    return "CRPS" if text == "crps" else text.replace("_", " ").capitalize()


def _labels(column: pd.Series) -> list[str]:
    found: dict[str, None] = {}
    for cell in column.fillna(""):
        for label in str(cell).split(";"):
            if label.strip() and label.strip().lower() != "none":
                found[label.strip().lower()] = None
    return list(found)


class RedcapExport:
    """Dictionary and records frames made from contract tables (read as text)."""

    def __init__(self, patients: pd.DataFrame, infusions: pd.DataFrame, *, date_validation: str = "date_mdy"):
        self.dictionary_rows: list[dict[str, str]] = []
        self.diagnoses = {label: str(code) for code, label in enumerate(dict.fromkeys(patients["diagnosis"].str.strip().str.lower()), start=1)}
        self.interventions = {label: str(code) for code, label in enumerate(_labels(patients["previous_interventions"]), start=1)}
        self.side_effects = {"none": "0", **{label: str(code) for code, label in enumerate(_labels(infusions["side_effects"]), start=1)}}
        self.date_validation = date_validation
        self._define_fields()
        self.records = self._records(patients, infusions)

    def _field(self, name: str, form: str, kind: str, choices: dict[str, str] | None = None, validation: str = "") -> None:
        row = dict.fromkeys(DICTIONARY_COLUMNS, "")
        row.update({
            "Variable / Field Name": name, "Form Name": form, "Field Type": kind, "Field Label": name.replace("_", " "),
            "Choices, Calculations, OR Slider Labels": " | ".join(f"{code}, {label}" for label, code in (choices or {}).items()),
            "Text Validation Type OR Show Slider Number": validation,
        })
        self.dictionary_rows.append(row)

    def _define_fields(self) -> None:
        self._field("record_id", PATIENT_FORM, "text")
        self._field("dx", PATIENT_FORM, "radio", {_label(k): v for k, v in self.diagnoses.items()})
        self._field("sex", PATIENT_FORM, "radio", {"Female": "1", "Male": "2"})
        self._field("age", PATIENT_FORM, "text", validation="number")
        self._field("previous_interventions", PATIENT_FORM, "checkbox", {_label(k): v for k, v in self.interventions.items()})
        self._field("relief_duration_days", PATIENT_FORM, "text", validation="integer")
        self._field("relief_ongoing", PATIENT_FORM, "yesno")
        self._field("infusion_date", INFUSION_FORM, "text", validation=self.date_validation)
        self._field("ketamine_dose_mg", INFUSION_FORM, "text", validation="number")
        self._field("infusion_duration_min", INFUSION_FORM, "text", validation="number")
        self._field("pain_before", INFUSION_FORM, "text", validation="number")
        self._field("pain_after", INFUSION_FORM, "text", validation="number")
        self._field("midazolam", INFUSION_FORM, "yesno")
        self._field("ondansetron", INFUSION_FORM, "yesno")
        self._field("side_effects", INFUSION_FORM, "checkbox", {_label(k): v for k, v in self.side_effects.items()})

    def _date(self, iso: str) -> str:
        if not iso or self.date_validation == "date_ymd":
            return iso
        year, month, day = iso.split("-")
        first, second = (month, day) if self.date_validation == "date_mdy" else (day, month)
        return f"{int(first)}/{int(second)}/{year}"

    def _records(self, patients: pd.DataFrame, infusions: pd.DataFrame) -> pd.DataFrame:
        yes_no = {"true": "1", "yes": "1", "1": "1", "false": "0", "no": "0", "0": "0", "": ""}
        sex_code = {"F": "1", "M": "2", "": ""}
        columns = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "dx", "sex", "age",
                   *(f"previous_interventions___{c}" for c in self.interventions.values()),
                   "relief_duration_days", "relief_ongoing", f"{PATIENT_FORM}_complete",
                   "infusion_date", "ketamine_dose_mg", "infusion_duration_min", "pain_before", "pain_after",
                   "midazolam", "ondansetron", *(f"side_effects___{c}" for c in self.side_effects.values()),
                   f"{INFUSION_FORM}_complete"]
        rows = []
        by_patient = {pid: group for pid, group in infusions.groupby("patient_id", sort=False)}
        for _, patient in patients.iterrows():
            row = dict.fromkeys(columns, "")
            held = {label.strip().lower() for label in patient["previous_interventions"].split(";")}
            row.update({
                "record_id": patient["patient_id"], "dx": self.diagnoses[patient["diagnosis"].strip().lower()],
                "sex": sex_code[patient["sex"]], "age": patient["age_years"],
                "relief_duration_days": patient["relief_duration_days"],
                "relief_ongoing": yes_no[patient["relief_ongoing"].strip().lower()], f"{PATIENT_FORM}_complete": "2",
                **{f"previous_interventions___{code}": "1" if label in held else "0" for label, code in self.interventions.items()},
            })
            rows.append(row)
            for instance, (_, infusion) in enumerate(by_patient.get(patient["patient_id"], pd.DataFrame()).iterrows(), start=1):
                row = dict.fromkeys(columns, "")
                effects = {label.strip().lower() for label in infusion["side_effects"].split(";") if label.strip()}
                row.update({
                    "record_id": patient["patient_id"], "redcap_repeat_instrument": INFUSION_FORM,
                    "redcap_repeat_instance": str(instance), "infusion_date": self._date(infusion["infusion_date"]),
                    "ketamine_dose_mg": infusion["ketamine_dose_mg"], "infusion_duration_min": infusion["infusion_duration_min"],
                    "pain_before": infusion["vas_pre"], "pain_after": infusion["vas_post"],
                    "midazolam": yes_no[infusion["midazolam"].strip().lower()],
                    "ondansetron": yes_no[infusion["ondansetron"].strip().lower()],
                    f"{INFUSION_FORM}_complete": "2",
                    **{f"side_effects___{code}": "1" if label in effects else "0" for label, code in self.side_effects.items()},
                })
                rows.append(row)
        return pd.DataFrame(rows, columns=columns)

    def write(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        records, dictionary = folder / "records.csv", folder / "dictionary.csv"
        self.records.to_csv(records, index=False)
        pd.DataFrame(self.dictionary_rows, columns=list(DICTIONARY_COLUMNS)).to_csv(dictionary, index=False)
        return records, dictionary


def export_of(dataset: Path, **options) -> RedcapExport:
    """The REDCap export of a CSV dataset directory."""
    def read(name: str) -> pd.DataFrame:
        frame = pd.read_csv(dataset / name, dtype=str, keep_default_na=False)
        return frame.rename(columns=str.lower)

    return RedcapExport(read("patients.csv"), read("infusions.csv"), **options)
