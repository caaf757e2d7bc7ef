"""The infusions' counts from one grouping: rows per distinct profile of an infusion.

An infusion's profile is its group (index or comparison), whether it is
excluded, which analysis columns it misses, whether each premedication drug
was given (yes, no, not recorded) and its side-effect list as written. A
clinical dataset has a few thousand distinct profiles whatever its size, so
one grouping returns them, and every count of infusions the cohort, Table 2
and the side effects need is a sum over those rows here. Counted per patient
instead (eleven sums in the grouping by patient), they cost DuckDB about
three seconds of CPU at ten million infusions; as grouping keys, next to the
side-effect lists that were grouped anyway, next to nothing.
"""

from __future__ import annotations

from typing import Any

from ..contract import ANALYSIS_COLUMNS, PREMEDICATION
from .summary import GROUPS, rows_of
from .text import normalised_entry


def infusion_profiles(infusions) -> list[dict[str, Any]]:
    """Rows per distinct profile of :attr:`ketareport.sources.typed.TypedSource.infusions`: is_index, excluded,
    missing_COLUMN (bool), each drug (bool, null = not recorded), side_effects (normalised ``;`` list, "" when
    none is entered), n and the first and last infusion_date. The side-effect lists are normalised once per row returned, not per infusion."""
    keys = {
        "is_index": infusions.is_index,
        "excluded": infusions.excluded,
        **{f"missing_{column}": infusions[column].isnull() for column in ANALYSIS_COLUMNS},
        **{drug: infusions[drug] for drug, _ in PREMEDICATION},
        "written": infusions.side_effects_as_written,
    }
    profiles = infusions.group_by(**keys).aggregate(
        n=infusions.count(), first_date=infusions.infusion_date.min(), last_date=infusions.infusion_date.max())
    named = profiles.mutate(side_effects=normalised_entry(profiles.written))
    return rows_of(named.drop("written"))


def _group(row: dict[str, Any]) -> str:
    return "index" if row["is_index"] else "comparison"


def profile_counts(profiles: list[dict[str, Any]]) -> dict[str, Any]:
    """Table 2's counts of analysed infusions per group, as :class:`ketareport.sources.summary.Summary` names them
    (``size:GROUP``, ``DRUG:GROUP:n``, ``DRUG_recorded:GROUP:n``), and the cohort's counts over every infusion
    (``n_DRUG``: given, ``n_premedication_recorded``: both drugs recorded, ``missing_COLUMN``: excluded
    infusions missing the column, ``first_date`` and ``last_date``: of every infusion)."""
    values: dict[str, Any] = {f"size:{group}": 0 for group in GROUPS}
    for drug, _ in PREMEDICATION:
        values |= {f"{drug}:{group}:n": 0 for group in GROUPS} | {f"{drug}_recorded:{group}:n": 0 for group in GROUPS}
    cohort = {"n_premedication_recorded": 0, **{f"n_{drug}": 0 for drug, _ in PREMEDICATION},
              **{f"missing_{column}": 0 for column in ANALYSIS_COLUMNS}}
    for row in profiles:
        n = int(row["n"])
        drugs = {drug: row[drug] for drug, _ in PREMEDICATION}
        cohort["n_premedication_recorded"] += n if all(given is not None for given in drugs.values()) else 0
        for drug, given in drugs.items():
            cohort[f"n_{drug}"] += n if given else 0
        if row["excluded"]:
            for column in ANALYSIS_COLUMNS:
                cohort[f"missing_{column}"] += n if row[f"missing_{column}"] else 0
            continue
        for group in (_group(row), "all"):
            values[f"size:{group}"] += n
            for drug, given in drugs.items():
                values[f"{drug}:{group}:n"] += n if given else 0
                values[f"{drug}_recorded:{group}:n"] += n if given is not None else 0
    firsts = [row["first_date"] for row in profiles if row["first_date"] is not None]
    lasts = [row["last_date"] for row in profiles if row["last_date"] is not None]
    cohort |= {"first_date": min(firsts, default=None), "last_date": max(lasts, default=None)}
    return values | {f"cohort:{name}": count for name, count in cohort.items()}
