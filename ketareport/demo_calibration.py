"""Calibration of the 49-patient demo to the published abstract's VAS figures.

A patient's mean VAS reduction can only move in steps of 0.1/k cm (k
analysed infusions); the abstract's rounded figures are reachable only in a
narrow window (the overall SE must round up to 0.35 while the Welch SE of the
difference rounds down to 0.64). :func:`patient_targets` draws each
patient's target at the published groups' moments, and :func:`calibrate`
moves single infusions by 0.1 cm until the patient-level moments sit at the
window's centre (docs/methods.md, "The demo dataset").
"""

from __future__ import annotations

import numpy as np

TARGET = {"crps_mean": 7.2211, "crps_sd": 2.1430, "other_mean": 5.0723, "other_sd": 2.2322}
TARGET_OVERALL_SE = 0.34512
TARGET_WELCH_SE = 0.64488
TARGET_GROUP_SE = {"crps_se": TARGET["crps_sd"] / np.sqrt(18), "other_se": TARGET["other_sd"] / np.sqrt(31)}
REDUCTION_RANGE = (0.5, 9.8)
"""Bounds of a patient's mean reduction (cm): a mean of 10 would need VAS 10 before and 0 after every infusion."""



def _standardised(z: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """``z`` shifted and scaled to have exactly this mean and sample SD."""
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def _stretched_beta(mean: float, sd: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of a Beta distribution stretched over REDUCTION_RANGE with this mean and SD."""
    low, high = REDUCTION_RANGE
    location, spread = (mean - low) / (high - low), (sd / (high - low)) ** 2
    concentration = location * (1 - location) / spread - 1
    return low + (high - low) * rng.beta(location * concentration, (1 - location) * concentration, size)


def patient_targets(is_index: np.ndarray, rng: np.random.Generator, exact: bool) -> np.ndarray:
    """Target mean VAS reduction per patient at the published group means and SDs.

    ``exact`` (the 49-patient demo): normal draws standardised to exactly the
    published moments, the whole group redrawn until every value lies in
    0.8-9.6 cm, which leaves the calibration room to move a patient by a few
    tenths. Otherwise a bounded (stretched Beta) distribution with the same
    moments: clipping normal draws at the ceiling would pile CRPS patients
    on it and lower the group's mean and SD, changing the effect size.
    """
    means = np.empty(is_index.size)
    for group, mean_key, sd_key in ((True, "crps_mean", "crps_sd"), (False, "other_mean", "other_sd")):
        members = is_index == group
        if not exact:
            means[members] = _stretched_beta(TARGET[mean_key], TARGET[sd_key], members.sum(), rng)
            continue
        for _ in range(1000):
            values = _standardised(rng.normal(0, 1, members.sum()), TARGET[mean_key], TARGET[sd_key])
            if values.min() >= 0.8 and values.max() <= 9.6:
                break
        means[members] = np.clip(values, 0.8, 9.6)
    return means


def _moments(sums: np.ndarray, counts: np.ndarray, is_index: np.ndarray) -> dict[str, float]:
    means = sums / counts
    crps, other = means[is_index], means[~is_index]
    se_c, se_o = crps.std(ddof=1) / np.sqrt(crps.size), other.std(ddof=1) / np.sqrt(other.size)
    return {
        "crps_mean": crps.mean(), "other_mean": other.mean(), "crps_se": se_c, "other_se": se_o,
        "overall_se": means.std(ddof=1) / np.sqrt(means.size),
        "welch_se": float(np.hypot(se_c, se_o)),
    }


def _calibration_error(moments: dict[str, float]) -> float:
    return float(
        ((moments["crps_mean"] - TARGET["crps_mean"]) / 1e-3) ** 2
        + ((moments["other_mean"] - TARGET["other_mean"]) / 1e-3) ** 2
        + ((moments["overall_se"] - TARGET_OVERALL_SE) / 1e-5) ** 2
        + ((moments["welch_se"] - TARGET_WELCH_SE) / 1e-5) ** 2
        + ((moments["crps_se"] - TARGET_GROUP_SE["crps_se"]) / 2e-5) ** 2
        + ((moments["other_se"] - TARGET_GROUP_SE["other_se"]) / 2e-5) ** 2
    )


def calibrate(tenths: np.ndarray, counts: np.ndarray, is_index: np.ndarray) -> np.ndarray:
    """Greedy search over single 0.1 cm moves of a patient's summed reduction.

    ``tenths`` is each patient's summed reduction in tenths of a cm (an
    integer). Each step takes the one +-1 move that best lowers the
    calibration error; it stops when no move helps.
    """
    tenths = tenths.copy()
    best = _calibration_error(_moments(tenths / 10, counts, is_index))
    for _ in range(2000):
        candidates = []
        for patient in range(tenths.size):
            for step in (-1, 1):
                trial = tenths.copy()
                trial[patient] += step
                mean = trial[patient] / 10 / counts[patient]
                if REDUCTION_RANGE[0] <= mean <= REDUCTION_RANGE[1]:
                    candidates.append((_calibration_error(_moments(trial / 10, counts, is_index)), patient, step))
        error, patient, step = min(candidates)
        if error >= best:
            break
        tenths[patient] += step
        best = error
    return tenths
