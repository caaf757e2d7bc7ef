"""Pure statistical functions: numbers in, numbers out, no data frames.

Each follows the R function a reviewer would reach for (named in the
docstring), so that ``reproduce.R`` can check it independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
# The distribution functions come from scipy.special, not scipy.stats: the
# same numerical routines, without scipy.stats's ~0.7 s import on every run.
from scipy.special import betaincinv, ndtr, ndtri, stdtr, stdtrit


@dataclass(frozen=True)
class TestResult:
    """A mean or a difference with its t-based inference; ``None`` = not estimable."""

    estimate: float | None
    std_error: float | None
    statistic: float | None
    df: float | None
    p_value: float | None
    conf_low: float | None
    conf_high: float | None
    n: int


def _t_inference(estimate: float, std_error: float, df: float, conf_level: float, n: int) -> TestResult:
    if not (std_error > 0 and math.isfinite(df) and df > 0):
        # All values equal: the mean is known exactly, t and P are undefined.
        return TestResult(estimate, std_error, None, df if math.isfinite(df) else None, None, None, None, n)
    statistic = estimate / std_error
    p_value = float(2 * stdtr(df, -abs(statistic)))
    half_width = float(stdtrit(df, 0.5 + conf_level / 2)) * std_error
    return TestResult(estimate, std_error, statistic, df, p_value, estimate - half_width, estimate + half_width, n)


def one_sample_t(values: np.ndarray, conf_level: float) -> TestResult:
    """Mean, SE = SD/sqrt(n), t on n-1 df for mean = 0 (R: ``t.test(x)``)."""
    values = np.asarray(values, dtype=float)
    n = int(values.size)
    if n == 0:
        return TestResult(None, None, None, None, None, None, None, 0)
    mean = float(values.mean())
    if n < 2:
        return TestResult(mean, None, None, None, None, None, None, n)
    std_error = float(values.std(ddof=1)) / math.sqrt(n)
    if _essentially_constant(std_error, mean):
        std_error = 0.0
    return _t_inference(mean, std_error, n - 1, conf_level, n)


def _essentially_constant(std_error: float, *means: float) -> bool:
    """R ``t.test``'s rule: SE <= 10 * machine epsilon * the largest |mean|.

    Equal values (patients' means of 5.1 cm, say) then have SE exactly 0 and
    no test: their floating-point SE of ~1e-16 would give t ~ 1e16, where R
    stops with "data are essentially constant".
    """
    return std_error <= 10 * np.finfo(float).eps * max(abs(mean) for mean in means)


def two_sample_difference(first: np.ndarray, second: np.ndarray, conf_level: float, test: str) -> TestResult:
    """Mean of ``first`` minus mean of ``second``.

    ``welch``: SE = sqrt(SE1^2 + SE2^2) on Welch-Satterthwaite df
    (R: ``t.test(x, y)``); ``pooled``: pooled-variance SE on n1 + n2 - 2 df
    (R: ``t.test(x, y, var.equal = TRUE)``). With fewer than 2 values in
    either group only the difference of the means is given.
    """
    first = np.asarray(first, dtype=float)
    second = np.asarray(second, dtype=float)
    n1, n2 = int(first.size), int(second.size)
    if n1 == 0 or n2 == 0:
        return TestResult(None, None, None, None, None, None, None, n1 + n2)
    mean1, mean2 = float(first.mean()), float(second.mean())
    difference = mean1 - mean2
    if n1 < 2 or n2 < 2:
        return TestResult(difference, None, None, None, None, None, None, n1 + n2)
    var1, var2 = float(first.var(ddof=1)), float(second.var(ddof=1))
    if test == "welch":
        se1_sq, se2_sq = var1 / n1, var2 / n2
        std_error = math.sqrt(se1_sq + se2_sq)
        denominator = se1_sq**2 / (n1 - 1) + se2_sq**2 / (n2 - 1)
        df = (se1_sq + se2_sq) ** 2 / denominator if denominator > 0 else math.nan
    elif test == "pooled":
        df = n1 + n2 - 2
        pooled_var = ((n1 - 1) * var1 + (n2 - 1) * var2) / df
        std_error = math.sqrt(pooled_var * (1 / n1 + 1 / n2))
    else:
        raise ValueError(f"unknown difference test {test!r}")
    if _essentially_constant(std_error, mean1, mean2):
        # As in one_sample_t, SE 0 leaves no test; Welch's df has no meaning without variance.
        std_error = 0.0
        df = df if test == "pooled" else math.nan
    return _t_inference(difference, std_error, df, conf_level, n1 + n2)


def proportion_interval(x: int, n: int, conf_level: float, method: str) -> tuple[float | None, float | None]:
    """Interval for a probability from x successes in n Bernoulli trials.

    ``bernoulli`` — uniform prior, R ``qbeta(c(a/2, 1-a/2), x+1, n-x+1)``;
    ``jeffreys`` — R ``qbeta(c(a/2, 1-a/2), x+0.5, n-x+0.5)``;
    ``clopper-pearson`` — R ``binom.test(x, n)$conf.int``;
    ``wilson`` — R ``prop.test(x, n, correct = FALSE)$conf.int``.
    """
    if n == 0:
        return None, None
    tail = (1 - conf_level) / 2
    if method in ("bernoulli", "jeffreys"):
        prior = 1.0 if method == "bernoulli" else 0.5
        low, high = betaincinv(x + prior, n - x + prior, [tail, 1 - tail])
        return float(low), float(high)
    if method == "clopper-pearson":
        low = 0.0 if x == 0 else float(betaincinv(x, n - x + 1, tail))
        high = 1.0 if x == n else float(betaincinv(x + 1, n - x, 1 - tail))
        return low, high
    if method == "wilson":
        z = float(ndtri(1 - tail))
        p_hat = x / n
        centre = (p_hat + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p_hat * (1 - p_hat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)
    raise ValueError(f"unknown interval method {method!r}")


@dataclass(frozen=True)
class RandomInterceptFit:
    """REML fit of ``y ~ X + (1 | group)``."""

    coefficients: np.ndarray
    covariance: np.ndarray
    """(X' V^-1 X)^-1 at the REML variance estimates — what lme4's ``vcov()`` reports."""
    variance_group: float
    variance_residual: float
    reml_log_likelihood: float
    converged: bool


def random_intercept_reml(y: np.ndarray, design: np.ndarray, groups: np.ndarray) -> RandomInterceptFit:
    """REML for a linear model with one random intercept per group (R: ``lme4::lmer(REML = TRUE)``).

    With V_i = s2 (I + theta J) for a group of size n_i, every quantity the
    restricted likelihood needs reduces to per-group sums, so the profiled
    REML criterion is a cheap function of theta = tau2 / s2 alone: it is
    minimised over lme4's parameter sqrt(theta) >= 0 (boundary included), and
    the fixed effects and s2 follow in closed form. Vectorised over groups.
    """
    y = np.asarray(y, dtype=float)
    design = np.asarray(design, dtype=float)
    _, group_index = np.unique(groups, return_inverse=True)
    n_obs, n_coef = design.shape
    n_groups = int(group_index.max()) + 1
    sizes = np.bincount(group_index, minlength=n_groups).astype(float)
    # Per-group sums: X_i'1 (groups x p), y_i'1 (groups).
    x_sums = np.zeros((n_groups, n_coef))
    np.add.at(x_sums, group_index, design)
    y_sums = np.bincount(group_index, weights=y, minlength=n_groups)
    xtx = design.T @ design
    xty = design.T @ y
    yty = float(y @ y)
    residual_df = n_obs - n_coef

    def profile(ratio: float):
        weights = ratio / (1 + sizes * ratio)  # H_i^-1 = I - w_i J
        xhx = xtx - (x_sums * weights[:, None]).T @ x_sums
        xhy = xty - (x_sums * weights[:, None]).T @ y_sums
        yhy = yty - float(np.sum(weights * y_sums**2))
        coefficients = np.linalg.solve(xhx, xhy)
        quadratic = yhy - float(coefficients @ xhy)
        sigma2 = quadratic / residual_df
        log_det_h = float(np.sum(np.log1p(sizes * ratio)))
        _, log_det_xhx = np.linalg.slogdet(xhx)
        deviance = residual_df * (math.log(2 * math.pi * sigma2) + 1) + log_det_h + log_det_xhx
        return deviance, coefficients, sigma2, xhx

    def criterion(relative_sd: float) -> float:
        return profile(relative_sd**2)[0]

    # Coarse grid first (the criterion can be flat near 0), then Brent's
    # bounded search in the best grid cell.
    grid = np.concatenate([[0.0], np.geomspace(1e-3, 1e2, 61)])
    values = np.array([criterion(value) for value in grid])
    # The ratio has no upper bound (nor has lme4's theta): while the best
    # point is the grid's last, extend the grid tenfold.
    while int(np.argmin(values)) == grid.size - 1 and grid[-1] < 1e8:
        more = grid[-1] * np.geomspace(10 ** (1 / 12), 10, 12)
        grid = np.concatenate([grid, more])
        values = np.concatenate([values, [criterion(value) for value in more]])
    best = int(np.argmin(values))
    low = grid[max(best - 1, 0)]
    high = grid[min(best + 1, grid.size - 1)]
    from scipy.optimize import minimize_scalar  # only runs that fit the model pay for it

    search = minimize_scalar(criterion, bounds=(low, high), method="bounded", options={"xatol": 1e-12})
    relative_sd = float(search.x) if search.fun <= values[best] else float(grid[best])
    deviance, coefficients, sigma2, xhx = profile(relative_sd**2)
    return RandomInterceptFit(
        coefficients=coefficients,
        covariance=sigma2 * np.linalg.inv(xhx),
        variance_group=sigma2 * relative_sd**2,
        variance_residual=sigma2,
        reml_log_likelihood=-deviance / 2,
        converged=bool(search.success),
    )


def wald_inference(estimate: float, std_error: float, conf_level: float) -> tuple[float, float, float, float]:
    """z statistic, two-sided normal P and Wald interval (R: ``confint(fit, method = "Wald")``)."""
    statistic = estimate / std_error
    p_value = float(2 * ndtr(-abs(statistic)))
    half = float(ndtri(0.5 + conf_level / 2)) * std_error
    return statistic, p_value, estimate - half, estimate + half
