"""A seeded generator of synthetic study datasets (no real patient).

With the defaults (49 patients, ``DEFAULT_SEED``) it writes ``data/demo/``,
whose analysis reproduces every figure of the published abstract
(Pain Med. 2012;13(2):263-9; see ``data/demo/README.md``). The figures are reached by
construction and calibration here, never by special cases in the engine:

1. each patient gets a target mean VAS reduction, drawn per group and
   standardised to the published groups' mean and SD;
2. a patient's analysed infusions carry reductions on the 0.1 cm grid, so a
   patient's mean can only move in steps of 0.1/k (k analysed infusions):
   a deterministic greedy search moves single infusions by 0.1 cm until the
   patient-level moments sit at the centre of the narrow window in which
   every rounded figure of the abstract comes out (the overall SE must round
   up to 0.35 while the Welch SE of the difference rounds down to 0.64);
3. relief durations are laid out so that 29 are recorded, one of them
   censored before 7 days, with 21 of 28 evaluable patients at >= 7 days and
   10 at > 21 days.

Any other ``patients`` count scales the same design (diagnosis mix,
infusions per patient, missing-data rate, relief recording, group means and
SDs of the VAS reduction) without calibration, vectorised, for benchmarks:
100,000 patients take a few seconds.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import ANALYSIS_COLUMNS
from .demo_calibration import calibrate, patient_targets
from .output import write_atomic

DEFAULT_SEED = 20120201
DEMO_PATIENTS = 49

# The published design (docs/methods.md, "The demo dataset").
DIAGNOSIS_COUNTS = {
    "crps": 18, "headache": 8, "back_pain": 7, "neuropathic_pain": 5,
    "fibromyalgia": 4, "post_herpetic_neuralgia": 3, "other": 4,
}
DEMO_INFUSIONS = 369
DEMO_EXCLUDED = 36
SIDE_EFFECTS = ("nausea", "dizziness", "hallucinations", "sedation", "headache", "vivid dreams", "diplopia")
SIDE_EFFECT_RATES = (0.03, 0.025, 0.01, 0.02, 0.01, 0.01, 0.005)
INTERVENTIONS = (
    "opioids", "nerve blocks", "epidural steroid injection", "spinal cord stimulation",
    "anticonvulsants", "antidepressants", "physical therapy", "intrathecal pump",
)
PERIOD_START = dt.date(2004, 1, 1)
PERIOD_END = dt.date(2009, 12, 31)
STUDY_YML = """\
# Study configuration of the synthetic demo dataset (see README.md here).
study:
  title: "Efficacy of outpatient ketamine infusions in refractory chronic pain syndromes: a 5-year retrospective analysis"
  subtitle: "Reproduction on a synthetic dataset"
  authors:
    - name: "Demo Author A"
      affiliation: "Department of Anesthesia and Critical Care (synthetic demonstration)"
    - name: "Demo Author B"
      affiliation: "Department of Anesthesia and Critical Care (synthetic demonstration)"
  institution: "Academic medical centre (synthetic demonstration)"
  period: {start: 2004-01-01, end: 2009-12-31}
  review_board: "Institutional Review Board approval (synthetic demonstration dataset; no patient data)"
  setting: "Outpatient pain clinic of an academic medical centre"
  keywords: [ketamine, chronic pain, complex regional pain syndrome]
"""

# The README of the calibrated demo; {command} regenerates the files byte for byte.
DEMO_README = """\
# Demo dataset — SYNTHETIC

These files describe **no real patient**. They were made by

    {command}

(seeded; running it again gives these files byte for byte) to reproduce,
through the engine, every figure of the published abstract (Pain Med.
2012;13(2):263-9): 49 patients, 369 infusions, 36 excluded for missing data,
18 with CRPS, VAS reductions and relief probabilities at the precision the
abstract prints.

* `patients.csv`, `infusions.csv` — the two tables of the data contract;
"""
SCALED_README = """\
# Generated dataset — SYNTHETIC

These files describe **no real patient**. They were made by

    {command}

(seeded; running it again gives these files byte for byte). They follow the
design of the demo dataset, scaled to {patients} patients and {infusions}
infusions (same diagnosis mix, missing-data rate, relief recording and effect
sizes) but are not calibrated: their figures vary around the published
abstract's, as a real sample of this size would.

* `patients.csv`, `infusions.csv` — the two tables of the data contract;
"""
README_RDATA = """\
* `demo.RData` — the same two data frames for R: `load("{folder}/demo.RData")`
  (infusion_date is ISO text: `as.Date(infusions$infusion_date)`);
"""
README_STUDY = """\
* `study.yml` — the study configuration used by `ketareport render {folder}`.
"""
# VAS and tenth-of-a-cm reductions are whole tenths 0..100: text by table lookup (fast at scale).
TENTHS_TEXT = np.array([f"{tenths / 10:.1f}" for tenths in range(101)], dtype=object)
# ISO text of every day of the study period, indexed by days since its start.
PERIOD_DAY_TEXT = np.datetime_as_string(
    np.arange(np.datetime64(PERIOD_START), np.datetime64(PERIOD_END) + 1), unit="D").astype(object)


def _group_labels(n_patients: int, rng: np.random.Generator) -> np.ndarray:
    """Diagnoses in random order: the published counts for the demo, their shares otherwise."""
    if n_patients == DEMO_PATIENTS:
        labels = np.repeat(list(DIAGNOSIS_COUNTS), list(DIAGNOSIS_COUNTS.values()))
    else:
        shares = np.array(list(DIAGNOSIS_COUNTS.values()), dtype=float) / DEMO_PATIENTS
        labels = rng.choice(list(DIAGNOSIS_COUNTS), size=n_patients, p=shares)
    return rng.permutation(labels)


def _infusion_counts(n_patients: int, rng: np.random.Generator) -> np.ndarray:
    """Infusions per patient (at least 2); 369 in all for the demo."""
    total = DEMO_INFUSIONS if n_patients == DEMO_PATIENTS else round(n_patients * DEMO_INFUSIONS / DEMO_PATIENTS)
    weights = rng.gamma(2.0, 1.0, n_patients)
    extra = rng.multinomial(total - 2 * n_patients, weights / weights.sum())
    return 2 + extra


def _split_sum(total_tenths: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-infusion reductions (tenths, 0..100) summing exactly to each patient's total."""
    owner = np.repeat(np.arange(counts.size), counts)
    mean = total_tenths[owner] / counts[owner]
    values = np.clip(np.rint(mean + rng.normal(0, 9, owner.size)), 0, 100).astype(int)
    # Restore each patient's exact sum by spreading the remainder one tenth at a time.
    gap = total_tenths - np.bincount(owner, weights=values, minlength=counts.size).astype(int)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    while np.any(gap != 0):
        step = np.sign(gap)
        position = starts + rng.integers(0, counts)
        movable = (values[position] + step >= 0) & (values[position] + step <= 100) & (gap != 0)
        np.add.at(values, position[movable], step[movable])
        gap[movable] -= step[movable]
    return values


def _relief_durations(n_patients: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Durations (days, NaN = not recorded) and ongoing flags.

    Demo: 29 recorded; 1 ongoing at 4 days (censored before 7 days); of the
    other 28, 10 over 21 days, 11 from 7 to 21 days, 7 under 7 days.
    """
    if n_patients == DEMO_PATIENTS:
        kinds = np.array(["long"] * 10 + ["medium"] * 11 + ["short"] * 7 + ["censored"] + ["none"] * 20)
    else:
        kinds = rng.choice(["long", "medium", "short", "censored", "none"], size=n_patients,
                           p=np.array([10, 11, 7, 1, 20]) / 49)
    kinds = rng.permutation(kinds)
    days = np.full(n_patients, np.nan)
    days[kinds == "long"] = rng.integers(22, 91, (kinds == "long").sum())
    days[kinds == "medium"] = rng.integers(7, 22, (kinds == "medium").sum())
    days[kinds == "short"] = rng.integers(1, 7, (kinds == "short").sum())
    days[kinds == "censored"] = rng.integers(2, 7, (kinds == "censored").sum())
    return days, kinds == "censored"


def _integer_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers as text (pandas converts large arrays several times faster than numpy)."""
    return pd.Series(values.astype(np.int64)).astype(str).to_numpy(dtype=object)


def _numbered_ids(prefix: str, count: int, min_width: int) -> np.ndarray:
    """prefix + zero-padded 1..count, e.g. P001; the width grows with the count."""
    width = max(min_width, len(str(count)))
    return (prefix + pd.Series(np.arange(1, count + 1)).astype(str).str.zfill(width)).to_numpy(dtype=object)


def _joined_labels(indicators: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Boolean matrix (rows x labels) -> "a; b" text per row, without a row loop."""
    names = np.array([f"{label}; " for label in labels], dtype=object)
    joined = indicators @ names if indicators.size else np.zeros(indicators.shape[0], dtype=object)
    return pd.Series(joined, dtype=object).astype(str).str.rstrip("; ").replace("0", "").to_numpy()


def _infusion_dates(counts: np.ndarray, first: np.ndarray, owner: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """ISO dates: a start per patient, then every 2 to 8 weeks, within 2004-2009.

    A course longer than the period (rare, only in large datasets) is
    compressed to fit it rather than cut, so a patient's dates stay distinct.
    """
    span = (PERIOD_END - PERIOD_START).days
    gaps = rng.integers(14, 57, owner.size)
    gaps[first] = 0
    offset_in_patient = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first], counts)
    course = np.bincount(owner, weights=gaps, minlength=counts.size)
    compression = np.minimum(1.0, span / np.maximum(course, 1))
    offset_in_patient = np.floor(offset_in_patient * compression[owner]).astype(int)
    start = (rng.random(counts.size) * np.maximum(span - course, 0)).astype(int)
    return PERIOD_DAY_TEXT[start[owner] + offset_in_patient]


def _excluded_infusions(first: np.ndarray, n_infusions: int, calibrated: bool, rng: np.random.Generator) -> np.ndarray:
    """Which infusions miss an analysis value: never a patient's first (``first`` holds their positions), so
    everyone keeps one analysed infusion; the demo's number of them, or the same share of a scaled dataset."""
    not_first = np.ones(n_infusions, dtype=bool)
    not_first[first] = False
    eligible = np.flatnonzero(not_first)
    n_excluded = DEMO_EXCLUDED if calibrated else round(n_infusions * DEMO_EXCLUDED / DEMO_INFUSIONS)
    excluded = np.zeros(n_infusions, dtype=bool)
    excluded[rng.choice(eligible, n_excluded, replace=False)] = True
    return excluded


def generate_demo(patients: int = DEMO_PATIENTS, seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables (patients, infusions) of a synthetic dataset, in the contract's columns.

    Every cell is text exactly as written to the CSV files: blank = missing,
    booleans ``true``/``false``, VAS with one decimal. The 49-patient demo
    is calibrated to the published abstract; any other count follows the
    same design without calibration.
    """
    if patients < 2:
        raise ValueError(f"a dataset needs at least 2 patients, not {patients}")
    rng = np.random.default_rng(seed)
    calibrated = patients == DEMO_PATIENTS
    diagnosis = _group_labels(patients, rng)
    is_index = diagnosis == "crps"
    counts = _infusion_counts(patients, rng)
    owner = np.repeat(np.arange(patients), counts)
    n_infusions = int(counts.sum())

    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    excluded = _excluded_infusions(first, n_infusions, calibrated, rng)
    analysed_counts = np.bincount(owner[~excluded], minlength=patients)

    targets = patient_targets(is_index, rng, exact=calibrated)
    tenths = np.rint(targets * analysed_counts * 10).astype(int)
    if calibrated:
        tenths = calibrate(tenths, analysed_counts, is_index)
    reduction = np.empty(n_infusions, dtype=int)
    reduction[~excluded] = _split_sum(tenths, analysed_counts, rng)
    reduction[excluded] = np.clip(np.rint(targets[owner[excluded]] * 10 + rng.normal(0, 9, excluded.sum())), 0, 100)
    # Post-infusion VAS: low but not always 0; pre = post + reduction (<= 10 cm).
    headroom = 100 - reduction
    post = np.minimum(np.rint(rng.beta(1.2, 4.0, n_infusions) * headroom), headroom).astype(int)
    pre = post + reduction

    sex = np.where(rng.random(patients) < 0.65, "F", "M")
    age = np.clip(np.rint(rng.normal(46, 12, patients)), 18, 85).astype(int)
    weight = np.clip(rng.normal(78, 15, patients), 45, 140)
    dose = np.clip(np.rint(weight[owner] * rng.uniform(0.6, 1.6, n_infusions) / 5) * 5, 25, 250)
    duration = np.clip(np.rint(rng.normal(120, 35, n_infusions) / 15) * 15, 45, 240)

    dates = _infusion_dates(counts, first, owner, rng)

    effects = rng.random((n_infusions, len(SIDE_EFFECTS))) < np.array(SIDE_EFFECT_RATES)
    previous = rng.random((patients, len(INTERVENTIONS))) < np.array([0.7, 0.6, 0.4, 0.2, 0.5, 0.4, 0.3, 0.05])
    relief_days, ongoing = _relief_durations(patients, rng)

    # Which analysis value is missing on an excluded infusion: mostly a VAS score.
    missing_column = rng.choice(len(ANALYSIS_COLUMNS), size=n_infusions, p=[0.15, 0.2, 0.25, 0.4])
    columns = {
        "ketamine_dose_mg": _integer_text(dose),
        "infusion_duration_min": _integer_text(duration),
        "vas_pre": TENTHS_TEXT[pre], "vas_post": TENTHS_TEXT[post],
    }
    for position, name in enumerate(ANALYSIS_COLUMNS):
        columns[name] = np.where(excluded & (missing_column == position), "", columns[name])

    patient_ids = _numbered_ids("P", patients, 3)
    infusion_ids = _numbered_ids("I", n_infusions, 4)
    patients_table = pd.DataFrame({
        "patient_id": patient_ids,
        "diagnosis": diagnosis,
        "sex": sex,
        "age_years": age,
        "previous_interventions": _joined_labels(previous, INTERVENTIONS),
        "relief_duration_days": np.where(np.isnan(relief_days), "", _integer_text(np.nan_to_num(relief_days))),
        "relief_ongoing": np.where(ongoing, "true", "false"),
    })
    infusions_table = pd.DataFrame({
        "infusion_id": infusion_ids,
        "patient_id": patient_ids[owner],
        "infusion_date": dates,
        **columns,
        "midazolam": "true",
        "ondansetron": "true",
        "side_effects": _joined_labels(effects, SIDE_EFFECTS),
    })
    return patients_table, infusions_table


def _csv_bytes(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _rdata_bytes(patients: pd.DataFrame, infusions: pd.DataFrame, folder: Path) -> bytes:
    """Both tables as R data frames (numbers numeric, yes/no logical, blanks NA), gzip with mtime 0."""
    import rdata

    def r_frame(table: pd.DataFrame) -> pd.DataFrame:
        frame = {}
        for column, values in table.items():
            text = values.astype(str)
            if column in ("relief_ongoing", "midazolam", "ondansetron"):
                frame[column] = pd.array((text == "true").tolist(), dtype="boolean")
            elif column in ("age_years", "relief_duration_days", *ANALYSIS_COLUMNS):
                frame[column] = pd.array(pd.to_numeric(text.replace("", np.nan)).tolist(), dtype="Float64")
            else:
                frame[column] = pd.array(text.replace("", None).tolist(), dtype="string[python]")
        return pd.DataFrame(frame, index=pd.RangeIndex(1, len(table) + 1))

    # rdata writes only to a path, and its own gzip header would carry the
    # current time: write uncompressed to a scratch file, then gzip with mtime 0.
    descriptor, scratch_name = tempfile.mkstemp(prefix=".demo.RData-", dir=folder)
    os.close(descriptor)
    scratch = Path(scratch_name)
    try:
        rdata.write_rda(scratch, {"patients": r_frame(patients), "infusions": r_frame(infusions)}, compression=None)
        return gzip.compress(scratch.read_bytes(), mtime=0)
    finally:
        scratch.unlink(missing_ok=True)


def _readme(patients: int, seed: int, n_infusions: int, with_rdata: bool) -> str:
    """README.md for a generated folder: SYNTHETIC, and the command that regenerates it."""
    calibrated = patients == DEMO_PATIENTS
    default = calibrated and seed == DEFAULT_SEED and with_rdata
    folder = "data/demo" if default else "DIR"
    options = ([] if calibrated else [f"--patients {patients}"]) + ([] if seed == DEFAULT_SEED else [f"--seed {seed}"])
    if with_rdata != calibrated:
        options.append("--rdata" if with_rdata else "--no-rdata")
    command = " ".join(["ketareport demo-data --out", folder, *options]) + ("" if default else "   # DIR: this folder")
    template = DEMO_README if calibrated else SCALED_README
    text = template.format(command=command, patients=f"{patients:,}", infusions=f"{n_infusions:,}")
    if with_rdata:
        text += README_RDATA.format(folder=folder)
    if calibrated:
        text += README_STUDY.format(folder=folder)
    return text


def write_demo(
    out_dir: Path, patients: int = DEMO_PATIENTS, seed: int = DEFAULT_SEED, *, rdata: bool | None = None,
) -> list[Path]:
    """Write patients.csv, infusions.csv, README.md, demo.RData (and study.yml for the demo).

    ``rdata`` defaults to True for the 49-patient demo and False otherwise:
    the rdata package writes strings one at a time (100,000 patients take
    over two minutes), while the CSV files take seconds. study.yml comes
    with the 49-patient demo only (any seed: the calibration reproduces the
    abstract whatever the seed). Each file is written atomically; returns
    the paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    patients_table, infusions_table = generate_demo(patients, seed)
    with_rdata = rdata if rdata is not None else patients == DEMO_PATIENTS
    files = {
        "patients.csv": _csv_bytes(patients_table),
        "infusions.csv": _csv_bytes(infusions_table),
        "README.md": _readme(patients, seed, len(infusions_table), with_rdata).encode("utf-8"),
    }
    if with_rdata:
        files["demo.RData"] = _rdata_bytes(patients_table, infusions_table, out_dir)
    if patients == DEMO_PATIENTS:
        files["study.yml"] = STUDY_YML.encode("utf-8")
    return [write_atomic(out_dir / name, content) for name, content in files.items()]


__all__ = ["DEFAULT_SEED", "DEMO_PATIENTS", "generate_demo", "write_demo"]
