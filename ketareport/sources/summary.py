"""Summary statistics computed where the data are: many named measures in one query, read back by name.

A :class:`Summary` gathers the counts and the continuous variables of one
table per group (index, comparison, all) and runs them as two queries: one
aggregate row of counts and sizes, and one of value counts from which the
continuous variables' exact statistics follow (:func:`distributions`).
"""

from __future__ import annotations

from typing import Any

GROUPS = ("index", "comparison", "all")
QUANTILES = {"q1": 0.25, "median": 0.5, "q3": 0.75}
DISTINCT_VALUES_FETCHED = 50_000
"""Value counts fetched for the variables' exact statistics; beyond, the engine computes them itself. The pairs
of VAS before and after on a 0.1 cm grid are at most 101 x 101 per group."""


def one_row(expression) -> dict[str, Any]:
    return expression.to_pyarrow().to_pylist()[0]


def rows_of(expression) -> list[dict[str, Any]]:
    return expression.to_pyarrow().to_pylist()


class Summary:
    """Builds one aggregate query of many named measures, run once, read back by name."""

    def __init__(self, table, within=None, weights=None):
        """``within``: the rows the groups hold (Table 2: the analysed infusions); other measures may use every row.
        ``weights``: each row stands for this many (a per-patient count): the groups' sizes are its sums."""
        self.table = table
        self.within = within
        self.weights = weights
        self.measures: dict[str, Any] = {}
        self.distributions: dict[str, Any] = {}
        self.differences: dict[str, tuple[str, str]] = {}
        if within is None:
            self.masks = {"index": table.is_index, "comparison": ~table.is_index, "all": None}
        else:
            self.masks = {"index": table.is_index & within, "comparison": ~table.is_index & within, "all": within}

    def add(self, name: str, measure) -> str:
        self.measures[name] = measure
        return name

    def masked(self, value, group: str):
        import ibis

        mask = self.masks[group]
        return value if mask is None else ibis.ifelse(mask, value, ibis.null(value.type()))

    def count(self, name: str, flags) -> None:
        """Per group: rows where ``flags`` holds, and the group's rows."""
        for group in GROUPS:
            mask = self.masks[group]
            selected = flags if mask is None else flags & mask
            self.add(f"{name}:{group}:n", selected.sum())

    def total(self, name: str, counts) -> None:
        """Per group: the sum of ``counts`` (per-row counts of what the rows stand for)."""
        import ibis

        for group in GROUPS:
            mask = self.masks[group]
            self.add(f"{name}:{group}:n", (counts if mask is None else ibis.ifelse(mask, counts, 0)).sum())

    def continuous(self, name: str, values) -> None:
        """Count, mean, SD, extremes and quartiles per group: from the value counts (see :func:`distributions`)."""
        self.distributions[name] = values

    def difference(self, name: str, first: str, second: str) -> None:
        """``name``, a continuous variable: ``first`` minus ``second`` (two continuous variables added before, present
        together). Their pairs are counted, and all three variables' statistics follow from the pairs: one stacked
        row per infusion instead of three (:func:`distributions`)."""
        self.distributions[name] = self.distributions[first] - self.distributions[second]
        self.differences[name] = (first, second)

    def engine_continuous(self, name: str, values) -> None:
        """The same measures as engine aggregates: for a variable with too many distinct values to count."""
        for group in GROUPS:
            value = self.masked(values, group)
            prefix = f"{name}:{group}"
            self.add(f"{prefix}:count", value.count())
            self.add(f"{prefix}:mean", value.mean())
            self.add(f"{prefix}:sd", value.std(how="sample"))
            self.add(f"{prefix}:min", value.min())
            self.add(f"{prefix}:max", value.max())
            for key, q in QUANTILES.items():
                self.add(f"{prefix}:{key}", value.quantile(q))

    def sizes(self) -> None:
        if self.weights is not None:
            self.total("size", self.weights)
            for group in GROUPS:
                self.measures[f"size:{group}"] = self.measures.pop(f"size:{group}:n")
            return
        for group in GROUPS:
            mask = self.masks[group]
            self.add(f"size:{group}", self.table.count() if mask is None else mask.sum())

    def run(self, sizes: bool = True) -> dict[str, Any]:
        """Every measure by name; ``sizes``: with the groups' sizes (``size:GROUP``)."""
        if sizes:
            self.sizes()
        values = {}
        rows = self.table if self.within is None else self.table.filter(self.within)
        counted = distributions(rows, self.distributions, self.differences)
        for name, expression in self.distributions.items():
            if counted is None:
                self.engine_continuous(name, expression)
            else:
                values.update({f"{name}:{key}": value for key, value in counted[name].items()})
        if not self.measures:
            return values
        result = one_row(self.table.aggregate(**{_safe(name): measure for name, measure in self.measures.items()}))
        return values | {name: result[_safe(name)] for name in self.measures}


def distributions(table, variables: dict[str, Any], differences: dict[str, tuple[str, str]] | None = None
                  ) -> dict[str, dict[str, Any]] | None:
    """Exact summary statistics of each variable per group, from value counts: one query for all of them.

    Clinical variables take few distinct values (VAS on a 0.1 cm grid,
    whole milligrams, minutes and days), so ``GROUP BY group, value`` of
    each variable returns a few hundred rows whatever the number of
    infusions, and from them the count, mean, SD (two-pass), extremes and
    numpy's linear-interpolation quartiles follow exactly; holistic
    quantile aggregates over millions of rows would hold every value in
    the engine's memory. The variables are stacked long (a cross join of
    the rows with the variables' numbers) and grouped once: a view of the
    source is then read once, not once per variable. A variable of
    ``differences`` (name -> its two variables, :meth:`Summary.difference`)
    is not stacked: its two variables are, as one row holding both values
    (``value``, ``partner``), and its values are their differences, computed
    here as the engine computes them (one IEEE subtraction). None when the
    rows counted exceed :data:`DISTINCT_VALUES_FETCHED` (the engine then
    computes the statistics itself).
    """
    import ibis
    import numpy as np

    if not variables:
        return {}
    differences = differences or {}
    paired = {first: second for first, second in differences.values()}
    partners = set(paired.values())
    stacked_names = [name for name in variables if name not in differences and name not in partners]
    names = dict(enumerate(stacked_names))
    values = table.select(is_index=table.is_index, **{f"value_{position}": variables[name].cast("float64") for position, name in names.items()},
                          **{f"partner_{position}": variables[paired[name]].cast("float64") for position, name in names.items() if name in paired})
    # Each row once per variable (a cross join with the variables' numbers), so that one reading of the
    # table counts every variable's values: a union of one grouping per variable read it once per variable.
    numbers = ibis.memtable({"variable": list(names)}, schema={"variable": "int64"})
    long = values.cross_join(numbers)
    value = ibis.cases(*((long.variable == position, long[f"value_{position}"]) for position in names), else_=ibis.null("float64"))
    partner = ibis.cases(*((long.variable == position, long[f"partner_{position}"]) for position, name in names.items() if name in paired),
                         else_=ibis.null("float64")) if paired else ibis.null("float64")
    stacked = long.select("is_index", "variable", value=value, partner=partner)
    present = stacked.filter(stacked.value.notnull())
    counts = present.group_by(["variable", "is_index", "value", "partner"]).aggregate(n=present.count())
    rows = counts.limit(DISTINCT_VALUES_FETCHED + 1).to_pyarrow()
    if rows.num_rows > DISTINCT_VALUES_FETCHED:
        return None
    variable = np.asarray(rows["variable"].to_pylist(), dtype=np.int64)
    is_index = np.asarray(rows["is_index"].to_pylist(), dtype=bool)
    value = np.asarray(rows["value"].to_pylist(), dtype=float)
    partner = np.asarray([np.nan if item is None else item for item in rows["partner"].to_pylist()], dtype=float)
    n = np.asarray(rows["n"].to_pylist(), dtype=np.int64)
    samples = {}
    for position, name in names.items():
        samples[name] = (variable == position, value)
        if name in paired:
            samples[paired[name]] = (variable == position, partner)
    for name, (first, second) in differences.items():
        samples[name] = (samples[first][0], value - partner)
    result: dict[str, dict[str, Any]] = {}
    for name in variables:
        mine, sample = samples[name]
        statistics: dict[str, Any] = {}
        for group, selected in (("index", mine & is_index), ("comparison", mine & ~is_index), ("all", mine)):
            statistics.update({f"{group}:{key}": statistic for key, statistic in counted_statistics(sample[selected], n[selected]).items()})
        result[name] = statistics
    return result


def counted_statistics(values, counts) -> dict[str, Any]:
    """count, mean, sd, min, max and quartiles of a sample given as distinct values and their counts."""
    import numpy as np

    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    if values.size:  # one value may come as several rows (engines group -0.0 and 0.0 apart)
        values, inverse = np.unique(values, return_inverse=True)
        counts = np.bincount(inverse, weights=counts).astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return {"count": 0, "mean": None, "sd": None, "min": None, "max": None, "q1": None, "median": None, "q3": None}
    mean = float(np.sum(values * counts) / total)
    sd = float(np.sqrt(np.sum(counts * (values - mean) ** 2) / (total - 1))) if total > 1 else None
    ends = np.cumsum(counts)  # the sorted sample's positions 0 .. total-1: value k fills ends[k-1] .. ends[k]-1

    def order_statistic(position: int) -> float:
        return float(values[np.searchsorted(ends, position, side="right")])

    statistics = {"count": total, "mean": mean, "sd": sd, "min": float(values[0]), "max": float(values[-1])}
    for key, probability in QUANTILES.items():
        position = probability * (total - 1)
        low = int(np.floor(position))
        below, above = order_statistic(low), order_statistic(min(low + 1, total - 1))
        fraction = position - low
        # numpy's linear method, as np.quantile computes it (its lerp form for each half of the step).
        statistics[key] = below + fraction * (above - below) if fraction < 0.5 else above - (1 - fraction) * (above - below)
    return statistics


def _safe(name: str) -> str:
    """A column alias every engine accepts."""
    return "m_" + "".join(character if character.isalnum() else "_" for character in name)
