"""The aggregate path (sufficient statistics) equals the direct computation on the raw values.

The direct computations here are the ones the engine used before
:mod:`ketareport.aggregates`: t tests on the array of patient means, and the
REML criterion from per-infusion sums with a dense design matrix.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar

from ketareport.aggregates import Moments, PatientAggregates, patient_aggregates, vas_aggregates
from ketareport.statistics import one_sample_t, random_intercept_reml, two_sample_difference


def direct_reml(y: np.ndarray, design: np.ndarray, groups: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Profiled REML deviance from per-infusion sums (any design): (minimum deviance, theta, coefficients)."""
    _, index = np.unique(groups, return_inverse=True)
    n_groups = index.max() + 1
    sizes = np.bincount(index).astype(float)
    x_sums = np.zeros((n_groups, design.shape[1]))
    np.add.at(x_sums, index, design)
    y_sums = np.bincount(index, weights=y)
    xtx, xty, yty = design.T @ design, design.T @ y, float(y @ y)
    residual_df = y.size - design.shape[1]

    def deviance(relative_sd: float):
        ratio = relative_sd**2
        weights = ratio / (1 + sizes * ratio)
        xhx = xtx - (x_sums * weights[:, None]).T @ x_sums
        xhy = xty - (x_sums * weights[:, None]).T @ y_sums
        coefficients = np.linalg.solve(xhx, xhy)
        sigma2 = (yty - float(np.sum(weights * y_sums**2)) - coefficients @ xhy) / residual_df
        value = residual_df * (math.log(2 * math.pi * sigma2) + 1) + np.sum(np.log1p(sizes * ratio)) + np.linalg.slogdet(xhx)[1]
        return value, coefficients

    grid = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 121)])
    best = int(np.argmin([deviance(value)[0] for value in grid]))
    search = minimize_scalar(lambda s: deviance(s)[0], bounds=(grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]),
                             method="bounded", options={"xatol": 1e-12})
    return float(search.fun), float(search.x) ** 2, deviance(search.x)[1]


def reduce(y: np.ndarray, groups: np.ndarray, index_of_group: np.ndarray):
    codes = pd.factorize(groups)[0]
    counts, means, within, spread = patient_aggregates(codes, y, codes.max() + 1)
    patients = PatientAggregates(np.arange(counts.size), index_of_group, counts, means, within, spread)
    return patients, vas_aggregates(patients)


SHAPES = {
    # name: (patients' infusion counts, index flags per patient)
    "one infusion per patient but one": ([1] * 9 + [2], [True, False] * 5),
    "one-patient index group": ([3, 2, 4, 5, 1, 2], [True, False, False, False, False, False]),
    "one-patient comparison group": ([3, 2, 4, 5, 1, 2], [True, True, True, True, True, False]),
    "uneven sizes": ([1, 2, 3, 5, 8, 13, 2, 2, 1, 7, 4], [True, False] * 5 + [True]),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_moments_and_t_tests_equal_the_direct_computation(shape):
    sizes, flags = SHAPES[shape]
    rng = np.random.default_rng(len(shape))
    groups = np.repeat(np.arange(len(sizes)), sizes)
    y = np.round(rng.uniform(-2, 9, groups.size), 1)
    patients, aggregates = reduce(y, groups, np.array(flags))
    direct_means = pd.Series(y).groupby(groups).mean().to_numpy()
    assert patients.mean_reduction == pytest.approx(direct_means, rel=1e-15)
    assert patients.within_ss == pytest.approx(pd.Series(y).groupby(groups).apply(lambda v: ((v - v.mean()) ** 2).sum()).to_numpy(), abs=1e-12)
    index, comparison = direct_means[np.array(flags)], direct_means[~np.array(flags)]
    assert same(one_sample_t(aggregates.overall, 0.95), direct_t(direct_means))
    assert same(one_sample_t(aggregates.index, 0.95), direct_t(index))
    assert same(one_sample_t(aggregates.comparison, 0.95), direct_t(comparison))
    for test in ("welch", "pooled"):
        assert same(two_sample_difference(aggregates.index, aggregates.comparison, 0.95, test),
                    two_sample_difference(index, comparison, 0.95, test))


def direct_t(values: np.ndarray):
    """The t test as computed before the moments: numpy's std(ddof=1) on the values."""
    n = values.size
    if n < 2:
        return one_sample_t(values, 0.95)
    result = one_sample_t(values, 0.95)
    assert result.std_error in (0.0, float(values.std(ddof=1)) / math.sqrt(n))  # bit for bit
    return result


def same(first, second) -> bool:
    """Equal fields, floats to 1e-14 relative (the patient means may differ in the last bit)."""
    for name in ("estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high", "n"):
        a, b = getattr(first, name), getattr(second, name)
        if (a is None) != (b is None) or (a is not None and a != pytest.approx(b, rel=1e-14, abs=1e-300)):
            return False
    return True


def test_constant_groups_keep_r_rule_for_essentially_constant_data():
    # Every patient mean 5.1 within each group: SE 0, no test, as R's t.test stops.
    y = np.array([5.0, 5.2, 5.3, 4.9, 5.1, 2.0, 2.0, 2.0])
    groups = np.array([0, 0, 1, 1, 2, 3, 4, 5])
    _, aggregates = reduce(y, groups, np.array([True, True, True, False, False, False]))
    assert aggregates.index.m2 == pytest.approx(0.0, abs=1e-28)
    assert aggregates.comparison.m2 == 0.0
    for moments in (aggregates.index, aggregates.comparison):
        result = one_sample_t(moments, 0.95)
        assert result.std_error == 0.0 and result.statistic is None and result.p_value is None
    difference = two_sample_difference(aggregates.index, aggregates.comparison, 0.95, "welch")
    assert difference.estimate == pytest.approx(3.1) and difference.statistic is None


def test_pooled_moments_equal_the_moments_of_the_union():
    rng = np.random.default_rng(3)
    first, second = rng.normal(7, 2, 18), rng.normal(5, 2, 31)
    pooled = Moments.pooled(Moments.of(first), Moments.of(second))
    direct = Moments.of(np.concatenate([first, second]))
    assert pooled.n == direct.n
    assert pooled.mean == pytest.approx(direct.mean, rel=1e-14)
    assert pooled.m2 == pytest.approx(direct.m2, rel=1e-13)
    assert Moments.pooled(Moments.of(np.array([])), direct) == direct


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "one infusion per patient but one"] + ["balanced"])
def test_reml_from_cells_equals_the_dense_computation(shape):
    sizes, flags = SHAPES.get(shape, ([4] * 12, [True, False, False] * 4))
    rng = np.random.default_rng(len(shape))
    groups = np.repeat(np.arange(len(sizes)), sizes)
    index = np.array(flags)[groups].astype(float)
    y = np.round(5 + 2 * index + rng.normal(0, 1.5, len(sizes))[groups] + rng.normal(0, 1, groups.size), 1)
    design = np.column_stack([np.ones(groups.size), index])
    fit = random_intercept_reml(y, design, groups)
    deviance, ratio, coefficients = direct_reml(y, design, groups)
    assert -2 * fit.reml_log_likelihood == pytest.approx(deviance, rel=1e-12)
    # The dense search stops at sqrt(machine epsilon) of a flat minimum; the cells' slope root is exact.
    assert fit.variance_group / fit.variance_residual == pytest.approx(ratio, rel=1e-6, abs=1e-9)
    assert fit.coefficients == pytest.approx(coefficients, rel=1e-7)


def test_cells_collapse_patients_by_group_and_size():
    y = np.array([1.0, 2.0, 3.0, 4.0, 6.0, 5.0, 7.0])
    groups = np.array([0, 0, 1, 1, 2, 3, 3])
    _, aggregates = reduce(y, groups, np.array([True, True, False, False]))
    keys = [(cell.is_index, cell.n_infusions, cell.n_patients) for cell in aggregates.cells]
    assert keys == [(False, 1, 1), (False, 2, 1), (True, 2, 2)]
    index_cell = aggregates.cells[-1]
    assert index_cell.mean_of_means == pytest.approx((1.5 + 3.5) / 2)
    assert index_cell.m2_of_means == pytest.approx(2 * 1.0**2)
    assert index_cell.within_ss == pytest.approx(0.5 + 0.5)
    assert index_cell.max_range == pytest.approx(1.0)


def test_reml_refuses_a_covariate_that_varies_within_a_patient():
    with pytest.raises(ValueError, match="constant within"):
        random_intercept_reml(np.arange(4.0), np.column_stack([np.ones(4), [0, 1, 1, 1]]), np.array([0, 0, 1, 1]))
