"""The data contract in one place: columns, diagnosis labels, analyses, relief methods.

Everything a study dataset must hold and everything the engine names is
declared here once; the user-facing restatement is ``docs/data-dictionary.md``
(held to this module by ``tests/integration/test_docs.py``), and the methods
are ``docs/methods.md``. :mod:`ketareport.validate` applies the column rules,
:mod:`ketareport.config` and :mod:`ketareport.validate` share
:func:`normalise_diagnoses`, and the report takes its labels from here.

This module imports nothing heavy (pandas is imported only inside the
normaliser), so ``ketareport init`` and the docs generator stay quick.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

ColumnType = Literal["text", "number", "date", "yes/no"]
Role = Literal["yes", "analysis", "no"]
"""``yes`` = required (absent or empty is an error); ``analysis`` = the column
must exist, a blank cell excludes the infusion; ``no`` = optional."""


@dataclass(frozen=True)
class Column:
    """One column of a contract table, as ``docs/data-dictionary.md`` lists it."""

    name: str
    type: ColumnType
    required: Role
    rule: str
    """The rule as the data dictionary states it (Markdown)."""
    label: str
    """How a person names it in a sentence or a table, e.g. "VAS before infusion"."""


PATIENTS_TABLE = "patients"
INFUSIONS_TABLE = "infusions"

PATIENTS: tuple[Column, ...] = (
    Column("patient_id", "text", "yes", "non-empty, unique", "patient id"),
    Column(
        "diagnosis", "text", "yes",
        "non-empty; grouped ignoring case, with spaces, hyphens and underscores read as one `_` and ignored at "
        "either end (`Back Pain`, `back-pain` → `back_pain`; `-CRPS`, `Crps` → `crps`); usual labels `crps`, "
        "`headache`, `back_pain`, `other`; any other label is kept. Grouping does not change how a diagnosis "
        "is printed: as `labels:` in study.yml names it, else CRPS, headache, back pain, other for the usual "
        "labels, else as written in the data (its most frequent spelling, `_` shown as a space)",
        "diagnosis",
    ),
    Column("sex", "text", "no", "`F`, `M` or missing", "sex"),
    Column("age_years", "number", "no", "0 to 120", "age"),
    Column("previous_interventions", "text", "no", "labels separated by `;` (counted ignoring case)", "previous interventions"),
    Column("relief_duration_days", "number", "no", "≥ 0; missing = not recorded", "duration of relief"),
    Column(
        "relief_ongoing", "yes/no", "no",
        "relief still ongoing at last contact, so the duration is censored; missing = no", "relief ongoing",
    ),
)

INFUSIONS: tuple[Column, ...] = (
    Column("infusion_id", "text", "yes", "non-empty, unique", "infusion id"),
    Column("patient_id", "text", "yes", "must be a `patient_id` of the patients table", "patient id"),
    Column(
        "infusion_date", "date", "yes",
        "ISO `YYYY-MM-DD` (Excel and R dates are accepted as dates); within study.yml `study.period` when set, "
        "and not after `report.data_lock` or today", "infusion date",
    ),
    Column("ketamine_dose_mg", "number", "analysis", "> 0", "ketamine dose"),
    Column("infusion_duration_min", "number", "analysis", "> 0", "infusion duration"),
    Column("vas_pre", "number", "analysis", "0 to 10 (visual analogue scale, cm)", "VAS before infusion"),
    Column("vas_post", "number", "analysis", "0 to 10", "VAS after infusion"),
    Column("midazolam", "yes/no", "no", "premedication given", "midazolam"),
    Column("ondansetron", "yes/no", "no", "premedication given", "ondansetron"),
    Column("side_effects", "text", "no", "labels separated by `;`; blank or `none` = none", "side effects"),
)

TABLES: dict[str, tuple[Column, ...]] = {PATIENTS_TABLE: PATIENTS, INFUSIONS_TABLE: INFUSIONS}

PATIENT_COLUMNS = tuple(column.name for column in PATIENTS)
INFUSION_COLUMNS = tuple(column.name for column in INFUSIONS)
REQUIRED_PATIENT_COLUMNS = tuple(column.name for column in PATIENTS if column.required == "yes")
REQUIRED_INFUSION_COLUMNS = tuple(column.name for column in INFUSIONS if column.required == "yes")
ANALYSIS_COLUMNS = tuple(column.name for column in INFUSIONS if column.required == "analysis")
"""An infusion missing any of these is excluded for missing data (``docs/methods.md``, Cohort)."""
COLUMN_LABELS: dict[str, str] = {column.name: column.label for column in (*PATIENTS, *INFUSIONS)}

MISSING_TEXT = ("", "NA")
"""Cell text read as missing (besides a truly empty cell and R ``NA``)."""
TRUE_TEXT = ("true", "yes", "1", "1.0")
FALSE_TEXT = ("false", "no", "0", "0.0")
LABEL_SEPARATOR = ";"
NO_SIDE_EFFECT = "none"

# ----------------------------------------------------------- diagnoses --

INDEX_DIAGNOSIS = "crps"
"""The default index group (``docs/methods.md``, Cohort)."""

CANONICAL_LABELS: dict[str, str] = {
    "crps": "CRPS",
    "headache": "headache",
    "back_pain": "back pain",
    "other": "other",
}
"""How the report prints the data dictionary's usual diagnoses, whatever the
data's spelling (``crps`` is an acronym; the others read as words)."""

DIAGNOSIS_NAMES: dict[str, str] = {"crps": "complex regional pain syndrome"}
"""The spelled-out name of a canonical diagnosis, for its first mention in prose."""

_SEPARATOR_RUNS = r"[\s\-_]+"


def normalise_diagnoses(values: "pd.Series | Iterable[str | None]") -> "pd.Series":
    """The grouping key of each diagnosis label (vectorised; missing stays missing).

    Lower-cased; every run of spaces, hyphens and underscores becomes one
    ``_``, and one at either end is dropped: ``Back Pain`` and ``back-pain``
    give ``back_pain``; ``-CRPS``, `` CRPS `` and ``Crps`` give ``crps``.
    The same function reads the data (:mod:`ketareport.validate`) and the
    configuration (:mod:`ketareport.config`), so both sides always agree.
    The key only groups: the report prints :func:`diagnosis_labels`.
    Each distinct label is normalised once and spread back over the rows: a
    study has a handful of diagnoses and may have a hundred thousand patients.
    """
    import numpy as np
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    codes, labels = pd.factorize(series, use_na_sentinel=True)
    keys = (
        pd.Series(labels, dtype="string").str.lower()
        .str.replace(_SEPARATOR_RUNS, "_", regex=True).str.strip("_")
    ).to_numpy(dtype=object)
    spread = np.where(codes >= 0, keys[np.maximum(codes, 0)] if keys.size else None, None)
    return pd.Series(spread, index=series.index, dtype=object)


def normalise_diagnosis(label: str) -> str:
    """One label through :func:`normalise_diagnoses` (for a configuration value)."""
    return normalise_diagnoses([label]).iat[0]


PREMEDICATION: tuple[tuple[str, str], ...] = (("midazolam", "Midazolam"), ("ondansetron", "Ondansetron"))
"""The premedication columns and their labels in Table 2."""

FORMER_NAMES: dict[str, tuple[str, ...]] = {"crps": ("reflex_sympathetic_dystrophy", "rsd", "causalgia")}
"""Older names of a diagnosis, as charts still record them (CRPS types I and II)."""


def index_look_alikes(keys: Iterable[str], index_key: str) -> list[str]:
    """Diagnoses that look like the index diagnosis but are not it, so fall in the comparison group.

    Compared without punctuation: a key one of whose words is the index key,
    or the index key and a type number (``crps_type_i``, ``crps1``,
    ``c.r.p.s.``, ``type_2_crps``); the index key written apart
    (``head_ache`` for ``headache``); its name spelled out
    (``complex_regional_pain_syndrome``, :data:`DIAGNOSIS_NAMES`) or a former
    name (:data:`FORMER_NAMES`). Grouping stays exact (the data dictionary's
    rule): these are reported as a warning so that a user recodes them if
    they belong.
    """
    def plain(key: str) -> str:
        return re.sub(r"[^a-z0-9_]", "", key)

    index_words = plain(index_key).split("_")
    other_names = [normalise_diagnosis(DIAGNOSIS_NAMES[index_key])] if index_key in DIAGNOSIS_NAMES else []
    other_names += FORMER_NAMES.get(index_key, ())
    numbered = re.compile(rf"^{re.escape(plain(index_key).replace('_', ''))}(?:[0-9]+|i{{1,3}}|iv)?$")

    def looks_alike(key: str) -> bool:
        words = plain(key).split("_")
        runs = ["_".join(words[start:start + len(index_words)]) for start in range(len(words) - len(index_words) + 1)]
        return (
            "_".join(index_words) in runs
            or any(numbered.match(word) for word in words)
            or numbered.match(plain(key).replace("_", "")) is not None
            or any(name == key or name in runs or f"_{name}_" in f"_{key}_" for name in other_names)
        )

    return [key for key in keys if key != index_key and looks_alike(key)]


def diagnosis_labels(
    normalised: "pd.Series", written: "pd.Series", mapping: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """How the report prints each diagnosis: normalised key -> display label.

    In order of precedence: the ``labels:`` map of study.yml (keys already
    normalised); the canonical label of a usual diagnosis (:data:`CANONICAL_LABELS`);
    else the spelling most often written in the data for that key (ties: the
    first seen), with underscores shown as spaces. So "HIV neuropathy" and
    "Post-herpetic neuralgia" print as written, whatever their case or hyphens.
    """
    import pandas as pd

    frame = pd.DataFrame({"key": normalised.to_numpy(), "written": written.astype("string").str.strip().to_numpy()})
    frame = frame.dropna()
    # groupby(sort=False) lists the spellings in the order first seen: that position breaks ties in the count.
    counts = frame.groupby(["key", "written"], sort=False).size().reset_index(name="n")
    counts["first_seen"] = counts.index
    best = counts.sort_values(["key", "n", "first_seen"], ascending=[True, False, True]).drop_duplicates("key")
    labels = {str(key): str(spelling).replace("_", " ") for key, spelling in zip(best["key"], best["written"])}
    for key in labels:
        if mapping and key in mapping:
            labels[key] = mapping[key]
        elif key in CANONICAL_LABELS:
            labels[key] = CANONICAL_LABELS[key]
    return labels


def sentence_start(label: str) -> str:
    """A label at the start of a sentence or a table row: first letter up, the rest as written."""
    return label[:1].upper() + label[1:]


# ------------------------------------------------------------ analyses --

VAS_ANALYSIS = "vas_reduction"
RELIEF_ANALYSIS = "relief"
MIXED_MODEL_ANALYSIS = "vas_reduction_lmm"
ANALYSES = (VAS_ANALYSIS, RELIEF_ANALYSIS, MIXED_MODEL_ANALYSIS)
"""The ``analysis`` ids of ``estimates.csv`` (``docs/methods.md``)."""

ESTIMATE_COLUMNS = (
    "analysis", "term", "estimate", "std_error", "statistic", "df", "p_value",
    "conf_low", "conf_high", "conf_level", "n", "x",
)
"""The columns of ``estimates.csv``, in order."""


@dataclass(frozen=True)
class ReliefMethod:
    """An interval method for the relief probabilities (``docs/methods.md``, Duration of relief)."""

    name: str
    description: str
    """For the appendix and results.json: the method stated exactly."""
    phrase: str
    """For a sentence: "Using <phrase>, the estimated probability ..."."""


RELIEF_METHODS: dict[str, ReliefMethod] = {
    method.name: method for method in (
        ReliefMethod(
            "bernoulli",
            "Bernoulli model with a uniform Beta(1, 1) prior: equal-tailed interval of the Beta(x + 1, n − x + 1) posterior",
            "the Bernoulli model with a uniform prior",
        ),
        ReliefMethod(
            "jeffreys",
            "Jeffreys interval: equal-tailed interval of the Beta(x + ½, n − x + ½) posterior",
            "the Jeffreys interval",
        ),
        ReliefMethod("clopper-pearson", "exact Clopper–Pearson interval", "the exact Clopper–Pearson interval"),
        ReliefMethod("wilson", "Wilson score interval without continuity correction", "the Wilson score interval"),
    )
}
DEFAULT_RELIEF_METHOD = "bernoulli"
