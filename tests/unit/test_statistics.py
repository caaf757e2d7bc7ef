"""The statistical functions against independent values.

Two kinds of reference: worked examples published with R's own
documentation and in the methods literature (no R needed at test time), and
R itself run on random data (``@pytest.mark.r``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ketareport.statistics import (
    one_sample_t, proportion_interval, random_intercept_reml, two_sample_difference, wald_inference,
)

# R's `sleep` data (Cushny & Peebles): extra hours of sleep, groups 1 and 2.
SLEEP_GROUP_1 = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
SLEEP_GROUP_2 = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])


def test_welch_matches_r_documentation_example():
    # example(t.test): t.test(extra ~ group, data = sleep)
    # t = -1.8608, df = 17.776, p-value = 0.07939, 95% CI -3.3654832 0.2054832
    result = two_sample_difference(SLEEP_GROUP_1, SLEEP_GROUP_2, 0.95, "welch")
    assert result.estimate == pytest.approx(0.75 - 2.33)
    assert result.statistic == pytest.approx(-1.8608, abs=5e-5)
    assert result.df == pytest.approx(17.776, abs=5e-4)
    assert result.p_value == pytest.approx(0.07939, abs=5e-6)
    assert (result.conf_low, result.conf_high) == pytest.approx((-3.3654832, 0.2054832), abs=5e-8)
    assert result.std_error == pytest.approx(result.estimate / result.statistic)


def test_pooled_matches_r_var_equal():
    # t.test(extra ~ group, data = sleep, var.equal = TRUE): df = 18, CI -3.363874 0.203874
    result = two_sample_difference(SLEEP_GROUP_1, SLEEP_GROUP_2, 0.95, "pooled")
    assert result.df == 18
    assert result.p_value == pytest.approx(0.07919, abs=5e-6)
    assert (result.conf_low, result.conf_high) == pytest.approx((-3.363874, 0.203874), abs=5e-7)


def test_one_sample_t_matches_r():
    # t.test(sleep$extra[1:10]): t = 1.3257, df = 9, p-value = 0.2176, CI -0.5297804 2.0297804
    result = one_sample_t(SLEEP_GROUP_1, 0.95)
    assert result.estimate == pytest.approx(0.75)
    assert result.statistic == pytest.approx(1.3257, abs=5e-5)
    assert result.df == 9
    assert result.p_value == pytest.approx(0.2176, abs=5e-5)
    assert (result.conf_low, result.conf_high) == pytest.approx((-0.5297804, 2.0297804), abs=5e-8)
    assert result.std_error == pytest.approx(np.std(SLEEP_GROUP_1, ddof=1) / np.sqrt(10))


def test_clopper_pearson_matches_binom_test_example():
    # example(binom.test): binom.test(682, 925, p = 3/4), 95% CI 0.7076683 0.7654066
    assert proportion_interval(682, 925, 0.95, "clopper-pearson") == pytest.approx((0.7076683, 0.7654066), abs=5e-8)


def test_wilson_and_exact_match_newcombe_1998():
    # Newcombe, Stat Med 1998;17:857-872, Table I, 81/263: score 0.2553-0.3662, exact 0.2527-0.3676
    assert proportion_interval(81, 263, 0.95, "wilson") == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert proportion_interval(81, 263, 0.95, "clopper-pearson") == pytest.approx((0.2527, 0.3676), abs=5e-5)


def test_bernoulli_interval_is_the_uniform_prior_posterior():
    # With x = n the posterior is Beta(n + 1, 1): its quantile q is q ** (1 / (n + 1)).
    low, high = proportion_interval(9, 9, 0.90, "bernoulli")
    assert low == pytest.approx(0.05 ** (1 / 10))
    assert high == pytest.approx(0.95 ** (1 / 10))


@pytest.mark.parametrize("method", ["bernoulli", "jeffreys", "clopper-pearson", "wilson"])
def test_interval_edges(method):
    assert proportion_interval(0, 0, 0.9, method) == (None, None)
    low, high = proportion_interval(0, 12, 0.9, method)
    assert 0 <= low < high <= 1
    low, high = proportion_interval(12, 12, 0.9, method)
    assert 0 <= low < high <= 1


def test_small_groups_keep_only_the_estimate():
    single = one_sample_t(np.array([4.2]), 0.95)
    assert single.estimate == 4.2 and single.std_error is None and single.p_value is None and single.n == 1
    empty = one_sample_t(np.array([]), 0.95)
    assert empty.estimate is None and empty.n == 0
    difference = two_sample_difference(np.array([5.0]), np.array([1.0, 2.0, 3.0]), 0.95, "welch")
    assert difference.estimate == 3.0
    assert (difference.std_error, difference.statistic, difference.df, difference.p_value) == (None, None, None, None)


def test_constant_values_have_no_test_statistic():
    result = one_sample_t(np.array([2.0, 2.0, 2.0]), 0.95)
    assert result.estimate == 2.0 and result.std_error == 0.0
    assert result.statistic is None and result.p_value is None and result.conf_low is None


@pytest.mark.slow
def test_reml_agrees_with_statsmodels_mixedlm():
    import pandas as pd
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(20120201)
    groups = np.repeat(np.arange(60), rng.integers(1, 10, 60))
    index = (rng.random(60) < 0.4)[groups].astype(float)
    y = 5 + 2 * index + rng.normal(0, 1.5, 60)[groups] + rng.normal(0, 2, groups.size)
    fit = random_intercept_reml(y, np.column_stack([np.ones(groups.size), index]), groups)
    frame = pd.DataFrame({"y": y, "index": index, "g": groups})
    reference = smf.mixedlm("y ~ index", frame, groups="g").fit(reml=True)
    assert fit.coefficients == pytest.approx(reference.fe_params.to_numpy(), rel=1e-5)
    assert fit.variance_group == pytest.approx(float(reference.cov_re.iloc[0, 0]), rel=1e-4)
    assert fit.variance_residual == pytest.approx(float(reference.scale), rel=1e-4)
    assert fit.reml_log_likelihood == pytest.approx(float(reference.llf), rel=1e-8)


def test_reml_boundary_when_groups_do_not_vary():
    # Every group has the same mean: the group variance estimate is 0, as in lme4 (singular fit).
    y = np.tile([1.0, 3.0], 20)
    groups = np.repeat(np.arange(20), 2)
    design = np.column_stack([np.ones(40), (groups % 2).astype(float)])
    fit = random_intercept_reml(y, design, groups)
    assert fit.variance_group == pytest.approx(0.0, abs=1e-8)
    # With no group variance REML is ordinary least squares: RSS / (n - p); the covariate fits nothing here.
    assert fit.variance_residual == pytest.approx(np.sum((y - y.mean()) ** 2) / (40 - 2), rel=1e-6)


def test_wald_inference():
    statistic, p_value, low, high = wald_inference(1.96, 1.0, 0.95)
    assert statistic == 1.96
    assert p_value == pytest.approx(0.04999579, abs=1e-8)
    assert low == pytest.approx(1.96 - 1.959963984540054)


R_REFERENCE = r"""
input <- jsonlite::fromJSON(commandArgs(TRUE)[1])
a <- input$a; b <- input$b
one <- t.test(a, conf.level = 0.9)
welch <- t.test(a, b)
pooled <- t.test(a, b, var.equal = TRUE)
fit <- lme4::lmer(y ~ index + (1 | g), data = data.frame(y = input$y, index = input$index, g = factor(input$g)), REML = TRUE)
out <- list(
  one = c(one$estimate, one$stderr, one$statistic, one$parameter, one$p.value, one$conf.int),
  welch = c(welch$estimate[1] - welch$estimate[2], welch$stderr, welch$statistic, welch$parameter, welch$p.value, welch$conf.int),
  pooled = c(pooled$estimate[1] - pooled$estimate[2], pooled$stderr, pooled$statistic, pooled$parameter, pooled$p.value, pooled$conf.int),
  bernoulli = qbeta(c(0.05, 0.95), 21 + 1, 28 - 21 + 1),
  jeffreys = qbeta(c(0.05, 0.95), 21 + 0.5, 28 - 21 + 0.5),
  exact = as.numeric(binom.test(21, 28, conf.level = 0.9)$conf.int),
  wilson = as.numeric(prop.test(21, 28, conf.level = 0.9, correct = FALSE)$conf.int),
  lmm_fixed = unname(lme4::fixef(fit)),
  lmm_se = unname(sqrt(diag(as.matrix(vcov(fit))))),
  lmm_var = c(as.data.frame(lme4::VarCorr(fit))$vcov)
)
cat(jsonlite::toJSON(lapply(out, unname), digits = NA))
"""


@pytest.mark.r
def test_statistics_agree_with_r_on_random_data(run_r, tmp_path):
    rng = np.random.default_rng(7)
    a, b = rng.normal(7.2, 2.1, 18), rng.normal(5.1, 2.2, 31)
    groups = np.repeat(np.arange(49), rng.integers(2, 12, 49))
    index = (groups < 18).astype(float)
    y = 5 + 2 * index + rng.normal(0, 1, 49)[groups] + rng.normal(0, 2, groups.size)
    payload = tmp_path / "input.json"
    payload.write_text(json.dumps({"a": a.tolist(), "b": b.tolist(), "y": y.tolist(), "index": index.tolist(), "g": groups.tolist()}))
    r = json.loads(run_r(R_REFERENCE, str(payload)))

    def row(result):
        return [result.estimate, result.std_error, result.statistic, result.df, result.p_value, result.conf_low, result.conf_high]

    assert row(one_sample_t(a, 0.9)) == pytest.approx(r["one"], rel=1e-10)
    assert row(two_sample_difference(a, b, 0.95, "welch")) == pytest.approx(r["welch"], rel=1e-10)
    assert row(two_sample_difference(a, b, 0.95, "pooled")) == pytest.approx(r["pooled"], rel=1e-10)
    for method, key in [("bernoulli", "bernoulli"), ("jeffreys", "jeffreys"), ("clopper-pearson", "exact"), ("wilson", "wilson")]:
        assert proportion_interval(21, 28, 0.9, method) == pytest.approx(r[key], rel=1e-10), method
    fit = random_intercept_reml(y, np.column_stack([np.ones(groups.size), index]), groups)
    assert fit.coefficients == pytest.approx(r["lmm_fixed"], rel=1e-6)
    assert np.sqrt(np.diag(fit.covariance)) == pytest.approx(r["lmm_se"], rel=1e-5)
    assert [fit.variance_group, fit.variance_residual] == pytest.approx(r["lmm_var"], rel=1e-5)
