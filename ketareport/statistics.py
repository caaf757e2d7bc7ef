"""Pure statistical functions: numbers in, numbers out, no data frames.

Each follows the R function a reviewer would reach for (named in the
docstring), so that ``reproduce.R`` can check it independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .aggregates import MixedModelCell, Moments, PatientAggregates, patient_aggregates, vas_aggregates
# The distribution functions are scipy.special's, not scipy.stats's (the same numerical routines without
# scipy.stats's ~0.7 s import), and without scipy.special's package import either (see ketareport.special).
from .special import betaincinv, ndtr, ndtri, stdtr, stdtrit


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


def one_sample_t(sample: Moments | np.ndarray, conf_level: float) -> TestResult:
    """Mean, SE = SD/sqrt(n), t on n-1 df for mean = 0 (R: ``t.test(x)``).

    ``sample`` is the values or their :class:`~ketareport.aggregates.Moments`.
    """
    moments = _moments(sample)
    n = moments.n
    if n == 0:
        return TestResult(None, None, None, None, None, None, None, 0)
    mean = moments.mean
    if n < 2:
        return TestResult(mean, None, None, None, None, None, None, n)
    std_error = math.sqrt(moments.variance) / math.sqrt(n)
    if _essentially_constant(std_error, mean):
        std_error = 0.0
    return _t_inference(mean, std_error, n - 1, conf_level, n)


def _moments(sample: Moments | np.ndarray) -> Moments:
    return sample if isinstance(sample, Moments) else Moments.of(sample)


def _essentially_constant(std_error: float, *means: float) -> bool:
    """R ``t.test``'s rule: SE <= 10 * machine epsilon * the largest |mean|.

    Equal values (patients' means of 5.1 cm, say) then have SE exactly 0 and
    no test: their floating-point SE of ~1e-16 would give t ~ 1e16, where R
    stops with "data are essentially constant".
    """
    return std_error <= 10 * np.finfo(float).eps * max(abs(mean) for mean in means)


def two_sample_difference(
    first: Moments | np.ndarray, second: Moments | np.ndarray, conf_level: float, test: str,
) -> TestResult:
    """Mean of ``first`` minus mean of ``second`` (the values or their moments).

    ``welch``: SE = sqrt(SE1^2 + SE2^2) on Welch-Satterthwaite df
    (R: ``t.test(x, y)``); ``pooled``: pooled-variance SE on n1 + n2 - 2 df
    (R: ``t.test(x, y, var.equal = TRUE)``). With fewer than 2 values in
    either group only the difference of the means is given.
    """
    first, second = _moments(first), _moments(second)
    n1, n2 = first.n, second.n
    if n1 == 0 or n2 == 0:
        return TestResult(None, None, None, None, None, None, None, n1 + n2)
    mean1, mean2 = first.mean, second.mean
    difference = mean1 - mean2
    if n1 < 2 or n2 < 2:
        return TestResult(difference, None, None, None, None, None, None, n1 + n2)
    var1, var2 = first.variance, second.variance
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
    """REML of ``y ~ x + (1 | group)`` from the raw values, for a 0/1 covariate constant within each group.

    ``design`` is ``[1, x]``. The values are reduced to the cells of
    :mod:`ketareport.aggregates` and fitted by :func:`random_intercept_reml_from_cells`.
    """
    y = np.asarray(y, dtype=float)
    design = np.asarray(design, dtype=float)
    if design.ndim != 2 or design.shape[1] != 2 or not np.all(design[:, 0] == 1) or not np.isin(design[:, 1], (0, 1)).all():
        raise ValueError("the design must be an intercept and one 0/1 covariate")
    _, codes = np.unique(groups, return_inverse=True)
    codes = codes.ravel()
    n_groups = int(codes.max()) + 1
    covariate = np.zeros(n_groups)
    covariate[codes] = design[:, 1]
    if not np.array_equal(covariate[codes], design[:, 1]):
        raise ValueError("the covariate must be constant within each group")
    counts, means, within_ss, spread = patient_aggregates(codes, y, n_groups)
    patients = PatientAggregates(np.arange(n_groups), covariate == 1, counts, means, within_ss, spread)
    return random_intercept_reml_from_cells(vas_aggregates(patients).cells)


def random_intercept_reml_from_cells(cells: tuple[MixedModelCell, ...] | list[MixedModelCell]) -> RandomInterceptFit:
    """REML for ``y ~ group + (1 | patient)`` (R: ``lme4::lmer(REML = TRUE)``) from per-cell sufficient statistics.

    A patient i with n_i infusions has V_i = s2 (I + theta J). With the
    covariate constant within patients, every quadratic form of the
    restricted likelihood is a sum over the cells (group, n_i) of
    :mod:`ketareport.aggregates`, with weight a = n / (1 + n theta) per patient:

    * X'H^-1 X = [[T0 + T1, T1], [T1, T1]], T_g = sum of a K over group g's cells
      (K patients per cell), so log det = log T0 + log T1;
    * the GLS estimates are the a-weighted group means mu_g of the patient
      means: intercept mu_0, group effect mu_1 - mu_0;
    * the residual quadratic form is, centred,
      sum W + sum a (M2 + K (mean - mu_g)^2) (W within-patient SS, M2 the
      cell's centred SS of patient means);
    * log det H = sum K log(1 + n theta).

    The profiled REML criterion (:class:`_ProfiledReml`) is then a function
    of theta = tau2 / s2 alone, minimised over lme4's parameter
    sqrt(theta) >= 0, boundary included (:func:`_minimise_profile`); s2 and
    the fixed effects follow in closed form. Each evaluation costs one pass
    over the cells, whatever the number of infusions.
    """
    reml = _ProfiledReml.of(cells)
    ratio, converged = _minimise_profile(reml)
    relative_sd = math.sqrt(ratio)
    point = reml.at(ratio)
    comparison_variance = point.sigma2 / point.totals[0]
    return RandomInterceptFit(
        coefficients=np.array([point.group_means[0], point.group_means[1] - point.group_means[0]]),
        covariance=np.array([
            [comparison_variance, -comparison_variance],
            [-comparison_variance, comparison_variance + point.sigma2 / point.totals[1]],
        ]),
        variance_group=point.sigma2 * relative_sd**2,
        variance_residual=point.sigma2,
        reml_log_likelihood=-point.deviance / 2,
        converged=converged,
    )


@dataclass(frozen=True)
class _ProfilePoint:
    """The profiled REML criterion and its parts at one variance ratio theta."""

    deviance: float
    group_means: np.ndarray
    """mu_0, mu_1: the GLS means of the comparison and the index group."""
    sigma2: float
    totals: np.ndarray
    """T_0, T_1: the summed weights a K of each group."""
    per_patient: np.ndarray
    """a = n / (1 + n theta), per cell."""
    deviations: np.ndarray
    """Each cell's mean of patient means minus its group's mu_g."""
    quadratic: float
    """The residual quadratic form."""


@dataclass(frozen=True)
class _ProfiledReml:
    """The cells as arrays, and the REML criterion profiled over s2 and the fixed effects."""

    group: np.ndarray
    sizes: np.ndarray
    patients: np.ndarray
    cell_means: np.ndarray
    cell_m2: np.ndarray
    within: float
    residual_df: float

    @classmethod
    def of(cls, cells: tuple[MixedModelCell, ...] | list[MixedModelCell]) -> _ProfiledReml:
        sizes = np.array([cell.n_infusions for cell in cells], dtype=float)
        patients = np.array([cell.n_patients for cell in cells], dtype=float)
        return cls(
            group=np.array([cell.is_index for cell in cells], dtype=bool),
            sizes=sizes,
            patients=patients,
            cell_means=np.array([cell.mean_of_means for cell in cells], dtype=float),
            cell_m2=np.array([cell.m2_of_means for cell in cells], dtype=float),
            within=float(sum(cell.within_ss for cell in cells)),
            residual_df=float(np.sum(sizes * patients)) - 2,
        )

    def at(self, ratio: float) -> _ProfilePoint:
        group, sizes, patients, cell_means = self.group, self.sizes, self.patients, self.cell_means
        per_patient = sizes / (1 + sizes * ratio)  # a
        weights = per_patient * patients  # a K per cell
        totals = np.array([weights[~group].sum(), weights[group].sum()])
        group_means = np.array([
            np.sum(weights[~group] * cell_means[~group]) / totals[0],
            np.sum(weights[group] * cell_means[group]) / totals[1],
        ])
        deviations = cell_means - group_means[group.astype(int)]
        quadratic = self.within + float(np.sum(per_patient * self.cell_m2) + np.sum(weights * deviations**2))
        sigma2 = quadratic / self.residual_df
        log_det_h = float(np.sum(patients * np.log1p(sizes * ratio)))
        log_det_xhx = float(np.log(totals[0]) + np.log(totals[1]))
        deviance = self.residual_df * (math.log(2 * math.pi * sigma2) + 1) + log_det_h + log_det_xhx
        return _ProfilePoint(deviance, group_means, sigma2, totals, per_patient, deviations, quadratic)

    def criterion(self, relative_sd: float) -> float:
        """The deviance at lme4's parameter sqrt(theta)."""
        return self.at(relative_sd**2).deviance

    def slope(self, ratio: float) -> float:
        """d deviance / d theta, analytically (da/dtheta = -a^2; mu_g is stationary in the quadratic form)."""
        point = self.at(ratio)
        group, patients = self.group, self.patients
        squared = point.per_patient**2
        d_quadratic = -float(np.sum(squared * self.cell_m2) + np.sum(squared * patients * point.deviations**2))
        d_totals = np.array([-np.sum((squared * patients)[~group]), -np.sum((squared * patients)[group])])
        return (self.residual_df * d_quadratic / point.quadratic + float(np.sum(patients * point.per_patient))
                + float(np.sum(d_totals / point.totals)))


def _minimise_profile(reml: _ProfiledReml) -> tuple[float, bool]:
    """The minimising theta >= 0 of the profiled criterion, and whether a minimum was bracketed.

    A coarse grid first (the criterion can be flat near 0), then the root of
    the analytic slope in the best grid cell, by bisection to the last bit:
    a minimiser of a function that is flat at its minimum locates it only to
    about sqrt(machine epsilon), the slope's root to full precision, so
    engines whose sums differ in the last bits agree.
    """
    grid = np.concatenate([[0.0], np.geomspace(1e-3, 1e2, 61)])
    values = np.array([reml.criterion(value) for value in grid])
    # The ratio has no upper bound (nor has lme4's theta): while the best
    # point is the grid's last, extend the grid tenfold.
    while int(np.argmin(values)) == grid.size - 1 and grid[-1] < 1e8:
        more = grid[-1] * np.geomspace(10 ** (1 / 12), 10, 12)
        grid = np.concatenate([grid, more])
        values = np.concatenate([values, [reml.criterion(value) for value in more]])
    best = int(np.argmin(values))
    below, above = grid[max(best - 1, 0)] ** 2, grid[min(best + 1, grid.size - 1)] ** 2
    if best == 0 and reml.slope(0.0) >= 0:
        return 0.0, True  # the boundary: a singular fit, as lme4 reports it
    if not reml.slope(below) < 0 < reml.slope(above):
        # Not reached for a criterion with one minimum; keep the grid's best point and say so.
        return float(grid[best]) ** 2, False
    while above - below > 2 * np.finfo(float).eps * above:
        middle = (below + above) / 2
        if middle in (below, above):
            break
        if reml.slope(middle) < 0:
            below = middle
        else:
            above = middle
    return (below + above) / 2, True


def wald_inference(estimate: float, std_error: float, conf_level: float) -> tuple[float, float, float, float]:
    """z statistic, two-sided normal P and Wald interval (R: ``confint(fit, method = "Wald")``)."""
    statistic = estimate / std_error
    p_value = float(2 * ndtr(-abs(statistic)))
    half = float(ndtri(0.5 + conf_level / 2)) * std_error
    return statistic, p_value, estimate - half, estimate + half
