"""Tables 1 and 2 from the engine's aggregates: the same cells as :mod:`ketareport.describe` computes from rows."""

from __future__ import annotations

from typing import Any

from ..config import AnalysisOptions
from ..contract import PREMEDICATION, sentence_start
from ..describe import not_recorded_row, premedication_not_recorded
from ..results import CharacteristicRow, CharacteristicsColumn, CharacteristicsTable, ContinuousCell, CountCell
from .summary import GROUPS, rows_of
from .text import normalised_labels

LabelCounts = dict[str, dict[str, int]]
"""Label -> group -> rows holding the label."""


def counted_lists(table, column: str, by: tuple[str, ...] = ("is_index",)) -> list[dict[str, Any]]:
    """Rows per distinct non-empty ``;``-list (normalised) and ``by``: a few hundred for lists of a controlled vocabulary.

    The lists are grouped as written (``COLUMN_as_written``), then normalised
    and grouped again: the normalising regular expressions run once per
    spelling, not once per row.
    """
    written = f"{column}_as_written"
    entered = table.filter(table[written].notnull())
    spelled = entered.group_by([written, *by]).aggregate(n=entered.count())
    spelled = spelled.mutate(**{column: normalised_labels(spelled[written])})
    listed = spelled.filter(spelled[column] != "")
    return rows_of(listed.group_by([column, *by]).aggregate(n=listed.n.sum()))


def label_counts(lists: list[dict[str, Any]], column: str, ignore: tuple[str, ...] = ()) -> tuple[LabelCounts, dict[str, int]]:
    """Rows holding each label per group, and rows holding any label, from rows per distinct list.

    Each list is split here and its labels made distinct, so that a row
    counts once per label, as on the file path.
    """
    counts: LabelCounts = {}
    anywhere = {"index": 0, "comparison": 0}
    for row in lists:
        group = "index" if row["is_index"] else "comparison"
        labels = {label for label in row[column].split(";") if label and label not in ignore}
        for label in labels:
            cell = counts.setdefault(label, {})
            cell[group] = cell.get(group, 0) + int(row["n"])
        if labels:
            anywhere[group] += int(row["n"])
    for cell in counts.values():
        cell["all"] = cell.get("index", 0) + cell.get("comparison", 0)
    anywhere["all"] = anywhere["index"] + anywhere["comparison"]
    return counts, anywhere


def _count_cell(values: dict[str, Any], name: str, group: str) -> CountCell:
    n, denominator = int(values[f"{name}:{group}:n"] or 0), int(values[f"size:{group}"] or 0)
    return CountCell(n=n, denominator=denominator, percent=100.0 * n / denominator if denominator else None)


def _continuous_cell(values: dict[str, Any], name: str, group: str) -> ContinuousCell:
    prefix = f"{name}:{group}"
    n, size = int(values[f"{prefix}:count"] or 0), int(values[f"size:{group}"] or 0)
    if n == 0:
        return ContinuousCell(0, size, None, None, None, None, None, None, None)

    def number(key: str) -> float:
        return float(values[f"{prefix}:{key}"])

    return ContinuousCell(
        n=n, n_missing=size - n, mean=number("mean"), sd=number("sd") if n > 1 else None,
        median=number("median"), q1=number("q1"), q3=number("q3"), minimum=number("min"), maximum=number("max"),
    )


def _display(label: str) -> str:
    return label.replace("_", " ").capitalize()


class _Table:
    def __init__(self, unit: str, values: dict[str, Any], options: AnalysisOptions):
        labels = {"index": options.index_label, "comparison": options.comparison_label, "all": "All"}
        self.values = values
        self.unit = unit
        self.columns = [CharacteristicsColumn(group, labels[group], int(values[f"size:{group}"] or 0)) for group in GROUPS]
        self.rows: list[CharacteristicRow] = []

    def counts(self, section: str, label: str, name: str) -> None:
        self.rows.append(CharacteristicRow(section, label, "count", {g: _count_cell(self.values, name, g) for g in GROUPS}))

    def given_counts(self, section: str, label: str, counts: dict[str, int]) -> None:
        cells = {}
        for group in GROUPS:
            denominator = int(self.values[f"size:{group}"] or 0)
            n = counts.get(group, 0)
            cells[group] = CountCell(n=n, denominator=denominator, percent=100.0 * n / denominator if denominator else None)
        self.rows.append(CharacteristicRow(section, label, "count", cells))

    def continuous(self, section: str, label: str, name: str, kind: str, *, missing: bool = True) -> None:
        cells = {g: _continuous_cell(self.values, name, g) for g in GROUPS}
        self.rows.append(CharacteristicRow(section, label, kind, cells))
        if missing and (row := not_recorded_row(section, cells)):  # as describe's table: how many have no value
            self.rows.append(row)

    def label_counts(self, section: str, by_label: LabelCounts) -> None:
        """Labels by their count over all rows, most frequent first, ties alphabetically."""
        for label in sorted(by_label, key=lambda text: (-by_label[text].get("all", 0), text)):
            self.given_counts(section, _display(label), by_label[label])

    def table(self) -> CharacteristicsTable:
        return CharacteristicsTable(unit=self.unit, columns=self.columns, rows=self.rows)


def table_1(values: dict, by_diagnosis: LabelCounts, printed: dict[str, str], interventions: LabelCounts,
            options: AnalysisOptions) -> CharacteristicsTable:
    table = _Table("patients", values, options)
    for label in sorted(by_diagnosis, key=lambda text: (-by_diagnosis[text]["all"], text)):
        table.given_counts("Diagnosis", sentence_start(printed[label]), by_diagnosis[label])
    table.counts("Sex", "Female", "sex_f")
    table.counts("Sex", "Male", "sex_m")
    if int(values["sex_missing:all:n"] or 0):
        table.counts("Sex", "Not recorded", "sex_missing")
    table.continuous("Age, years", "Mean (SD)", "age", "mean_sd")
    table.label_counts("Previous interventions", interventions)
    table.continuous("Infusions per patient", "Median (IQR)", "n_infusions", "median_iqr")
    table.continuous("Analysed infusions per patient", "Median (IQR)", "n_analysed", "median_iqr")
    table.counts("Duration of relief", "Recorded", "recorded")
    table.continuous("Duration of relief", "Days, median (IQR)", "duration", "median_iqr", missing=False)
    return table.table()


def table_2(values: dict, effects: LabelCounts, any_effect: dict, options: AnalysisOptions) -> CharacteristicsTable:
    table = _Table("infusions", values, options)
    table.continuous("Ketamine dose, mg", "Mean (SD)", "ketamine_dose_mg", "mean_sd")
    table.continuous("Infusion duration, min", "Mean (SD)", "infusion_duration_min", "mean_sd")
    table.continuous("VAS before infusion, cm", "Mean (SD)", "vas_pre", "mean_sd")
    table.continuous("VAS after infusion, cm", "Mean (SD)", "vas_post", "mean_sd")
    table.continuous("VAS reduction, cm", "Mean (SD)", "reduction", "mean_sd")
    for column, label in PREMEDICATION:
        if values[f"{column}_recorded:all:n"]:  # as on the file path: no row for a drug no infusion records
            table.counts("Premedication", label, column)
            if values[f"{column}_recorded:all:n"] < values["size:all"]:
                table.given_counts("Premedication", premedication_not_recorded(label), {
                    group: int(values[f"size:{group}"] or 0) - int(values[f"{column}_recorded:{group}:n"] or 0)
                    for group in GROUPS})
    table.given_counts("Side effects", "Any", any_effect)
    table.label_counts("Side effects", effects)
    return table.table()
