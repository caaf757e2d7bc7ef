"""Descriptive tables: patient characteristics (Table 1) and infusion
characteristics (Table 2), by group and overall.

Everything a table cell shows — counts, percentages, means, SDs, medians,
quartiles — is computed here, so templates only format.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cohort import Cohort
from .contract import NO_SIDE_EFFECT, PREMEDICATION, sentence_start
from .results import (
    CharacteristicRow, CharacteristicsColumn, CharacteristicsTable, ContinuousCell, CountCell,
)
from .validate import arrow_text

GROUP_KEYS = ("index", "comparison", "all")


def _percent(n: int, denominator: int) -> float | None:
    return 100.0 * n / denominator if denominator else None


def count_cell(flags: pd.Series | np.ndarray) -> CountCell:
    flags = np.asarray(flags, dtype=bool)
    n = int(np.count_nonzero(flags))
    return CountCell(n=n, denominator=int(flags.size), percent=_percent(n, int(flags.size)))


def continuous_cell(values: pd.Series | np.ndarray) -> ContinuousCell:
    """Count, mean, SD (n - 1), quartiles (R's type 7) and range of the values present (NaN / NA = missing).

    numpy's mean and ``std(ddof=1)``: pandas' ``Series.mean``/``std`` to the bit.
    """
    numbers = values.to_numpy(dtype=float, na_value=np.nan) if isinstance(values, pd.Series) else np.asarray(values, dtype=float)
    present = numbers[~np.isnan(numbers)]
    n = int(present.size)
    if n == 0:
        return ContinuousCell(0, int(numbers.size), None, None, None, None, None, None, None)
    q1, median, q3 = (float(q) for q in np.quantile(present, [0.25, 0.5, 0.75]))
    return ContinuousCell(
        n=n, n_missing=int(numbers.size - n), mean=float(present.mean()),
        sd=float(present.std(ddof=1)) if n > 1 else None,
        median=median, q1=q1, q3=q3, minimum=float(present.min()), maximum=float(present.max()),
    )


def label_indicators(labels: pd.Series, ignore: tuple[str, ...] = ()) -> pd.DataFrame:
    """One boolean column per label in ``;``-joined label text, columns in label order.

    Vectorised in Arrow: split, flatten, dictionary-encode, then one scatter
    into a boolean matrix (pandas' ``get_dummies`` is ten times slower on a
    million rows).
    """
    import pyarrow.compute as pc

    lists = pc.split_pattern(arrow_text(labels.fillna("").astype(str)), ";")
    rows = pc.list_parent_indices(lists).to_numpy()
    encoded = pc.dictionary_encode(pc.list_flatten(lists))
    names = encoded.dictionary.to_pylist()
    matrix = np.zeros((len(labels), len(names)), dtype=bool)
    matrix[rows, encoded.indices.to_numpy()] = True
    order = [i for i in sorted(range(len(names)), key=names.__getitem__) if names[i] not in ignore and names[i] != ""]
    return pd.DataFrame(matrix[:, order], columns=[names[i] for i in order], index=labels.index)


def premedication_not_recorded(drug: str) -> str:
    """Table 2's row of the infusions with no record of ``drug`` (given or not), under the drug's own row."""
    return f"{drug}: not recorded"


def not_recorded_row(section: str, cells: dict[str, ContinuousCell]) -> CharacteristicRow | None:
    """``Not recorded``, n (%), under a summary some patients have no value for (a mean age over fewer patients
    than the column holds says so beside it, as Sex's ``Not recorded`` row does); None when every value is present."""
    if not any(cell.n_missing for cell in cells.values()):
        return None
    counts = {key: CountCell(n=cell.n_missing, denominator=cell.n + cell.n_missing,
                             percent=_percent(cell.n_missing, cell.n + cell.n_missing)) for key, cell in cells.items()}
    return CharacteristicRow(section, "Not recorded", "count", counts)


def _display(label: str) -> str:
    return label.replace("_", " ").capitalize()


class _TableBuilder:
    def __init__(self, frame: pd.DataFrame, cohort: Cohort, unit: str):
        self.groups = {
            "index": frame["is_index"].to_numpy(dtype=bool),
            "comparison": ~frame["is_index"].to_numpy(dtype=bool),
            "all": np.ones(len(frame), dtype=bool),
        }
        options = cohort.options
        labels = {"index": options.index_label, "comparison": options.comparison_label, "all": "All"}
        self.columns = [CharacteristicsColumn(key, labels[key], int(self.groups[key].sum())) for key in GROUP_KEYS]
        self.unit = unit
        self.rows: list[CharacteristicRow] = []

    def counts(self, section: str, label: str, flags: pd.Series) -> None:
        flags = flags.to_numpy(dtype=bool)
        cells = {key: count_cell(flags[mask]) for key, mask in self.groups.items()}
        self.rows.append(CharacteristicRow(section, label, "count", cells))

    def continuous(self, section: str, label: str, values: pd.Series, kind: str, *, missing: bool = True) -> None:
        """A summary row, then (``missing``) how many have no value, when any has none (:func:`not_recorded_row`)."""
        values = values.to_numpy(dtype=float, na_value=np.nan)
        cells = {key: continuous_cell(values[mask]) for key, mask in self.groups.items()}
        self.rows.append(CharacteristicRow(section, label, kind, cells))
        if missing and (row := not_recorded_row(section, cells)):
            self.rows.append(row)

    def label_counts(self, section: str, indicators: pd.DataFrame) -> None:
        """One count row per column of ``indicators`` (:func:`label_indicators`), the most frequent first."""
        indicators = indicators.reset_index(drop=True)
        order = indicators.sum().sort_values(ascending=False, kind="stable").index
        for label in order:
            self.counts(section, _display(label), indicators[label])

    def table(self) -> CharacteristicsTable:
        return CharacteristicsTable(unit=self.unit, columns=self.columns, rows=self.rows)


def patient_characteristics(cohort: Cohort) -> CharacteristicsTable:
    """Table 1: every patient identified, by group."""
    patients = cohort.patients.reset_index(drop=True)
    table = _TableBuilder(patients, cohort, "patients")
    # Ties alphabetically, as in the cohort summary: the table must not depend on the order of the rows.
    diagnoses = patients["diagnosis"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
    for label in diagnoses.index:
        table.counts("Diagnosis", sentence_start(cohort.diagnosis_labels[label]), patients["diagnosis"] == label)
    table.counts("Sex", "Female", patients["sex"] == "F")
    table.counts("Sex", "Male", patients["sex"] == "M")
    if patients["sex"].isna().any():
        table.counts("Sex", "Not recorded", patients["sex"].isna())
    table.continuous("Age, years", "Mean (SD)", patients["age_years"], "mean_sd")
    table.label_counts("Previous interventions", label_indicators(patients["previous_interventions"]))
    table.continuous("Infusions per patient", "Median (IQR)", patients["n_infusions"], "median_iqr")
    table.continuous("Analysed infusions per patient", "Median (IQR)", patients["n_infusions_analyzed"], "median_iqr")
    recorded = patients["relief_duration_days"].notna()
    table.counts("Duration of relief", "Recorded", recorded)
    # "Recorded" above says how many have a duration.
    table.continuous("Duration of relief", "Days, median (IQR)", patients["relief_duration_days"], "median_iqr", missing=False)
    return table.table()


def infusion_characteristics(cohort: Cohort) -> CharacteristicsTable:
    """Table 2: every analysed infusion, by the patient's group."""
    infusions = cohort.analyzed_infusions.reset_index(drop=True)
    table = _TableBuilder(infusions, cohort, "infusions")
    table.continuous("Ketamine dose, mg", "Mean (SD)", infusions["ketamine_dose_mg"], "mean_sd")
    table.continuous("Infusion duration, min", "Mean (SD)", infusions["infusion_duration_min"], "mean_sd")
    table.continuous("VAS before infusion, cm", "Mean (SD)", infusions["vas_pre"], "mean_sd")
    table.continuous("VAS after infusion, cm", "Mean (SD)", infusions["vas_post"], "mean_sd")
    table.continuous("VAS reduction, cm", "Mean (SD)", infusions["reduction"], "mean_sd")
    for column, label in PREMEDICATION:
        # A drug no analysed infusion records has no row: "0 (0%)" would read as "never given". Where some
        # records lack it, a row says how many: the rest of the percentage is not "not given".
        recorded = infusions[column].notna()
        if recorded.any():
            table.counts("Premedication", label, infusions[column].fillna(False).astype(bool))
            if not recorded.all():
                table.counts("Premedication", premedication_not_recorded(label), ~recorded)
    effects = label_indicators(infusions["side_effects"], ignore=(NO_SIDE_EFFECT,))
    table.counts("Side effects", "Any", effects.any(axis=1) if effects.shape[1] else pd.Series(False, index=infusions.index))
    table.label_counts("Side effects", effects)
    return table.table()
