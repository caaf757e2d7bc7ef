#!/usr/bin/env Rscript
# Independent re-computation of every ketareport estimate, in plain R.
#
# Usage: Rscript reproduce.R analysis.csv out.csv [options.json]
#
# analysis.csv (written by ketareport after validation and exclusions): one
# row per analysed infusion, plus one row per patient without an analysed
# infusion (infusion_id and reduction empty). Columns: patient_id,
# index_group (TRUE/FALSE), infusion_id, reduction, relief_duration_days,
# relief_ongoing (TRUE/FALSE).
# options.json: conf_level, difference_test (welch|pooled), relief_method
# (bernoulli|jeffreys|clopper-pearson|wilson), relief_conf_level,
# thresholds [{name, days, inclusive}], index_term, sensitivity_model.
# Without it, the defaults of the ketareport data contract.
#
# out.csv has the columns of ketareport's estimates.csv, numbers written with
# 17 significant digits so that nothing is lost between the two programs
# (write.csv would keep only 15).

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript reproduce.R analysis.csv out.csv [options.json]")

options <- list(
  conf_level = 0.95, difference_test = "welch", relief_method = "bernoulli",
  relief_conf_level = 0.90, index_term = "crps", sensitivity_model = TRUE,
  thresholds = data.frame(name = c("lasting", "long"), days = c(7, 21), inclusive = c(TRUE, FALSE))
)
if (length(args) >= 3) {
  given <- jsonlite::fromJSON(args[3])
  options[names(given)] <- given
}

data <- read.csv(args[1], colClasses = c(patient_id = "character", infusion_id = "character"),
                 na.strings = "", encoding = "UTF-8")
data$index_group <- as.logical(data$index_group)
data$relief_ongoing <- as.logical(data$relief_ongoing)

infusions <- data[!is.na(data$reduction), ]
patients <- data[!duplicated(data$patient_id), c("patient_id", "relief_duration_days", "relief_ongoing")]

# A patient's reduction is the mean over that patient's analysed infusions.
patient_means <- aggregate(reduction ~ patient_id + index_group, data = infusions, FUN = mean)
index <- patient_means$reduction[patient_means$index_group]
other <- patient_means$reduction[!patient_means$index_group]

row <- function(analysis, term, estimate, std_error = NA, statistic = NA, df = NA, p_value = NA,
                conf_low = NA, conf_high = NA, conf_level = NA, n = NA, x = NA) {
  data.frame(analysis = analysis, term = term, estimate = estimate, std_error = std_error,
             statistic = statistic, df = df, p_value = p_value, conf_low = conf_low,
             conf_high = conf_high, conf_level = conf_level, n = n, x = x)
}

# t.test stops with "data are essentially constant" when the standard error
# is at most 10 * .Machine$double.eps * |mean| (equal values, up to rounding):
# the mean is then exact (SE 0), with no test.
essentially_constant <- function(std_error, means) std_error <= 10 * .Machine$double.eps * max(abs(means))

# Mean of the patients' reductions: one-sample t test of mean = 0.
one_sample <- function(term, values) {
  n <- length(values)
  if (n == 0) return(row("vas_reduction", term, NA, n = 0))
  if (n < 2) return(row("vas_reduction", term, mean(values), n = n))
  if (essentially_constant(sqrt(var(values) / n), mean(values))) {
    return(row("vas_reduction", term, mean(values), std_error = 0, df = n - 1, n = n))
  }
  test <- t.test(values, conf.level = options$conf_level)
  row("vas_reduction", term, unname(test$estimate), test$stderr, unname(test$statistic),
      unname(test$parameter), test$p.value, test$conf.int[1], test$conf.int[2], options$conf_level, n)
}

# Index group minus comparison group: Welch (or pooled-variance) t test.
difference <- function(index, other) {
  n <- length(index) + length(other)
  if (length(index) == 0 || length(other) == 0) return(row("vas_reduction", "difference", NA, n = n))
  estimate <- mean(index) - mean(other)
  if (length(index) < 2 || length(other) < 2) return(row("vas_reduction", "difference", estimate, n = n))
  pooled <- options$difference_test == "pooled"
  std_error <- if (pooled) {
    sqrt(((length(index) - 1) * var(index) + (length(other) - 1) * var(other)) / (n - 2) *
         (1 / length(index) + 1 / length(other)))
  } else {
    sqrt(var(index) / length(index) + var(other) / length(other))
  }
  if (essentially_constant(std_error, c(mean(index), mean(other)))) {
    return(row("vas_reduction", "difference", estimate, std_error = 0, df = if (pooled) n - 2 else NA, n = n))
  }
  test <- t.test(index, other, var.equal = pooled, conf.level = options$conf_level)
  row("vas_reduction", "difference", estimate, test$stderr, unname(test$statistic), unname(test$parameter),
      test$p.value, test$conf.int[1], test$conf.int[2], options$conf_level, n)
}

# Interval for a probability from x successes in n patients.
proportion_interval <- function(x, n, level, method) {
  if (n == 0) return(c(NA, NA))
  tail <- (1 - level) / 2
  switch(method,
    "bernoulli" = qbeta(c(tail, 1 - tail), x + 1, n - x + 1),      # uniform Beta(1, 1) prior
    "jeffreys" = qbeta(c(tail, 1 - tail), x + 0.5, n - x + 0.5),   # Beta(1/2, 1/2) prior
    "clopper-pearson" = as.numeric(binom.test(x, n, conf.level = level)$conf.int),
    "wilson" = as.numeric(prop.test(x, n, conf.level = level, correct = FALSE)$conf.int),
    stop("unknown relief method ", method))
}

estimates <- rbind(
  one_sample("overall", patient_means$reduction),
  one_sample(options$index_term, index),
  one_sample("other", other),
  difference(index, other)
)

# Relief: a patient is evaluable for a threshold when the duration is
# recorded and either relief is over or the (censored) duration already
# meets the threshold.
thresholds <- as.data.frame(options$thresholds)
days <- patients$relief_duration_days
recorded <- !is.na(days)
for (i in seq_len(nrow(thresholds))) {
  met <- recorded & (if (thresholds$inclusive[i]) days >= thresholds$days[i] else days > thresholds$days[i])
  met[is.na(met)] <- FALSE
  evaluable <- recorded & (!patients$relief_ongoing | met)
  n <- sum(evaluable)
  x <- sum(evaluable & met)
  interval <- proportion_interval(x, n, options$relief_conf_level, options$relief_method)
  estimates <- rbind(estimates, row("relief", thresholds$name[i], if (n > 0) x / n else NA,
                                    conf_low = interval[1], conf_high = interval[2],
                                    conf_level = options$relief_conf_level, n = n, x = x))
}

# Sensitivity analysis: random intercept per patient, REML. It needs both
# groups, more patients than fixed effects (for the between-patient
# variance) and a patient whose infusions differ (for the residual variance;
# by more than 1e-6 cm, as 8.2 - 6.6 and 9.0 - 7.4 differ by 1e-15 in
# floating point).
within_patient_variation <- any(tapply(infusions$reduction, infusions$patient_id,
                                       function(reduction) diff(range(reduction)) > 1e-6))
if (isTRUE(options$sensitivity_model) && length(unique(infusions$index_group)) == 2 &&
    length(unique(infusions$patient_id)) > 2 && isTRUE(within_patient_variation)) {
  fit <- lme4::lmer(reduction ~ index_group + (1 | patient_id), data = infusions, REML = TRUE)
  coefficients <- lme4::fixef(fit)
  std_errors <- sqrt(diag(as.matrix(vcov(fit))))
  z <- coefficients / std_errors
  wald <- confint(fit, parm = names(coefficients), method = "Wald", level = options$conf_level)
  terms <- c("intercept", options$index_term)
  for (i in seq_along(coefficients)) {
    estimates <- rbind(estimates, row("vas_reduction_lmm", terms[i], unname(coefficients[i]), unname(std_errors[i]),
                                      unname(z[i]), NA, 2 * pnorm(-abs(unname(z[i]))), wald[i, 1], wald[i, 2],
                                      options$conf_level, nrow(infusions)))
  }
}

full_precision <- function(column) {
  if (is.numeric(column)) ifelse(is.na(column), "", sprintf("%.17g", column)) else column
}
write.csv(data.frame(lapply(estimates, full_precision)), args[2], row.names = FALSE,
          quote = c(1, 2))  # the text columns analysis and term: a term may hold a comma
