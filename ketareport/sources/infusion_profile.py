"""The infusions' counts from one grouping: rows per distinct profile of an infusion.

An infusion's profile is its group (index or comparison), whether it is
excluded, which analysis columns it misses, whether each premedication drug
was given (yes, no, not recorded) and its side-effect list as written. A
clinical dataset has a few thousand distinct profiles whatever its size, so
one grouping returns them, and every count of infusions the cohort, Table 2
and the side effects need is a sum over those rows here. Counted per patient
instead (eleven sums in the grouping by patient), they cost DuckDB about
three seconds of CPU at ten million infusions; as grouping keys, next to the
side-effect lists that were grouped anyway, next to nothing. The same reading
also counts Table 2's values (:func:`profiles_and_values`).
"""

from __future__ import annotations

from typing import Any

from ..contract import ANALYSIS_COLUMNS, PREMEDICATION
from .summary import DISTINCT_VALUES_FETCHED, GROUPS, counted_statistics, rows_of
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


TABLE_2_VALUES = ("ketamine_dose_mg", "infusion_duration_min")
"""Table 2's variables counted one by one; VAS before and after are counted as pairs, whose differences are the
reductions."""
PROFILE = len(TABLE_2_VALUES) + 1
"""The number of the stacked rows that hold the profiles (:func:`profiles_and_values`)."""


def profiles_and_values(infusions) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """The infusions' profiles (:func:`infusion_profiles`) and Table 2's distributions (named as
    :meth:`ketareport.sources.summary.Summary.run` names them) from one reading of the infusions, or None when
    more than :data:`~ketareport.sources.summary.DISTINCT_VALUES_FETCHED` rows would come back (the two are then
    read apart). Each infusion is stacked once per variable, as :func:`ketareport.sources.summary.distributions`
    stacks them, and once more as its profile, packed into one number (:func:`_profile_code`) beside its
    side effects as written: at ten million infusions every reading costs about a second of scanning, typing
    and joining the patients' groups before its own grouping."""
    import ibis

    analysed = ~infusions.excluded

    def counted(column: str):
        return ibis.ifelse(analysed, infusions[column].cast("float64"), ibis.null("float64"))

    table = infusions.select(
        is_index=infusions.is_index, written=infusions.side_effects_as_written, date=infusions.infusion_date,
        code=_profile_code(infusions), pre=counted("vas_pre"), post=counted("vas_post"),
        **{f"value_{number}": counted(column) for number, column in enumerate(TABLE_2_VALUES, 1)},
    )
    long = table.cross_join(ibis.memtable({"variable": list(range(PROFILE + 1))}, schema={"variable": "int64"}))
    variable, profile = long.variable, long.variable == PROFILE
    stacked = long.select(
        "is_index", "variable",
        value=ibis.cases((variable == 0, long.pre), *((variable == number, long[f"value_{number}"]) for number in range(1, PROFILE)),
                         else_=long.code),
        partner=ibis.ifelse(variable == 0, long.post, ibis.null("float64")),
        written=ibis.ifelse(profile, long.written, ibis.null("string")),
        date=ibis.ifelse(profile, long.date, ibis.null("date")),
    )
    present = stacked.filter(stacked.value.notnull())
    grouped = present.group_by(["variable", "is_index", "value", "partner", "written"]).aggregate(
        n=present.count(), first_date=present.date.min(), last_date=present.date.max())
    named = grouped.mutate(side_effects=normalised_entry(grouped.written)).drop("written")
    rows = named.limit(DISTINCT_VALUES_FETCHED + 1).to_pyarrow()
    if rows.num_rows > DISTINCT_VALUES_FETCHED:
        return None
    return _unstacked(rows)


def _profile_code(infusions) -> Any:
    """An infusion's profile as one number: bit 0 excluded, bits 1-4 the analysis columns missing, then each drug's
    state (0 not given, 1 given, 2 not recorded) as a base-3 digit times 32 (:func:`_profile`)."""
    import ibis

    bits = [infusions.excluded, *(infusions[column].isnull() for column in ANALYSIS_COLUMNS)]
    # CASE, not a cast: PostgreSQL casts a boolean to int, not to bigint.
    code = sum((ibis.ifelse(bit, 2**position, 0) for position, bit in enumerate(bits)), ibis.literal(0, "int64"))
    for position, (drug, _) in enumerate(PREMEDICATION):
        state = ibis.cases((infusions[drug].isnull(), 2), (infusions[drug], 1), else_=0)
        code = code + state * (32 * 3**position)
    return code.cast("float64")


def _profile(code: float) -> dict[str, Any]:
    """The profile :func:`_profile_code` packed."""
    number = int(code)
    profile: dict[str, Any] = {"excluded": bool(number & 1)}
    profile |= {f"missing_{column}": bool(number >> position & 1) for position, column in enumerate(ANALYSIS_COLUMNS, 1)}
    states = number >> (len(ANALYSIS_COLUMNS) + 1)
    for position, (drug, _) in enumerate(PREMEDICATION):
        profile[drug] = (False, True, None)[states // 3**position % 3]
    return profile


def _unstacked(rows) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The profiles and the distributions of :func:`profiles_and_values`'s rows (an Arrow table)."""
    import numpy as np

    variable = np.asarray(rows["variable"].to_pylist(), dtype=np.int64)
    is_index = np.asarray(rows["is_index"].to_pylist(), dtype=bool)
    value = np.asarray(rows["value"].to_pylist(), dtype=float)
    partner = np.asarray([np.nan if item is None else item for item in rows["partner"].to_pylist()], dtype=float)
    n = np.asarray(rows["n"].to_pylist(), dtype=np.int64)
    pairs = variable == 0
    samples = {"vas_pre": (pairs, value), "vas_post": (pairs, partner), "reduction": (pairs, value - partner),
               **{column: (variable == number, value) for number, column in enumerate(TABLE_2_VALUES, 1)}}
    values: dict[str, Any] = {}
    for name, (mine, sample) in samples.items():
        for group, selected in (("index", mine & is_index), ("comparison", mine & ~is_index), ("all", mine)):
            values |= {f"{name}:{group}:{key}": statistic for key, statistic in counted_statistics(sample[selected], n[selected]).items()}
    listed = {name: rows[name].to_pylist() for name in ("side_effects", "first_date", "last_date")}
    profiles = [
        {"is_index": bool(is_index[row]), **_profile(value[row]), "side_effects": listed["side_effects"][row],
         "n": int(n[row]), "first_date": listed["first_date"][row], "last_date": listed["last_date"][row]}
        for row in np.flatnonzero(variable == PROFILE)
    ]
    return profiles, values


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
